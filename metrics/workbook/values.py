"""The Values sheet checked: each value against its metric's unit, frequency and polarity.

A value's metric is as the import will leave it (a Metrics row in the same workbook wins over
what is held). Every problem names its cell; a row with any problem is never written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from metrics import periods
from metrics.vocab import Aggregation, ApprovalState, Polarity, Unit
from metrics.workbook import cells
from metrics.workbook.columns import LIMITS, NUMBER_COLUMNS, TEXT_COLUMNS
from metrics.workbook.problems import Problems
from metrics.workbook.sheets import Sheet
from metrics.workbook.validate import (
    Held,
    MetricRow,
    RowReader,
    default_aggregation,
    never_silently_dropped,
)


@dataclass(frozen=True)
class Profile:
    """What a value's checks need to know about its metric."""

    code: str
    unit: str
    aggregation: str
    polarity: str
    frequency: str


def profiles(rows: list[MetricRow], broken: set[str], held: Held) -> dict[str, Profile | None]:
    """Each known metric (by folded code) as it will be after the import; None if its row is bad."""
    profiles: dict[str, Profile | None] = {
        key: Profile(m.code, m.unit, m.aggregation, m.polarity, m.frequency)
        for key, m in held.metrics.items()
    }
    for row in rows:
        base = held.metrics.get(row.code.casefold())
        unit = row.fields["unit"]
        aggregation = row.fields.get("aggregation") or (
            base.aggregation if base else default_aggregation(unit)
        )
        code = base.code if base else row.code
        profiles[row.code.casefold()] = Profile(
            code, unit, aggregation, row.fields["polarity"], row.fields["frequency"]
        )
    profiles.update(dict.fromkeys(broken))
    return profiles


@dataclass
class ValueRow:
    """A Values row that passed every check."""

    row: int
    code: str  # the metric's code as held (or as in the Metrics sheet)
    period: periods.Period
    fields: dict[str, Any]  # PeriodValue attributes from the non-blank cells
    status: str | None  # from Approval; None when blank
    profile: Profile


LONG_TEXT = cells.text(LIMITS["long"], strip=False, multiline=True)
APPROVAL = cells.choice(ApprovalState, "an approval state")
BLANK_VALUE = {**dict.fromkeys(NUMBER_COLUMNS.values()), **dict.fromkeys(TEXT_COLUMNS.values(), "")}


def value_row(reader: RowReader, profiles: dict[str, Profile | None]) -> ValueRow | None:
    code = reader.require("Code", cells.code)
    if code and code.casefold() not in profiles:
        reason = f"no metric has the code '{code}': add it to the Metrics sheet"
        reader.fail("Code", reason)
    profile = profiles.get(code.casefold()) if code else None
    period = reader.require("Period", cells.period(profile.frequency)) if profile else None
    fields = {
        attribute: value
        for column, attribute in NUMBER_COLUMNS.items()
        if (value := reader.get(column, cells.number)) is not None
    }
    for column, attribute in TEXT_COLUMNS.items():
        if (text := reader.get(column, LONG_TEXT)) is not None:
            fields[attribute] = text
    status = reader.get("Approval", APPROVAL)
    if profile is None or period is None or not reader.ok:
        reader.ok = False
        return None
    _derive_actual(reader, profile, fields)
    _check_ranges(reader, profile, fields)
    return ValueRow(reader.row.number, profile.code, period, fields, status, profile)


def _derive_actual(reader: RowReader, profile: Profile, fields: dict[str, Any]) -> None:
    """Actual = numerator / denominator (x 100 for a percent) when Actual is blank."""
    for attribute, column in (("numerator", "Numerator"), ("denominator", "Denominator")):
        if fields.get(attribute, 0) < 0:
            reader.fail(column, f"'{cells.show(fields[attribute])}' is negative")
    if fields.get("denominator") == 0:
        reader.fail("Denominator", "the denominator is 0")
    elif "actual" not in fields and {"numerator", "denominator"} <= fields.keys():
        scale = 100.0 if profile.unit == Unit.PERCENT else 1.0
        actual = fields["numerator"] / fields["denominator"] * scale
        if not math.isfinite(actual) or abs(actual) > cells.MAX_MAGNITUDE:
            reason = (
                f"the numerator over the denominator is {cells.show(actual)}, too large to hold"
            )
            reader.fail("Numerator", reason)
        else:
            fields["actual"] = actual


def _check_ranges(reader: RowReader, profile: Profile, fields: dict[str, Any]) -> None:
    """A percent is 0 to 100; a count (number, summed) is a non-negative whole number."""
    derived = "actual" in fields and "Actual" not in reader.row.cells
    for column in ("Actual", "Target", "Target upper"):
        value = fields.get(NUMBER_COLUMNS[column])
        where = "Numerator" if column == "Actual" and derived else column
        if value is None:
            continue
        if profile.unit == Unit.PERCENT and not 0 <= value <= 100:
            reader.fail(where, f"{cells.show(value)} is outside 0 to 100 for a percentage")
        is_count = profile.unit == Unit.NUMBER and profile.aggregation == Aggregation.SUM
        if is_count and value < 0:
            reader.fail(where, f"{cells.show(value)} is negative; a count is 0 or more")
        elif is_count and column == "Actual" and not float(value).is_integer():
            reader.fail(where, f"{cells.show(value)} is not a whole number; a count is whole")


def check_values(
    sheet: Sheet, profiles: dict[str, Profile | None], problems: Problems
) -> list[ValueRow]:
    valid: list[ValueRow] = []
    seen: dict[tuple[str, str], int] = {}
    for row in sheet.rows:
        reader = RowReader(sheet, row, problems)
        parsed = value_row(reader, profiles)
        if parsed is None:
            never_silently_dropped(sheet, row, problems)
            continue
        key = (parsed.code.casefold(), parsed.period.label)
        if key in seen:
            reason = f"{parsed.code} {parsed.period.label} is already on row {seen[key]}"
            reader.fail("Period", reason)
            continue
        seen[key] = row.number
        valid.append(parsed)
    return valid


def check_bands(sheet: Sheet, rows: list[ValueRow], held: Held, problems: Problems) -> None:
    """A band's upper target is not below its lower one, counting what is already held."""
    for row in rows:
        if row.profile.polarity != Polarity.BAND:
            continue
        existing = held.value(row.code, row.period.label)
        lower = row.fields.get("target", existing.target if existing else None)
        upper = row.fields.get("target_upper", existing.target_upper if existing else None)
        if lower is not None and upper is not None and upper < lower:
            column = "Target upper" if "target_upper" in row.fields else "Target"
            reason = f"the upper target {cells.show(upper)} is below the target {cells.show(lower)}"
            problems.add(sheet.problem(row.row, column, reason))
