"""One Corporate Plan priority: its status, its measures, and what is aligned to it."""

import streamlit as st

from pages import _ui as ui

user = ui.require("priority")
committee = not ui.may(user, "priority", "unapproved")  # a councillor: approved values only
period = ui.period()
priority = ui.selected("priority", ui.options("priority", user.clearance), "Priority")
if priority is None or period is None:
    st.title("Priorities")
    ui.index("priority", period, user.clearance, committee)
    st.stop()

view = ui.level_view("priority", priority, period, user.clearance, committee, ui.within())
ui.level_header(view)

st.subheader("Corporate Plan measures")
ui.metric_table(view.metrics, key="own", empty="No Corporate Plan measure of this priority is due.")

st.subheader("Initiatives and services that deliver it")
ui.level_table(view.children, key="children", empty="Nothing is aligned to this priority yet.")

st.subheader("Teams behind it, most Red first")
ui.level_table(view.teams, key="teams", empty="No team has a measure due this month.")

st.subheader("Measures aligned to it from below")
ui.metric_table(view.aligned, key="aligned", empty="No aligned measure is due this month.")
ui.listed_of(len(view.aligned), view.aligned_due, "measures aligned to it")
