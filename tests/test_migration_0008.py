"""Migration 0008 (issue 12) upgrades a council's 0007 database holding values in place: every
value is kept and the values that carry commentary gain their index (by period end), which
holds those values only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from conftest import engine_at_revision
from sqlalchemy import Engine, inspect, text

from metrics import store

INDEX = "ix_period_value_commented"


@pytest.fixture
def engine_at_0007(tmp_path: Path) -> Iterator[Engine]:
    """An empty database migrated only to 0007: SQLite file or a private PostgreSQL schema."""
    yield from engine_at_revision("0007", tmp_path)


def indexes(engine: Engine) -> dict[str, list[str]]:
    return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("period_value")}


def values(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT period, actual, commentary, status, version FROM period_value"
                 " ORDER BY period")
        ).all()  # fmt: skip
    return [tuple(r) for r in rows]


def test_a_0007_council_with_values_upgrades_keeping_every_value(engine_at_0007: Engine) -> None:
    with engine_at_0007.begin() as connection:
        connection.execute(
            text("INSERT INTO metric (code, title, definition, tier, responsible_officer,"
                 " responsible_email, unit, decimals, polarity, frequency, aggregation,"
                 " tolerance_is_percent, risk_impact, marking, data_source, definition_version,"
                 " data_only, version) VALUES ('CP01', 'Recycling', '', 'Corporate Plan', '', '',"
                 " 'percent', 1, 'higher', 'monthly', 'ratio', true, 2, 'OFFICIAL', '', 1, false,"
                 " 1)")
        )  # fmt: skip
        for month, actual, said in (("2016-02", 70.5, ""), ("2016-03", 71.2, "Wet")):
            connection.execute(
                text("INSERT INTO period_value (metric_id, period, fiscal_year, period_end,"
                     " actual, target, commentary, corrective_action, status, entered_by,"
                     " approved_by, return_reason, returned_by, outlier, outlier_note,"
                     " outlier_reviewed_by, version) SELECT id, :month, '2015-16', :end, :actual,"
                     " 80, :said, '', 'approved', 'a@x', 'b@x', '', '', false, '', '', 2"
                     " FROM metric"),
                {"month": month, "end": f"{month}-{28 if month == '2016-02' else 31}",
                 "actual": actual, "said": said},
            )  # fmt: skip
    assert INDEX not in indexes(engine_at_0007)
    store.upgrade(engine_at_0007)
    assert store.schema_revision(engine_at_0007) == "0008"
    assert indexes(engine_at_0007)[INDEX] == ["period_end", "metric_id"]
    assert values(engine_at_0007) == [
        ("2016-02", 70.5, "", "approved", 2),
        ("2016-03", 71.2, "Wet", "approved", 2),
    ]
    with engine_at_0007.connect() as connection:  # the index holds the commented value only
        if engine_at_0007.dialect.name == "sqlite":
            held = connection.execute(
                text(f"SELECT count(*) FROM period_value INDEXED BY {INDEX}"
                     " WHERE commentary <> '' AND period_end > '2000-01-01'")
            ).scalar_one()  # fmt: skip
            assert held == 1
            made = connection.execute(
                text("SELECT sql FROM sqlite_master WHERE name = :name"), {"name": INDEX}
            ).scalar_one()
        else:
            made = connection.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"
                     " AND schemaname = current_schema()"),
                {"name": INDEX},
            ).scalar_one()  # fmt: skip
    assert "WHERE" in made and "commentary" in made, made


def test_0008_downgrades_to_0007_and_up_again(engine_at_0007: Engine) -> None:
    store.upgrade(engine_at_0007)
    command.downgrade(store.alembic_config(engine_at_0007), "0007")
    assert store.schema_revision(engine_at_0007) == "0007"
    assert INDEX not in indexes(engine_at_0007)
    store.upgrade(engine_at_0007)
    assert INDEX in indexes(engine_at_0007)
