"""The line of sight (administrator): priorities, ME2E initiatives, services and teams, added,
renamed, re-aligned and retired from a month. Nothing is deleted."""

import streamlit as st

from pages import _ui as ui

user = ui.require("admin_levels")
st.title("Priorities, initiatives, services and teams")
st.caption(
    "A team sits in a service; an initiative delivers priorities. A measure names its own "
    "priority, initiative, service and team on the Measures page."
)
for tab, kind in zip(st.tabs(list(ui.admin.KINDS.values())), ui.admin.KINDS, strict=True):
    with tab:
        ui.admin.level_forms(user, kind)
