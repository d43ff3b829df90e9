"""The pipeline's order (`in_order`: tier, then code, stable) and its due rows
(`due_periods`: each active measure with its frequency's row of the month), checked against the
plain pandas each replaced."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics import due_rows, periods, pipeline
from metrics.config import Settings

TIERS = ["Corporate Plan", "ME2E", "Service Standards"]


def sorted_by_pandas(rows: pd.DataFrame) -> pd.DataFrame:
    order = rows["tier"].map(pipeline.TIER_ORDER).fillna(9)
    ranked = rows.assign(tier_order=order).sort_values(["tier_order", "code"])
    return ranked.drop(columns="tier_order").reset_index(drop=True)


@pytest.mark.parametrize(
    ("tiers", "codes", "expected"),
    [
        (["ME2E", "Corporate Plan"], ["A", "B"], [1, 0]),  # the tier first
        (["ME2E", "ME2E"], ["B", "A"], [1, 0]),  # then the code
        (["ME2E", "ME2E", "ME2E"], ["A", "A", "A"], [0, 1, 2]),  # one measure's rows keep theirs
        (["Other", None, "Service Standards"], ["A", "B", "C"], [2, 0, 1]),  # no tier: last
        (["ME2E", "ME2E", "ME2E"], ["a", "B", "É"], [1, 0, 2]),  # by code point, as pandas
        ([], [], []),
    ],
)
def test_in_order_is_tier_then_code(tiers: list, codes: list, expected: list[int]) -> None:
    rows = pd.DataFrame(
        {"tier": pd.array(tiers, dtype="str"), "code": pd.array(codes, dtype="str")},
        index=np.arange(len(tiers)) * 5,
    ).assign(row=range(len(tiers)))
    got = pipeline.in_order(rows)
    assert got["row"].tolist() == expected
    pd.testing.assert_frame_equal(got, sorted_by_pandas(rows))


def test_in_order_agrees_with_pandas_over_many_rows() -> None:
    rng = np.random.default_rng(11)
    size = 5_000
    rows = pd.DataFrame(
        {
            "tier": pd.Series(rng.choice([*TIERS, None], size), dtype="str"),
            "code": pd.Series(rng.choice([f"M{i:03d}" for i in range(300)], size), dtype="str"),
            "row": np.arange(size),
        }
    )
    pd.testing.assert_frame_equal(pipeline.in_order(rows), sorted_by_pandas(rows))


def merged_by_pandas(measures: pd.DataFrame, month: periods.Period) -> pd.DataFrame:
    settings = Settings()
    rows = [
        {"frequency": f.value, **due_rows._due_row(due, f, 4, settings.deadline)}
        for f in due_rows.Frequency
        if (due := periods.due_in_month(month, f, 4)) is not None
    ]
    active = measures[due_rows.active_in(measures, month)]
    return active.merge(pd.DataFrame(rows), on="frequency", how="inner")


@pytest.mark.parametrize("label", ["2017-03", "2017-02", "2016-12", "2016-04", "2016-06"])
def test_due_periods_is_the_merge_on_frequency(label: str) -> None:
    """Every frequency, measures not yet active and no longer active, in the measures' order."""
    frequencies = ["monthly", "quarterly", "annual", "monthly", "quarterly", "monthly"]
    measures = pd.DataFrame(
        {
            "metric_id": [6, 5, 4, 3, 2, 1],
            "code": pd.array(["F", "E", "D", "C", "B", "A"], dtype="str"),
            "frequency": pd.array(frequencies, dtype="str"),
            "active_from": [None, None, "2016-05", None, "2017-01", None],
            "active_to": [None, "2016-09", None, None, None, "2016-12"],
        },
        index=[10, 20, 30, 40, 50, 60],
    )
    month = periods.month_for(label, 4)
    got = due_rows.due_periods(measures, month, 4, Settings().deadline)
    pd.testing.assert_frame_equal(got, merged_by_pandas(measures, month))


def each_months_due_then_merged(wanted: pd.DataFrame, months: list[periods.Period]) -> pd.DataFrame:
    """What `due_in_months` replaced: every month's due rows, merged with what each wants."""
    measures = wanted.drop(columns="period")
    dues = [due_rows.due_periods(measures, month, 4, Settings().deadline) for month in months]
    due = pd.concat(dues, ignore_index=True)
    merged = due.merge(wanted[["metric_id", "period"]], on=["metric_id", "period"])
    return merged.drop_duplicates("metric_id", ignore_index=True)


@pytest.mark.parametrize(
    "months",
    [["2017-02", "2016-12", "2016-03"], ["2016-12"], ["2016-04", "2016-05"], []],
)
def test_due_in_months_is_each_months_due_rows_merged(months: list[str]) -> None:
    """Each measure's own period, due in one of the months: monthly, quarterly, annual; one
    wanting a period of no such month; one not yet active and one no longer active then; one
    wanting a period of another frequency than its own."""
    wanted = pd.DataFrame(
        {
            "metric_id": [1, 2, 3, 4, 5, 6, 7, 8],
            "code": pd.array(["A", "B", "C", "D", "E", "F", "G", "H"], dtype="str"),
            "frequency": pd.array(
                [
                    *("monthly", "quarterly", "annual", "monthly", "monthly", "monthly"),
                    *("quarterly", "quarterly"),
                ],
                dtype="str",
            ),
            "active_from": [None, None, None, None, "2017-01", None, None, None],
            "active_to": [None, None, None, None, None, "2016-06", None, None],
            "period": pd.array(
                [
                    *("2017-02", "2016-17 Q3", "2015-16", "2015-01", "2016-12", "2016-12"),
                    *("2016-17 Q1", "2016-12"),
                ],
                dtype="str",
            ),
        },
        index=[7, 6, 5, 4, 3, 2, 1, 8],
    )
    chosen = [periods.month_for(label, 4) for label in months]
    got = due_rows.due_in_months(wanted, chosen, 4, Settings().deadline)
    want = each_months_due_then_merged(wanted, chosen) if chosen else got.iloc[:0]
    pd.testing.assert_frame_equal(
        got.sort_values("metric_id", ignore_index=True),
        want.sort_values("metric_id", ignore_index=True),
        check_dtype=bool(chosen),
    )
    if "2017-02" in months:
        assert set(got["code"]) == {"A", "B", "C"}  # D's period is of no month; E, F inactive
