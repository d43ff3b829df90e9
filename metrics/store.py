"""Engines, schema upgrades, transactions, the audit trail and the data version."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Any

from sqlalchemy import (
    CursorResult,
    Engine,
    Update,
    bindparam,
    create_engine,
    event,
    exc,
    insert,
    inspect,
    text,
    update,
)
from sqlmodel import Session, col, select

from metrics.models import AuditLog, DataVersion, KeptRating

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
# The advisory lock every PostgreSQL write holds: this number and the schema's, the same in
# every replica; councils kept in schemas of their own on one server do not queue for each other.
WRITE_LOCK_KEY = 7_042_016  # the Governance Committee report, 7 April 2016
WRITE_LOCK = "(:key, hashtext(current_schema()))"


class ConflictError(RuntimeError):
    """Somebody else changed the row since it was read; nothing was overwritten."""


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    """Alembic settings pointing at our migrations; the engine is handed over, not re-created."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Create the schema, or bring an older one up to date, keeping every row."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None if it has no schema yet."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


@contextmanager
def write(engine: Engine) -> Iterator[Session]:
    """One unit of work holding the write lock from its first statement; all or nothing.

    The lock is taken before anything is read, so what a write compares against (a version,
    an old value for the audit trail, whether a row exists) cannot change under it: SQLite
    starts with `BEGIN IMMEDIATE`, PostgreSQL takes a transaction-scoped advisory lock. Writers
    queue for each other (SQLite waits up to its busy timeout); readers are never blocked.
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            _lock_for_writing(session)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def try_write(engine: Engine) -> Iterator[Session | None]:
    """`write`, only if the write lock is free at once; otherwise None and nothing is done. For
    work that may be skipped, such as keeping a rating: a reader never waits behind a writer."""
    with Session(engine, expire_on_commit=False) as session:
        if not _try_lock_for_writing(session):
            session.rollback()
            yield None
            return
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def keep_ratings(
    engine: Engine, rows: Sequence[Mapping[str, Any]], *, whole: bool, since: int
) -> bool:
    """Write kept ratings (`views.kept`: derived rows, so neither audited nor a change to the
    data version) unless a writer holds the lock or the data version has moved past `since`;
    the lock is held while it is checked, so no write lands between. A row rated with every
    column replaces any kept row; one rated only for its RAG replaces only another such row or
    one kept under other rules or on another day. Whether they were written."""
    try:
        with try_write(engine) as session:
            if session is None:
                return False
            version = session.connection().execute(select(col(DataVersion.version))).scalar()
            if int(version or 0) != since:
                return False
            session.connection().execute(_kept_upsert(engine, whole), list(rows))
        return True
    except exc.DBAPIError as error:  # a read-only database user, say: pages still read
        log.warning("ratings not kept: %s", error.__class__.__name__)
        return False


def _kept_upsert(engine: Engine, whole: bool) -> Any:
    # The dialect's own INSERT, for its ON CONFLICT: imported here, so that a SQLite council
    # never loads PostgreSQL's dialect (42 ms of every command's start).
    name = "postgresql" if engine.dialect.name == "postgresql" else "sqlite"
    dialect = import_module(f"sqlalchemy.dialects.{name}")
    statement = dialect.insert(KeptRating)
    key = ["metric_id", "period", "approved_only"]
    replaced = {name: statement.excluded[name] for name in KeptRating.model_fields}
    if whole:
        return statement.on_conflict_do_update(index_elements=key, set_=replaced)
    held = KeptRating.__table__.c  # type: ignore[attr-defined]
    return statement.on_conflict_do_update(
        index_elements=key,
        set_=replaced,
        where=~held.whole
        | (held.rules != statement.excluded.rules)
        | (held.rated_today != statement.excluded.rated_today),
    )


def _try_lock_for_writing(session: Session) -> bool:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        query = text(f"SELECT pg_try_advisory_xact_lock{WRITE_LOCK}")
        return bool(connection.execute(query, {"key": WRITE_LOCK_KEY}).scalar())
    if connection.dialect.name != "sqlite":
        return True
    connection.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return True
    except exc.OperationalError:  # another writer holds it
        return False
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def _lock_for_writing(session: Session) -> None:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # pysqlite would begin a deferred transaction at the first INSERT; begin it ourselves.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        lock = text(f"SELECT pg_advisory_xact_lock{WRITE_LOCK}")
        connection.execute(lock, {"key": WRITE_LOCK_KEY})


def now() -> datetime:
    """The time stamps written to the audit trail, in UTC to the second.

    Aware, because SQLModel stores `datetime` fields as UTCDateTime, which refuses naive ones.
    """
    return datetime.now(UTC).replace(microsecond=0)


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    field_name: str = "",
    old_value: object = None,
    new_value: object = None,
    reason: str = "",
) -> None:
    """Append one row to the audit trail, inside the caller's transaction."""
    session.add(
        AuditLog(
            **audit_row(
                actor=actor,
                action=action,
                entity=entity,
                entity_key=entity_key,
                field_name=field_name,
                old_value=old_value,
                new_value=new_value,
                reason=reason,
            )
        )
    )


def audit_row(
    *,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    field_name: str = "",
    old_value: object = None,
    new_value: object = None,
    reason: str = "",
) -> dict[str, Any]:
    """One audit row's columns, for `audit_many`."""
    return {
        "at": now(),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_key": entity_key,
        "field_name": field_name,
        "old_value": None if old_value is None else str(old_value),
        "new_value": None if new_value is None else str(new_value),
        "reason": reason,
    }


def audit_many(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Append many audit rows (`audit_row`) in one statement, inside the caller's transaction."""
    if rows:
        session.connection().execute(insert(AuditLog), list(rows))


def bump_data_version(session: Session) -> None:
    """Mark that data changed, in the same transaction, so every replica's caches refresh."""
    statement = (
        update(DataVersion)
        .where(col(DataVersion.id) == 1)
        .values(version=col(DataVersion.version) + 1)
    )
    if _rows_changed(session, statement) == 0:
        session.add(DataVersion(id=1, version=1))


def data_version(engine: Engine) -> int:
    """The counter bumped by every write: one indexed read."""
    with Session(engine) as session:
        row = session.exec(select(DataVersion.version).where(DataVersion.id == 1)).first()
    return int(row or 0)


def _rows_changed(session: Session, statement: Update) -> int:
    """Run an UPDATE and say how many rows it changed."""
    result: CursorResult[Any] = session.connection().execute(statement)
    return result.rowcount


def versioned_update_many(
    session: Session, model: Any, rows: Sequence[tuple[int, int, Mapping[str, object]]]
) -> None:
    """Many `UPDATE ... WHERE id=? AND version=?`, (id, version seen, values) each: one
    executemany per set of columns changed, each row's version raised by one. ConflictError
    (and nothing of the caller's transaction is kept) unless every row matched."""
    groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
    for row_id, version, values in rows:
        named = {f"new_{k}": v for k, v in values.items()}
        groups.setdefault(tuple(sorted(values)), []).append(
            {"match_id": row_id, "match_version": version, "new_version": version + 1, **named}
        )
    for columns, params in groups.items():
        statement = (
            update(model)
            .where(model.id == bindparam("match_id"), model.version == bindparam("match_version"))
            .values(version=bindparam("new_version"), **{c: bindparam(f"new_{c}") for c in columns})
        )
        result: CursorResult[Any] = session.connection().execute(statement, params)
        if result.rowcount != len(params):
            raise ConflictError(
                f"{result.rowcount} of {len(params)} {model.__name__} rows were at the version "
                "seen: someone else changed the rest; reload to see their change, then try again"
            )


def versioned_update(
    session: Session, model: Any, row_id: int, version: int, **values: object
) -> None:
    """`UPDATE ... WHERE id=? AND version=?`; ConflictError if another user got there first."""
    statement = (
        update(model)
        .where(model.id == row_id, model.version == version)
        .values(version=version + 1, **values)
    )
    if _rows_changed(session, statement) != 1:
        raise ConflictError(
            f"{model.__name__} {row_id} was changed by someone else since you opened it; "
            "reload to see their change, then try again"
        )
