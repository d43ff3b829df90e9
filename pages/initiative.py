"""One ME2E initiative: its measures, the priorities it delivers, and what is aligned to it."""

import streamlit as st

from pages import _ui as ui

user = ui.require("initiative")
committee = not ui.may(user, "initiative", "unapproved")  # a councillor: approved values only
period = ui.period()
initiative = ui.selected("initiative", ui.options("initiative", user.clearance), "Initiative")
if initiative is None or period is None:
    st.title("ME2E initiatives")
    ui.index("initiative", period, user.clearance, committee)
    st.stop()

view = ui.level_view("initiative", initiative, period, user.clearance, committee, ui.within())
ui.level_header(view)

st.subheader("ME2E measures")
ui.metric_table(view.metrics, key="own", empty="No measure of this initiative is due this month.")

st.subheader("Services contributing")
ui.level_table(view.children, key="children", empty="No service measure is aligned to it.")

st.subheader("Teams behind it, most Red first")
ui.level_table(view.teams, key="teams", empty="No team has a measure due this month.")

st.subheader("Measures aligned to it from below")
ui.metric_table(view.aligned, key="aligned", empty="No aligned measure is due this month.")
ui.listed_of(len(view.aligned), view.aligned_due, "measures aligned to it")
