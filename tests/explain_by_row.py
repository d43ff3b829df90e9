"""The sentences of `metrics.explain` as they were built before issue 12: one Python function
per row (iterrows, to_dict records). Kept only so a test can show the column-wise build writes
every sentence byte for byte as this one did."""

from __future__ import annotations

import pandas as pd

from metrics import spc
from metrics.config import RatingRules
from metrics.explain import PERIOD_WORDS, POLARITY_PHRASE, SPC_FIELDS, SPECIAL, format_value
from metrics.periods import day_text, spoken
from metrics.rating import EPSILON, tolerance_above, tolerance_below
from metrics.vocab import Assurance, Polarity, Signal, Status


def explain(
    frame: pd.DataFrame, value: pd.Series, status: pd.Series, *, rules: RatingRules
) -> pd.Series:
    """One sentence per row that states the rule and the numbers behind its status."""
    below = tolerance_below(frame, rules.default_tolerance_percent)
    above = tolerance_above(frame, rules.default_tolerance_percent)
    sentences = [
        _sentence(row, v, s, lo, hi, rules.default_tolerance_percent)
        for (_, row), v, s, lo, hi in zip(
            frame.iterrows(), value, status, below, above, strict=True
        )
    ]
    return pd.Series(sentences, index=frame.index)


def _sentence(
    row: pd.Series, value: float, status: str, tol_below: float, tol_above: float, default: float
) -> str:
    """The sentence for one row; the numbers in it are the ones the rule compared."""
    period, polarity = spoken(row.get("period", "")), row["polarity"]
    ytd = " year to date" if row.get("rated_on") == "ytd" else ""
    if status in (Status.MISSING.value, Status.OVERDUE.value):
        return f"{status}: no actual entered for {period}{_due_text(row, status)}"
    if status == Status.DATA_ONLY.value:
        shown = format_value(value, row["unit"], row["decimals"])
        return f"Data only: {shown}{ytd} is not rated; {_why_data_only(row, period)}"
    low = polarity == Polarity.HIGHER.value or (
        polarity == Polarity.BAND.value and value < row["target"]
    )
    upper = row["target_upper"] if polarity == Polarity.BAND.value else row["target"]
    edge = row["target"] - tol_below if low else upper + tol_above
    places = _decimals_to_tell_apart(value, [row["target"], upper, edge], int(row["decimals"]))
    fmt = lambda x: format_value(x, row["unit"], places)  # noqa: E731
    subject = f"{fmt(value)}{ytd}"
    phrase = POLARITY_PHRASE[polarity]
    if polarity == Polarity.BAND.value:
        target_text = f"the target range {fmt(row['target'])} to {fmt(upper)}"
        green = f"is inside {target_text}"
    else:
        target_text = f"the {fmt(row['target'])} {'year-to-date target' if ytd else 'target'}"
        verb = "meets or beats" if polarity == Polarity.HIGHER.value else "is at or under"
        green = f"{verb} {target_text}"
    if status == Status.GREEN.value:
        return f"Green: {subject} {green}; {phrase}"
    side = "below" if low else "above"
    tolerance = _tolerance_phrase(row, tol_below if low else tol_above, default, places)
    gap = "but within" if status == Status.AMBER.value else "by more than"
    return f"{status}: {subject} is {side} {target_text} {gap} {tolerance} ({fmt(edge)}); {phrase}"


def _why_data_only(row: pd.Series, period: str) -> str:
    """Why a row is not rated: the `data only` flag, no target, or a band with no upper target."""
    if row["data_only"]:
        return "this is a contextual measure with no target"
    if row["polarity"] == Polarity.BAND.value and not pd.isna(row["target"]):
        return f"no upper target is set for {period}"
    return f"no target is set for {period}"


def _due_text(row: pd.Series, status: str) -> str:
    """`; it is due by 2015-05-15` (`it was` once Overdue), or nothing without a deadline."""
    due = row.get("deadline")
    if due is None or pd.isna(due):
        return ""
    tense = "it was" if status == Status.OVERDUE.value else "it is"
    return f"; {tense} due by {day_text(pd.Timestamp(due).date())}"


def _decimals_to_tell_apart(value: float, others: list[float], decimals: int) -> int:
    """The metric's decimals, or up to 4 more where rounding would make unequal numbers look
    equal (8.44 days against an 8.4 days edge), so a sentence never contradicts itself."""
    differ = [o for o in others if not pd.isna(o) and abs(value - o) > EPSILON * max(1, abs(o))]
    places = max(decimals, 0)
    for extra in range(5):
        if all(f"{value:.{places + extra}f}" != f"{o:.{places + extra}f}" for o in differ):
            return places + extra
    return places + 4


def _tolerance_phrase(row: pd.Series, amount: float, default: float, places: int) -> str:
    """`the 5 % tolerance` for a percent of the target, `the tolerance of 0.4 days` otherwise."""
    tolerance = row["tolerance"]
    if pd.isna(tolerance) or row["tolerance_is_percent"]:
        percent = default if pd.isna(tolerance) else tolerance
        return f"the {percent:g} % tolerance"
    return f"the tolerance of {format_value(amount, row['unit'], places)}"


def variation_sentence(reading: pd.DataFrame, *, rules: RatingRules) -> pd.Series:
    """One sentence per row naming the rule behind its variation and its numbers
    (`spc.readings` joined with unit, decimals and frequency)."""
    rows = reading[SPC_FIELDS].to_dict("records")
    sentences = [_variation(row, rules.spc_min_points) for row in rows]
    return pd.Series(sentences, index=reading.index, dtype=object)


def _variation(row: dict, min_points: int) -> str:
    """The variation sentence of one reading."""
    label = row["spc_variation"]
    if label == Signal.TOO_FEW_POINTS.value:
        have = 0 if pd.isna(row["count"]) else int(row["count"])
        return f"Too few points: an XmR reading needs {min_points} values; there are {have} so far"
    unit, (places, finer) = row["unit"], _spc_places(row, "value")
    value = format_value(row["value"], unit, places)
    mean, upper, lower = (
        format_value(row[c], unit, finer) for c in ("mean", "upper_limit", "lower_limit")
    )
    if label == Signal.COMMON_CAUSE.value:
        return (
            f"Common cause: {value} is within the process limits {lower} to {upper} and breaks "
            "no rule, so the variation is noise"
        )
    periods, high = PERIOD_WORDS.get(row["frequency"], "periods"), row["side"] == 1
    limit = f"the upper process limit {upper}" if high else f"the lower process limit {lower}"
    why = {
        spc.OUTSIDE: f"{value} is {'above' if high else 'below'} {limit}",
        spc.TRENDING: f"{int(row['trend_length'])} {periods} in a row, each "
        f"{'higher' if high else 'lower'} than the one before",
        spc.TWO_OF_THREE: f"{int(row['close_in_3'])} of the last 3 {periods} are more than two "
        f"thirds of the way from the average {mean} to {limit}",
        spc.ONE_SIDE: f"{int(row['run_length'])} {periods} in a row "
        f"{'above' if high else 'below'} the average of {mean}",
    }[row["rule"]]
    neutral = "; neither direction is better for this measure" if row["improvement"] == 0 else ""
    return f"{SPECIAL[label]}: {why}{neutral}"


def _spc_places(row: dict, column: str) -> tuple[int, int]:
    """Decimals for the value (or target) and, one finer, for the mean and limits: more where
    rounding would make a value look equal to the limit it is compared with."""
    others = [row["mean"], row["upper_limit"], row["lower_limit"]]
    places = _decimals_to_tell_apart(row[column], others, int(row["decimals"]))
    return places, max(places, int(row["decimals"]) + 1)


def assurance_sentence(reading: pd.DataFrame) -> pd.Series:
    """One sentence per row comparing its target with the process limits (blank reading: why
    there is none)."""
    sentences = [_assurance(row) for row in reading[SPC_FIELDS].to_dict("records")]
    return pd.Series(sentences, index=reading.index, dtype=object)


def _assurance(row: dict) -> str:
    """The assurance sentence of one reading."""
    if row["spc_variation"] == Signal.TOO_FEW_POINTS.value:
        return "No assurance yet: too few points for process limits"
    if row["improvement"] == 0:
        return "No assurance: neither direction is better for this measure"
    if pd.isna(row["target"]):
        return "No assurance: no target is set"
    unit, (places, finer) = row["unit"], _spc_places(row, "target")
    target = format_value(row["target"], unit, places)
    upper, lower = (format_value(row[c], unit, finer) for c in ("upper_limit", "lower_limit"))
    label = row["spc_assurance"]
    if label == Assurance.HIT_AND_MISS.value:
        return (
            f"Hit and miss: the target {target} is between the process limits {lower} and "
            f"{upper}, so it will be met in some periods and missed in others"
        )
    above = row["target"] > row["upper_limit"]
    where = (
        f"above the upper process limit {upper}"
        if above
        else (f"below the lower process limit {lower}")
    )
    if label == Assurance.PASSING.value:
        return (
            f"{label}: the target {target} is {where}, so it will be met unless the process changes"
        )
    return (
        f"{label}: the target {target} is {where}, so it will not be met without a change to "
        "the process"
    )
