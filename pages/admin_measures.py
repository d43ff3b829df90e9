"""Measures (administrator): every metric template, and forms to add a measure, change one
(its definition version goes up, the change is audited with its reason) or retire one from a
month. Nothing is deleted."""

import streamlit as st

from pages import _ui as ui

user = ui.require("admin_measures")
st.title("Measures")
frame = ui.admin_measures.measures_table(user)
add, change, retire = st.tabs(["Add a measure", "Change a measure", "Retire a measure"])
with add:
    ui.admin_measures.new_measure(user)
with change:
    ui.admin_measures.edit_measure(user, frame)
with retire:
    ui.admin_measures.retire_measure(user, frame)
