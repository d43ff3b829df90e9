"""My scorecard: where a service manager lands. Their own services and teams, what is due from
them this cycle and what was returned; the council-wide pages stay one click away."""

import streamlit as st

from metrics.config import settings
from metrics.periods import spoken
from pages import _ui as ui

user = ui.require("my_scorecard")
st.title("My scorecard")
services = ui.scorecard.my_services(user)
if not services:
    st.info(
        f"No service is yours yet. Ask {ui.plain(settings().identity.access_contact)} to add "
        "the services you manage."
    )
    st.stop()

month, due, returned = ui.scorecard.cycle(user)
st.subheader(f"Due from you for {spoken(month)}")
ui.table(due, f"Every measure of yours due for {spoken(month)} is in.")
st.subheader("Returned to you")
ui.table(returned, "Nothing has been returned to you.")
if not due.empty or not returned.empty:
    st.page_link(ui.PAGE_FILES["my_month"], label="Enter them in My month", icon=":material/edit:")

period = ui.period()
for code, name in services.items():
    view = ui.level_view("service", code, period, user.clearance) if period else None
    st.subheader(ui.plain(name))
    if view is None:
        st.info("No values have been entered yet.")
        continue
    ui.status_counts(view.status, view.counts)
    ui.level_table(view.children, key=f"teams_{code}", empty="No team has a measure due.")
    ui.metric_table(view.metrics, key=f"own_{code}", empty="No measure is due this month.")
