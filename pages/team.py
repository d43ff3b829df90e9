"""One team: its measures and what each is aligned to, under its service."""

import streamlit as st

from pages import _ui as ui

user = ui.require("team")
committee = not ui.may(user, "team", "unapproved")  # a councillor: approved values only
period = ui.period()
team = ui.selected("team", ui.options("team", user.clearance), "Team")
if team is None or period is None:
    st.title("Teams")
    ui.index("team", period, user.clearance, committee)
    st.stop()

view = ui.level_view("team", team, period, user.clearance, committee, ui.within())
ui.level_header(view)

st.subheader("Measures")
ui.metric_table(view.metrics, key="own", empty="No measure of this team is due this month.")

st.subheader("Priorities it serves")
ui.level_table(view.aligned, key="serves", empty="None of its measures is aligned to a priority.")
