"""Who is using the app: the one identity seam every page asks (docs/sign-in.md).

- `oidc`: Streamlit's `st.login` against the council's OpenID Connect provider; the signed-in
  e-mail is looked up in the app's own users.
- `header`: a trusted reverse proxy names the signed-in e-mail in a header; only a request from
  one of the configured proxy addresses is believed.
- `demo`: a persona picker under a banner, refused on a database holding a council's own data.
  The persona lives in the session (and, across a reload, against the browser's XSRF cookie on
  the server); a link never carries it.

A person with no account, or a disabled one, gets the no-access page and nothing else. After
`[identity] idle_timeout_minutes` without a click the session must sign in again.
"""

from __future__ import annotations

import hashlib
import time

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from metrics import access, identity, queries
from metrics.access import CurrentUser
from metrics.config import settings
from pages._ui.routing import PAGE_FILES, _version, engine, page_config, pages_for
from pages._ui.text import plain

PERSONA = "persona"
LAST_SEEN = "_last_seen"
EXPIRED = "_idle_expired"
XSRF_COOKIE = "_streamlit_xsrf"


@st.cache_data(max_entries=256, show_spinner=False)
def _user(email: str, version: int) -> CurrentUser | None:
    return queries.user(engine(), email=email)


@st.cache_data(max_entries=16, show_spinner=False)
def _users(version: int) -> list[CurrentUser]:
    return queries.users(engine())


@st.cache_data(max_entries=4, show_spinner=False)
def _demo_refusal(version: int) -> str | None:
    return identity.demo_refusal(engine(), settings().identity)


@st.cache_resource
def _personas() -> dict[str, str]:
    """Demo personas by a hash of the browser's XSRF cookie, so a reload keeps the persona
    without the link carrying it (demo mode only; the cookie itself is never stored)."""
    return {}


def _browser() -> str:
    cookie = st.context.cookies.get(XSRF_COOKIE) if st.context.cookies else None
    return hashlib.sha256(cookie.encode()).hexdigest() if cookie else ""


def _request() -> tuple[dict[str, str], str | None]:
    """The request's headers and the connecting address (None for loopback)."""
    return dict(st.context.headers.items()), st.context.ip_address


def mode() -> str:
    """The configured identity mode; an unknown one stops the app rather than fall back."""
    identity.check_mode(settings().identity)
    return settings().identity.mode


def _logged_in() -> bool:
    """Whether the OpenID Connect provider has signed someone in. Without `[auth]` in
    .streamlit/secrets.toml Streamlit has no `is_logged_in` to read: nobody is signed in."""
    try:
        return bool(st.user.is_logged_in)
    except (AttributeError, KeyError):
        return False


def sign_in_gate() -> None:
    """Once a run, before anything is shown: end a session idle for too long."""
    now, minutes = time.time(), settings().identity.idle_timeout_minutes
    if identity.idle_expired(st.session_state.get(LAST_SEEN), now, minutes):
        st.session_state[EXPIRED] = True
        st.session_state.pop(PERSONA, None)
        _personas().pop(_browser(), None)
        if mode() == "oidc" and _logged_in():
            st.session_state[LAST_SEEN] = now
            st.logout()
    st.session_state[LAST_SEEN] = now


def signed_in_email() -> str:
    """The e-mail the identity mode vouches for, or "" when nobody is signed in."""
    if st.session_state.get(EXPIRED):
        return ""
    current = mode()
    if current == "oidc":
        return identity.normal_email(st.user.email) if _logged_in() else ""
    if current == "header":
        headers, address = _request()
        return identity.header_email(headers, address, settings().identity)
    if _demo_refusal(_version()):
        return ""
    remembered = _personas().get(_browser()) if _browser() else None
    chosen = st.session_state.get(PERSONA) or remembered
    return identity.normal_email(chosen or settings().identity.demo_default_persona)


def current_user() -> CurrentUser | None:
    """Who is using the app, from the app's own users; None for nobody, an unknown e-mail or a
    disabled account."""
    email = signed_in_email()
    return _user(email, _version()) if email else None


def _remember_persona() -> None:
    if _browser():
        _personas()[_browser()] = st.session_state.get(PERSONA, "")


def _again() -> None:
    st.session_state.pop(EXPIRED, None)
    st.session_state[LAST_SEEN] = time.time()


def identity_panel() -> None:
    """The sidebar's identity: who is signed in and sign out, or the DEMO persona picker."""
    current = mode()
    if current == "oidc":
        if _logged_in():
            st.sidebar.caption(f"Signed in as {plain(st.user.email)}")
            st.sidebar.button("Sign out", on_click=st.logout, key="sign_out")
        return
    if current == "header":
        email = signed_in_email()
        if email:
            st.sidebar.caption(f"Signed in as {plain(email)}")
        if settings().identity.sign_out_url:
            st.sidebar.link_button("Sign out", settings().identity.sign_out_url)
        return
    if _demo_refusal(_version()):
        return
    users = _users(_version())
    if not users:
        st.sidebar.warning("DEMO MODE: no users are set up yet.")
        return
    labels = {u.email: f"{u.name} ({u.role.value})" for u in users}
    if st.session_state.get(PERSONA) not in labels:
        remembered = _personas().get(_browser()) if _browser() else None
        default = remembered or settings().identity.demo_default_persona
        st.session_state[PERSONA] = default if default in labels else users[0].email
    st.sidebar.warning("DEMO MODE: fictional council; pick whose eyes to see it through.")
    st.sidebar.selectbox(
        "Try the app as",
        list(labels),
        format_func=labels.get,
        key=PERSONA,
        on_change=_remember_persona,
    )
    _remember_persona()


def demo_banner() -> None:
    """A plain-text banner at the top of every page while the app runs in demo mode."""
    if mode() == "demo":
        st.warning(
            f"DEMO: {settings().council_name} is a fictional council and the personas are made "
            "up. Do not enter real data.",
            icon=":material/science:",
        )


def no_access() -> None:
    """Why nobody is let in, politely, and nothing else: signed out after idling, not signed
    in, a demo refused on real data, or a signed-in person the app does not know."""
    config = settings().identity
    current = mode()
    if st.session_state.get(EXPIRED):
        st.info(
            f"You were signed out after {config.idle_timeout_minutes} minutes without activity."
        )
        if current == "oidc":
            st.button("Sign in again", on_click=st.login, key="sign_in_again")
        else:
            st.button("Sign in again", on_click=_again, key="sign_in_again")
        return
    refusal = _demo_refusal(_version()) if current == "demo" else None
    if refusal:
        st.error(refusal)
        return
    email = signed_in_email()
    if current == "oidc" and not email:
        st.info("Sign in to see the council's performance.")
        st.button("Sign in", on_click=st.login, key="sign_in")
        return
    if current == "header" and not email:
        st.error("Open Line of Sight through the council's sign-in page.")
        return
    st.title("No access")
    st.error(
        f"You do not have access to Line of Sight. Ask {plain(config.access_contact)} to give "
        "you access."
    )
    if email:
        st.caption(f"Signed in as {plain(email)}.")
    if current == "oidc":
        st.button("Sign out", on_click=st.logout, key="sign_out_no_access")


def _through_router(page: str) -> None:
    """Streamlit runs a file in pages/ directly while no script has called st.navigation yet
    (its older pages-folder convention: a fresh server's first request, or every AppTest run);
    register the router's pages and run this one again through app.py, keeping the link."""
    if getattr(PagesManager, "uses_pages_directory", False):
        page_config()  # app.py has not run: without it the page's icon would be the tab's
        user = current_user()  # a known user's every page is registered: `require` refuses
        st.navigation(pages_for(user), position="hidden")
        target = PAGE_FILES[page if user is not None else "dashboard"]
        st.switch_page(target, query_params=st.query_params.to_dict())


def require(page: str) -> CurrentUser:
    """The current user, if the access table lets their role open this page; otherwise the
    page stops here, saying why (and nothing of what the page holds)."""
    _through_router(page)
    user = current_user()
    if user is None:
        no_access()
        st.stop()
    if not access.allowed(user.role, page):
        st.error(f"A {user.role.value} may not open this page.")
        st.stop()
    return user


def may(user: CurrentUser, page: str, action: str) -> bool:
    """Whether the access table lets the user do this action on this page."""
    return access.allowed(user.role, page, action)
