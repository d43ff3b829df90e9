"""Engines, schema upgrades, transactions, the audit trail and the data version."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, text, update
from sqlmodel import Session, select

from metrics.models import AuditLog, DataVersion

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000


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
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back everything on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


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
            at=now(),
            actor=actor,
            action=action,
            entity=entity,
            entity_key=entity_key,
            field_name=field_name,
            old_value=None if old_value is None else str(old_value),
            new_value=None if new_value is None else str(new_value),
            reason=reason,
        )
    )


def bump_data_version(session: Session) -> None:
    """Mark that data changed, in the same transaction, so every replica's caches refresh."""
    result = session.exec(  # type: ignore[call-overload]
        update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1)
    )
    if result.rowcount == 0:
        session.add(DataVersion(id=1, version=1))


def data_version(engine: Engine) -> int:
    """The counter bumped by every write: one indexed read."""
    with Session(engine) as session:
        row = session.exec(select(DataVersion.version).where(DataVersion.id == 1)).first()
    return int(row or 0)


def versioned_update(
    session: Session, model: type, row_id: int, version: int, **values: object
) -> None:
    """`UPDATE ... WHERE id=? AND version=?`; ConflictError if another user got there first."""
    result = session.exec(  # type: ignore[call-overload]
        update(model)
        .where(model.id == row_id, model.version == version)  # type: ignore[attr-defined]
        .values(version=version + 1, **values)
    )
    if result.rowcount != 1:
        raise ConflictError(
            f"{model.__name__} {row_id} was changed by someone else since you opened it; "
            "reload to see their change, then try again"
        )
