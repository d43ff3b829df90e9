"""Rated rows read for a reader: a month's status, a month's RAG, each measure's RAG before.

Each reads through `metrics.queries` (filtered by clearance) and rates through the one
pipeline, `metrics.pipeline.rate`, so the status command and every page agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Engine

from metrics import due_rows, periods, pipeline, queries, store
from metrics.config import Settings
from metrics.config import settings as configured
from metrics.views import kept

# How far back a status reads history: enough for an XmR chart of monthly values.
HISTORY_YEARS = 4
# What of each template says whether a measure is due in a month, and which period.
DUE_READS = ["metric_id", "code", "tier", "frequency", "active_from", "active_to"]
# What a read of part of each kept rating (`columns`: what the dashboard counts) keeps of each
# template: where the measure sits and when it is due. Every step of the read (due, combined,
# ordered, placed) copied the whole template of XL's 20,000 measures; the rows it lists are
# read again whole, and a measure rated afresh is rated from its whole template.
SITS = [*DUE_READS, "aligned_to", "priority_code", "initiative_code", "service_code", "team_code"]


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
    codes: list[str] | None = None,
    measures: pd.DataFrame | None = None,
    columns: list[str] | None = None,
) -> tuple[pd.DataFrame, Held]:
    """`status()` with each row's `latest_commentary` (`with_latest_commentary`), and the value
    rows it rated from with the window they cover, so that the month's earlier periods can be
    rated from them (`rag_in(held=...)`) without reading again.

    A measure whose rating of the period is kept (`kept`) is read, not rated; the rest are
    rated from their values and kept (whole) for the next reader. With `columns`, a kept
    rating gives only these of its columns, and so does each row when any rating was kept."""
    settings = settings or configured()
    today = today or date.today()
    fy_start = settings.financial_year_start_month
    month = periods.month_for(period, fy_start)
    if measures is None:
        measures = queries.metric_frame(engine, clearance=clearance, tier=tier, codes=codes)
    sits = measures if columns is None else measures[SITS]
    due = due_rows.due_periods(sits, month, fy_start, settings.deadline)
    window = value_window(month.fiscal_year, fy_start, HISTORY_YEARS)
    if due.empty:
        nothing = with_latest_commentary(rate(due, pd.DataFrame(), today, settings), pd.DataFrame())
        return nothing, Held(pd.DataFrame(), frozenset(), *window)
    since = store.data_version(engine)  # before anything it rates from is read
    basis = kept.Basis(approved_only, kept.rules_key(settings, HISTORY_YEARS), today)
    found = kept.kept_for(engine, due, basis, whole=True, columns=columns)
    rest = due[~due["metric_id"].isin(found["metric_id"])].reset_index(drop=True)
    if columns is not None and len(rest):  # rated from the whole template, as a whole read is
        whole = measures[measures["metric_id"].isin(rest["metric_id"])]
        rest = due_rows.due_periods(whole, month, fy_start, settings.deadline)
    ids = [int(i) for i in rest["metric_id"]]
    values = (
        _values(engine, ids, month.fiscal_year, fy_start, HISTORY_YEARS, approved_only)
        if ids
        else pd.DataFrame()
    )
    fresh = rate(rest, values, today, settings)
    fresh = with_latest_commentary(fresh, values)  # kept with the rating
    kept.keep(engine, fresh, basis, whole=True, since=since)
    return kept.combined(due, found, fresh), Held(values, frozenset(ids), *window)


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
    return rate(due, values, today, settings, status_only=True)[["code", "period", "rag"]]


def rags_before(
    engine: Engine,
    status: pd.DataFrame,
    *,
    months: list[str],
    clearance: str,
    held: Held | None = None,
    today: date | None = None,
    settings: Settings | None = None,
    approved_only: bool = False,
    measures: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Each rated measure's RAG in its own previous period, for the previous periods in these
    months, keyed by month: what `rag_in` gives for the month, of the measures in `status`, in
    one pipeline call over the values the status read (`held`, read with the same clearance and
    `approved_only`; each row's RAG needs only its own year's values), of `measures` when
    given (the clearance's `queries.metric_frame`). Columns: code, period, rag."""
    settings = settings or configured()
    fy_start = settings.financial_year_start_month
    if status.empty or not months:
        return {}
    wanted = status[["metric_id", "previous_period"]].dropna()
    wanted = wanted.rename(columns={"previous_period": "period"})
    if measures is None:  # (those given are narrowed by the merge with `wanted` below)
        measures = queries.metric_frame(engine, clearance=clearance, codes=list(status["code"]))
    # Which period is due, and kept, needs only these of each template; the whole template is
    # joined back for the few rated afresh (every column copied by each step took 0.1 s at XL).
    slim = measures[DUE_READS]
    due = due_rows.due_in_months(
        slim.merge(wanted, on="metric_id", validate="one_to_one"),
        [periods.month_for(month, fy_start) for month in months],
        fy_start,
        settings.deadline,
    )
    if due.empty:
        return {month: pd.DataFrame(columns=["code", "period", "rag"]) for month in months}
    today = today or date.today()
    since = store.data_version(engine)  # before anything it rates from is read
    basis = kept.Basis(approved_only, kept.rules_key(settings, HISTORY_YEARS), today)
    found = kept.kept_for(engine, due, basis, whole=False, columns=["rag"])
    rest = due[~due["metric_id"].isin(found["metric_id"])].reset_index(drop=True)
    if len(rest):  # (every step, even of no rows, took a few ms)
        rest = rest.drop(columns=slim.columns.drop("metric_id")).merge(measures, on="metric_id")
        fresh = rate(rest, _year_values(engine, rest, held, fy_start, approved_only), today,
                     settings, status_only=True)  # fmt: skip
        kept.keep(engine, fresh, basis, whole=False, since=since)
    else:
        fresh = rest.iloc[:0]
    rated = kept.combined(due, found, fresh)[["code", "period", "rag"]]
    month_of = {
        label: periods.month_for(label, fy_start).label for label in rated["period"].unique()
    }
    found = rated.groupby(rated["period"].map(month_of), sort=True)
    parts = {month: part.reset_index(drop=True) for month, part in found}
    return {month: parts.get(month, rated.iloc[:0]) for month in months}


def _year_values(
    engine: Engine, due: pd.DataFrame, held: Held | None, fy_start: int, approved_only: bool
) -> pd.DataFrame:
    """The values of the due rows' financial years (all a RAG needs), from `held` if it has
    them."""
    if due.empty:
        return pd.DataFrame()
    first_end = min(value_window(year, fy_start, 0)[0] for year in due["fiscal_year"].unique())
    last_end = max(value_window(year, fy_start, 0)[1] for year in due["fiscal_year"].unique())
    if held is not None and held.covers(due["metric_id"], first_end, last_end):
        rows = held.values
        inside = (rows["period_end"] >= first_end) & (rows["period_end"] <= last_end)
        return rows[inside & rows["metric_id"].isin(due["metric_id"])].reset_index(drop=True)
    return queries.value_frame(
        engine,
        metric_ids=due["metric_id"].tolist(),
        first_end=first_end,
        last_end=last_end,
        approved_only=approved_only,
    )


def rate(
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
    measures: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The metrics due in the month and their values from `years_back` years before its
    financial year to the year's end (taken from `held` when it covers that window); of
    `measures` when given (the clearance's `queries.metric_frame`, already narrowed to the
    tier and codes), else read."""
    fy_start = settings.financial_year_start_month
    month = periods.month_for(period, fy_start)
    if measures is None:
        measures = queries.metric_frame(engine, clearance=clearance, tier=tier, codes=codes)
    due = due_rows.due_periods(
        measures,
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
    return due, _values(
        engine, due["metric_id"].tolist(), month.fiscal_year, fy_start, years_back, approved_only
    )


def _values(
    engine: Engine,
    metric_ids: list[int],
    fiscal_year: str,
    fy_start: int,
    years_back: int,
    approved_only: bool,
) -> pd.DataFrame:
    """The values a period of the year is rated from (`value_window`): whole rows for this year
    and last (the period, its previous and last year's, YTD, forecast), and before those only
    where each is and its actual, all an XmR history needs; reading the text and the targets of
    every earlier year was most of a status's read at L."""
    first_end, last_end = value_window(fiscal_year, fy_start, years_back)
    whole_from = max(first_end, value_window(fiscal_year, fy_start, 1)[0])
    recent = queries.value_frame(
        engine,
        metric_ids=metric_ids,
        first_end=whole_from,
        last_end=last_end,
        approved_only=approved_only,
    )
    if whole_from == first_end:
        return recent
    earlier = queries.value_frame(
        engine,
        metric_ids=metric_ids,
        first_end=first_end,
        last_end=whole_from - timedelta(days=1),
        approved_only=approved_only,
        actuals_only=True,
    )
    return pd.concat([earlier, recent], ignore_index=True) if len(earlier) else recent


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


def with_latest_commentary(status: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """Status rows with `latest_commentary`: this period's commentary, or else the most recent
    one of the year before it, from the measure's own `values` (`_latest_said`), prefixed with
    its period as the council says it ('November 2016: Snow on collection days')."""
    if status.empty:
        return status.assign(latest_commentary=pd.Series(dtype=object))
    merged = status.merge(
        _latest_said(values, status).rename(
            columns={"period": "_said_in", "period_end": "_said_end", "commentary": "_said"}
        ),
        left_on=["metric_id", "period_end"],
        right_on=["metric_id", "for_end"],
        how="left",
    )
    own = merged["commentary"].fillna("").astype(str)
    earlier = merged["_said"].notna() & (merged["_said_end"] < merged["period_end"])
    said_in = periods.spoken_each(merged["_said_in"]).fillna("").astype(str)
    said_text = said_in + ": " + merged["_said"].fillna("").astype(str)
    merged["latest_commentary"] = own.where(own != "", said_text.where(earlier, ""))
    return merged.drop(columns=["_said_in", "_said_end", "_said", "for_end"])


def _latest_said(values: pd.DataFrame, status: pd.DataFrame) -> pd.DataFrame:
    """Per status row (a measure and the end of its period, `for_end`), the measure's latest
    non-blank commentary from the year before that period (ending less than 366 days before it),
    from its own value rows: metric_id, for_end, period, period_end, commentary. A measure's
    own rows only, so it is kept with its rating."""
    columns = ["metric_id", "for_end", "period", "period_end", "commentary"]
    if values.empty or status.empty:
        return pd.DataFrame(columns=columns)
    said = values.loc[
        values["commentary"].fillna("") != "", ["metric_id", "period", "period_end", "commentary"]
    ]
    ends = status[["metric_id", "period_end"]].rename(columns={"period_end": "for_end"})
    said = said.merge(ends.drop_duplicates(), on="metric_id")
    own_end, end = pd.to_datetime(said["for_end"]), pd.to_datetime(said["period_end"])
    inside = (end < own_end) & (end > own_end - pd.Timedelta(days=366))
    said = said[inside].sort_values(["metric_id", "for_end", "period_end"])
    latest = said.drop_duplicates(["metric_id", "for_end"], keep="last")
    return latest[columns].reset_index(drop=True)
