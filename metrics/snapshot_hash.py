"""A snapshot's hash: the SHA-256 of its canonical content, compact JSON with sorted keys over
the header (period, committee, title, meeting date, marking, rating day, unapproved values) and
every stored row, roll-up and restatement in order, without database ids or who took it and
when. Numbers are hashed to 9 decimal places, so SQLite and PostgreSQL give the same hash for
the same data.

A field added to the snapshot rows after snapshots were first taken (`ADDED_LATER`) enters the
canonical row only when it holds something: a snapshot frozen before the field existed (stored
with it blank by its migration) hashes as it did when it was frozen.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import SQLModel

from metrics import restatements
from metrics.models import Snapshot, SnapshotRestatement, SnapshotRollup, SnapshotRow

PLACES = restatements.PLACES
NUMBER_FIELDS = [
    "actual",
    "target",
    "target_upper",
    "ytd",
    "ytd_target",
    "forecast",
    "forecast_target",
]
FLOAT_FIELDS = frozenset([*NUMBER_FIELDS, "old_value", "new_value"])
HEADER_FIELDS = [
    "period",
    "committee",
    "title",
    "meeting_date",
    "marking",
    "rated_on",
    "include_unapproved",
    "unapproved_count",
]
# Row fields added after the first snapshots, with the migration that added each.
ADDED_LATER = {"risk_why": "0006"}


def canonical(
    header: Snapshot,
    rows: list[SnapshotRow],
    rollups: list[SnapshotRollup],
    restated: list[SnapshotRestatement],
) -> bytes:
    """The snapshot's content as compact, key-sorted UTF-8 JSON: what the hash is taken over."""
    content = {
        "snapshot": {name: _plain(name, getattr(header, name)) for name in HEADER_FIELDS},
        "rows": [_record(row) for row in sorted(rows, key=_position)],
        "rollups": [_record(row) for row in sorted(rollups, key=_position)],
        "restatements": [_record(row) for row in sorted(restated, key=_position)],
    }
    text = json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def digest(
    header: Snapshot,
    rows: list[SnapshotRow],
    rollups: list[SnapshotRollup],
    restated: list[SnapshotRestatement],
) -> str:
    """SHA-256 (hex) of the canonical content."""
    return hashlib.sha256(canonical(header, rows, rollups, restated)).hexdigest()


def _position(row: Any) -> int:
    return int(row.position)


def _record(row: SQLModel) -> dict[str, Any]:
    """Every field but the ids; a field added later only when it holds something."""
    found = {}
    for name in type(row).model_fields:
        value = getattr(row, name)
        if name in ("id", "snapshot_id") or (name in ADDED_LATER and value in ("", None)):
            continue
        found[name] = _plain(name, value)
    return found


def _plain(name: str, value: Any) -> Any:
    """One value as JSON: times in UTC to the second, dates ISO, floats as floats."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if name in FLOAT_FIELDS and value is not None:
        return round(float(value), PLACES)
    return value
