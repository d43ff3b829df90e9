"""Migrations 0002 (snapshots) and 0003 (data entry, approval, targets) upgrade a council's 0001
database in place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import engine_at_revision
from sqlalchemy import Engine, text

from metrics import store


@pytest.fixture
def engine_at_0001(tmp_path: Path) -> Iterator[Engine]:
    """An empty database migrated only to 0001: SQLite file or a private PostgreSQL schema."""
    yield from engine_at_revision("0001", tmp_path)


def test_a_0001_database_with_values_upgrades_keeping_every_row(engine_at_0001: Engine) -> None:
    with engine_at_0001.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO metric (code, title, definition, tier, responsible_officer, unit,"
                " decimals, polarity, frequency, aggregation, tolerance_is_percent, risk_impact,"
                " marking, data_source, definition_version, data_only, version) VALUES"
                " ('CP01', 'Recycling', '', 'Corporate Plan', 'Head of Waste', 'percent', 1,"
                " 'higher', 'monthly', 'ratio', true, 2, 'OFFICIAL', '', 1, false, 3)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO period_value (metric_id, period, fiscal_year, period_end, actual,"
                " target, commentary, corrective_action, status, entered_by, approved_by,"
                " version) SELECT id, '2016-03', '2015-16', '2016-03-31', 71.2, 80, 'Wet March',"
                " '', 'approved', 'a@x', 'b@x', 4 FROM metric"
            )
        )
    store.upgrade(engine_at_0001)
    assert store.schema_revision(engine_at_0001) == "0008"
    with engine_at_0001.connect() as connection:
        metric = connection.execute(
            text("SELECT code, responsible_officer, responsible_email, version FROM metric")
        ).one()
        value = connection.execute(
            text(
                "SELECT actual, commentary, status, version, return_reason, outlier,"
                " outlier_note, submitted_at FROM period_value"
            )
        ).one()
        plans = connection.execute(text("SELECT count(*) FROM target_plan")).scalar_one()
    assert tuple(metric) == ("CP01", "Head of Waste", "", 3)
    assert tuple(value) == (71.2, "Wet March", "approved", 4, "", False, "", None)
    assert plans == 0
