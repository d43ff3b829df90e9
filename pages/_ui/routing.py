"""Routing: the pages each role gets, the engine and the data version, the period and what a
link opens. Who the user is: `identity`."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import streamlit as st
from sqlalchemy import Engine

from metrics import access, store, views
from metrics.access import CurrentUser
from metrics.config import settings
from metrics.periods import spoken
from metrics.views.trail import Crumb, trail_text, walked
from metrics.vocab import Role, Status
from pages._ui.text import plain

# --- Pages ------------------------------------------------------------------------------------

# The browser tab's icon: a file the app serves. A `:material/...:` icon (set_page_config's, or a
# page's own while no page config has been sent) makes the browser fetch it from a font host.
ICON = Path(__file__).resolve().parents[2] / "assets" / "icon.png"

PAGE_FILES = {
    "dashboard": "pages/dashboard.py",
    "priority": "pages/priority.py",
    "initiative": "pages/initiative.py",
    "service": "pages/service.py",
    "team": "pages/team.py",
    "metric": "pages/metric.py",
    "committee": "pages/committee.py",
    "my_month": "pages/my_month.py",
    "approvals": "pages/approvals.py",
    "data_quality": "pages/data_quality.py",
    "my_scorecard": "pages/my_scorecard.py",
    "admin_measures": "pages/admin_measures.py",
    "admin_levels": "pages/admin_levels.py",
    "admin_users": "pages/admin_users.py",
    "admin_workbook": "pages/admin_workbook.py",
}
PAGE_TITLES = {
    "dashboard": "ME2E dashboard",
    "priority": "Priorities",
    "initiative": "ME2E initiatives",
    "service": "Services",
    "team": "Teams",
    "metric": "Measures",
    "committee": "Committee papers",
    "my_month": "My month",
    "approvals": "Approvals",
    "data_quality": "Data quality",
    "my_scorecard": "My scorecard",
    "admin_measures": "Manage measures",
    "admin_levels": "Manage the line of sight",
    "admin_users": "Manage users",
    "admin_workbook": "Template workbook",
}
PAGE_ICONS = {
    "dashboard": ":material/dashboard:",
    "priority": ":material/flag:",
    "initiative": ":material/rocket_launch:",
    "service": ":material/apartment:",
    "team": ":material/groups:",
    "metric": ":material/monitoring:",
    "committee": ":material/gavel:",
    "my_month": ":material/edit_calendar:",
    "approvals": ":material/task_alt:",
    "data_quality": ":material/fact_check:",
    "my_scorecard": ":material/person:",
    "admin_measures": ":material/tune:",
    "admin_levels": ":material/account_tree:",
    "admin_users": ":material/manage_accounts:",
    "admin_workbook": ":material/upload_file:",
}
READING_PAGES = ("dashboard", "priority", "initiative", "service", "team", "metric")
# Which pages each role gets, from the access table (metrics/access.py ACCESS), in its order.
ROLE_PAGES: dict[Role, tuple[str, ...]] = {role: access.pages_of(role) for role in Role}
KIND_WORDS = {
    "priority": "priority",
    "initiative": "ME2E initiative",
    "service": "service",
    "team": "team",
    "metric": "metric",
}
# Query parameters that name what a link opens, most specific first.
LINK_KINDS = ("metric", "team", "service", "initiative", "priority")
VIA = "via"  # the way taken, `priority:P1,team:T1`: the breadcrumb a link carries
# Session keys of this run alone (cleared by `start_run`), and of a refused link period.
HERE, TRAIL, REFUSED_PERIOD = "_here", "_trail", "_refused_period"
BADGE_COLOURS = {
    Status.RED.value: "red",
    Status.AMBER.value: "yellow",  # lighter than Red, as the palette: apart in greyscale
    Status.GREEN.value: "green",
    Status.DATA_ONLY.value: "gray",
    Status.MISSING.value: "blue",
    Status.OVERDUE.value: "blue",
}
# More Red, Amber or Missing is bad news; more Green is good; Data only is neither.
DELTA_COLOURS = {
    Status.RED.value: "inverse",
    Status.AMBER.value: "inverse",
    Status.GREEN.value: "normal",
    Status.DATA_ONLY.value: "off",
    Status.MISSING.value: "inverse",
}


def page_config() -> None:
    """The title, icon and layout of every page; called before any `st.navigation`."""
    st.set_page_config(page_title="Line of Sight", page_icon=str(ICON), layout="wide")


def pages_for(user: CurrentUser | None) -> list[st.Page]:
    """The pages this user's role gets (the access table), their landing page first and the
    default. A known user's other pages are registered hidden, so a pasted link to one opens its
    refusal (`require`) rather than a "page not found"; nobody known gets the landing page
    alone, which says why (`require`)."""
    names = ROLE_PAGES.get(user.role, ()) if user else ("dashboard",)
    home = access.landing(user.role) if user else "dashboard"
    hidden = [name for name in PAGE_FILES if name not in names] if user else []
    return [
        st.Page(
            PAGE_FILES[name],
            title=PAGE_TITLES[name],
            icon=PAGE_ICONS[name],
            url_path=None if name == home else name,
            default=name == home,
            visibility="hidden" if name in hidden else "visible",
        )
        for name in [home, *[n for n in names if n != home], *hidden]
    ]


# --- Engine and the data version ---------------------------------------------------------------


@st.cache_resource
def _engine(url: str) -> Engine:
    engine = store.make_engine(url)
    if store.schema_revision(engine) is None:
        store.upgrade(engine)
    return engine


def engine() -> Engine:
    """The process's engine for the configured database; a new database gets its schema."""
    return _engine(settings().database_url)


def start_run() -> None:
    """Read the data version once for this script run; every cached reader is keyed on it.
    Where the reader is and the way they came are this run's alone (`selected`, `breadcrumb`)."""
    st.session_state["_data_version"] = store.data_version(engine())
    st.session_state.pop(HERE, None)
    st.session_state.pop(TRAIL, None)


def _version() -> int:
    if "_data_version" not in st.session_state:
        start_run()
    return int(st.session_state["_data_version"])


# --- Period and the URL ------------------------------------------------------------------------


@st.cache_data(max_entries=16, show_spinner=False)
def _period_options(clearance: str, version: int) -> list[str]:
    return views.period_options(
        engine(), settings().financial_year_start_month, clearance=clearance
    )


@st.cache_data(max_entries=16, show_spinner=False)
def _latest(clearance: str, committee: bool, version: int) -> str | None:
    return views.latest_reported_month(
        engine(),
        settings().financial_year_start_month,
        clearance=clearance,
        approved_only=committee,
    )


def period_picker(user: CurrentUser | None) -> str | None:
    """The month every page shows, in the sidebar and the URL (`?period=2016-03`), offered only
    once a user is known and only over months holding values the user may see.

    A link's period wins; then the session's; then the latest month with submitted or
    approved data the user may see (for the committee's view, approved data). A link's period
    with no data is remembered for `period_notice`, which every page shows.
    """
    options = _period_options(user.clearance, _version()) if user else []
    if not options:
        st.session_state.pop("period", None)
        return None
    wanted = st.query_params.get("period")
    if wanted in options:
        st.session_state["period"] = wanted
    elif st.session_state.get("period") not in options:
        committee = not access.allowed(user.role, "dashboard", "unapproved")
        latest = _latest(user.clearance, committee, _version())
        st.session_state["period"] = latest if latest in options else options[0]
    if wanted is not None and wanted not in options:
        st.session_state[REFUSED_PERIOD] = wanted  # kept through a followed link's switch
    st.sidebar.selectbox(
        "Period",
        options,
        key="period",
        format_func=spoken,
        on_change=_to_url,
        args=("period", "period"),
    )
    st.query_params["period"] = st.session_state["period"]
    return st.session_state["period"]


def period_notice() -> None:
    """The one warning, on whichever page a link opens, that its period has no data: the value
    as typed and the month shown instead. Called after `follow_link`, so it shows on the page
    the reader lands on."""
    refused = st.session_state.pop(REFUSED_PERIOD, None)
    if refused is not None and period() is not None:
        st.warning(
            f"The link asked for the period {plain(refused)}, which has no data you can see; "
            f"showing {spoken(period())} instead.",
            icon=":material/event_busy:",
        )


def period_label() -> str:
    """The chosen month as the council says it ('March 2017'); empty before any data."""
    return spoken(period()) if period() else ""


def period() -> str | None:
    """The month chosen in the sidebar (None when no values exist yet)."""
    return st.session_state.get("period")


def _to_url(parameter: str, key: str) -> None:
    if parameter in LINK_KINDS:  # a pick from the sidebar is not a way taken
        st.query_params.pop(VIA, None)
    value = st.session_state.get(key)
    if value is None:
        st.query_params.pop(parameter, None)
    else:
        st.query_params[parameter] = value


def follow_link(page: st.Page, user: CurrentUser | None) -> None:
    """A link to the landing page that names something (`/?metric=CP03&period=2016-03`) opens
    that thing's page, so a link pasted in an e-mail opens the same view; only a page the user
    may open is followed (otherwise the landing page's `require()` says why)."""
    if page.url_path != "" or st.session_state.get("_followed_link"):
        return
    st.session_state["_followed_link"] = True
    allowed = ROLE_PAGES.get(user.role, ()) if user else ()
    for kind in LINK_KINDS:
        if kind in st.query_params:
            if kind in allowed:
                st.switch_page(PAGE_FILES[kind], query_params=st.query_params.to_dict())
            return


def selected(kind: str, options: dict[str, str], label: str) -> str | None:
    """The code of the `kind` to show, from the URL (`?priority=P1`) or a picker bound to it.

    An unknown code, or one the user may not see, gets the same plain message.
    """
    key = f"pick_{kind}"
    wanted = st.query_params.get(kind)
    if wanted is not None and wanted not in options:
        st.error(f"There is no {KIND_WORDS[kind]} {plain(wanted)}.", icon=":material/search_off:")
        st.session_state.pop(key, None)
    elif wanted is not None:
        st.session_state[key] = wanted
    elif st.session_state.get(key) not in options:
        st.session_state.pop(key, None)
    choice = st.sidebar.selectbox(
        label,
        list(options),
        index=None,
        format_func=lambda code: options.get(code, code),
        placeholder=f"Choose a {KIND_WORDS[kind]}",
        key=key,
        on_change=_to_url,
        args=(kind, key),
    )
    if choice is not None:
        st.query_params[kind] = choice
        st.session_state[HERE] = Crumb(kind, choice, options.get(choice, choice))
    return choice


def within() -> views.Within:
    """The part of a level the link asks for (`?serving=…&aligned_to=…&tier=…`), or all of it."""
    return views.within_params(st.query_params.to_dict())


def trail() -> list[Crumb]:
    """The way the reader came to this page, as `breadcrumb` checked it (empty before)."""
    return list(st.session_state.get(TRAIL, []))


def link_query(kind: str, code: str, part: dict[str, str] | None = None) -> dict[str, str]:
    """The query of a link to a page: what it opens (narrowed by `part` to what the row or
    segment opening it counts), the period, and the way taken to it (`?via=`), so a pasted
    link keeps the breadcrumb (docs/line-of-sight.md)."""
    query = {kind: code, **(part or {})}
    if period():
        query["period"] = str(period())
    way = walked(trail(), st.session_state.get(HERE), kind, code)
    if way:
        query[VIA] = trail_text(way)
    return query


def open_page(kind: str, code: str, part: dict[str, str] | None = None) -> NoReturn:
    """Go to the page of a priority, initiative, service, team or metric, keeping the period
    and the way taken; `part` narrows a level to what the row opening it counts."""
    st.switch_page(PAGE_FILES[kind], query_params=link_query(kind, code, part))
