"""Read-side queries: what a page or the command line shows, filtered by clearance.

Aggregation that SQL can do is done in SQL; the rating rules run on the few rows a period needs.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, Engine, and_, func, select
from sqlalchemy.orm import aliased

from metrics import periods, rating
from metrics.access import visible_markings
from metrics.config import Settings, settings
from metrics.models import Initiative, Metric, PeriodValue, Priority, Service, Team
from metrics.vocab import Aggregation, Frequency, Marking

STATUS_COLUMNS = [
    "code",
    "title",
    "tier",
    "period",
    "actual",
    "target",
    "ytd",
    "rag",
    "dot_previous",
    "dot_last_year",
    "risk_score",
    "risk_level",
    "forecast",
    "forecast_rag",
    "explanation",
]
# Every column a non-empty `status()` returns, in its order: an empty one has the same schema.
ALL_STATUS_COLUMNS = [
    "metric_id",
    "code",
    "title",
    "definition",
    "tier",
    "unit",
    "decimals",
    "polarity",
    "frequency",
    "aggregation",
    "tolerance",
    "tolerance_is_percent",
    "risk_impact",
    "marking",
    "data_only",
    "active_from",
    "active_to",
    "responsible_officer",
    "priority_code",
    "priority",
    "initiative_code",
    "initiative",
    "service_code",
    "service",
    "team_code",
    "team",
    "aligned_to",
    "period",
    "period_end",
    "position",
    "per_year",
    "previous_period",
    "last_year_period",
    "fiscal_year",
    "deadline",
    "actual",
    "numerator",
    "denominator",
    "target",
    "target_upper",
    "commentary",
    "corrective_action",
    "approval",
    "previous",
    "last_year",
    "ytd",
    "ytd_target",
    "ytd_target_upper",
    "forecast",
    "forecast_target",
    "forecast_target_upper",
    "rated_on",
    "rag",
    "dot_previous",
    "dot_last_year",
    "risk_score",
    "risk_level",
    "forecast_rag",
    "explanation",
    "spc_signal",
]
# How far back a status reads history: enough for an XmR chart of monthly values.
HISTORY_YEARS = 4


class UnknownPeriod(ValueError):
    """A period label the council does not report on."""


def month_for(label: str, fy_start: int = 4) -> periods.Period:
    """The reporting month a label stands for: a quarter or year reports in its last month."""
    try:
        period = periods.parse(label, fy_start)
    except periods.PeriodError as error:
        raise UnknownPeriod(str(error)) from error
    if period.frequency is Frequency.MONTHLY:
        return period
    return periods.month_period(period.end.year, period.end.month, fy_start)


def marking_visible_to(clearance: str, table: type[Metric] = Metric) -> ColumnElement[bool]:
    """SQL: the metric's marking is one the clearance may see; a blank counts as OFFICIAL."""
    marking = func.coalesce(func.nullif(table.marking, ""), Marking.OFFICIAL.value)
    return marking.in_(visible_markings(clearance))


def metric_frame(
    engine: Engine, *, clearance: str, tier: str | None = None, codes: list[str] | None = None
) -> pd.DataFrame:
    """Metric templates the clearance may see, with their place in the line of sight."""
    aligned = aliased(Metric)
    query = (
        select(
            Metric.id.label("metric_id"),
            Metric.code,
            Metric.title,
            Metric.definition,
            Metric.tier,
            Metric.unit,
            Metric.decimals,
            Metric.polarity,
            Metric.frequency,
            Metric.aggregation,
            Metric.tolerance,
            Metric.tolerance_is_percent,
            Metric.risk_impact,
            Metric.marking,
            Metric.data_only,
            Metric.active_from,
            Metric.active_to,
            Metric.responsible_officer,
            Priority.code.label("priority_code"),
            Priority.name.label("priority"),
            Initiative.code.label("initiative_code"),
            Initiative.name.label("initiative"),
            Service.code.label("service_code"),
            Service.name.label("service"),
            Team.code.label("team_code"),
            Team.name.label("team"),
            aligned.code.label("aligned_to"),
        )
        .outerjoin(Priority, Metric.priority_id == Priority.id)
        .outerjoin(Initiative, Metric.initiative_id == Initiative.id)
        .outerjoin(Service, Metric.service_id == Service.id)
        .outerjoin(Team, Metric.team_id == Team.id)
        # An alignment to a measure the clearance may not see is not named, not even its code.
        .outerjoin(
            aligned,
            and_(Metric.aligned_to_id == aligned.id, marking_visible_to(clearance, aligned)),
        )
        .where(marking_visible_to(clearance))
        .order_by(Metric.code)
    )
    if tier:
        query = query.where(Metric.tier == tier)
    if codes is not None:
        query = query.where(Metric.code.in_(codes))
    with engine.connect() as connection:
        frame = pd.read_sql(query, connection)
    frame["tolerance"] = frame["tolerance"].astype(float)
    return frame


def _active_in(metrics: pd.DataFrame, month: periods.Period) -> pd.Series:
    """Active from/to are month labels (or blank); a metric is active in months between them."""
    after = metrics["active_from"].fillna("").le(month.label) | metrics["active_from"].isna()
    before = metrics["active_to"].fillna("9999").ge(month.label)
    return after & before


def due_periods(
    metrics: pd.DataFrame, month: periods.Period, fy_start: int, deadline_days: int = 10
) -> pd.DataFrame:
    """Each metric due in the month, with the period it reports, the one before and last year's."""
    rows = []
    for frequency in Frequency:
        due = periods.due_in_month(month, frequency, fy_start)
        if due is None:
            continue
        previous = periods.shift(due, -1, fy_start)
        last_year = periods.same_period_last_year(due, fy_start)
        rows.append(
            {
                "frequency": frequency.value,
                "period": due.label,
                "period_end": due.end,
                "position": periods.position_in_year(due, fy_start),
                "per_year": periods.per_year(frequency),
                "previous_period": previous.label,
                "last_year_period": last_year.label,
                "fiscal_year": due.fiscal_year,
                "deadline": periods.entry_deadline(due, deadline_days),
            }
        )
    due_frame = pd.DataFrame(rows)
    active = metrics[_active_in(metrics, month)]
    return active.merge(due_frame, on="frequency", how="inner")


def value_frame(
    engine: Engine, metric_ids: list[int], *, first_end: date, last_end: date
) -> pd.DataFrame:
    """Period values of these metrics whose periods end between the two dates."""
    query = select(
        PeriodValue.metric_id,
        PeriodValue.period,
        PeriodValue.fiscal_year,
        PeriodValue.period_end,
        PeriodValue.actual,
        PeriodValue.numerator,
        PeriodValue.denominator,
        PeriodValue.target,
        PeriodValue.target_upper,
        PeriodValue.commentary,
        PeriodValue.corrective_action,
        PeriodValue.status.label("approval"),
    ).where(
        PeriodValue.metric_id.in_(metric_ids),
        PeriodValue.period_end >= first_end,
        PeriodValue.period_end <= last_end,
    )
    with engine.connect() as connection:
        frame = pd.read_sql(query, connection)
    frame["period_end"] = pd.to_datetime(frame["period_end"]).dt.date
    for column in ("actual", "numerator", "denominator", "target", "target_upper"):
        frame[column] = frame[column].astype(float)
    return frame


def status(
    engine: Engine,
    *,
    period: str,
    clearance: str,
    tier: str | None = None,
    today: date | None = None,
    config: Settings | None = None,
) -> pd.DataFrame:
    """Every active metric due in the month, rated: RAG, direction, risk, forecast and why."""
    config = config or settings()
    due, values = _due_with_values(
        engine, period, clearance=clearance, tier=tier, years_back=HISTORY_YEARS, config=config
    )
    if due.empty:
        return _empty_status()
    frame = _attach_values(due, values)
    frame = frame.join(_year_to_date(due, values), on="metric_id")
    frame = frame.join(_forecast(due, values), on="metric_id")
    rated = rate(frame, today=today or date.today(), config=config)
    rated["spc_signal"] = rated["metric_id"].map(_signals(due, values, config))
    return (
        rated.sort_values(["tier_order", "code"]).drop(columns="tier_order").reset_index(drop=True)
    )


def _due_with_values(
    engine: Engine,
    period: str,
    *,
    clearance: str,
    config: Settings,
    years_back: int,
    tier: str | None = None,
    codes: list[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The metrics due in the month and their values from `years_back` years before its
    financial year to the year's end, each value placed in its year (`position`)."""
    fy_start = config.financial_year_start_month
    month = month_for(period, fy_start)
    due = due_periods(
        metric_frame(engine, clearance=clearance, tier=tier, codes=codes),
        month,
        fy_start,
        config.entry_deadline_working_days,
    )
    if due.empty:
        return due, pd.DataFrame()
    year = periods.year_period(int(month.fiscal_year[:4]), fy_start)
    values = value_frame(
        engine,
        due["metric_id"].tolist(),
        first_end=year.start - timedelta(days=366 * years_back),
        last_end=year.end,
    )
    values["position"] = _position(values, due, fy_start)
    return due, values


def _empty_status() -> pd.DataFrame:
    """No rows, but every column a non-empty status has, so callers never meet a KeyError."""
    return pd.DataFrame(columns=ALL_STATUS_COLUMNS)


def _position(values: pd.DataFrame, due: pd.DataFrame, fy_start: int) -> pd.Series:
    """1-based place of each value's period in its financial year, by its metric's frequency."""
    frequency = values["metric_id"].map(due.set_index("metric_id")["frequency"])
    month_index = (pd.to_datetime(values["period_end"]).dt.month - fy_start) % 12
    return pd.Series(
        np.select(
            [frequency == Frequency.MONTHLY.value, frequency == Frequency.QUARTERLY.value],
            [month_index + 1, month_index // 3 + 1],
            1,
        ),
        index=values.index,
    )


def _attach_values(due: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """This period's row, and the actuals of the previous period and of last year's."""
    current = values.drop(columns=["fiscal_year", "period_end", "position"])
    frame = due.merge(current, on=["metric_id", "period"], how="left")
    actuals = values.set_index(["metric_id", "period"])["actual"]
    for label in ("previous", "last_year"):
        keys = pd.MultiIndex.from_arrays([frame["metric_id"], frame[f"{label}_period"]])
        frame[label] = actuals.reindex(keys).to_numpy()
    return frame


def _year_so_far(due: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """Rows of each metric's financial year up to the period being rated."""
    merged = values.merge(
        due[["metric_id", "fiscal_year", "period_end", "aggregation", "unit"]].rename(
            columns={"period_end": "due_end"}
        ),
        on=["metric_id", "fiscal_year"],
    )
    return merged[merged["period_end"] <= merged["due_end"]]


def _year_to_date(due: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    so_far = _year_so_far(due, values)
    if so_far.empty:
        return pd.DataFrame(columns=["ytd", "ytd_target", "ytd_target_upper"])
    return rating.year_to_date(so_far)


def _forecast(due: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    so_far = _year_so_far(due, values)
    if so_far.empty:  # nothing entered this year (and the frame below cannot be built)
        return pd.DataFrame(columns=["forecast", "forecast_target", "forecast_target_upper"])
    whole_year = values.merge(
        due[["metric_id", "fiscal_year", "per_year"]], on=["metric_id", "fiscal_year"]
    )
    grouped = whole_year.sort_values("position").groupby("metric_id")
    complete = grouped["per_year"].first()
    year = pd.DataFrame(
        {
            "per_year": due.set_index("metric_id")["per_year"],
            "year_target": grouped["target"]
            .sum(min_count=1)
            .where(grouped["target"].count() == complete),
            "year_target_upper": grouped["target_upper"]
            .sum(min_count=1)
            .where(grouped["target_upper"].count() == complete),
        }
    )
    year_end = whole_year[whole_year["position"] == whole_year["per_year"]].groupby("metric_id")
    year["year_end_target"] = year_end["target"].last()
    year["year_end_target_upper"] = year_end["target_upper"].last()
    return rating.forecast(so_far, year)


TIER_ORDER = {"Corporate Plan": 0, "ME2E": 1, "Service Standards": 2}


def rate(frame: pd.DataFrame, *, today: date, config: Settings) -> pd.DataFrame:
    """Apply every rule to one row per metric: RAG on the period value (YTD for `sum`)."""
    rules = config.rating
    frame = frame.copy()
    cumulative = frame["aggregation"] == Aggregation.SUM.value
    frame["rated_on"] = np.where(cumulative, "ytd", "period")
    judged = frame.assign(
        target=frame["ytd_target"].where(cumulative, frame["target"]),
        target_upper=frame["ytd_target_upper"].where(cumulative, frame["target_upper"]),
    )
    value = frame["ytd"].where(cumulative, frame["actual"]).where(frame["actual"].notna())
    overdue = rating.is_overdue(frame["deadline"], today)
    frame["rag"] = rating.rag(judged, value, rating=rules, overdue=overdue)
    frame["dot_previous"] = rating.direction(
        frame, frame["actual"], frame["previous"], rating=rules
    )
    frame["dot_last_year"] = rating.direction(
        frame, frame["actual"], frame["last_year"], rating=rules
    )
    frame["risk_score"] = rating.risk_score(
        frame["rag"], frame["dot_previous"], frame["risk_impact"]
    )
    frame["risk_level"] = rating.risk_level(frame["risk_score"], rating=rules)
    year_end = frame.assign(
        target=frame["forecast_target"], target_upper=frame["forecast_target_upper"]
    )
    frame["forecast_rag"] = rating.rag(year_end, frame["forecast"], rating=rules)
    frame["explanation"] = rating.explain(judged, value, frame["rag"], rating=rules)
    frame["tier_order"] = frame["tier"].map(TIER_ORDER).fillna(9)
    return frame


def _signals(due: pd.DataFrame, values: pd.DataFrame, config: Settings) -> dict[int, str]:
    """The XmR verdict on each metric's history up to the period rated."""
    ends = due[["metric_id", "period_end"]].rename(columns={"period_end": "due_end"})
    history = values.merge(ends, on="metric_id")
    history = history[history["period_end"] <= history["due_end"]]
    history = history.sort_values(["metric_id", "period_end"])
    polarity = due.set_index("metric_id")["polarity"]
    return rating.latest_signals(history, polarity, rating=config.rating).to_dict()


def latest_reported_month(engine: Engine, fy_start: int = 4, *, clearance: str) -> str | None:
    """The latest month with a submitted or approved actual of a metric the clearance may see:
    the dashboard's default period."""
    query = (
        select(func.max(PeriodValue.period_end))
        .join(Metric, Metric.id == PeriodValue.metric_id)
        .where(
            PeriodValue.actual.is_not(None),
            PeriodValue.status.in_(["submitted", "approved"]),
            marking_visible_to(clearance),
        )
    )
    with engine.connect() as connection:
        latest = connection.execute(query).scalar()
    if latest is None:
        return None
    latest = pd.Timestamp(latest).date()
    return periods.month_period(latest.year, latest.month, fy_start).label


# --- One metric's history (appended for the metric page) -------------------------------------


def metric_history(
    engine: Engine,
    *,
    code: str,
    clearance: str,
    until: str | None = None,
    today: date | None = None,
    config: Settings | None = None,
) -> pd.DataFrame:
    """Every period of one metric due from its active_from (else its first value, else the first
    month anything visible was reported) to the month `until` (default: the latest reported
    month or its last value, whichever is later), within active_to, each rated exactly as
    `status()` rates it: a period with no value is Missing or Overdue. Empty when the clearance
    may not see the metric, so a sensitive code reads like an unknown one."""
    config = config or settings()
    fy_start = config.financial_year_start_month
    metric = metric_frame(engine, clearance=clearance, codes=[code])
    if metric.empty:
        return _empty_status()
    real_id = int(metric["metric_id"].iloc[0])
    values = value_frame(engine, [real_id], first_end=date(1, 1, 1), last_end=date(9999, 12, 31))
    span = _history_span(engine, metric, values, until, clearance=clearance, fy_start=fy_start)
    if not span:
        return _empty_status()
    due = _history_due(metric, span, fy_start, config.entry_deadline_working_days)
    # Each period is rated as if it were a metric of its own (keyed 0..n-1) seeing every value.
    values = values.drop(columns="metric_id").merge(due[["metric_id"]], how="cross")
    values["position"] = _position(values, due, fy_start)
    frame = _attach_values(due, values)
    frame = frame.join(_year_to_date(due, values), on="metric_id")
    frame = frame.join(_forecast(due, values), on="metric_id")
    rated = rate(frame, today=today or date.today(), config=config)
    rated["spc_signal"] = rated["metric_id"].map(_signals(due, values, config))
    rated["metric_id"] = real_id
    rated = rated.drop(columns="tier_order").sort_values("period_end").reset_index(drop=True)
    return rated[ALL_STATUS_COLUMNS]


def _month_of(day: date, fy_start: int) -> periods.Period:
    """The reporting month a date falls in."""
    return periods.month_period(day.year, day.month, fy_start)


def _history_span(
    engine: Engine,
    metric: pd.DataFrame,
    values: pd.DataFrame,
    until: str | None,
    *,
    clearance: str,
    fy_start: int,
) -> list[periods.Period]:
    """The metric's periods reported in the months from its start to `until` while it is active
    (a quarter or year reports in its last month, as `status()` has it)."""
    ends = [pd.Timestamp(end).date() for end in values["period_end"]]
    if until is not None:
        last = month_for(until, fy_start)
    else:
        latest = latest_reported_month(engine, fy_start, clearance=clearance)
        candidates = [month_for(latest, fy_start)] if latest else []
        candidates += [_month_of(max(ends), fy_start)] if ends else []
        if not candidates:
            return []
        last = max(candidates, key=lambda month: month.end)
    active_from = metric["active_from"].iloc[0]
    if active_from:
        first = month_for(str(active_from), fy_start)
    elif ends:
        first = _month_of(min(ends), fy_start)
    else:
        first = _first_reported_month(engine, clearance, fy_start) or last
    frequency = metric["frequency"].iloc[0]
    span: list[periods.Period] = []
    month = first
    while month.end <= last.end:
        due = periods.due_in_month(month, frequency, fy_start)
        if due is not None and bool(_active_in(metric, month).iloc[0]):
            span.append(due)
        month = periods.shift(month, 1, fy_start)
    return span


def _first_reported_month(engine: Engine, clearance: str, fy_start: int) -> periods.Period | None:
    """The first month with any value of a metric the clearance may see."""
    query = (
        select(func.min(PeriodValue.period_end))
        .join(Metric, Metric.id == PeriodValue.metric_id)
        .where(marking_visible_to(clearance))
    )
    with engine.connect() as connection:
        first = connection.execute(query).scalar()
    return None if first is None else _month_of(pd.Timestamp(first).date(), fy_start)


def _history_due(
    metric: pd.DataFrame, span: list[periods.Period], fy_start: int, deadline_days: int
) -> pd.DataFrame:
    """One due row per period of the span, keyed 0..n-1, with the metric's template."""
    frequency = metric["frequency"].iloc[0]
    rows = [
        {
            "metric_id": key,
            "period": period.label,
            "period_end": period.end,
            "position": periods.position_in_year(period, fy_start),
            "per_year": periods.per_year(frequency),
            "previous_period": periods.shift(period, -1, fy_start).label,
            "last_year_period": periods.same_period_last_year(period, fy_start).label,
            "fiscal_year": period.fiscal_year,
            "deadline": periods.entry_deadline(period, deadline_days),
        }
        for key, period in enumerate(span)
    ]
    template = metric.drop(columns="metric_id").iloc[[0] * len(rows)].reset_index(drop=True)
    return pd.concat([pd.DataFrame(rows), template], axis=1)


def rag_in(
    engine: Engine,
    *,
    period: str,
    clearance: str,
    codes: list[str] | None = None,
    today: date | None = None,
    config: Settings | None = None,
) -> pd.DataFrame:
    """The RAG of the metrics (all the clearance may see, or these codes) due in the month,
    rated as `status()` rates it, without the forecast and XmR signal (which a comparison with
    an earlier period does not need).

    Columns: code, period, rag.
    """
    config = config or settings()
    due, values = _due_with_values(
        engine, period, clearance=clearance, codes=codes, years_back=0, config=config
    )
    if due.empty:
        return pd.DataFrame(columns=["code", "period", "rag"])
    frame = _attach_values(due, values)
    frame = frame.join(_year_to_date(due, values), on="metric_id")
    frame = frame.assign(forecast=np.nan, forecast_target=np.nan, forecast_target_upper=np.nan)
    rated = rate(frame, today=today or date.today(), config=config)
    return rated[["code", "period", "rag"]].reset_index(drop=True)
