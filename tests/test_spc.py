"""Signal or noise to the NHS Making Data Count standard: every rule, its precedence, the
minimum points, a flat series, each assurance case, the sentences, and agreement with
NHSRplotthedots (translated line by line in `ptd_reference`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import ptd_reference as ptd
import pytest

from metrics import charts, explain, spc
from metrics.config import RatingRules
from metrics.vocab import Assurance, Signal

RULES = RatingRules()
IMPROVEMENT = {"higher": 1, "lower": -1, "band": 0}
PTD_LABEL = {
    "common_cause": Signal.COMMON_CAUSE.value,
    "special_cause_improvement": Signal.IMPROVING.value,
    "special_cause_concern": Signal.CONCERNING.value,
    "special_cause_neutral_high": Signal.NEUTRAL.value,
    "special_cause_neutral_low": Signal.NEUTRAL.value,
}
PTD_ASSURANCE = {
    None: Assurance.NONE.value,
    "consistent_pass": Assurance.PASSING.value,
    "consistent_fail": Assurance.FAILING.value,
    "inconsistent": Assurance.HIT_AND_MISS.value,
}

ZIGZAG = [10.0, 12.0] * 6  # mean 11, limits 5.68 to 16.32, close beyond 14.55 or under 7.45
ON_THE_MEAN = [15, 5, 15, 5, 15, 3, 12, 12, 12, 12, 11, 12, 12, 12, 12]  # mean exactly 11
NOT_ON_THE_MEAN = [15, 5, 15, 5, 15, 3, 12, 12, 12, 12, 12, 12, 12, 12, 12]
RISING_BELOW_MEAN = [20, 22, 20, 22, 20, 22, 1, 2, 3, 4, 5, 6, 7]  # a trend and a run below
FALLING_ABOVE_LIMIT = [*ZIGZAG, 60, 58, 56, 54, 52, 50, 48]  # outside high, trend falling
FALLING_CLOSE = [*ZIGZAG, *ZIGZAG, 24, 22, 20, 18.5, 18, 17.5, 17]  # trend down, 2 of 3 high


def reading(values: list[float | None], polarity: str = "higher", **due: object) -> pd.Series:
    """The latest point of one series read by `spc.readings`."""
    history = pd.DataFrame({"metric_id": 7, "actual": pd.Series(values, dtype=float)})
    measure = {"polarity": polarity, "data_only": False, "target": np.nan, **due}
    return spc.readings(history, pd.DataFrame(measure, index=[7]), rules=RULES).loc[7]


# --- The limits --------------------------------------------------------------------------------


def test_limits_are_the_mean_plus_or_minus_2_66_mean_moving_ranges() -> None:
    chart = spc.xmr(pd.Series([1.0, 3.0, 2.0, 4.0]))
    moving_range = (2 + 1 + 2) / 3
    assert chart["mean"].iloc[0] == pytest.approx(2.5)
    assert chart["upper_limit"].iloc[0] == pytest.approx(2.5 + 2.66 * moving_range)
    assert chart["lower_limit"].iloc[0] == pytest.approx(2.5 - 2.66 * moving_range)
    assert chart["moving_range"].tolist()[1:] == [2.0, 1.0, 2.0]


def test_a_baseline_fixes_the_limits_on_the_first_points() -> None:
    values = [*ZIGZAG, 30.0, 31.0, 32.0]
    fixed = spc.xmr(pd.Series(values), rules=replace(RULES, spc_baseline_points=12))
    assert fixed["mean"].iloc[-1] == pytest.approx(11.0)  # the 30s do not move the mean
    assert fixed["upper_limit"].iloc[-1] == pytest.approx(11 + 2.66 * 2)
    assert fixed["variation"].iloc[-1] == Signal.IMPROVING
    _, lower, upper = ptd.limits(values, fix_after=12)
    assert (fixed["lower_limit"].iloc[0], fixed["upper_limit"].iloc[0]) == pytest.approx(
        (lower, upper)
    )


def test_every_point_up_to_the_period_sets_the_limits_without_outlier_screening() -> None:
    chart = spc.xmr(pd.Series([*ZIGZAG, 60.0]))
    ranges = [2.0] * 11 + [48.0]  # the outlier's moving range counts (no screening)
    assert chart["upper_limit"].iloc[0] == pytest.approx(
        np.mean([*ZIGZAG, 60]) + 2.66 * np.mean(ranges)
    )


# --- The rules, one at a time ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "rule", "flagged"),
    [
        (ZIGZAG, "special_cause", []),  # nothing special
        ([*ZIGZAG, 30.0], "outside_limits", [12]),  # above the upper limit
        ([*ZIGZAG, -8.0], "outside_limits", [12]),  # below the lower limit
        ([15, 5, 15, 5, 15, 5, *[11] * 7], "run_of_7", list(range(6, 13))),  # 7 above the mean
        ([5, 15, 5, 15, 5, 15, *[9] * 7], "run_of_7", list(range(6, 13))),  # 7 below the mean
        ([5, 15, 5, 15, 5, 15, 5, *[11] * 6, 5], "run_of_7", []),  # 6 on one side: no run
        (ON_THE_MEAN, "run_of_7", []),  # a point on the mean breaks 8 above into 4 and 4
        (NOT_ON_THE_MEAN, "run_of_7", list(range(6, 15))),  # the same point off the mean: 9
        ([5, 7, 5, 7, 5, 7, 1, 2, 3, 4, 5, 6, 7], "trend_of_7", list(range(6, 13))),  # 7 rising
        ([5, 3, 5, 3, 5, 3, 9, 8, 7, 6, 5, 4, 3], "trend_of_7", list(range(6, 13))),  # 7 falling
        ([5, 7, 5, 7, 5, 7, 5, 1, 2, 3, 4, 5, 6], "trend_of_7", []),  # 6 rising: no trend
        ([5, 7, 5, 7, 5, 7, 1, 2, 3, 3, 4, 5, 6], "trend_of_7", []),  # a repeat breaks a trend
        ([*ZIGZAG, 16.5, 12.5, 16.5], "two_of_three", [12, 14]),  # 2 of 3 close above
        ([*ZIGZAG, 5.5, 9.5, 5.5], "two_of_three", [12, 14]),  # 2 of 3 close below
        ([*ZIGZAG, 17, 10.5, 17], "two_of_three", []),  # the third point is below the mean
        ([*ZIGZAG, 16.5, 12.5, 12.0], "two_of_three", []),  # 1 of 3 close
        ([*ZIGZAG, *ZIGZAG, 17, 19, 12], "two_of_three", []),  # 19 is outside, so not close
    ],
)
def test_each_rule_flags_its_points(values, rule, flagged) -> None:
    chart = spc.xmr(pd.Series(values, dtype=float))
    assert chart.index[chart[rule]].tolist() == flagged


@pytest.mark.parametrize(
    ("values", "polarity", "expected", "rule"),
    [
        (ZIGZAG, "higher", Signal.COMMON_CAUSE, ""),
        ([*ZIGZAG, 30.0], "higher", Signal.IMPROVING, "outside"),  # high, higher is better
        ([*ZIGZAG, 30.0], "lower", Signal.CONCERNING, "outside"),  # high, lower is better
        ([*ZIGZAG, -8.0], "higher", Signal.CONCERNING, "outside"),
        ([*ZIGZAG, -8.0], "lower", Signal.IMPROVING, "outside"),
        ([*ZIGZAG, 30.0], "band", Signal.NEUTRAL, "outside"),  # a band: neither way is better
        ([5, 15, 5, 15, 5, 15, *[9] * 7], "higher", Signal.CONCERNING, "run"),  # below the mean
        ([5, 15, 5, 15, 5, 15, *[9] * 7], "lower", Signal.IMPROVING, "run"),
        (NOT_ON_THE_MEAN, "higher", Signal.IMPROVING, "run"),
        (ON_THE_MEAN, "higher", Signal.COMMON_CAUSE, ""),  # the run is broken by the mean
        ([5, 3, 5, 3, 5, 3, 9, 8, 7, 6, 5, 4, 3], "higher", Signal.CONCERNING, "trend"),
        ([5, 3, 5, 3, 5, 3, 9, 8, 7, 6, 5, 4, 3], "lower", Signal.IMPROVING, "trend"),
        ([*ZIGZAG, 16.5, 12.5, 16.5], "higher", Signal.IMPROVING, "two_of_three"),
        ([*ZIGZAG, 5.5, 9.5, 5.5], "higher", Signal.CONCERNING, "two_of_three"),
        ([*ZIGZAG, 17, 10.5, 17], "higher", Signal.COMMON_CAUSE, ""),
    ],
)
def test_the_latest_point_reads_with_the_polarity(values, polarity, expected, rule) -> None:
    read = reading(values, polarity)
    assert (read["spc_variation"], read["rule"]) == (expected, rule)


# --- Precedence: outside, then trend, then two of three, then the run -------------------------


@pytest.mark.parametrize(
    ("values", "expected", "rules", "decides"),
    [
        # 7 rising points below the mean: the trend (improving) beats the run (concerning)
        (RISING_BELOW_MEAN, Signal.IMPROVING, {"trend_of_7", "run_of_7"}, "trend"),
        # falling points above the upper limit: outside (improving) beats the trend
        (
            FALLING_ABOVE_LIMIT,
            Signal.IMPROVING,
            {"outside_limits", "trend_of_7", "run_of_7"},
            "outside",
        ),
        # falling points close to the upper limit: the trend (concerning) beats 2 of 3
        (FALLING_CLOSE, Signal.CONCERNING, {"trend_of_7", "two_of_three", "run_of_7"}, "trend"),
    ],
)
def test_where_rules_point_different_ways_the_first_decides(
    values, expected, rules, decides
) -> None:
    last = spc.xmr(pd.Series(values, dtype=float), "higher").iloc[-1]
    assert {
        r for r in ("outside_limits", "trend_of_7", "two_of_three", "run_of_7") if last[r]
    } == rules
    read = reading(values, "higher")
    assert (read["spc_variation"], read["rule"]) == (expected, decides)
    assert (
        ptd.point_types(values, 1)[-1]
        == {
            Signal.IMPROVING: "special_cause_improvement",
            Signal.CONCERNING: "special_cause_concern",
        }[expected]
    )


# --- The minimum number of points, blanks, a flat series ---------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (ZIGZAG[:11], Signal.TOO_FEW_POINTS),  # 11 points are too few
        ([*ZIGZAG[:11], None], Signal.TOO_FEW_POINTS),  # a blank is not a point
        ([None, *ZIGZAG], Signal.COMMON_CAUSE),  # 12 points after a blank
        (ZIGZAG, Signal.COMMON_CAUSE),  # exactly 12 points
        ([], Signal.TOO_FEW_POINTS),  # nothing at all
    ],
)
def test_the_minimum_number_of_points(values, expected) -> None:
    assert reading(values)["spc_variation"] == expected


def test_the_minimum_points_come_from_the_settings() -> None:
    rules = replace(RULES, spc_min_points=20)
    assert (
        spc.spc_signal(pd.Series([*ZIGZAG, 30.0]), "higher", rules=rules) == Signal.TOO_FEW_POINTS
    )


@pytest.mark.parametrize(
    ("values", "target", "variation", "assurance"),
    [
        ([5.0] * 12, np.nan, Signal.COMMON_CAUSE, Assurance.NONE),  # all on the mean
        ([5.0] * 12, 5.0, Signal.COMMON_CAUSE, Assurance.HIT_AND_MISS),  # target on both limits
        ([5.0] * 12, 6.0, Signal.COMMON_CAUSE, Assurance.FAILING),  # above a zero-width band
        ([5.0] * 12, 4.0, Signal.COMMON_CAUSE, Assurance.PASSING),
        ([5.0] * 11 + [6.0], np.nan, Signal.IMPROVING, Assurance.NONE),  # one step off flat
    ],
)
def test_a_flat_series_has_zero_width_limits(values, target, variation, assurance) -> None:
    read = reading(values, target=target)
    assert read["upper_limit"] >= read["mean"] >= read["lower_limit"]
    assert (read["spc_variation"], read["spc_assurance"]) == (variation, assurance)


# --- Assurance ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("polarity", "target", "data_only", "expected"),
    [
        ("higher", 17.0, False, Assurance.FAILING),  # above the upper limit 16.32
        ("higher", 5.0, False, Assurance.PASSING),  # below the lower limit 5.68
        ("higher", 11.0, False, Assurance.HIT_AND_MISS),  # between the limits
        ("higher", 11 + 2.66 * 2, False, Assurance.HIT_AND_MISS),  # on the limit: not beyond
        ("lower", 17.0, False, Assurance.PASSING),
        ("lower", 5.0, False, Assurance.FAILING),
        ("lower", 11.0, False, Assurance.HIT_AND_MISS),
        ("higher", np.nan, False, Assurance.NONE),  # no target
        ("band", 17.0, False, Assurance.NONE),  # no improvement direction
        ("higher", 17.0, True, Assurance.NONE),  # data only
    ],
)
def test_assurance_against_the_target(polarity, target, data_only, expected) -> None:
    read = reading(ZIGZAG, polarity, target=target, data_only=data_only)
    assert read["spc_assurance"] == expected
    improvement = 0 if data_only else IMPROVEMENT[polarity]
    given = None if np.isnan(target) else target
    assert PTD_ASSURANCE[ptd.assurance_type(ZIGZAG, improvement, given)] == expected


def test_too_few_points_give_no_assurance() -> None:
    assert reading(ZIGZAG[:11], target=40.0)["spc_assurance"] == Assurance.NONE


def test_a_data_only_measure_reads_neutral() -> None:
    assert reading([*ZIGZAG, 30.0], "higher", data_only=True)["spc_variation"] == Signal.NEUTRAL


# --- Many series at once, as the status query reads them --------------------------------------


def test_series_read_together_read_as_each_alone() -> None:
    """Grouping never lets one measure's points leak into the next one's runs or trends."""
    series = {
        1: [5, 7, 5, 7, 5, 7, 1, 2, 3],  # ends rising: must not join the next trend
        2: [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        3: [*ZIGZAG, 16.5, 12.5],
        4: [15.5, *ZIGZAG, 30.0],
        5: [9.0] * 3,
    }
    history = pd.concat(
        [pd.DataFrame({"metric_id": key, "actual": values}) for key, values in series.items()]
    )
    due = pd.DataFrame(
        {"polarity": "higher", "data_only": False, "target": 10.0}, index=list(series)
    )
    together = spc.readings(history, due, rules=replace(RULES, spc_min_points=3))
    for key, values in series.items():
        alone = spc.readings(
            pd.DataFrame({"metric_id": key, "actual": values}),
            due.loc[[key]],
            rules=replace(RULES, spc_min_points=3),
        ).loc[key]
        assert together.loc[key, ["spc_variation", "spc_assurance", "rule"]].tolist() == (
            alone[["spc_variation", "spc_assurance", "rule"]].tolist()
        )
    assert together.loc[5, "spc_variation"] == Signal.COMMON_CAUSE  # flat, on the mean


# --- Against NHSRplotthedots -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "improvement", "expected"),
    [
        # Worked by hand from R/ptd_calculate_point_type.R: mean 11.85, limits 3.64 to 20.05,
        # close beyond 17.31 or under 6.38. The 22s are above the upper limit and the 20s are 2
        # of 3 close above; 1 to 3 are below the lower limit, which beats their rising trend;
        # 4 to 7 are in the trend, which beats the run below the mean (and 2 of 3 for 5, 6).
        (
            RISING_BELOW_MEAN,
            1,
            ["special_cause_improvement"] * 6
            + ["special_cause_concern"] * 3
            + ["special_cause_improvement"] * 4,
        ),
        # mean exactly 11: the point on the mean breaks the run; nothing is special
        (ON_THE_MEAN, 1, ["common_cause"] * 15),
    ],
)
def test_worked_series_match_nhsrplotthedots(values, improvement, expected) -> None:
    assert ptd.point_types(values, improvement) == expected
    polarity = {1: "higher", -1: "lower", 0: "band"}[improvement]
    chart = spc.xmr(pd.Series(values, dtype=float), polarity)
    assert chart["variation"].tolist() == [PTD_LABEL[t] for t in expected]


def _noisy(seed: int) -> list[float]:
    """Rounded noise with drift, steps, trends and repeats: every rule gets exercised."""
    rng = np.random.default_rng(seed)
    size = 12 + seed % 19
    values = rng.normal(50, 4, size) + np.linspace(0, seed % 9 - 4, size) * 3
    if seed % 3 == 0:
        start = seed % (size - 7)
        values[start : start + 7] = values[start] + np.arange(7) * (1 if seed % 2 else -1) * 2
    if seed % 4 == 1:
        values[size // 2 :] += 9
    return np.round(values, seed % 2 - 1 + seed % 3).tolist()


@pytest.mark.parametrize("seed", range(36))
def test_every_point_reads_as_nhsrplotthedots_reads_it(seed: int) -> None:
    values = _noisy(seed)
    for polarity, improvement in IMPROVEMENT.items():
        chart = spc.xmr(pd.Series(values), polarity)
        expected = [PTD_LABEL[t] for t in ptd.point_types(values, improvement)]
        assert chart["variation"].tolist() == expected
    target = float(np.round(values[0] + seed % 5 * 3 - 6))
    for polarity, improvement in IMPROVEMENT.items():
        read = reading(values, polarity, target=target)
        assert (
            read["spc_assurance"] == PTD_ASSURANCE[ptd.assurance_type(values, improvement, target)]
        )


@pytest.mark.parametrize("seed", range(12))
def test_the_chart_and_the_badge_read_the_latest_point_alike(seed: int) -> None:
    values = _noisy(seed)
    for polarity in IMPROVEMENT:
        chart = spc.xmr(pd.Series(values), polarity)
        assert reading(values, polarity)["spc_variation"] == chart["variation"].iloc[-1]
        figure = charts.xmr_figure(chart, pd.Series([f"p{i}" for i in range(len(values))]))
        marked = {t.name: list(t.x) for t in figure.data if t.mode == "markers"}
        last = chart["variation"].iloc[-1]
        if last != Signal.COMMON_CAUSE:
            assert f"p{len(values) - 1}" in marked[last]


# --- The sentences -----------------------------------------------------------------------------


def _sentences(values, polarity="higher", target=np.nan, unit="number", decimals=0, **due):
    read = reading(values, polarity, target=target, **due).to_frame().T
    read = read.assign(unit=unit, decimals=decimals, frequency="monthly")
    return (
        explain.variation_sentence(read, rules=RULES).iloc[0],
        explain.assurance_sentence(read).iloc[0],
    )


@pytest.mark.parametrize(
    ("values", "polarity", "expected"),
    [
        (
            ZIGZAG[:5],
            "higher",
            "Too few points: an XmR reading needs 12 values; there are 5 so far",
        ),
        (
            ZIGZAG,
            "higher",
            "Common cause: 12 is within the process limits 5.7 to 16.3 and breaks no rule, so "
            "the variation is noise",
        ),
        (
            [*ZIGZAG, 30.0],
            "higher",
            "Special cause, improving: 30 is above the upper process limit 21.3",
        ),
        (
            [5, 15, 5, 15, 5, 15, *[9] * 7],
            "higher",
            "Special cause, concerning: 7 months in a row below the average of 9.5",
        ),
        (
            [5, 3, 5, 3, 5, 3, 9, 8, 7, 6, 5, 4, 3],
            "lower",
            "Special cause, improving: 7 months in a row, each lower than the one before",
        ),
        (
            [*ZIGZAG, 16.5, 12.5, 16.5],
            "higher",
            "Special cause, improving: 2 of the last 3 months are more than two thirds of the "
            "way from the average 11.8 to the upper process limit 18.4",
        ),
        (
            [*ZIGZAG, 30.0],
            "band",
            "Special cause, neutral: 30 is above the upper process limit 21.3; neither direction "
            "is better for this measure",
        ),
    ],
)
def test_the_variation_sentence_names_the_rule_and_its_numbers(values, polarity, expected) -> None:
    assert _sentences(values, polarity)[0] == expected


@pytest.mark.parametrize(
    ("polarity", "target", "expected"),
    [
        (
            "higher",
            17.0,
            "Consistently failing: the target 17 is above the upper process limit 16.3, so it "
            "will not be met without a change to the process",
        ),
        (
            "lower",
            17.0,
            "Consistently passing: the target 17 is above the upper process limit 16.3, so it "
            "will be met unless the process changes",
        ),
        (
            "higher",
            5.0,
            "Consistently passing: the target 5 is below the lower process limit 5.7, so it will "
            "be met unless the process changes",
        ),
        (
            "higher",
            11.0,
            "Hit and miss: the target 11 is between the process limits 5.7 and 16.3, so it will "
            "be met in some periods and missed in others",
        ),
        ("higher", np.nan, "No assurance: no target is set"),
        ("band", 11.0, "No assurance: neither direction is better for this measure"),
    ],
)
def test_the_assurance_sentence_compares_the_target_with_the_limits(
    polarity, target, expected
) -> None:
    assert _sentences(ZIGZAG, polarity, target=target)[1] == expected


def test_a_sentence_never_shows_a_value_equal_to_the_limit_it_crossed() -> None:
    values = [7.0, 7.0, 7.0, 6.9, 7.0, 6.95, 7.0, 6.9, 7.0, 6.95, 7.0, 7.3]
    sentence = _sentences(values, decimals=0)[0]  # at 0 decimals both would read 7
    assert sentence.endswith(": 7.3 is above the upper process limit 7.2")
