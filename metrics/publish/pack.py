"""The committee pack: an Excel workbook built only from a snapshot, ready for committee papers.

Cover, Summary (counts by tier and by priority, with a chart), one sheet per tier, Exceptions
(highest risk first, with the sentence that says why), Restatements. Status is a fill and its
word and symbol; numbers keep each measure's unit and decimals; every sheet prints landscape,
fitted to the page width, its header row repeated, the marking and page numbers in the header
and footer. The default pack leaves OFFICIAL-SENSITIVE measures out; a pack that includes them
says OFFICIAL-SENSITIVE on every sheet and in its file name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Engine

from metrics import snapshots, store
from metrics.config import settings
from metrics.publish.cells import (
    EXCEPTION_STATUSES,
    SEVERITY,
    STATUS_FILLS,
    arrow,
    cell,
    header_text,
    number_format,
    status_label,
)
from metrics.snapshots import Frozen
from metrics.vocab import Marking
from metrics.workbook.export import marked_path


@dataclass(frozen=True)
class Column:
    """One column of a measure table: heading, where its value comes from, width, how shown."""

    heading: str
    field: str
    width: int
    kind: str = "text"  # text, number (unit and decimals of the row), status, arrow, wrap, int


MEASURE_COLUMNS = (
    Column("Code", "code", 9),
    Column("Measure", "title", 26, "wrap"),
    Column("Priority", "priority", 15, "wrap"),
    Column("Service", "service", 13, "wrap"),
    Column("Period", "period", 8, "wrap"),
    Column("Actual", "actual", 9, "number"),
    Column("Target", "target", 9, "number"),
    Column("YTD", "ytd", 9, "number"),
    Column("Status", "status", 10, "status"),
    Column("Why", "explanation", 34, "wrap"),
    Column("On previous period", "dot_previous", 11, "arrow"),
    Column("On last year", "dot_last_year", 11, "arrow"),
    Column("Risk", "risk_level", 8, "wrap"),
    Column("Risk score", "risk_score", 6, "int"),
    Column("Why this risk", "risk_why", 30, "wrap"),
    Column("Forecast", "forecast", 9, "number"),
    Column("Forecast status", "forecast_status", 10, "status"),
    Column("SPC signal", "spc_signal", 12, "wrap"),
    Column("Commentary", "commentary", 32, "wrap"),
    Column("Corrective action", "corrective_action", 26, "wrap"),
    Column("Approval", "approval", 9, "wrap"),
)
EXCEPTION_COLUMNS = (
    Column("Code", "code", 9),
    Column("Measure", "title", 34, "wrap"),
    Column("Tier", "tier", 16),
    Column("Status", "status", 12, "status"),
    Column("Risk", "risk_level", 9),
    Column("Risk score", "risk_score", 7, "int"),
    Column("Why this risk", "risk_why", 36, "wrap"),
    Column("Why", "explanation", 50, "wrap"),
    Column("On previous period", "dot_previous", 15, "arrow"),
    Column("Forecast status", "forecast_status", 12, "status"),
    Column("Commentary", "commentary", 44, "wrap"),
    Column("Corrective action", "corrective_action", 36, "wrap"),
)
RESTATEMENT_COLUMNS = (
    Column("Code", "code", 9),
    Column("Measure", "title", 34, "wrap"),
    Column("Period", "period", 10),
    Column("What changed", "field_name", 12),
    Column("Published", "old_value", 13, "number"),
    Column("Now", "new_value", 13, "number"),
    Column("Changed by", "changed_by", 24),
    Column("Changed at", "changed_at", 18),
    Column("Why", "reason", 44, "wrap"),
    Column("First published in snapshot", "published_in", 12, "int"),
)
COUNT_HEADINGS = ("Red", "Amber", "Green", "Data only", "Missing")
COUNT_FIELDS = ("red", "amber", "green", "data_only", "missing")
BOLD = Font(bold=True)
HEADING_FILL = PatternFill("solid", fgColor="DDE4EE")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
FILLS = {status: PatternFill("solid", fgColor=colour) for status, colour in STATUS_FILLS.items()}
NOT_RECORDED = "not recorded"
LINE_HEIGHT = 13.0  # points per line of 10 or 11 point text
MAX_LINES = 12


def _lines(text: str, width: int) -> int:
    """How many lines the text wraps to in a column this many characters wide (roughly)."""
    per_line = max(int(width * 0.85) - 1, 1)
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def write_pack(
    engine: Engine,
    snapshot_id: int,
    path: Path,
    *,
    include_sensitive: bool = False,
    generated_at: datetime | None = None,
) -> Path:
    """Write the pack of a stored snapshot; returns the path (marked if sensitive)."""
    clearance = Marking.OFFICIAL_SENSITIVE if include_sensitive else Marking.OFFICIAL
    frozen = snapshots.show(engine, snapshot_id, clearance=clearance.value)
    marking = clearance.value if include_sensitive else frozen.marking
    book = build_pack(
        frozen,
        council=settings().council_name,
        generated_at=generated_at or store.now(),
        marking=marking,
    )
    target = marked_path(Path(path), marking)
    book.save(target)
    return target


def build_pack(frozen: Frozen, *, council: str, generated_at: datetime, marking: str) -> Workbook:
    """The pack as an openpyxl workbook, from the snapshot alone."""
    book = Workbook()
    _cover(book.active, frozen, council=council, generated_at=generated_at, marking=marking)
    _summary(book.create_sheet("Summary"), frozen)
    rows = frozen.rows
    for tier in dict.fromkeys(rows["tier"]):
        _table(book.create_sheet(_sheet_name(tier)), MEASURE_COLUMNS, rows[rows["tier"] == tier])
    _table(book.create_sheet("Exceptions"), EXCEPTION_COLUMNS, exceptions(rows))
    restated = frozen.restatements.copy()
    if len(restated):
        restated["changed_at"] = [_when(value) for value in restated["changed_at"]]
        restated["changed_by"] = restated["changed_by"].replace("", NOT_RECORDED)
        restated["reason"] = restated["reason"].replace("", NOT_RECORDED)
    _table(book.create_sheet("Restatements"), RESTATEMENT_COLUMNS, restated)
    for sheet in book.worksheets:
        _print_setup(sheet, frozen, council=council, marking=marking)
    return book


def exceptions(rows: pd.DataFrame) -> pd.DataFrame:
    """Red, Overdue and Amber measures, highest risk first, then the worse status, then code."""
    found = rows[rows["status"].isin(EXCEPTION_STATUSES)].copy()
    found["severity"] = found["status"].map(SEVERITY)
    ordered = found.sort_values(["risk_score", "severity", "code"], ascending=[False, True, True])
    return ordered.drop(columns="severity")


def _sheet_name(name: str) -> str:
    return "".join("-" if c in "[]:*?/\\" else c for c in name)[:31]


def _when(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)) or pd.isna(value):
        return NOT_RECORDED
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M UTC")


def _cover(
    sheet: Worksheet, frozen: Frozen, *, council: str, generated_at: datetime, marking: str
) -> None:
    header = frozen.snapshot
    sheet.title = "Cover"
    sheet["A1"] = cell(f"{header.committee}: {header.title}")
    sheet["A1"].font = Font(bold=True, size=16)
    meeting = header.meeting_date.strftime("%-d %B %Y") if header.meeting_date else "not set"
    lines = [
        ("Council", council),
        ("Committee", header.committee),
        ("Meeting date", meeting),
        ("Period", header.period),
        ("Protective marking", marking),
        ("Snapshot", f"{header.id}, taken {_when(header.taken_at)}"),
        ("Snapshot SHA-256", header.sha256),
        ("Rated as of", header.rated_on.isoformat()),
        (
            "Unapproved values",
            f"{header.unapproved_count} included, each marked in its row"
            if header.include_unapproved
            else "none: every value was approved",
        ),
        ("Generated at", _when(generated_at)),
    ]
    if marking != Marking.OFFICIAL_SENSITIVE.value:
        lines.append(("Left out", "OFFICIAL-SENSITIVE measures (not in this pack)"))
    for offset, (label, value) in enumerate(lines, start=3):
        sheet.cell(row=offset, column=1, value=label).font = BOLD
        sheet.cell(row=offset, column=2, value=cell(value)).alignment = WRAP
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 80


def _summary(sheet: Worksheet, frozen: Frozen) -> None:
    """Counts by tier, then by priority, each with a total; a stacked chart of the tier counts."""
    rollups = frozen.rollups
    row = 1
    for level, heading in (("tier", "Tier"), ("priority", "Priority")):
        table = rollups[rollups["level"] == level]
        headings = [heading, "Status", *COUNT_HEADINGS, "Total"]
        for column, text in enumerate(headings, start=1):
            _heading(sheet.cell(row=row, column=column, value=text))
        first = row + 1
        for record in table.to_dict("records"):
            row += 1
            counts = [int(record[field]) for field in COUNT_FIELDS]
            sheet.cell(row=row, column=1, value=cell(record["name"])).alignment = WRAP
            _status_cell(sheet.cell(row=row, column=2), record["status"])
            for column, count in enumerate([*counts, sum(counts)], start=3):
                sheet.cell(row=row, column=column, value=count)
        if level == "tier" and row >= first:
            _chart(sheet, first, row)
        row += 3
    sheet.column_dimensions["A"].width = 40
    sheet.column_dimensions["B"].width = 12
    sheet.freeze_panes = "A2"


def _chart(sheet: Worksheet, first: int, last: int) -> None:
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
    chart.title = "Measures by status and tier"
    chart.y_axis.title = "Measures"
    data = Reference(sheet, min_col=3, max_col=7, min_row=first - 1, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
    for series, status in zip(chart.series, COUNT_HEADINGS, strict=True):
        series.graphicalProperties.solidFill = STATUS_FILLS[status]
        series.graphicalProperties.line.solidFill = "333333"
    chart.width, chart.height = 18, 9
    sheet.add_chart(chart, "J2")


def _table(sheet: Worksheet, columns: tuple[Column, ...], rows: pd.DataFrame) -> None:
    """A header row, one row per measure, frozen header and first column, an autofilter."""
    for index, column in enumerate(columns, start=1):
        _heading(sheet.cell(row=1, column=index, value=column.heading))
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.row_dimensions[1].height = LINE_HEIGHT * max(_lines(c.heading, c.width) for c in columns)
    for offset, record in enumerate(rows.to_dict("records"), start=2):
        lines = 1
        for index, column in enumerate(columns, start=1):
            target = sheet.cell(row=offset, column=index)
            _write(target, column, record)
            if isinstance(target.value, str):
                lines = max(lines, _lines(target.value, column.width))
        # Spreadsheets do not grow a row to fit wrapped text on opening: say how tall it is.
        sheet.row_dimensions[offset].height = LINE_HEIGHT * min(lines, MAX_LINES)
    if not len(rows):
        sheet.cell(row=2, column=1, value="None.")
    sheet.freeze_panes = "C2"
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{max(len(rows), 1) + 1}"


def _write(target: Any, column: Column, record: dict[str, Any]) -> None:
    value = record.get(column.field)
    if column.kind == "number":
        target.value = cell(value)
        target.number_format = number_format(record["unit"], int(record["decimals"]))
    elif column.kind == "status":
        _status_cell(target, value or "")
    elif column.kind == "arrow":
        target.value = cell(arrow(value or ""))
    elif column.kind == "int":
        target.value = None if value is None or pd.isna(value) else int(value)
    else:
        target.value = cell(value if isinstance(value, str) else ("" if value is None else value))
    target.alignment = WRAP if column.kind in ("wrap", "text", "arrow", "status") else TOP


def _status_cell(target: Any, status: str) -> None:
    target.value = cell(status_label(status)) if status else None
    if status in FILLS:
        target.fill = FILLS[status]


def _heading(target: Any) -> None:
    target.font, target.fill, target.alignment = BOLD, HEADING_FILL, WRAP


def _print_setup(sheet: Worksheet, frozen: Frozen, *, council: str, marking: str) -> None:
    """Landscape A4 fitted to the width, header row on every page, marking top and bottom."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = sheet.title not in ("Cover", "Summary")
    if sheet.title != "Cover":
        sheet.print_title_rows = "1:1"
    header = frozen.snapshot
    sheet.oddHeader.left.text = header_text(f"{council}: {header.committee}")
    sheet.oddHeader.center.text = header_text(marking)
    sheet.oddHeader.center.font = "Arial,Bold"
    sheet.oddHeader.right.text = header_text(f"{sheet.title}, {header.period}")
    sheet.oddFooter.left.text = header_text(f"Snapshot {header.id} {header.sha256[:12]}")
    sheet.oddFooter.center.text = header_text(marking)
    sheet.oddFooter.center.font = "Arial,Bold"
    sheet.oddFooter.right.text = "Page &P of &N"
