"""The template workbook: write a blank one, import a filled one all or nothing, export the lot.

A workbook is untrusted input. Before openpyxl parses it, `import_workbook` checks its size,
the uncompressed size of its zip members and the rows its sheets declare; while reading, it
counts rows again (a declared size can lie) and refuses every formula. Then it checks every row
against the vocabulary and the database and lists every problem at once, each with its sheet,
cell and reason, so the person fixing the file can fix it in one go. Only a workbook without a
single problem is written, in one transaction. `docs/template-workbook.md` describes the format.
"""

from __future__ import annotations

import calendar
import json
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from typing import Any
from xml.sax.saxutils import unescape

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import Engine, insert
from sqlmodel import Session, SQLModel, col, select

from metrics import periods, store
from metrics.access import effective_marking, visible_markings
from metrics.config import UploadLimits, settings
from metrics.inert import inert, revert
from metrics.models import (
    Initiative,
    InitiativePriority,
    Metric,
    PeriodValue,
    Priority,
    Service,
    Team,
)
from metrics.vocab import Aggregation, ApprovalState, Frequency, Marking, Polarity, Tier, Unit

INSTRUCTIONS, METRICS, VALUES = "Instructions", "Metrics", "Values"
MAX_PROBLEMS = 200
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
NUMBER_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?%?$")
# How far into a worksheet's XML to look for its <dimension>; Excel writes it near the top.
DIMENSION_PEEK_BYTES = 64 * 1024
DIMENSION_RE = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]*(\d*)(?::[A-Z]*(\d+))?"')
# The largest size a number cell may have: far beyond any council's figures, and finite.
MAX_MAGNITUDE = 1e15
# A cell (<c r="B3" ...>) whose first child is a formula (<f>text</f>, or a shared <f .../>).
FORMULA_XML_RE = re.compile(
    rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]+[0-9]+)"[^>]*>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>([^<]*)<)'
)
LIMITS = {"code": 40, "title": 300, "name": 200, "source": 500, "long": 4000}
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


# --- The columns, as data -------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One recognised column: its header, whether it must be filled, and what it means."""

    name: str
    meaning: str
    required: bool = False
    choices: tuple[str, ...] = ()
    width: int = 16


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


METRIC_COLUMNS = (
    Column("Code", "Unique code, e.g. CP03, ME12, SS-HOU-04: letters, digits, . _ -", True),
    Column("Title", "What the measure is called.", True, width=40),
    Column("Definition", "How it is counted: what is in and what is out.", width=50),
    Column("Tier", "Its place in the line of sight.", True, _values(Tier), 18),
    Column(
        "Priority", "The Corporate Plan priority it serves, by name (created if new).", width=28
    ),
    Column(
        "Initiative",
        "The ME2E initiative, by name (created if new). On an ME2E row that also names a "
        "Priority, records that the initiative delivers that priority.",
        width=28,
    ),
    Column("Service", "The owning service, by name (created if new).", width=24),
    Column("Team", "The owning team, by name, within the Service on the same row.", width=24),
    Column("Aligned to", "Code of the metric this one is aligned to (here or already held)."),
    Column("Unit", "What a value counts.", True, _values(Unit)),
    Column("Decimals", "Decimal places shown; blank = {decimals}.", width=10),
    Column(
        "Polarity", "higher or lower is better, or band: inside a range.", True, _values(Polarity)
    ),
    Column("Frequency", "How often it is reported.", True, _values(Frequency)),
    Column(
        "Aggregation",
        "Year to date: sum, mean, last, or ratio of summed numerators and denominators; "
        "blank = {aggregation_percent} for a percent, else {aggregation_number}.",
        choices=_values(Aggregation),
    ),
    Column(
        "Tolerance",
        "The amber band: 5% is a percent of the target, 2.5 an absolute amount; blank = "
        "{default_tolerance_percent:g}% of the target.",
        width=12,
    ),
    Column("Risk impact", "1 low, 2 medium, 3 high; blank = {risk_impact}.", width=12),
    Column("Marking", "Protective marking; blank = {marking}.", choices=_values(Marking), width=26),
    Column(
        "Data only",
        "yes for a contextual measure with no target; blank = no.",
        choices=("yes", "no"),
        width=11,
    ),
    Column("Responsible officer", "Who answers for it (a role, not a name).", width=24),
    Column("Data source", "Where the figures come from.", width=24),
    Column("Baseline", "The starting value, for context.", width=12),
    Column(
        "Active from",
        "The first month it is reported, e.g. 2015-04 (or a quarter or year).",
        width=13,
    ),
    Column(
        "Active to",
        "The last month it is reported (a quarter or year means its last month).",
        width=13,
    ),
    Column("Definition version", "Raise it when the definition changes; blank = 1.", width=12),
)

VALUE_COLUMNS = (
    Column("Code", "The metric's code, as in the Metrics sheet or already held.", True),
    Column(
        "Period",
        "A month 2015-04, a quarter 2015-16 Q1 (or 2015-16;Q1) or a year 2015-16, matching "
        "the metric's frequency; a date stands for its month.",
        True,
        width=14,
    ),
    Column(
        "Actual", "The value for the period; blank with Numerator and Denominator = their ratio."
    ),
    Column("Numerator", "For a ratio measure: the count on top."),
    Column("Denominator", "For a ratio measure: the count below (never 0)."),
    Column("Target", "The target for the period (the lower end of a band)."),
    Column("Target upper", "The upper end of the target range, for band polarity only."),
    Column("Commentary", "What lies behind the figure.", width=50),
    Column("Corrective action", "What is being done about it.", width=40),
    Column(
        "Approval",
        "draft, submitted, approved or returned; blank = submitted.",
        choices=_values(ApprovalState),
        width=12,
    ),
)

SHEETS = {METRICS: METRIC_COLUMNS, VALUES: VALUE_COLUMNS}


# --- Problems and results -------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One reason a workbook was refused: where it is (sheet, row, column) and what is wrong."""

    sheet: str
    row: int | None
    column: str | None
    reason: str
    cell: str = ""  # the A1 reference, e.g. "D14", when the column was found

    def __str__(self) -> str:
        if not self.sheet:
            return self.reason
        place = self.sheet
        if self.cell:
            place = f"{self.sheet}!{self.cell}"
        elif self.row is not None:
            place = f"{self.sheet} row {self.row}"
        if self.column:
            place += f" ({self.column})"
        return f"{place}: {self.reason}"


class WorkbookError(ValueError):
    """A workbook refused whole; `problems` lists why (at most MAX_PROBLEMS, then a count)."""

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        total = len(problems) if total is None else total
        if total > len(problems):
            problems = [*problems, Problem("", None, None, f"... and {total - len(problems)} more")]
        self.problems = problems
        self.total = total
        super().__init__("\n".join(str(problem) for problem in problems))


class _Problems:
    """Collects problems, keeping the first MAX_PROBLEMS and counting the rest."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self.total = 0

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.kept) < MAX_PROBLEMS:
            self.kept.append(problem)

    def raise_if_any(self) -> None:
        if self.total:
            raise WorkbookError(self.kept, self.total)


@dataclass
class ImportResult:
    """What an import did, counted by kind of row."""

    metrics_created: int = 0
    metrics_updated: int = 0
    metrics_unchanged: int = 0
    values_created: int = 0
    values_updated: int = 0
    values_unchanged: int = 0
    values_skipped: int = 0  # new rows with nothing in them: nothing to store
    priorities_created: int = 0
    initiatives_created: int = 0
    services_created: int = 0
    teams_created: int = 0
    links_created: int = 0  # initiative delivers priority

    def __str__(self) -> str:
        return ", ".join(f"{count} {key.replace('_', ' ')}" for key, count in asdict(self).items())


# --- The blank template ---------------------------------------------------------------------


def write_template(path: Path) -> None:
    """A blank workbook: Instructions, then Metrics and Values with headers and drop-downs."""
    _new_book().save(path)


def _new_book() -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    instructions = book.active
    instructions.title = INSTRUCTIONS
    _write_instructions(instructions)
    for name, columns in SHEETS.items():
        _write_header(book.create_sheet(name), columns)
    return book


INSTRUCTION_NOTES = (
    "Fill in the Metrics sheet (one row per measure) and the Values sheet (one row per measure "
    "and period), then upload the workbook. Row 1 of each sheet holds the headers.",
    "Headers may be in any order and any case; columns the app does not know are ignored.",
    "The whole workbook is checked first: if any row has a problem, nothing is imported and "
    "every problem is listed with its sheet, cell and reason.",
    "Periods: a month 2015-04, a quarter 2015-16 Q1, a financial year 2015-16 (the year starts "
    "in {year_start}). A value's period must match its metric's frequency.",
    "Type values, not formulas: a cell holding a formula is refused.",
    "In the Metrics sheet a blank cell takes the default shown below. In the Values sheet a "
    "blank cell leaves what is already held for that period alone.",
    "Priorities, initiatives, services and teams are given by name and created when new.",
)


def _defaults_for_text() -> dict[str, Any]:
    config = settings()
    year_start = calendar.month_name[config.financial_year_start_month]
    return {**asdict(config.metric_defaults), **asdict(config.rating), "year_start": year_start}


def _write_instructions(sheet: Any) -> None:
    bold, defaults = Font(bold=True), _defaults_for_text()
    sheet.append(["Line of Sight: metric template"])
    sheet["A1"].font = Font(bold=True, size=14)
    for line in INSTRUCTION_NOTES:
        sheet.append([inert(line.format(**defaults))])
    sheet.append([])
    sheet.append(["Sheet", "Column", "Required", "What it means", "Allowed values"])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for name, columns in SHEETS.items():
        for column in columns:
            required = "yes" if column.required else ""
            meaning = column.meaning.format(**defaults)
            row = [name, column.name, required, meaning, ", ".join(column.choices)]
            sheet.append([inert(text) for text in row])
    for letter, width in zip("ABCDE", (12, 20, 10, 90, 50), strict=True):
        sheet.column_dimensions[letter].width = width


def _write_header(sheet: Any, columns: tuple[Column, ...]) -> None:
    sheet.append([column.name for column in columns])
    fill = PatternFill("solid", fgColor="DDE4EE")
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(index)].width = column.width
        if column.choices:
            _add_drop_down(sheet, get_column_letter(index), column)
    sheet.freeze_panes = "A2"


def _add_drop_down(sheet: Any, letter: str, column: Column) -> None:
    allowed = ", ".join(column.choices)
    rule = DataValidation(
        type="list",
        formula1='"' + ",".join(column.choices) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=f"{column.name} not recognised",
        error=f"Choose one of: {allowed}",
    )
    rule.add(f"{letter}2:{letter}1048576")
    sheet.add_data_validation(rule)


# --- Reading an untrusted file --------------------------------------------------------------


FORMULA = object()  # stands for a cell that held a formula (already reported)


@dataclass
class _Cell:
    value: Any  # text (with inert's apostrophe removed), number, bool, datetime, or FORMULA
    percent: bool = False  # a number Excel shows as a percentage: 0.85 is shown as 85%


@dataclass
class _Row:
    number: int
    cells: dict[str, _Cell]  # column name -> non-blank cell


@dataclass
class _Sheet:
    title: str
    letters: dict[str, str]  # column name -> letter, for the columns the header holds
    rows: list[_Row] = field(default_factory=list)

    def problem(self, row: int | None, column: str | None, reason: str) -> Problem:
        letter = self.letters.get(column or "")
        cell = f"{letter}{row}" if letter and row else ""
        return Problem(self.title, row, column, reason, cell)


def _require_defusedxml() -> None:
    """openpyxl refuses XML entity bombs only with defusedxml: without it, read nothing."""
    if not openpyxl.DEFUSEDXML:
        raise RuntimeError(
            "defusedxml is not installed (or OPENPYXL_DEFUSEDXML is not True): "
            "refusing to read an untrusted workbook"
        )


def _read(path: Path, limits: UploadLimits) -> tuple[dict[str, _Sheet], _Problems]:
    """The Metrics and Values sheets; raises at once if the file cannot be read as a workbook."""
    _check_file(path, limits)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as error:  # untrusted bytes can fail in many ways; each is a refusal
        raise _refusal(f"{path.name} cannot be read as an Excel workbook: {_why(error)}") from None
    problems = _Problems()
    try:
        sheets = _read_sheets(book, limits, problems)
        _find_formulas(path, book, sheets, problems)
    except Exception as error:
        raise _refusal(f"{path.name} cannot be read as an Excel workbook: {_why(error)}") from None
    finally:
        book.close()
    if len(sheets) < len(SHEETS):  # a sheet or a required header is missing: rows mean nothing
        problems.raise_if_any()
    return sheets, problems


def _refusal(reason: str) -> WorkbookError:
    return WorkbookError([Problem("", None, None, reason)])


def _why(error: BaseException) -> str:
    """The root cause, briefly: openpyxl wraps what defusedxml or zipfile found."""
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {str(error)[:200]}" if str(error) else type(error).__name__


def _check_file(path: Path, limits: UploadLimits) -> None:
    """Size on disk, zip structure, uncompressed size and declared rows, before any parsing."""
    if not path.is_file():
        raise _refusal(f"{path.name} does not exist")
    size = path.stat().st_size
    if size == 0:
        raise _refusal(f"{path.name} is empty")
    if size > limits.max_file_bytes:
        raise _refusal(f"{path.name} is {size:,} bytes; the limit is {limits.max_file_bytes:,}")
    if not zipfile.is_zipfile(path):
        raise _refusal(f"{path.name} is not an Excel workbook (.xlsx); save it as one and retry")
    try:
        with zipfile.ZipFile(path) as archive:
            _check_archive(path.name, archive, limits)
    except zipfile.BadZipFile as error:
        raise _refusal(f"{path.name} is not a readable workbook: {_why(error)}") from None


def _check_archive(name: str, archive: zipfile.ZipFile, limits: UploadLimits) -> None:
    members = archive.infolist()  # sizes from the directory; reading never yields more
    if "[Content_Types].xml" not in {member.filename for member in members}:  # every OOXML file
        raise _refusal(f"{name} is not an Excel workbook (.xlsx); save it as one and retry")
    unpacked = sum(member.file_size for member in members)
    if unpacked > limits.max_uncompressed_bytes:
        raise _refusal(
            f"{name} unpacks to {unpacked:,} bytes; the limit is {limits.max_uncompressed_bytes:,}"
        )
    for member in members:
        if member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml"):
            rows = _declared_rows(archive, member)
            if rows > limits.max_rows:
                raise _refusal(
                    f"{name}: a sheet declares {rows:,} rows; the limit is {limits.max_rows:,}"
                )


def _declared_rows(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> int:
    with archive.open(member) as stream:
        head = stream.read(DIMENSION_PEEK_BYTES)
    match = DIMENSION_RE.search(head)
    return max((int(group) for group in match.groups() if group), default=0) if match else 0


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _read_sheets(book: Any, limits: UploadLimits, problems: _Problems) -> dict[str, _Sheet]:
    """Metrics and Values by column name; other sheets are never parsed into cells."""
    found = {_fold(sheet.title): sheet for sheet in book.worksheets}
    sheets: dict[str, _Sheet] = {}
    for name, columns in SHEETS.items():
        source = found.pop(_fold(name), None)
        if source is None:
            problems.add(Problem(name, None, None, f"the workbook has no '{name}' sheet"))
        elif (sheet := _read_sheet(source, columns, limits, problems)) is not None:
            sheets[name] = sheet
    return sheets


def _find_formulas(path: Path, book: Any, sheets: dict[str, _Sheet], problems: _Problems) -> None:
    """A formula anywhere, even on a sheet or in a column we ignore, found in the raw XML.

    Scanning the XML costs nothing per empty cell, unlike openpyxl's rows, which a stray cell
    at column XFD pads to 16,384 cells each.
    """
    names = {
        sheet.title: {letter: name for name, letter in sheet.letters.items()}
        for sheet in sheets.values()
    }
    with zipfile.ZipFile(path) as archive:
        for source in book.worksheets:
            # openpyxl keeps the sheet's part name privately; the zip was size-checked already.
            xml = archive.read(source._worksheet_path.lstrip("/"))
            for match in FORMULA_XML_RE.finditer(xml):
                ref, text = match.group(1).decode(), unescape((match.group(2) or b"").decode())
                letter, row = re.fullmatch(r"([A-Z]+)([0-9]+)", ref).groups()  # type: ignore[union-attr]
                column = names.get(source.title, {}).get(letter)
                reason = _formula_reason(f"={text}")
                problems.add(Problem(source.title, int(row), column, reason, ref))


def _rows(
    source: Any, limits: UploadLimits, problems: _Problems, max_col: int
) -> Iterator[tuple[int, tuple]]:
    """Rows 2 on, up to the cap and to max_col; the declared size is ignored: it can lie."""
    source.reset_dimensions()
    for number, cells in enumerate(source.iter_rows(min_row=2, max_col=max_col), start=2):
        if number > limits.max_rows:
            reason = f"the sheet has more than {limits.max_rows:,} rows (the limit)"
            problems.add(Problem(source.title, None, None, reason))
            return
        yield number, cells


def _read_sheet(
    source: Any, columns: tuple[Column, ...], limits: UploadLimits, problems: _Problems
) -> _Sheet | None:
    """A sheet's rows by column name, or None when its header lacks a required column."""
    source.reset_dimensions()
    header = next(source.iter_rows(max_row=1), ())
    by_index = _header(source.title, header, columns, problems)
    sheet = _Sheet(source.title, {name: get_column_letter(i + 1) for i, name in by_index.items()})
    missing = [c.name for c in columns if c.required and c.name not in sheet.letters]
    for name in missing:
        reason = f"the required column '{name}' is missing from the header row"
        problems.add(Problem(source.title, 1, name, reason))
    if missing:
        return None
    # Only the recognised columns are read: a stray far-right cell cannot widen every row.
    for number, cells in _rows(source, limits, problems, max(by_index) + 1):
        row = _Row(number, _row_cells(source.title, number, cells, by_index, problems))
        if row.cells:
            sheet.rows.append(row)
    return sheet


def _header(
    title: str, cells: tuple, columns: tuple[Column, ...], problems: _Problems
) -> dict[int, str]:
    """Column index -> recognised column name; case and spacing in headers do not matter."""
    known = {_fold(column.name): column.name for column in columns}
    by_index: dict[int, str] = {}
    for index, cell in enumerate(cells):
        if cell.value is None:
            continue
        ref = f"{get_column_letter(index + 1)}1"
        if _is_formula(cell):
            if cell.data_type != "f":  # a real formula is reported by _find_formulas
                problems.add(Problem(title, 1, None, _formula_reason(cell.value), ref))
            continue
        name = known.get(_fold(str(cell.value)))
        if name in by_index.values():
            problems.add(Problem(title, 1, name, f"the column '{name}' appears twice", ref))
        elif name:
            by_index[index] = name
    return by_index


def _is_formula(cell: Any) -> bool:
    value = cell.value
    return cell.data_type == "f" or (isinstance(value, str) and value.startswith("="))


def _formula_reason(value: Any) -> str:
    text = str(getattr(value, "text", value))
    return f"the cell holds a formula ({_clip(text)}); type the value itself"


def _row_cells(
    title: str, number: int, cells: tuple, by_index: dict[int, str], problems: _Problems
) -> dict[str, _Cell]:
    """The row's non-blank cells in recognised columns; each formula is reported."""
    found: dict[str, _Cell] = {}
    for index, cell in enumerate(cells):
        value = cell.value
        if value is None:
            continue
        name = by_index.get(index)
        if name is None:
            continue
        if _is_formula(cell):
            if cell.data_type != "f":  # a real formula is reported by _find_formulas
                ref = f"{get_column_letter(index + 1)}{number}"
                problems.add(Problem(title, number, name, _formula_reason(value), ref))
            found[name] = _Cell(FORMULA)
            continue
        if isinstance(value, str):
            value = revert(value)
            if not value.strip():
                continue
        found[name] = _Cell(value, _shown_as_percent(cell))
    return found


def _shown_as_percent(cell: Any) -> bool:
    value = cell.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return "%" in (cell.number_format or "")


# --- Reading one cell -----------------------------------------------------------------------


class _Invalid(ValueError):
    """Why one cell cannot be read; becomes a Problem naming the cell."""


def _clip(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return f"'{text}'" if len(text) <= limit else f"'{text[:limit]}...'"


def _show(value: Any) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def _as_text(value: Any) -> str:
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


def _number_parts(cell: _Cell) -> tuple[float, bool]:
    """A number, and whether it was written or shown as a percentage (85% or 0.85 as 85%)."""
    value = cell.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = _bounded(value)
        return (round(number * 100, 9), True) if cell.percent else (number, False)
    text = _as_text(value).strip()
    if isinstance(value, bool | date | time) or not NUMBER_RE.match(text):
        raise _Invalid(f"{_clip(text)} is not a number")
    return _bounded(text.rstrip("%")), text.endswith("%")


def _bounded(value: float | str) -> float:
    """A finite float no larger than MAX_MAGNITUDE: larger ones are typing slips or attacks."""
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        number = math.inf
    if not math.isfinite(number):
        raise _Invalid(f"{_clip(str(value))} is not a finite number")
    if abs(number) > MAX_MAGNITUDE:
        raise _Invalid(f"{_show(number)} is larger than {MAX_MAGNITUDE:g} in size")
    return number


def _number(cell: _Cell) -> float:
    return _number_parts(cell)[0]


def _whole(low: int, high: int) -> Callable[[_Cell], int]:
    def parse(cell: _Cell) -> int:
        number = _number(cell)
        if not number.is_integer() or not low <= number <= high:
            raise _Invalid(f"'{_show(number)}' is not a whole number from {low} to {high}")
        return int(number)

    return parse


def _tolerance(cell: _Cell) -> tuple[float, bool]:
    number, percent = _number_parts(cell)
    if number < 0:
        raise _Invalid(f"'{_show(number)}' is negative; a tolerance is 0 or more")
    return number, percent


def _text(limit: int, *, strip: bool = True) -> Callable[[_Cell], str]:
    def parse(cell: _Cell) -> str:
        text = _as_text(cell.value)
        text = text.strip() if strip else text
        if len(text) > limit:
            raise _Invalid(f"the text is {len(text):,} characters; the limit is {limit:,}")
        return text

    return parse


def _code(cell: _Cell) -> str:
    text = _as_text(cell.value).strip()
    if len(text) > LIMITS["code"]:
        raise _Invalid(f"{_clip(text)} is longer than {LIMITS['code']} characters")
    if not CODE_RE.match(text):
        raise _Invalid(
            f"{_clip(text)} is not a code: use letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return text


def slug(name: str) -> str:
    """The code made from a name: lower case ASCII letters and digits joined by '-'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[: LIMITS["code"]].strip("-")


def _name(cell: _Cell) -> str:
    text = " ".join(_as_text(cell.value).split())
    if len(text) > LIMITS["name"]:
        raise _Invalid(f"the name is {len(text):,} characters; the limit is {LIMITS['name']}")
    if not slug(text):
        raise _Invalid(f"{_clip(text)} needs at least one letter or digit")
    return text


def _choice(enum: type[StrEnum], noun: str) -> Callable[[_Cell], str]:
    table = {_fold(member.value): member.value for member in enum}
    allowed = ", ".join(member.value for member in enum)

    def parse(cell: _Cell) -> str:
        text = _as_text(cell.value)
        if _fold(text) not in table:
            raise _Invalid(f"{_clip(text)} is not {noun}: use {allowed}")
        return table[_fold(text)]

    return parse


def _yes_no(cell: _Cell) -> bool:
    text = _fold(_as_text(cell.value))
    if text in YES | NO:
        return text in YES
    raise _Invalid(f"{_clip(text)} is not yes or no")


def _period(frequency: str) -> Callable[[_Cell], periods.Period]:
    def parse(cell: _Cell) -> periods.Period:
        value = cell.value
        value = value if isinstance(value, datetime | date) else _as_text(value)
        try:
            return periods.parse_for(value, frequency, settings().financial_year_start_month)
        except periods.PeriodError as error:
            raise _Invalid(str(error)) from None

    return parse


def _month(*, last: bool) -> Callable[[_Cell], str]:
    """A month label for Active from/to; a quarter or year means its first (or last) month."""

    def parse(cell: _Cell) -> str:
        value = cell.value
        value = value if isinstance(value, datetime | date) else _as_text(value)
        try:
            period = periods.parse(value, settings().financial_year_start_month)
        except periods.PeriodError as error:
            raise _Invalid(str(error)) from None
        day = period.end if last else period.start
        return f"{day.year}-{day.month:02d}"

    return parse


class _RowReader:
    """Reads one row's cells, recording a problem for each cell that cannot be read."""

    def __init__(self, sheet: _Sheet, row: _Row, problems: _Problems) -> None:
        self.sheet, self.row, self.problems = sheet, row, problems
        self.ok = True

    def has(self, column: str) -> bool:
        return column in self.sheet.letters

    def get(self, column: str, parse: Callable[[_Cell], Any], default: Any = None) -> Any:
        cell = self.row.cells.get(column)
        if cell is None:
            return default
        if cell.value is FORMULA:
            self.ok = False
            return default
        try:
            return parse(cell)
        except _Invalid as error:
            self.fail(column, str(error))
            return default

    def require(self, column: str, parse: Callable[[_Cell], Any]) -> Any:
        if column not in self.row.cells:
            self.fail(column, "this column is required, but the cell is blank")
            return None
        return self.get(column, parse)

    def fail(self, column: str | None, reason: str) -> None:
        self.ok = False
        self.problems.add(self.sheet.problem(self.row.number, column, reason))


# --- The Metrics sheet ----------------------------------------------------------------------


# column -> (Metric attribute, how to read it); Code, Aggregation and Tolerance are read apart.
METRIC_FIELDS: dict[str, tuple[str, Callable[[_Cell], Any]]] = {
    "Title": ("title", _text(LIMITS["title"])),
    "Definition": ("definition", _text(LIMITS["long"], strip=False)),
    "Tier": ("tier", _choice(Tier, "a tier")),
    "Unit": ("unit", _choice(Unit, "a unit")),
    "Decimals": ("decimals", _whole(0, 10)),
    "Polarity": ("polarity", _choice(Polarity, "a polarity")),
    "Frequency": ("frequency", _choice(Frequency, "a frequency")),
    "Risk impact": ("risk_impact", _whole(1, 3)),
    "Marking": ("marking", _choice(Marking, "a protective marking")),
    "Data only": ("data_only", _yes_no),
    "Responsible officer": ("responsible_officer", _text(LIMITS["name"])),
    "Data source": ("data_source", _text(LIMITS["source"])),
    "Baseline": ("baseline", _number),
    "Active from": ("active_from", _month(last=False)),
    "Active to": ("active_to", _month(last=True)),
    "Definition version": ("definition_version", _whole(1, 1_000_000)),
}
AGGREGATION = _choice(Aggregation, "an aggregation")
REQUIRED_METRIC_COLUMNS = {column.name for column in METRIC_COLUMNS if column.required}
LINK_COLUMNS = {
    "Priority": "priority",
    "Initiative": "initiative",
    "Service": "service",
    "Team": "team",
    "Aligned to": "aligned_to",
}


def _blank_metric() -> dict[str, Any]:
    """What each blank Metrics cell becomes (Aggregation depends on the unit: see below)."""
    defaults = settings().metric_defaults
    return {
        "definition": "",
        "decimals": defaults.decimals,
        "risk_impact": defaults.risk_impact,
        "marking": defaults.marking,
        "data_only": False,
        "responsible_officer": "",
        "data_source": "",
        "baseline": None,
        "active_from": None,
        "active_to": None,
        "definition_version": 1,
        "tolerance": None,
        "tolerance_is_percent": True,
    }


def _default_aggregation(unit: str) -> str:
    """Percentages add up as a ratio of sums; everything else is summed unless told otherwise."""
    defaults = settings().metric_defaults
    return defaults.aggregation_percent if unit == Unit.PERCENT else defaults.aggregation_number


@dataclass
class _MetricRow:
    row: int
    code: str
    fields: dict[str, Any]  # Metric attributes, for the columns the sheet has
    links: dict[str, str | None]  # priority/initiative/service/team names, aligned_to code


def _metric_row(reader: _RowReader) -> tuple[str | None, _MetricRow | None]:
    """The row's code (if readable) and its fields (if every cell is right)."""
    code = reader.require("Code", _code)
    blank = _blank_metric()
    fields: dict[str, Any] = {}
    for column, (attribute, parse) in METRIC_FIELDS.items():
        if reader.has(column):
            read = reader.require if column in REQUIRED_METRIC_COLUMNS else reader.get
            fields[attribute] = read(column, parse)
            if column not in reader.row.cells:
                fields[attribute] = blank.get(attribute)
    if reader.has("Aggregation"):
        default = _default_aggregation(fields.get("unit") or "")
        fields["aggregation"] = reader.get("Aggregation", AGGREGATION, default)
    if reader.has("Tolerance"):
        tolerance = reader.get("Tolerance", _tolerance, (None, True))
        fields["tolerance"], fields["tolerance_is_percent"] = tolerance
    links = {
        key: reader.get(column, _code if key == "aligned_to" else _name)
        for column, key in LINK_COLUMNS.items()
        if reader.has(column)
    }
    _check_metric_row(reader, code, fields, links)
    return code, _MetricRow(reader.row.number, code, fields, links) if reader.ok else None


def _check_metric_row(
    reader: _RowReader, code: str | None, fields: dict[str, Any], links: dict[str, Any]
) -> None:
    if links.get("team") and not links.get("service"):
        reader.fail("Team", "a team needs its Service on the same row")
    if code and (links.get("aligned_to") or "").casefold() == code.casefold():
        reader.fail("Aligned to", "a metric cannot be aligned to itself")
    first, last = fields.get("active_from"), fields.get("active_to")
    if first and last and last < first:
        reader.fail("Active to", f"{last} is before Active from {first}")


def _check_metrics(
    sheet: _Sheet, held: _Held, problems: _Problems
) -> tuple[list[_MetricRow], set[str]]:
    """Valid rows, and the codes (folded) of rows with a problem."""
    valid: list[_MetricRow] = []
    broken: set[str] = set()
    seen: dict[str, int] = {}
    for row in sheet.rows:
        reader = _RowReader(sheet, row, problems)
        code, parsed = _metric_row(reader)
        if code and code.casefold() in seen:
            reader.fail("Code", f"the code '{code}' is already on row {seen[code.casefold()]}")
        elif code:
            seen[code.casefold()] = row.number
        if parsed is not None and reader.ok:
            valid.append(parsed)
        elif code:
            broken.add(code.casefold())
    known = set(seen) | set(held.metrics)
    for parsed in valid:
        target = parsed.links.get("aligned_to")
        if target and target.casefold() not in known:
            reason = f"no metric has the code '{target}' (in this workbook or already held)"
            problems.add(sheet.problem(parsed.row, "Aligned to", reason))
    return valid, broken


def _check_template_changes(
    session: Session, sheet: _Sheet, rows: list[_MetricRow], held: _Held, problems: _Problems
) -> None:
    """A held metric with values keeps its frequency, and stays percent or not percent.

    Its values were checked against the old template: quarters do not become months, and 85
    (per cent) does not become 85 days.
    """
    changes: dict[int, list[tuple[_MetricRow, str, str]]] = {}
    for row in rows:
        metric = held.metrics.get(row.code.casefold())
        if metric is None or metric.id is None:
            continue
        frequency, unit = row.fields["frequency"], row.fields["unit"]
        if frequency != metric.frequency:
            was = f"its frequency cannot change from {metric.frequency} to {frequency}"
            changes.setdefault(metric.id, []).append((row, "Frequency", was))
        if (unit == Unit.PERCENT) != (metric.unit == Unit.PERCENT):
            was = f"its unit cannot change from {metric.unit} to {unit}"
            changes.setdefault(metric.id, []).append((row, "Unit", was))
    for metric_id in _ids_with_values(session, sorted(changes)):
        for row, column, was in changes[metric_id]:
            reason = f"{row.code} already holds values, so {was}"
            problems.add(sheet.problem(row.row, column, reason))


def _ids_with_values(session: Session, ids: list[int]) -> set[int]:
    """Which of these metrics hold at least one value."""
    found: set[int] = set()
    for start in range(0, len(ids), 1000):  # keeps every IN list well under driver limits
        chunk = ids[start : start + 1000]
        query = select(PeriodValue.metric_id).where(col(PeriodValue.metric_id).in_(chunk))
        found.update(session.exec(query.distinct()).all())
    return found


# --- The Values sheet -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Profile:
    """What a value's checks need to know about its metric."""

    code: str
    unit: str
    aggregation: str
    polarity: str
    frequency: str


def _profiles(rows: list[_MetricRow], broken: set[str], held: _Held) -> dict[str, _Profile | None]:
    """Each known metric (by folded code) as it will be after the import; None if its row is bad."""
    profiles: dict[str, _Profile | None] = {
        key: _Profile(m.code, m.unit, m.aggregation, m.polarity, m.frequency)
        for key, m in held.metrics.items()
    }
    for row in rows:
        base = held.metrics.get(row.code.casefold())
        unit = row.fields["unit"]
        aggregation = row.fields.get("aggregation") or (
            base.aggregation if base else _default_aggregation(unit)
        )
        code = base.code if base else row.code
        profiles[row.code.casefold()] = _Profile(
            code, unit, aggregation, row.fields["polarity"], row.fields["frequency"]
        )
    profiles.update(dict.fromkeys(broken))
    return profiles


@dataclass
class _ValueRow:
    row: int
    code: str  # the metric's code as held (or as in the Metrics sheet)
    period: periods.Period
    fields: dict[str, Any]  # PeriodValue attributes from the non-blank cells
    status: str | None  # from Approval; None when blank
    profile: _Profile


NUMBER_COLUMNS = {
    "Actual": "actual",
    "Numerator": "numerator",
    "Denominator": "denominator",
    "Target": "target",
    "Target upper": "target_upper",
}
TEXT_COLUMNS = {"Commentary": "commentary", "Corrective action": "corrective_action"}
LONG_TEXT = _text(LIMITS["long"], strip=False)
APPROVAL = _choice(ApprovalState, "an approval state")
BLANK_VALUE = {**dict.fromkeys(NUMBER_COLUMNS.values()), **dict.fromkeys(TEXT_COLUMNS.values(), "")}


def _value_row(reader: _RowReader, profiles: dict[str, _Profile | None]) -> _ValueRow | None:
    code = reader.require("Code", _code)
    if code and code.casefold() not in profiles:
        reason = f"no metric has the code '{code}': add it to the Metrics sheet"
        reader.fail("Code", reason)
    profile = profiles.get(code.casefold()) if code else None
    period = reader.require("Period", _period(profile.frequency)) if profile else None
    fields = {
        attribute: value
        for column, attribute in NUMBER_COLUMNS.items()
        if (value := reader.get(column, _number)) is not None
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
    return _ValueRow(reader.row.number, profile.code, period, fields, status, profile)


def _derive_actual(reader: _RowReader, profile: _Profile, fields: dict[str, Any]) -> None:
    """Actual = numerator / denominator (x 100 for a percent) when Actual is blank."""
    for attribute, column in (("numerator", "Numerator"), ("denominator", "Denominator")):
        if fields.get(attribute, 0) < 0:
            reader.fail(column, f"'{_show(fields[attribute])}' is negative")
    if fields.get("denominator") == 0:
        reader.fail("Denominator", "the denominator is 0")
    elif "actual" not in fields and {"numerator", "denominator"} <= fields.keys():
        scale = 100.0 if profile.unit == Unit.PERCENT else 1.0
        actual = fields["numerator"] / fields["denominator"] * scale
        if not math.isfinite(actual) or abs(actual) > MAX_MAGNITUDE:
            reason = f"the numerator over the denominator is {_show(actual)}, too large to hold"
            reader.fail("Numerator", reason)
        else:
            fields["actual"] = actual


def _check_ranges(reader: _RowReader, profile: _Profile, fields: dict[str, Any]) -> None:
    """A percent is 0 to 100; a count (number, summed) is a non-negative whole number."""
    derived = "actual" in fields and "Actual" not in reader.row.cells
    for column in ("Actual", "Target", "Target upper"):
        value = fields.get(NUMBER_COLUMNS[column])
        where = "Numerator" if column == "Actual" and derived else column
        if value is None:
            continue
        if profile.unit == Unit.PERCENT and not 0 <= value <= 100:
            reader.fail(where, f"{_show(value)} is outside 0 to 100 for a percentage")
        is_count = profile.unit == Unit.NUMBER and profile.aggregation == Aggregation.SUM
        if is_count and value < 0:
            reader.fail(where, f"{_show(value)} is negative; a count is 0 or more")
        elif is_count and column == "Actual" and not float(value).is_integer():
            reader.fail(where, f"{_show(value)} is not a whole number; a count is whole")


def _check_values(
    sheet: _Sheet, profiles: dict[str, _Profile | None], problems: _Problems
) -> list[_ValueRow]:
    valid: list[_ValueRow] = []
    seen: dict[tuple[str, str], int] = {}
    for row in sheet.rows:
        reader = _RowReader(sheet, row, problems)
        parsed = _value_row(reader, profiles)
        if parsed is None:
            continue
        key = (parsed.code.casefold(), parsed.period.label)
        if key in seen:
            reason = f"{parsed.code} {parsed.period.label} is already on row {seen[key]}"
            reader.fail("Period", reason)
            continue
        seen[key] = row.number
        valid.append(parsed)
    return valid


def _check_bands(sheet: _Sheet, rows: list[_ValueRow], held: _Held, problems: _Problems) -> None:
    """A band's upper target is not below its lower one, counting what is already held."""
    for row in rows:
        if row.profile.polarity != Polarity.BAND:
            continue
        existing = held.value(row.code, row.period.label)
        lower = row.fields.get("target", existing.target if existing else None)
        upper = row.fields.get("target_upper", existing.target_upper if existing else None)
        if lower is not None and upper is not None and upper < lower:
            column = "Target upper" if "target_upper" in row.fields else "Target"
            reason = f"the upper target {_show(upper)} is below the target {_show(lower)}"
            problems.add(sheet.problem(row.row, column, reason))


# --- What the database holds ----------------------------------------------------------------


@dataclass
class _Held:
    """What the database holds already, read once inside the import's transaction."""

    metrics: dict[str, Metric]  # folded code -> metric
    values: dict[tuple[int, str], PeriodValue] = field(default_factory=dict)

    def value(self, code: str, period: str) -> PeriodValue | None:
        metric = self.metrics.get(code.casefold())
        if metric is None or metric.id is None:
            return None
        return self.values.get((metric.id, period))


def _load_held(session: Session) -> _Held:
    return _Held({m.code.casefold(): m for m in session.exec(select(Metric)).all()})


def _load_values(session: Session, held: _Held, rows: list[_ValueRow]) -> None:
    ids = sorted({m.id for r in rows if (m := held.metrics.get(r.code.casefold())) and m.id})
    for start in range(0, len(ids), 1000):  # keeps every IN list well under driver limits
        chunk = ids[start : start + 1000]
        query = select(PeriodValue).where(col(PeriodValue.metric_id).in_(chunk))
        for value in session.exec(query).all():
            held.values[(value.metric_id, value.period)] = value


CREATED_COUNTERS: dict[type[SQLModel], str] = {
    Priority: "priorities_created",
    Initiative: "initiatives_created",
    Service: "services_created",
    Team: "teams_created",
}


class LineOfSight:
    """Priorities, initiatives, services and teams by name; each is created when new."""

    def __init__(self, session: Session, result: ImportResult, audit: Callable[..., None]) -> None:
        self.session, self.result, self.audit = session, result, audit
        self.rows: dict[type[SQLModel], list[Any]] = {
            model: list(session.exec(select(model)).all()) for model in CREATED_COUNTERS
        }
        self.links = {
            (link.initiative_id, link.priority_id)
            for link in session.exec(select(InitiativePriority)).all()
        }

    def find(self, model: type[SQLModel], name: str, **scope: Any) -> Any:
        """The row with this name (in any case and spacing) within the scope; created if new."""
        for row in self.rows[model]:
            in_scope = all(getattr(row, key) == value for key, value in scope.items())
            if in_scope and _fold(row.name) == _fold(name):
                return row
        code = self._code(model, name, scope)
        row = model(code=code, name=name, **scope)
        self.session.add(row)
        self.session.flush()  # the new id is needed by the metric that names it
        self.rows[model].append(row)
        counter = CREATED_COUNTERS[model]
        setattr(self.result, counter, getattr(self.result, counter) + 1)
        self.audit(action="create", entity=model.__tablename__, key=code, new=name)
        return row

    def _code(self, model: type[SQLModel], name: str, scope: dict[str, Any]) -> str:
        """The slug of the name (a team's behind its service's), unique among its kind.

        Two names with one slug ("Customer Services", "Customer-Services") are two rows: the
        second gets "-2", rather than being merged silently with the first.
        """
        code = slug(name)
        if model is Team:
            service = next(s for s in self.rows[Service] if s.id == scope["service_id"])
            code = f"{service.code}/{code}"
        taken = {row.code for row in self.rows[model]}
        limit = 80 if model is Team else LIMITS["code"]
        unique, number = code[:limit], 1
        while unique in taken:
            number += 1
            unique = f"{code[: limit - len(str(number)) - 1]}-{number}"
        return unique

    def link(self, initiative: Initiative, priority: Priority) -> None:
        """Record, once, that the initiative delivers the priority."""
        if (initiative.id, priority.id) in self.links:
            return
        self.session.add(InitiativePriority(initiative_id=initiative.id, priority_id=priority.id))
        self.links.add((initiative.id, priority.id))
        self.result.links_created += 1
        key = f"{initiative.code}/{priority.code}"
        self.audit(action="create", entity="initiative_priority", key=key)

    def name_of(self, model: type[SQLModel], row_id: int | None) -> str | None:
        return next((row.name for row in self.rows[model] if row.id == row_id), None)


# --- Writing --------------------------------------------------------------------------------


def import_workbook(
    engine: Engine, path: Path, *, actor: str, limits: UploadLimits | None = None
) -> ImportResult:
    """Check the whole workbook, then write all of it in one transaction, or nothing at all."""
    with store.transaction(engine) as session:
        return import_workbook_in(session, path, actor=actor, limits=limits)


def import_workbook_in(
    session: Session, path: Path, *, actor: str, limits: UploadLimits | None = None
) -> ImportResult:
    """Check the whole workbook, then write it in the caller's session; the caller commits.

    A WorkbookError is raised before anything is written, so the caller's rollback (or its
    own later writes) never meets half an import.
    """
    _require_defusedxml()
    path = Path(path)
    # The file is read before the first query, so no connection is held while openpyxl parses.
    sheets, problems = _read(path, limits or settings().upload)
    held = _load_held(session)
    metric_rows, broken = _check_metrics(sheets[METRICS], held, problems)
    _check_template_changes(session, sheets[METRICS], metric_rows, held, problems)
    value_rows = _check_values(sheets[VALUES], _profiles(metric_rows, broken, held), problems)
    _load_values(session, held, value_rows)
    _check_bands(sheets[VALUES], value_rows, held, problems)
    problems.raise_if_any()
    writer = _Writer(session, held, actor=actor, reason=f"workbook import {path.name}")
    writer.metrics(metric_rows)
    writer.values(value_rows)
    store.bump_data_version(session)
    return writer.result


def line_of_sight(session: Session, *, actor: str, reason: str) -> LineOfSight:
    """Priorities, initiatives, services and teams found (or created) by name as an import does."""
    return _Writer(session, _Held({}), actor=actor, reason=reason).lines


LINK_MODELS: dict[str, type[SQLModel]] = {
    "priority_id": Priority,
    "initiative_id": Initiative,
    "service_id": Service,
    "team_id": Team,
}


class _Writer:
    """Applies checked rows, auditing every field it changes."""

    def __init__(self, session: Session, held: _Held, *, actor: str, reason: str) -> None:
        self.session, self.held, self.actor, self.reason = session, held, actor, reason
        self.result = ImportResult()
        self.lines = LineOfSight(session, self.result, self.audit)

    def audit(
        self,
        *,
        action: str,
        entity: str,
        key: str,
        name: str = "",
        old: Any = None,
        new: Any = None,
    ) -> None:
        store.audit(
            self.session,
            actor=self.actor,
            action=action,
            entity=entity,
            entity_key=key,
            field_name=name,
            old_value=old,
            new_value=new,
            reason=self.reason,
        )

    # Metrics

    def metrics(self, rows: list[_MetricRow]) -> None:
        """New metrics first (so that alignment can point at them), then every row's fields."""
        created = {
            row.code.casefold() for row in rows if row.code.casefold() not in self.held.metrics
        }
        for row in rows:
            if row.code.casefold() in created:
                fields = {**_blank_metric(), **row.fields}
                fields.setdefault("aggregation", _default_aggregation(fields["unit"]))
                metric = Metric(code=row.code, **fields)
                self.session.add(metric)
                self.held.metrics[row.code.casefold()] = metric
        self.session.flush()
        for row in rows:
            metric = self.held.metrics[row.code.casefold()]
            wanted = {**row.fields, **self._links(row)}
            if row.code.casefold() in created:
                self._created_metric(metric, wanted)
            else:
                self._updated_metric(metric, wanted)

    def _links(self, row: _MetricRow) -> dict[str, int | None]:
        """Ids for the names in the row's link columns, finding or creating each."""
        names = row.links
        found: dict[str, Any] = {}
        for attribute, model in LINK_MODELS.items():
            name = names.get(attribute.removesuffix("_id"))
            if name and model is Team:  # a team is found within its service
                found[attribute] = self.lines.find(Team, name, service_id=found["service_id"].id)
            elif name:
                found[attribute] = self.lines.find(model, name)
            elif attribute.removesuffix("_id") in names:
                found[attribute] = None  # the column is there and blank: no link
        initiative, priority = found.get("initiative_id"), found.get("priority_id")
        if row.fields["tier"] == Tier.ME2E and initiative and priority:
            self.lines.link(initiative, priority)
        ids = {attribute: linked.id if linked else None for attribute, linked in found.items()}
        if "aligned_to" in names:
            target = names["aligned_to"]
            ids["aligned_to_id"] = self.held.metrics[target.casefold()].id if target else None
        return ids

    def _shown(self, attribute: str, value: Any) -> tuple[str, Any]:
        """A field's name and value as the audit shows them: names and codes rather than ids."""
        if attribute in LINK_MODELS:
            return attribute.removesuffix("_id"), self.lines.name_of(LINK_MODELS[attribute], value)
        if attribute == "aligned_to_id":
            code = next((m.code for m in self.held.metrics.values() if m.id == value), None)
            return "aligned_to", code
        return attribute, value

    def _created_metric(self, metric: Metric, wanted: dict[str, Any]) -> None:
        for attribute, value in wanted.items():
            setattr(metric, attribute, value)
        shown = dict(self._shown(attribute, value) for attribute, value in wanted.items())
        self.audit(action="create", entity="metric", key=metric.code, new=_json(shown))
        self.result.metrics_created += 1

    def _updated_metric(self, metric: Metric, wanted: dict[str, Any]) -> None:
        changes = _changes(metric, wanted)
        for attribute, (old, new) in changes.items():
            setattr(metric, attribute, new)
            name, old_shown = self._shown(attribute, old)
            new_shown = self._shown(attribute, new)[1]
            self.audit(
                action="import",
                entity="metric",
                key=metric.code,
                name=name,
                old=old_shown,
                new=new_shown,
            )
        if changes:
            metric.version += 1
            self.result.metrics_updated += 1
        else:
            self.result.metrics_unchanged += 1

    # Values

    def values(self, rows: list[_ValueRow]) -> None:
        fresh: list[dict[str, Any]] = []
        for row in rows:
            metric = self.held.metrics[row.code.casefold()]
            existing = self.held.values.get((metric.id or 0, row.period.label))
            if existing is None:
                fresh.extend(self._created_value(metric, row))
            else:
                self._updated_value(existing, row)
        if fresh:  # one bulk insert: a large upload is mostly new rows
            self.session.exec(insert(PeriodValue), params=fresh)  # type: ignore[call-overload]

    def _created_value(self, metric: Metric, row: _ValueRow) -> list[dict[str, Any]]:
        """The new row to insert (none when the row says nothing), audited as created."""
        if not row.fields and row.status is None:
            self.result.values_skipped += 1  # a code and a period with nothing to say
            return []
        status = row.status or ApprovalState.SUBMITTED.value
        new = _json({**row.fields, "status": status})
        self.audit(action="create", entity="period_value", key=_value_key(row), new=new)
        self.result.values_created += 1
        now, approved = store.now(), status == ApprovalState.APPROVED
        return [
            {
                **BLANK_VALUE,
                **row.fields,
                "metric_id": metric.id,
                "period": row.period.label,
                "fiscal_year": row.period.fiscal_year,
                "period_end": row.period.end,
                "status": status,
                "entered_by": self.actor,
                "entered_at": now,
                "approved_by": self.actor if approved else "",  # the importer approved it
                "approved_at": now if approved else None,
                "version": 1,
            }
        ]

    def _updated_value(self, value: PeriodValue, row: _ValueRow) -> None:
        """Only the fields that changed; a change with a blank Approval goes back to submitted."""
        changes = _changes(value, row.fields)
        status = row.status or (ApprovalState.SUBMITTED.value if changes else value.status)
        if status != value.status:
            changes["status"] = (value.status, status)
        if not changes:
            self.result.values_unchanged += 1
            return
        approving = changes.get("status", (None, None))[1] == ApprovalState.APPROVED.value
        entering = bool(set(changes) - {"status"})
        if approving and (entering or value.entered_by == self.actor):
            # Raised inside the write transaction, so the whole import still rolls back.
            raise WorkbookError([_self_approval(row)])
        for attribute, (old, new) in changes.items():
            setattr(value, attribute, new)
            self.audit(
                action="import",
                entity="period_value",
                key=_value_key(row),
                name=attribute,
                old=old,
                new=new,
            )
        _stamp_approval(value, self.actor)
        if entering:  # a change of approval alone leaves who entered the value
            value.entered_by, value.entered_at = self.actor, store.now()
        value.version += 1
        self.result.values_updated += 1


def _self_approval(row: _ValueRow) -> Problem:
    return Problem(
        VALUES,
        row.row,
        "Approval",
        "the approver must not be the person who entered the value; "
        "ask another officer to import the approval",
    )


def _value_key(row: _ValueRow) -> str:
    return f"{row.code}/{row.period.label}"


def _changes(row: Any, wanted: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        attribute: (getattr(row, attribute), new)
        for attribute, new in wanted.items()
        if getattr(row, attribute) != new
    }


def _stamp_approval(value: PeriodValue, actor: str) -> None:
    """Approved through a workbook: the importer approved what it wrote. Other states have none."""
    if value.status == ApprovalState.APPROVED:
        value.approved_by, value.approved_at = actor, store.now()
    else:
        value.approved_by, value.approved_at = "", None


def _json(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)


# --- Export ---------------------------------------------------------------------------------


def export_workbook(engine: Engine, path: Path, *, clearance: str | None = None) -> None:
    """The database in the template's format, which import reads back to the same rows.

    With a clearance, only the measures it may see (and their values) are written.
    """
    with Session(engine) as session:
        metrics = _visible_metrics(session, clearance)
        metric_rows = _metric_export_rows(session, metrics)
        value_rows = _value_export_rows(session, metrics)
    book = _new_book()
    for sheet_name, rows in ((METRICS, metric_rows), (VALUES, value_rows)):
        sheet = book[sheet_name]
        for row in rows:
            sheet.append([cell_value(value) for value in row])
    book.save(path)


def cell_value(value: Any) -> Any:
    """What goes into a cell: numbers as numbers, text made inert, yes/no for flags."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return inert(ILLEGAL_CHARACTERS_RE.sub("", value)) or None
    return value


def _visible_metrics(session: Session, clearance: str | None) -> list[Metric]:
    metrics = sorted(session.exec(select(Metric)).all(), key=lambda m: m.code)
    if clearance is None:
        return metrics
    visible = set(visible_markings(clearance))
    return [m for m in metrics if effective_marking(m.marking) in visible]


def _names(session: Session, model: type[SQLModel]) -> dict[int, str]:
    return {row.id: row.name for row in session.exec(select(model)).all()}  # type: ignore[attr-defined]


def _metric_export_rows(session: Session, metrics: list[Metric]) -> list[list[Any]]:
    codes = {m.id: m.code for m in metrics}  # alignment to a measure not shown is left blank
    names = {attribute: _names(session, model) for attribute, model in LINK_MODELS.items()}
    rows = []
    for metric in metrics:
        by_column = {
            column: getattr(metric, attribute) for column, (attribute, _) in METRIC_FIELDS.items()
        }
        for attribute, table in names.items():
            column = attribute.removesuffix("_id").capitalize()
            by_column[column] = table.get(getattr(metric, attribute))
        by_column.update(
            {
                "Code": metric.code,
                "Aligned to": codes.get(metric.aligned_to_id),
                "Aggregation": metric.aggregation,
                "Tolerance": _tolerance_cell(metric.tolerance, metric.tolerance_is_percent),
            }
        )
        rows.append([by_column.get(column.name) for column in METRIC_COLUMNS])
    return rows


def _tolerance_cell(tolerance: float | None, is_percent: bool) -> float | str | None:
    """A percent tolerance as text like 5% (import reads it back); an absolute one as a number."""
    if tolerance is None or not is_percent:
        return tolerance
    return f"{int(tolerance) if float(tolerance).is_integer() else repr(float(tolerance))}%"


def _value_export_rows(session: Session, metrics: list[Metric]) -> list[list[Any]]:
    codes = {m.id: m.code for m in metrics}
    values = sorted(
        (v for v in session.exec(select(PeriodValue)).all() if v.metric_id in codes),
        key=lambda v: (codes[v.metric_id], v.period_end, v.period),
    )
    columns = {**NUMBER_COLUMNS, **TEXT_COLUMNS, "Approval": "status"}
    return [
        [codes[v.metric_id], v.period, *(getattr(v, columns[c.name]) for c in VALUE_COLUMNS[2:])]
        for v in values
    ]
