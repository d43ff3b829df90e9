"""Hostile workbooks for tests/test_workbook_hostile.py, built from raw XML.

Every workbook starts as a valid one written by openpyxl (Instructions, Metrics and Values
sheets with the template's headers); its XML parts are then patched inside the zip with raw
strings. A builder is a function of the path it writes; each `edit` below changes the parts of
one workbook, and the big files (bombs, floods, long sheets) are made from cached pieces.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import struct
import sys
import time
import traceback
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import openpyxl
from openpyxl.utils import column_index_from_string, get_column_letter

from metrics import workbook

Parts = dict[str, bytes]  # zip member name -> content, in archive order
Edit = Callable[[Parts], None]
Build = Callable[[Path], None]

FILE_NAME = "hostile.xlsx"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HEADERS = {
    "Metrics": [column.name for column in workbook.METRIC_COLUMNS],
    "Values": [column.name for column in workbook.VALUE_COLUMNS],
}
PART = {  # where openpyxl writes each sheet of the base workbook
    "Instructions": "xl/worksheets/sheet1.xml",
    "Metrics": "xl/worksheets/sheet2.xml",
    "Values": "xl/worksheets/sheet3.xml",
}
REQUIRED = {
    "Metrics": [column.name for column in workbook.METRIC_COLUMNS if column.required],
    "Values": [column.name for column in workbook.VALUE_COLUMNS if column.required],
}
SHARED_STRINGS = "xl/sharedStrings.xml"
DATE_STYLE = 1  # the style openpyxl gives the date in Instructions!A2: a date format
MIB, GIB = 1 << 20, 1 << 30

# --- The content ----------------------------------------------------------------------------

# The council held before every case: two measures and two values.
BASE_METRICS: list[dict[str, Any]] = [
    {
        "Code": "HB01",
        "Title": "Homes built",
        "Tier": "Corporate Plan",
        "Priority": "Homes for all",
        "Unit": "number",
        "Polarity": "higher",
        "Frequency": "monthly",
    },
    {
        "Code": "CS01",
        "Title": "Calls answered within 60 seconds",
        "Tier": "Service Standards",
        "Service": "Housing",
        "Team": "Lettings",
        "Unit": "percent",
        "Polarity": "band",
        "Frequency": "monthly",
        "Marking": "OFFICIAL-SENSITIVE",
    },
]
BASE_VALUES: list[dict[str, Any]] = [
    {"Code": "HB01", "Period": "2015-04", "Actual": 11, "Target": 10},
    {"Code": "CS01", "Period": "2015-04", "Actual": 80, "Target": 75, "Target upper": 90},
]

# Rows 2 to 4 of a hostile workbook's Metrics sheet: the two held measures and a new one.
METRICS: list[dict[str, Any]] = [
    *BASE_METRICS,
    {
        "Code": "NEW01",
        "Title": "Days to relet a council home",
        "Tier": "ME2E",
        "Priority": "Homes for all",
        "Initiative": "Digital first",
        "Service": "Customer Services",
        "Unit": "days",
        "Polarity": "lower",
        "Frequency": "quarterly",
    },
]
# Rows 2 to 5 of its Values sheet.
VALUES: list[dict[str, Any]] = [
    {"Code": "HB01", "Period": "2015-04", "Actual": 12, "Target": 10, "Commentary": "Two sites"},
    {
        "Code": "HB01",
        "Period": "2015-05",
        "Actual": 9,
        "Target": 10,
        "Corrective action": "Chasing the builder",
    },
    {"Code": "CS01", "Period": "2015-04", "Actual": 85, "Target": 80, "Target upper": 90},
    {"Code": "NEW01", "Period": "2015-16 Q1", "Actual": 21.5, "Target": 20},
]


def letter(sheet: str, column: str) -> str:
    """The column letter of a header in the template's order."""
    return get_column_letter(HEADERS[sheet].index(column) + 1)


def at(sheet: str, column: str, row: int) -> str:
    """The A1 reference of a cell, e.g. at("Values", "Actual", 3) == "C3"."""
    return f"{letter(sheet, column)}{row}"


def changed(rows: list[dict[str, Any]], row: int, cells: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows with sheet row `row` (2 is the first) changed; a None value blanks the cell."""
    rows = [dict(r) for r in rows]
    rows[row - 2] = {k: v for k, v in {**rows[row - 2], **cells}.items() if v is not None}
    return rows


# --- Writing and reading the parts ----------------------------------------------------------


@cache
def _written(spec: str) -> bytes:
    metrics, values = json.loads(spec)
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Instructions"
    notes.append(["Line of Sight: a hostile workbook"])
    notes.append([datetime(2015, 4, 1)])  # gives styles.xml a date format (DATE_STYLE)
    notes.append(["Note", "Read the Metrics and Values sheets"])
    for title, rows in (("Metrics", metrics), ("Values", values)):
        sheet = book.create_sheet(title)
        sheet.append(HEADERS[title])
        for row in rows:
            sheet.append([row.get(column) for column in HEADERS[title]])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def parts_of(
    metrics: list[dict[str, Any]] = METRICS, values: list[dict[str, Any]] = VALUES
) -> Parts:
    """The parts of a valid workbook holding these rows."""
    parts = read_parts(_written(json.dumps([metrics, values])))
    assert f'<c r="A2" s="{DATE_STYLE}"'.encode() in parts[PART["Instructions"]]  # a date
    return parts


def read_parts(data: bytes) -> Parts:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def zipped(parts: Parts) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def patched(
    *edits: Edit,
    metrics: list[dict[str, Any]] = METRICS,
    values: list[dict[str, Any]] = VALUES,
) -> Build:
    """A builder: the valid workbook of these rows, then each edit in turn."""

    def build(path: Path) -> None:
        parts = parts_of(metrics, values)
        for edit in edits:
            edit(parts)
        path.write_bytes(zipped(parts))

    return build


def raw(content: bytes | Callable[[], bytes]) -> Build:
    """A builder of a file with exactly these bytes."""

    def build(path: Path) -> None:
        path.write_bytes(content() if callable(content) else content)

    return build


# --- Edits: cells ---------------------------------------------------------------------------

CELL_RE = re.compile(r'<c r="([A-Z]+)(\d+)"[^>]*?(?:/>|>.*?</c>)', re.S)


def _row_span(xml: str, row: int) -> re.Match[str] | None:
    return re.search(rf'<row r="{row}"[^>]*?(?:/>|>(.*?)</row>)', xml, re.S)


def set_cell(xml: str, ref: str, cell: str | None) -> str:
    """The sheet XML with the cell at `ref` replaced by raw XML (or removed, for None).

    The raw XML goes where the reference puts it in its row, whatever it says inside; cells
    already patched in odd forms are left where they are.
    """
    column, row = re.fullmatch(r"([A-Z]+)(\d+)", ref).groups()  # type: ignore[union-attr]
    found = _row_span(xml, int(row))
    if found is None:  # a new row, among the others in order
        new = f'<row r="{row}">{cell or ""}</row>'
        later = [m for m in re.finditer(r'<row r="(\d+)"', xml) if int(m.group(1)) > int(row)]
        where = later[0].start() if later else xml.index("</sheetData>")
        return xml[:where] + new + xml[where:]
    body, offset = found.group(1) or "", found.start(1) if found.group(1) is not None else -1
    if offset < 0:  # <row r="N"/>: give it a body
        return xml[: found.start()] + f'<row r="{row}">{cell or ""}</row>' + xml[found.end() :]
    for old in CELL_RE.finditer(body):
        if old.group(1) == column:
            start, end = offset + old.start(), offset + old.end()
            return xml[:start] + (cell or "") + xml[end:]
    target = column_index_from_string(column)
    later = [m for m in CELL_RE.finditer(body) if column_index_from_string(m.group(1)) > target]
    where = offset + (later[0].start() if later else len(body))
    return xml[:where] + (cell or "") + xml[where:]


def sheet_xml(change: Callable[[str], str], sheet: str = "Values") -> Edit:
    """An edit of one sheet's XML as text."""

    def edit(parts: Parts) -> None:
        parts[PART[sheet]] = change(parts[PART[sheet]].decode()).encode()

    return edit


def replaced(old: str, new: str, sheet: str = "Values") -> Edit:
    """An edit of the first `old` in a sheet's XML; the sheet must hold it."""

    def change(xml: str) -> str:
        assert old in xml, (sheet, old)
        return xml.replace(old, new, 1)

    return sheet_xml(change, sheet)


def cell(sheet: str, ref: str, xml: str | None) -> Edit:
    """Put raw XML at a cell; `{r}` in it stands for the reference."""
    return sheet_xml(
        lambda text: set_cell(text, ref, None if xml is None else xml.format(r=ref)), sheet
    )


def text(value: str) -> str:
    """An inline string cell, as raw XML with `{r}` for its reference."""
    return (
        '<c r="{r}" t="inlineStr"><is><t xml:space="preserve">'
        + _braces(escape(value))
        + "</t></is></c>"
    )


def number(value: str) -> str:
    """A number cell holding exactly this text in its <v>."""
    return '<c r="{r}"><v>' + _braces(value) + "</v></c>"


def typed(kind: str, value: str, style: int | None = None) -> str:
    """A cell of type t=kind (b, e, s, d, str, n) holding this text in its <v>."""
    styled = "" if style is None else f' s="{style}"'
    return '<c r="{r}"' + styled + f' t="{kind}"><v>' + _braces(value) + "</v></c>"


def formula(expression: str = "1+1") -> str:
    return '<c r="{r}"><f>' + _braces(escape(expression)) + "</f></c>"


def _braces(value: str) -> str:
    return value.replace("{", "{{").replace("}", "}}")


def replace_bytes(member: str, old: bytes, new: bytes, count: int = 1) -> Edit:
    def edit(parts: Parts) -> None:
        assert old in parts[member], (member, old)
        parts[member] = parts[member].replace(old, new, count)

    return edit


def member(name: str, change: Callable[[bytes], bytes]) -> Edit:
    def edit(parts: Parts) -> None:
        parts[name] = change(parts[name])

    return edit


def put(name: str, data: bytes) -> Edit:
    def edit(parts: Parts) -> None:
        parts[name] = data

    return edit


def drop(name: str) -> Edit:
    def edit(parts: Parts) -> None:
        del parts[name]

    return edit


def utf16(sheet: str = "Values") -> Edit:
    """Re-encode a sheet part as UTF-16, with its byte-order mark and declaration."""
    declaration = '<?xml version="1.0" encoding="UTF-16"?>'
    return member(PART[sheet], lambda data: (declaration + data.decode()).encode("utf-16"))


def dimension(ref: str | None, sheet: str = "Values") -> Edit:
    """Declare another size for the sheet, or none (None)."""
    tag = "" if ref is None else f'<dimension ref="{ref}" />'

    def change(xml: str) -> str:
        xml = re.sub(r"<dimension [^>]*/>", "", xml)
        return xml.replace("<sheetData", tag + "<sheetData", 1)

    return sheet_xml(change, sheet)


def rows_xml(rows: str, sheet: str = "Values") -> Edit:
    """Append raw <row> XML at the end of the sheet's data."""
    return replaced("</sheetData>", rows + "</sheetData>", sheet)


def shared_strings(xml: bytes) -> Edit:
    """Add a sharedStrings part (registered as openpyxl and Excel look for it)."""

    def edit(parts: Parts) -> None:
        parts[SHARED_STRINGS] = xml
        types = parts["[Content_Types].xml"]
        assert b"</Types>" in types and b"</Relationships>" in parts["xl/_rels/workbook.xml.rels"]
        override = (
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" />'
        )
        parts["[Content_Types].xml"] = types.replace(b"</Types>", override + b"</Types>")
        rels = "xl/_rels/workbook.xml.rels"
        relation = (
            b'<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            b'relationships/sharedStrings" Target="sharedStrings.xml" Id="rId99" />'
        )
        parts[rels] = parts[rels].replace(b"</Relationships>", relation + b"</Relationships>")

    return edit


def string_table(*strings: str) -> bytes:
    items = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in strings)
    count = len(strings)
    return f'<sst xmlns="{MAIN_NS}" count="{count}" uniqueCount="{count}">{items}</sst>'.encode()


# --- Edits: sheets --------------------------------------------------------------------------


def _workbook_xml(change: Callable[[str], str]) -> Edit:
    return member("xl/workbook.xml", lambda data: change(data.decode()).encode())


def rename_sheet(old: str, new: str) -> Edit:
    def change(xml: str) -> str:
        assert f'name="{old}"' in xml, old
        return xml.replace(f'name="{old}"', f'name="{escape(new)}"', 1)

    return _workbook_xml(change)


def _sheet_entry(name: str) -> str:
    """The <sheet .../> of workbook.xml with this name, however the attributes are written."""
    return rf'<sheet\b[^>]*?\bname="{re.escape(escape(name))}"[^>]*/>'


def sheet_last(name: str) -> Edit:
    """Move a sheet to the end of the workbook's sheet list."""

    def change(xml: str) -> str:
        entry = re.search(_sheet_entry(name), xml)
        assert entry is not None, name
        rest = xml[: entry.start()] + xml[entry.end() :]
        return rest.replace("</sheets>", entry.group(0) + "</sheets>")

    return _workbook_xml(change)


def remove_sheet(name: str) -> Edit:
    def change(xml: str) -> str:
        assert re.search(_sheet_entry(name), xml), name
        return re.sub(_sheet_entry(name), "", xml)

    return _workbook_xml(change)


def hide_sheet(name: str, state: str = "hidden") -> Edit:
    def change(xml: str) -> str:
        entry = re.search(_sheet_entry(name), xml)
        assert entry is not None and 'state="visible"' in entry.group(0), name
        hidden = entry.group(0).replace('state="visible"', f'state="{state}"')
        return xml[: entry.start()] + hidden + xml[entry.end() :]

    return _workbook_xml(change)


# --- Raw zips -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One zip member as stored: its bytes, method, CRC and the size its directory declares."""

    name: str
    data: bytes
    crc: int
    size: int
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0


def deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def entry(name: str, data: bytes, **overrides: Any) -> Entry:
    """An honest deflated member; overrides make it lie."""
    fields = {"data": deflated(data), "crc": zlib.crc32(data), "size": len(data), **overrides}
    return Entry(name, **fields)


def raw_zip(entries: Iterable[Entry]) -> bytes:
    """A zip written field by field, so that sizes, methods and flags can say anything."""
    out, directory, count = bytearray(), bytearray(), 0
    for item in entries:
        name, offset, count = item.name.encode(), len(out), count + 1
        out += struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50, 20, item.flags, item.method, 0, 0x21,
            item.crc, len(item.data), item.size, len(name), 0,
        )  # fmt: skip
        out += name + item.data
        directory += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50, 20, 20, item.flags, item.method, 0, 0x21,
            item.crc, len(item.data), item.size, len(name), 0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        directory += name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), len(out), 0)
    return bytes(out + directory + end)


def entries_of(parts: Parts) -> list[Entry]:
    return [entry(name, data) for name, data in parts.items()]


@cache
def zeros(size: int) -> tuple[bytes, int]:
    """A raw deflate stream of `size` zero bytes (a whole number of MiB), and its CRC-32.

    After a full flush each MiB compresses to the same bytes, so the stream is one block
    repeated; about 1 KiB per MiB.
    """
    chunk = bytes(MIB)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // MIB):
        crc = zlib.crc32(chunk, crc)
    return block * (size // MIB) + packer.flush(), crc


def with_entries(change: Callable[[list[Entry]], list[Entry]]) -> Build:
    """A builder: the valid workbook as raw entries, changed."""

    def build(path: Path) -> None:
        path.write_bytes(raw_zip(change(entries_of(parts_of()))))

    return build


def replace_entry(name: str, new: Callable[[Entry], Entry]) -> Build:
    return with_entries(lambda items: [new(e) if e.name == name else e for e in items])


# --- Big parts, cached ----------------------------------------------------------------------


@cache
def long_sheet(rows: int, sheet: str = "Values") -> bytes:
    """A sheet part: the header, then `rows` rows of a code and a period (Metrics: a code)."""
    header = "".join(
        f'<c r="{get_column_letter(i + 1)}1" t="inlineStr"><is><t>{name}</t></is></c>'
        for i, name in enumerate(HEADERS[sheet])
    )
    if sheet == "Values":
        body = (
            f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>HB01</t></is></c>'
            f'<c r="B{n}" t="inlineStr"><is><t>2015-04</t></is></c></row>'
            for n in range(2, rows + 2)
        )
    else:
        body = (
            f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>M{n}</t></is></c></row>'
            for n in range(2, rows + 2)
        )
    return (
        f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">{header}</row>'
        + "".join(body)
        + "</sheetData></worksheet>"
    ).encode()


@cache
def tiny_strings(count: int, declared: int) -> bytes:
    """A sharedStrings part of `count` one-letter strings that says it holds `declared`."""
    head = f'<sst xmlns="{MAIN_NS}" count="{declared}" uniqueCount="{declared}">'.encode()
    return head + b"<si><t>a</t></si>" * count + b"</sst>"


def with_dtd(name: str, doctype: bytes, old: bytes, new: bytes) -> Edit:
    """Put a DOCTYPE before the root element of a part, and use what it declares."""

    def edit(parts: Parts) -> None:
        assert old in parts[name], (name, old)
        parts[name] = doctype + parts[name].replace(old, new, 1)

    return edit


LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (n, b"&lol%d;" % (n - 1) * 10) for n in range(1, 10))
    + b"]>"
)  # &lol9; is 10**9 'lol's
QUADRATIC = b'<!DOCTYPE q [<!ENTITY a "' + b"a" * 50_000 + b'">]>'  # &a; 50,000 times: 2.5 GB
EXTERNAL = b'<!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
PARAMETER = b'<!DOCTYPE w [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'


# --- The import, in a child process ---------------------------------------------------------


def import_in_child(path: str, url: str, folder: str, limit: int) -> None:
    """`python -m metrics import path` in this forked process, its address space capped.

    Writes stdout, stderr and report.json (exit code, wall and CPU seconds, peak MiB) into
    `folder`; an exception is printed to stderr and raised, so that no report is written.
    """
    with open(Path(folder, "stdout"), "w") as out, open(Path(folder, "stderr"), "w") as err:
        sys.stdout, sys.stderr = out, err
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            os.environ["SCORECARD_DATABASE_URL"] = url
            from metrics import cli
            from metrics.config import settings

            settings.cache_clear()
            start, cpu = time.perf_counter(), time.process_time()
            code = cli.main(["import", path])
        except BaseException:
            traceback.print_exc()
            raise
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {"code": code, "seconds": seconds, "cpu_seconds": cpu, "peak_mib": peak}
    Path(folder, "report.json").write_text(json.dumps(report))
