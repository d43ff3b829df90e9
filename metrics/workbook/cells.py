"""One cell of an untrusted workbook read as a number, a code, a name, a choice or a period.

Each reader returns the value or raises `Invalid` with a reason the person fixing the file can
act on. Text is measured before it is examined, and no reader runs a regular expression that
could backtrack, so a crafted cell costs time in proportion to its length at most.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from metrics import periods
from metrics.config import settings
from metrics.names import fold, slug
from metrics.workbook.columns import LIMITS

# The largest size a number cell may have: far beyond any council's figures, and finite.
MAX_MAGNITUDE = 1e15
NUMBER_CHARACTERS = frozenset("0123456789+-.eE")
MAX_NUMBER_TEXT = 40  # "-123456789012345.123456789e-10%" and then some
MAX_PERIOD_TEXT = 40
CODE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
# Letters of these scripts look alike (Latin H, Cyrillic Н, Greek Η): one name must not mix them.
CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})
# Text direction overrides can make a name display differently from what it holds.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


@dataclass
class Cell:
    """A non-blank cell: text (inert's apostrophe removed), number, bool or datetime."""

    value: Any
    percent: bool = False  # a number Excel shows as a percentage: 0.85 is shown as 85%


class Invalid(ValueError):
    """Why one cell cannot be read; becomes a Problem naming the cell."""


def clip(text: str, limit: int = 40) -> str:
    """The text quoted, on one line, cut short if long."""
    text = " ".join(text[: limit * 4].split())
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit]}...'"


def show(value: Any) -> str:
    """A number as a person would type it."""
    return format(value, "g") if isinstance(value, float) else str(value)


def as_text(value: Any) -> str:
    """A cell as text: numbers without a spurious '.0', dates as ISO dates."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def number_parts(cell: Cell) -> tuple[float, bool]:
    """A number, and whether it was written or shown as a percentage (85% or 0.85 as 85%)."""
    value = cell.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = bounded(value)
        return (round(number * 100, 9), True) if cell.percent else (number, False)
    if isinstance(value, bool | date | time):
        raise Invalid(f"{clip(as_text(value))} is not a number")
    text = as_text(value).strip()
    body = text.removesuffix("%")
    plain = 0 < len(body) <= MAX_NUMBER_TEXT and set(body) <= NUMBER_CHARACTERS
    if not plain or not any(character.isdigit() for character in body):
        raise Invalid(f"{clip(text)} is not a number")
    try:
        number = float(body)
    except ValueError:
        raise Invalid(f"{clip(text)} is not a number") from None
    return bounded(number), text.endswith("%")


def bounded(value: float) -> float:
    """A finite float no larger than MAX_MAGNITUDE: larger ones are typing slips or attacks."""
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        number = math.inf
    if not math.isfinite(number):
        raise Invalid(f"{clip(show(value))} is not a finite number")
    if abs(number) > MAX_MAGNITUDE:
        raise Invalid(f"{show(number)} is larger than {MAX_MAGNITUDE:g} in size")
    return number


def number(cell: Cell) -> float:
    """A finite number of sane size; 85% reads as 85."""
    return number_parts(cell)[0]


def whole(low: int, high: int) -> Callable[[Cell], int]:
    """A reader of whole numbers from low to high."""

    def parse(cell: Cell) -> int:
        value = number(cell)
        if not value.is_integer() or not low <= value <= high:
            raise Invalid(f"'{show(value)}' is not a whole number from {low} to {high}")
        return int(value)

    return parse


def tolerance(cell: Cell) -> tuple[float, bool]:
    """An amber band: 5% is a percent of the target, 2.5 an absolute amount; never negative."""
    value, percent = number_parts(cell)
    if value < 0:
        raise Invalid(f"'{show(value)}' is negative; a tolerance is 0 or more")
    return value, percent


def _no_hidden_controls(text: str, *, multiline: bool) -> None:
    """Control characters (bar tab and newlines in long text) and, on one line, invisible
    format characters (zero-width space, direction overrides) are refused: they make two
    names look the same."""
    allowed = "\t\n\r" if multiline else ""
    for character in text:
        category = unicodedata.category(character)
        if (
            character in BIDI_CONTROLS
            or (category == "Cf" and not multiline)
            or (category == "Cc" and character not in allowed)
        ):
            code_point = f"U+{ord(character):04X}"
            raise Invalid(f"the text holds a hidden control character ({code_point}); remove it")


def text(limit: int, *, strip: bool = True, multiline: bool = False) -> Callable[[Cell], str]:
    """A reader of text up to `limit` characters, with no hidden control characters."""

    def parse(cell: Cell) -> str:
        value = as_text(cell.value)
        value = value.strip() if strip else value
        if len(value) > limit:
            raise Invalid(f"the text is {len(value):,} characters; the limit is {limit:,}")
        _no_hidden_controls(value, multiline=multiline)
        return value

    return parse


FORMULA_STARTS = ("=", "+", "-", "@")


def not_formula_like(value: str) -> str:
    """Typed text that a spreadsheet would run as a formula (`=HYPERLINK(...)`) is refused.

    A workbook cell holding a formula is refused when the sheet is read (`sheets`); a form
    (`metrics.admin`) has no formulas, only text, so it asks this of each text it is given.
    """
    if value.lstrip().startswith(FORMULA_STARTS):
        raise Invalid(
            f"{clip(value)} begins like a spreadsheet formula ({value.lstrip()[0]}); "
            "start it with a letter or digit"
        )
    return value


def code(cell: Cell) -> str:
    """A code: letters, digits, '.', '_' or '-', starting with a letter or digit."""
    value = as_text(cell.value).strip()
    if len(value) > LIMITS["code"]:
        raise Invalid(f"{clip(value)} is longer than {LIMITS['code']} characters")
    if not value or not set(value) <= CODE_CHARACTERS or not value[0].isalnum():
        raise Invalid(
            f"{clip(value)} is not a code: use letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return value


def email(cell: Cell) -> str:
    """An e-mail address (`name@council.gov.uk`), or blank: one @, a dotted domain, no spaces."""
    value = as_text(cell.value).strip()
    if len(value) > LIMITS["email"]:
        raise Invalid(f"the address is {len(value):,} characters; the limit is {LIMITS['email']}")
    if not value:
        return ""
    mailbox, at, domain = value.rpartition("@")
    labels = domain.split(".")
    if (
        not at
        or not mailbox
        or "@" in mailbox
        or len(labels) < 2
        or not all(labels)
        or any(c.isspace() or not c.isprintable() for c in value)
    ):
        raise Invalid(
            f"{clip(value)} is not an e-mail address: write one like housing@council.gov.uk"
        )
    return value


def mixed_scripts(value: str) -> str:
    """Why a name mixes look-alike alphabets ("Ноusing": Cyrillic Н and о), or ''."""
    scripts: dict[str, list[str]] = {}
    for character in value:
        if character.isalpha():
            script = unicodedata.name(character, "UNKNOWN").split()[0]
            if script in CONFUSABLE_SCRIPTS:
                scripts.setdefault(script, []).append(character)
    if len(scripts) < 2:
        return ""
    minority = sorted(scripts, key=lambda script: len(scripts[script]))[0]
    letters = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in dict.fromkeys(scripts[minority]))
    alphabets = " and ".join(script.title() for script in sorted(scripts))
    return (
        f"{clip(value)} mixes {alphabets} letters: {letters} "
        f"{'is' if len(set(scripts[minority])) == 1 else 'are'} {minority.title()}; "
        "retype the name in one alphabet"
    )


def name(cell: Cell) -> str:
    """A name of a priority, initiative, service or team: one line, one alphabet."""
    value = " ".join(as_text(cell.value).split())
    if len(value) > LIMITS["name"]:
        raise Invalid(f"the name is {len(value):,} characters; the limit is {LIMITS['name']}")
    _no_hidden_controls(value, multiline=False)
    if why := mixed_scripts(value):
        raise Invalid(why)
    if not slug(value):
        raise Invalid(f"{clip(value)} needs at least one letter or digit")
    return value


def title(limit: int) -> Callable[[Cell], str]:
    """A measure's title: text on one line in one alphabet."""
    read = text(limit)

    def parse(cell: Cell) -> str:
        value = read(cell)
        if why := mixed_scripts(value):
            raise Invalid(why)
        return value

    return parse


def choice(enum: type[StrEnum], noun: str) -> Callable[[Cell], str]:
    """A reader of one of the enum's values, in any case and spacing."""
    table = {fold(member.value): member.value for member in enum}
    allowed = ", ".join(member.value for member in enum)

    def parse(cell: Cell) -> str:
        value = as_text(cell.value)
        if fold(value[:100]) not in table:
            raise Invalid(f"{clip(value)} is not {noun}: use {allowed}")
        return table[fold(value)]

    return parse


def yes_no(cell: Cell) -> bool:
    """yes/no, y/n, true/false or 1/0."""
    value = fold(as_text(cell.value)[:100])
    if value in YES | NO:
        return value in YES
    raise Invalid(f"{clip(value)} is not yes or no")


def _period_source(cell: Cell) -> datetime | date | str:
    value = cell.value
    if isinstance(value, datetime | date):
        return value
    label = as_text(value).strip()
    if len(label) > MAX_PERIOD_TEXT:
        raise Invalid(f"{clip(label)} is not a period")
    return label


def period(frequency: str) -> Callable[[Cell], periods.Period]:
    """A reader of a period matching the metric's frequency."""

    def parse(cell: Cell) -> periods.Period:
        try:
            return periods.parse_for(
                _period_source(cell), frequency, settings().financial_year_start_month
            )
        except periods.PeriodError as error:
            raise Invalid(str(error)) from None

    return parse


def month(*, last: bool) -> Callable[[Cell], str]:
    """A month label for Active from/to; a quarter or year means its first (or last) month."""

    def parse(cell: Cell) -> str:
        try:
            found = periods.parse(_period_source(cell), settings().financial_year_start_month)
        except periods.PeriodError as error:
            raise Invalid(str(error)) from None
        day = found.end if last else found.start
        return f"{day.year}-{day.month:02d}"

    return parse
