"""One service: its teams, its measures, and the priorities they serve."""

import streamlit as st

from pages import _ui as ui

user = ui.require("service")
committee = not ui.may(user, "service", "unapproved")  # a councillor: approved values only
period = ui.period()
service = ui.selected("service", ui.options("service", user.clearance), "Service")
if service is None or period is None:
    st.title("Services")
    ui.index("service", period, user.clearance, committee)
    st.stop()

view = ui.level_view("service", service, period, user.clearance, committee, ui.within())
ui.level_header(view)

st.subheader("Teams")
ui.level_table(view.children, key="children", empty="No team of this service has a measure due.")

st.subheader("Measures")
ui.metric_table(view.metrics, key="own", empty="No measure of this service is due this month.")

st.subheader("Priorities it serves")
ui.level_table(view.aligned, key="serves", empty="None of its measures is aligned to a priority.")
