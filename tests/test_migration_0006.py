"""Migration 0006 gives each frozen snapshot row the sentence behind its risk score. A council's
snapshots frozen before it keep verifying: their rows get a blank sentence, and a blank field
added later does not enter the hash (`snapshot_hash.ADDED_LATER`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from committee_council import ENTERED_AT, RATED_ON, build
from conftest import engine_at_revision
from sqlalchemy import Engine, exc, inspect, text

from metrics import snapshots, store

# The hash the code before 0006 gave the committee council's March 2016 snapshot (commit
# f50dd97, values entered at `ENTERED_AT`): pinned, so that a change to the canonical row cannot
# pass unseen. Each row's last-updated day is in the hash, so the council's entry time is fixed.
HASH_BEFORE_0006 = "fa0b67a2e7e1b784c31769f8a7c540d362852a5d372582a6446da89606b66d16"
TABLES = ("snapshot", "snapshot_row", "snapshot_rollup", "snapshot_restatement")


@pytest.fixture
def engine_at_0005(tmp_path: Path) -> Iterator[Engine]:
    """An empty database migrated only to 0005: SQLite file or a private PostgreSQL schema."""
    yield from engine_at_revision("0005", tmp_path)


def frozen_before_0006(source: Engine, target: Engine) -> int:
    """Freeze March 2016 in `source` (at head) and store it in `target` (at 0005) as the code
    before 0006 stored it: every row without a risk sentence, under that code's hash."""
    build(source)
    header = snapshots.freeze(
        source,
        period="2016-03",
        title="Performance for March",
        actor="pmitg@council",
        meeting_date=date(2016, 4, 7),
        today=RATED_ON,
    )
    with source.connect() as reading, target.begin() as writing:
        for table in TABLES:
            for row in reading.execute(text(f"SELECT * FROM {table}")).mappings():
                record = {k: v for k, v in row.items() if k != "risk_why"}
                if table == "snapshot":
                    record["sha256"] = HASH_BEFORE_0006
                names = ", ".join(record)
                places = ", ".join(f":{k}" for k in record)
                writing.execute(text(f"INSERT INTO {table} ({names}) VALUES ({places})"), record)
    return int(header.id)


def test_a_snapshot_frozen_before_0006_still_verifies_after_it(
    engine: Engine, engine_at_0005: Engine
) -> None:
    snapshot_id = frozen_before_0006(engine, engine_at_0005)
    assert snapshots.verify(engine, snapshot_id).stored != HASH_BEFORE_0006
    store.upgrade(engine_at_0005)
    assert store.schema_revision(engine_at_0005) == "0008"
    check = snapshots.verify(engine_at_0005, snapshot_id)
    assert check.ok and check.computed == HASH_BEFORE_0006
    rows = snapshots.show(engine_at_0005, snapshot_id, clearance="OFFICIAL-SENSITIVE").rows
    assert len(rows) == 5 and (rows["risk_why"] == "").all()
    assert set(rows["last_updated"]) == {ENTERED_AT.date()}
    with pytest.raises(exc.DatabaseError, match="frozen"), engine_at_0005.begin() as connection:
        connection.execute(text("UPDATE snapshot_row SET risk_why = 'made up'"))


def test_0006_downgrades_to_0005_and_up_again_keeping_rows_and_triggers(
    engine: Engine, engine_at_0005: Engine
) -> None:
    snapshot_id = frozen_before_0006(engine, engine_at_0005)
    store.upgrade(engine_at_0005)
    command.downgrade(store.alembic_config(engine_at_0005), "0005")
    columns = {c["name"] for c in inspect(engine_at_0005).get_columns("snapshot_row")}
    assert "risk_why" not in columns and "risk_level" in columns
    with pytest.raises(exc.DatabaseError, match="frozen"), engine_at_0005.begin() as connection:
        connection.execute(text("DELETE FROM snapshot_row"))
    store.upgrade(engine_at_0005)
    assert snapshots.verify(engine_at_0005, snapshot_id).ok
