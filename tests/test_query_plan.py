"""The statements behind the status query read the period values through an index, never by a
full scan of the values table (issue 12), on a council of county shape: many measures, ten
years of monthly values, with the planner's statistics gathered (ANALYZE) as in service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

import numpy as np
import pytest
from conftest import TEST_DATABASE_URL
from sqlalchemy import Engine, event, insert, select, text

from metrics import periods, queries, store, views
from metrics.models import Metric, PeriodValue
from metrics.queries import kept as kept_queries

MEASURES, YEARS = 300, 10  # 36,000 values: enough for the planner to prefer an index
INDEX = "ix_period_value_metric_id_period_end"
T = TypeVar("T")


def county(engine: Engine) -> None:
    """MEASURES monthly measures with YEARS years of values each, bulk-inserted, then ANALYZE."""
    months = periods.months(periods.month_period(2007, 4), periods.month_period(2006 + YEARS, 3))
    actual = np.random.default_rng(12).normal(75, 5, size=(MEASURES, len(months)))
    with store.write(engine) as session:
        session.execute(
            insert(Metric),
            [{"code": f"M{n:04d}", "title": f"M{n}", "tier": "ME2E"} for n in range(MEASURES)],
        )  # fmt: skip
        ids = session.execute(select(Metric.id).order_by(Metric.code)).scalars().all()
        session.execute(
            insert(PeriodValue),
            [
                {"metric_id": metric_id, "period": month.label, "fiscal_year": month.fiscal_year,
                 "period_end": month.end, "actual": float(actual[row, col]), "target": 75.0,
                 "status": "approved"}
                for row, metric_id in enumerate(ids)
                for col, month in enumerate(months)
            ],
        )  # fmt: skip
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def statements_of_status(engine: Engine) -> list[tuple[str, object]]:
    """Every statement the status query sends that reads the period values, with its parameters."""
    seen, rated = reading_values(
        engine,
        lambda: views.status(
            engine, period="2016-03", clearance="OFFICIAL", today=date(2030, 1, 1)
        ),
    )
    assert len(rated) == MEASURES
    return seen


def reading_values(engine: Engine, read: Callable[[], T]) -> tuple[list[tuple[str, object]], T]:
    """Every statement `read` sends that reads the period values, with its parameters; and what
    it gave."""
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if "period_value" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        given = read()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen, given


def plan(engine: Engine, statement: str, parameters: object) -> str:
    """The planner's plan for one statement, as text."""
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        # PostgreSQL prefers a sequential scan for half a small table; what is checked is that
        # an index answers the statement (for every measure at once, the period_end one).
        cursor.execute("SET enable_seqscan = off")
        cursor.execute(f"EXPLAIN {statement}", parameters)
        return "\n".join(str(row[0]) for row in cursor.fetchall())


def uses_the_index(engine: Engine, statement: str, parameters: object) -> None:
    text_plan = plan(engine, statement, parameters)
    if engine.dialect.name == "sqlite":
        assert "SCAN period_value" not in text_plan, text_plan
        assert f"INDEX {INDEX}" in text_plan, text_plan  # USING (COVERING) INDEX
    else:
        assert "Seq Scan on period_value" not in text_plan, text_plan
        assert "Index" in text_plan and "ix_period_value" in text_plan, text_plan


def test_the_months_reported_are_read_from_either_end_of_the_period_end_index(
    engine: Engine,
) -> None:
    """The first and last months anything was reported (every page's month picker and its
    default), counting every value, the submitted or the approved ones: the period-end index
    walked in order from each end (with LIMIT 1 the walk stops at the first value that counts),
    never the values read whole or sorted."""
    county(engine)
    last = date(2006 + YEARS, 3, 31)
    for counted in ({}, {"submitted_only": True}, {"approved_only": True}):
        seen, span = reading_values(
            engine, lambda c=counted: queries.reported_span(engine, clearance="OFFICIAL", **c)
        )
        assert span == (date(2007, 4, 30), last) and len(seen) == 1
        text_plan = plan(engine, *seen[0])
        walks = [  # the steps that read the values table (SQLite, then PostgreSQL)
            line
            for line in text_plan.splitlines()
            if line.strip().startswith(("SCAN period_value", "SEARCH period_value"))
            or " on period_value" in line
        ]
        assert len(walks) == 2, text_plan  # one walk from each end
        for line in walks:
            assert "ix_period_value_period_end" in line, text_plan
        assert "TEMP B-TREE" not in text_plan and "Sort" not in text_plan, text_plan


def test_a_clearance_that_sees_no_measure_reads_no_value(engine: Engine) -> None:
    county(engine)  # every measure OFFICIAL: the public sees none of them
    with engine.begin() as connection:
        connection.execute(text("UPDATE metric SET marking = 'OFFICIAL'"))
    seen, span = reading_values(
        engine, lambda: queries.reported_span(engine, clearance="NOT PROTECTIVELY MARKED")
    )
    assert span == (None, None) and seen == []


def test_the_status_query_reads_values_through_their_index(engine: Engine) -> None:
    county(engine)
    statements = statements_of_status(engine)
    assert statements, "the status query reads the period values"
    for statement, parameters in statements:
        uses_the_index(engine, statement, parameters)


@pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite's planner, without the index")
def test_without_the_index_sqlite_reads_the_values_another_way(engine: Engine) -> None:
    """The check above can fail: drop the index and the plan no longer names it."""
    county(engine)
    with engine.begin() as connection:
        connection.execute(text(f"DROP INDEX {INDEX}"))
        connection.execute(text("ANALYZE"))
    plans = [plan(engine, s, p) for s, p in statements_of_status(engine)]
    assert plans and all(f"USING INDEX {INDEX}" not in p for p in plans)


@pytest.mark.parametrize("by", ["measure", "period"])
def test_kept_ratings_are_read_through_an_index(
    engine: Engine, by: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A month's kept ratings (views.kept): a part of the council by its measures (the key),
    the whole of a large one by its periods."""
    county(engine)
    views.status(engine, period="2016-03", clearance="OFFICIAL", today=date(2030, 1, 1))
    views.status(engine, period="2016-02", clearance="OFFICIAL", today=date(2030, 1, 1))
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    if by == "period":
        monkeypatch.setattr(kept_queries, "MANY", 0)
        monkeypatch.setattr(kept_queries, "MANY_ON_POSTGRESQL", 0)
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if "FROM kept_rating" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        rated = views.status(engine, period="2016-03", clearance="OFFICIAL", today=date(2030, 1, 1))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(rated) == MEASURES and len(seen) == 1
    text_plan = plan(engine, *seen[0])
    if engine.dialect.name == "sqlite":
        assert "SCAN kept_rating" not in text_plan, text_plan
        expected = "sqlite_autoindex_kept_rating" if by == "measure" else "ix_kept_rating_period"
        assert expected in text_plan, text_plan
    else:  # the planner picks either index for half a small table; never a sequential scan
        assert "Seq Scan on kept_rating" not in text_plan, text_plan
        assert "kept_rating_pkey" in text_plan or "ix_kept_rating_period" in text_plan, text_plan
