"""The template workbook written: a blank one to fill in, and the database in the same format.

An export leaves OFFICIAL-SENSITIVE measures out unless the caller's clearance includes them;
a file that holds them says so in its name and in every sheet's printed header and footer.
Every text cell is written inert (`metrics.inert`), so no spreadsheet runs it as a formula.
"""

from __future__ import annotations

import calendar
from dataclasses import asdict
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import Engine
from sqlmodel import Session

from metrics.access import effective_marking, may_see
from metrics.config import settings
from metrics.inert import cell_value, inert
from metrics.models import Metric, PeriodValue
from metrics.queries import workbook as reads
from metrics.vocab import MARKING_RANK, Marking
from metrics.workbook.columns import (
    INSTRUCTIONS,
    METRIC_COLUMNS,
    METRICS,
    NUMBER_COLUMNS,
    SHEETS,
    TEXT_COLUMNS,
    VALUE_COLUMNS,
    VALUES,
    Column,
)
from metrics.workbook.validate import METRIC_FIELDS
from metrics.workbook.writer import LINK_MODELS


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
    "Type values, not formulas: a cell holding a formula in the Metrics or Values sheet is "
    "refused. Other sheets are never read.",
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


def export_workbook(engine: Engine, path: Path, *, clearance: str = Marking.OFFICIAL.value) -> Path:
    """The measures the clearance may see, with their values, in the template's format.

    Import reads the file back to the same rows. Returns the path written: a file holding an
    OFFICIAL-SENSITIVE measure has the marking in its name, and every sheet carries the
    highest marking it holds in its header and footer.
    """
    with Session(engine) as session:
        metrics = [m for m in reads.all_metrics(session) if may_see(clearance, m.marking)]
        metric_rows = _metric_export_rows(session, metrics)
        value_rows = _value_export_rows(session, metrics)
    book = _new_book()
    for sheet_name, rows in ((METRICS, metric_rows), (VALUES, value_rows)):
        sheet = book[sheet_name]
        for row in rows:
            sheet.append([cell_value(value) for value in row])
    marking = highest_marking(m.marking for m in metrics)
    if marking:
        _mark(book, marking)
    path = marked_path(Path(path), marking)
    book.save(path)
    return path


def highest_marking(markings: Any) -> str | None:
    """The most sensitive of these markings (as the access rules read them), or None."""
    found = [Marking(effective_marking(m)) for m in markings]
    return max(found, key=MARKING_RANK.__getitem__).value if found else None


def marked_path(path: Path, marking: str | None) -> Path:
    """The file name with OFFICIAL-SENSITIVE in it when the file holds such a measure."""
    sensitive = Marking.OFFICIAL_SENSITIVE.value
    if marking != sensitive or sensitive.casefold() in path.name.casefold():
        return path
    return path.with_name(f"{path.stem}-{sensitive}{path.suffix}")


def _mark(book: openpyxl.Workbook, marking: str) -> None:
    """The marking at the top and bottom of every printed page of every sheet."""
    for sheet in book.worksheets:
        for header_footer in (sheet.oddHeader, sheet.oddFooter):
            header_footer.center.text = marking
            header_footer.center.font = "Arial,Bold"
        sheet.oddFooter.right.text = "Page &P of &N"


def _metric_export_rows(session: Session, metrics: list[Metric]) -> list[list[Any]]:
    codes = {m.id: m.code for m in metrics}  # alignment to a measure not shown is left blank
    names = {
        attribute: {row.id: row.name for row in reads.rows_of(session, model=model)}  # type: ignore[attr-defined]
        for attribute, model in LINK_MODELS.items()
    }
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
    held: list[PeriodValue] = reads.values_of(session, metric_ids=sorted(codes))  # type: ignore[arg-type]
    ordered = sorted(held, key=lambda v: (codes[v.metric_id], v.period_end, v.period))
    columns = {**NUMBER_COLUMNS, **TEXT_COLUMNS, "Approval": "status"}
    return [
        [codes[v.metric_id], v.period, *(getattr(v, columns[c.name]) for c in VALUE_COLUMNS[2:])]
        for v in ordered
    ]
