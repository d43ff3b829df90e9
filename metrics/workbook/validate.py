"""Rows checked against the vocabulary and what is held: the Metrics sheet, and the reader of a row.

Every check adds a `Problem` naming the cell; a row with any problem is never written. Nothing
here touches the database: what is held is read once, under the write lock, into `Held`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row as Record

from metrics.access import effective_marking
from metrics.config import settings
from metrics.models import Metric
from metrics.vocab import MARKING_RANK, Aggregation, Frequency, Marking, Polarity, Tier, Unit
from metrics.workbook import cells
from metrics.workbook.cells import Cell
from metrics.workbook.columns import LIMITS, METRIC_COLUMNS
from metrics.workbook.problems import Problems
from metrics.workbook.sheets import REPORTED, Row, Sheet


@dataclass
class Held:
    """What the database holds already, read once inside the import's write transaction."""

    metrics: dict[str, Metric]  # folded code -> metric
    # (metric id, period) -> the held value's fields (queries.workbook.HELD_VALUE_FIELDS), for
    # the keys the file touches only
    values: dict[tuple[int, str], Record[Any]] = field(default_factory=dict)

    def value(self, code: str, period: str) -> Record[Any] | None:
        """The held value of this metric and period, if any."""
        metric = self.metrics.get(code.casefold())
        if metric is None or metric.id is None:
            return None
        return self.values.get((metric.id, period))


class RowReader:
    """Reads one row's cells, recording a problem for each cell that cannot be read."""

    def __init__(self, sheet: Sheet, row: Row, problems: Problems) -> None:
        self.sheet, self.row, self.problems = sheet, row, problems
        self.ok = True

    def has(self, column: str) -> bool:
        """Whether the sheet has this column at all."""
        return column in self.sheet.letters

    def get(self, column: str, parse: Callable[[Cell], Any], default: Any = None) -> Any:
        """The cell read by `parse`; the default when blank or unreadable (a problem then)."""
        cell = self.row.cells.get(column)
        if cell is None:
            return default
        if cell.value is REPORTED:
            self.ok = False
            return default
        try:
            return parse(cell)
        except cells.Invalid as error:
            self.fail(column, str(error))
            return default

    def require(self, column: str, parse: Callable[[Cell], Any]) -> Any:
        """As `get`, and a blank cell is a problem."""
        if column not in self.row.cells:
            self.fail(column, "this column is required, but the cell is blank")
            return None
        return self.get(column, parse)

    def fail(self, column: str | None, reason: str) -> None:
        """Record a problem at this row and column; the row will not be written."""
        self.ok = False
        self.problems.add(self.sheet.problem(self.row.number, column, reason))


def never_silently_dropped(sheet: Sheet, row: Row, problems: Problems) -> None:
    """A refused row is always named: a guard against a check that forgot to say why."""
    if not problems.named(sheet.title, row.number):
        problems.add(sheet.problem(row.number, None, "this row could not be read"))


# --- The Metrics sheet ----------------------------------------------------------------------


# column -> (Metric attribute, how to read it); Code, Aggregation and Tolerance are read apart.
METRIC_FIELDS: dict[str, tuple[str, Callable[[Cell], Any]]] = {
    "Title": ("title", cells.title(LIMITS["title"])),
    "Definition": ("definition", cells.text(LIMITS["long"], strip=False, multiline=True)),
    "Tier": ("tier", cells.choice(Tier, "a tier")),
    "Unit": ("unit", cells.choice(Unit, "a unit")),
    "Decimals": ("decimals", cells.whole(0, 10)),
    "Polarity": ("polarity", cells.choice(Polarity, "a polarity")),
    "Frequency": ("frequency", cells.choice(Frequency, "a frequency")),
    "Risk impact": ("risk_impact", cells.whole(1, 3)),
    "Marking": ("marking", cells.choice(Marking, "a protective marking")),
    "Data only": ("data_only", cells.yes_no),
    "Responsible officer": ("responsible_officer", cells.text(LIMITS["name"])),
    "Responsible e-mail": ("responsible_email", cells.email),
    "Data source": ("data_source", cells.text(LIMITS["source"])),
    "Baseline": ("baseline", cells.number),
    "Active from": ("active_from", cells.month(last=False)),
    "Active to": ("active_to", cells.month(last=True)),
    "Definition version": ("definition_version", cells.whole(1, 1_000_000)),
}
AGGREGATION = cells.choice(Aggregation, "an aggregation")
REQUIRED_METRIC_COLUMNS = {column.name for column in METRIC_COLUMNS if column.required}
LINK_COLUMNS = {
    "Priority": "priority",
    "Initiative": "initiative",
    "Service": "service",
    "Team": "team",
    "Aligned to": "aligned_to",
}


def blank_metric() -> dict[str, Any]:
    """What each blank Metrics cell becomes (Aggregation depends on the unit: see below)."""
    defaults = settings().metric_defaults
    return {
        "definition": "",
        "decimals": defaults.decimals,
        "risk_impact": defaults.risk_impact,
        "marking": defaults.marking,
        "data_only": False,
        "responsible_officer": "",
        "responsible_email": "",
        "data_source": "",
        "baseline": None,
        "active_from": None,
        "active_to": None,
        "definition_version": 1,
        "tolerance": None,
        "tolerance_is_percent": True,
    }


def default_aggregation(unit: str) -> str:
    """Percentages add up as a ratio of sums; everything else is summed unless told otherwise."""
    defaults = settings().metric_defaults
    return defaults.aggregation_percent if unit == Unit.PERCENT else defaults.aggregation_number


@dataclass
class MetricRow:
    """A Metrics row that passed every cell check."""

    row: int
    code: str
    fields: dict[str, Any]  # Metric attributes, for the columns the sheet has
    links: dict[str, str | None]  # priority/initiative/service/team names, aligned_to code
    marking_given: bool = False  # the Marking cell was filled in


def metric_row(reader: RowReader) -> tuple[str | None, MetricRow | None]:
    """The row's code (if readable) and its fields (if every cell is right)."""
    code = reader.require("Code", cells.code)
    blank = blank_metric()
    fields: dict[str, Any] = {}
    for column, (attribute, parse) in METRIC_FIELDS.items():
        if reader.has(column):
            read = reader.require if column in REQUIRED_METRIC_COLUMNS else reader.get
            fields[attribute] = read(column, parse)
            if column not in reader.row.cells:
                fields[attribute] = blank.get(attribute)
    if reader.has("Aggregation"):
        default = default_aggregation(fields.get("unit") or "")
        fields["aggregation"] = reader.get("Aggregation", AGGREGATION, default)
    if reader.has("Tolerance"):
        tolerance = reader.get("Tolerance", cells.tolerance, (None, True))
        fields["tolerance"], fields["tolerance_is_percent"] = tolerance
    links = {
        key: reader.get(column, cells.code if key == "aligned_to" else cells.name)
        for column, key in LINK_COLUMNS.items()
        if reader.has(column)
    }
    _check_metric_row(reader, code, fields, links)
    parsed = MetricRow(reader.row.number, code, fields, links, "Marking" in reader.row.cells)
    return code, parsed if reader.ok else None


def _check_metric_row(
    reader: RowReader, code: str | None, fields: dict[str, Any], links: dict[str, Any]
) -> None:
    service_given = "Service" in reader.row.cells
    for column, reason in row_problems(code, fields, links, service_given=service_given):
        reader.fail(column, reason)


def row_problems(
    code: str | None, fields: dict[str, Any], links: dict[str, Any], *, service_given: bool
) -> list[tuple[str, str]]:
    """(column, reason) for what is wrong across a measure's fields: a workbook row's or an
    administrator's form's (`metrics.admin`), so both say the same."""
    found = []
    if links.get("team") and not service_given:
        found.append(("Team", "a team needs its Service on the same row"))
    if code and (links.get("aligned_to") or "").casefold() == code.casefold():
        found.append(("Aligned to", "a metric cannot be aligned to itself"))
    first, last = fields.get("active_from"), fields.get("active_to")
    if first and last and last < first:
        found.append(("Active to", f"{last} is before Active from {first}"))
    return found


def check_metrics(sheet: Sheet, held: Held, problems: Problems) -> tuple[list[MetricRow], set[str]]:
    """Valid rows, and the codes (folded) of rows with a problem."""
    valid: list[MetricRow] = []
    broken: set[str] = set()
    seen: dict[str, int] = {}
    for row in sheet.rows:
        reader = RowReader(sheet, row, problems)
        code, parsed = metric_row(reader)
        if code and code.casefold() in seen:
            reader.fail("Code", f"the code '{code}' is already on row {seen[code.casefold()]}")
        elif code:
            seen[code.casefold()] = row.number
        if parsed is not None and reader.ok:
            valid.append(parsed)
            continue
        if code:
            broken.add(code.casefold())
        never_silently_dropped(sheet, row, problems)
    known = set(seen) | set(held.metrics)
    for parsed in valid:
        target = parsed.links.get("aligned_to")
        if target and target.casefold() not in known:
            reason = f"no metric has the code '{target}' (in this workbook or already held)"
            problems.add(sheet.problem(parsed.row, "Aligned to", reason))
    return valid, broken


def check_template_changes(
    sheet: Sheet,
    rows: list[MetricRow],
    held: Held,
    problems: Problems,
    *,
    holding_values: Callable[[list[int]], set[int]],
) -> None:
    """A held metric with values keeps its frequency, and stays percent or not percent.

    Its values were checked against the old template: quarters do not become months, and 85
    (per cent) does not become 85 days. `holding_values` says which of some metric ids hold
    values; it is asked only about metrics whose frequency or unit would change.
    """
    changes: dict[int, list[tuple[MetricRow, str, str]]] = {}
    for row in rows:
        metric = held.metrics.get(row.code.casefold())
        if metric is None or metric.id is None:
            continue
        for column, was in kept_when_holding_values(
            metric, frequency=row.fields["frequency"], unit=row.fields["unit"]
        ):
            changes.setdefault(metric.id, []).append((row, column, was))
    for metric_id in sorted(holding_values(sorted(changes)) if changes else ()):
        for row, column, was in changes[metric_id]:
            problems.add(sheet.problem(row.row, column, holding_values_reason(row.code, was)))


def kept_when_holding_values(metric: Metric, *, frequency: str, unit: str) -> list[tuple[str, str]]:
    """(column, what cannot change) if a metric holding values took this frequency and unit."""
    found = []
    if frequency != metric.frequency:
        found.append(
            ("Frequency", f"its frequency cannot change from {metric.frequency} to {frequency}")
        )
    if (unit == Unit.PERCENT) != (metric.unit == Unit.PERCENT):
        found.append(("Unit", f"its unit cannot change from {metric.unit} to {unit}"))
    return found


def holding_values_reason(code: str, was: str) -> str:
    return f"{code} already holds values, so {was}"


def check_markings(
    sheet: Sheet, rows: list[MetricRow], held: Held, problems: Problems, *, may_lower: bool
) -> list[str]:
    """A held measure keeps its marking unless a new one is written; only some may lower it.

    A blank Marking must never declassify a measure: it keeps what it has. A marking written
    lower than the one held is refused unless `may_lower` (an administrator), and is returned
    as a line for the import's summary ("SS-CS-01: OFFICIAL-SENSITIVE to OFFICIAL").
    """
    lowered: list[str] = []
    for row in rows:
        metric = held.metrics.get(row.code.casefold())
        if metric is None:
            continue
        if not row.marking_given:
            row.fields.pop("marking", None)
            continue
        was, now = effective_marking(metric.marking), row.fields["marking"]
        if MARKING_RANK[Marking(now)] >= MARKING_RANK[Marking(was)]:
            continue
        if not may_lower:
            reason = f"{row.code} is {was}; only an administrator may lower its marking to {now}"
            problems.add(sheet.problem(row.row, "Marking", reason))
        else:
            lowered.append(f"{metric.code}: {was} to {now}")
    return lowered
