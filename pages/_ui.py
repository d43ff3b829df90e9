"""The one glue module: who the user is, the engine, cached readers, and the widgets every page
shares (period picker, pickers bound to the URL, breadcrumbs, status counts, tables).

Every cached reader takes the data version (read once per script run) so a write anywhere,
on any replica, refreshes it; every reader whose result depends on clearance takes it as an
argument, so a cached result never crosses from a cleared user to one who is not.
"""

from __future__ import annotations

import re
from datetime import date
from typing import NoReturn

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from streamlit.runtime.pages_manager import PagesManager

from metrics import access, charts, queries, store
from metrics import lineofsight as los
from metrics.access import CurrentUser
from metrics.config import settings
from metrics.rating import COUNT_COLUMNS, POLARITY_PHRASE, format_value
from metrics.vocab import Role, Status, Tier

# --- Pages ------------------------------------------------------------------------------------

PAGE_FILES = {
    "dashboard": "pages/dashboard.py",
    "priority": "pages/priority.py",
    "initiative": "pages/initiative.py",
    "service": "pages/service.py",
    "team": "pages/team.py",
    "metric": "pages/metric.py",
}
PAGE_TITLES = {
    "dashboard": "ME2E dashboard",
    "priority": "Priorities",
    "initiative": "ME2E initiatives",
    "service": "Services",
    "team": "Teams",
    "metric": "Measures",
}
PAGE_ICONS = {
    "dashboard": ":material/dashboard:",
    "priority": ":material/flag:",
    "initiative": ":material/rocket_launch:",
    "service": ":material/apartment:",
    "team": ":material/groups:",
    "metric": ":material/monitoring:",
}
READING_PAGES = ("dashboard", "priority", "initiative", "service", "team", "metric")
# Which pages each role gets. Data entry, approvals and snapshots come in later issues.
ROLE_PAGES: dict[Role, tuple[str, ...]] = {role: READING_PAGES for role in Role}
KIND_WORDS = {
    "priority": "priority",
    "initiative": "ME2E initiative",
    "service": "service",
    "team": "team",
    "metric": "metric",
}
# Query parameters that name what a link opens, most specific first.
LINK_KINDS = ("metric", "team", "service", "initiative", "priority")
BADGE_COLOURS = {
    Status.RED.value: "red",
    Status.AMBER.value: "orange",
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


def pages_for(user: CurrentUser | None) -> list[st.Page]:
    """The pages this user's role gets, the dashboard first (and the default)."""
    names = ROLE_PAGES.get(user.role, ()) if user else ("dashboard",)
    return [
        st.Page(
            PAGE_FILES[name],
            title=PAGE_TITLES[name],
            icon=PAGE_ICONS[name],
            url_path=None if name == "dashboard" else name,
            default=name == "dashboard",
        )
        for name in names
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
    """Read the data version once for this script run; every cached reader is keyed on it."""
    st.session_state["_data_version"] = store.data_version(engine())


def _version() -> int:
    if "_data_version" not in st.session_state:
        start_run()
    return int(st.session_state["_data_version"])


# --- Identity ---------------------------------------------------------------------------------


@st.cache_data(max_entries=256, show_spinner=False)
def _user(email: str, version: int) -> CurrentUser | None:
    return access.load_user(engine(), email)


@st.cache_data(max_entries=16, show_spinner=False)
def _users(version: int) -> list[CurrentUser]:
    return access.list_users(engine())


def current_user() -> CurrentUser | None:
    """Who is using the app: the one seam every page asks.

    demo: the persona picked in the sidebar (default: settings().demo_default_persona).
    oidc: the signed-in e-mail, looked up in the app's own users; unknown people get None.
    """
    mode = settings().identity_mode
    if mode == "oidc":
        if not st.user.is_logged_in:
            return None
        return _user(str(st.user.email or "").strip().lower(), _version())
    if mode != "demo":
        return None
    email = st.session_state.get("persona") or settings().demo_default_persona
    return _user(str(email).strip().lower(), _version())


def identity_panel() -> None:
    """The sidebar's identity: a DEMO banner and persona picker, or sign in and out."""
    mode = settings().identity_mode
    if mode == "oidc":
        if st.user.is_logged_in:
            st.sidebar.caption(f"Signed in as {plain(st.user.email)}")
            st.sidebar.button("Sign out", on_click=st.logout)
        else:
            st.sidebar.button("Sign in", on_click=st.login)
        return
    users = _users(_version())
    if not users:
        st.sidebar.warning("DEMO MODE: no users are set up yet.")
        return
    labels = {u.email: f"{u.name} ({u.role.value})" for u in users}
    if st.session_state.get("persona") not in labels:
        default = settings().demo_default_persona
        st.session_state["persona"] = default if default in labels else users[0].email
    st.sidebar.warning("DEMO MODE: fictional council; pick whose eyes to see it through.")
    st.sidebar.selectbox("Try the app as", list(labels), format_func=labels.get, key="persona")


def demo_banner() -> None:
    """A plain-text banner at the top of every page while the app runs in demo mode."""
    if settings().identity_mode == "demo":
        st.warning(
            f"DEMO: {settings().council_name} is a fictional council and the personas are made "
            "up. Do not enter real data.",
            icon=":material/science:",
        )


def _through_router(page: str) -> None:
    """Streamlit runs a file in pages/ directly while no script has called st.navigation yet
    (its older pages-folder convention: a fresh server's first request, or every AppTest run);
    register the router's pages and run this one again through app.py, keeping the link."""
    if getattr(PagesManager, "uses_pages_directory", False):
        user = current_user()
        allowed = user is not None and page in ROLE_PAGES.get(user.role, ())
        st.navigation(pages_for(user), position="hidden")
        target = PAGE_FILES[page if allowed else "dashboard"]
        st.switch_page(target, query_params=st.query_params.to_dict())


def require(page: str) -> CurrentUser:
    """The current user, if their role may see this page; otherwise the page stops here."""
    _through_router(page)
    user = current_user()
    if user is None:
        if settings().identity_mode == "oidc" and not st.user.is_logged_in:
            st.info("Sign in to see the council's performance.")
        else:
            st.error("You are not registered to use this app. Ask the performance team.")
        st.stop()
    if page not in ROLE_PAGES.get(user.role, ()):
        st.error(f"A {user.role.value} may not open this page.")
        st.stop()
    return user


# --- Period and the URL ------------------------------------------------------------------------


@st.cache_data(max_entries=16, show_spinner=False)
def _period_options(clearance: str, version: int) -> list[str]:
    return los.period_options(engine(), settings().financial_year_start_month, clearance=clearance)


@st.cache_data(max_entries=16, show_spinner=False)
def _latest(clearance: str, version: int) -> str | None:
    return queries.latest_reported_month(
        engine(), settings().financial_year_start_month, clearance=clearance
    )


def period_picker(user: CurrentUser | None) -> str | None:
    """The month every page shows, in the sidebar and the URL (`?period=2016-03`), offered only
    once a user is known and only over months holding values the user may see.

    A link's period wins; then the session's; then the latest month with submitted or
    approved data the user may see.
    """
    options = _period_options(user.clearance, _version()) if user else []
    if not options:
        st.session_state.pop("period", None)
        return None
    wanted = st.query_params.get("period")
    if wanted in options:
        st.session_state["period"] = wanted
    elif st.session_state.get("period") not in options:
        latest = _latest(user.clearance, _version())
        st.session_state["period"] = latest if latest in options else options[0]
    if wanted is not None and wanted not in options:
        st.sidebar.warning(f"There is no data for period {plain(wanted)}.")
    st.sidebar.selectbox(
        "Period", options, key="period", on_change=_to_url, args=("period", "period")
    )
    st.query_params["period"] = st.session_state["period"]
    return st.session_state["period"]


def period() -> str | None:
    """The month chosen in the sidebar (None when no values exist yet)."""
    return st.session_state.get("period")


def _to_url(parameter: str, key: str) -> None:
    value = st.session_state.get(key)
    if value is None:
        st.query_params.pop(parameter, None)
    else:
        st.query_params[parameter] = value


def follow_link(page: st.Page) -> None:
    """A link to the landing page that names something (`/?metric=CP03&period=2016-03`) opens
    that thing's page, so a link pasted in an e-mail opens the same view; only a page the user
    may open is followed (otherwise the landing page's `require()` says why)."""
    if page.url_path != "" or st.session_state.get("_followed_link"):
        return
    st.session_state["_followed_link"] = True
    user = current_user()
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
    return choice


def open_page(kind: str, code: str) -> NoReturn:
    """Go to the page of a priority, initiative, service, team or metric, keeping the period."""
    query = {kind: code}
    if period():
        query["period"] = str(period())
    st.switch_page(PAGE_FILES[kind], query_params=query)


# --- Cached reads -----------------------------------------------------------------------------


@st.cache_data(max_entries=16, show_spinner=False)
def _structure(version: int) -> los.Structure:
    return los.structure(engine())


def structure() -> los.Structure:
    """Priorities, initiatives, services and teams (no marking applies to them)."""
    return _structure(_version())


@st.cache_data(max_entries=16, show_spinner=False)
def _catalogue(clearance: str, version: int) -> pd.DataFrame:
    return los.catalogue(engine(), clearance)


@st.cache_data(max_entries=16, show_spinner=False)
def _served(clearance: str, version: int) -> pd.DataFrame:
    return los.priorities_served(_catalogue(clearance, version), _structure(version).delivers)


@st.cache_data(max_entries=64, show_spinner=False)
def _status(period: str, clearance: str, version: int, today: date) -> pd.DataFrame:
    frame = queries.status(engine(), period=period, clearance=clearance, today=today)
    frame = los.mask_alignment(frame, _catalogue(clearance, version)["code"])
    return los.with_latest_commentary(engine(), frame)


@st.cache_data(max_entries=64, show_spinner=False)
def _placed(period: str, clearance: str, version: int, today: date) -> pd.DataFrame:
    return los.placed(_status(period, clearance, version, today), _served(clearance, version))


@st.cache_data(max_entries=64, show_spinner=False)
def _rag_in(period: str, clearance: str, version: int, today: date) -> pd.DataFrame:
    return queries.rag_in(engine(), period=period, clearance=clearance, today=today)


@st.cache_data(max_entries=32, show_spinner=False)
def _dashboard(period: str, clearance: str, version: int, today: date) -> los.Dashboard:
    fy_start = settings().financial_year_start_month
    current = _status(period, clearance, version, today)
    options = set(_period_options(clearance, version))
    earlier = {
        month: _rag_in(month, clearance, version, today)
        for month in los.previous_months(current, fy_start)
        if month in options
    }
    return los.dashboard(
        period,
        current,
        earlier,
        _placed(period, clearance, version, today),
        _structure(version),
        rules=settings().rating,
    )


def dashboard(period: str, clearance: str) -> los.Dashboard:
    """Headline counts and their change, the tree, exceptions and changes of status."""
    return _dashboard(period, clearance, _version(), date.today())


@st.cache_data(max_entries=64, show_spinner=False)
def _level(
    kind: str, code: str, period: str, clearance: str, version: int, today: date
) -> los.LevelView | None:
    rows = _placed(period, clearance, version, today)
    return los.VIEWS[kind](code, rows, _structure(version), settings().rating)


def level_view(kind: str, code: str, period: str, clearance: str) -> los.LevelView | None:
    """A priority, initiative, service or team in a month, rolled up from what the user sees."""
    return _level(kind, code, period, clearance, _version(), date.today())


@st.cache_data(max_entries=64, show_spinner=False)
def _index(kind: str, period: str, clearance: str, version: int, today: date) -> pd.DataFrame:
    rows = _placed(period, clearance, version, today)
    if kind == "metric":
        return los.metric_table(rows.drop_duplicates("code"))
    return los.level_index(kind, rows, _structure(version), settings().rating)


def index(kind: str, period: str | None, clearance: str) -> None:
    """Everything of a kind in the month, rolled up, worst first; selecting a row opens it."""
    if period is None:
        st.info("No values have been entered yet.")
        return
    table = _index(kind, period, clearance, _version(), date.today())
    if kind == "metric":
        st.caption(f"Every measure due in {period}, highest risk first. Select one to open it.")
        metric_table(table, key="index", empty=f"No measure is due in {period}.")
    else:
        st.caption(f"Every {KIND_WORDS[kind]} in {period}, worst first. Select one to open it.")
        level_table(table, key="index", empty=f"No {KIND_WORDS[kind]} is set up yet.")


def options(kind: str, clearance: str) -> dict[str, str]:
    """Code → label of everything of a kind the user may open."""
    if kind == "metric":
        catalogue = _catalogue(clearance, _version())
        return dict(
            zip(catalogue["code"], catalogue["code"] + ": " + catalogue["title"], strict=True)
        )
    return structure().options(kind)


@st.cache_data(max_entries=64, show_spinner=False)
def _metric(
    code: str, period: str, clearance: str, version: int, today: date
) -> los.MetricView | None:
    history = queries.metric_history(
        engine(), code=code, clearance=clearance, until=period, today=today
    )
    return los.metric_view(
        code,
        history,
        _catalogue(clearance, version),
        _served(clearance, version),
        _structure(version),
        period,
        rules=settings().rating,
        fy_start=settings().financial_year_start_month,
    )


def metric_view(code: str, period: str, clearance: str) -> los.MetricView | None:
    """One measure up to the month; None for an unknown code and for one the user may not see."""
    return _metric(code, period, clearance, _version(), date.today())


@st.cache_data(max_entries=64, show_spinner=False)
def _audit(code: str, clearance: str, version: int) -> pd.DataFrame | None:
    visible = set(_catalogue(clearance, version)["code"])
    if code not in visible:
        return None
    return los.audit_trail(engine(), code, visible)


def audit(code: str, clearance: str) -> pd.DataFrame | None:
    """The audit trail of a measure the user may see (None otherwise)."""
    return _audit(code, clearance, _version())


# --- Shared widgets ---------------------------------------------------------------------------

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


def plain(text: object) -> str:
    """Text from users or the URL, escaped so Markdown shows it literally (never as markup)."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", "" if text is None else str(text))


def breadcrumb(path: list[los.Crumb], here: str) -> None:
    """Links to every level above (the dashboard first), then where the user is."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        query = {"period": str(period())} if period() else {}
        st.page_link(PAGE_FILES["dashboard"], label="Dashboard", query_params=query)
        for crumb in path:
            st.markdown("›")
            st.page_link(
                PAGE_FILES[crumb.kind],
                label=plain(crumb.label),
                query_params={crumb.kind: crumb.code, **query},
            )
        st.markdown(f"› **{plain(here)}**")


def status_badge(status: str, prefix: str = "") -> None:
    """A status as a coloured badge that also carries its symbol and word."""
    st.badge(f"{prefix}{charts.status_label(status)}", color=BADGE_COLOURS.get(status, "gray"))


def status_counts(status: str, counts: dict[str, int]) -> None:
    """The rolled-up status and the counts behind it."""
    if not status:
        st.info(f"Nothing here is due in {period()}; choose another month to see its measures.")
        return
    status_badge(status, prefix="Rolled up: ")
    for column, name in zip(st.columns(len(COUNT_COLUMNS)), COUNT_COLUMNS, strict=True):
        column.metric(charts.status_label(name), counts.get(name, 0))


def headline(board: los.Dashboard) -> None:
    """Per tier: Red, Amber, Green, Data only and Missing, with the change since last period."""
    with st.container(border=True, gap=None):
        for tier in (t.value for t in Tier):
            name, *cells = st.columns([1.4] + [1] * len(COUNT_COLUMNS), vertical_alignment="center")
            name.markdown(f"**{tier}**")
            name.caption(f"{int(board.headline.loc[tier].sum())} measures due")
            for cell, status in zip(cells, COUNT_COLUMNS, strict=True):
                change = board.change.loc[tier, status]
                cell.metric(
                    charts.status_label(status),
                    int(board.headline.loc[tier, status]),
                    delta=None if pd.isna(change) else int(change),
                    delta_color=DELTA_COLOURS[status],
                    help=f"{tier} measures rated {status} in {board.period}"
                    + (", Overdue included" if status == Status.MISSING.value else "")
                    + "; the arrow shows the change since each measure's previous period.",
                )


def _selection(event: object, part: str) -> list:
    """The selected rows or points of a chart or table event (empty when nothing is selected)."""
    try:
        return list(event["selection"][part])  # type: ignore[index]
    except (KeyError, TypeError):
        return []


def line_of_sight(nodes: pd.DataFrame) -> None:
    """The sunburst; selecting a segment opens its page."""
    if nodes.empty:
        st.info("No measures are due this month, so there is nothing to draw.")
        return
    event = st.plotly_chart(
        charts.line_of_sight_figure(nodes),
        on_select="rerun",
        selection_mode="points",
        key="line_of_sight",
    )
    points = _selection(event, "points")
    target = los.node_target(nodes, str(points[0].get("id", ""))) if points else None
    if target:
        open_page(*target)
    st.caption(
        "Select a segment to open it. Each segment starts with its status symbol: "
        + ", ".join(charts.status_label(s) for s in charts.STATUS_SYMBOLS)
        + "."
    )


METRIC_COLUMNS = {
    "code": st.column_config.TextColumn("Code", width="small", pinned=True),
    "Why": st.column_config.TextColumn("Why this status", width="large"),
    "Commentary": st.column_config.TextColumn(
        "Latest commentary", width="medium", help="This period's, or else the latest before it"
    ),
    "Measure": st.column_config.TextColumn("Measure", width="medium"),
}


def _selected_row(table: pd.DataFrame, *, key: str, **columns: object) -> pd.Series | None:
    """Show a table whose rows can be selected; the row the reader selected, if any."""
    event = st.dataframe(
        table, hide_index=True, on_select="rerun", selection_mode="single-row", key=key, **columns
    )
    rows = _selection(event, "rows")
    return table.iloc[rows[0]] if rows else None


def metric_table(table: pd.DataFrame, *, key: str, empty: str) -> None:
    """Measures as a table; selecting a row opens the measure."""
    if table.empty:
        st.info(empty)
        return
    row = _selected_row(table, key=key, column_config=METRIC_COLUMNS)
    if row is not None:
        open_page("metric", str(row["code"]))


LEVEL_COLUMNS = {
    "Name": st.column_config.TextColumn("Name", width=190),
    "Status": st.column_config.TextColumn("Status", width=90),
    **{name: st.column_config.NumberColumn(name, width=56) for name in COUNT_COLUMNS},
}


def level_table(table: pd.DataFrame, *, key: str, empty: str) -> None:
    """Priorities, initiatives, services or teams rolled up, with all five counts (DESIGN);
    selecting a row opens it."""
    if table.empty:
        st.info(empty)
        return
    row = _selected_row(
        table,
        key=key,
        column_order=["Name", "Status", *COUNT_COLUMNS],
        column_config=LEVEL_COLUMNS,
    )
    if row is not None and row["code"] != los.UNALIGNED:
        open_page(str(row["kind"]), str(row["code"]))


def level_header(view: los.LevelView) -> None:
    """Breadcrumb, title, rolled-up status and counts, and any notes for a level page."""
    breadcrumb(view.path, view.name)
    st.title(plain(view.name))
    st.caption(f"{KIND_WORDS[view.kind].capitalize()} {plain(view.code)} · {period()}")
    status_counts(view.status, view.counts)
    for note in view.notes:
        st.caption(plain(note))


# --- The metric page --------------------------------------------------------------------------


def metric_summary(view: los.MetricView) -> None:
    """Status and year-end forecast side by side, the signal, and the sentence that says why."""
    current = view.current
    if current is None:
        st.info(f"No period of {plain(view.code)} ends on or before {period()}.")
        return
    unit, decimals = str(view.template["unit"]), int(view.template["decimals"])
    now, forecast, signal = st.columns(3, border=True)
    with now:
        st.caption(f"Status for {plain(current['period'])}")
        status_badge(str(current["rag"]))
        st.metric(
            "Year to date" if current.get("rated_on") == "ytd" else "Actual",
            value_text(
                current, "ytd" if current.get("rated_on") == "ytd" else "actual", unit, decimals
            ),
        )
        st.caption(
            f"Travel: {charts.direction_label(current['dot_previous'])} on the previous "
            f"period, {charts.direction_label(current['dot_last_year'])} on last year"
        )
    with forecast:
        st.caption("Year-end forecast")
        status_badge(str(current["forecast_rag"]))
        st.metric("Projected outturn", value_text(current, "forecast", unit, decimals))
        st.caption(f"Against {target_text(current, 'forecast_target', unit, decimals)}")
    with signal:
        st.caption("Signal or noise (XmR)")
        st.badge(str(current["spc_signal"]), color="violet")
        st.metric("Risk", f"{current['risk_level']} ({int(current['risk_score'])})")
    st.markdown(f"**Why:** {plain(current['explanation'])}")
    if current.get("commentary"):
        st.markdown(f"**Commentary:** {plain(current['commentary'])}")
    if current.get("corrective_action"):
        st.markdown(f"**Corrective action:** {plain(current['corrective_action'])}")


def value_text(row: dict[str, object], column: str, unit: str, decimals: int) -> str:
    """A number from a row in the metric's unit ('–' when there is none)."""
    value = row.get(column)
    return "–" if value is None or pd.isna(value) else format_value(float(value), unit, decimals)


def target_text(row: dict[str, object], column: str, unit: str, decimals: int) -> str:
    """A target in the metric's unit; a band's as its range ('1.80 % to 2.40 %')."""
    lower = value_text(row, column, unit, decimals)
    upper = value_text(row, f"{column}_upper", unit, decimals)
    return f"{lower} to {upper}" if row.get("polarity") == "band" and upper != "–" else lower


def trend_chart(view: los.MetricView) -> None:
    """Actual against target with the tolerance band, or a message saying what is missing."""
    if view.trend.empty or view.trend["value"].isna().all():
        st.info(f"No actual has been entered for {plain(view.code)} up to {period()}.")
        return
    cumulative = bool((view.history["rated_on"] == "ytd").any())
    st.plotly_chart(
        charts.trend_figure(
            view.trend,
            unit=str(view.template["unit"]),
            decimals=int(view.template["decimals"]),
            title="Year to date" if cumulative else "Actual",
        ),
        key="trend",
    )


def xmr_chart(view: los.MetricView) -> None:
    """The XmR chart, or how many more values it needs."""
    needed = settings().rating.spc_min_points
    if view.xmr.empty:
        have = int(view.history["actual"].notna().sum()) if len(view.history) else 0
        st.info(
            f"An XmR chart needs at least {needed} values; {plain(view.code)} has {have} so far."
        )
        return
    st.plotly_chart(
        charts.xmr_figure(view.xmr, view.xmr["period"], polarity=str(view.template["polarity"])),
        key="xmr",
    )


DEFINITION_FIELDS = [
    ("definition", "Definition"),
    ("tier", "Tier"),
    ("team", "Owning team"),
    ("service", "Service"),
    ("responsible_officer", "Responsible officer"),
    ("unit", "Unit"),
    ("decimals", "Decimals"),
    ("polarity", "Polarity"),
    ("frequency", "Frequency"),
    ("aggregation", "Year-to-date aggregation"),
    ("tolerance", "Tolerance"),
    ("risk_impact", "Risk impact"),
    ("marking", "Protective marking"),
    ("data_only", "Data only"),
    ("active_from", "Active from"),
    ("active_to", "Active to"),
]


def definition(view: los.MetricView) -> None:
    """The measure's template as a two-column table (plain text, never markup)."""
    template = view.template
    tolerance = template.get("tolerance")
    shown = dict(template)
    if tolerance is None or pd.isna(tolerance):
        shown["tolerance"] = (
            f"{settings().rating.default_tolerance_percent:g} % of target (default)"
        )
    elif template.get("tolerance_is_percent"):
        shown["tolerance"] = f"{tolerance:g} % of target"
    shown["polarity"] = f"{template['polarity']} ({polarity_text(str(template['polarity']))})"
    rows = pd.DataFrame(
        {
            "Field": [label for _, label in DEFINITION_FIELDS],
            "Value": [_cell(shown.get(name)) for name, _ in DEFINITION_FIELDS],
        }
    )
    st.dataframe(rows, hide_index=True, key="definition")


def polarity_text(polarity: str) -> str:
    """'higher is better', 'lower is better' or 'inside the target range is best'."""
    return POLARITY_PHRASE.get(polarity, polarity)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return "–"
    return str(value)


def _links(label: str, crumbs: list[los.Crumb]) -> None:
    query = {"period": str(period())} if period() else {}
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.markdown(label)
        for crumb in crumbs:
            st.page_link(
                PAGE_FILES[crumb.kind],
                label=f"{KIND_WORDS[crumb.kind]} {plain(crumb.label)}",
                query_params={crumb.kind: crumb.code, **query},
            )


def alignment(view: los.MetricView) -> None:
    """Who owns the measure, what it is aligned to (up) and what is aligned to it (down)."""
    if view.owners:
        _links("Owned by:", view.owners)
    if view.aligned_up:
        _links("Aligned to:", view.aligned_up)
    st.markdown(f"**Measures aligned to {plain(view.code)}**")
    metric_table(
        view.aligned_below,
        key="aligned_below",
        empty=f"No measure is aligned to {plain(view.code)}.",
    )


def audit_table(code: str, clearance: str) -> None:
    """Who changed the measure's template and values, newest first."""
    trail = audit(code, clearance)
    if trail is None or trail.empty:
        st.info(f"No change to {plain(code)} has been recorded.")
        return
    st.dataframe(trail, hide_index=True, key="audit")


if __name__ == "__main__":  # Streamlit's pages-folder convention ran this module as a page
    st.switch_page("app.py")
