"""The Metrics and Values sheets of an untrusted workbook, read row by row as parsed XML.

openpyxl's row reader fills gaps silently and skips a row number that comes twice or out of
order, so the rows are taken here from openpyxl's worksheet parser (the one its read-only mode
uses, reached through private attributes that openpyxl 3.1 has kept stable): it gives every
cell with its row, column and type. Formulas are found from those types, in every cell of the
two sheets, whatever way the XML writes them; a cell or a row written twice, or a cell filed
under the wrong row, is a problem, never a silent choice. openpyxl's read-only loader parses
every sheet to its end to size it when the sheet declares no size; here sheets open unparsed,
the two read are first counted by a cheap pass (a sheet past the row cap is refused at once),
and other sheets are never parsed.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.cell.read_only import ReadOnlyCell
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser

from metrics.config import UploadLimits
from metrics.inert import revert
from metrics.names import fold
from metrics.workbook import files
from metrics.workbook.cells import Cell, clip
from metrics.workbook.columns import SHEETS, Column
from metrics.workbook.problems import Problem, Problems, WorkbookError, refusal

# A date serial Excel cannot hold makes openpyxl warn and read an error cell, which the import
# then reports with its cell reference: the warning would only repeat it on stderr.
warnings.filterwarnings("ignore", message="Cell ", module=r"openpyxl\.worksheet\._reader")
MAX_COLUMN = 16_384  # XFD, the last column Excel has
REPORTED = object()  # the value of a cell whose problem (a formula, an error) is already listed


@dataclass
class Row:
    """One row's non-blank cells in recognised columns, by column name."""

    number: int
    cells: dict[str, Cell]


@dataclass
class Sheet:
    """A recognised sheet: where each known column is, and its rows from row 2 on."""

    title: str
    letters: dict[str, str]  # column name -> letter, for the columns the header holds
    rows: list[Row] = field(default_factory=list)

    def problem(self, row: int | None, column: str | None, reason: str) -> Problem:
        """A problem at this row and column, naming the cell when the column is known."""
        letter = self.letters.get(column or "")
        cell = f"{letter}{row}" if letter and row else ""
        return Problem(self.title, row, column, reason, cell)


def read(path: Path, limits: UploadLimits) -> tuple[dict[str, Sheet], Problems]:
    """The Metrics and Values sheets; raises at once if the file cannot be read as a workbook."""
    files.check_file(path, limits)
    try:
        book = _open(path)
    except Exception as error:  # untrusted bytes can fail in many ways; each is a refusal
        raise refusal(
            f"{path.name} cannot be read as an Excel workbook: {files.why(error)}"
        ) from None
    problems = Problems()
    try:
        sheets = _read_sheets(book, limits, problems)
    except WorkbookError:
        raise
    except Exception as error:
        raise refusal(
            f"{path.name} cannot be read as an Excel workbook: {files.why(error)}"
        ) from None
    finally:
        book.close()
    if len(sheets) < len(SHEETS):  # a sheet or a required header is missing: rows mean nothing
        problems.raise_if_any()
    return sheets, problems


class _Worksheet(ReadOnlyWorksheet):
    """A read-only sheet that is not parsed on opening (openpyxl's sizes it by parsing)."""

    def _get_size(self) -> None:
        """Nothing: the size is never used, and the rows read are counted before reading."""


class _Reader(ExcelReader):
    """openpyxl's read-only loader, opening worksheets as _Worksheet."""

    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue
            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)
                continue
            worksheet = _Worksheet(self.wb, sheet.name, rel.target, self.shared_strings)
            worksheet.sheet_state = sheet.state
            self.wb._sheets.append(worksheet)


def _open(path: Path) -> Any:
    """The workbook, read-only, with formulas as written and no sheet parsed yet."""
    reader = _Reader(path, read_only=True, data_only=False)
    reader.read()
    return reader.wb


def _read_sheets(book: Any, limits: UploadLimits, problems: Problems) -> dict[str, Sheet]:
    """Metrics and Values by column name; two sheets whose names fold alike are refused."""
    by_name: dict[str, list[str]] = {}
    for title in book.sheetnames:
        by_name.setdefault(fold(title), []).append(title)
    for titles in by_name.values():
        if len(titles) > 1:
            shown = " and ".join(f"'{t}'" for t in titles)
            reason = f"the sheets {shown} have the same name apart from case or spacing; keep one"
            problems.add(Problem(titles[0], None, None, reason))
    if problems.total:
        problems.raise_if_any()
    found = {fold(sheet.title): sheet for sheet in book.worksheets}
    sheets: dict[str, Sheet] = {}
    for name, columns in SHEETS.items():
        source = found.get(fold(name))
        if source is None:
            problems.add(Problem(name, None, None, f"the workbook has no '{name}' sheet"))
        elif (sheet := _read_sheet(book, source, columns, limits, problems)) is not None:
            sheets[name] = sheet
    return sheets


UNREADABLE = "unreadable"  # the data type of a cell whose XML openpyxl could not read


class _SharedStrings(Sequence[Any]):
    """The shared strings, where a negative or too large index is an error, never a wrap."""

    def __init__(self, strings: Sequence[Any]) -> None:
        self.strings = strings

    def __len__(self) -> int:
        return len(self.strings)

    def __getitem__(self, index: Any) -> Any:
        if not isinstance(index, int) or not 0 <= index < len(self.strings):
            raise IndexError(f"there is no shared string {index}")
        return self.strings[index]


class _Parser(WorkSheetParser):
    """openpyxl's parser, where a cell it cannot read becomes a cell that says why.

    Without this, one bad cell (NaN written as a number, `r="$C$3"`, a date Excel cannot
    hold) fails the whole sheet with a message that names no cell.
    """

    def parse_cell(self, element: Any) -> dict[str, Any]:
        try:
            return dict(super().parse_cell(element))
        except Exception as error:  # untrusted XML: every failure is that cell's problem
            counters = (
                int(getattr(self, "row_counter", 0)),
                int(getattr(self, "col_counter", 0)) + 1,
            )
            row, column = _place(element.get("r") or "") or counters
            self.col_counter = column
            reason = f"the cell cannot be read ({files.why(error)}); type its value again"
            return {"row": row, "column": column, "value": reason, "data_type": UNREADABLE}


def _place(reference: str) -> tuple[int, int] | None:
    """(row, column) of a reference like C3 or $C$3, or None if it is not one."""
    text = reference.replace("$", "").upper()
    letters = text[: len(text) - len(text.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))]
    digits = text[len(letters) :]
    if not letters or len(letters) > 3 or not digits.isdigit() or len(digits) > 7:
        return None
    column = column_index_from_string(letters)
    return (int(digits), column) if 1 <= column <= MAX_COLUMN else None


def _parsed_rows(book: Any, source: Any) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """(row number, cells) as the XML gives them: no gaps filled, nothing skipped."""
    with source._get_source() as stream:
        parser = _Parser(
            stream,
            _SharedStrings(source._shared_strings),
            data_only=False,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        yield from parser.parse()


def _read_sheet(
    book: Any, source: Any, columns: tuple[Column, ...], limits: UploadLimits, problems: Problems
) -> Sheet | None:
    """A sheet's rows by column name, or None when its header lacks a required column."""
    title, sheet, previous = source.title, None, 0
    with source._get_source() as stream:
        if files.rows_over(stream, limits.max_rows):
            reason = f"the sheet has more than {limits.max_rows:,} rows (the limit)"
            raise WorkbookError([Problem(title, None, None, reason)])
    for number, cells in _parsed_rows(book, source):
        if number <= previous:
            reason = f"row {number} is written again after row {previous}; save the file afresh"
            problems.add(Problem(title, number, None, reason))
            continue
        previous = number
        if number > limits.max_rows:  # refused at once: checking 100,000 rows first is waste
            reason = f"the sheet has more than {limits.max_rows:,} rows (the limit)"
            raise WorkbookError([Problem(title, None, None, reason)])
        if sheet is None:  # the first row written is the header only if it is row 1
            sheet = _header(title, cells if number == 1 else [], columns, problems)
            if sheet is None:
                return None
            if number == 1:
                continue
        found = _row_cells(source, number, cells, sheet, problems)
        if found:
            sheet.rows.append(Row(number, found))
    return sheet or _header(title, [], columns, problems)


def _header(
    title: str, cells: list[dict[str, Any]], columns: tuple[Column, ...], problems: Problems
) -> Sheet | None:
    """Which column holds which recognised header; case and spacing in headers do not matter."""
    known = {fold(column.name): column.name for column in columns}
    letters: dict[str, str] = {}
    for cell in _distinct(title, 1, cells, problems):
        value, ref = cell["value"], f"{get_column_letter(cell['column'])}1"
        if value is None:
            continue
        if _formula_like(cell):
            problems.add(Problem(title, 1, None, _formula_reason(value), ref))
            continue
        if cell["data_type"] == UNREADABLE:
            problems.add(Problem(title, 1, None, value, ref))
            continue
        name = known.get(fold(str(value)[:100]))
        if name in letters:
            problems.add(Problem(title, 1, name, f"the column '{name}' appears twice", ref))
        elif name:
            letters[name] = get_column_letter(cell["column"])
    missing = [c.name for c in columns if c.required and c.name not in letters]
    for name in missing:
        reason = f"the required column '{name}' is missing from the header row"
        problems.add(Problem(title, 1, name, reason))
    return None if missing else Sheet(title, letters)


def _distinct(
    title: str, number: int, cells: list[dict[str, Any]], problems: Problems
) -> Iterator[dict[str, Any]]:
    """The row's cells; a cell written twice, or filed under another row, is a problem."""
    seen: set[int] = set()
    for cell in cells:
        ref = f"{get_column_letter(cell['column'])}{cell['row']}"
        if cell["row"] != number:
            reason = f"the cell {ref} is written inside row {number}; save the file afresh"
            problems.add(Problem(title, number, None, reason, ref))
        elif cell["column"] in seen:
            problems.add(Problem(title, number, None, f"the cell {ref} is written twice", ref))
        else:
            seen.add(cell["column"])
            yield cell


def _row_cells(
    source: Any, number: int, cells: list[dict[str, Any]], sheet: Sheet, problems: Problems
) -> dict[str, Cell]:
    """The row's non-blank cells in recognised columns; every formula or unreadable cell on the
    row, in any column, is reported."""
    by_letter = {letter: name for name, letter in sheet.letters.items()}
    found: dict[str, Cell] = {}
    for cell in _distinct(sheet.title, number, cells, problems):
        value = cell["value"]
        if value is None:
            continue
        letter = get_column_letter(cell["column"])
        name = by_letter.get(letter)
        ref = f"{letter}{number}"
        if cell["data_type"] == "f" or (name and _formula_like(cell)):
            problems.add(Problem(sheet.title, number, name, _formula_reason(value), ref))
        elif cell["data_type"] == UNREADABLE:  # in any column: the file is damaged there
            problems.add(Problem(sheet.title, number, name, value, ref))
        elif name is None:
            continue  # a column the import does not know: ignored, as the template says
        elif cell["data_type"] == "e":
            reason = f"the cell holds the error {clip(str(value))}; type the value itself"
            problems.add(Problem(sheet.title, number, name, reason, ref))
        elif not (isinstance(value, str) and not revert(value).strip()):  # blank text is blank
            found[name] = _cell(source, cell)
            continue
        else:
            continue
        if name:
            found[name] = Cell(REPORTED)  # its problem is listed: the row is refused
    return found


def _cell(source: Any, cell: dict[str, Any]) -> Cell:
    value = cell["value"]
    if isinstance(value, str):
        return Cell(revert(value))
    return Cell(value, _shown_as_percent(source, cell))


def _formula_like(cell: dict[str, Any]) -> bool:
    value = cell["value"]
    return cell["data_type"] == "f" or (isinstance(value, str) and value.startswith("="))


def _formula_reason(value: Any) -> str:
    shown = str(getattr(value, "text", value))
    return f"the cell holds a formula ({clip(shown)}); type the value itself"


def _shown_as_percent(source: Any, cell: dict[str, Any]) -> bool:
    value = cell["value"]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return "%" in (ReadOnlyCell(source, **cell).number_format or "")
