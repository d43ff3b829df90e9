"""Line of Sight: the router. Who the user is, which pages they get; nothing else."""

import streamlit as st

from pages import _ui as ui

ui.page_config()  # the icon is a file the app serves, never a font host's (docs/security.md)

ui.start_run()
ui.sign_in_gate()
user = ui.current_user()
page = st.navigation(ui.public_pages() if ui.public_visitor(user) else ui.pages_for(user))
# After st.navigation: a widget made before it gets another id in a session's first run than in
# every later one, so a persona picked then was lost.
ui.identity_panel()
ui.period_picker(user)
ui.demo_banner()
ui.follow_link(page, user)
ui.period_notice()  # after follow_link: on the page the reader lands on, whichever it is
page.run()
