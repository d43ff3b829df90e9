"""Rows read by COPY on PostgreSQL (`queries.bulk`) are the frame the driver's rows give: every
type the app reads, NULL apart from empty text, awkward text intact, parameters quoted by the
driver, and a failing query raising with the connection left usable. On SQLite the rows are
read as before, so most of these run only with SCORECARD_TEST_DATABASE_URL set (CI's PostgreSQL
run); which way the app's reads go is checked on both."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest
from conftest import TEST_DATABASE_URL
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    func,
    insert,
    literal,
    select,
)
from sqlmodel.sql.sqltypes import AutoString

from metrics import queries
from metrics.models import Metric
from metrics.queries import bulk

postgres_only = pytest.mark.skipif(not TEST_DATABASE_URL, reason="COPY is PostgreSQL's")

TEXTS = [
    None,
    "",
    " ",
    "\\N",
    "NULL",
    "NaN",
    "t",
    "f",
    "0012",
    "1e3",
    "2017-03-31",
    'say "when"',
    "a,b;c\td",
    "first line\nsecond line\r\nthird",
    "back\\slash",
    "£1,234 é 漢字 🙂",
    "=SUM(A1:A9)",
    "x" * 5_000,
]
FLOATS = [None, 0.0, -0.0, 0.1 + 0.2, 1e300, -5e-324, 123456789.123456789, 1 / 3]
FLOATS += [float("nan"), float("inf"), float("-inf")]  # never stored by the app; read alike
# Each case: a column's type and its values, row by row; what is read is compared with what the
# driver's rows give for the same query.
CASES = {
    "text": (String(), TEXTS),
    "sqlmodel text": (AutoString(), TEXTS),
    "text, nulls only": (String(), [None] * 3),
    # more than the reader's block (1 MB), so that it splits the data between line breaks
    "text over many blocks": (String(), [f"row {i}\n{'y' * 600}\n" for i in range(6_000)]),
    "text, none null": (String(), ["a", "b", "c"]),
    "float": (Float(), FLOATS),
    "float, nulls only": (Float(), [None, None]),
    "integer": (Integer(), [0, -1, 2**31 - 1, 42]),
    "integer with nulls": (Integer(), [1, None, 3]),
    "boolean": (Boolean(), [True, False, True]),
    "boolean with nulls": (Boolean(), [True, None, False]),
    "date": (Date(), [date(2017, 3, 31), date(1900, 1, 1), date(9999, 12, 31)]),
    "date with nulls": (Date(), [date(2017, 3, 31), None]),
    "timestamp": (DateTime(), [datetime(2017, 3, 31, 23, 59, 59, 123456), None]),
}


def _driver(engine: Engine, query: object) -> pd.DataFrame:
    with engine.connect() as connection:
        return queries.fetched_rows(connection, query)


def _copied(engine: Engine, query: object) -> pd.DataFrame:
    with engine.connect() as connection:
        return bulk.copied_rows(connection, query)


def _table(engine: Engine, kind: object, values: list) -> Table:
    table = Table(
        "bulk_case",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("value", kind),  # type: ignore[arg-type]
    )
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(insert(table), [{"id": i, "value": v} for i, v in enumerate(values)])
    return table


@postgres_only
@pytest.mark.parametrize("case", CASES)
def test_copied_rows_are_the_drivers_rows(engine: Engine, case: str) -> None:
    kind, values = CASES[case]
    table = _table(engine, kind, values)
    query = select(table.c.id, table.c.value).order_by(table.c.id)
    with engine.connect() as connection:
        assert bulk.copies(connection, query)
    got, expected = _copied(engine, query), _driver(engine, query)
    pd.testing.assert_frame_equal(got, expected)
    assert got["value"].isna().tolist() == [
        v is None or (isinstance(v, float) and v != v) for v in values
    ]


@postgres_only
def test_no_rows_are_the_drivers_no_rows(engine: Engine) -> None:
    table = _table(engine, String(), ["a"])
    query = select(table.c.id, table.c.value).where(table.c.id > 5)
    pd.testing.assert_frame_equal(_copied(engine, query), _driver(engine, query))


@postgres_only
@pytest.mark.parametrize(
    ("kind", "readable"),
    [
        (Numeric(10, 2), False),  # the driver gives Decimals
        (DateTime(timezone=True), False),
        (Float(), True),
        (AutoString(), True),
    ],
)
def test_only_types_read_as_the_driver_reads_them_go_by_copy(
    engine: Engine, kind: object, readable: bool
) -> None:
    query = select(literal(1, Integer), literal(None, kind))  # type: ignore[arg-type]
    with engine.connect() as connection:
        assert bulk.copies(connection, query) is readable


@postgres_only
@pytest.mark.parametrize(
    "code",
    ["O'Brien", "x'); DROP TABLE metric; --", "\\'", "$$", "%(ids)s", "%s", "漢字"],
)
def test_parameters_are_quoted_by_the_driver(engine: Engine, code: str) -> None:
    table = _table(engine, String(), [code, "other"])
    query = select(table.c.id).where(table.c.value == code)
    assert _copied(engine, query)["id"].tolist() == [0]
    assert queries.metric_frame(engine, clearance="OFFICIAL-SENSITIVE", codes=[code]).empty
    with engine.connect() as connection:  # the table a hostile code names is still there
        assert connection.execute(select(func.count()).select_from(Metric)).scalar() == 0


@postgres_only
def test_a_list_of_ids_is_one_array_parameter(engine: Engine) -> None:
    table = _table(engine, String(), [str(i) for i in range(3_000)])
    query = select(table.c.value).where(queries.among(engine, table.c.id, list(range(0, 3_000, 7))))
    assert _copied(engine, query)["value"].tolist() == [str(i) for i in range(0, 3_000, 7)]


@postgres_only
def test_a_failing_query_raises_and_leaves_the_connection_usable(engine: Engine) -> None:
    import psycopg

    table = _table(engine, Integer(), [1, 0])
    query = select((literal(1) / table.c.value).label("share")).order_by(table.c.id)
    with engine.connect() as connection:
        with pytest.raises(psycopg.errors.DivisionByZero):
            bulk.copied_rows(connection, query)
        connection.rollback()
        assert connection.execute(select(literal(2))).scalar() == 2
        got = bulk.copied_rows(connection, select(table.c.value).order_by(table.c.id))
    assert got["value"].tolist() == [1, 0]


def test_the_apps_reads_go_by_copy_on_postgresql_only(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reads the speed depends on (the catalogue, the values, the kept ratings) go by COPY
    on PostgreSQL through psycopg, and row by row on SQLite; the structure's few hundred rows,
    and the places the catalogue names, are fetched (a COPY's statement and parse cost more)."""
    from datetime import date

    from metrics.queries import kept as kept_queries

    copied: list[list[str]] = []
    real = bulk.copied_rows

    def spy(connection, query):  # type: ignore[no-untyped-def]
        copied.append(list(query.selected_columns.keys()))
        return real(connection, query)

    monkeypatch.setattr(bulk, "copied_rows", spy)
    reads = [
        lambda: queries.structure_frames(engine),
        lambda: queries.metric_frame(engine, clearance="OFFICIAL-SENSITIVE"),
        lambda: queries.value_frame(
            engine, metric_ids=[1], first_end=date(2016, 4, 1), last_end=date(2017, 3, 31)
        ),
        lambda: kept_queries.kept_rows(
            engine,
            metric_ids=[1],
            periods=["2017-03"],
            approved_only=False,
            rules="",
            whole=True,
            columns=["rag", "actual", "explanation"],
        ),
    ]
    for read in reads:
        read()
    if engine.dialect.name == "postgresql":
        assert len(copied) == 3  # the catalogue, the values, the kept ratings
        assert ["kind", "id", "code", "name"] not in copied  # the places the catalogue names
        assert ["metric_id", "period", "rated_today", "rag", "actual", "explanation"] in copied
    else:
        assert copied == []
