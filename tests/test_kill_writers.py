"""kill -9 of a writer mid-write, 20 rounds: the database stays whole (SQLite's integrity check
passes) and every commit the writer acknowledged is there, with its audit row; a write cut off
before its commit leaves nothing half done. On SQLite, or PostgreSQL with
SCORECARD_TEST_DATABASE_URL. `make faults`."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from committee_council import build
from sqlalchemy import Engine, text

ROUNDS = 20
ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow

# The writer: bump one value, audited, in one transaction; say so only once it has committed.
WRITER = """
import sys
from sqlalchemy import select
from metrics import store
from metrics.models import PeriodValue
engine = store.make_engine(sys.argv[1])
n = int(sys.argv[2])
while True:
    with store.write(engine) as session:
        held = session.execute(select(PeriodValue).order_by(PeriodValue.id)).scalars().first()
        store.versioned_update(session, PeriodValue, held.id, held.version, actual=n)
        store.audit(session, actor="killed writer", action="update", entity="period_value",
                    entity_key=str(held.id), field_name="actual", new_value=n)
        store.bump_data_version(session)
    print(n, flush=True)
    n += 1
"""


def test_a_writer_killed_mid_write_loses_no_acknowledged_commit(engine: Engine) -> None:
    build(engine)
    url = engine.url.render_as_string(hide_password=False)
    acknowledged: list[int] = []
    chance = random.Random(2016)
    for _ in range(ROUNDS):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(len(written(engine)))],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert writer.stdout is not None
        for _ in range(chance.randint(1, 40)):  # let it commit a few, then kill it mid-stream
            line = writer.stdout.readline()
            assert line, "the writer stopped by itself"
            acknowledged.append(int(line))
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        acknowledged.extend(int(line) for line in writer.stdout.read().split())
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        version, actual = connection.execute(
            text("SELECT version, actual FROM period_value ORDER BY id LIMIT 1")
        ).one()
    audited = written(engine)
    assert audited == list(range(len(audited)))  # each commit once, none lost between
    assert set(acknowledged) <= set(audited)
    assert len(audited) - len(acknowledged) <= ROUNDS  # at most the one in flight each round
    assert version == 1 + len(audited)  # every audited commit bumped the value, and no other
    assert actual == audited[-1]


def written(engine: Engine) -> list[int]:
    """The counts the writers committed, in order, from their audit rows."""
    with engine.connect() as connection:
        return sorted(
            int(value)
            for value in connection.execute(
                text("SELECT new_value FROM audit_log WHERE actor = 'killed writer'")
            ).scalars()
        )
