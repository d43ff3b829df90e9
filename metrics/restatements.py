"""Restatements: a value or target that a snapshot published and that has changed since.

The last publication of each measure's actual and target for a period is the latest snapshot
that showed it, as a row or as a restatement (the next snapshot carries a restatement, so it is
then published at its new value and no longer pending). A value that was blank when published
was not published, so entering it late is not a restatement. Who, when and why come from the
newest audit row changing that field since the publication; without one they read as not
recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session

from metrics.access import effective_marking, may_see
from metrics.models import AuditLog, SnapshotRestatement
from metrics.queries import snapshots as snapshot_queries
from metrics.queries.snapshots import HeldValue, Publication
from metrics.vocab import MARKING_RANK, Marking

# Two numbers closer than this are the same value (the precision a snapshot stores).
PLACES = 9


def same(a: float | None, b: float | None) -> bool:
    """Equal to the stored precision; None equals only None."""
    if a is None or b is None:
        return a is None and b is None
    return round(float(a), PLACES) == round(float(b), PLACES)


def pending(session: Session) -> list[SnapshotRestatement]:
    """Every published actual or target that differs from the value held now, not yet saved."""
    last: dict[tuple[str, str, str], Publication] = {}
    for publication in snapshot_queries.publications(session):
        last[(publication.code.lower(), publication.period, publication.field_name)] = publication
    held = snapshot_queries.held_values(session, codes=[key[0] for key in last])
    changed = []
    for (code, period, name), publication in sorted(last.items()):
        if publication.value is None:
            continue
        now = held.get((code, period))
        new = None if now is None else getattr(now, name)
        if not same(publication.value, new):
            changed.append((publication, now, new))
    if not changed:
        return []
    changes = _latest_changes(session, [publication for publication, *_ in changed])
    restated = []
    for position, (publication, now, new) in enumerate(changed):
        audit = changes.get(_key(publication))
        restated.append(_restatement(position, publication, now, new, audit))
    return restated


def pending_restatements(engine: Engine) -> list[SnapshotRestatement]:
    """The restatements the next snapshot will carry (unsaved rows, snapshot_id 0)."""
    with Session(engine) as session:
        return pending(session)


PENDING_COLUMNS = ["Measure", "Title", "Period", "Field", "Old", "New", "Who", "When", "Why"]
NOT_RECORDED = "not recorded"


def pending_table(engine: Engine, *, clearance: str) -> pd.DataFrame:
    """The pending restatements the clearance may see, for reading: measure, period, what
    changed, old and new value, who, when (UTC; a page says it with `periods.day_text`) and why
    (not recorded when no audit row says)."""
    rows = [
        [
            r.code,
            r.title,
            r.period,
            r.field_name,
            r.old_value,
            r.new_value,
            r.changed_by or NOT_RECORDED,
            _as_utc(r.changed_at) if r.changed_at else None,
            r.reason or NOT_RECORDED,
        ]
        for r in pending_restatements(engine)
        if may_see(clearance, r.marking)
    ]
    return pd.DataFrame(rows, columns=PENDING_COLUMNS).astype({"Old": float, "New": float})


def _key(publication: Publication) -> tuple[str, str]:
    return (f"{publication.code}/{publication.period}".lower(), publication.field_name)


def _latest_changes(
    session: Session, changed: list[Publication]
) -> dict[tuple[str, str], AuditLog]:
    """The newest audit row of each changed field made since its publication."""
    since = {_key(publication): publication.taken_at for publication in changed}
    rows = snapshot_queries.value_changes(
        session,
        keys=[key for key, _ in since],
        since=min(since.values()),
    )
    latest: dict[tuple[str, str], AuditLog] = {}
    for row in rows:
        key = (row.entity_key.lower(), row.field_name)
        if key in since and _as_utc(row.at) >= _as_utc(since[key]):
            latest[key] = row  # oldest first, so the last one kept is the newest
    return latest


def _as_utc(stamp: datetime) -> datetime:
    """SQLite may hand back a naive time: every stored time is UTC."""
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _restatement(
    position: int,
    publication: Publication,
    now: HeldValue | None,
    new: float | None,
    audit: AuditLog | None,
) -> SnapshotRestatement:
    """One restatement row; it keeps the more sensitive of the marking then and now."""
    markings = [effective_marking(publication.marking)]
    if now is not None:
        markings.append(effective_marking(now.marking))
    marking = max((Marking(m) for m in markings), key=MARKING_RANK.__getitem__).value
    source = now or publication
    return SnapshotRestatement(
        snapshot_id=0,
        position=position,
        code=source.code,
        title=source.title,
        tier=source.tier,
        marking=marking,
        unit=source.unit,
        decimals=source.decimals,
        period=publication.period,
        field_name=publication.field_name,
        old_value=publication.value,
        new_value=None if new is None else round(float(new), PLACES),
        changed_by=audit.actor if audit else "",
        changed_at=audit.at if audit else None,
        reason=audit.reason if audit else "",
        published_in=publication.snapshot_id,
    )
