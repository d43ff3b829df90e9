"""Migration 0007 (issue 12) adds the kept ratings and the triggers that forget a measure's kept
ratings whenever its values or template change; it keeps every value, and going back to 0006
removes the table and its triggers, after which values are written as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from conftest import engine_at_revision
from sqlalchemy import Engine, inspect, text

from metrics import store


@pytest.fixture
def engine_at_0006(tmp_path: Path) -> Iterator[Engine]:
    """An empty database migrated only to 0006: SQLite file or a private PostgreSQL schema."""
    yield from engine_at_revision("0006", tmp_path)


def with_a_value(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO metric (code, title, definition, tier, responsible_officer,"
                 " responsible_email, unit, decimals, polarity, frequency, aggregation,"
                 " tolerance_is_percent, risk_impact, marking, data_source, definition_version,"
                 " data_only, version) VALUES ('CP01', 'Recycling', '', 'Corporate Plan', '', '',"
                 " 'percent', 1, 'higher', 'monthly', 'ratio', true, 2, 'OFFICIAL', '', 1, false,"
                 " 1)")
        )  # fmt: skip
        connection.execute(
            text("INSERT INTO period_value (metric_id, period, fiscal_year, period_end, actual,"
                 " target, commentary, corrective_action, status, entered_by, approved_by,"
                 " return_reason, returned_by, outlier, outlier_note, outlier_reviewed_by,"
                 " version) SELECT id, '2016-03', '2015-16', '2016-03-31', 71.2, 80, 'Wet', '',"
                 " 'approved', 'a@x', 'b@x', '', '', false, '', '', 2 FROM metric")
        )  # fmt: skip


def keep_a_rating(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO kept_rating (metric_id, period, approved_only, whole, rated_today,"
                 " rules, risk_score) SELECT id, '2016-03', false, true, '2016-04-20', 'r', 0"
                 " FROM metric")
        )  # fmt: skip


def kept(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM kept_rating")).scalar_one())


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE period_value SET commentary = 'Dry'",
        "DELETE FROM period_value",
        "UPDATE metric SET polarity = 'lower'",
        "INSERT INTO period_value (metric_id, period, fiscal_year, period_end, actual, target,"
        " commentary, corrective_action, status, entered_by, approved_by, return_reason,"
        " returned_by, outlier, outlier_note, outlier_reviewed_by, version) SELECT id,"
        " '2016-02', '2015-16', '2016-02-29', 70, 80, '', '', 'draft', '', '', '', '', false,"
        " '', '', 1 FROM metric",
    ],
    ids=["a value changed", "a value deleted", "the template changed", "a value added"],
)
def test_after_0007_a_change_forgets_the_measures_kept_ratings(
    engine_at_0006: Engine, change: str
) -> None:
    with_a_value(engine_at_0006)
    store.upgrade(engine_at_0006)
    assert store.schema_revision(engine_at_0006) == "0008"
    keep_a_rating(engine_at_0006)
    assert kept(engine_at_0006) == 1
    with engine_at_0006.begin() as connection:
        connection.execute(text(change))
    assert kept(engine_at_0006) == 0


def test_0007_keeps_every_value_and_downgrades_to_0006_and_up_again(
    engine_at_0006: Engine,
) -> None:
    with_a_value(engine_at_0006)
    store.upgrade(engine_at_0006)
    with engine_at_0006.connect() as connection:
        rows = connection.execute(text("SELECT period, actual, version FROM period_value")).all()
    assert [tuple(r) for r in rows] == [("2016-03", 71.2, 2)]
    command.downgrade(store.alembic_config(engine_at_0006), "0006")
    assert "kept_rating" not in inspect(engine_at_0006).get_table_names()
    with engine_at_0006.begin() as connection:  # no trigger is left naming the dropped table
        connection.execute(text("UPDATE period_value SET commentary = 'Dry'"))
        connection.execute(text("UPDATE metric SET polarity = 'lower'"))
    store.upgrade(engine_at_0006)
    keep_a_rating(engine_at_0006)
    assert kept(engine_at_0006) == 1
