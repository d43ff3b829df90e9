"""Users (administrator): who may use the app, with their role, clearance and the services whose
measures they enter. A user is disabled, never deleted, so the audit trail keeps their name."""

import streamlit as st

from pages import _ui as ui

user = ui.require("admin_users")
st.title("Users")
ui.admin.user_forms(user)
