"""Signal or noise: the XmR (statistical process control) chart of the NHS "Making Data Count"
method as NHSRplotthedots implements it (`R/ptd_spc_standard.R`, `R/ptd_calculate_point_type.R`,
`R/ptd_calculate_assurance_type.R`), as pure, vectorised functions over many series at once
(`docs/rating-rules.md`, "Signal or noise"). `points` is the one implementation of the rules;
`readings` reads each series' latest point through it, `xmr` charts one series through it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.config import RatingRules
from metrics.rating import EPSILON
from metrics.vocab import Assurance, Polarity, Signal

LIMIT = 2.66  # process limits: mean ± 2.66 × mean moving range
CLOSE = 2 * LIMIT / 3  # "close to a limit": beyond two thirds of the way from the mean
RUN, TREND = 7, 7  # points on one side of the mean; points each rising (or each falling)

# The rules in the order that decides a point's reading when several apply (NHSRplotthedots'
# `ptd_special_cause_type`): outside the limits, then trend, then two of three, then the run.
OUTSIDE, TRENDING, TWO_OF_THREE, ONE_SIDE = "outside", "trend", "two_of_three", "run"
RULES = (OUTSIDE, TRENDING, TWO_OF_THREE, ONE_SIDE)


def direction(polarity: pd.Series, data_only: pd.Series | None = None) -> pd.Series:
    """Which way is improvement: +1 higher, -1 lower, 0 (neutral) for band or data-only."""
    sign = polarity.map({Polarity.HIGHER.value: 1, Polarity.LOWER.value: -1}).fillna(0)
    if data_only is not None:
        sign = sign.where(~data_only.fillna(False).astype(bool), 0)
    return sign.astype(int)


def _shift(values: np.ndarray, group: np.ndarray, steps: int, fill: float) -> np.ndarray:
    """`values` moved `steps` rows (back for negative) within each group of contiguous rows."""
    out = np.full(len(values), fill, dtype=float)
    if steps > 0 and len(values) > steps:
        keep = group[steps:] == group[:-steps]
        out[steps:] = np.where(keep, values[:-steps], fill)
    elif steps < 0 and len(values) > -steps:
        keep = group[:steps] == group[-steps:]
        out[:steps] = np.where(keep, values[-steps:], fill)
    return out


def _blocks(group: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For runs of equal `key` within a group: each row's run size, and how many rows of its
    run come up to and including it."""
    starts = np.ones(len(key), dtype=bool)
    starts[1:] = (key[1:] != key[:-1]) | (group[1:] != group[:-1])
    block = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    return np.bincount(block)[block], np.arange(len(key)) - first[block] + 1


def _group_mean(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each row's group mean of `values`, blanks left out (NaN where the group has none)."""
    known = ~np.isnan(values)
    total = np.bincount(group, weights=np.where(known, values, 0.0))
    count = np.bincount(group, weights=known.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / count)[group]


def limits(group: np.ndarray, value: np.ndarray, *, baseline: int = 0) -> dict[str, np.ndarray]:
    """Mean, mean moving range and process limits per series (`group`: contiguous ids from 0):
    from every point, or from the first `baseline` points when the council fixes a baseline
    (no outlier screening)."""
    _, place = _blocks(group, np.zeros(len(group)))
    fixed = np.where(place <= baseline, value, np.nan) if baseline > 0 else value
    mean = _group_mean(group, fixed)
    spread = _group_mean(group, np.abs(fixed - _shift(fixed, group, 1, np.nan)))
    return {
        "moving_range": np.abs(value - _shift(value, group, 1, np.nan)),
        "mean": mean,
        "upper_limit": mean + LIMIT * spread,
        "lower_limit": mean - LIMIT * spread,
        "upper_close": mean + CLOSE * spread,
        "lower_close": mean - CLOSE * spread,
        "count": place,
    }


def points(history: pd.DataFrame, *, baseline: int = 0) -> pd.DataFrame:
    """Every rule on every point of every series: `history` has `series` and `value` (no
    blanks, in time order, each series' rows together). `rule` is the rule that decides the
    point (precedence as `RULES`, "" for common cause); `side` is +1 high or rising, -1 low or
    falling, 0 for common cause."""
    frame = history.reset_index(drop=True)
    read = _read(frame["series"].to_numpy(), frame["value"].to_numpy(dtype=float), baseline)
    return pd.concat([frame, pd.DataFrame(read)], axis=1)


def _read(series: np.ndarray, value: np.ndarray, baseline: int) -> dict[str, np.ndarray]:
    """`points`' columns, as arrays (a reader of some points takes them before making a frame:
    a frame of every point of an L council's ten years took longer than the rules)."""
    starts = np.ones(len(series), dtype=bool)
    starts[1:] = series[1:] != series[:-1]
    group = np.cumsum(starts) - 1
    read = limits(group, value, baseline=baseline)
    mean = read["mean"]
    slack = EPSILON * np.maximum(np.abs(mean), 1.0)
    outside = (value > read["upper_limit"] + slack) | (value < read["lower_limit"] - slack)
    side = np.where(np.abs(value - mean) > slack, np.sign(value - mean), 0).astype(int)
    run_size, read["run_length"] = _blocks(group, side)
    close = ~outside & (
        (value > read["upper_close"] + slack) | (value < read["lower_close"] - slack)
    )
    read["outside_limits"], read["mean_side"], read["close"] = outside, side, close
    read["run_of_7"] = (side != 0) & (run_size >= RUN)
    read |= _trend(group, value) | _two_of_three(group, close, side)
    flags = [outside, read["trend_of_7"], read["two_of_three"], read["run_of_7"]]
    code = np.select(flags, [1, 2, 3, 4], 0)  # categories, not a string per point: fast
    read["rule"] = pd.Categorical.from_codes(code, categories=["", *RULES])
    read["side"] = np.select(
        [outside, read["trend_of_7"], code != 0],
        [np.where(side == 1, 1, -1), read["trend_side"], side],
        0,
    ).astype(int)
    read["special_cause"] = code != 0
    return read


def _trend(group: np.ndarray, value: np.ndarray) -> dict[str, np.ndarray]:
    """7 points each higher (or each lower) than the one before: every point of such a stretch
    is in the trend; a repeated value breaks it. `trend_side` reads a point between two
    trends by the step after it (as NHSRplotthedots does); `trend_length` counts the points
    of the stretch so far."""
    step = np.nan_to_num(np.sign(value - _shift(value, group, 1, np.nan))).astype(int)
    size, so_far = _blocks(group, step)
    in_steps = (step != 0) & (size >= TREND - 1)
    trend = in_steps | _shift(in_steps, group, -1, 0).astype(bool)
    next_in_trend = _shift(trend, group, -1, 0).astype(bool)
    chosen = np.where(trend & next_in_trend, _shift(step, group, -1, 0), step)
    return {
        "trend_of_7": trend,
        "trend_side": np.where(chosen == 1, 1, -1),
        "trend_length": np.where(step != 0, so_far + 1, 1),
    }


def _two_of_three(group: np.ndarray, close: np.ndarray, side: np.ndarray) -> dict[str, np.ndarray]:
    """A close point is special when 2 of 3 consecutive points are close and all 3 lie on the
    same side of the mean (NHSRplotthedots' `ptd_two_in_three`); `close_in_3` counts the close
    points among the 3 ending at each point."""
    near = close.astype(float)
    count = near + _shift(near, group, 1, 0) + _shift(near, group, 2, 0)
    sides = side + _shift(side, group, 1, 0) + _shift(side, group, 2, 0)
    window = (count >= 2) & (np.abs(sides) == 3)  # the window of 3 points ending here
    later = _shift(window, group, -1, 0) + _shift(window, group, -2, 0)
    return {"two_of_three": close & (window | (later > 0)), "close_in_3": count.astype(int)}


def variation(frame: pd.DataFrame, improvement: pd.Series, *, min_points: int) -> pd.Series:
    """Each point's variation: too few points, common cause, or a special cause read with the
    improvement direction (+1, -1; 0 neutral): improving, concerning or neutral."""
    reading = np.select(
        [
            frame["count_in_series"] < min_points,
            frame["rule"] == "",
            improvement == 0,
            frame["side"] == improvement,
        ],
        [
            Signal.TOO_FEW_POINTS.value,
            Signal.COMMON_CAUSE.value,
            Signal.NEUTRAL.value,
            Signal.IMPROVING.value,
        ],
        Signal.CONCERNING.value,
    )
    return pd.Series(reading, index=frame.index)


def assurance(
    target: pd.Series, upper: pd.Series, lower: pd.Series, improvement: pd.Series
) -> pd.Series:
    """Assurance against the target: beyond the limit on the good side consistently passes,
    beyond it on the bad side consistently fails, between the limits is hit and miss; blank
    without a target or an improvement direction."""
    above, below = target > upper, target < lower
    reading = np.select(
        [
            target.isna() | (improvement == 0) | upper.isna(),
            (above & (improvement == -1)) | (below & (improvement == 1)),
            above | below,
        ],
        [Assurance.NONE.value, Assurance.PASSING.value, Assurance.FAILING.value],
        Assurance.HIT_AND_MISS.value,
    )
    return pd.Series(reading, index=target.index)


def readings(history: pd.DataFrame, due: pd.DataFrame, *, rules: RatingRules) -> pd.DataFrame:
    """Each metric's latest point read: `history` (metric_id, actual; each metric's rows
    together, in time order), `due`
    (indexed by metric_id: polarity, data_only, target). Columns: spc_variation and
    spc_assurance, with the numbers a sentence states (rule, side, value, mean, limits, target,
    count, run and trend lengths)."""
    known = history.dropna(subset=["actual"])
    series, value = known["metric_id"].to_numpy(), known["actual"].to_numpy(dtype=float)
    read = _read(series, value, rules.spc_baseline_points)
    is_last = np.ones(len(series), dtype=bool)
    is_last[:-1] = series[1:] != series[:-1]
    # What `points` gives, for each series' last point only
    last = pd.DataFrame(
        {"value": value[is_last], **{name: column[is_last] for name, column in read.items()}},
        index=pd.Index(series[is_last], name="series"),
    ).reindex(due.index)
    last["count_in_series"] = last["count"].fillna(0)
    improvement = direction(due["polarity"], due.get("data_only"))
    last["spc_variation"] = variation(last, improvement, min_points=rules.spc_min_points)
    enough = last["spc_variation"] != Signal.TOO_FEW_POINTS.value
    last["spc_assurance"] = assurance(
        due["target"].where(enough), last["upper_limit"], last["lower_limit"], improvement
    )
    last["improvement"], last["target"] = improvement, due["target"]
    return last


def xmr(
    values: pd.Series,
    polarity: str = Polarity.HIGHER.value,
    *,
    rules: RatingRules | None = None,
    data_only: bool = False,
) -> pd.DataFrame:
    """One series' XmR chart (`values`: no blanks, in time order): each point's limits, rules
    and `variation` read with the polarity, as the badges read the latest point; rows 0..n-1."""
    rules = rules or RatingRules()
    known = values.astype(float)
    frame = points(
        pd.DataFrame({"series": 0, "value": known.to_numpy()}), baseline=rules.spc_baseline_points
    )
    frame["count_in_series"] = len(frame)
    improvement = direction(pd.Series([polarity]), pd.Series([data_only])).iloc[0]
    frame["variation"] = variation(
        frame, pd.Series(improvement, index=frame.index), min_points=rules.spc_min_points
    )
    return frame


def spc_signal(
    values: pd.Series, polarity: str, *, rules: RatingRules, data_only: bool = False
) -> Signal:
    """The variation of one series' latest point (read through `readings`)."""
    known = values.dropna().astype(float).reset_index(drop=True)
    history = pd.DataFrame({"metric_id": 0, "actual": known})
    due = pd.DataFrame({"polarity": [polarity], "data_only": [data_only], "target": [np.nan]})
    return Signal(readings(history, due, rules=rules)["spc_variation"].iloc[0])
