"""The checks a save runs before it takes the write lock: the typed numbers, the period's
state, the status the value would get (through the rating rules) and the natural process limits
of the measure's history, as one frame for `validation.check`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlmodel import Session

from metrics import explain, periods, rating, validation
from metrics.config import Settings
from metrics.queries import entry as entry_queries

if TYPE_CHECKING:
    from metrics.entry import Held

HISTORY_YEARS = 4  # how far back the natural process limits look


def preview(
    rows: pd.DataFrame, actual: pd.Series, *, config: Settings, explain_why: bool = True
) -> pd.DataFrame:
    """The status and sentence each row would get with these actuals, through the rating rules.

    `rows` are shaped like a status row (template, target, target_upper, ytd, ytd_target,
    ytd_target_upper and the held `actual`); a cumulative (sum) measure's year to date follows
    the typed value. A save's checks need only the status (`explain_why=False`: no sentence).
    """
    new = actual.astype(float)
    ytd = rows["ytd"].astype(float).fillna(0) - rows["actual"].astype(float).fillna(0) + new
    typed = rows.assign(actual=new, ytd=ytd.where(new.notna()))
    typed["rated_on"] = np.where(rating.is_cumulative(typed), "ytd", "period")
    frame, value = rating.judged(typed), rating.rated_value(typed)
    status = rating.rag(frame, value, rules=config.rating)
    if not explain_why:
        return pd.DataFrame({"value": value, "rag": status}, index=rows.index)
    sentence = explain.explain(frame, value, status, rules=config.rating)
    return pd.DataFrame({"value": value, "rag": status, "explanation": sentence}, index=rows.index)


def preview_typed(
    rows: pd.DataFrame,
    *,
    actual: pd.Series,
    numerator: pd.Series,
    denominator: pd.Series,
    config: Settings,
) -> pd.DataFrame:
    """`preview` on what a user typed, as a page holds it: a ratio measure's actual is worked out
    from its numerator and denominator (`validation.numbers`), never typed; text that is not a
    number previews as no value. Columns: value, rag, explanation."""
    typed = validation.numbers(
        rows[["unit", "aggregation"]].assign(
            actual_raw=actual, numerator_raw=numerator, denominator_raw=denominator
        )
    )
    return preview(rows, typed["value"].astype(float), config=config)


def checked_frame(
    session: Session, held: list[Held], today: date, config: Settings
) -> pd.DataFrame:
    """One row per entry with everything the rules read: the typed numbers, the period's
    state, the preview status and the natural process limits of the measure's history."""
    fy_start = config.financial_year_start_month
    first_end = min(h.period.end for h in held) - timedelta(days=366 * HISTORY_YEARS)
    past = entry_queries.history(
        session, metric_ids=[h.metric.id or 0 for h in held], first_end=first_end
    )
    closed = entry_queries.closed_years(session)
    rows = []
    for key, h in enumerate(held):
        month = periods.month_period(h.period.end.year, h.period.end.month, fy_start).label
        template = h.metric.model_dump()
        rows.append(
            {
                **template,
                "key": key,
                "metric_id": h.metric.id,
                "code": h.metric.code,
                "period": h.period.label,
                "period_end": h.period.end,
                "fiscal_year": h.period.fiscal_year,
                "deadline": config.deadline.of(h.period),
                "today": today,
                "closed": h.period.fiscal_year in closed,
                "active": (template["active_from"] or "")
                <= month
                <= (template["active_to"] or "9999"),
                "actual_raw": h.entry.actual,
                "numerator_raw": h.entry.numerator,
                "denominator_raw": h.entry.denominator,
                "commentary": h.entry.commentary,
                "corrective_action": h.entry.corrective_action,
                "outlier_note": h.entry.outlier_note,
                "held_actual": h.value.actual if h.value else None,
                "target": h.value.target if h.value else None,
                "target_upper": h.value.target_upper if h.value else None,
            }
        )
    frame = validation.numbers(pd.DataFrame(rows))
    for column in ("target", "target_upper", "held_actual", "tolerance"):
        frame[column] = frame[column].astype(float)
    frame = frame.join(_year_to_date(frame, past), on="key")
    shaped = frame.assign(actual=frame["held_actual"])
    frame = frame.assign(
        rag=preview(shaped, frame["value"], config=config, explain_why=False)["rag"]
    )
    limits = validation.process_limits(
        _earlier(frame, past), rules=config.entry, spc_min_points=config.rating.spc_min_points
    )
    return frame.join(limits, on="key")


def _year_to_date(frame: pd.DataFrame, past: pd.DataFrame) -> pd.DataFrame:
    """Per entry, the year to date with the held value of its own period (rating's rule)."""
    merged = frame[["key", "metric_id", "fiscal_year", "period_end", "aggregation", "unit"]].merge(
        past.rename(columns={"period_end": "end"}),
        left_on=["metric_id", "fiscal_year"],
        right_on=["metric_id", "fiscal_year"],
        how="left",
    )
    merged = merged[merged["end"].notna() & (merged["end"] <= merged["period_end"])]
    if merged.empty:
        return pd.DataFrame(columns=["ytd", "ytd_target", "ytd_target_upper"], dtype=float)
    so_far = merged.assign(metric_id=merged["key"], position=pd.to_datetime(merged["end"]).rank())
    return rating.year_to_date(so_far)


def _earlier(frame: pd.DataFrame, past: pd.DataFrame) -> pd.DataFrame:
    """Per entry, its measure's actuals from periods before its own."""
    merged = frame[["key", "metric_id", "period_end"]].merge(
        past[["metric_id", "period_end", "actual"]].rename(columns={"period_end": "end"}),
        on="metric_id",
    )
    return merged[merged["end"] < merged["period_end"]].sort_values(["key", "end"])
