"""The ME2E dashboard: what is red and getting worse, and why, in one screen."""

import streamlit as st

from metrics.config import settings
from metrics.periods import spoken
from pages import _ui as ui

user = ui.require("dashboard")
committee = not ui.may(user, "dashboard", "unapproved")  # a councillor: approved values only
period = ui.period()
if period is None:
    st.title("ME2E dashboard")
    st.info("No values have been entered yet, so there is nothing to rate.")
    st.stop()

# The title goes out before the month is read, and the headline before any table: Streamlit
# draws as the script runs, so nothing below the fold holds up what the reader sees first.
st.title(f"ME2E dashboard: {spoken(period)}")
board = ui.dashboard(period, user.clearance, committee)
earlier = ", ".join(spoken(p) for p in board.compared_with) or "none"
st.caption(
    f"The {ui.plain(settings().programme)} dashboard. Counts of every measure due this month, "
    f"by tier; each change compares the same measures with their previous period ({earlier})."
)
ui.headline(board)

st.subheader("Exceptions: Red and Amber, highest risk first")
ui.metric_table(
    board.exceptions, key="exceptions", empty=f"No measure is Red or Amber in {spoken(period)}."
)
ui.listed_of(len(board.exceptions), board.exceptions_total, "Red and Amber measures")

st.subheader("Priorities")
ui.level_table(board.priorities, key="priorities", empty="No priorities are set up yet.")

st.subheader("Line of sight: each priority and what delivers it")
ui.alignment_overview(board.nodes)

st.subheader("Changed status since the previous period")
ui.metric_table(board.changes, key="changes", empty="No measure changed status.")
ui.listed_of(len(board.changes), board.changes_total, "measures that changed status")
