"""Reads for committee snapshots and restatements: stored snapshots, what they published, and
the values and audit rows held now. Keyword-only; each takes an open Session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from metrics.models import (
    AuditLog,
    Metric,
    PeriodValue,
    Snapshot,
    SnapshotRestatement,
    SnapshotRollup,
    SnapshotRow,
)

# The period-value fields whose later change is a restatement.
RESTATED_FIELDS = ("actual", "target")


@dataclass(frozen=True)
class Publication:
    """One value a snapshot published (as a row, or as a restatement's new value)."""

    snapshot_id: int
    taken_at: datetime
    code: str
    period: str
    field_name: str
    value: float | None
    title: str
    tier: str
    marking: str
    unit: str
    decimals: int


@dataclass(frozen=True)
class HeldValue:
    """A period value as held now, with its metric's template fields."""

    code: str
    period: str
    actual: float | None
    target: float | None
    title: str
    tier: str
    marking: str
    unit: str
    decimals: int


def snapshot_headers(session: Session) -> list[Snapshot]:
    """Every snapshot, oldest first."""
    return list(session.exec(select(Snapshot).order_by(col(Snapshot.id))).all())


def snapshot_header(session: Session, *, snapshot_id: int) -> Snapshot | None:
    """One snapshot's header, or None if there is no such snapshot."""
    return session.get(Snapshot, snapshot_id)


def previous_snapshot_id(session: Session, *, snapshot_id: int) -> int | None:
    """The snapshot taken just before this one, or None for the first."""
    found = session.exec(
        select(func.max(col(Snapshot.id))).where(col(Snapshot.id) < snapshot_id)
    ).one()
    return None if found is None else int(found)


def latest_snapshot_id(session: Session) -> int | None:
    """The snapshot taken last, or None before the first."""
    found = session.exec(select(func.max(col(Snapshot.id)))).one()
    return None if found is None else int(found)


def snapshot_rows(session: Session, *, snapshot_id: int) -> list[SnapshotRow]:
    """A snapshot's measures in the order frozen."""
    query = select(SnapshotRow).where(col(SnapshotRow.snapshot_id) == snapshot_id)
    return list(session.exec(query.order_by(col(SnapshotRow.position))).all())


def snapshot_rollups(session: Session, *, snapshot_id: int) -> list[SnapshotRollup]:
    """A snapshot's roll-ups (every scope and level) in the order frozen."""
    query = select(SnapshotRollup).where(col(SnapshotRollup.snapshot_id) == snapshot_id)
    return list(session.exec(query.order_by(col(SnapshotRollup.position))).all())


def snapshot_restatements(session: Session, *, snapshot_id: int) -> list[SnapshotRestatement]:
    """The restatements a snapshot carries, in the order frozen."""
    query = select(SnapshotRestatement).where(col(SnapshotRestatement.snapshot_id) == snapshot_id)
    return list(session.exec(query.order_by(col(SnapshotRestatement.position))).all())


def publications(session: Session) -> list[Publication]:
    """Every actual and target any snapshot published, oldest snapshot first; within one
    snapshot its rows come before its restatements (which publish the newer value)."""
    found: list[tuple[int, int, Publication]] = []
    rows = session.exec(
        select(SnapshotRow, col(Snapshot.taken_at)).join(
            Snapshot, col(Snapshot.id) == col(SnapshotRow.snapshot_id)
        )
    ).all()
    for row, taken_at in rows:
        for name in RESTATED_FIELDS:
            found.append(
                (row.snapshot_id, 0, _publication(row, taken_at, name, getattr(row, name)))
            )
    restated = session.exec(
        select(SnapshotRestatement, col(Snapshot.taken_at)).join(
            Snapshot, col(Snapshot.id) == col(SnapshotRestatement.snapshot_id)
        )
    ).all()
    for restatement, taken_at in restated:
        publication = _publication(
            restatement, taken_at, restatement.field_name, restatement.new_value
        )
        found.append((restatement.snapshot_id, 1 + restatement.position, publication))
    return [publication for *_, publication in sorted(found, key=lambda item: item[:2])]


def _publication(
    row: SnapshotRow | SnapshotRestatement, taken_at: datetime, name: str, value: float | None
) -> Publication:
    return Publication(
        snapshot_id=row.snapshot_id,
        taken_at=taken_at,
        code=row.code,
        period=row.period,
        field_name=name,
        value=value,
        title=row.title,
        tier=row.tier,
        marking=row.marking,
        unit=row.unit,
        decimals=row.decimals,
    )


def held_values(session: Session, *, codes: list[str]) -> dict[tuple[str, str], HeldValue]:
    """The values held now for these metric codes, by (code in lower case, period)."""
    if not codes:
        return {}
    query = (
        select(PeriodValue, Metric)
        .join(Metric, col(Metric.id) == col(PeriodValue.metric_id))
        .where(func.lower(col(Metric.code)).in_(sorted({code.lower() for code in codes})))
    )
    return {
        (metric.code.lower(), value.period): HeldValue(
            code=metric.code,
            period=value.period,
            actual=value.actual,
            target=value.target,
            title=metric.title,
            tier=metric.tier,
            marking=metric.marking,
            unit=metric.unit,
            decimals=metric.decimals,
        )
        for value, metric in session.exec(query).all()
    }


def value_changes(session: Session, *, keys: list[str], since: datetime) -> list[AuditLog]:
    """Audit rows changing the actual or target of these `CODE/period` values since a time,
    oldest first (keys compared in lower case, as codes are matched in any case)."""
    if not keys:
        return []
    query = (
        select(AuditLog)
        .where(
            col(AuditLog.entity) == "period_value",
            col(AuditLog.field_name).in_(RESTATED_FIELDS),
            col(AuditLog.at) >= since,
            func.lower(col(AuditLog.entity_key)).in_(sorted({key.lower() for key in keys})),
        )
        .order_by(col(AuditLog.at), col(AuditLog.id))
    )
    return list(session.exec(query).all())


def value_stamps(session: Session, *, metric_ids: list[int]) -> dict[tuple[int, str], date]:
    """When each value of these metrics was last entered or approved, by (metric id, period)."""
    if not metric_ids:
        return {}
    query = select(
        col(PeriodValue.metric_id),
        col(PeriodValue.period),
        col(PeriodValue.entered_at),
        col(PeriodValue.approved_at),
    ).where(col(PeriodValue.metric_id).in_(metric_ids))
    stamps: dict[tuple[int, str], date] = {}
    for metric_id, period, entered_at, approved_at in session.exec(query).all():
        times = [stamp for stamp in (entered_at, approved_at) if stamp is not None]
        if times:
            stamps[(metric_id, period)] = max(times).date()
    return stamps
