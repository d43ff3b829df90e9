"""What is due: each measure's reporting period in a month (the one it reports, the one before,
last year's, and its entry deadline), the rows the rating pipeline (`metrics.pipeline.rate`)
rates. A monthly measure is due every month, a quarterly one in the last month of its quarter,
an annual one in the last month of its financial year (`periods.due_in_month`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics import periods
from metrics.frames import looked_up
from metrics.vocab import Frequency


def active_in(metrics: pd.DataFrame, month: periods.Period | pd.Series) -> pd.Series:
    """Active from/to are month labels (or blank); a metric is active in months between them
    (`month`: one month, or a month label per row)."""
    if isinstance(month, periods.Period):
        labels = np.full(len(metrics), month.label, dtype=object)
    else:
        labels = month.to_numpy(dtype=object)
    active = np.ones(len(metrics), dtype=bool)
    # Only the few measures with a bound are compared (as Python objects): pandas compared all
    # 20,000 of XL, blanks filled first, in 3 ms a bound, several times a page.
    for column, compare in (("active_from", np.less_equal), ("active_to", np.greater_equal)):
        bound = metrics[column].to_numpy(dtype=object)
        bounded = pd.notna(bound)
        if bounded.any():
            active[bounded] &= compare(bound[bounded], labels[bounded]).astype(bool)
    return pd.Series(active, index=metrics.index)


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
    # By the period's label, which says its frequency ("2017-02", "2016-17 Q4", "2016-17"),
    # then checked against the measure's own: the two texts joined took 10 ms at XL.
    keys = {period: at for at, period in enumerate(table["period"])}
    assert len(keys) == len(table), "a period's label names one frequency"
    place = looked_up(wanted["period"], keys, -1).to_numpy()
    frequencies = np.array([*table["frequency"], None], dtype=object)  # at -1: none
    found = (place >= 0) & (frequencies[place] == wanted["frequency"].to_numpy(dtype=object))
    chosen, at = wanted[found].drop(columns="period"), place[found]
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
