"""The template workbook (administrator): download the blank template or what is held; upload
a filled one, see what it would create and change, then import it, all or nothing."""

import streamlit as st

from pages import _ui as ui

user = ui.require("admin_workbook")
st.title("Template workbook")
st.caption(
    "The workbook holds metric templates (Metrics) and values (Values); docs/template-workbook.md "
    "describes every column. An import is checked whole first: one problem and nothing is written."
)
ui.admin_workbook.downloads(user)
ui.admin_workbook.upload(user)
