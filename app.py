"""Line of Sight: the router. Who the user is, which pages they get; nothing else."""

import streamlit as st

from pages import _ui as ui

st.set_page_config(page_title="Line of Sight", page_icon=":material/visibility:", layout="wide")

ui.start_run()
ui.identity_panel()
user = ui.current_user()
page = st.navigation(ui.pages_for(user))
ui.period_picker(user)
ui.demo_banner()
ui.follow_link(page)
page.run()
