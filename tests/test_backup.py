"""`python -m metrics backup | restore`: every row comes back, refusals change nothing, and a
backup taken while four writers run restores to a complete, consistent database. On SQLite,
or on PostgreSQL (pg_dump/pg_restore) with SCORECARD_TEST_DATABASE_URL."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from committee_council import RATED_ON, build, restate
from sqlalchemy import Engine, select, text
from sqlmodel import Session, SQLModel

from metrics import backup, cli, config, snapshots, store
from metrics.backup import BackupError
from metrics.models import AuditLog, PeriodValue

WRITERS, SECONDS_OF_WRITING = 4, 2.0

# The SQLite runs need nothing more; PostgreSQL's need its client tools.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("SCORECARD_TEST_DATABASE_URL")) and not shutil.which("pg_dump"),
    reason="pg_dump is not installed (Debian: postgresql-client)",
)


def every_row(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows in primary-key order, the bookkeeping of versions aside."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row)
                for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns)
                ).all()
            ]
            for table in SQLModel.metadata.sorted_tables
            if table.name not in backup.BOOKKEEPING | backup.DERIVED
        }


@pytest.fixture
def council(engine: Engine) -> Engine:
    """A council with values, a snapshot and a restatement (audit rows), and a user."""
    build(engine)
    snapshots.freeze(
        engine, period="2016-03", title="Q4", actor="officer@example.gov.uk", today=RATED_ON
    )
    restate(engine, "CP01", "2016-03", actual=51.0, reason="late return")
    return engine


def test_a_restored_backup_holds_every_row_and_moves_the_data_version_on(
    council: Engine, tmp_path: Path
) -> None:
    kept = every_row(council)
    copied = backup.backup(council, tmp_path / "backup.db")
    assert copied.revision == store.schema_revision(council)
    restate(council, "CP02", "2016-03", actual=1.0, reason="a change after the backup")
    changed_version = store.data_version(council)
    assert every_row(council) != kept
    backup.restore(council, tmp_path / "backup.db", force=True)
    assert every_row(council) == kept
    assert store.data_version(council) > changed_version  # no cache keyed on it serves old data


def test_restore_over_data_is_refused_unless_forced_and_changes_nothing(
    council: Engine, tmp_path: Path
) -> None:
    backup.backup(council, tmp_path / "backup.db")
    restate(council, "CP02", "2016-03", actual=1.0, reason="a change after the backup")
    before = every_row(council)
    with pytest.raises(BackupError, match=r"holds data.*--force"):
        backup.restore(council, tmp_path / "backup.db")
    assert every_row(council) == before


def test_a_backup_never_overwrites_a_file(council: Engine, tmp_path: Path) -> None:
    target = tmp_path / "exists.db"
    target.write_bytes(b"keep me")
    with pytest.raises(BackupError, match="already exists"):
        backup.backup(council, target)
    assert target.read_bytes() == b"keep me"


def _random_bytes(path: Path, _good: Path) -> None:
    path.write_bytes(b"PK\x03\x04 not a database at all" * 10)


def _truncated(path: Path, good: Path) -> None:
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])


def _other_sqlite(path: Path, _good: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")


def _newer_release(path: Path, good: Path) -> None:
    shutil.copy(good, path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")


SQLITE_REFUSALS: list[tuple[str, Callable[[Path, Path], None], str]] = [
    ("random bytes", _random_bytes, "is not a SQLite backup"),
    ("half a backup", _truncated, "damaged"),
    ("another program's SQLite file", _other_sqlite, "not a Line of Sight database"),
    ("a backup from a newer release", _newer_release, "newer release"),
]


@pytest.mark.parametrize(
    ("make", "message"), [case[1:] for case in SQLITE_REFUSALS], ids=[c[0] for c in SQLITE_REFUSALS]
)
def test_a_file_that_is_not_a_good_backup_is_refused_and_changes_nothing(
    council: Engine, tmp_path: Path, make: Callable[[Path, Path], None], message: str
) -> None:
    if council.dialect.name != "sqlite":
        pytest.skip("SQLite's files; PostgreSQL's dumps are checked below")
    good = tmp_path / "good.db"
    backup.backup(council, good)
    before = every_row(council)
    make(tmp_path / "bad.db", good)
    with pytest.raises(BackupError, match=message):
        backup.restore(council, tmp_path / "bad.db", force=True)
    assert every_row(council) == before


def test_a_postgresql_restore_refuses_what_pg_dump_did_not_write(
    council: Engine, tmp_path: Path
) -> None:
    if council.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's dumps")
    (tmp_path / "bad.dump").write_bytes(b"SQLite format 3\x00 and so on")
    with pytest.raises(BackupError, match="not a PostgreSQL backup"):
        backup.restore(council, tmp_path / "bad.dump", force=True)


def test_a_backup_restores_into_a_new_empty_database(
    council: Engine, make_engine: Callable[[], Engine], tmp_path: Path
) -> None:
    if council.dialect.name != "sqlite":
        pytest.skip("a PostgreSQL dump restores into the schema it was taken from")
    backup.backup(council, tmp_path / "backup.db")
    fresh = store.make_engine(f"sqlite:///{tmp_path / 'new' / 'scorecard.db'}")
    backup.restore(fresh, tmp_path / "backup.db")
    assert every_row(fresh) == every_row(council)
    fresh.dispose()


def test_copy_to_moves_every_row_to_an_empty_database_that_then_takes_new_rows(
    council: Engine, make_engine: Callable[[], Engine]
) -> None:
    target = make_engine()  # on PostgreSQL, another schema: how SQLite moves to PostgreSQL too
    copied = backup.copy_to(council, target)
    assert every_row(target) == every_row(council)
    assert copied["period_value"] == len(every_row(council)["period_value"])
    restate(target, "CP02", "2016-03", actual=2.0, reason="the first change after the move")
    assert len(every_row(target)["audit_log"]) == len(every_row(council)["audit_log"]) + 1
    with pytest.raises(BackupError, match="target database holds data"):
        backup.copy_to(council, target)


# --- The command line ----------------------------------------------------------------------


def test_the_command_line_backs_up_and_restores(
    council: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("SCORECARD_DATABASE_URL", council.url.render_as_string(hide_password=False))
    config.settings.cache_clear()
    file = tmp_path / "backup.db"
    assert cli.main(["backup", str(file)]) == 0
    assert capsys.readouterr().out.startswith(f"Backed up to {file} (schema revision ")
    assert cli.main(["restore", str(file)]) == 1
    assert "holds data" in capsys.readouterr().err
    assert cli.main(["restore", str(file), "--force"]) == 0
    assert capsys.readouterr().out.startswith(f"Restored {file}")
    assert cli.main(["restore", str(tmp_path / "missing.db")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "does not exist" in err and err.count("\n") == 1
    config.settings.cache_clear()


# --- A backup while people write ------------------------------------------------------------


def write_steadily(url: str, worker: int, seconds: float, start: Any) -> int:
    """Bump one value again and again, each bump audited in its own transaction; how many."""
    engine = store.make_engine(url)
    with Session(engine) as session:
        value_id = (
            session.execute(select(PeriodValue.id).order_by(PeriodValue.id)).scalars().all()[worker]
        )
    start.wait(timeout=60)
    done, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        with store.write(engine) as session:
            held = session.get(PeriodValue, value_id)
            assert held is not None
            store.versioned_update(session, PeriodValue, value_id, held.version, actual=done)
            store.audit(
                session, actor=f"writer {worker}", action="update", entity="period_value",
                entity_key=str(value_id), field_name="actual", new_value=done,
            )  # fmt: skip
            store.bump_data_version(session)
        done += 1
    engine.dispose()
    return done


def consistent(engine: Engine) -> list[str]:
    """Each written value's version is one more than its audit rows by the writers, and its
    actual is the last count written: what a torn copy would break."""
    wrong = []
    with Session(engine) as session:
        audited = dict(
            session.execute(
                text(
                    "SELECT entity_key, count(*) FROM audit_log "
                    "WHERE actor LIKE 'writer %' GROUP BY entity_key"
                )
            ).all()
        )
        for key, count in audited.items():
            held = session.get(PeriodValue, int(key))
            assert held is not None
            if held.version != count + 1 or held.actual != count - 1:
                wrong.append(f"value {key}: version {held.version}, actual {held.actual}, {count}")
    return wrong


@pytest.mark.slow  # four spawned processes: `make faults`
def test_a_backup_taken_while_four_writers_run_restores_complete_and_consistent(
    engine: Engine, tmp_path: Path
) -> None:
    build(engine)
    url = engine.url.render_as_string(hide_password=False)
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager, spawn.Pool(WRITERS) as pool:
        start = manager.Barrier(WRITERS + 1)
        jobs = [(url, n, SECONDS_OF_WRITING, start) for n in range(WRITERS)]
        running = pool.starmap_async(write_steadily, jobs)
        start.wait(timeout=60)
        time.sleep(SECONDS_OF_WRITING / 2)
        with Session(engine) as session:  # every write acknowledged before the backup began
            acknowledged = session.execute(
                select(AuditLog.entity_key).where(AuditLog.actor.like("writer %"))  # type: ignore[attr-defined]
            ).all()
        backup.backup(engine, tmp_path / "live.db")
        written = running.get(timeout=120)
    assert all(count > 0 for count in written), written
    assert not consistent(engine)
    backup.restore(engine, tmp_path / "live.db", force=True)
    assert not consistent(engine), consistent(engine)
    with Session(engine) as session:
        restored = session.execute(
            select(AuditLog.entity_key).where(AuditLog.actor.like("writer %"))  # type: ignore[attr-defined]
        ).all()
    assert len(restored) >= len(acknowledged) > 0
    assert len(restored) < sum(written)  # the copy is of a moment mid-way, not the end
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
