"""The one rating pipeline: due rows (`metrics.due_rows`) and their values in, rated rows out.

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

from metrics import explain, explain_rollup, rating, spc
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
    if not due["metric_id"].is_unique:
        raise ValueError("rate: one due row per metric")
    due = due.reset_index(drop=True)
    values = _placed(due, values, fy_start)
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


# Each value's place among the due rows, worked out once (`_placed`) so the steps below pick
# and compare by position and integer: merging 100,000 values with the due rows on text keys,
# four times, took a third of rating an L council's month.
PLACED = ["row", "day", "due_day", "this_year"]


def _placed(due: pd.DataFrame, values: pd.DataFrame, fy_start: int) -> pd.DataFrame:
    """The values of the due metrics, each with its metric's due row (`row`), its place in its
    financial year by its metric's frequency (`position`), its period end and the due row's as
    day numbers (`day`, `due_day`), and whether it is of the financial year rated."""
    row = pd.Index(due["metric_id"]).get_indexer(values["metric_id"])
    if (row < 0).any():  # values of measures not rated here
        values, row = values[row >= 0].reset_index(drop=True), row[row >= 0]
    else:
        values = values.reset_index(drop=True)
    day = _days(values["period_end"])
    month = day.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    month_index = (month - fy_start) % 12
    frequency = due["frequency"]
    monthly = (frequency == Frequency.MONTHLY.value).to_numpy(dtype=bool)[row]
    quarterly = (frequency == Frequency.QUARTERLY.value).to_numpy(dtype=bool)[row]
    fiscal_year = due["fiscal_year"].to_numpy(dtype=object)[row]
    return values.assign(
        position=np.select([monthly, quarterly], [month_index + 1, month_index // 3 + 1], 1),
        row=row,
        day=day,
        due_day=_days(due["period_end"])[row],
        this_year=values["fiscal_year"].to_numpy(dtype=object) == fiscal_year,
    )


def _days(ends: pd.Series) -> np.ndarray:
    """Each period end as a day number (days since 1970), so ends compare as integers."""
    if pd.api.types.is_datetime64_any_dtype(ends.dtype):
        return ends.to_numpy(dtype="datetime64[D]").astype(np.int64)
    # Arrow reads 100,000 `date`s in 2 ms; pandas' to_datetime took 12.
    days = pa.array(ends.to_numpy(dtype=object), type=pa.date32(), from_pandas=True)
    return days.cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)


def _attach_values(due: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """This period's row, and the actuals of the previous period and of last year's."""
    code, labels = pd.factorize(values["period"])
    known = pd.Index(labels)
    key = pd.Index(values["row"].to_numpy() * (len(labels) + 1) + code)

    def found(wanted_periods: pd.Series) -> np.ndarray:
        """For each due row, its metric's value of that period (its place in `values`, or -1)."""
        wanted = known.get_indexer(wanted_periods)
        place = key.get_indexer(np.arange(len(due)) * (len(labels) + 1) + wanted)
        return np.where(wanted >= 0, place, -1)

    placing = ["metric_id", "period", "fiscal_year", "period_end", "position", *PLACED]
    current = values.drop(columns=placing).reindex(found(due["period"]))
    frame = pd.concat([due, current.reset_index(drop=True)], axis=1)
    for label in ("previous", "last_year"):
        frame[label] = values["actual"].reindex(found(due[f"{label}_period"])).to_numpy()
    return frame


def _year_so_far(due: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """Rows of each metric's financial year up to the period being rated."""
    so_far = values[values["this_year"] & (values["day"] <= values["due_day"])]
    row = so_far["row"].to_numpy()
    return so_far.assign(
        aggregation=due["aggregation"].to_numpy(dtype=object)[row],
        unit=due["unit"].to_numpy(dtype=object)[row],
    )


def _year_to_date(so_far: pd.DataFrame) -> pd.DataFrame:
    if so_far.empty:
        return pd.DataFrame(columns=["ytd", "ytd_target", "ytd_target_upper"])
    return rating.year_to_date(so_far)


def _forecast(due: pd.DataFrame, values: pd.DataFrame, so_far: pd.DataFrame) -> pd.DataFrame:
    if so_far.empty:  # nothing entered this year (and the frame below cannot be built)
        return pd.DataFrame(columns=["forecast", "forecast_target", "forecast_target_upper"])
    whole_year = values[values["this_year"]]
    whole_year = whole_year.assign(per_year=due["per_year"].to_numpy()[whole_year["row"]])
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
    history = values[values["day"] <= values["due_day"]]
    # By metric, then period end (lexsort is stable: the last key given sorts first)
    history = history.take(np.lexsort((history["day"], history["metric_id"])))
    measures = rated.set_index("metric_id")
    reading = spc.readings(history, measures, rules=rules)
    reading = reading.join(measures[["unit", "decimals", "frequency"]])
    reading["spc_variation_why"] = explain.variation_sentence(reading, rules=rules)
    reading["spc_assurance_why"] = explain.assurance_sentence(reading)
    return reading
