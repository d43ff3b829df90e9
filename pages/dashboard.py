"""The ME2E dashboard: what is red and getting worse, and why, in one screen."""

import streamlit as st

from pages import _ui as ui

user = ui.require("dashboard")
period = ui.period()
if period is None:
    st.title("ME2E dashboard")
    st.info("No values have been entered yet, so there is nothing to rate.")
    st.stop()

board = ui.dashboard(period, user.clearance)
st.title(f"ME2E dashboard: {period}")
st.caption(
    "Counts of every measure due this month, by tier; each change compares the same measures "
    f"with their previous period ({', '.join(board.compared_with) or 'none'})."
)
ui.headline(board)

st.subheader("Exceptions: Red and Amber, highest risk first")
ui.metric_table(
    board.exceptions, key="exceptions", empty=f"No measure is Red or Amber in {period}."
)

tree, priorities = st.columns([1, 1.2])
with tree:
    st.subheader("Line of sight")
    ui.line_of_sight(board.nodes)
with priorities:
    st.subheader("Priorities")
    ui.level_table(
        board.priorities,
        key="priorities",
        empty="No priorities are set up yet.",
    )

st.subheader("Changed status since the previous period")
ui.metric_table(board.changes, key="changes", empty="No measure changed status.")
