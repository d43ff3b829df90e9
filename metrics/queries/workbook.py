"""What the workbook import and export read, inside the caller's session (the import's is the
write transaction, so what it reads cannot change before it writes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import Row, select, tuple_
from sqlmodel import Session, col

from metrics.models import InitiativePriority, Metric, PeriodValue

T = TypeVar("T")
IN_LIST_CHUNK = 1000  # keeps every IN list well under the drivers' limits
# What an import compares and writes of a held value: read as plain rows, not ORM objects, so
# that 48,000 of them cost tens of megabytes, not hundreds.
HELD_VALUE_FIELDS = (
    "id",
    "metric_id",
    "period",
    "version",
    "status",
    "entered_by",
    "actual",
    "numerator",
    "denominator",
    "target",
    "target_upper",
    "commentary",
    "corrective_action",
)


def metrics_by_code(session: Session) -> dict[str, Metric]:
    """Every metric, by its code folded to lower case: import matches codes in any case."""
    return {m.code.casefold(): m for m in session.scalars(select(Metric))}


def all_metrics(session: Session) -> list[Metric]:
    """Every metric, in code order."""
    return list(session.scalars(select(Metric).order_by(col(Metric.code))))


def metric_ids_with_values(session: Session, *, ids: list[int]) -> set[int]:
    """Which of these metrics hold at least one value."""
    found: set[int] = set()
    for start in range(0, len(ids), IN_LIST_CHUNK):
        chunk = ids[start : start + IN_LIST_CHUNK]
        query = select(col(PeriodValue.metric_id)).where(col(PeriodValue.metric_id).in_(chunk))
        found.update(session.scalars(query.distinct()))
    return found


def values_at(
    session: Session, *, keys: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], Row[Any]]:
    """The held values at these (metric id, period) pairs and no others: an import reads what
    its file touches, so its memory grows with the file, never with the database."""
    wanted = sorted(set(keys))
    columns = [getattr(PeriodValue, name) for name in HELD_VALUE_FIELDS]
    pair = tuple_(col(PeriodValue.metric_id), col(PeriodValue.period))
    found: dict[tuple[int, str], Row[Any]] = {}
    for start in range(0, len(wanted), IN_LIST_CHUNK):
        chunk = wanted[start : start + IN_LIST_CHUNK]
        for row in session.execute(select(*columns).where(pair.in_(chunk))):
            found[(row.metric_id, row.period)] = row
    return found


def values_of(session: Session, *, metric_ids: list[int]) -> list[PeriodValue]:
    """Every value of these metrics."""
    found: list[PeriodValue] = []
    for start in range(0, len(metric_ids), IN_LIST_CHUNK):
        chunk = metric_ids[start : start + IN_LIST_CHUNK]
        query = select(PeriodValue).where(col(PeriodValue.metric_id).in_(chunk))
        found.extend(session.scalars(query))
    return found


def rows_of(session: Session, *, model: type[T]) -> list[T]:
    """Every row of a small table (priorities, initiatives, services, teams)."""
    return list(session.scalars(select(model)))


def delivery_links(session: Session) -> set[tuple[int, int]]:
    """(initiative id, priority id) for every initiative that delivers a priority."""
    query = select(col(InitiativePriority.initiative_id), col(InitiativePriority.priority_id))
    return {(row[0], row[1]) for row in session.execute(query)}
