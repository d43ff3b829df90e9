"""The public view's routing (config.toml [public] enabled): a visitor nobody is signed in as
gets the one public page and nothing else."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from metrics.access import CurrentUser
from metrics.config import settings
from pages._ui.identity import current_user, signed_in_email
from pages._ui.routing import PAGE_FILES, page_config, pages_for

PUBLIC_PAGE = "pages/public.py"


def public_visitor(user: CurrentUser | None) -> bool:
    """Whether this visitor gets the public view and nothing else: it is enabled and nobody is
    signed in (a signed-in person without an account is refused, not shown the public view)."""
    return user is None and settings().public.enabled and not signed_in_email()


def public_pages() -> list[st.Page]:
    """The one page a public visitor gets: the latest published performance."""
    return [st.Page(PUBLIC_PAGE, title="Our performance", icon=":material/public:", default=True)]


def require_public() -> None:
    """The public page shows only to a public visitor; anyone else stops here (on a fresh
    server, whose first run may start in this file, they are sent through the router)."""
    visitor = public_visitor(current_user())
    if getattr(PagesManager, "uses_pages_directory", False):
        page_config()
        st.navigation(public_pages() if visitor else pages_for(current_user()), position="hidden")
        st.switch_page(PUBLIC_PAGE if visitor else PAGE_FILES["dashboard"])
    if not visitor:
        st.error("The public view is open only when it is enabled and nobody is signed in.")
        st.stop()
