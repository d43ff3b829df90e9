"""Migration 0008 (issue 12) gives each kept rating the commentary its row shows, on a council's
0007 database: every value is kept, the kept ratings (derived, with no commentary to read) are
emptied to be rated again, and it downgrades and upgrades again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from conftest import engine_at_revision
from sqlalchemy import Engine, inspect, text

from metrics import store, views
from metrics.config import Settings


@pytest.fixture
def engine_at_0007(tmp_path: Path) -> Iterator[Engine]:
    """An empty database migrated only to 0007: SQLite file or a private PostgreSQL schema."""
    yield from engine_at_revision("0007", tmp_path)


def kept_columns(engine: Engine) -> list[str]:
    return [c["name"] for c in inspect(engine).get_columns("kept_rating")]


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_0007_council_upgrades_keeping_every_value_and_rates_again(
    engine_at_0007: Engine,
) -> None:
    with engine_at_0007.begin() as connection:
        connection.execute(
            text("INSERT INTO metric (code, title, definition, tier, responsible_officer,"
                 " responsible_email, unit, decimals, polarity, frequency, aggregation,"
                 " tolerance_is_percent, risk_impact, marking, data_source, definition_version,"
                 " data_only, version) VALUES ('CP01', 'Recycling', '', 'Corporate Plan', '', '',"
                 " 'percent', 1, 'higher', 'monthly', 'last', true, 2, 'OFFICIAL', '', 1, false,"
                 " 1)")
        )  # fmt: skip
        for month, actual, said in (("2016-02", 70.5, "Wet"), ("2016-03", 71.2, "")):
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
        connection.execute(  # a rating kept by 0007, with no commentary to read
            text("INSERT INTO kept_rating (metric_id, period, approved_only, whole, rated_today,"
                 " rules, risk_score) SELECT id, '2016-03', false, true, '2026-12-01', 'old', 0"
                 " FROM metric")
        )  # fmt: skip
    assert "latest_commentary" not in kept_columns(engine_at_0007)
    store.upgrade(engine_at_0007)
    assert store.schema_revision(engine_at_0007) == "0008"
    assert "latest_commentary" in kept_columns(engine_at_0007)
    assert count(engine_at_0007, "kept_rating") == 0 and count(engine_at_0007, "period_value") == 2
    month = views.read_month(engine_at_0007, period="2016-03", clearance="OFFICIAL",
                             today=date(2026, 12, 1), settings=Settings())  # fmt: skip
    assert month.status["latest_commentary"].tolist() == ["February 2016: Wet"]
    assert count(engine_at_0007, "kept_rating") == 1  # rated again, and kept with its commentary
    again = views.read_month(engine_at_0007, period="2016-03", clearance="OFFICIAL",
                             today=date(2026, 12, 1), settings=Settings())  # fmt: skip
    assert again.status["latest_commentary"].tolist() == ["February 2016: Wet"]


def test_0008_downgrades_to_0007_and_up_again(engine_at_0007: Engine) -> None:
    store.upgrade(engine_at_0007)
    command.downgrade(store.alembic_config(engine_at_0007), "0007")
    assert store.schema_revision(engine_at_0007) == "0007"
    assert "latest_commentary" not in kept_columns(engine_at_0007)
    store.upgrade(engine_at_0007)
    assert "latest_commentary" in kept_columns(engine_at_0007)
