"""Migration 0005 (issue 12) upgrades a council's 0004 database holding values in place: every
value is kept and the period values gain their (metric_id, period_end) index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from conftest import engine_at_revision
from sqlalchemy import Engine, inspect, text

from metrics import store

INDEX = "ix_period_value_metric_id_period_end"


@pytest.fixture
def engine_at_0004(tmp_path: Path) -> Iterator[Engine]:
    """An empty database migrated only to 0004: SQLite file or a private PostgreSQL schema."""
    yield from engine_at_revision("0004", tmp_path)


def indexes(engine: Engine) -> dict[str, list[str]]:
    return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("period_value")}


def test_a_0004_council_with_values_upgrades_keeping_every_value(engine_at_0004: Engine) -> None:
    with engine_at_0004.begin() as connection:
        connection.execute(
            text("INSERT INTO metric (code, title, definition, tier, responsible_officer,"
                 " responsible_email, unit, decimals, polarity, frequency, aggregation,"
                 " tolerance_is_percent, risk_impact, marking, data_source, definition_version,"
                 " data_only, version) VALUES ('CP01', 'Recycling', '', 'Corporate Plan', '', '',"
                 " 'percent', 1, 'higher', 'monthly', 'ratio', true, 2, 'OFFICIAL', '', 1, false,"
                 " 1)")
        )  # fmt: skip
        for month, actual in (("2016-02", 70.5), ("2016-03", 71.2)):
            connection.execute(
                text("INSERT INTO period_value (metric_id, period, fiscal_year, period_end,"
                     " actual, target, commentary, corrective_action, status, entered_by,"
                     " approved_by, return_reason, returned_by, outlier, outlier_note,"
                     " outlier_reviewed_by, version) SELECT id, :month, '2015-16', :end, :actual,"
                     " 80, 'Wet', '', 'approved', 'a@x', 'b@x', '', '', false, '', '', 2"
                     " FROM metric"),
                {"month": month, "end": f"{month}-{28 if month == '2016-02' else 31}",
                 "actual": actual},
            )  # fmt: skip
    assert INDEX not in indexes(engine_at_0004)
    store.upgrade(engine_at_0004)
    assert store.schema_revision(engine_at_0004) == "0008"
    assert indexes(engine_at_0004)[INDEX] == ["metric_id", "period_end"]
    with engine_at_0004.connect() as connection:
        rows = connection.execute(
            text("SELECT period, actual, commentary, status, version FROM period_value"
                 " ORDER BY period")
        ).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        ("2016-02", 70.5, "Wet", "approved", 2),
        ("2016-03", 71.2, "Wet", "approved", 2),
    ]


def test_0005_downgrades_to_0004_and_up_again(engine_at_0004: Engine) -> None:
    store.upgrade(engine_at_0004)
    command.downgrade(store.alembic_config(engine_at_0004), "0004")
    assert store.schema_revision(engine_at_0004) == "0004"
    assert INDEX not in indexes(engine_at_0004)
    store.upgrade(engine_at_0004)
    assert INDEX in indexes(engine_at_0004)
