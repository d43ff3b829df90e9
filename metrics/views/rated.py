"""Rated rows read for a reader: a month's status, one measure's history, a month's RAG.

Each reads through `metrics.queries` (filtered by clearance) and rates through the one
pipeline, `metrics.pipeline.rate`, so the status command and every page agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from metrics import periods, pipeline, queries
from metrics.config import Settings
from metrics.config import settings as configured
from metrics.pipeline import ALL_STATUS_COLUMNS, empty_status

# How far back a status reads history: enough for an XmR chart of monthly values.
HISTORY_YEARS = 4


@dataclass(frozen=True)
class Held:
    """Value rows already read: every row of these measures whose period ends between the two
    dates (both included)."""

    values: pd.DataFrame
    metric_ids: frozenset[int]
    first_end: date
    last_end: date

    def covers(self, metric_ids: pd.Series, first_end: date, last_end: date) -> bool:
        """Whether these rows are all there is of these measures between the dates."""
        inside = self.first_end <= first_end and last_end <= self.last_end
        return inside and set(metric_ids.astype(int)) <= self.metric_ids


def status(
    engine: Engine,
    *,
    period: str,
    clearance: str,
    tier: str | None = None,
    today: date | None = None,
    settings: Settings | None = None,
    approved_only: bool = False,
) -> pd.DataFrame:
    """Every active metric due in the month, rated: RAG, direction, risk, forecast and why
    (with `approved_only`, from approved values only: the committee's view)."""
    return status_and_values(
        engine,
        period=period,
        clearance=clearance,
        tier=tier,
        today=today,
        settings=settings,
        approved_only=approved_only,
    )[0]


def status_and_values(
    engine: Engine,
    *,
    period: str,
    clearance: str,
    tier: str | None = None,
    today: date | None = None,
    settings: Settings | None = None,
    approved_only: bool = False,
) -> tuple[pd.DataFrame, Held]:
    """`status()`, and the value rows it rated from with the window they cover, so that the
    month's earlier periods can be rated from them (`rag_in(held=...)`) without reading again."""
    settings = settings or configured()
    due, values = _due_with_values(
        engine,
        period,
        clearance=clearance,
        tier=tier,
        years_back=HISTORY_YEARS,
        settings=settings,
        approved_only=approved_only,
    )
    window = value_window(
        periods.month_for(period, settings.financial_year_start_month).fiscal_year,
        settings.financial_year_start_month,
        HISTORY_YEARS,
    )
    held = Held(values, frozenset(int(i) for i in due["metric_id"]), *window)
    return _rate(due, values, today, settings), held


def rag_in(
    engine: Engine,
    *,
    period: str,
    clearance: str,
    codes: list[str] | None = None,
    today: date | None = None,
    settings: Settings | None = None,
    approved_only: bool = False,
    held: Held | None = None,
) -> pd.DataFrame:
    """The RAG of the metrics (all the clearance may see, or these codes) due in the month,
    rated as `status()` rates it, reading only the year's values (a comparison with an earlier
    period needs neither the forecast, nor the sentence, nor the XmR history); from `held`
    (a later month's status read them, with the same clearance and approval) when it covers
    the year.

    Columns: code, period, rag.
    """
    settings = settings or configured()
    due, values = _due_with_values(
        engine,
        period,
        clearance=clearance,
        codes=codes,
        years_back=0,
        settings=settings,
        approved_only=approved_only,
        held=held,
    )
    return _rate(due, values, today, settings, status_only=True)[["code", "period", "rag"]]


def _rate(
    due: pd.DataFrame,
    values: pd.DataFrame,
    today: date | None,
    settings: Settings,
    *,
    status_only: bool = False,
) -> pd.DataFrame:
    return pipeline.rate(
        due,
        values,
        today=today or date.today(),
        rules=settings.rating,
        fy_start=settings.financial_year_start_month,
        status_only=status_only,
    )


def _due_with_values(
    engine: Engine,
    period: str,
    *,
    clearance: str,
    settings: Settings,
    years_back: int,
    tier: str | None = None,
    codes: list[str] | None = None,
    approved_only: bool = False,
    held: Held | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The metrics due in the month and their values from `years_back` years before its
    financial year to the year's end (taken from `held` when it covers that window)."""
    fy_start = settings.financial_year_start_month
    month = periods.month_for(period, fy_start)
    due = pipeline.due_periods(
        queries.metric_frame(engine, clearance=clearance, tier=tier, codes=codes),
        month,
        fy_start,
        settings.deadline,
    )
    if due.empty:
        return due, pd.DataFrame()
    first_end, last_end = value_window(month.fiscal_year, fy_start, years_back)
    if held is not None and held.covers(due["metric_id"], first_end, last_end):
        rows = held.values
        inside = (rows["period_end"] >= first_end) & (rows["period_end"] <= last_end)
        return due, rows[inside & rows["metric_id"].isin(due["metric_id"])].reset_index(drop=True)
    values = queries.value_frame(
        engine,
        metric_ids=due["metric_id"].tolist(),
        first_end=first_end,
        last_end=last_end,
        approved_only=approved_only,
    )
    return due, values


def value_window(fiscal_year: str, fy_start: int, years_back: int) -> tuple[date, date]:
    """The period ends a period of the financial year is rated from: `years_back` years before
    the year's start (the XmR history) to the year's end (its targets, for the forecast)."""
    year = periods.year_period(int(fiscal_year[:4]), fy_start)
    return year.start - timedelta(days=366 * years_back), year.end


def latest_reported_month(
    engine: Engine, fy_start: int = 4, *, clearance: str, approved_only: bool = False
) -> str | None:
    """The latest month with a submitted or approved actual of a metric the clearance may see
    (the committee's view: an approved one): the dashboard's default period."""
    _, latest = queries.reported_span(
        engine, clearance=clearance, submitted_only=True, approved_only=approved_only
    )
    return None if latest is None else periods.month_of(latest, fy_start).label


def period_options(engine: Engine, fy_start: int = 4, *, clearance: str) -> list[str]:
    """Every month from the first period with a value of a metric the clearance may see to the
    last, newest first (a sensitive measure's months are not offered to an uncleared reader)."""
    first, last = queries.reported_span(engine, clearance=clearance)
    if first is None or last is None:
        return []
    start, end = periods.month_of(first, fy_start), periods.month_of(last, fy_start)
    return [p.label for p in reversed(periods.months(start, end, fy_start))]


def with_latest_commentary(status: pd.DataFrame, said: pd.DataFrame) -> pd.DataFrame:
    """Status rows with `latest_commentary`: this period's commentary, or else the most recent
    one of the year before it (`said`: `queries.commentary_rows` of that year), prefixed with
    its period as the council says it ('November 2016: Snow on collection days')."""
    if status.empty:
        return status.assign(latest_commentary=pd.Series(dtype=object))
    latest = said.sort_values("period_end").drop_duplicates("metric_id", keep="last")
    merged = status.merge(
        latest.rename(
            columns={"period": "_said_in", "period_end": "_said_end", "commentary": "_said"}
        ),
        on="metric_id",
        how="left",
    )
    own = merged["commentary"].fillna("")
    earlier = merged["_said"].notna() & (merged["_said_end"] < merged["period_end"])
    said_in = merged["_said_in"].map(periods.spoken, na_action="ignore").astype(object)
    merged["latest_commentary"] = own.where(
        own != "", (said_in + ": " + merged["_said"]).where(earlier, "")
    )
    return merged.drop(columns=["_said_in", "_said_end", "_said"])


# --- One metric's history ---------------------------------------------------------------------


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
        return empty_status()
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
            dues.append(pipeline.history_due(metric, span, fy_start, settings.deadline))
            real_ids += [real_id] * len(span)
    if not dues:
        return empty_status()
    due = pd.concat(dues, ignore_index=True).assign(metric_id=np.arange(len(real_ids)))
    real = np.asarray(real_ids)
    rated = _rate(due, _windows(due, real, values, fy_start), today, settings)
    rated["metric_id"] = real[rated["metric_id"].to_numpy()]
    rated = rated.sort_values(["code", "period_end"], kind="stable").reset_index(drop=True)
    return rated[ALL_STATUS_COLUMNS]


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
    active = pipeline.active_in(metric.iloc[[0] * len(months)].reset_index(drop=True), labels)
    due = [periods.due_in_month(month, frequency, fy_start) for month in months]
    return [period for period, on in zip(due, active, strict=True) if period is not None and on]
