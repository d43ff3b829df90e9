"""The kept ratings' read (`views.kept` says which are good): one SELECT, by period and basis,
and by measure when the measures are few. No clearance filter is needed here: the caller joins
the rows to the measures the reader may see, so a row of another measure is never shown."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import Engine, and_, select
from sqlmodel import col

from metrics.models import KeptRating
from metrics.queries import among, driver_rows

# Above this many measures a read takes every kept row of the periods and drops the rest, as
# one list of 20,000 measure ids costs more to send than the rows it leaves out. PostgreSQL takes
# the list as one array (`among`): at XL a priority's 2,234 measures came in 47 ms by their ids
# and 143 ms as the whole month.
MANY = 2_000
MANY_ON_POSTGRESQL = 10_000


def kept_rows(
    engine: Engine,
    *,
    metric_ids: list[int],
    periods: list[str],
    approved_only: bool,
    rules: str,
    whole: bool,
    columns: list[str],
) -> pd.DataFrame:
    """Kept ratings of these periods under these rules and basis (`whole`: only those with
    every column), of these measures: metric_id, period, rated_today and `columns`."""
    conditions: list[Any] = [
        col(KeptRating.approved_only) == approved_only,
        col(KeptRating.rules) == rules,
        col(KeptRating.period).in_(periods),
    ]
    if whole:
        conditions.append(col(KeptRating.whole))
    if len(metric_ids) <= (MANY_ON_POSTGRESQL if engine.dialect.name == "postgresql" else MANY):
        conditions.append(among(engine, col(KeptRating.metric_id), metric_ids))
    named = ["metric_id", "period", "rated_today", *columns]
    query = select(*[col(getattr(KeptRating, name)) for name in named])
    with engine.connect() as connection:
        # Rows straight from the driver: building the frame from SQLAlchemy's rows took most of
        # a second for 20,000 measures.
        return driver_rows(connection, query.where(and_(*conditions)))
