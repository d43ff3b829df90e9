"""How one demo measure's two years look: its periods and season, the one RAG rule as the
demo applies it, and the `_Story` a measure's template and profile make."""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from metrics import periods, rating
from metrics.demo.source import DEMO_SEED, FIRST_YEAR, RATING_RULES, YEARS
from metrics.periods import Period
from metrics.vocab import Aggregation, ApprovalState, Frequency, Polarity, Unit

# --- Periods, seasons and rules ---------------------------------------------------------------


def demo_periods(frequency: str) -> list[Period]:
    """The periods of 2015-16 and 2016-17 for a frequency, in order."""
    years = range(FIRST_YEAR, FIRST_YEAR + YEARS)
    if frequency == Frequency.MONTHLY:
        first = periods.month_period(FIRST_YEAR, 4)
        return [periods.shift(first, step) for step in range(12 * YEARS)]
    if frequency == Frequency.QUARTERLY:
        return [periods.quarter_period(year, q) for year in years for q in range(1, 5)]
    return [periods.year_period(year) for year in years]


def _bumps(**months: float) -> list[float]:
    names = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    return [months.get(name, 0.0) for name in names]


def _wave(sign: float) -> list[float]:
    """+1 in January, -1 in July (or the reverse)."""
    return [sign * math.cos(2 * math.pi * index / 12) for index in range(12)]


_RAW_SEASONS = {
    "winter peak": _wave(1),
    "winter dip": _wave(-1),
    "summer peak": _wave(-1),
    "summer dip": _wave(1),
    "march peak": _bumps(feb=0.3, mar=1, apr=0.5),
    "march dip": [-v for v in _bumps(feb=0.3, mar=1, apr=0.5)],
    "december peak": _bumps(nov=0.4, dec=1),
    "january peak": _bumps(jan=1, feb=0.4, sep=0.3),
    "spring peak": _bumps(mar=0.5, apr=1, may=0.8, jun=0.3),
}


def _normalised(shape: list[float]) -> np.ndarray:
    """The shape with mean 0 and largest size 1, so a season adds nothing over a year."""
    array = np.array(shape, dtype=float)
    array -= array.mean()
    return array / np.abs(array).max()


SEASONS = {name: _normalised(shape) for name, shape in _RAW_SEASONS.items()}
# Council tax and business rates: the share of the year-end collection rate reached by the end
# of each month of the financial year (ten instalments from April, then late payers).
CUMULATIVE_PROFILE = np.array(
    [0.111, 0.204, 0.297, 0.390, 0.483, 0.576, 0.668, 0.760, 0.852, 0.943, 0.978, 1.0]
)

GREEN_GAP = 0.03  # how far a green metric ends the year beyond its target
STEP = 0.08  # the size of a step change
SPIKE = 0.6  # the size of a one-off spike
STEP_LENGTH = 8  # a step change leaves this many periods at the new level (from August 2016)
SPIKE_FROM_END = 5  # a spike sits this many periods from the end, the last being 1 (Nov 2016)


def season_factor(season: str, period: Period) -> float:
    """The season's shape for a period: a month's value, or a quarter's average; 0 for a year."""
    shape = SEASONS.get(season)
    if shape is None or period.frequency is Frequency.ANNUAL:
        return 0.0
    length = 1 if period.frequency is Frequency.MONTHLY else 3
    first = period.start.month - 1
    return float(np.mean([shape[(first + step) % 12] for step in range(length)]))


def _tolerance(tolerance: str) -> tuple[float | None, bool]:
    """A Tolerance cell as the template reads it: `5%` (a percent), `2` (an amount) or blank."""
    text = tolerance.strip()
    if not text:
        return None, True
    return float(text.rstrip("%")), text.endswith("%")


def tolerance_amount(tolerance: str, bound: float) -> float:
    """The amber band around a bound: `5%` of it, an absolute `2`, or the rating default."""
    amount, is_percent = _tolerance(tolerance)
    if amount is None:
        amount = RATING_RULES.default_tolerance_percent
    return abs(bound) * amount / 100 if is_percent else amount


def rags(
    actuals: list[float],
    targets: list[float],
    uppers: list[float | None],
    polarity: str | list[str],
    tolerances: list[str],
) -> list[str]:
    """Green, Amber or Red for each value against its target, polarity (one for all or one
    each) and tolerance cell, by the one RAG rule (`rating.rag`, in one call; a blank tolerance
    is the rating default)."""
    read = [_tolerance(tolerance) for tolerance in tolerances]
    frame = pd.DataFrame(
        {
            "target": pd.Series(targets, dtype=float),
            "target_upper": pd.Series([np.nan if u is None else u for u in uppers], dtype=float),
            "polarity": polarity,
            "tolerance": pd.Series([np.nan if a is None else a for a, _ in read], dtype=float),
            "tolerance_is_percent": [is_percent for _, is_percent in read],
            "data_only": False,
        }
    )
    return rating.rag(frame, pd.Series(actuals, dtype=float), rules=RATING_RULES).tolist()


def rough_rag(
    actual: float, target: float, upper: float | None, polarity: str, tolerance: str = ""
) -> str:
    """Green, Amber or Red for one value against one target (see `rags`)."""
    return rags([actual], [target], [upper], polarity, [tolerance])[0]


# --- Generating the values --------------------------------------------------------------------


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def _rng(code: str) -> np.random.Generator:
    """A generator of the metric's own, so one metric's history never depends on another's."""
    return np.random.default_rng([DEMO_SEED, zlib.crc32(code.encode())])


class _Story:
    """One metric's template and profile, and the history they make."""

    def __init__(self, template: Mapping[str, Any], profile: pd.Series) -> None:
        self.code = template["Code"]
        self.service = template["Service"]
        self.unit = template["Unit"]
        self.decimals = int(template["Decimals"] or 0)
        self.polarity = template["Polarity"]
        self.frequency = template["Frequency"]
        self.aggregation = template["Aggregation"]
        self.tolerance = template["Tolerance"]
        self.data_only = template["Data only"].strip().lower() == "yes"
        self.targets = [_number(profile["Target 2015-16"]), _number(profile["Target 2016-17"])]
        self.uppers = [
            _number(profile["Target upper 2015-16"]),
            _number(profile["Target upper 2016-17"]),
        ]
        self.typical = _number(profile["Typical value"])
        self.denominator = _number(profile["Typical denominator"])
        self.outlook = profile["Outlook"]
        self.trend = profile["Trend"] or "stable"
        self.season = profile["Season"]
        self.swing = (_number(profile["Seasonal swing"]) or 0.0) / 100
        self.noise_override = _number(profile["Noise"])
        self.signal = profile["Signal"]
        self.missing = {p.strip() for p in profile["Missing actuals"].split(",") if p.strip()}
        self.latest_approval = profile["Latest approval"] or ApprovalState.SUBMITTED.value
        self.commentary = profile["Commentary"]
        self.action = profile["Corrective action"]
        self.periods = demo_periods(self.frequency)
        self.rng = _rng(self.code)

    # -- targets and gaps

    @property
    def cumulative(self) -> bool:
        return self.season == "cumulative"

    @property
    def has_ratio(self) -> bool:
        return self.denominator is not None and not self.data_only

    def year_index(self, period: Period) -> int:
        return int(period.fiscal_year[:4]) - FIRST_YEAR

    def target(self, period: Period) -> float | None:
        target = None if self.data_only else self.targets[self.year_index(period)]
        if target is not None and self.cumulative:
            target = round(target * CUMULATIVE_PROFILE[periods.position_in_year(period) - 1], 1)
        return target

    def upper(self, period: Period) -> float | None:
        if self.data_only or self.polarity != Polarity.BAND:
            return None
        return self.uppers[self.year_index(period)]

    def tolerance_fraction(self) -> float:
        bound = self.uppers[-1] if self.polarity == Polarity.BAND else self.targets[-1]
        if not bound:
            return 0.05
        return tolerance_amount(self.tolerance, bound) / abs(bound)

    def final_gap(self) -> float:
        """How far the last period lands beyond (+) or short of (-) its target."""
        tolerance = self.tolerance_fraction()
        return {
            "green": self.green_gap(),
            "amber": -min(0.025, tolerance / 2),
            "red": -max(0.15, tolerance + 0.07),
        }.get(self.outlook, 0.0)

    def green_gap(self) -> float:
        """Beyond target, but a percent that is better higher stays short of 100."""
        target = self.targets[-1] or 0.0
        if self.unit == Unit.PERCENT and self.polarity == Polarity.HIGHER and target > 0:
            return min(GREEN_GAP, (100 - target) / target / 2)
        return GREEN_GAP

    def start_gap(self, final: float) -> float:
        """Where the history starts, relative to the first target; a step replaces a trend."""
        if self.signal.startswith("step change"):
            return final
        if self.trend == "improving":
            return final - 0.08
        if self.trend == "worsening":
            return max(final + 0.06, 0.03)
        if self.outlook == "red":  # a red that was only amber a year or two ago
            return final / 3
        return final

    def from_gap(self, period: Period, gap: float) -> float:
        """The value that lands `gap` beyond (+) or short of (-) the period's target."""
        target, upper = self.target(period), self.upper(period)
        assert target is not None
        if self.polarity == Polarity.HIGHER:
            return target * (1 + gap)
        if self.polarity == Polarity.LOWER:
            return target * (1 - gap)
        assert upper is not None
        return (target + upper) / 2 if gap >= 0 else upper * (1 - gap)

    # -- the history

    def noise(self, level: float) -> float:
        """The relative spread of period-to-period noise for this kind of measure."""
        if self.noise_override is not None:
            return self.noise_override / 100
        if self.cumulative:
            return 0.003
        if self.data_only:
            return 0.05
        if self.has_ratio:
            share = min(max(level / (100 if self.unit == Unit.PERCENT else 2), 0.02), 0.98)
            assert self.denominator is not None  # every ratio measure has one
            sampling = math.sqrt(share * (1 - share) / self.denominator) / share
            steady = 0.01 if self.aggregation == Aggregation.LAST else 0.02
            return min(steady + sampling / 2, 0.2)
        if self.unit == Unit.PERCENT:
            return 0.02
        if self.unit == Unit.NUMBER and self.decimals == 0:
            return min(max(0.6 / math.sqrt(max(level, 1.0)), 0.03), 0.3)
        if self.polarity == Polarity.BAND:
            return 0.05
        return 0.06 if self.unit == Unit.CURRENCY else 0.04

    def levels(self) -> np.ndarray:
        """The underlying value of each period before rounding: trend, season, noise, signal."""
        count = len(self.periods)
        first, last = self.periods[0], self.periods[-1]
        seasons = np.array([season_factor(self.season, p) for p in self.periods])
        if self.data_only:
            typical = self.typical or 0.0
            drift = {"rising": 0.12, "falling": -0.12}.get(self.trend, 0.0)
            start, end = typical * (1 - drift), typical * (1 + drift)
            final = end * (1 + self.swing * seasons[-1])
        else:
            gap = self.final_gap()
            final = self.from_gap(last, gap)
            start = self.from_gap(first, self.start_gap(gap))
            end = final / (1 + self.swing * seasons[-1])
            if self.cumulative:  # trend on the year-end rate; the profile shapes each year
                assert self.targets[0] is not None and self.targets[1] is not None
                start, end = (
                    self.targets[0] * (1 + self.start_gap(gap)),
                    self.targets[1] * (1 + gap),
                )
        position = np.arange(count) / max(count - 1, 1)
        shape = position**2 if self.trend == "worsening" and self.outlook == "red" else position
        path = start + (end - start) * shape
        if self.cumulative:
            path = path * np.array(
                [CUMULATIVE_PROFILE[periods.position_in_year(p) - 1] for p in self.periods]
            )
        noise = self.rng.normal(0.0, 1.0, count) * self.noise(float(abs(end)))
        values = path * (1 + self.swing * seasons) * (1 + noise)
        values = self.signals(values)
        values[-1] = final
        if self.outlook == "red" and self.trend == "worsening":
            values[-2] = self.worse_before(values[-2], final)
        return values

    def signals(self, values: np.ndarray) -> np.ndarray:
        """A step change (the history before it moved) or a one-off spike, for the XmR chart."""
        values = values.copy()
        if self.signal == "step change up":
            values[:-STEP_LENGTH] *= 1 - STEP
        elif self.signal == "step change down":
            values[:-STEP_LENGTH] *= 1 + STEP
        elif self.signal == "one-off spike":
            values[-SPIKE_FROM_END] *= 1 + SPIKE
        return values

    def worse_before(self, previous: float, final: float) -> float:
        """The period before a red, worsening year end was clearly better than it."""
        better = final * (1.05 if self.polarity == Polarity.HIGHER else 0.95)
        if self.polarity == Polarity.HIGHER:
            return max(previous, better)
        return min(previous, better)


def _bounded(story: _Story, value: float) -> float:
    value = max(value, 0.0)
    return min(value, 100.0) if story.unit == Unit.PERCENT else value


def _rounded(story: _Story, value: float) -> float:
    return float(round(_bounded(story, value), story.decimals))


def _ratio_row(story: _Story, value: float, index: int) -> tuple[float, float, float]:
    """Numerator, denominator and actual (their ratio, rounded) for a ratio measure."""
    assert story.denominator is not None
    scale = 100.0 if story.unit == Unit.PERCENT else 1.0
    spread = 0.01 if story.aggregation == Aggregation.LAST else 0.08
    last = index == len(story.periods) - 1
    jitter = 0.0 if last else story.rng.normal(0.0, spread)
    denominator = max(1.0, float(round(story.denominator * (1 + jitter))))
    numerator = float(round(_bounded(story, value) / scale * denominator))
    if story.unit == Unit.PERCENT:
        numerator = min(numerator, denominator)
    return numerator, denominator, round(scale * numerator / denominator, story.decimals)
