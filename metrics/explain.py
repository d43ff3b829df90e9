"""Why this colour: the sentence every status carries, stating the rule and the numbers behind
it (`docs/rating-rules.md`, "Why this colour"), the sentences beside the XmR variation and
assurance badges, and numbers written as a council reader expects.

The sentences are built column-wise, one case of the rule at a time over every row (`np.select`
picks each row's case), so a county's thousands of measures cost a few array operations, not a
Python function per row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.config import RatingRules
from metrics.periods import day_text, spoken
from metrics.rating import EPSILON, tolerance_above, tolerance_below
from metrics.vocab import Assurance, Polarity, Signal, Status, Unit

# --- Why this colour -------------------------------------------------------------------------


def format_value(value: float | None, unit: str, decimals: int) -> str:
    """A number as a council reader expects it: 71.2 %, £1,234, -£50, 8.5 days, 1,234."""
    if value is None or pd.isna(value):
        return "no value"
    places = max(int(decimals), 0)
    number = f"{abs(value):,.{places}f}"
    sign = "-" if round(value, places) < 0 else ""  # -0.04 to 1 place is 0.0, not -0.0
    return {
        Unit.PERCENT.value: f"{sign}{number} %",
        Unit.CURRENCY.value: f"{sign}£{number}",
        Unit.DAYS.value: f"{sign}{number} days",
    }.get(unit, f"{sign}{number}")


def _text(value: np.ndarray, places: np.ndarray, spec: str) -> np.ndarray:
    """`value` written with `spec` ("," or "") and each row's places, one format per distinct
    number of places (Python's own formatting, so every digit is the one `format_value` writes)."""
    out = np.empty(len(value), dtype=object)
    for place in np.unique(places):
        rows = places == place
        # Python floats, not numpy's: formatting a numpy scalar takes twice as long
        out[rows] = list(map(f"{{:{spec}.{int(place)}f}}".format, value[rows].tolist()))
    return out


def format_values(
    value: pd.Series | np.ndarray,
    unit: np.ndarray,
    places: np.ndarray,
    *,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """`format_value` over arrays: each row's number in its unit, to its places (only `rows`,
    when given, for a sentence that uses the number in some rows: the others are left blank)."""
    value = np.asarray(value, dtype=float)
    if rows is not None:
        out = np.full(len(value), "", dtype=object)
        out[rows] = format_values(value[rows], np.asarray(unit)[rows], np.asarray(places)[rows])
        return out
    places = np.maximum(np.asarray(places).astype(int), 0)
    blank = np.isnan(value)
    number = _text(np.abs(np.where(blank, 0.0, value)), places, ",")
    # round(value, places) < 0, read from the digits: -0.04 to 1 place is 0.0, not -0.0. Only
    # a negative number's digits are read (few measures go below zero).
    negative = np.flatnonzero(value < 0)
    shows = [text.strip("0.,") != "" for text in number[negative].tolist()]
    sign = np.full(len(value), "", dtype=object)
    sign[negative[np.asarray(shows, dtype=bool)]] = "-"
    unit = np.asarray(unit, dtype=object)
    prefix = np.where(unit == Unit.CURRENCY.value, sign + "£", sign)
    suffix = np.select(
        [unit == Unit.PERCENT.value, unit == Unit.DAYS.value], [" %", " days"], ""
    ).astype(object)
    return np.where(blank, "no value", prefix + number + suffix)


def places_to_tell_apart(
    value: np.ndarray, others: list[np.ndarray], decimals: np.ndarray
) -> np.ndarray:
    """The metric's decimals, or up to 4 more where rounding would make unequal numbers look
    equal (8.44 days against an 8.4 days edge), so a sentence never contradicts itself."""
    value = np.asarray(value, dtype=float)
    places = np.maximum(np.asarray(decimals).astype(int), 0)
    with np.errstate(invalid="ignore"):
        differ = [
            ~np.isnan(o) & (np.abs(value - o) > EPSILON * np.maximum(1.0, np.abs(o)))
            for o in others
        ]
        gaps = [np.abs(value - o) for o in others]
    result, pending = places + 4, np.ones(len(value), dtype=bool)
    for extra in range(5):
        # Numbers more than one unit of the last place apart can never be written alike: only
        # the close ones are written out and compared.
        unit = 1.5 * 10.0 ** -(places + extra)
        with np.errstate(invalid="ignore"):
            near = [
                pending & unequal & (gap <= unit) for gap, unequal in zip(gaps, differ, strict=True)
            ]
        written = np.logical_or.reduce(near)
        shown = np.full(len(value), None, dtype=object)
        shown[written] = _text(value[written], places[written] + extra, "")
        clash = np.zeros(len(value), dtype=bool)
        for other, rows in zip(others, near, strict=True):
            clash[rows] |= _text(other[rows], places[rows] + extra, "") == shown[rows]
        settled = pending & ~clash
        result[settled] = places[settled] + extra
        pending &= clash
        if not pending.any():
            break
    return result


POLARITY_PHRASE = {
    Polarity.HIGHER.value: "higher is better",
    Polarity.LOWER.value: "lower is better",
    Polarity.BAND.value: "inside the target range is best",
}


def _column(frame: pd.DataFrame, name: str, default: object) -> np.ndarray:
    """A column as an object array of its text (as an f-string writes it), or the default."""
    if name not in frame:
        return np.full(len(frame), default, dtype=object)
    return frame[name].astype(str).to_numpy(dtype=object)


def _phrases(polarity: np.ndarray, rated: np.ndarray) -> np.ndarray:
    """Each row's polarity phrase; a rated row of an unknown polarity is an error."""
    phrase = pd.Series(polarity).map(POLARITY_PHRASE).to_numpy(dtype=object)
    unknown = rated & pd.isna(phrase)
    if unknown.any():
        raise KeyError(polarity[unknown][0])
    return phrase


def explain(
    frame: pd.DataFrame, value: pd.Series, status: pd.Series, *, rules: RatingRules
) -> pd.Series:
    """One sentence per row that states the rule and the numbers behind its status."""
    default = rules.default_tolerance_percent
    status_ = np.asarray(status, dtype=object)
    value_ = np.asarray(pd.to_numeric(pd.Series(value), errors="coerce"), dtype=float)
    if len(value_) != len(frame) or len(status_) != len(frame):
        raise ValueError("explain: frame, value and status differ in length")
    # "March 2017", "Q4 2016-17": once per distinct period, not per row
    labels = pd.Series(_column(frame, "period", ""))
    period = labels.map({label: spoken(label) for label in labels.unique()}).to_numpy(dtype=object)
    ytd = np.where(_column(frame, "rated_on", None) == "ytd", " year to date", "").astype(object)
    unit = frame["unit"].to_numpy(dtype=object)
    decimals = frame["decimals"].to_numpy()
    polarity = frame["polarity"].to_numpy(dtype=object)
    missing = (status_ == Status.MISSING.value) | (status_ == Status.OVERDUE.value)
    data_only = status_ == Status.DATA_ONLY.value
    rated = ~missing & ~data_only
    # Missing or Overdue: when it is (was) due.
    missing_text = status_ + ": no actual entered for " + period + _due_text(frame, status_)
    # Data only: why it is not rated.
    shown = format_values(value_, unit, decimals, rows=data_only)
    data_only_text = shown + ytd + " is not rated; " + _why_data_only(frame, period)
    # Rated: the numbers the rule compared, the side, the gap and the tolerance.
    target = frame["target"].astype(float).to_numpy()
    band, higher = polarity == Polarity.BAND.value, polarity == Polarity.HIGHER.value
    low = higher | (band & (value_ < target))
    upper = np.where(band, frame["target_upper"].astype(float).to_numpy(), target)
    below = tolerance_below(frame, default).to_numpy(dtype=float)
    above = tolerance_above(frame, default).to_numpy(dtype=float)
    edge = np.where(low, target - below, upper + above)
    places = places_to_tell_apart(value_, [target, upper, edge], decimals)
    # Each number written only in the rows whose sentence shows it.
    off = rated & (status_ != Status.GREEN.value)
    fmt = lambda x, rows: format_values(x, unit, places, rows=rows)  # noqa: E731
    subject = fmt(value_, rated) + ytd
    phrase = _phrases(polarity, rated)
    target_shown, upper_shown = fmt(target, rated), fmt(upper, rated & band)
    target_text = np.where(
        band,
        "the target range " + target_shown + " to " + upper_shown,
        "the " + target_shown + np.where(ytd != "", " year-to-date target", " target"),
    )
    verb = np.where(band, "is inside ", np.where(higher, "meets or beats ", "is at or under "))
    green = "Green: " + subject + " " + verb + target_text + "; " + phrase
    tolerance = _tolerance_phrase(frame, np.where(low, below, above), default, unit, places, off)
    gap = np.where(status_ == Status.AMBER.value, " but within ", " by more than ")
    side = np.where(low, " is below ", " is above ")
    off_text = status_ + ": " + subject + side + target_text + gap + tolerance
    off_text = off_text + " (" + fmt(edge, off) + "); " + phrase
    sentences = np.select(
        [missing, data_only, status_ == Status.GREEN.value],
        [missing_text, "Data only: " + data_only_text, green],
        off_text,
    )
    return pd.Series(sentences, index=frame.index, dtype=object)


def _why_data_only(frame: pd.DataFrame, period: np.ndarray) -> np.ndarray:
    """Why a row is not rated: the `data only` flag, no target, or a band with no upper target."""
    flagged = frame["data_only"].astype(bool).to_numpy()
    band = (frame["polarity"] == Polarity.BAND.value).to_numpy()
    targeted = frame["target"].notna().to_numpy()
    return np.select(
        [flagged, band & targeted],
        ["this is a contextual measure with no target", "no upper target is set for " + period],
        "no target is set for " + period,
    )


def _due_text(frame: pd.DataFrame, status: np.ndarray) -> np.ndarray:
    """`; it is due by 15 May 2015` (`it was` once Overdue), or nothing without a deadline."""
    if "deadline" not in frame:
        return np.full(len(frame), "", dtype=object)
    due = pd.Series(frame["deadline"].to_numpy(dtype=object))
    known = due.notna().to_numpy()
    day = np.full(len(frame), "", dtype=object)
    written = {d: day_text(pd.Timestamp(d).date()) for d in due[known].unique()}  # a few days
    day[known] = due[known].map(written).to_numpy()
    tense = np.where(status == Status.OVERDUE.value, "; it was due by ", "; it is due by ")
    return np.where(known, tense + day, "")


def _tolerance_phrase(
    frame: pd.DataFrame,
    amount: np.ndarray,
    default: float,
    unit: np.ndarray,
    places: np.ndarray,
    rows: np.ndarray,
) -> np.ndarray:
    """`the 5 % tolerance` for a percent of the target, `the tolerance of 0.4 days` otherwise
    (written in `rows` only)."""
    tolerance = frame["tolerance"].astype(float).to_numpy()
    percent = np.isnan(tolerance) | frame["tolerance_is_percent"].astype(bool).to_numpy()
    shares = np.where(np.isnan(tolerance), default, tolerance)
    share = np.full(len(tolerance), "", dtype=object)
    share[rows & percent] = list(map("{:g}".format, shares[rows & percent].tolist()))
    return np.where(
        percent,
        "the " + share + " % tolerance",
        "the tolerance of " + format_values(amount, unit, places, rows=rows & ~percent),
    )


# --- Signal or noise: the sentences beside the XmR badges ------------------------------------

PERIOD_WORDS = {"monthly": "months", "quarterly": "quarters", "annual": "years"}
# What the sentences read from `spc.readings` (joined with unit, decimals and frequency).
SPC_FIELDS = [
    "spc_variation",
    "spc_assurance",
    "rule",
    "side",
    "improvement",
    "value",
    "mean",
    "upper_limit",
    "lower_limit",
    "target",
    "count",
    "run_length",
    "trend_length",
    "close_in_3",
    "unit",
    "decimals",
    "frequency",
]
SPECIAL = {
    Signal.IMPROVING.value: "Special cause, improving",
    Signal.CONCERNING.value: "Special cause, concerning",
    Signal.NEUTRAL.value: "Special cause, neutral",
}


def _numbers(reading: pd.DataFrame, column: str) -> np.ndarray:
    """A reading's column as floats (a reading built row by row may hold objects)."""
    return pd.to_numeric(reading[column], errors="coerce").to_numpy(dtype=float)


def _whole(reading: pd.DataFrame, column: str) -> np.ndarray:
    """A count as text, as `int()` writes it (0 where the row does not use it)."""
    counts = np.trunc(np.nan_to_num(_numbers(reading, column))).astype(np.int64)
    return counts.astype(str).astype(object)


def _spc_numbers(reading: pd.DataFrame, column: str, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The value (or target) written to tell it apart from the mean and limits, and the mean
    and limits one place finer: more where rounding would make a value look equal to the limit
    it is compared with (written in `rows` only, the ones whose sentence shows numbers)."""
    decimals = _numbers(reading, "decimals").astype(int)
    limits = {c: _numbers(reading, c) for c in ("mean", "upper_limit", "lower_limit")}
    number = _numbers(reading, column)
    places = decimals.copy()
    places[rows] = places_to_tell_apart(
        number[rows], [limit[rows] for limit in limits.values()], decimals[rows]
    )
    finer = np.maximum(places, decimals + 1)
    unit = reading["unit"].to_numpy(dtype=object)
    return {
        column: format_values(number, unit, places, rows=rows),
        **{name: format_values(v, unit, finer, rows=rows) for name, v in limits.items()},
    }


def _labels(values: pd.Series, table: dict[str, str], used: np.ndarray) -> np.ndarray:
    """Each row's words from the table; a used row with no words there is an error."""
    words = values.astype(object).map(table).to_numpy(dtype=object)
    unknown = used & pd.isna(words)
    if unknown.any():
        raise KeyError(values.to_numpy(dtype=object)[unknown][0])
    return words


def variation_sentence(reading: pd.DataFrame, *, rules: RatingRules) -> pd.Series:
    """One sentence per row naming the rule behind its variation and its numbers
    (`spc.readings` joined with unit, decimals and frequency)."""
    label = reading["spc_variation"].astype(object).to_numpy()
    few = label == Signal.TOO_FEW_POINTS.value
    common = label == Signal.COMMON_CAUSE.value
    shown = _spc_numbers(reading, "value", rows=~few)
    value, mean = shown["value"], shown["mean"]
    upper, lower = shown["upper_limit"], shown["lower_limit"]
    too_few = f"Too few points: an XmR reading needs {rules.spc_min_points} values; there are "
    common_text = "Common cause: " + value + " is within the process limits " + lower + " to "
    common_text += upper + " and breaks no rule, so the variation is noise"
    words = reading["frequency"].astype(object).map(PERIOD_WORDS).fillna("periods")
    periods, high = " " + words.to_numpy(dtype=object), _numbers(reading, "side") == 1
    limit = np.where(
        high, "the upper process limit " + upper, "the lower process limit " + lower
    ).astype(object)
    above = np.where(high, " above ", " below ").astype(object)
    rule = reading["rule"].astype(object).to_numpy()
    special = ~few & ~common
    why = {
        "outside": value + " is" + above + limit,
        "trend": _whole(reading, "trend_length") + periods + " in a row, each "
        + np.where(high, "higher", "lower").astype(object) + " than the one before",
        "two_of_three": _whole(reading, "close_in_3") + " of the last 3" + periods
        + " are more than two thirds of the way from the average " + mean + " to " + limit,
        "run": _whole(reading, "run_length") + periods + " in a row" + above
        + "the average of " + mean,
    }  # fmt: skip
    _labels(reading["rule"], {rule: rule for rule in why}, special)
    neutral = np.where(
        _numbers(reading, "improvement") == 0,
        "; neither direction is better for this measure",
        "",
    ).astype(object)
    heading = _labels(reading["spc_variation"], SPECIAL, special)
    cause = np.select([rule == name for name in why], list(why.values()), "")
    special_text = np.where(special, heading, "").astype(object) + ": " + cause + neutral
    sentences = np.select(
        [few, common],
        [too_few + _whole(reading, "count") + " so far", common_text],
        special_text,
    )
    return pd.Series(sentences, index=reading.index, dtype=object)


def assurance_sentence(reading: pd.DataFrame) -> pd.Series:
    """One sentence per row comparing its target with the process limits (blank reading: why
    there is none)."""
    label = reading["spc_assurance"].astype(str).to_numpy(dtype=object)
    target_value = _numbers(reading, "target")
    few = reading["spc_variation"].astype(object).to_numpy() == Signal.TOO_FEW_POINTS.value
    neutral = _numbers(reading, "improvement") == 0
    shown = _spc_numbers(reading, "target", rows=~few & ~neutral & ~np.isnan(target_value))
    target, upper, lower = shown["target"], shown["upper_limit"], shown["lower_limit"]
    stated = "the target " + target + " is "
    between = "Hit and miss: " + stated + "between the process limits " + lower + " and " + upper
    between += ", so it will be met in some periods and missed in others"
    where = np.where(
        target_value > _numbers(reading, "upper_limit"),
        "above the upper process limit " + upper,
        "below the lower process limit " + lower,
    ).astype(object)
    passing = label == Assurance.PASSING.value
    outcome = np.where(
        passing,
        ", so it will be met unless the process changes",
        ", so it will not be met without a change to the process",
    ).astype(object)
    sentences = np.select(
        [
            few,
            neutral,
            np.isnan(target_value),
            label == Assurance.HIT_AND_MISS.value,
        ],
        [
            "No assurance yet: too few points for process limits",
            "No assurance: neither direction is better for this measure",
            "No assurance: no target is set",
            between,
        ],
        label + ": " + stated + where + outcome,
    )
    return pd.Series(sentences, index=reading.index, dtype=object)
