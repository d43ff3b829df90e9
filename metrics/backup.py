"""Backup and restore of the whole database: values, templates, audit trail, users, snapshots.

SQLite: the online backup API copies the database in one step under a read transaction, so a
backup taken while people write is a consistent copy of one moment (copying the file is not,
in WAL mode). PostgreSQL: `pg_dump --format=custom` of the app's schema, restored by
`pg_restore` in a single transaction. A restore checks the file first (what it is, its
integrity, its schema revision) and refuses to overwrite a database that holds data unless
told to; it brings an older backup up to date, and moves the data version past both databases'
counters so that no replica's cache mistakes the restored data for what it cached before.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, func, inspect, literal, select, text
from sqlmodel import SQLModel

from metrics import store
from metrics.models import DataVersion

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
PG_TIMEOUT_SECONDS = 3600
BOOKKEEPING = {"alembic_version", "data_version"}  # present in an empty database
# Derived rows, never copied: kept ratings are rated again as people read (views.kept).
DERIVED = {"kept_rating"}


class BackupError(RuntimeError):
    """A backup or restore refused or failed; the message says why, and nothing was changed."""


@dataclass(frozen=True)
class Copied:
    """What a backup wrote or a restore read: the file and its schema revision."""

    path: Path
    revision: str
    upgraded_to: str = ""


def backup(engine: Engine, target: Path) -> Copied:
    """Copy the database to `target` (refused if it exists), consistent while people write."""
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder")
    revision = store.schema_revision(engine)
    if revision is None:
        raise BackupError("the database has no schema yet: there is nothing to back up")
    if engine.dialect.name == "sqlite":
        _sqlite_backup(engine, target)
    else:
        _pg_dump(engine, target)
    return Copied(target, revision)


def restore(engine: Engine, source: Path, *, force: bool = False) -> Copied:
    """Replace the database with a backup, after checking it; refused over data unless forced."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist or is not a file")
    sqlite = engine.dialect.name == "sqlite"
    revision = _sqlite_revision(source) if sqlite else _pg_dump_revision(source)
    _require_known(engine, revision, source)
    if not force and holds_data(engine):
        raise BackupError(
            "the database holds data; restoring would replace all of it. Back it up first, "
            "then restore with --force"
        )
    before = store.data_version(engine) if store.schema_revision(engine) else 0
    if sqlite:
        _sqlite_restore(engine, source)
    else:
        _pg_restore(engine, source)
    store.upgrade(engine)  # a backup from an older release is brought up to date
    _move_data_version_past(engine, before)
    after = store.schema_revision(engine) or revision
    return Copied(source, revision, after if after != revision else "")


def holds_data(engine: Engine) -> bool:
    """Whether any table of the app's schema has a row (bookkeeping tables aside)."""
    present = set(inspect(engine).get_table_names())
    tables = [
        t for t in SQLModel.metadata.sorted_tables if t.name in present - BOOKKEEPING - DERIVED
    ]
    with engine.connect() as connection:
        return any(
            connection.execute(select(literal(1)).select_from(table).limit(1)).first()
            for table in tables
        )


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_backup(engine: Engine, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with engine.connect() as connection:
        source = _raw(connection)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # one step: a consistent copy of one moment
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
    problem = _integrity(partial)
    if problem:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its integrity check ({problem}); nothing was kept")
    os.replace(partial, target)


def _raw(connection: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under SQLAlchemy's, which has the backup API."""
    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def _integrity(path: Path) -> str:
    """'' when SQLite's integrity check passes, else what it found first."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found = connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as error:
        return str(error)
    finally:
        connection.close()
    return "" if found and found[0] == "ok" else str(found[0] if found else "no answer")


def _sqlite_revision(source: Path) -> str:
    with source.open("rb") as stream:
        if stream.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(f"{source} is not a SQLite backup of Line of Sight")
    problem = _integrity(source)
    if problem:
        raise BackupError(f"{source} is damaged ({problem}); nothing was restored")
    connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        row = None
    finally:
        connection.close()
    if not row:
        raise BackupError(f"{source} is a SQLite file but not a Line of Sight database")
    return str(row[0])


def _sqlite_restore(engine: Engine, source: Path) -> None:
    engine.dispose()  # no pooled connection keeps reading the old pages
    backup_source = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        with engine.connect() as connection:
            backup_source.backup(_raw(connection))
    finally:
        backup_source.close()
    engine.dispose()


# --- PostgreSQL -----------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} is not installed; install PostgreSQL's client tools "
            "(Debian: apt-get install postgresql-client)"
        )
    return found


def _pg_args(engine: Engine) -> tuple[list[str], dict[str, str]]:
    """The libpq database URL (password passed in the environment, not on the command line)
    and the schema the app uses, as pg_dump/pg_restore arguments."""
    url = engine.url
    with engine.connect() as connection:
        schema = str(connection.execute(text("SELECT current_schema()")).scalar())
    plain = url.set(drivername="postgresql", password=None, query={})
    env = {**os.environ, **({"PGPASSWORD": str(url.password)} if url.password else {})}
    return [f"--dbname={plain.render_as_string(hide_password=False)}", f"--schema={schema}"], env


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(  # noqa: S603 - our own tool paths and arguments, no shell
        command, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT_SECONDS, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def _pg_dump(engine: Engine, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    args, env = _pg_args(engine)
    command = [_pg_tool("pg_dump"), "--format=custom", f"--file={partial}", *args]
    try:
        _run(command, env, "pg_dump")
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)


def _pg_dump_revision(source: Path) -> str:
    with source.open("rb") as stream:
        if stream.read(len(PG_DUMP_MAGIC)) != PG_DUMP_MAGIC:
            raise BackupError(f"{source} is not a PostgreSQL backup (pg_dump --format=custom)")
    command = [_pg_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-"]
    out = _run([*command, str(source)], dict(os.environ), f"reading {source}")
    lines = out.splitlines()
    for number, line in enumerate(lines[:-1]):
        if line.startswith("COPY ") and "alembic_version" in line:
            return lines[number + 1].strip()
    raise BackupError(f"{source} is a PostgreSQL backup but not of a Line of Sight database")


def _pg_restore(engine: Engine, source: Path) -> None:
    args, env = _pg_args(engine)
    engine.dispose()
    command = [
        _pg_tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",  # a failure part-way leaves the database as it was
        *args,
        str(source),
    ]
    _run(command, env, "pg_restore")


# --- Both -----------------------------------------------------------------------------------


def _require_known(engine: Engine, revision: str, source: Path) -> None:
    """Refuse a backup whose schema this release does not know (made by a newer release)."""
    scripts = ScriptDirectory.from_config(store.alembic_config(engine))
    if revision not in {script.revision for script in scripts.walk_revisions()}:
        raise BackupError(
            f"{source} is at schema revision {revision}, which this release does not know: "
            "it was made by a newer release; upgrade Line of Sight first"
        )


def _move_data_version_past(engine: Engine, before: int) -> None:
    """Set the data version beyond both counters, so no cache keyed on it serves old data."""
    with store.write(engine) as session:
        row = session.get(DataVersion, 1)
        version = max(before, row.version if row else 0) + 1
        if row is None:
            session.add(DataVersion(id=1, version=version))
        else:
            row.version = version


# --- Moving to another database (SQLite to PostgreSQL) --------------------------------------

COPY_BATCH = 5_000


def copy_to(source: Engine, target: Engine) -> dict[str, int]:
    """Copy every row to an empty database (made or upgraded to this release's schema); the
    rows copied per table. Both must be at the same revision; the target must hold no data."""
    revision = store.schema_revision(source)
    if revision is None:
        raise BackupError("the database has no schema yet: there is nothing to copy")
    store.upgrade(target)
    if store.schema_revision(target) != revision:
        raise BackupError(
            f"the database is at revision {revision} and the target at "
            f"{store.schema_revision(target)}: run `python -m metrics upgrade` first"
        )
    if holds_data(target):
        raise BackupError("the target database holds data; copy only into an empty one")
    copied: dict[str, int] = {}
    with source.connect() as reading, store.write(target) as session:
        writing = session.connection()
        for table in SQLModel.metadata.sorted_tables:
            if table.name == "alembic_version" or table.name in DERIVED:
                continue
            if table.name == "data_version":
                writing.execute(table.delete())  # the target's own counter gives way
            # A measure aligned to another: its link is set once every measure exists.
            later = [
                c.name
                for c in table.columns
                if any(fk.column.table is table for fk in c.foreign_keys)
            ]
            rows = [dict(row._mapping) for row in reading.execute(select(table))]
            for start in range(0, len(rows), COPY_BATCH):
                batch = rows[start : start + COPY_BATCH]
                writing.execute(table.insert(), [{**r, **dict.fromkeys(later)} for r in batch])
            key = next(iter(table.primary_key.columns))
            for name in later:
                for row in rows:
                    if row[name] is not None:
                        writing.execute(
                            table.update().where(key == row[key.name]).values({name: row[name]})
                        )
            copied[table.name] = len(rows)
            if target.dialect.name == "postgresql" and _serial(table):
                quoted = writing.dialect.identifier_preparer.quote(table.name)
                following = select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()
                sequence = func.pg_get_serial_sequence(quoted, "id")
                writing.execute(select(func.setval(sequence, following, False)))
        store.bump_data_version(session)
    return copied


def _serial(table: Table) -> bool:
    """Whether the table's key is a generated integer id (PostgreSQL gives it a sequence)."""
    keys = list(table.primary_key.columns)
    return len(keys) == 1 and keys[0].name == "id" and keys[0].autoincrement in (True, "auto")
