"""Committee snapshots: freeze a period as the committee will see it, show it exactly as frozen
and verify its SHA-256 (`snapshot_hash`); `snapshot_compare` sets two side by side.

A snapshot holds every measure at every marking (a reader sees only the rows their clearance
allows), the roll-ups by tier and priority for each clearance, and the restatements pending
when it was taken. Numbers are stored to 9 decimal places, so SQLite and PostgreSQL give the
same hash for the same data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

from metrics import access, periods, rating, restatements, store, views
from metrics.access import effective_marking, visible_markings
from metrics.config import Settings, settings
from metrics.models import Snapshot, SnapshotRestatement, SnapshotRollup, SnapshotRow
from metrics.queries import snapshots as snapshot_queries
from metrics.snapshot_hash import FLOAT_FIELDS, NUMBER_FIELDS, PLACES, digest
from metrics.vocab import MARKING_RANK, ApprovalState, Marking, Tier

# status() column for each SnapshotRow field that is not named the same.
RENAMED = {"status": "rag", "forecast_status": "forecast_rag", "spc_signal": "spc_variation"}
TEXT_FIELDS = [
    "code",
    "title",
    "tier",
    "priority",
    "initiative",
    "service",
    "team",
    "responsible_officer",
    "unit",
    "polarity",
    "frequency",
    "period",
    "status",
    "explanation",
    "dot_previous",
    "dot_last_year",
    "risk_level",
    "risk_why",
    "forecast_status",
    "spc_signal",
    "commentary",
    "corrective_action",
    "approval",
]
LEVELS = {"tier": "tier", "priority": "priority"}
COUNTS = {"red": "Red", "amber": "Amber", "green": "Green", "data_only": "Data only"}
TIER_ORDER = {tier.value: order for order, tier in enumerate(Tier)}


class SnapshotRefused(ValueError):
    """A snapshot cannot be taken or found; the message says why in one line."""


class UnapprovedValues(SnapshotRefused):
    """Values of the period are not approved and nobody said to include them."""


@dataclass(frozen=True)
class Frozen:
    """A snapshot as stored, filtered to one clearance: header, rows, roll-ups, restatements."""

    snapshot: Snapshot
    clearance: str
    rows: pd.DataFrame
    rollups: pd.DataFrame
    restatements: pd.DataFrame

    @property
    def marking(self) -> str:
        """The most sensitive marking among the rows this reader sees (OFFICIAL if none)."""
        found = [Marking(m) for m in self.rows["marking"]] if len(self.rows) else []
        top = max(found, key=MARKING_RANK.__getitem__, default=Marking.OFFICIAL)
        return top.value


@dataclass(frozen=True)
class Verification:
    """The stored hash beside the one recomputed from the stored rows."""

    snapshot_id: int
    stored: str
    computed: str

    @property
    def ok(self) -> bool:
        return self.stored == self.computed


# --- Freezing ---------------------------------------------------------------------------------


def freeze(
    engine: Engine,
    *,
    period: str,
    title: str,
    actor: str,
    committee: str | None = None,
    meeting_date: date | None = None,
    include_unapproved: bool = False,
    today: date | None = None,
    config: Settings | None = None,
    user: access.CurrentUser | None = None,
) -> Snapshot:
    """Freeze every measure due in the period with its roll-ups and pending restatements.

    From a page, `user` is who asks (only a performance officer may; the audit names them);
    without one the caller is the command line's operator, named by `actor`.

    Refused when the period is unknown, nothing is due (or no value is held for it), or a
    value is unapproved and `include_unapproved` was not given. Returns the stored header.
    """
    config = config or settings()
    rated_on = today or date.today()
    if user is not None:
        access.require_freeze(user)
        actor = user.email
    if not title.strip():
        raise SnapshotRefused("a snapshot needs a title (the meeting's agenda item)")
    with store.write(engine) as session:
        try:
            frame = views.status(
                engine,
                period=period,
                clearance=Marking.OFFICIAL_SENSITIVE.value,
                today=rated_on,
                settings=config,
            )
        except periods.UnknownPeriod as error:
            raise SnapshotRefused(str(error)) from error
        if frame.empty or frame["actual"].isna().all():
            when = periods.spoken(period)
            raise SnapshotRefused(f"no measure is due in {when}: there is nothing to freeze")
        stamps = snapshot_queries.value_stamps(session, metric_ids=frame["metric_id"].tolist())
        rows = snapshot_rows(frame, stamps)
        unapproved = [row.code for row in rows if row.unapproved]
        if unapproved and not include_unapproved:
            listed = ", ".join(unapproved[:10]) + (" ..." if len(unapproved) > 10 else "")
            when = periods.spoken(period)
            raise UnapprovedValues(
                f"{len(unapproved)} value(s) in {when} are not approved ({listed}): approve "
                "them, or choose to include unapproved values (each frozen row then says so)"
            )
        header = Snapshot(
            period=_month_label(period, config.financial_year_start_month),
            committee=(committee or config.committee.name).strip(),
            title=title.strip(),
            meeting_date=meeting_date,
            marking=_highest([row.marking for row in rows]),
            rated_on=rated_on,
            include_unapproved=include_unapproved,
            unapproved_count=len(unapproved),
            taken_at=store.now(),
            taken_by=actor,
            sha256="",
        )
        rollups = snapshot_rollups(rows, config=config)
        restated = restatements.pending(session)
        header.sha256 = digest(header, rows, rollups, restated)
        session.add(header)
        session.flush()
        for child in (*rows, *rollups, *restated):
            child.snapshot_id = header.id
            session.add(child)
        store.audit(
            session,
            actor=actor,
            action="snapshot",
            entity="snapshot",
            entity_key=str(header.id),
            new_value=header.sha256,
            reason=f"{header.committee}: {header.title} ({header.period})",
        )
        store.bump_data_version(session)
    return header


def snapshot_rows(frame: pd.DataFrame, stamps: dict[tuple[int, str], date]) -> list[SnapshotRow]:
    """One unsaved SnapshotRow per rated row, numbers to 9 places, blanks as '' or None."""
    rows = []
    for position, record in enumerate(frame.to_dict("records")):
        values: dict[str, Any] = {
            name: _text(record.get(RENAMED.get(name, name))) for name in TEXT_FIELDS
        }
        values |= {name: _number(record.get(name)) for name in NUMBER_FIELDS}
        has_value = values["actual"] is not None
        rows.append(
            SnapshotRow(
                snapshot_id=0,
                position=position,
                marking=effective_marking(_text(record.get("marking"))),
                decimals=int(record["decimals"]),
                risk_score=int(record["risk_score"]),
                unapproved=has_value and values["approval"] != ApprovalState.APPROVED.value,
                last_updated=stamps.get((int(record["metric_id"]), values["period"])),
                **values,
            )
        )
    return rows


def snapshot_rollups(rows: list[SnapshotRow], *, config: Settings) -> list[SnapshotRollup]:
    """Counts and rolled-up status by tier and by priority, for each clearance's readers."""
    frame = pd.DataFrame(
        [
            {
                "tier": r.tier,
                "priority": r.priority,
                "rag": r.status,
                "risk_level": r.risk_level,
                "marking": r.marking,
            }
            for r in rows
        ]
    )
    found: list[SnapshotRollup] = []
    for scope in Marking:
        seen = frame[frame["marking"].isin(visible_markings(scope.value))]
        for level, column in LEVELS.items():
            grouped = seen[seen[column] != ""]
            if grouped.empty:
                continue
            table = rating.rollup(grouped, column, rules=config.rating)
            if level == "tier":
                table = table.sort_values(column, key=lambda s: s.map(TIER_ORDER).fillna(99))
            for record in table.to_dict("records"):
                found.append(
                    SnapshotRollup(
                        snapshot_id=0,
                        position=len(found),
                        scope=scope.value,
                        level=level,
                        name=str(record[column]),
                        missing=int(record["Missing"]),
                        status=str(record["status"]),
                        **{name: int(record[label]) for name, label in COUNTS.items()},
                    )
                )
    return found


def _month_label(label: str, fy_start: int) -> str:
    """The reporting month of a label: a quarter or a year reports in its last month."""
    period = periods.parse(label.strip(), fy_start)
    return periods.month_period(period.end.year, period.end.month, fy_start).label


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


def _number(value: Any) -> float | None:
    if value is None or value is pd.NA or pd.isna(value):
        return None
    return round(float(value), PLACES)


def _highest(markings: list[str]) -> str:
    found = [Marking(effective_marking(m)) for m in markings] or [Marking.OFFICIAL]
    return max(found, key=MARKING_RANK.__getitem__).value


def unapproved_count(
    engine: Engine, *, period: str, today: date | None = None, config: Settings | None = None
) -> int:
    """How many values `freeze` would find unapproved in the period (every marking), so the
    officer knows before freezing; 0 for a period the app does not know."""
    config = config or settings()
    try:
        frame = views.status(
            engine,
            period=period,
            clearance=Marking.OFFICIAL_SENSITIVE.value,
            today=today or date.today(),
            settings=config,
        )
    except periods.UnknownPeriod:
        return 0
    if frame.empty:
        return 0
    held = frame["actual"].notna()
    return int((held & (frame["approval"] != ApprovalState.APPROVED.value)).sum())


# --- Reading back -----------------------------------------------------------------------------


def list_snapshots(engine: Engine) -> list[Snapshot]:
    """Every snapshot's header, oldest first."""
    with Session(engine) as session:
        return snapshot_queries.snapshot_headers(session)


def show(engine: Engine, snapshot_id: int, *, clearance: str) -> Frozen:
    """The snapshot exactly as stored, only the rows the clearance may see; never recomputed."""
    with Session(engine) as session:
        header = snapshot_queries.snapshot_header(session, snapshot_id=snapshot_id)
        if header is None:
            raise SnapshotRefused(f"there is no snapshot {snapshot_id}")
        rows = snapshot_queries.snapshot_rows(session, snapshot_id=snapshot_id)
        rollups = snapshot_queries.snapshot_rollups(session, snapshot_id=snapshot_id)
        restated = snapshot_queries.snapshot_restatements(session, snapshot_id=snapshot_id)
    visible = set(visible_markings(clearance))
    scope = clearance if clearance in set(Marking) else Marking.NOT_PROTECTIVELY_MARKED.value
    return Frozen(
        snapshot=header,
        clearance=clearance,
        rows=_frame([r for r in rows if r.marking in visible], SnapshotRow),
        rollups=_frame([r for r in rollups if r.scope == scope], SnapshotRollup),
        restatements=_frame([r for r in restated if r.marking in visible], SnapshotRestatement),
    )


def previous(engine: Engine, snapshot_id: int, *, clearance: str) -> Frozen | None:
    """The snapshot taken just before this one, at the same clearance, or None."""
    with Session(engine) as session:
        earlier = snapshot_queries.previous_snapshot_id(session, snapshot_id=snapshot_id)
    return None if earlier is None else show(engine, earlier, clearance=clearance)


def _frame(rows: list[Any], model: type[SQLModel]) -> pd.DataFrame:
    columns = [name for name in model.model_fields if name not in ("id", "snapshot_id")]
    return pd.DataFrame(
        [{name: getattr(row, name) for name in columns} for row in rows], columns=columns
    ).astype({name: "float64" for name in columns if name in FLOAT_FIELDS})


def verify(engine: Engine, snapshot_id: int) -> Verification:
    """Recompute the hash from every stored row (all markings) and set it beside the stored one."""
    with Session(engine) as session:
        header = snapshot_queries.snapshot_header(session, snapshot_id=snapshot_id)
        if header is None:
            raise SnapshotRefused(f"there is no snapshot {snapshot_id}")
        computed = digest(
            header,
            snapshot_queries.snapshot_rows(session, snapshot_id=snapshot_id),
            snapshot_queries.snapshot_rollups(session, snapshot_id=snapshot_id),
            snapshot_queries.snapshot_restatements(session, snapshot_id=snapshot_id),
        )
    return Verification(snapshot_id=snapshot_id, stored=header.sha256, computed=computed)
