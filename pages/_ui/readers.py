"""Cached readers: each view of `metrics.views` cached in one line, keyed on the data version
(read once per run) and, where the result depends on it, the clearance.

What a page shows is cached as data (each session gets its own copy). A clearance's scope and a
month's reading, which only the views read, are held once per process as resources instead:
at XL a month's reading is 48 MB and 75 ms to copy into the cache, and the views never change
what they are given (pandas copies on write; `test_pages` checks the pages leave it as read)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from metrics import views
from metrics.config import settings
from metrics.publish import transparency
from pages._ui.routing import _version, engine

# --- Cached reads: one line each, keyed on the data version ---------------------------------------


@st.cache_resource(max_entries=16, show_spinner=False)
def _scope(clearance: str, version: int) -> views.Scope:
    return views.read_scope(engine(), clearance=clearance)


@st.cache_resource(max_entries=16, show_spinner=False)
def _month(
    period: str, clearance: str, committee: bool, version: int, today: date
) -> views.Reading:
    return views.read_month(
        engine(),
        **_args(period, clearance, today),
        scope=_scope(clearance, version),
        approved_only=committee,
    )


@st.cache_data(max_entries=32, show_spinner=False)
def _dashboard(
    period: str, clearance: str, committee: bool, version: int, today: date
) -> views.DashboardView:
    # Not the month the level pages share: the dashboard reads of each kept rating only what it
    # counts, and the rows it lists whole (`views.dashboard`).
    return views.dashboard(
        engine(),
        **_args(period, clearance, today),
        scope=_scope(clearance, version),
        approved_only=committee,
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _level(
    kind: str,
    code: str,
    period: str,
    clearance: str,
    committee: bool,
    version: int,
    today: date,
    part: tuple[str, str, str] = ("", "", ""),
) -> views.LevelView | None:
    scope = _scope(clearance, version)
    if views.reads_part(kind, scope):  # its own measures whole (a service: only those)
        reading = views.level_reading(
            engine(),
            kind=kind,
            code=code,
            **_args(period, clearance, today),
            scope=scope,
            approved_only=committee,
        )
    else:
        reading = _month(period, clearance, committee, version, today)
    return views.level(
        engine(),
        kind=kind,
        code=code,
        **_args(period, clearance, today),
        reading=reading,
        within=views.Within(*part),
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _index(
    kind: str, period: str, clearance: str, committee: bool, version: int, today: date
) -> pd.DataFrame:
    return views.index(
        engine(),
        kind=kind,
        **_args(period, clearance, today),
        reading=_month(period, clearance, committee, version, today),
    )


@st.cache_data(max_entries=64, show_spinner=False)
def _metric(
    code: str, period: str, clearance: str, committee: bool, version: int, today: date
) -> views.MetricView | None:
    view = views.metric(
        engine(),
        code=code,
        **_args(period, clearance, today),
        scope=_scope(clearance, version),
        approved_only=committee,
    )
    return views.for_committee(view) if committee and view is not None else view


@st.cache_data(max_entries=64, show_spinner=False)
def _audit(code: str, clearance: str, version: int) -> pd.DataFrame | None:
    return views.audit(engine(), code=code, clearance=clearance, scope=_scope(clearance, version))


@st.cache_data(max_entries=4, show_spinner=False)
def _public(version: int) -> views.PublicView | None:
    return views.public_view(engine(), council=settings().council_name)


@st.cache_data(max_entries=4, show_spinner=False)
def _public_csv(version: int) -> bytes:
    view = _public(version)
    return b"" if view is None else transparency.public_csv(view.rows, council=view.council)


def _args(period: str, clearance: str, today: date) -> dict[str, object]:
    """The keyword arguments every view takes."""
    return {"period": period, "clearance": clearance, "today": today, "settings": settings()}


def dashboard(period: str, clearance: str, committee: bool = False) -> views.DashboardView:
    """Headline counts and their change, the tree, exceptions and changes of status (the
    committee's view: from approved values only)."""
    return _dashboard(period, clearance, committee, _version(), date.today())


def level_view(
    kind: str,
    code: str,
    period: str,
    clearance: str,
    committee: bool = False,
    within: views.Within | None = None,
) -> views.LevelView | None:
    """A priority, initiative, service or team in a month, rolled up from what the user sees
    (only the part `within` names, if any: `ui.within()` reads it from the link)."""
    part = within or views.Within()
    key = (part.serving, part.aligned_to, part.tier)
    return _level(kind, code, period, clearance, committee, _version(), date.today(), key)


def index_rows(kind: str, period: str, clearance: str, committee: bool = False) -> pd.DataFrame:
    """Every measure, priority, initiative, service or team of the month, worst first."""
    return _index(kind, period, clearance, committee, _version(), date.today())


def options(kind: str, clearance: str) -> dict[str, str]:
    """Code → label of everything of a kind the user may open."""
    seen = _scope(clearance, _version())
    if kind == "metric":
        catalogue = seen.catalogue
        return dict(
            zip(catalogue["code"], catalogue["code"] + ": " + catalogue["title"], strict=True)
        )
    return seen.structure.options(kind)


def metric_view(
    code: str, period: str, clearance: str, committee: bool = False
) -> views.MetricView | None:
    """One measure up to the month; None for an unknown code and for one the user may not see.
    The committee's view holds approved values only and no corrective-action drafts."""
    return _metric(code, period, clearance, committee, _version(), date.today())


def audit(code: str, clearance: str) -> pd.DataFrame | None:
    """The audit trail of a measure the user may see (None otherwise)."""
    return _audit(code, clearance, _version())


def public_view() -> views.PublicView | None:
    """The latest published performance as the public may read it (the public's clearance is
    fixed, so only the data version keys it); None before the first snapshot."""
    return _public(_version())


def public_csv() -> bytes:
    """The public view's rows as the transparency CSV, for its download."""
    return _public_csv(_version())
