"""The demo council, the Borough of Melbury Vale: its source, its values, its users, its loading.

The source lives in `data/demo/` as CSV a performance officer can read:

- `priorities.csv`: the Corporate Plan priorities (name, description), in plan order.
- `initiatives.csv`: the ME2E initiatives (name, description, priorities separated by `;`).
- `metrics.csv`: the metric templates, with exactly the Metrics sheet's column headers.
- `profiles.csv`: how each metric's two years of history look: the targets for 2015-16 and
  2016-17 (the lower and upper ends for a band), a typical value (for data-only measures) and
  denominator (for ratios), the year-end outlook (green, amber, red, none), the trend, the
  season and its swing in percent, an SPC signal, periods whose actual is missing, the approval
  state of the latest return, and the officer's commentary and corrective action at year end;
  `Noise` (percent) overrides the period-to-period spread a measure of its kind gets.
- `commentary.csv`: commentary for particular periods, and any adjustment to that actual.

`values_frame` turns the profiles into the Values sheet, deterministically: each metric draws
from its own seeded generator, so the same rows come back on every run and on every machine.
"""

from __future__ import annotations

import json
import math
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from sqlalchemy import Engine
from sqlmodel import Session, select

from metrics import periods, store, workbook
from metrics.config import PROJECT_ROOT
from metrics.models import (
    Initiative,
    Metric,
    Priority,
    Service,
    Team,
    User,
    UserService,
)
from metrics.periods import Period
from metrics.vocab import Aggregation, ApprovalState, Frequency, Marking, Polarity, Role, Unit

DEMO_SOURCE = PROJECT_ROOT / "data" / "demo"
DEMO_SEED = 20160407  # the date of the Governance Committee report the framework comes from
FIRST_YEAR, YEARS = 2015, 2
EMAIL_DOMAIN = "demo.melburyvale.gov.uk"

# The Values sheet's headers and numeric columns, as the template import reads them.
VALUE_COLUMNS = [column.name for column in workbook.VALUE_COLUMNS]
NUMBER_COLUMNS = list(workbook.NUMBER_COLUMNS)
METRIC_NUMBER_COLUMNS = ["Decimals", "Risk impact", "Baseline"]

DEMO_USERS: list[dict[str, Any]] = [
    {
        "email": f"director@{EMAIL_DOMAIN}",
        "name": "Demo Director",
        "role": Role.MANAGEMENT_TEAM.value,
        "clearance": Marking.OFFICIAL_SENSITIVE.value,
        "services": [],
    },
    {
        "email": f"comms.manager@{EMAIL_DOMAIN}",
        "name": "Demo Communications Manager",
        "role": Role.SERVICE_MANAGER.value,
        "clearance": Marking.OFFICIAL.value,
        "services": ["Communications"],
    },
    {
        "email": f"housing.manager@{EMAIL_DOMAIN}",
        "name": "Demo Housing Manager",
        "role": Role.SERVICE_MANAGER.value,
        "clearance": Marking.OFFICIAL.value,
        "services": ["Housing"],
    },
    {
        "email": f"performance@{EMAIL_DOMAIN}",
        "name": "Demo Performance Officer",
        "role": Role.PERFORMANCE_OFFICER.value,
        "clearance": Marking.OFFICIAL_SENSITIVE.value,
        "services": [],
    },
    {
        "email": f"admin@{EMAIL_DOMAIN}",
        "name": "Demo Administrator",
        "role": Role.ADMINISTRATOR.value,
        "clearance": Marking.OFFICIAL_SENSITIVE.value,
        "services": [],
    },
    {
        "email": f"councillor@{EMAIL_DOMAIN}",
        "name": "Demo Councillor",
        "role": Role.COUNCILLOR.value,
        "clearance": Marking.OFFICIAL.value,
        "services": [],
    },
]
DEFAULT_PERSONA = DEMO_USERS[0]["email"]


class DemoError(RuntimeError):
    """The demo council cannot be loaded here; the message says why."""


# --- The source -----------------------------------------------------------------------------


def _read(name: str) -> pd.DataFrame:
    """One CSV of the source, every cell a string and blanks as ''."""
    return pd.read_csv(DEMO_SOURCE / name, dtype=str, keep_default_na=False, encoding="utf-8")


def metrics_frame() -> pd.DataFrame:
    """The metric templates, as written in metrics.csv (all strings, blanks as '')."""
    return _read("metrics.csv")


def priorities_frame() -> pd.DataFrame:
    """The Corporate Plan priorities: name and description, in plan order."""
    return _read("priorities.csv")


def initiatives_frame() -> pd.DataFrame:
    """The ME2E initiatives: name, description and the priorities they deliver (`;` between)."""
    return _read("initiatives.csv")


def profiles_frame() -> pd.DataFrame:
    """How each metric's demo history looks: targets, outlook, trend, season, signal, notes."""
    return _read("profiles.csv")


def commentary_frame() -> pd.DataFrame:
    """Commentary written for particular periods, and any adjustment to those actuals."""
    return _read("commentary.csv")


def initiative_priorities(cell: str) -> list[str]:
    """The priority names in an initiatives.csv `priorities` cell."""
    return [name.strip() for name in cell.split(";") if name.strip()]


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


def tolerance_amount(tolerance: str, bound: float) -> float:
    """The amber band around a bound: `5%` of it, an absolute `2`, or 5 % when blank."""
    text = tolerance.strip()
    if text.endswith("%"):
        return abs(bound) * float(text[:-1]) / 100
    if text:
        return float(text)
    return abs(bound) * 0.05


def rough_rag(
    actual: float, target: float, upper: float | None, polarity: str, tolerance: str = ""
) -> str:
    """Green, Amber or Red for one value against one target (blank tolerance = 5 %)."""
    eps = 1e-9
    if polarity == Polarity.BAND:
        assert upper is not None
        if target - eps <= actual <= upper + eps:
            return "Green"
        below = actual < target
        bound = target if below else upper
        gap = (target - actual) if below else (actual - upper)
        return "Amber" if gap <= tolerance_amount(tolerance, bound) + eps else "Red"
    gap = (target - actual) if polarity == Polarity.HIGHER else (actual - target)
    if gap <= eps:
        return "Green"
    return "Amber" if gap <= tolerance_amount(tolerance, target) + eps else "Red"


# --- Generating the values --------------------------------------------------------------------


def _number(text: str) -> float | None:
    return float(text) if text.strip() else None


def _rng(code: str) -> np.random.Generator:
    """A generator of the metric's own, so one metric's history never depends on another's."""
    return np.random.default_rng([DEMO_SEED, zlib.crc32(code.encode())])


class _Story:
    """One metric's template and profile, and the history they make."""

    def __init__(self, template: pd.Series, profile: pd.Series) -> None:
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


def _pin_final(story: _Story, row: dict[str, Any]) -> None:
    """Nudge the year-end value, by the smallest step, into the colour the profile asks for."""
    wanted = {"green": "Green", "amber": "Amber", "red": "Red"}.get(story.outlook)
    target, upper = row["Target"], row["Target upper"]
    if wanted is None or target is None or row["Actual"] is None:
        return

    def fits(actual: float) -> bool:
        return all(
            rough_rag(actual, target, upper, story.polarity, tolerance) == wanted
            for tolerance in (story.tolerance, "")
        )

    if fits(row["Actual"]):
        return
    if story.has_ratio:
        scale = 100.0 if story.unit == Unit.PERCENT else 1.0
        denominator = row["Denominator"]
        for step in _steps(200):
            numerator = row["Numerator"] + step
            if not 0 <= numerator <= (denominator if scale == 100 else math.inf):
                continue
            actual = round(scale * numerator / denominator, story.decimals)
            if fits(actual):
                row.update(Numerator=numerator, Actual=actual)
                return
        return
    unit = 10.0**-story.decimals
    for step in _steps(400):
        actual = round(row["Actual"] + step * unit, story.decimals)
        if actual >= 0 and fits(actual):
            row["Actual"] = actual
            return


def _steps(limit: int) -> list[int]:
    """1, -1, 2, -2, ... up to the limit: the nearest candidates first."""
    return [sign * size for size in range(1, limit + 1) for sign in (1, -1)]


def _calibrate_year(story: _Story, levels: np.ndarray) -> np.ndarray:
    """For a summed measure, scale the last year's other periods so its total lands as planned.

    The year-to-date total is what a summed measure is rated on; the last period is left alone.
    """
    if story.aggregation != Aggregation.SUM or story.data_only or not story.targets[1]:
        return levels
    per_year = periods.per_year(story.frequency)
    year = slice(len(levels) - per_year, len(levels) - 1)
    goal = story.targets[1] * per_year
    goal *= 1 + story.final_gap() if story.polarity == Polarity.HIGHER else 1 - story.final_gap()
    others = levels[year].sum()
    if per_year == 1 or others <= 0:
        return levels
    levels = levels.copy()
    levels[year] *= max(goal - levels[-1], 0.0) / others
    return levels


def _zero_target_levels(story: _Story) -> np.ndarray:
    """Occasional events against a target of none; a green metric has none in its last year."""
    events = story.rng.poisson(story.typical or 0.2, len(story.periods)).astype(float)
    if story.outlook == "green":
        events[-periods.per_year(story.frequency) :] = 0.0
    return events


def _history(story: _Story, adjustments: dict[str, float]) -> list[dict[str, Any]]:
    """The Values rows of one metric, before commentary and approval."""
    zero_target = not story.data_only and story.targets[1] == 0
    levels = _zero_target_levels(story) if zero_target else story.levels()
    levels = _calibrate_year(story, levels)
    rows = []
    for index, (period, level) in enumerate(zip(story.periods, levels, strict=True)):
        level = level * (1 + adjustments.get(period.label, 0.0))
        row: dict[str, Any] = {
            "Code": story.code,
            "Period": period.label,
            "Numerator": None,
            "Denominator": None,
            "Target": story.target(period),
            "Target upper": story.upper(period),
        }
        if story.has_ratio:
            row["Numerator"], row["Denominator"], row["Actual"] = _ratio_row(story, level, index)
        else:
            row["Actual"] = _rounded(story, level)
        rows.append(row)
    _pin_final(story, rows[-1])
    for row in rows:
        if row["Period"] in story.missing:
            row.update(Actual=None, Numerator=None, Denominator=None)
    return rows


# --- Commentary and approval --------------------------------------------------------------------

# What an officer writes against a red, and what they are doing about it, by service.
RED_NOTES: dict[str, list[tuple[str, str]]] = {
    "Communications": [
        (
            "A run of complex requests needing input from several services.",
            "Requests now allocated to a named coordinator in each service.",
        ),
        (
            "A key officer was on leave for two weeks without cover.",
            "Cover arrangements agreed within the service for future absences.",
        ),
        (
            "Content owners did not complete their reviews on time.",
            "Reminders now go to owners a month before a review is due.",
        ),
    ],
    "Customer Services": [
        (
            "Call volumes were well above forecast after bills and letters went out.",
            "Extra advisers rostered for the weeks after each mailing.",
        ),
        (
            "Two advisers on long-term sickness absence.",
            "Agency advisers booked until staff return.",
        ),
        (
            "Telephony faults on several days this month.",
            "Fault report raised with the supplier; resilience options being costed.",
        ),
    ],
    "Revenues and Benefits": [
        (
            "Backlog after the annual billing and uprating work.",
            "Overtime agreed until the backlog is cleared.",
        ),
        (
            "Two assessors left the team; posts being recruited to.",
            "Work passed to the shared service partner's overflow team.",
        ),
        (
            "A system upgrade took the service offline for three days.",
            "Upgrade completed; extra processing days scheduled.",
        ),
    ],
    "Housing": [
        (
            "Demand from households at risk of homelessness was well above last year.",
            "Prevention fund used for rent deposits and mediation.",
        ),
        (
            "Contractor capacity was limited this month.",
            "Raised at the monthly contract meeting; an improvement plan has been agreed.",
        ),
        (
            "Staff vacancies in the team reduced capacity.",
            "Temporary staff in post until recruitment completes.",
        ),
    ],
    "Planning": [
        (
            "Several complex applications needed extra consultation.",
            "Extensions of time now agreed with applicants earlier.",
        ),
        ("A planning officer post is vacant.", "Agency planner engaged for three months."),
        (
            "Consultee responses were late on several cases.",
            "Escalation route agreed with statutory consultees.",
        ),
    ],
    "Environmental Services": [
        (
            "Vehicle breakdowns took two rounds off the road.",
            "Hire vehicle on standby until the replacement fleet arrives.",
        ),
        (
            "Crew shortages through sickness and leave.",
            "Agency cover booked for the rest of the month.",
        ),
        (
            "Officers were diverted to an outbreak investigation.",
            "Programme re-planned to catch up by the end of the quarter.",
        ),
    ],
    "Communities and Neighbourhoods": [
        (
            "Partner data arrived late, so work slipped this month.",
            "Data sharing timetable agreed with partners.",
        ),
        (
            "The team was supporting a major town centre event.",
            "Event planning now resourced apart from day-to-day work.",
        ),
        (
            "A key post is vacant while the restructure completes.",
            "Duties covered by the team manager until the post is filled.",
        ),
    ],
    "Corporate Governance": [
        (
            "Two long-term vacancies in the team; recruitment under way.",
            "Work shared with another team until the posts are filled.",
        ),
        (
            "Competing deadlines for statutory returns took priority this month.",
            "Timetable changed so statutory returns and monthly work no longer clash.",
        ),
        (
            "A new system module caused processing delays.",
            "Supplier support booked and staff given refresher training.",
        ),
    ],
}
GENERAL_NOTES = [
    (
        "Staff sickness in a small team delayed work; the backlog is being cleared.",
        "Work redistributed across the team until the backlog is cleared.",
    ),
]
AMBER_NOTES = [
    "Just below target; expected to recover next month.",
    "Within tolerance; the team is monitoring the position weekly.",
    "Slightly short of target because of seasonal demand.",
]


def _annotate(story: _Story, rows: list[dict[str, Any]], notes: dict[str, tuple[str, str]]) -> None:
    """Commentary on reds (the profile's own words near the year end), approval on every row."""
    latest = len(rows) - 1
    recent = 3 if story.frequency == Frequency.MONTHLY else 1
    pool = RED_NOTES.get(story.service, GENERAL_NOTES)
    cause: tuple[str, str] | None = None  # one cause for a run of reds, as an officer would
    for index, row in enumerate(rows):
        row["Commentary"], row["Corrective action"] = "", ""
        status = _status_of(story, row)
        if status != "Red":
            cause = None
        if status == "Red" and story.commentary and index > latest - recent:
            row["Commentary"] = story.commentary
            row["Corrective action"] = story.action if index == latest else ""
        elif status == "Red":
            fresh = cause is None
            cause = cause or pool[int(story.rng.integers(len(pool)))]
            row["Commentary"] = cause[0] if fresh else _continued(cause[0])
            row["Corrective action"] = cause[1] if fresh else ""
        elif status == "Amber" and index == latest:
            row["Commentary"] = story.commentary or AMBER_NOTES[int(story.rng.integers(3))]
            row["Corrective action"] = story.action
        if row["Period"] in notes:
            row["Commentary"], row["Corrective action"] = notes[row["Period"]]
        row["Approval"] = _approval(story, row, index == latest)


def _continued(note: str) -> str:
    """The note an officer writes when last month's cause is still at work."""
    return f"As last month: {note[0].lower()}{note[1:]}"


def _status_of(story: _Story, row: dict[str, Any]) -> str | None:
    if row["Actual"] is None or row["Target"] is None:
        return None
    actual, target, upper = row["Actual"], row["Target"], row["Target upper"]
    return rough_rag(actual, target, upper, story.polarity, story.tolerance)


def _approval(story: _Story, row: dict[str, Any], latest: bool) -> str:
    """Approved history; the latest return as its profile says; a missing actual is a draft."""
    if row["Actual"] is None:
        return ApprovalState.DRAFT.value
    return story.latest_approval if latest else ApprovalState.APPROVED.value


def values_frame() -> pd.DataFrame:
    """The Values sheet of the demo: 2015-16 and 2016-17 for every metric, the same every run."""
    profiles = profiles_frame().set_index("Code")
    extra = commentary_frame()
    rows: list[dict[str, Any]] = []
    for _, template in metrics_frame().iterrows():
        mine = extra[extra["Code"] == template["Code"]]
        adjustments = {
            p: float(a.rstrip("%")) / 100
            for p, a in zip(mine["Period"], mine["Adjust actual"], strict=True)
            if a.strip()
        }
        notes = {
            p: (c, a)
            for p, c, a in zip(
                mine["Period"], mine["Commentary"], mine["Corrective action"], strict=True
            )
        }
        story = _Story(template, profiles.loc[template["Code"]])
        history = _history(story, adjustments)
        _annotate(story, history, notes)
        rows.extend(history)
    frame = pd.DataFrame(rows, columns=VALUE_COLUMNS)
    frame[NUMBER_COLUMNS] = frame[NUMBER_COLUMNS].astype(float)
    return frame


# --- The workbook and the database ---------------------------------------------------------------


def _cell(value: Any) -> Any:
    """Blanks (and NaN) as empty cells, whole numbers as int, the rest as the export writes it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float | np.floating):
        return int(value) if float(value).is_integer() else float(value)
    return workbook.cell_value(value)


def _metric_cell(column: str, text: str) -> Any:
    """A Metrics cell: numeric columns (and absolute tolerances) as numbers, the rest as text."""
    numeric = column in METRIC_NUMBER_COLUMNS or (column == "Tolerance" and "%" not in text)
    if numeric and text.strip():
        return _cell(float(text))
    return _cell(text)


def write_demo_workbook(path: Path) -> None:
    """Write the demo's Metrics and Values sheets as a workbook the template import reads."""
    book = Workbook()
    metrics_sheet = book.active
    metrics_sheet.title = "Metrics"
    templates = metrics_frame()
    metrics_sheet.append(list(templates.columns))
    for record in templates.itertuples(index=False):
        metrics_sheet.append(
            [_metric_cell(c, t) for c, t in zip(templates.columns, record, strict=True)]
        )
    values_sheet = book.create_sheet("Values")
    values = values_frame()
    values_sheet.append(VALUE_COLUMNS)
    for record in values.itertuples(index=False):
        values_sheet.append([_cell(value) for value in record])
    book.save(path)


DEMO_REASON = "demo council"
# Every kind of row the demo writes first-hand: any one held means the database is in use.
EMPTY_TABLES = {
    Metric: "metrics",
    Priority: "priorities",
    Initiative: "initiatives",
    Service: "services",
    Team: "teams",
    User: "users",
}


def load_demo(engine: Engine, *, actor: str = "demo loader") -> None:
    """Load the demo council into an empty database, all of it in one transaction or nothing.

    Refuses if any metric, priority, initiative, service, team or user is already held, so a
    council's own data is never mixed with the demo's.
    """
    with tempfile.TemporaryDirectory() as folder, store.transaction(engine) as session:
        _require_empty(session)
        path = Path(folder) / "melbury-vale-demo.xlsx"
        write_demo_workbook(path)
        workbook.import_workbook_in(session, path, actor=actor)
        lines = workbook.line_of_sight(session, actor=actor, reason=DEMO_REASON)
        _describe_line_of_sight(session, lines, actor)
        _create_users(session, actor)
        store.bump_data_version(session)


def _require_empty(session: Session) -> None:
    """DemoError unless every table the demo fills is empty."""
    held = [noun for m, noun in EMPTY_TABLES.items() if session.exec(select(m).limit(1)).first()]
    if held:
        raise DemoError(
            f"the database already holds {', '.join(held)}; the demo council loads only into an "
            "empty database (remove the database file, or point SCORECARD_DATABASE_URL elsewhere)"
        )


def _set(session: Session, row: Any, field: str, value: Any, actor: str) -> None:
    old = getattr(row, field)
    if old == value:
        return
    setattr(row, field, value)
    session.add(row)
    store.audit(
        session,
        actor=actor,
        action="update",
        entity=type(row).__tablename__,
        entity_key=row.code,
        field_name=field,
        old_value=old,
        new_value=value,
        reason=DEMO_REASON,
    )


def _describe_line_of_sight(session: Session, lines: workbook.LineOfSight, actor: str) -> None:
    """Descriptions and plan order for priorities, descriptions and links for initiatives."""
    for order, record in enumerate(priorities_frame().itertuples(index=False), start=1):
        priority = lines.find(Priority, record.name)
        _set(session, priority, "description", record.description, actor)
        _set(session, priority, "sort_order", order, actor)
    for record in initiatives_frame().itertuples(index=False):
        initiative = lines.find(Initiative, record.name)
        _set(session, initiative, "description", record.description, actor)
        for name in initiative_priorities(record.priorities):
            lines.link(initiative, lines.find(Priority, name))


def _create_users(session: Session, actor: str) -> None:
    """One demo user per role (the user table was found empty), each audited with its access."""
    services = {s.name: s for s in session.exec(select(Service))}
    for person in DEMO_USERS:
        user = User(
            email=person["email"],
            name=person["name"],
            role=person["role"],
            clearance=person["clearance"],
        )
        session.add(user)
        session.flush()
        for name in person["services"]:
            if name not in services:
                raise DemoError(f"the demo user {person['email']} names an unknown service {name}")
            session.add(UserService(user_id=user.id, service_id=services[name].id))
        access = {key: person[key] for key in ("role", "clearance", "services")}
        store.audit(
            session,
            actor=actor,
            action="create",
            entity="user",
            entity_key=user.email,
            new_value=json.dumps(access, sort_keys=True),
            reason=DEMO_REASON,
        )
