"""Approvals: the performance officer approves or returns the values submitted for a month."""

import streamlit as st

from metrics.periods import spoken
from pages import _ui as ui

user = ui.require("approvals")
st.title("Approvals")
if not user.can_approve:
    st.error(f"A {user.role.value} does not approve values.")
    st.stop()

month = ui.entry_month_picker(user)
ui.approval_notice()
rows = ui.to_approve(user, month)
if rows.empty:
    st.info(f"No value due in {spoken(month)} is waiting for approval.")
    st.stop()
st.caption(
    f"{len(rows)} value(s) due in {spoken(month)} are submitted. Nobody approves a value they "
    "entered or last changed; an outlier is reviewed before it is approved."
)
for service, team, team_rows in ui.by_team(rows):
    with st.expander(f"{ui.plain(service)} · {ui.plain(team)} ({len(team_rows)})", expanded=True):
        ui.approval_table(user, service, team, team_rows)
