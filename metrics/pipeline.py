"""The one rating pipeline: due rows and their values in, rated rows out.

Pure: frames in, a frame out. The status command, the dashboard, the level pages, a measure's
history and the earlier months a dashboard compares with all rate through `rate()`, so a
measure has the same status, sentence and risk wherever it is shown. The rules themselves are
in `metrics.rating` and, in words, in `docs/rating-rules.md`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from metrics import explain, explain_rollup, periods, rating, spc
from metrics.config import RatingRules
from metrics.frames import looked_up
from metrics.vocab import Frequency

# The columns the status command prints, in its order.
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
    "approval",
    "spc_variation",
    "spc_assurance",
]
# Every column a rated frame has, in its order: an empty one has the same schema.
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
    "risk_why",
    "forecast_rag",
    "explanation",
    "spc_variation",
    "spc_assurance",
    "spc_variation_why",
    "spc_assurance_why",
]
TIER_ORDER = {"Corporate Plan": 0, "ME2E": 1, "Service Standards": 2}


def empty_status() -> pd.DataFrame:
    """No rows, but every column a rated frame has, so callers never meet a KeyError."""
    return pd.DataFrame(columns=ALL_STATUS_COLUMNS)


# --- What is due --------------------------------------------------------------------------------


def active_in(metrics: pd.DataFrame, month: periods.Period | pd.Series) -> pd.Series:
    """Active from/to are month labels (or blank); a metric is active in months between them
    (`month`: one month, or a month label per row)."""
    label = month.label if isinstance(month, periods.Period) else month
    after = metrics["active_from"].fillna("").le(label) | metrics["active_from"].isna()
    before = metrics["active_to"].fillna("9999").ge(label)
    return after & before


# What `_due_row` says of a due period, in its order.
DUE_COLUMNS = [
    *("period", "period_end", "position", "per_year", "previous_period", "last_year_period"),
    *("fiscal_year", "deadline"),
]


def _due_row(
    period: periods.Period, frequency: str, fy_start: int, deadline: periods.Deadline
) -> dict:
    """The period a metric reports, the one before, last year's, and its entry deadline."""
    return {
        "period": period.label,
        "period_end": period.end,
        "position": periods.position_in_year(period, fy_start),
        "per_year": periods.per_year(frequency),
        "previous_period": periods.shift(period, -1, fy_start).label,
        "last_year_period": periods.same_period_last_year(period, fy_start).label,
        "fiscal_year": period.fiscal_year,
        "deadline": deadline.of(period),
    }


def _due_rows(month: periods.Period, fy_start: int, deadline: periods.Deadline) -> list[dict]:
    """The due row of each frequency that reports in the month (a monthly one always does)."""
    return [
        {"frequency": frequency.value, **_due_row(due, frequency, fy_start, deadline)}
        for frequency in Frequency
        if (due := periods.due_in_month(month, frequency, fy_start)) is not None
    ]


def due_periods(
    metrics: pd.DataFrame, month: periods.Period, fy_start: int, deadline: periods.Deadline
) -> pd.DataFrame:
    """Each metric due in the month, with the period it reports, the one before and last year's."""
    rows = _due_rows(month, fy_start, deadline)
    active = metrics[active_in(metrics, month)]
    # What `active.merge(rows, on="frequency")` gives, each measure in its order, with its
    # frequency's row found by position (a monthly measure is due every month, so there is one):
    # merging on the text took 20 ms at XL, four times a month.
    due = pd.DataFrame(rows)
    place = looked_up(active["frequency"], {f: i for i, f in enumerate(due["frequency"])}, -1)
    wanted = place.to_numpy() >= 0
    chosen = active[wanted].reset_index(drop=True)
    found = due.drop(columns="frequency").take(place.to_numpy()[wanted]).reset_index(drop=True)
    return pd.concat([chosen, found], axis=1)


def due_in_months(
    wanted: pd.DataFrame,
    months: list[periods.Period],
    fy_start: int,
    deadline: periods.Deadline,
) -> pd.DataFrame:
    """Each metric's due row (as `due_periods` gives it) of the one period it names (`period`),
    if that period is due in one of the months and the metric is active in that month: each
    measure's own previous period, say, among the months the reader has data for."""
    rows = [
        {"month": month.label, **row} for month in months
        for row in _due_rows(month, fy_start, deadline)
    ]  # fmt: skip
    # Each metric finds its row by its frequency and period, by position (a merge of every
    # month's due rows with what each measure wants took 40 ms at XL).
    table = pd.DataFrame(rows, columns=["month", "frequency", *DUE_COLUMNS])
    table = table.drop_duplicates(["frequency", "period"], ignore_index=True)
    keys = {key: at for at, key in enumerate(table["frequency"] + "|" + table["period"])}
    place = looked_up(wanted["frequency"] + "|" + wanted["period"], keys, -1)
    found = place.to_numpy() >= 0
    chosen, at = wanted[found].drop(columns="period"), place.to_numpy()[found]
    month = table["month"].to_numpy()[at]
    active = active_in(chosen, pd.Series(month, index=chosen.index)).to_numpy()
    due = table.drop(columns=["month", "frequency"]).take(at[active])
    return pd.concat([chosen[active].reset_index(drop=True), due.reset_index(drop=True)], axis=1)


def history_due(
    metric: pd.DataFrame, span: list[periods.Period], fy_start: int, deadline: periods.Deadline
) -> pd.DataFrame:
    """One due row per period of one metric's span, keyed 0..n-1, with the metric's template:
    each period is then rated as if it were a metric of its own."""
    frequency = metric["frequency"].iloc[0]
    rows = [
        {"metric_id": key, **_due_row(period, frequency, fy_start, deadline)}
        for key, period in enumerate(span)
    ]
    template = metric.drop(columns="metric_id").iloc[[0] * len(rows)].reset_index(drop=True)
    return pd.concat([pd.DataFrame(rows), template], axis=1)


# --- The pipeline -------------------------------------------------------------------------------


def rate(
    due: pd.DataFrame,
    values: pd.DataFrame,
    *,
    today: date,
    rules: RatingRules,
    fy_start: int = 4,
    status_only: bool = False,
) -> pd.DataFrame:
    """Every rule on each due row, from the values of its metric (any span of years up to the
    end of the year rated): YTD, RAG (on YTD for `sum`), direction against the previous period
    and last year, risk, the year-end forecast and its RAG, the sentence why, and the XmR
    signal on the history up to the period rated. Ordered by tier, then code.

    `status_only` leaves out what no status depends on (the forecast, the sentence and the XmR
    signal, left blank), for a comparison with an earlier period: RAG, direction and risk are
    the same either way."""
    if due.empty:
        return empty_status()
    values = values.assign(position=_position(values, due, fy_start))
    frame = _attach_values(due, values)
    so_far = _year_so_far(due, values)  # read by both the year to date and the forecast
    frame = frame.join(_year_to_date(so_far), on="metric_id")
    if status_only:
        frame = frame.assign(forecast=np.nan, forecast_target=np.nan, forecast_target_upper=np.nan)
    else:
        frame = frame.join(_forecast(due, values, so_far), on="metric_id")
    rated = apply_rules(frame, today=today, rules=rules, explain_why=not status_only)
    spc_columns = ["spc_variation", "spc_assurance", "spc_variation_why", "spc_assurance_why"]
    if status_only:
        rated[spc_columns] = None
    else:
        rated = rated.join(_signals(rated, values, rules)[spc_columns], on="metric_id")
    return in_order(rated)


def in_order(rated: pd.DataFrame) -> pd.DataFrame:
    """Rated rows by tier (Corporate Plan, ME2E, Service Standards), then code."""
    # Ordered by the two columns alone, then taken once (if not in order already): a month's
    # status has sixty columns, and sorting them all with a column added copied them twice.
    tier = looked_up(rated["tier"], TIER_ORDER, 9).to_numpy(dtype="int64")
    keys = pa.table({"tier": tier, "code": pa.array(rated["code"], from_pandas=True)})
    # Arrow's sort is stable, as pandas' sort by several columns is: rows of one measure (its
    # history) keep their order.
    order = pc.sort_indices(keys, sort_keys=[("tier", "ascending"), ("code", "ascending")])
    order = order.to_numpy()
    if (order == np.arange(len(order))).all():
        return rated.reset_index(drop=True)
    return rated.take(order).reset_index(drop=True)


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


def _year_to_date(so_far: pd.DataFrame) -> pd.DataFrame:
    if so_far.empty:
        return pd.DataFrame(columns=["ytd", "ytd_target", "ytd_target_upper"])
    return rating.year_to_date(so_far)


def _forecast(due: pd.DataFrame, values: pd.DataFrame, so_far: pd.DataFrame) -> pd.DataFrame:
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


def apply_rules(
    frame: pd.DataFrame, *, today: date, rules: RatingRules, explain_why: bool = True
) -> pd.DataFrame:
    """Apply every rule to one row per metric: RAG on the rated value (YTD for `sum`)."""
    frame = frame.copy()
    frame["rated_on"] = np.where(rating.is_cumulative(frame), "ytd", "period")
    judged, value = rating.judged(frame), rating.rated_value(frame)
    overdue = rating.is_overdue(frame["deadline"], today)
    frame["rag"] = rating.rag(judged, value, rules=rules, overdue=overdue)
    frame["dot_previous"] = rating.direction(frame, frame["actual"], frame["previous"], rules=rules)
    frame["dot_last_year"] = rating.direction(
        frame, frame["actual"], frame["last_year"], rules=rules
    )
    frame["risk_score"] = rating.risk_score(
        frame["rag"], frame["dot_previous"], frame["risk_impact"]
    )
    frame["risk_level"] = rating.risk_level(frame["risk_score"], rules=rules)
    frame["risk_why"] = explain_rollup.risk_sentence(frame, rules=rules)
    year_end = frame.assign(
        target=frame["forecast_target"], target_upper=frame["forecast_target_upper"]
    )
    frame["forecast_rag"] = rating.rag(year_end, frame["forecast"], rules=rules)
    frame["explanation"] = (
        explain.explain(judged, value, frame["rag"], rules=rules) if explain_why else None
    )
    return frame


def _signals(rated: pd.DataFrame, values: pd.DataFrame, rules: RatingRules) -> pd.DataFrame:
    """The XmR variation and assurance (against the period's target) of each metric's history
    up to the period rated, with their sentences; indexed by metric_id."""
    ends = rated[["metric_id", "period_end"]].rename(columns={"period_end": "due_end"})
    history = values[["metric_id", "period_end", "actual"]].merge(ends, on="metric_id")
    history = history[history["period_end"] <= history["due_end"]]
    history = history.sort_values(["metric_id", "period_end"], kind="stable")
    measures = rated.set_index("metric_id")
    reading = spc.readings(history, measures, rules=rules)
    reading = reading.join(measures[["unit", "decimals", "frequency"]])
    reading["spc_variation_why"] = explain.variation_sentence(reading, rules=rules)
    reading["spc_assurance_why"] = explain.assurance_sentence(reading)
    return reading
