"""The views the pages show, built in the domain from the read layer and the rules.

Each entry point takes an Engine and keyword arguments and returns a frame or a frozen
dataclass, so a plain pytest test can check every number without starting Streamlit. The glue
caches each in one line keyed on the data version; it may pass the `Scope` (per clearance) and
the `Reading` (per month) it already holds so a page does not read them twice.

Clearance is an argument everywhere: a measure the reader may not see is never read, never
aligned to and never named, and an unknown code reads exactly like it (None).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import partial

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session

from metrics import alignment, display, periods, queries
from metrics.alignment import Structure
from metrics.config import Settings
from metrics.frames import among
from metrics.queries import snapshots as snapshot_queries
from metrics.views import board, kept, levels
from metrics.views.board import DashboardView, previous_months
from metrics.views.history import metric_histories, metric_history
from metrics.views.levels import LevelView
from metrics.views.measure import MetricView, audit_trail, for_committee, metric_view
from metrics.views.public import (
    PUBLIC_CLEARANCE,
    PublicView,
    assemble_public,
    published_snapshots,
)
from metrics.views.rated import (
    Held,
    latest_reported_month,
    period_options,
    rag_in,
    rags_before,
    status,
    status_and_values,
)
from metrics.views.trail import Crumb
from metrics.views.within import LEVEL_COLUMN, Within, every_due
from metrics.views.within import from_params as within_params
from metrics.vocab import Marking

__all__ = [
    "OWN_MEASURES",
    "Crumb",
    "DashboardView",
    "LevelView",
    "MetricView",
    "PublicView",
    "Reading",
    "Scope",
    "Within",
    "audit",
    "dashboard",
    "for_committee",
    "index",
    "latest_reported_month",
    "level",
    "level_reading",
    "metric",
    "metric_histories",
    "metric_history",
    "period_options",
    "public_view",
    "rag_in",
    "rate_ahead",
    "read_month",
    "read_scope",
    "reads_part",
    "status",
    "within_params",
]


# Levels whose page shows and counts only their own measures, so they need no others rated.
OWN_MEASURES = ("service", "team")
# Above this many measures a priority's or an initiative's page reads and rates only the measures
# it lists, the rest counted from the catalogue (`level_reading`): at XL (20,000) 88 to 115 ms
# against 155 to 195 ms for the whole month; a smaller council's pages share the month its
# indexes read (docs/performance.md).
READ_IN_PARTS_ABOVE = 5_000


@dataclass(frozen=True)
class Scope:
    """What one clearance may see of the alignment: the structure above the measures, the
    measures themselves, and the priorities each serves."""

    clearance: str
    structure: Structure
    catalogue: pd.DataFrame  # metric templates (queries.metric_frame), invisible alignments blank
    served: pd.DataFrame  # alignment.priorities_served


@dataclass(frozen=True)
class Reading:
    """One reader's month: every measure due, rated, and placed on the alignment tree."""

    period: str
    scope: Scope
    status: pd.DataFrame  # rated rows with `latest_commentary`
    rows: pd.DataFrame  # alignment.placed: one row per measure and priority it serves
    held: Held | None = None  # the value rows the status read, to rate earlier months from
    # When `status` is of one level's measures only (`level_reading`): every measure due,
    # where it sits only (`within.every_due`), which the level's counts count.
    due: pd.DataFrame | None = None


def read_scope(engine: Engine, *, clearance: str) -> Scope:
    """The structure, the measures the clearance may see, and which priority each serves."""
    where = Structure(**queries.structure_frames(engine))
    catalogue = alignment.mask_alignment(queries.metric_frame(engine, clearance=clearance))
    served = alignment.priorities_served(catalogue, where.delivers)
    return Scope(clearance, where, catalogue, served)


def read_month(
    engine: Engine,
    *,
    period: str,
    clearance: str,
    today: date,
    settings: Settings,
    scope: Scope | None = None,
    approved_only: bool = False,
    codes: list[str] | None = None,
    columns: list[str] | None = None,
) -> Reading:
    """The month's status for the clearance (the one rating pipeline), each row with its latest
    commentary (kept with its rating), and its rows placed under every priority each measure
    serves; with `approved_only`, from approved values only (the committee's view, its
    commentary too); with `codes`, of those measures only; with `columns`, only those of each
    kept rating (`status_and_values`)."""
    seen = scope or read_scope(engine, clearance=clearance)
    rated, held = status_and_values(
        engine,
        period=period,
        clearance=clearance,
        today=today,
        settings=settings,
        approved_only=approved_only,
        codes=codes,
        columns=columns,
        # the scope's own read of the measures (one read of them a month, not three)
        measures=seen.catalogue
        if codes is None
        else seen.catalogue[among(seen.catalogue["code"], codes)],
    )
    # Every row is of the scope's catalogue, whose alignments are masked already (`read_scope`).
    return Reading(period, seen, rated, alignment.placed(rated, seen.served), held)


def dashboard(
    engine: Engine,
    *,
    period: str,
    clearance: str,
    today: date,
    settings: Settings,
    reading: Reading | None = None,
    scope: Scope | None = None,
    approved_only: bool = False,
) -> DashboardView:
    """Everything the ME2E dashboard shows for a month, for one clearance: each measure is
    compared with the status it had in its own previous period (a month the reader has data
    for). Without a `reading`, every measure is counted from what `board.COUNTED` needs of its
    kept rating, and only the rows listed are read whole."""
    # Every read of the month below is of the same month, reader and basis.
    read = partial(read_month, engine, period=period, clearance=clearance, today=today,
                   settings=settings, approved_only=approved_only)  # fmt: skip
    month = reading or read(scope=scope, columns=board.COUNTED)
    fy_start = settings.financial_year_start_month
    options = set(period_options(engine, fy_start, clearance=clearance))
    earlier = rags_before(
        engine,
        month.status,
        months=[m for m in previous_months(month.status, fy_start) if m in options],
        clearance=clearance,
        held=month.held,  # one read of the values serves every earlier month
        measures=month.scope.catalogue,
        today=today,
        settings=settings,
        approved_only=approved_only,
    )
    current = shown = board.with_previous(month.status, list(earlier.values()))
    if not set(kept.KEPT) <= set(current.columns):  # counted from part of each kept rating
        counted = board.listed(current)
        listed = counted["code"].tolist()
        whole = read(scope=month.scope, codes=listed).status
        if not board.same_ratings(counted, whole):  # a write came between: read it all again
            return dashboard(
                engine, period=period, clearance=clearance, today=today, settings=settings,
                approved_only=approved_only, reading=read(scope=month.scope),
            )  # fmt: skip
        shown = whole.merge(counted[["code", "rag_before"]], on="code", validate="one_to_one")
    return board.assemble(
        period,
        current,
        shown,
        sorted(earlier),
        month.rows,
        month.scope.structure,
        rules=settings.rating,
    )


def level(
    engine: Engine,
    *,
    kind: str,
    code: str,
    period: str,
    clearance: str,
    today: date,
    settings: Settings,
    reading: Reading | None = None,
    within: Within | None = None,
) -> LevelView | None:
    """A priority, initiative, service or team in a month, rolled up from what the reader may
    see (only the part `within` names, if any); None for an unknown code."""
    month = reading or level_reading(
        engine, kind=kind, code=code, period=period, clearance=clearance, today=today,
        settings=settings,
    )  # fmt: skip
    return levels.part_of(
        kind, code, month.rows, month.scope.structure, settings.rating, within or Within(),
        due=month.due,
    )  # fmt: skip


def level_reading(
    engine: Engine,
    *,
    kind: str,
    code: str,
    period: str,
    clearance: str,
    today: date,
    settings: Settings,
    scope: Scope | None = None,
    approved_only: bool = False,
) -> Reading:
    """The month a level is built from: a service's or a team's own measures (everything its
    page shows and counts is of them); else every measure (a priority's or an initiative's
    tables count whole services and initiatives, beyond the part that serves it), of a large
    council only its own measures and those aligned to it, the rest counted from where they
    sit (`Reading.due`), none of them rated."""
    seen = scope or read_scope(engine, clearance=clearance)
    read = partial(read_month, engine, period=period, clearance=clearance, today=today,
                   settings=settings, scope=seen, approved_only=approved_only)  # fmt: skip
    catalogue = seen.catalogue
    if kind in OWN_MEASURES:
        return read(codes=catalogue.loc[catalogue[LEVEL_COLUMN[kind]] == code, "code"].tolist())
    if not reads_part(kind, seen):
        return read()
    fy_start = settings.financial_year_start_month
    month = periods.month_for(period, fy_start)
    due = every_due(catalogue, seen.served, month, fy_start, settings.deadline)
    found = levels.members(kind, code, due, seen.structure)  # None: no such level, none listed
    listed = [] if found is None else found[1]["code"].unique().tolist()
    return replace(read(codes=listed), due=due)


def reads_part(kind: str, scope: Scope) -> bool:
    """Whether a level's page reads a month of its own (`level_reading`: a service or a team, or
    a priority or an initiative of a large council), not the whole month every index shares."""
    return kind in OWN_MEASURES or len(scope.catalogue) > READ_IN_PARTS_ABOVE


def index(
    engine: Engine,
    *,
    kind: str,
    period: str,
    clearance: str,
    today: date,
    settings: Settings,
    reading: Reading | None = None,
) -> pd.DataFrame:
    """Every measure due (highest risk first), or every priority, initiative, service or team
    rolled up as its own page rolls it up (worst first)."""
    month = reading or read_month(
        engine, period=period, clearance=clearance, today=today, settings=settings
    )
    if kind == "metric":
        return display.metric_table(month.rows.drop_duplicates("code"))
    return levels.level_index(kind, month.rows, month.scope.structure, settings.rating)


def metric(
    engine: Engine,
    *,
    code: str,
    period: str,
    clearance: str,
    today: date,
    settings: Settings,
    scope: Scope | None = None,
    approved_only: bool = False,
) -> MetricView | None:
    """One measure up to the month; None for an unknown code and for one the reader may not
    see."""
    seen = scope or read_scope(engine, clearance=clearance)
    history = metric_history(
        engine,
        code=code,
        clearance=clearance,
        until=period,
        today=today,
        settings=settings,
        approved_only=approved_only,
    )
    return metric_view(
        code,
        history,
        seen.catalogue,
        seen.served,
        seen.structure,
        period,
        rules=settings.rating,
        fy_start=settings.financial_year_start_month,
        definition=queries.definition(engine, code=code, clearance=clearance),
    )


def rate_ahead(engine: Engine, *, today: date, settings: Settings) -> list[tuple[str, bool]]:
    """Rate and keep (`views.kept`) what the dashboard opens on, for officers (submitted values)
    and for the committee (approved ones): the latest reported month and the months it is
    compared with; so the first reader after an import reads kept ratings. The (month,
    approved only) pairs rated."""
    # A measure's rating is the same whoever reads it: rating every measure keeps each one for
    # every clearance.
    everything = Marking.OFFICIAL_SENSITIVE.value
    fy_start = settings.financial_year_start_month
    rated = []
    for approved_only in (False, True):
        month = latest_reported_month(
            engine, fy_start, clearance=everything, approved_only=approved_only
        )
        if month is not None:
            dashboard(
                engine,
                period=month,
                clearance=everything,
                today=today,
                settings=settings,
                approved_only=approved_only,
            )
            rated.append((month, approved_only))
    return rated


def audit(
    engine: Engine, *, code: str, clearance: str, scope: Scope | None = None
) -> pd.DataFrame | None:
    """The audit trail of a measure the reader may see, newest first; None otherwise."""
    seen = scope or read_scope(engine, clearance=clearance)
    visible = set(seen.catalogue["code"])
    if code not in visible:
        return None
    return audit_trail(queries.audit_rows(engine, code=code), visible)


def public_view(engine: Engine, *, council: str) -> PublicView | None:
    """The latest published performance as the public may read it: frozen snapshot rows of
    NOT PROTECTIVELY MARKED measures only (`metrics.views.public`); None before the first
    snapshot."""
    with Session(engine) as session:
        chosen = published_snapshots(snapshot_queries.snapshot_headers(session))
        rows = {
            int(header.id or 0): snapshot_queries.snapshot_rows(session, snapshot_id=header.id)
            for header in chosen
            if header.id is not None
        }
    public_now = set(queries.metric_frame(engine, clearance=PUBLIC_CLEARANCE)["code"])
    return assemble_public(chosen, rows, public_now, council=council)
