"""Reporting periods on the council's financial year: months `2015-04`, quarters `2015-16 Q1`,
years `2015-16`. The year starts in a configurable month (April by default)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from metrics.vocab import Frequency

if TYPE_CHECKING:  # pandas is imported by whoever passes a Series, not here
    import pandas as pd

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
QUARTER_RE = re.compile(r"^(\d{4})-(\d{2})\s*[;: ]\s*Q(\d+)$", re.IGNORECASE)
ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")
LONDON = ZoneInfo("Europe/London")


class PeriodError(ValueError):
    """A period label that cannot be read."""


class UnknownPeriod(ValueError):
    """A period label the council does not report on."""


@dataclass(frozen=True, order=True)
class Period:
    """One reporting period; ordering follows the calendar (by end, then by length)."""

    end: date
    start: date
    label: str
    frequency: Frequency
    fiscal_year: str


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _month_end(year: int, month: int) -> date:
    next_year, next_month = _add_months(year, month, 1)
    return date(next_year, next_month, 1) - timedelta(days=1)


def year_label(start_year: int) -> str:
    """`2015-16` for the financial year that starts in 2015."""
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def fiscal_start_year(year: int, month: int, fy_start: int = 4) -> int:
    """The calendar year in which the financial year holding this month began."""
    return year if month >= fy_start else year - 1


def month_period(year: int, month: int, fy_start: int = 4) -> Period:
    """The monthly period for a calendar month."""
    return Period(
        end=_month_end(year, month),
        start=date(year, month, 1),
        label=f"{year}-{month:02d}",
        frequency=Frequency.MONTHLY,
        fiscal_year=year_label(fiscal_start_year(year, month, fy_start)),
    )


def quarter_period(start_year: int, quarter: int, fy_start: int = 4) -> Period:
    """Quarter 1 to 4 of the financial year that starts in `start_year`."""
    first_year, first_month = _add_months(start_year, fy_start, 3 * (quarter - 1))
    last_year, last_month = _add_months(first_year, first_month, 2)
    return Period(
        end=_month_end(last_year, last_month),
        start=date(first_year, first_month, 1),
        label=f"{year_label(start_year)} Q{quarter}",
        frequency=Frequency.QUARTERLY,
        fiscal_year=year_label(start_year),
    )


def year_period(start_year: int, fy_start: int = 4) -> Period:
    """The whole financial year that starts in `start_year`."""
    last_year, last_month = _add_months(start_year, fy_start, 11)
    return Period(
        end=_month_end(last_year, last_month),
        start=date(start_year, fy_start, 1),
        label=year_label(start_year),
        frequency=Frequency.ANNUAL,
        fiscal_year=year_label(start_year),
    )


FIRST_YEAR, LAST_YEAR = 1900, 9998  # beyond these, dates overflow; no council reports there


def _check_year(year: int, text: object) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise PeriodError(f"'{text}' is outside the years {FIRST_YEAR} to {LAST_YEAR}")


def _check_year_pair(first: int, second: int, text: str) -> None:
    if (first + 1) % 100 != second:
        raise PeriodError(f"'{text}' is not a financial year: {second:02d} should follow {first}")


def parse(value: object, fy_start: int = 4) -> Period:
    """Read a period from `2015-04`, `2015-16 Q1` (or LGBF's `2018-19;Q1`), `2015-16`, or a date.

    A date stands for the month it falls in.
    """
    if isinstance(value, datetime | date):
        _check_year(value.year, value)
        return month_period(value.year, value.month, fy_start)
    text = str(value).strip() if value is not None else ""
    if not text:
        raise PeriodError("the period is blank")
    if match := QUARTER_RE.match(text):
        first, second, quarter = (int(g) for g in match.groups())
        _check_year(first, text)
        _check_year_pair(first, second, text)
        if not 1 <= quarter <= 4:
            raise PeriodError(f"'{text}' has no quarter {quarter}: quarters run Q1 to Q4")
        return quarter_period(first, quarter, fy_start)
    if match := MONTH_RE.match(text):
        first, second = (int(g) for g in match.groups())
        _check_year(first, text)
        # `2011-12` reads as both December 2011 and the year 2011-12: a month wins here, and
        # `parse_for(..., "annual")` reads it as a year for an annual metric.
        if 1 <= second <= 12:
            return month_period(first, second, fy_start)
        if (first + 1) % 100 == second:
            return year_period(first, fy_start)
        raise PeriodError(
            f"'{text}' is neither a month (YYYY-MM, months 01 to 12) "
            "nor a financial year (YYYY-YY, like 2015-16)"
        )
    if match := ISO_DATE_RE.match(text):
        year, month, day = (int(g) for g in match.groups())
        _check_year(year, text)
        try:
            date(year, month, day)
        except ValueError as error:
            raise PeriodError(f"'{text}' is not a real date") from error
        return month_period(year, month, fy_start)
    raise PeriodError(
        f"'{text}' is not a period: use a month like 2015-04, a quarter like 2015-16 Q1 "
        "or a financial year like 2015-16"
    )


def parse_for(value: object, frequency: Frequency | str, fy_start: int = 4) -> Period:
    """Read a period for a metric of this frequency: `2011-12` is a year for an annual metric."""
    frequency = Frequency(frequency)
    text = str(value).strip() if not isinstance(value, datetime | date) else ""
    if frequency is Frequency.ANNUAL and (match := MONTH_RE.match(text)):
        first, second = (int(g) for g in match.groups())
        if (first + 1) % 100 == second:
            _check_year(first, text)
            return year_period(first, fy_start)
    period = parse(value, fy_start)
    if period.frequency is not frequency:
        raise PeriodError(
            f"'{value}' is {_a(period.frequency.value)} period but the metric is {frequency.value}"
        )
    return period


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def quarter_of(month: Period, fy_start: int = 4) -> Period:
    """The quarter a month falls in."""
    start_year = fiscal_start_year(month.start.year, month.start.month, fy_start)
    months_in = (month.start.month - fy_start) % 12
    return quarter_period(start_year, months_in // 3 + 1, fy_start)


def due_in_month(month: Period, frequency: Frequency | str, fy_start: int = 4) -> Period | None:
    """The period a metric of this frequency reports in this month, if it reports at all.

    Quarterly metrics report in a quarter's last month, annual ones in the year's last month.
    """
    frequency = Frequency(frequency)
    if frequency is Frequency.MONTHLY:
        return month
    start_year = fiscal_start_year(month.start.year, month.start.month, fy_start)
    containing = (
        quarter_of(month, fy_start)
        if frequency is Frequency.QUARTERLY
        else year_period(start_year, fy_start)
    )
    return containing if containing.end == month.end else None


def shift(period: Period, steps: int, fy_start: int = 4) -> Period:
    """The period `steps` periods of the same frequency later (earlier when negative)."""
    start_year = int(period.fiscal_year[:4])
    if period.frequency is Frequency.MONTHLY:
        year, month = _add_months(period.start.year, period.start.month, steps)
        return month_period(year, month, fy_start)
    if period.frequency is Frequency.QUARTERLY:
        index = start_year * 4 + int(period.label[-1]) - 1 + steps
        return quarter_period(index // 4, index % 4 + 1, fy_start)
    return year_period(start_year + steps, fy_start)


def per_year(frequency: Frequency | str) -> int:
    """How many periods of this frequency make a financial year."""
    return {Frequency.MONTHLY: 12, Frequency.QUARTERLY: 4, Frequency.ANNUAL: 1}[
        Frequency(frequency)
    ]


def same_period_last_year(period: Period, fy_start: int = 4) -> Period:
    """The same month, quarter or year one year earlier."""
    return shift(period, -per_year(period.frequency), fy_start)


def year_to_date(period: Period, fy_start: int = 4) -> list[Period]:
    """The periods of the same frequency from the start of its financial year up to this one."""
    first = shift(period, -position_in_year(period, fy_start) + 1, fy_start)
    return [shift(first, step, fy_start) for step in range(position_in_year(period, fy_start))]


def position_in_year(period: Period, fy_start: int = 4) -> int:
    """1 for the first period of the financial year, up to 12, 4 or 1."""
    if period.frequency is Frequency.MONTHLY:
        return (period.start.month - fy_start) % 12 + 1
    if period.frequency is Frequency.QUARTERLY:
        return int(period.label[-1])
    return 1


def months(first: Period, last: Period, fy_start: int = 4) -> list[Period]:
    """Every month from `first` to `last`, both included."""
    count = (last.start.year - first.start.year) * 12 + last.start.month - first.start.month
    return [shift(first, step, fy_start) for step in range(count + 1)]


def entry_deadline(period: Period, working_days: int, holidays: Collection[date]) -> date:
    """The date values are due: this many working days (Monday to Friday, not a bank holiday
    in `holidays`) after the period ends. The one deadline rule: the status's Overdue, the chase
    list, reminders and the entry checks all reach it through `Deadline`."""
    day, left = period.end, working_days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            left -= 1
    return day


@dataclass(frozen=True)
class Deadline:
    """The entry deadline as configured (`[periods] entry_deadline_working_days` and
    `bank_holidays`): `deadline.of(period)` is the last day a value is on time."""

    working_days: int = 10
    holidays: frozenset[date] = frozenset()

    def of(self, period: Period) -> date:
        return entry_deadline(period, self.working_days, self.holidays)


def month_for(label: str, fy_start: int = 4) -> Period:
    """The reporting month a label stands for: a quarter or year reports in its last month."""
    try:
        period = parse(label, fy_start)
    except PeriodError as error:
        raise UnknownPeriod(str(error)) from error
    if period.frequency is Frequency.MONTHLY:
        return period
    return month_period(period.end.year, period.end.month, fy_start)


def month_of(day: date, fy_start: int = 4) -> Period:
    """The reporting month a date falls in."""
    return month_period(day.year, day.month, fy_start)


# --- How a period or a date reads on screen -----------------------------------------------------

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def spoken(label: object) -> str:
    """A period as the council says it: 'March 2017', 'Q4 2016-17', '2016-17'; anything that
    is not a period label comes back as given (so a bad link's text is still shown as typed)."""
    text = "" if label is None else str(label).strip()
    try:
        period = parse(text)
    except PeriodError:
        return text
    if ISO_DATE_RE.match(text):  # a date is a day, not the month it falls in
        return day_text(period.start.replace(day=int(text[8:10])))
    if period.frequency is Frequency.MONTHLY:
        return f"{MONTH_NAMES[period.start.month - 1]} {period.start.year}"
    if period.frequency is Frequency.QUARTERLY:
        return f"Q{period.label[-1]} {period.fiscal_year}"
    return period.label


def spoken_each(labels: pd.Series) -> pd.Series:
    """`spoken` of each label (None and NaN stay missing), each distinct label said once: a
    month's 20,000 rows hold a few dozen periods, and saying each row took 0.25 s at XL."""
    said = {label: spoken(label) for label in labels.dropna().unique()}
    return labels.map(said).astype(object)


def day_text(day: object) -> str:
    """A date as '18 April 2017' ('–' for none), with a time of day as '18 April 2017, 09:05'."""
    if day is None or day != day:  # None, NaN or NaT
        return "–"
    if isinstance(day, str):
        try:
            day = datetime.fromisoformat(day)
        except ValueError:
            return str(day)
    if not isinstance(day, date):  # a pandas Timestamp is a datetime; NaT is neither
        return "–"
    if isinstance(day, datetime) and day.tzinfo is not None:
        day = day.astimezone(LONDON)  # the audit trail stores UTC; the council reads UK time
    text = f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"
    if isinstance(day, datetime) and (day.hour, day.minute, day.second) != (0, 0, 0):
        text += f", {day:%H:%M}"
    return text
