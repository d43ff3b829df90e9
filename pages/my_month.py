"""My month: a service manager enters their teams' values, sees the status each would get,
saves drafts and submits a team for approval."""

import streamlit as st

from metrics.periods import spoken
from pages import _ui as ui

user = ui.require("my_month")
st.title("My month")
if not user.can_edit_values:
    st.error(f"A {user.role.value} does not enter values; the reading pages are all yours.")
    st.stop()

month = ui.entry_month_picker(user)
rows = ui.my_month(user, month)
if rows.empty:
    st.info(f"None of your measures is due in {spoken(month)}.")
    st.stop()
st.caption(
    "Type a value, press Check to see the status it would get, then Save draft or Submit team "
    "(or save every team's drafts and Submit the month at the foot of the page). A ratio's "
    "actual is worked out from its numerator and denominator."
)
for service, team, team_rows in ui.by_team(rows):
    with st.expander(f"{ui.plain(service)} · {ui.plain(team)}", expanded=True):
        ui.team_form(user, service, team, team_rows)
st.divider()
ui.month_submit(user, rows)
