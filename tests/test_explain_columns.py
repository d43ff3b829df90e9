"""The sentences built column-wise (issue 12) are byte for byte the ones the per-row build wrote
(`tests/explain_by_row.py`), over thousands of varied rows: every status, polarity, unit,
tolerance and number of places, values on and near every edge, and XmR readings of every rule."""

from __future__ import annotations

from datetime import date

import explain_by_row as by_row
import numpy as np
import pandas as pd
import pytest

from metrics import explain, spc
from metrics.config import RatingRules
from metrics.rating import is_overdue, rag, tolerance_below
from metrics.vocab import Signal

RULES = RatingRules()
UNITS = ["percent", "currency", "days", "number", "ratio"]


@pytest.mark.parametrize(
    "value",
    [-0.05, -0.04, -0.004, -0.005, -0.0049999, 0.125, 2.675, -2.675, 1234567.891, -1e-12, 0.0,
     -0.0, 1e15, -999.5, 0.5, -0.5, 1.005, np.inf, -np.inf, np.nan],
)  # fmt: skip
def test_format_values_writes_what_format_value_writes(value: float) -> None:
    for unit in UNITS:
        for decimals in (-1, 0, 1, 2, 3):
            expected = explain.format_value(value, unit, decimals)
            got = explain.format_values(np.array([value]), np.array([unit]), np.array([decimals]))
            assert got[0] == expected, (value, unit, decimals)


def test_format_values_writes_only_the_rows_asked_for() -> None:
    rng = np.random.default_rng(5)
    value = rng.choice([-0.04, -2.5, 0.0, 71.25, 1234.5, np.nan, np.inf], 300)
    unit, places = rng.choice(UNITS, 300), rng.choice([-1, 0, 1, 2], 300)
    rows = rng.random(300) < 0.4
    got = explain.format_values(value, unit, places, rows=rows)
    whole = explain.format_values(value, unit, places)
    assert (got[rows] == whole[rows]).all()
    assert (got[~rows] == "").all()


@pytest.mark.parametrize(
    ("value", "other", "decimals", "places"),
    [  # written alike at the measure's places: more are added until they differ (at most 4)
        (8.44, 8.4, 1, 2),
        (8.44, 8.5, 1, 1),
        (8.4, 8.4, 1, 1),  # equal numbers need no more places
        (1.00004, 1.0, 0, 4),
        (1.000001, 1.0, 0, 4),  # still alike at 4 more: the most added
        (100.0, 1.0, 0, 0),
        (-0.001, 0.0, 2, 2),  # "-0.00" and "0.00": the sign tells them apart
        (np.nan, 1.0, 1, 1),
        (1.0, np.nan, 1, 1),
        (np.inf, 1.0, 1, 1),
    ],
)
def test_places_to_tell_apart(value: float, other: float, decimals: int, places: int) -> None:
    got = explain.places_to_tell_apart(np.array([value]), [np.array([other])], np.array([decimals]))
    assert got.tolist() == [places]


def varied_rows(size: int, seed: int) -> pd.DataFrame:
    """Rows of every shape the rating reads, with values on, near and far from each edge."""
    rng = np.random.default_rng(seed)
    pick = lambda options: rng.choice(np.array(options, dtype=object), size)  # noqa: E731
    target = pick([80.0, 8.0, 1200.0, -1000.0, 0.5, 0.0, 10.0, 12.345, np.nan]).astype(float)
    upper = np.where(rng.random(size) < 0.8, target + pick([0.0, 0.1, 5.0, 10.0]), np.nan)
    frame = pd.DataFrame(
        {
            "polarity": pick(["higher", "lower", "band"]),
            "target": target,
            "target_upper": upper.astype(float),
            "tolerance": pick([np.nan, 5.0, 0.8, 10.0, 2.5, 0.04]).astype(float),
            "tolerance_is_percent": pick([True, False]).astype(bool),
            "data_only": rng.random(size) < 0.05,
            "unit": pick(UNITS),
            "decimals": pick([-1, 0, 1, 1, 2, 3]).astype(int),
            "period": pick(["2015-04", "2016-Q1", "2016-17"]),
            "deadline": pick([date(2015, 5, 15), date(2016, 4, 30), None]),
            "rated_on": pick(["ytd", "period"]),
        }
    )
    edge = frame["target"] - tolerance_below(frame, RULES.default_tolerance_percent)
    anchor = np.where(rng.random(size) < 0.5, frame["target"], edge)
    nudge = pick([0.0, 0.0, 1e-12, -1e-12, 0.004, -0.004, 0.01, -0.01, 0.3, -2.0, 7.0, 40.0])
    value = anchor + nudge.astype(float)
    value = np.where(rng.random(size) < 0.05, pick([-0.04, -0.05, -0.004, 0.0]), value)
    value = np.where(rng.random(size) < 0.05, np.nan, value)
    return frame.assign(actual=value.astype(float))


@pytest.mark.parametrize("seed", range(3))
def test_explain_writes_every_sentence_as_the_per_row_build_did(seed: int) -> None:
    frame = varied_rows(4000, seed)
    value = frame["actual"]
    overdue = is_overdue(frame["deadline"].fillna(date(2100, 1, 1)), date(2016, 1, 1))
    statuses = [
        rag(frame, value, rules=RULES, overdue=overdue),  # as the pipeline rates them
        pd.Series(  # and every status against every shape of row
            np.random.default_rng(seed).choice(
                ["Green", "Amber", "Red", "Missing", "Overdue", "Data only"], len(frame)
            ),
            index=frame.index,
        ),
    ]
    for status in statuses:
        columns = explain.explain(frame, value, status, rules=RULES)
        rows = by_row.explain(frame, value, status, rules=RULES)
        assert (columns.index == rows.index).all()
        different = columns != rows
        assert not different.any(), pd.DataFrame({"columns": columns, "rows": rows})[different]


def series_of_every_shape(seed: int) -> pd.DataFrame:
    """Histories that break each XmR rule (and none), of many lengths, metric by metric."""
    rng = np.random.default_rng(seed)
    rows = []
    for metric in range(600):
        length = int(rng.integers(3, 40))
        level, spread = rng.choice([0.0, 5.0, 80.0, -20.0, 1000.0]), rng.choice([0.01, 1.0, 9.0])
        noise = rng.normal(level, spread, length)
        shape = metric % 5 if length >= 10 else 0
        if shape == 1:  # a trend at the end
            noise[-8:] = level + 0.3 * spread * np.arange(8) * rng.choice([-1, 1])
        elif shape == 2:  # a shift: a run on one side
            noise[-9:] += 1.5 * spread * rng.choice([-1, 1])
        elif shape == 3:  # an outlier last
            noise[-1] += 6 * spread * rng.choice([-1, 1])
        elif shape == 4:  # rounded: values that tie with the mean or limits
            noise = np.round(noise, int(rng.integers(0, 2)))
        rows += [(metric, v) for v in noise]
    return pd.DataFrame(rows, columns=["metric_id", "actual"])


@pytest.mark.parametrize("seed", range(2))
def test_the_xmr_sentences_are_the_per_row_builds(seed: int) -> None:
    history = series_of_every_shape(seed)
    rng = np.random.default_rng(seed)
    metrics = history["metric_id"].unique()
    means = history.groupby("metric_id")["actual"].mean()
    due = pd.DataFrame(
        {
            "polarity": rng.choice(["higher", "lower", "band"], len(metrics)),
            "data_only": rng.random(len(metrics)) < 0.05,
            "target": np.where(
                rng.random(len(metrics)) < 0.15,
                np.nan,
                means.to_numpy() * rng.choice([0.5, 0.98, 1.0, 1.02, 1.5], len(metrics)),
            ),
        },
        index=pd.Index(metrics, name="metric_id"),
    )
    reading = spc.readings(history, due, rules=RULES)
    reading = reading.assign(
        unit=rng.choice(UNITS, len(reading)),
        decimals=rng.choice([-1, 0, 1, 2], len(reading)),
        frequency=rng.choice(["monthly", "quarterly", "annual", "weekly"], len(reading)),
    )
    assert set(reading["spc_variation"]) == {s.value for s in Signal}
    assert set(reading["rule"].dropna()) == {"", *spc.RULES}
    pairs = [
        (explain.variation_sentence(reading, rules=RULES), by_row.variation_sentence(reading,
                                                                                    rules=RULES)),
        (explain.assurance_sentence(reading), by_row.assurance_sentence(reading)),
    ]  # fmt: skip
    for columns, rows in pairs:
        different = columns != rows
        assert not different.any(), pd.DataFrame({"columns": columns, "rows": rows})[different]
