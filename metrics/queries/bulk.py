"""Rows read in bulk on PostgreSQL: `COPY (query) TO STDOUT` as CSV, parsed by Arrow's reader.

At XL (20,000 measures) a month's kept ratings are 20,000 rows of 36 columns: psycopg made a
Python object of each of their 720,000 values and pandas then copied them into columns and
into Arrow strings, 0.25 s. COPY sends the same rows as text and Arrow parses them in C++,
typed by the query's own column types, into the frame the driver's rows give (`driver_rows`,
which uses this for a query whose every column is of a type here; figures in
docs/performance.md). COPY takes no parameters on the server, so psycopg binds them on the
client (`mogrify`): each value is quoted by the driver, never pasted into the statement by us.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
from pyarrow import csv
from sqlalchemy import Connection
from sqlalchemy import types as sqltypes
from sqlmodel.sql.sqltypes import AutoString

from metrics.later import Later

if TYPE_CHECKING:
    import psycopg
else:  # only a PostgreSQL council reads by COPY: SQLite's never loads psycopg (86 ms)
    psycopg = Later("psycopg")

# PostgreSQL's CSV writes a NULL as nothing and an empty text as "", which the reader keeps apart.
STATEMENT = "COPY ({query}) TO STDOUT WITH (FORMAT csv)"


def arrow_type(kind: Any) -> pa.DataType | None:
    """How a column of this SQLAlchemy type is parsed to give what psycopg gives, or None when
    it is not (a Decimal, a time zone, anything else: those queries are read row by row)."""
    if isinstance(kind, AutoString):  # SQLModel's text, which converts nothing
        kind = kind.impl
    if isinstance(kind, sqltypes.Boolean):
        return pa.bool_()
    if isinstance(kind, sqltypes.Integer):
        return pa.int64()
    if isinstance(kind, sqltypes.Float):
        return pa.float64()
    if isinstance(kind, sqltypes.String) and not isinstance(kind, sqltypes.Enum):
        return pa.large_string()  # as pandas holds text: no copy to convert it
    if isinstance(kind, sqltypes.Date):
        return pa.date32()
    if isinstance(kind, sqltypes.DateTime) and not kind.timezone:
        return pa.timestamp("us")
    return None


def copies(connection: Connection, query: Any) -> bool:
    """Whether the query's rows are read by COPY: on PostgreSQL through psycopg, when each of
    its columns is of a type `copied_rows` reads as the driver does."""
    dialect = connection.dialect
    if (dialect.name, dialect.driver) != ("postgresql", "psycopg"):
        return False
    return all(arrow_type(column.type) is not None for column in query.selected_columns)


def copied_rows(connection: Connection, query: Any) -> pd.DataFrame:
    """The query's rows, sent by COPY: the frame `queries.fetched_rows` builds from the
    driver's rows, column for column and dtype for dtype."""
    names = list(query.selected_columns.keys())
    types = {
        name: arrow_type(column.type)
        for name, column in zip(names, query.selected_columns, strict=True)
    }
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection), "COPY is read through psycopg"
    select, parameters = str(compiled), compiled.params
    cursor = psycopg.ClientCursor(driver)
    # SQLAlchemy's listeners (echo, the statement counters, the query plan tests) are told of
    # the SELECT the COPY runs, as of any statement sent through SQLAlchemy.
    connection.dispatch.before_cursor_execute(connection, cursor, select, parameters, None, False)
    data = _copy_out(driver, STATEMENT.format(query=cursor.mogrify(select, parameters)))
    if not data:
        return pd.DataFrame.from_records([], columns=names)
    table = csv.read_csv(
        pa.py_buffer(data),
        read_options=csv.ReadOptions(column_names=names),
        # a line break inside a quoted text (a commentary) is not the row's end, even where
        # the reader splits the data into blocks to parse them side by side
        parse_options=csv.ParseOptions(newlines_in_values=True),
        convert_options=csv.ConvertOptions(
            column_types=types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )
    frame = table.to_pandas()
    # A column of NULLs only is a column of None, as pandas builds it from the driver's rows.
    for name in names:
        if table.column(name).null_count == table.num_rows:
            frame[name] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame


def _copy_out(driver: psycopg.Connection[Any], statement: str) -> bytes:
    """What COPY ... TO STDOUT sends, read from libpq directly: psycopg's `Copy` spent 3 µs on
    each row, more than the server took to send it. Blocking while it reads, as `Copy` is."""
    pgconn, encoding = driver.pgconn, driver.info.encoding
    nonblocking, pgconn.nonblocking = pgconn.nonblocking, 0
    try:
        pgconn.send_query(statement.encode(encoding))
        started = pgconn.get_result()
        if started is None or started.status != psycopg.pq.ExecStatus.COPY_OUT:
            _drain(pgconn)
            raise _error(started, encoding)
        parts = []
        while True:
            size, part = pgconn.get_copy_data(0)
            if size < 0:  # the end of the rows
                break
            parts.append(bytes(part))
        ended = pgconn.get_result()
        _drain(pgconn)
        if ended is not None and ended.status != psycopg.pq.ExecStatus.COMMAND_OK:
            raise _error(ended, encoding)  # the query failed part way (a division by zero)
        return b"".join(parts)
    finally:
        pgconn.nonblocking = nonblocking


def _drain(pgconn: Any) -> None:
    """Read what results are left, so that the connection takes the next statement."""
    while pgconn.get_result() is not None:
        pass


def _error(result: Any, encoding: str) -> Exception:
    if result is None:
        return psycopg.errors.OperationalError("COPY sent no result")
    return psycopg.errors.error_from_result(result, encoding=encoding)
