"""One measure's history, or many: every period it was due, each rated exactly as `status()`
rates its month, from the values that status reads (`rated.value_window`), in one pipeline
call."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from metrics import due_rows, periods, queries
from metrics.config import Settings
from metrics.config import settings as configured
from metrics.pipeline import ALL_STATUS_COLUMNS, empty_status
from metrics.views.rated import (
    HISTORY_YEARS,
    latest_reported_month,
    rate,
    value_window,
    with_latest_commentary,
)


def metric_history(
    engine: Engine,
    *,
    code: str,
    clearance: str,
    until: str | None = None,
    today: date | None = None,
    settings: Settings | None = None,
    approved_only: bool = False,
) -> pd.DataFrame:
    """Every period of one metric due from its active_from (else its first value, else the first
    month anything visible was reported) to the month `until` (default: the latest reported
    month or its last value, whichever is later), within active_to, each rated exactly as
    `status()` rates it: a period with no value is Missing or Overdue. Empty when the clearance
    may not see the metric, so a sensitive code reads like an unknown one."""
    return metric_histories(
        engine,
        codes=[code],
        clearance=clearance,
        until=until,
        today=today,
        settings=settings,
        approved_only=approved_only,
    )


def metric_histories(
    engine: Engine,
    *,
    codes: list[str],
    clearance: str,
    until: str | None = None,
    today: date | None = None,
    settings: Settings | None = None,
    approved_only: bool = False,
) -> pd.DataFrame:
    """`metric_history` of each of these codes the clearance may see, rated in one call of the
    pipeline (each period as if it were a metric of its own, from the values `status()` reads
    for its month); ordered by code, then period."""
    settings = settings or configured()
    fy_start = settings.financial_year_start_month
    metrics = queries.metric_frame(engine, clearance=clearance, codes=codes)
    if metrics.empty:
        return with_latest_commentary(empty_status(), pd.DataFrame())
    values = queries.value_frame(
        engine,
        metric_ids=metrics["metric_id"].tolist(),
        first_end=date(1, 1, 1),
        last_end=date(9999, 12, 31),
        approved_only=approved_only,
    )
    reported = _Reported(engine, clearance, fy_start)
    dues, real_ids = [], []
    for place in range(len(metrics)):
        metric = metrics.iloc[[place]]
        real_id = int(metric["metric_id"].iloc[0])
        own = values[values["metric_id"] == real_id]
        span = _history_span(metric, own, until, reported=reported, fy_start=fy_start)
        if span:
            dues.append(due_rows.history_due(metric, span, fy_start, settings.deadline))
            real_ids += [real_id] * len(span)
    if not dues:
        return with_latest_commentary(empty_status(), pd.DataFrame())
    due = pd.concat(dues, ignore_index=True).assign(metric_id=np.arange(len(real_ids)))
    real = np.asarray(real_ids)
    rated = rate(due, _windows(due, real, values, fy_start), today, settings)
    rated["metric_id"] = real[rated["metric_id"].to_numpy()]
    rated = rated.sort_values(["code", "period_end"], kind="stable").reset_index(drop=True)
    rated = rated[ALL_STATUS_COLUMNS]
    return with_latest_commentary(rated, values)  # as a status row shows


def _day_keys(metric_id: np.ndarray, ends: object) -> np.ndarray:
    """One sortable number per (metric, period end): the metric first, then the day."""
    days = np.asarray(ends, dtype="datetime64[D]").astype(np.int64) + 1_000_000
    return np.asarray(metric_id, dtype=np.int64) * 10_000_000 + days


def _windows(
    due: pd.DataFrame, real: np.ndarray, values: pd.DataFrame, fy_start: int
) -> pd.DataFrame:
    """Each due period (keyed by its row, rated as if it were a metric of its own; `real`: its
    measure) with the values `status()` reads for its month: its measure's, in its
    `value_window`. A bounded window per period keeps a history linear in its length, where
    every value for every period was quadratic."""
    keyed = _day_keys(values["metric_id"].to_numpy(), list(values["period_end"]))
    order = np.argsort(keyed, kind="stable")
    ordered, keyed = values.iloc[order].drop(columns="metric_id"), keyed[order]
    bounds = {y: value_window(y, fy_start, HISTORY_YEARS) for y in due["fiscal_year"].unique()}
    first = np.searchsorted(
        keyed, _day_keys(real, [bounds[y][0] for y in due["fiscal_year"]]), side="left"
    )
    last = np.searchsorted(
        keyed, _day_keys(real, [bounds[y][1] for y in due["fiscal_year"]]), side="right"
    )
    sizes = last - first
    # Row numbers first..last-1 for each period, all at once: a running count within each run.
    rows = np.repeat(first - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())
    keys = np.repeat(due["metric_id"].to_numpy(), sizes)
    return ordered.iloc[rows].assign(metric_id=keys).reset_index(drop=True)


class _Reported:
    """The months anything visible was reported in, read once for many histories, if needed."""

    def __init__(self, engine: Engine, clearance: str, fy_start: int) -> None:
        self._engine, self._clearance, self._fy_start = engine, clearance, fy_start
        self._latest: list[str | None] = []
        self._first: list[date | None] = []

    def latest(self) -> str | None:
        """The latest reported month (the dashboard's default period)."""
        if not self._latest:
            self._latest.append(
                latest_reported_month(self._engine, self._fy_start, clearance=self._clearance)
            )
        return self._latest[0]

    def first(self) -> date | None:
        """The first period end with a value of a measure the clearance may see."""
        if not self._first:
            self._first.append(queries.reported_span(self._engine, clearance=self._clearance)[0])
        return self._first[0]


def _history_span(
    metric: pd.DataFrame,
    values: pd.DataFrame,
    until: str | None,
    *,
    reported: _Reported,
    fy_start: int,
) -> list[periods.Period]:
    """The metric's periods reported in the months from its start to `until` while it is active
    (a quarter or year reports in its last month, as `status()` has it)."""
    ends = [pd.Timestamp(end).date() for end in values["period_end"]]
    if until is not None:
        last = periods.month_for(until, fy_start)
    else:
        latest = reported.latest()
        candidates = [periods.month_for(latest, fy_start)] if latest else []
        candidates += [periods.month_of(max(ends), fy_start)] if ends else []
        if not candidates:
            return []
        last = max(candidates, key=lambda month: month.end)
    active_from = metric["active_from"].iloc[0]
    if active_from:
        first = periods.month_for(str(active_from), fy_start)
    elif ends:
        first = periods.month_of(min(ends), fy_start)
    else:
        day = reported.first()
        first = periods.month_of(day, fy_start) if day else last
    if first.end > last.end:
        return []
    months = periods.months(first, last, fy_start)
    frequency = metric["frequency"].iloc[0]
    labels = pd.Series([month.label for month in months])
    active = due_rows.active_in(metric.iloc[[0] * len(months)].reset_index(drop=True), labels)
    due = [periods.due_in_month(month, frequency, fy_start) for month in months]
    return [period for period, on in zip(due, active, strict=True) if period is not None and on]
