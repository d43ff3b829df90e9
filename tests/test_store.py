"""The database layer: migrations, SQLite settings, transactions, version checks, audit, config."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, exc, func, select, text
from sqlmodel import Session, SQLModel

from metrics import config, store
from metrics.models import AuditLog, DataVersion, Metric, Priority


def add_priority(engine: Engine, name: str = "Places") -> int:
    with store.write(engine) as session:
        priority = Priority(code=name.lower(), name=name)
        session.add(priority)
        session.flush()
        return int(priority.id)


def test_upgrade_is_at_head_and_safe_to_repeat(engine: Engine) -> None:
    head = store.schema_revision(engine)
    add_priority(engine)
    store.upgrade(engine)
    assert store.schema_revision(engine) == head == "0008"
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(Priority)).scalar_one() == 1


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    engine = store.make_engine(f"sqlite:///{tmp_path}/wal.db")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 15_000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_a_failed_transaction_writes_nothing(engine: Engine) -> None:
    with pytest.raises(RuntimeError), store.write(engine) as session:
        session.add(Priority(code="homes", name="Homes"))
        session.flush()
        raise RuntimeError("half way")
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(Priority)).scalar_one() == 0


def test_versioned_update_refuses_a_stale_version_and_keeps_the_other_write(engine: Engine) -> None:
    with store.write(engine) as session:
        metric = Metric(code="CP01", title="Recycling", tier="Corporate Plan")
        session.add(metric)
        session.flush()
        row_id = int(metric.id)
    with store.write(engine) as session:
        store.versioned_update(session, Metric, row_id, 1, title="Recycling (theirs)")
    conflict = pytest.raises(store.ConflictError, match="changed by someone else")
    with conflict, store.write(engine) as session:
        store.versioned_update(session, Metric, row_id, 1, title="Recycling (mine)")
    with Session(engine) as session:
        saved = session.get(Metric, row_id)
        assert (saved.title, saved.version) == ("Recycling (theirs)", 2)


def test_audit_trail_is_append_only_in_the_database(engine: Engine) -> None:
    with store.write(engine) as session:
        store.audit(session, actor="a@b", action="create", entity="priority", entity_key="x")
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(exc.DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with Session(engine) as session:
        assert session.execute(select(AuditLog.actor)).scalar_one() == "a@b"


def test_data_version_counts_every_write(engine: Engine) -> None:
    assert store.data_version(engine) == 0
    for expected in (1, 2):
        with store.write(engine) as session:
            store.bump_data_version(session)
        assert store.data_version(engine) == expected
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(DataVersion)).scalar_one() == 1


def test_environment_database_url_beats_config_file(tmp_path: Path) -> None:
    settings_file = tmp_path / "config.toml"
    settings_file.write_text('[database]\nurl = "sqlite:///data/other.db"\n')
    from_file = config.load_settings(settings_file, environ={})
    overridden = config.load_settings(
        settings_file, environ={"SCORECARD_DATABASE_URL": "postgresql+psycopg://x@h/db"}
    )
    assert from_file.database_url == f"sqlite:///{config.PROJECT_ROOT / 'data/other.db'}"
    assert overridden.database_url == "postgresql+psycopg://x@h/db"


def test_shipped_config_matches_the_documented_defaults() -> None:
    shipped = config.load_settings(config.DEFAULT_CONFIG, environ={})
    assert shipped.financial_year_start_month == 4
    assert shipped.rating.default_tolerance_percent == 5.0
    assert shipped.rating.stable_threshold_percent == 1.0
    assert shipped.entry_deadline_working_days == 10
    assert shipped.identity_mode == "demo"


def test_migrations_build_exactly_the_schema_the_models_describe(engine: Engine) -> None:
    """A model changed without a migration would leave a council's database behind the code."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
