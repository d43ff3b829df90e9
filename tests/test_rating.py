"""Every risk-rating rule of docs/rating-rules.md, boundary by boundary."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from metrics.config import RatingRules
from metrics.explain import explain, format_value
from metrics.rating import (
    COUNT_COLUMNS,
    direction,
    forecast,
    is_overdue,
    rag,
    risk_level,
    risk_score,
    rollup,
    year_to_date,
)

RULES = RatingRules()
NUMERIC = ("actual", "target", "target_upper", "tolerance")


def one_row(**overrides: object) -> pd.DataFrame:
    """One metric row with every column the rating rules read; None becomes NaN."""
    row: dict[str, object] = {
        "polarity": "higher",
        "actual": 80.0,
        "target": 80.0,
        "target_upper": np.nan,
        "tolerance": np.nan,  # blank: the default 5 % of the target
        "tolerance_is_percent": True,
        "data_only": False,
        "unit": "percent",
        "decimals": 1,
        "period": "2015-04",
        "deadline": date(2015, 5, 15),
        "rated_on": "period",
        "risk_impact": 2,
    }
    row.update(overrides)
    for column in NUMERIC:
        row[column] = np.nan if row[column] is None else float(row[column])  # type: ignore[arg-type]
    return pd.DataFrame([row])


def rated(frame: pd.DataFrame, overdue: bool = False) -> str:
    return rag(frame, frame["actual"], rules=RULES, overdue=pd.Series([overdue])).iloc[0]


# --- RAG ------------------------------------------------------------------------------------

# polarity, actual, target, target_upper, tolerance (None: default 5 %), is_percent, expected
RAG_CASES = [
    # higher is better, default 5 % tolerance: the edge is 76 against 80
    ("higher", 80.0, 80.0, None, None, True, "Green"),  # exactly on target
    ("higher", 95.0, 80.0, None, None, True, "Green"),  # beyond target
    ("higher", 79.99, 80.0, None, None, True, "Amber"),  # just under target
    ("higher", 76.0, 80.0, None, None, True, "Amber"),  # exactly at the 5 % edge
    ("higher", 75.99, 80.0, None, None, True, "Red"),  # just beyond the edge
    ("higher", 72.0, 80.0, None, 10.0, True, "Amber"),  # exactly at a 10 % edge
    ("higher", 71.99, 80.0, None, 10.0, True, "Red"),  # just beyond a 10 % edge
    ("higher", 76.0, 80.0, None, 4.0, False, "Amber"),  # exactly at an absolute edge
    ("higher", 75.9, 80.0, None, 4.0, False, "Red"),  # just beyond an absolute edge
    ("higher", 0.0, 0.0, None, None, True, "Green"),  # zero target, met
    ("higher", -0.01, 0.0, None, None, True, "Red"),  # zero target: 5 % of zero is no tolerance
    (
        "higher",
        -0.5,
        0.0,
        None,
        0.5,
        False,
        "Amber",
    ),  # zero target, absolute tolerance still applies
    ("higher", -5.0, 10.0, None, None, True, "Red"),  # negative actual, positive target
    # higher is better with a negative target: a budget variance of -£1,000 (an overspend cap)
    ("higher", -1000.0, -1000.0, None, None, True, "Green"),  # on target
    ("higher", -900.0, -1000.0, None, None, True, "Green"),  # less overspent than allowed
    ("higher", -1050.0, -1000.0, None, None, True, "Amber"),  # edge: 5 % of |-1,000| = 50
    ("higher", -1050.01, -1000.0, None, None, True, "Red"),  # just beyond
    # lower is better: the mirror image, the edge is 8.4 against 8
    ("lower", 8.0, 8.0, None, None, True, "Green"),  # exactly on target
    ("lower", 7.0, 8.0, None, None, True, "Green"),  # under target
    ("lower", 8.4, 8.0, None, None, True, "Amber"),  # exactly at the 5 % edge
    ("lower", 8.41, 8.0, None, None, True, "Red"),  # just beyond the edge
    ("lower", 8.8, 8.0, None, 0.8, False, "Amber"),  # exactly at an absolute edge
    ("lower", 9.05, 8.0, None, 0.8, False, "Red"),  # days to process a claim
    ("lower", 0.0, 0.0, None, None, True, "Green"),  # zero target, met
    ("lower", 0.01, 0.0, None, None, True, "Red"),  # zero target: no tolerance
    ("lower", -1200.0, -1000.0, None, None, True, "Green"),  # negative: further under is better
    ("lower", -950.0, -1000.0, None, None, True, "Amber"),  # edge: 5 % of |-1,000| = 50
    ("lower", -949.99, -1000.0, None, None, True, "Red"),  # just beyond
    # band: inside [10, 20] is best; 5 % of 10 below (9.5), 5 % of 20 above (21)
    ("band", 15.0, 10.0, 20.0, None, True, "Green"),  # inside
    ("band", 10.0, 10.0, 20.0, None, True, "Green"),  # exactly on the lower bound
    ("band", 20.0, 10.0, 20.0, None, True, "Green"),  # exactly on the upper bound
    ("band", 9.5, 10.0, 20.0, None, True, "Amber"),  # exactly at the lower tolerance edge
    ("band", 9.49, 10.0, 20.0, None, True, "Red"),  # just beyond it
    ("band", 21.0, 10.0, 20.0, None, True, "Amber"),  # exactly at the upper tolerance edge
    ("band", 21.01, 10.0, 20.0, None, True, "Red"),  # just beyond it
    ("band", 8.0, 10.0, 20.0, 2.0, False, "Amber"),  # absolute: lower edge 8
    ("band", 7.99, 10.0, 20.0, 2.0, False, "Red"),  # just beyond it
    ("band", 22.0, 10.0, 20.0, 2.0, False, "Amber"),  # absolute: upper edge 22
    ("band", 22.01, 10.0, 20.0, 2.0, False, "Red"),  # just beyond it
    ("band", -1.0, -2.0, 2.0, None, True, "Green"),  # a range around zero: inside
    ("band", 15.0, 10.0, None, None, True, "Data only"),  # no upper target: no range to judge
    ("band", 15.0, None, 20.0, None, True, "Data only"),  # no lower target
    # no target
    ("higher", 10.0, None, None, None, True, "Data only"),  # never coloured
    ("lower", 10.0, None, None, 1.0, False, "Data only"),  # a tolerance alone is not a target
]


@pytest.mark.parametrize(
    ("polarity", "actual", "target", "target_upper", "tolerance", "is_percent", "expected"),
    RAG_CASES,
)
def test_rag(polarity, actual, target, target_upper, tolerance, is_percent, expected) -> None:
    frame = one_row(
        polarity=polarity,
        actual=actual,
        target=target,
        target_upper=target_upper,
        tolerance=tolerance,
        tolerance_is_percent=is_percent,
    )
    assert rated(frame) == expected


def test_rag_rates_a_whole_period_in_one_call_as_row_by_row() -> None:
    frames = [
        one_row(
            polarity=p, actual=a, target=t, target_upper=u, tolerance=tol, tolerance_is_percent=pc
        )
        for p, a, t, u, tol, pc, _ in RAG_CASES
    ]
    period = pd.concat(frames, ignore_index=True)
    together = rag(period, period["actual"], rules=RULES)
    assert together.tolist() == [expected for *_, expected in RAG_CASES]


@pytest.mark.parametrize(
    ("default_percent", "actual", "expected"),
    [
        (5.0, 76.0, "Amber"),  # the default 5 % edge
        (10.0, 72.0, "Amber"),  # a wider default from config.toml
        (2.5, 77.9, "Red"),  # a narrower one: edge 78
    ],
)
def test_default_tolerance_comes_from_the_settings(default_percent, actual, expected) -> None:
    frame = one_row(actual=actual, target=80.0)
    rules = replace(RULES, default_tolerance_percent=default_percent)
    assert rag(frame, frame["actual"], rules=rules).iloc[0] == expected


@pytest.mark.parametrize(
    ("actual", "target", "data_only", "today", "expected"),
    [
        (None, 80.0, False, date(2015, 5, 14), "Missing"),  # before the deadline
        (None, 80.0, False, date(2015, 5, 15), "Missing"),  # the deadline day itself is on time
        (None, 80.0, False, date(2015, 5, 16), "Overdue"),  # the day after the deadline
        (None, None, False, date(2015, 5, 16), "Overdue"),  # no target does not excuse lateness
        (None, None, True, date(2015, 5, 14), "Missing"),  # a data only measure still needs data
        (70.0, 80.0, False, date(2016, 1, 1), "Red"),  # entered late is still rated
        (80.0, 80.0, True, date(2015, 5, 1), "Data only"),  # the data only flag beats a target
    ],
)
def test_missing_and_overdue_by_the_deadline(actual, target, data_only, today, expected) -> None:
    frame = one_row(actual=actual, target=target, data_only=data_only)
    overdue = is_overdue(frame["deadline"], today)
    assert rag(frame, frame["actual"], rules=RULES, overdue=overdue).iloc[0] == expected


@pytest.mark.parametrize(
    ("deadline", "today", "expected"),
    [
        (date(2015, 5, 15), date(2015, 5, 14), False),  # before
        (date(2015, 5, 15), date(2015, 5, 15), False),  # on the day
        (date(2015, 5, 15), date(2015, 5, 16), True),  # after
        ("2015-05-15", date(2015, 5, 16), True),  # an ISO string deadline
        (None, date(2015, 5, 16), False),  # no deadline: never overdue
        (datetime(2015, 5, 15, 18, 30), date(2015, 5, 15), False),  # a time on the day
    ],
)
def test_is_overdue(deadline, today, expected) -> None:
    assert is_overdue(pd.Series([deadline]), today).iloc[0] == expected
    # a day for each row, as a kept rating's (a date, or SQLite's text), says the same
    for each in (today, today.isoformat()):
        assert is_overdue(pd.Series([deadline]), pd.Series([each])).iloc[0] == expected


# --- Direction of travel --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("polarity", "current", "earlier", "target", "target_upper", "expected"),
    [
        ("higher", 102.0, 100.0, 80.0, None, "Improving"),  # up is better
        ("higher", 98.0, 100.0, 80.0, None, "Worsening"),  # down is worse
        ("higher", 100.5, 100.0, 80.0, None, "Stable"),  # half the threshold
        ("higher", 100.99, 100.0, 80.0, None, "Stable"),  # just under the 1 % threshold
        ("higher", 101.0, 100.0, 80.0, None, "Improving"),  # exactly 1 % is not under it
        ("higher", 99.0, 100.0, 80.0, None, "Worsening"),  # exactly 1 % down
        ("higher", 80.8, 80.0, 80.0, None, "Improving"),  # exactly 1 % despite float rounding
        ("higher", 100.0, 100.0, None, None, "Stable"),  # no change; no target needed
        ("lower", 98.0, 100.0, 80.0, None, "Improving"),  # down is better
        ("lower", 102.0, 100.0, 80.0, None, "Worsening"),  # up is worse
        ("lower", 99.0, 100.0, 80.0, None, "Improving"),  # exactly 1 % down
        ("lower", 100.5, 100.0, 80.0, None, "Stable"),  # under the threshold
        ("higher", 0.0, 0.0, 1.0, None, "Stable"),  # earlier zero, no change
        ("higher", 0.01, 0.0, 1.0, None, "Improving"),  # earlier zero: any change is a change
        ("lower", 0.01, 0.0, 1.0, None, "Worsening"),  # earlier zero, lower is better
        ("higher", -99.0, -100.0, 0.0, None, "Improving"),  # negative: 1 % of |-100| up
        ("higher", -100.5, -100.0, 0.0, None, "Stable"),  # negative, under the threshold
        ("lower", -101.0, -100.0, 0.0, None, "Improving"),  # negative, lower is better
        ("higher", None, 100.0, 80.0, None, "No comparison"),  # no current value
        ("higher", 100.0, None, 80.0, None, "No comparison"),  # no earlier value
        # band [10, 20]: nearer the range is better
        ("band", 18.0, 15.0, 10.0, 20.0, "Stable"),  # moved inside the range
        ("band", 24.0, 30.0, 10.0, 20.0, "Improving"),  # towards the range from above
        ("band", 9.0, 5.0, 10.0, 20.0, "Improving"),  # towards the range from below
        ("band", 19.0, 30.0, 10.0, 20.0, "Improving"),  # into the range
        ("band", 25.0, 22.0, 10.0, 20.0, "Worsening"),  # away from the range
        ("band", 25.0, 15.0, 10.0, 20.0, "Worsening"),  # out of the range
        ("band", 5.0, 9.0, 10.0, 20.0, "Worsening"),  # away below
        ("band", 22.0, 8.0, 10.0, 20.0, "Stable"),  # across the range, just as far outside
        ("band", 25.1, 25.0, 10.0, 20.0, "Stable"),  # under the 1 % threshold
        ("band", 25.0, 15.0, 10.0, None, "No comparison"),  # no upper target: no range
        ("band", 25.0, 15.0, None, None, "No comparison"),  # no range at all
    ],
)
def test_direction(polarity, current, earlier, target, target_upper, expected) -> None:
    frame = one_row(polarity=polarity, target=target, target_upper=target_upper)
    now, before = pd.Series([current], dtype=float), pd.Series([earlier], dtype=float)
    assert direction(frame, now, before, rules=RULES).iloc[0] == expected


def test_stable_threshold_comes_from_the_settings() -> None:
    frame = one_row()
    rules = replace(RULES, stable_threshold_percent=5.0)
    now, before = pd.Series([104.0]), pd.Series([100.0])
    assert direction(frame, now, before, rules=rules).iloc[0] == "Stable"


# --- Risk -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "travel", "impact", "expected"),
    [
        ("Green", "Stable", 1, 1),  # likelihood 1 × impact 1
        ("Green", "Stable", 2, 2),
        ("Green", "Stable", 3, 3),
        ("Amber", "Stable", 1, 2),  # likelihood 2
        ("Amber", "Stable", 2, 4),
        ("Amber", "Stable", 3, 6),
        ("Red", "Stable", 1, 3),  # likelihood 3
        ("Red", "Stable", 2, 6),
        ("Red", "Stable", 3, 9),  # the top of the matrix
        ("Green", "Worsening", 1, 2),  # Worsening adds 1: likelihood 2
        ("Green", "Worsening", 3, 6),
        ("Amber", "Worsening", 1, 3),  # likelihood 3
        ("Amber", "Worsening", 3, 9),
        ("Red", "Worsening", 1, 3),  # capped at 3
        ("Red", "Worsening", 3, 9),  # capped at 3
        ("Red", "Improving", 2, 6),  # only Worsening moves the likelihood
        ("Amber", "No comparison", 2, 4),
        ("Data only", "Worsening", 3, 0),  # unrated statuses score 0
        ("Missing", "Stable", 3, 0),
        ("Overdue", "Worsening", 3, 0),
    ],
)
def test_risk_score(status, travel, impact, expected) -> None:
    score = risk_score(pd.Series([status]), pd.Series([travel]), pd.Series([impact]))
    assert score.iloc[0] == expected


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (0, "Not rated"),  # unrated
        (1, "Low"),
        (2, "Low"),  # the top of Low (risk_low_max)
        (3, "Medium"),  # the bottom of Medium
        (4, "Medium"),  # the top of Medium (risk_medium_max)
        (5, "High"),  # cannot be scored, but anything above 4 is High
        (6, "High"),  # the bottom of High
        (9, "High"),
    ],
)
def test_risk_level(score, expected) -> None:
    assert risk_level(pd.Series([score]), rules=RULES).iloc[0] == expected


# --- Roll-up --------------------------------------------------------------------------------


def group_of(*statuses: str, high_risk_red: bool = False) -> pd.DataFrame:
    """One team's metrics with these statuses; the first Red is High risk when asked."""
    levels = ["Medium" if s in ("Red", "Amber", "Green") else "Not rated" for s in statuses]
    if high_risk_red:
        levels[list(statuses).index("Red")] = "High"
    return pd.DataFrame({"team": "T1", "rag": list(statuses), "risk_level": levels})


@pytest.mark.parametrize(
    ("statuses", "high_risk_red", "expected", "counts"),
    [
        (["Red", *["Green"] * 9], True, "Red", [1, 0, 9, 0, 0]),  # a High-risk Red
        (["Red", "Green", "Green"], False, "Red", [1, 0, 2, 0, 0]),  # exactly a third Red
        (["Red", "Green", "Green", "Green"], False, "Amber", [1, 0, 3, 0, 0]),  # under a third
        (["Red", *["Green"] * 9], False, "Amber", [1, 0, 9, 0, 0]),  # any Red is Amber at least
        (["Amber", "Green", "Green"], False, "Amber", [0, 1, 2, 0, 0]),  # exactly a third Amber
        (["Amber", "Green", "Green", "Green"], False, "Green", [0, 1, 3, 0, 0]),  # under a third
        (["Green", "Green"], False, "Green", [0, 0, 2, 0, 0]),  # all Green
        (["Red", "Amber", "Green", "Green"], False, "Amber", [1, 1, 2, 0, 0]),  # a quarter each
        (["Red", "Data only", "Data only"], False, "Red", [1, 0, 0, 2, 0]),  # shares of rated only
        (["Green", "Missing", "Missing"], False, "Green", [0, 0, 1, 0, 2]),  # Missing is not rated
        (["Data only", "Data only"], False, "Data only", [0, 0, 0, 2, 0]),  # nothing rated
        (["Data only", "Missing"], False, "Data only", [0, 0, 0, 1, 1]),  # nothing rated
        (["Missing", "Missing"], False, "Missing", [0, 0, 0, 0, 2]),  # nothing entered
        (["Overdue", "Missing"], False, "Missing", [0, 0, 0, 0, 2]),  # Overdue counts as Missing
        (["Overdue", "Green"], False, "Green", [0, 0, 1, 0, 1]),
    ],
)
def test_rollup(statuses, high_risk_red, expected, counts) -> None:
    result = rollup(group_of(*statuses, high_risk_red=high_risk_red), "team", rules=RULES)
    assert result["status"].tolist() == [expected]
    assert result[COUNT_COLUMNS].iloc[0].tolist() == counts


def test_rollup_groups_by_several_columns() -> None:
    frame = pd.concat(
        [
            group_of("Red", "Green").assign(service="S1", team="T1"),
            group_of("Green", "Green", "Amber", "Green").assign(service="S1", team="T2"),
            group_of("Missing").assign(service="S2", team="T3"),
        ]
    )
    result = rollup(frame, ["service", "team"], rules=RULES).set_index("team")
    assert result["status"].to_dict() == {"T1": "Red", "T2": "Green", "T3": "Missing"}
    assert result.loc["T2", "service"] == "S1"


def test_rollup_counts_high_risk_reds_and_a_row_without_a_status_nowhere() -> None:
    frame = pd.DataFrame(
        {
            "team": "T1",
            "rag": ["Red", "Red", "Amber", None],
            "risk_level": ["High", "Medium", "High", None],
        }
    )
    result = rollup(frame, "team", rules=RULES)
    assert result["high_red"].tolist() == [1]  # the High-risk Amber is no High-risk Red
    assert result[COUNT_COLUMNS].iloc[0].tolist() == [2, 1, 0, 0, 0]
    assert result["status"].tolist() == ["Red"]


def test_rollup_with_the_shares_of_config_toml() -> None:
    rules = replace(RULES, rollup_red_share=0.3333, rollup_amber_share=0.3333)
    result = rollup(group_of("Red", "Green", "Green"), "team", rules=rules)
    assert result["status"].iloc[0] == "Red"  # a third is at least 0.3333


# --- Year to date ---------------------------------------------------------------------------


def history(aggregation: str, unit: str = "number", **columns: list) -> pd.DataFrame:
    """One metric's rows for the year so far, positions 1, 2, ...; None becomes NaN."""
    length = len(next(iter(columns.values())))
    frame = pd.DataFrame(
        {
            "metric_id": 1,
            "aggregation": aggregation,
            "unit": unit,
            "position": range(1, length + 1),
            **{c: [np.nan] * length for c in ("actual", "numerator", "denominator")},
            **{c: [np.nan] * length for c in ("target", "target_upper")},
        }
    )
    for name, values in columns.items():
        frame[name] = pd.Series(values, dtype=float)
    return frame


@pytest.mark.parametrize(
    ("aggregation", "unit", "columns", "ytd", "ytd_target"),
    [
        ("sum", "number", {"actual": [10, 20, 30], "target": [10, 10, 10]}, 60.0, 30.0),  # adds
        ("sum", "number", {"actual": [10, None, 30], "target": [10, 10, 10]}, 40.0, 30.0),  # gap
        ("sum", "number", {"actual": [None, None], "target": [5, 5]}, np.nan, 10.0),  # no data
        ("mean", "days", {"actual": [10, 20, 30], "target": [8, 10, 12]}, 20.0, 10.0),  # averages
        ("last", "number", {"actual": [10, 20, 30], "target": [1, 2, 3]}, 30.0, 3.0),  # latest
        (
            "last",
            "number",
            {"actual": [10, 20, None], "target": [1, 2, 3]},
            np.nan,
            3.0,
        ),  # not stale
        # ratio: sum of numerators / sum of denominators × 100 for a percent
        (
            "ratio",
            "percent",
            {
                "actual": [80, 90],
                "numerator": [80, 45],
                "denominator": [100, 50],
                "target": [85, 85],
            },
            125 / 150 * 100,
            85.0,
        ),
        # ...not the mean of the two percentages (85)
        (
            "ratio",
            "percent",
            {"actual": [80, None], "numerator": [80, None], "denominator": [100, 50]},
            80.0,
            np.nan,
        ),  # a denominator without its numerator is left out
        ("ratio", "percent", {"actual": [80, 90], "target": [85, 90]}, 85.0, 90.0),  # no num/den
        (
            "ratio",
            "ratio",
            {"actual": [1.5, 2.5], "numerator": [3, 5], "denominator": [2, 2]},
            2.0,
            np.nan,
        ),  # a plain ratio is not scaled by 100
    ],
)
def test_year_to_date(aggregation, unit, columns, ytd, ytd_target) -> None:
    result = year_to_date(history(aggregation, unit, **columns)).loc[1]
    assert result["ytd"] == pytest.approx(ytd, nan_ok=True)
    assert result["ytd_target"] == pytest.approx(ytd_target, nan_ok=True)


@pytest.mark.parametrize(
    ("aggregation", "expected_upper"),
    [
        ("sum", 36.0),  # a sum band's upper target adds up like its lower target
        ("mean", 12.0),
        ("last", 12.0),
    ],
)
def test_year_to_date_upper_target_follows_the_aggregation(aggregation, expected_upper) -> None:
    rows = history(aggregation, actual=[10, 11, 12], target=[8, 8, 8], target_upper=[12, 12, 12])
    assert year_to_date(rows).loc[1, "ytd_target_upper"] == pytest.approx(expected_upper)


def test_year_to_date_of_several_metrics_in_one_call() -> None:
    rows = pd.concat(
        [
            history("sum", actual=[1, 2]).assign(metric_id=7),
            history("mean", actual=[4, 6, 8]).assign(metric_id=3),
        ]
    )
    assert year_to_date(rows)["ytd"].to_dict() == {3: 6.0, 7: 3.0}


# --- Forecast -------------------------------------------------------------------------------


def year_of(per_year: int, **values: float) -> pd.DataFrame:
    """The year frame forecast reads, for metric 1."""
    row = {
        "per_year": per_year,
        "year_target": np.nan,
        "year_end_target": np.nan,
        "year_end_target_upper": np.nan,
        **values,
    }
    return pd.DataFrame([row], index=pd.Index([1], name="metric_id"))


@pytest.mark.parametrize(
    ("aggregation", "unit", "per_year", "columns", "expected"),
    [
        ("sum", "number", 12, {"actual": [10, 20, 30]}, 240.0),  # run rate: 60 / 3 × 12
        ("sum", "number", 12, {"actual": [10, None, 30]}, 240.0),  # rate over periods with data
        ("sum", "number", 4, {"actual": [5, 6, 7, 8]}, 26.0),  # year end equals the YTD sum
        ("mean", "days", 12, {"actual": [10, 12, 14]}, 21.0),  # trend 16 ... 32, mean of 12
        ("mean", "days", 4, {"actual": [10, 12, None]}, 13.0),  # a missing period is projected
        ("mean", "days", 4, {"actual": [3, 5, 4, 8]}, 5.0),  # year end equals the YTD mean
        ("mean", "days", 12, {"actual": [None, None, None, 10, 20, 30]}, 50.0),  # no back-casting
        ("last", "number", 12, {"actual": [10, 12, 14]}, 32.0),  # the trend at period 12
        ("last", "number", 4, {"actual": [10, 12, 11, 9]}, 9.0),  # year end: the last value
        ("mean", "number", 12, {"actual": [50]}, 50.0),  # a single point projects flat
        ("last", "number", 12, {"actual": [50]}, 50.0),
        ("mean", "number", 12, {"actual": [None, None]}, np.nan),  # no data, no forecast
        ("sum", "number", 12, {"actual": [None]}, np.nan),
        # ratio: trend 70, 80 for periods 3 and 4, each weighted by the mean denominator 200:
        # (50 + 180 + 140 + 160) / (100 + 300 + 200 + 200) = 530 / 800
        (
            "ratio",
            "percent",
            4,
            {"actual": [50, 60], "numerator": [50, 180], "denominator": [100, 300]},
            66.25,
        ),
        (
            "ratio",
            "percent",
            2,
            {"actual": [50, 60], "numerator": [50, 180], "denominator": [100, 300]},
            230 / 400 * 100,
        ),  # year end equals the YTD ratio
        ("ratio", "percent", 4, {"actual": [50, 60]}, 65.0),  # without num/den: mean with trend
    ],
)
def test_forecast_outturn(aggregation, unit, per_year, columns, expected) -> None:
    result = forecast(history(aggregation, unit, **columns), year_of(per_year)).loc[1]
    assert result["forecast"] == pytest.approx(expected, nan_ok=True)


@pytest.mark.parametrize("aggregation", ["sum", "mean", "last", "ratio"])
@pytest.mark.parametrize("per_year", [4, 12])
def test_forecast_does_not_depend_on_the_order_rows_come_in(aggregation, per_year) -> None:
    """The database returns rows in no order (SQLite and PostgreSQL differ); once, a `last`
    measure's year-end forecast took whichever row came last."""
    rows = history(
        aggregation,
        "percent",
        actual=[40, 55, 50, 65],
        numerator=[40, 110, 50, 130],
        denominator=[100, 200, 100, 200],
        target=[50, 50, 50, 50],
    )
    in_order = forecast(rows, year_of(per_year))
    for shuffled in (rows.iloc[::-1], rows.iloc[[2, 0, 3, 1]]):
        pd.testing.assert_frame_equal(forecast(shuffled, year_of(per_year)), in_order)


def test_forecast_at_year_end_equals_year_to_date_for_every_aggregation() -> None:
    for aggregation in ("sum", "mean", "last", "ratio"):
        rows = history(
            aggregation,
            "percent",
            actual=[40, 55, 50, 65],
            numerator=[40, 110, 50, 130],
            denominator=[100, 200, 100, 200],
        )
        ytd = year_to_date(rows).loc[1, "ytd"]
        assert forecast(rows, year_of(4)).loc[1, "forecast"] == pytest.approx(ytd), aggregation


@pytest.mark.parametrize(
    ("aggregation", "year", "targets", "expected_target"),
    [
        ("sum", {"year_target": 300.0}, [25, 25, 25], 300.0),  # the year's targets added up
        ("sum", {}, [20, 25, 30], 300.0),  # profiled: mean target so far × 12
        ("sum", {}, [None, None, None], np.nan),  # no target at all
        ("mean", {"year_end_target": 9.0}, [10, 10, 10], 9.0),  # the last period's target
        ("mean", {}, [10, 11, None], 11.0),  # else the latest target set so far
        ("ratio", {}, [None, None, None], np.nan),
    ],
)
def test_forecast_target(aggregation, year, targets, expected_target) -> None:
    rows = history(aggregation, actual=[10, 20, 30], target=targets)
    result = forecast(rows, year_of(12, **year)).loc[1]
    assert result["forecast_target"] == pytest.approx(expected_target, nan_ok=True)


def test_forecast_of_a_sum_band_adds_up_the_upper_targets() -> None:
    rows = history("sum", actual=[10, 10], target=[8, 8], target_upper=[12, 12])
    result = forecast(rows, year_of(12)).loc[1]
    assert (result["forecast_target"], result["forecast_target_upper"]) == (96.0, 144.0)
    given = forecast(rows, year_of(12, year_target_upper=150.0)).loc[1]
    assert given["forecast_target_upper"] == 150.0


# --- Why this colour ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "decimals", "expected"),
    [
        (71.234, "percent", 1, "71.2 %"),
        (80.0, "percent", 0, "80 %"),
        (-3.5, "percent", 1, "-3.5 %"),
        (1234.4, "currency", 0, "£1,234"),
        (-50.0, "currency", 0, "-£50"),  # a negative amount: the sign before the pound
        (-1234.56, "currency", 2, "-£1,234.56"),
        (-0.004, "currency", 2, "£0.00"),  # rounds to zero: no negative zero
        (8.5, "days", 1, "8.5 days"),
        (1234.0, "number", 0, "1,234"),
        (1234567.891, "number", 2, "1,234,567.89"),
        (2.5, "ratio", 2, "2.50"),  # a ratio is a plain number
        (7.0, "number", -1, "7"),  # negative decimals count as none
        (None, "percent", 1, "no value"),
        (np.nan, "number", 0, "no value"),
    ],
)
def test_format_value(value, unit, decimals, expected) -> None:
    assert format_value(value, unit, decimals) == expected


def sentence(today: date = date(2015, 5, 1), **overrides: object) -> str:
    """The explanation for one row, rated as the status query rates it."""
    frame = one_row(**overrides)
    status = rag(frame, frame["actual"], rules=RULES, overdue=is_overdue(frame["deadline"], today))
    return explain(frame, frame["actual"], status, rules=RULES).iloc[0]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (  # the example in docs/rating-rules.md, "Why this colour"
            {"actual": 71.2},
            "Red: 71.2 % is below the 80.0 % target by more than the 5 % tolerance (76.0 %); "
            "higher is better",
        ),
        (  # exactly at the edge is Amber, and says so
            {"actual": 76.0},
            "Amber: 76.0 % is below the 80.0 % target but within the 5 % tolerance (76.0 %); "
            "higher is better",
        ),
        (
            {"actual": 80.0},
            "Green: 80.0 % meets or beats the 80.0 % target; higher is better",
        ),
        (  # lower is better, absolute tolerance
            {
                "polarity": "lower",
                "actual": 9.05,
                "target": 8.0,
                "tolerance": 0.8,
                "tolerance_is_percent": False,
                "unit": "days",
                "decimals": 2,
            },
            "Red: 9.05 days is above the 8.00 days target by more than the tolerance of "
            "0.80 days (8.80 days); lower is better",
        ),
        (
            {"polarity": "lower", "actual": 8.4, "target": 8.0, "unit": "days"},
            "Amber: 8.4 days is above the 8.0 days target but within the 5 % tolerance "
            "(8.4 days); lower is better",
        ),
        (
            {"polarity": "lower", "actual": 7.5, "target": 8.0, "unit": "days"},
            "Green: 7.5 days is at or under the 8.0 days target; lower is better",
        ),
        (  # rounding to 1 place would show 8.4 against an 8.4 edge: more places are shown
            {"polarity": "lower", "actual": 8.41, "target": 8.0, "unit": "days"},
            "Red: 8.41 days is above the 8.00 days target by more than the 5 % tolerance "
            "(8.40 days); lower is better",
        ),
        (  # band, below the range
            {"polarity": "band", "actual": 9.5, "target": 10.0, "target_upper": 20.0},
            "Amber: 9.5 % is below the target range 10.0 % to 20.0 % but within the 5 % "
            "tolerance (9.5 %); inside the target range is best",
        ),
        (  # band, above the range: the edge is over the upper target
            {"polarity": "band", "actual": 25.0, "target": 10.0, "target_upper": 20.0},
            "Red: 25.0 % is above the target range 10.0 % to 20.0 % by more than the 5 % "
            "tolerance (21.0 %); inside the target range is best",
        ),
        (
            {"polarity": "band", "actual": 15.0, "target": 10.0, "target_upper": 20.0},
            "Green: 15.0 % is inside the target range 10.0 % to 20.0 %; "
            "inside the target range is best",
        ),
        (  # a budget variance in pounds
            {"actual": -1050.0, "target": -1000.0, "unit": "currency", "decimals": 0},
            "Amber: -£1,050 is below the -£1,000 target but within the 5 % tolerance (-£1,050); "
            "higher is better",
        ),
        (  # a sum measure is rated year to date
            {
                "actual": 1234.0,
                "target": 1200.0,
                "unit": "number",
                "decimals": 0,
                "rated_on": "ytd",
            },
            "Green: 1,234 year to date meets or beats the 1,200 year-to-date target; "
            "higher is better",
        ),
        (
            {
                "actual": 1100.0,
                "target": 1200.0,
                "unit": "number",
                "decimals": 0,
                "rated_on": "ytd",
            },
            "Red: 1,100 year to date is below the 1,200 year-to-date target by more than "
            "the 5 % tolerance (1,140); higher is better",
        ),
        (
            {"actual": None},
            "Missing: no actual entered for April 2015; it is due by 15 May 2015",
        ),
        (
            {"actual": None, "deadline": date(2015, 4, 30)},
            "Overdue: no actual entered for April 2015; it was due by 30 April 2015",
        ),
        (
            {"actual": 42.0, "data_only": True, "unit": "number", "decimals": 0},
            "Data only: 42 is not rated; this is a contextual measure with no target",
        ),
        (
            {"actual": 42.0, "target": None, "unit": "number", "decimals": 0},
            "Data only: 42 is not rated; no target is set for April 2015",
        ),
        (  # a count with no target still says its number is the year so far
            {"actual": 82.0, "target": None, "unit": "number", "decimals": 0, "rated_on": "ytd"},
            "Data only: 82 year to date is not rated; no target is set for April 2015",
        ),
        (
            {"polarity": "band", "actual": 15.0, "target": 10.0, "target_upper": None},
            "Data only: 15.0 % is not rated; no upper target is set for April 2015",
        ),
    ],
)
def test_explain(overrides, expected) -> None:
    assert sentence(**overrides) == expected


@pytest.mark.parametrize(
    ("polarity", "actual", "target", "target_upper", "tolerance", "is_percent", "expected"),
    RAG_CASES,
)
def test_every_sentence_starts_with_its_status_and_the_polarity(
    polarity, actual, target, target_upper, tolerance, is_percent, expected
) -> None:
    text = sentence(
        polarity=polarity,
        actual=actual,
        target=target,
        target_upper=target_upper,
        tolerance=tolerance,
        tolerance_is_percent=is_percent,
    )
    assert text.startswith(f"{expected}: ")
    if expected in ("Red", "Amber", "Green"):
        assert text.endswith(
            {"higher": "higher is better", "lower": "lower is better"}.get(
                polarity, "inside the target range is best"
            )
        )
