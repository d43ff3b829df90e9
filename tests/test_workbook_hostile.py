"""Hostile workbooks (issue 6): each is refused naming its place, or imported whole.

Every case is a workbook built by tests/hostile_workbooks.py, imported through the command line
(`python -m metrics import FILE`) into a database that already holds a small council. For each:
exit 0 or 1, never a traceback; a refusal names the sheet and cell (or, for a file that is not
a workbook at all, the file or the part) and leaves every table byte for byte as it was; an
import holds every row of the workbook with the values it gives; the import ends within a
time bound. Bombs, floods and very long sheets run in a child process whose address space is
capped (MEMORY_LIMIT), so that running out of memory is a failure of the case, not of the run.
"""

from __future__ import annotations

import faulthandler
import gzip
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hostile_workbooks as hw
import pytest
from conftest import database_of_its_own, sampled
from hostile_workbooks import FILE_NAME, METRICS, VALUES, changed
from sqlalchemy import Engine, text
from sqlmodel import Session, SQLModel, select

from metrics import cli, store
from metrics.config import settings
from metrics.models import Initiative, Metric, PeriodValue, Priority, Service, Team
from metrics.workbook import export_workbook, import_workbook

# Bounds on the CPU time of the import call alone: the machine running the suite is shared, so
# wall time varies with its load; a hang that spends no CPU is caught by the limits below.
SECONDS = 5.0  # an import through the command line (a 150,000-row sheet is refused in about 2 s)
# A crafted sheet once hung the formula scan for minutes: it may take at most this many times
# the plain workbook's own import, measured in the same run (`plain_import_cpu`). Each takes
# two to three times it (its 40 KB are scanned); a hang takes hundreds. A bound of 1 s of CPU
# failed on a machine running at half its usual speed, where the plain import took 0.4-0.6 s.
CRAFTED_TIMES = 5.0
MEMORY_LIMIT = 3 * hw.GIB // 2  # the child's whole address space, libraries included
WATCHDOG_SECONDS = 120  # an import in this process that hangs ends the worker, named

POSTGRESQL = bool(os.environ.get("SCORECARD_TEST_DATABASE_URL"))
SENSITIVE = "OFFICIAL-SENSITIVE"

# --- Outcomes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """Exit 1; the message matches every pattern of `all_of` and, if given, one of `any_of`."""

    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()

    def missing(self, message: str) -> list[str]:
        absent = [p for p in self.all_of if not re.search(p, message)]
        if self.any_of and not any(re.search(p, message) for p in self.any_of):
            absent.append(" or ".join(self.any_of))
        return absent


@dataclass(frozen=True)
class Imports:
    """Exit 0; every row below is held with the values it gives (and `held` holds too)."""

    metrics: list[dict[str, Any]] = field(default_factory=lambda: METRICS)
    values: list[dict[str, Any]] = field(default_factory=lambda: VALUES)
    held: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> Metric attributes


@dataclass(frozen=True)
class Either:
    """Refused as `refused` says, or imported whole: for files no rule yet settles."""

    refused: Refused
    imports: Imports = field(default_factory=Imports)


def named(*places: str) -> Refused:
    """Refused, naming each of these cells, e.g. named("Values!C3")."""
    return Refused(all_of=tuple(re.escape(place) + r"(?![0-9])" for place in places))


def one_of(*places: str) -> Refused:
    """Refused, naming at least one of these cells."""
    return Refused(any_of=tuple(re.escape(place) + r"(?![0-9])" for place in places))


def in_row(sheet: str, *numbers: int) -> Refused:
    """Refused, naming a cell of (or the whole of) one of these rows of the sheet."""
    return Refused(
        any_of=tuple(
            pattern
            for n in numbers
            for pattern in (rf"{sheet}!\$?[A-Z]+\$?{n}(?![0-9])", rf"{sheet} row {n}(?![0-9])")
        )
    )


def header(sheet: str, column: str) -> Refused:
    """Refused, naming the header row of the sheet and the column."""
    return Refused(all_of=(rf"{sheet}(!\$?[A-Z]+\$?1(?![0-9])| row 1(?![0-9]))", re.escape(column)))


def file_level(*words: str) -> Refused:
    """Refused, naming the file or one of these (sheets, parts; patterns)."""
    return Refused(any_of=(re.escape(FILE_NAME), *words))


def sheets_named(*names: str) -> Refused:
    """Refused, naming every one of these sheets."""
    return Refused(all_of=tuple(re.escape(name) for name in names))


SHARED_STRINGS_MESSAGE = r"(?i)shared[ -]?strings?"


@dataclass(frozen=True)
class Case:
    id: str
    build: hw.Build
    expect: Refused | Imports | Either
    heavy: bool = False  # run in a child process under MEMORY_LIMIT
    seconds: float = SECONDS
    times_plain: float | None = None  # else the bound: this many plain imports' CPU time


def at(sheet: str, column: str, row: int) -> str:
    return f"{sheet}!{hw.at(sheet, column, row)}"


def put(sheet: str, column: str, row: int, xml: str | None) -> hw.Build:
    """The valid workbook with one cell replaced by raw XML ({r} is its reference)."""
    return hw.patched(hw.cell(sheet, hw.at(sheet, column, row), xml))


def values_with(row: int, cells: dict[str, Any]) -> Imports:
    return Imports(values=changed(VALUES, row, cells))


def metrics_with(row: int, cells: dict[str, Any]) -> Imports:
    return Imports(metrics=changed(METRICS, row, cells))


# --- Formulas in forms a scan of the raw XML can miss (defect 1) -----------------------------


def _parts(ref: str) -> tuple[str, str]:
    column, row = re.fullmatch(r"([A-Z]+)(\d+)", ref).groups()  # type: ignore[union-attr]
    return column, row


FORMS = {  # a formula at ref, written as a hostile file might write it
    "cached value before the formula": lambda r: f'<c r="{r}"><v>2</v><f>1+1</f></c>',
    "single-quoted r": lambda r: f"<c r='{r}'><f>1+1</f></c>",
    "no r attribute": lambda r: "<c><f>1+1</f></c>",  # placed by its position in the row
    "R in place of r": lambda r: f'<c R="{r}"><f>1+1</f></c>',  # not the r attribute
    "comment before the formula": lambda r: f'<c r="{r}"><!-- note --><f>1+1</f></c>',
    "processing instruction before the formula": lambda r: f'<c r="{r}"><?x y?><f>1+1</f></c>',
    "unknown element before the formula": (
        lambda r: f'<c r="{r}"><z:x xmlns:z="urn:z"/><f>1+1</f></c>'
    ),
    "character reference in r": lambda r: f'<c r="&#{ord(r[0])};{r[1:]}"><f>1+1</f></c>',
    "spaces around = in r": lambda r: f'<c r = "{r}"><f>1+1</f></c>',
    "lower-case r": lambda r: f'<c r="{r.lower()}"><f>1+1</f></c>',
    "dollars in r": lambda r: '<c r="${}${}"><f>1+1</f></c>'.format(*_parts(r)),
    "leading zero in r": lambda r: '<c r="{}0{}"><f>1+1</f></c>'.format(*_parts(r)),
    "newline before r": lambda r: f'<c\n r="{r}"><f>1+1</f></c>',
    "> in an attribute before r": (
        lambda r: f'<c xmlns:z="urn:z" z:n="a>b" r="{r}"><f>1+1</f></c>'
    ),
    "inline string before the formula": (
        lambda r: f'<c r="{r}" t="inlineStr"><is><t>2</t></is><f>1+1</f></c>'
    ),
    "error value before the formula": lambda r: f'<c r="{r}" t="e"><v>#DIV/0!</v><f>1/0</f></c>',
    "namespace prefix": lambda r: f'<x:c xmlns:x="{hw.MAIN_NS}" r="{r}"><x:f>1+1</x:f></x:c>',
    "shared formula without its master": lambda r: f'<c r="{r}"><f t="shared" si="0"/></c>',
    "array formula": lambda r: f'<c r="{r}"><f t="array" ref="{r}">SUM(1+1)</f></c>',
    "data table formula": (
        lambda r: f'<c r="{r}"><f t="dataTable" ref="{r}" dt2D="0" dtr="0" r1="A1"/></c>'
    ),
    "empty formula element": lambda r: f'<c r="{r}"><f/></c>',
    "formula in CDATA": lambda r: f'<c r="{r}"><f><![CDATA[1+1]]></f></c>',
}
FORMULA_CELLS = {  # a cell of each sheet with a filled neighbour on its left
    "Values": "C3",  # Actual of HB01 2015-05
    "Metrics": "B3",  # Title of CS01
}
SHARED_MASTER = '<c r="C2"><f t="shared" ref="C2:C3" si="0">F2+1</f></c>'

CASES = [
    Case(
        f"formula, {form}, in {sheet}",
        hw.patched(hw.cell(sheet, ref, write(ref))),
        named(f"{sheet}!{ref}"),
    )
    for sheet, ref in FORMULA_CELLS.items()
    for form, write in FORMS.items()
]
# Sheets other than Metrics and Values are never read (docs/template-workbook.md): a formula
# there, however written, neither stops the import nor slows it.
CASES += [
    Case(
        f"formula, {form}, in a sheet the import does not read",
        hw.patched(hw.cell("Instructions", "B3", write("B3"))),
        Imports(),
    )
    for form, write in FORMS.items()
]
CASES += [
    Case(
        "formula, shared with its master, in Values",
        hw.patched(
            hw.cell("Values", "C2", SHARED_MASTER),
            hw.cell("Values", "C3", '<c r="{r}"><f t="shared" si="0"/></c>'),
        ),
        named("Values!C2", "Values!C3"),
    ),
    # A formula in a sheet encoded as UTF-16: the bytes hold no '<f' for a scan to find.
    Case(
        "formula in a sheet encoded as UTF-16",
        hw.patched(
            hw.cell("Values", "C3", hw.formula()),
            hw.utf16(),
        ),
        named("Values!C3"),
    ),
    Case(
        "a clean sheet encoded as UTF-16 imports",
        hw.patched(hw.utf16()),
        Imports(),
    ),
    # A comment is not a cell: a formula written inside one is not in the workbook.
    Case(
        "a formula inside an XML comment is not a cell",
        hw.patched(hw.rows_xml('<!-- <row r="9"><c r="C9"><f>1+1</f></c></row> -->')),
        Imports(),
    ),
]

# --- Formulas in every column, in the header row, in unknown columns -------------------------

CASES += [
    Case(
        f"formula in Values {column}",
        put("Values", column, 3, hw.formula("2*3")),
        named(at("Values", column, 3)),
    )
    for column in hw.HEADERS["Values"]
]
CASES += [
    Case(
        f"formula in Metrics {column}",
        put("Metrics", column, 4, hw.formula('"x"')),
        named(at("Metrics", column, 4)),
    )
    for column in hw.HEADERS["Metrics"]
]
CASES += [
    Case(
        "formula as the Values Actual header",
        put("Values", "Actual", 1, hw.formula('"Actual"')),
        named("Values!C1"),
    ),
    Case(
        "formula as the Metrics Code header",
        put("Metrics", "Code", 1, hw.formula('"Code"')),
        named("Metrics!A1"),
    ),
    Case(
        "formula with a cached value as the Values Period header",
        put("Values", "Period", 1, '<c r="{r}" t="str"><v>Period</v><f>"Period"</f></c>'),
        named("Values!B1"),
    ),
    Case(
        "formula in an unknown Values column",
        hw.patched(hw.cell("Values", "K3", hw.formula())),
        named("Values!K3"),
    ),
    Case(
        "formula in an unknown Metrics column",
        hw.patched(hw.cell("Metrics", "Y4", hw.formula())),
        named("Metrics!Y4"),
    ),
    Case(
        "formula far right, at XFD3",
        hw.patched(hw.cell("Values", "XFD3", hw.formula())),
        named("Values!XFD3"),
    ),
]

# --- A crafted comment that once hung the formula scan (defect 2) ---------------------------

HANG = '<c r="A1" ' * 4000  # 40 KB of cell openings that never close
IN_COMMENT = f"<!--{HANG}-->"
CDATA_HANG = f'<c r="{{r}}" t="inlineStr"><is><t><![CDATA[{HANG}]]></t></is></c>'


def _after_sheet_data(xml: str, sheet: str = "Values") -> hw.Edit:
    return hw.replaced("<sheetData>", "<sheetData>" + xml, sheet)


CASES += [
    Case(
        f"crafted comment in {sheet}",
        hw.patched(_after_sheet_data(IN_COMMENT, sheet)),
        Imports(),
        heavy=True,
        times_plain=CRAFTED_TIMES,
    )
    for sheet in ("Values", "Metrics", "Instructions")
]
CASES += [
    Case(
        "crafted processing instruction in Values",
        hw.patched(_after_sheet_data(f"<?x {HANG}?>")),
        Imports(),
        heavy=True,
        times_plain=CRAFTED_TIMES,
    ),
    Case(
        "crafted CDATA text in a sheet the import does not read",
        hw.patched(hw.cell("Instructions", "B3", CDATA_HANG)),
        Imports(),
        heavy=True,
        times_plain=CRAFTED_TIMES,
    ),
    Case(
        "crafted CDATA text as a Values commentary",
        put("Values", "Commentary", 2, CDATA_HANG),
        named("Values!H2"),  # 40,000 characters: over the 4,000 limit
        heavy=True,
        times_plain=CRAFTED_TIMES,
    ),
]

# --- Sheets whose names fold to the same (defect 3) ----------------------------------------

CASES += [
    Case(
        "sheets Metrics and metrics",
        hw.patched(hw.rename_sheet("Instructions", "metrics")),
        sheets_named("Metrics", "metrics"),
    ),
    Case(
        "sheets Metrics and METRICS after it",
        hw.patched(hw.rename_sheet("Instructions", "METRICS"), hw.sheet_last("METRICS")),
        sheets_named("Metrics", "METRICS"),
    ),
    Case(
        "sheets Values and ' VALUES'",
        hw.patched(hw.rename_sheet("Instructions", " VALUES")),
        sheets_named("Values", "VALUES"),
    ),
    Case(
        "sheets Values and vALUES after it",
        hw.patched(hw.rename_sheet("Instructions", "vALUES"), hw.sheet_last("vALUES")),
        sheets_named("Values", "vALUES"),
    ),
    Case(
        "sheets Metrics and full-width Metrics",
        hw.patched(hw.rename_sheet("Instructions", "Ｍｅｔｒｉｃｓ")),
        sheets_named("Metrics", "Ｍｅｔｒｉｃｓ"),
    ),
    Case(
        "sheets Values and Values with a Roman numeral V",
        hw.patched(hw.rename_sheet("Instructions", "\u2164alues"), hw.sheet_last("\u2164alues")),
        sheets_named("Values", "\u2164alues"),
    ),
    # One sheet in another case and spacing is still that sheet.
    Case(
        "a lone ' METRICS ' sheet is the Metrics sheet",
        hw.patched(hw.rename_sheet("Metrics", " METRICS ")),
        Imports(),
    ),
    Case(
        "a lone values sheet is the Values sheet",
        hw.patched(hw.rename_sheet("Values", "values")),
        Imports(),
    ),
]

# --- Names in look-alike letters, or hiding characters (defect 9) ----------------------------

CYRILLIC_HOUSING = "\u041d\u043eusing"  # Cyrillic En and o: looks like Housing
GREEK_HOUSING = "\u0397\u03bfusing"  # Greek Eta and omicron

CASES += [
    Case(
        "service in Cyrillic look-alikes beside Housing",
        put("Metrics", "Service", 4, hw.text(CYRILLIC_HOUSING)),
        named("Metrics!G4"),
    ),
    Case(
        "service in Greek look-alikes beside Housing",
        put("Metrics", "Service", 4, hw.text(GREEK_HOUSING)),
        named("Metrics!G4"),
    ),
    Case(
        "service in Cyrillic look-alikes where only the database holds Housing",
        put("Metrics", "Service", 3, hw.text(CYRILLIC_HOUSING)),
        named("Metrics!G3"),
    ),
    Case(
        "priority with a Cyrillic o beside Homes for all",
        put("Metrics", "Priority", 4, hw.text("Homes f\u043er all")),
        named("Metrics!E4"),
    ),
    Case(
        "team with a Cyrillic e beside Lettings",
        hw.patched(
            hw.cell("Metrics", "G4", hw.text("Housing")),
            hw.cell("Metrics", "H4", hw.text("L\u0435ttings")),
        ),
        named("Metrics!H4"),
    ),
    Case(
        "initiative with a Cyrillic a beside Digital first",
        put("Metrics", "Initiative", 2, hw.text("Digit\u0430l first")),
        named("Metrics!F2"),
    ),
    Case(
        "a zero-width space inside a service name beside Housing",
        put("Metrics", "Service", 4, hw.text("Hou\u200bsing")),
        named("Metrics!G4"),
    ),
    Case(
        "a right-to-left override in a title",
        put("Metrics", "Title", 4, hw.text("Days to \u202eteler")),
        named("Metrics!B4"),
    ),
    Case(
        "a C1 control character (CSI) in a service name",
        put("Metrics", "Service", 4, hw.text("Customer\u009b Services")),
        named("Metrics!G4"),
    ),
    Case(
        "DEL in a title",
        put("Metrics", "Title", 4, hw.text("Days to\x7f relet")),
        named("Metrics!B4"),
    ),
    Case(
        "a tab in a title",
        put("Metrics", "Title", 4, hw.text("Days to\trelet")),
        named("Metrics!B4"),
    ),
    Case(
        "an accented Latin service name imports",
        put("Metrics", "Service", 4, hw.text("Café Services")),
        metrics_with(4, {"Service": "Café Services"}),
    ),
]

# --- Shared strings (defect 9) --------------------------------------------------------------

# The big parts are made when a case runs (and cached), not when the tests are collected.
CASES += [
    Case(
        "3.5 million tiny shared strings",
        hw.patched(lambda parts: hw.shared_strings(hw.tiny_strings(3_500_000, 3_500_000))(parts)),
        file_level(SHARED_STRINGS_MESSAGE),
        heavy=True,
    ),
    Case(
        "3.5 million tiny shared strings that say they are one",
        hw.patched(lambda parts: hw.shared_strings(hw.tiny_strings(3_500_000, 1))(parts)),
        file_level(SHARED_STRINGS_MESSAGE),
        heavy=True,
    ),
    Case(
        "shared strings used by the Values codes import",
        hw.patched(
            hw.shared_strings(hw.string_table("HB01", "CS01", "NEW01")),
            *(
                hw.cell("Values", f"A{n}", hw.typed("s", str(index)))
                for n, index in ((2, 0), (3, 0), (4, 1), (5, 2))
            ),
        ),
        Imports(),
    ),
    Case(
        "a shared string of a million characters as a commentary",
        hw.patched(
            hw.shared_strings(hw.string_table("x" * 1_000_000)),
            hw.cell("Values", "H2", hw.typed("s", "0")),
        ),
        named("Values!H2"),
    ),
    Case(
        "a shared-string index past the end",
        hw.patched(
            hw.shared_strings(hw.string_table("Two sites")),
            hw.cell("Values", "H2", hw.typed("s", "99")),
        ),
        named("Values!H2"),
    ),
    Case(
        "a shared-string index with no shared strings",
        put("Values", "Commentary", 2, hw.typed("s", "0")),
        named("Values!H2"),
    ),
    # Python reads index -1 as the last string: a cell must not borrow another's text.
    Case(
        "a negative shared-string index",
        hw.patched(
            hw.shared_strings(hw.string_table("Two sites", "borrowed")),
            hw.cell("Values", "H2", hw.typed("s", "-1")),
        ),
        named("Values!H2"),
    ),
    Case(
        "a shared-string index that is not a number",
        hw.patched(
            hw.shared_strings(hw.string_table("Two sites")),
            hw.cell("Values", "H2", hw.typed("s", "first")),
        ),
        named("Values!H2"),
    ),
    Case(
        "a control character in a shared string",
        hw.patched(
            hw.shared_strings(hw.string_table("Two sites").replace(b"Two", b"T&#1;wo")),
            hw.cell("Values", "H2", hw.typed("s", "0")),
        ),
        file_level(SHARED_STRINGS_MESSAGE, "Values"),
    ),
]

# --- The true count when the list of problems is capped (defect 9) ---------------------------

CASES += [
    Case(
        "2,812 bad cells are counted in full",
        hw.patched(
            metrics=METRICS[:1],
            values=[{"Code": "HB01", "Period": "2015-04", "Actual": "abc"}] * 2812,
        ),
        Refused(all_of=(r"Values!C2(?![0-9])", r"2,?812")),
    ),
]

# --- Blank Marking on a held OFFICIAL-SENSITIVE measure (defect 6) ----------------------------


def _exported_with_blank_marking(path: Path) -> None:
    """The base council as export writes it, with CS01's Marking cell blanked."""
    engine = store.make_engine(f"sqlite:///{path.parent / 'export.db'}")
    try:
        store.upgrade(engine)
        base = path.parent / "base.xlsx"
        hw.patched(metrics=hw.BASE_METRICS, values=hw.BASE_VALUES)(base)
        import_workbook(engine, base, actor="exporter")
        written = export_workbook(engine, path.parent / "export.xlsx", clearance=SENSITIVE)
    finally:
        engine.dispose()
    written.rename(path)
    marking = hw.letter("Metrics", "Marking")
    blank = hw.cell("Metrics", f"{marking}2", None)  # export orders by code: CS01 is row 2
    parts = hw.read_parts(path.read_bytes())
    assert SENSITIVE.encode() in parts[hw.PART["Metrics"]]
    blank(parts)
    path.write_bytes(hw.zipped(parts))


CASES += [
    Case(
        "blank Marking keeps OFFICIAL-SENSITIVE",
        _exported_with_blank_marking,
        Imports(
            metrics=[
                {k: v for k, v in m.items() if k != "Marking"}
                for m in sorted(hw.BASE_METRICS, key=lambda m: m["Code"])
            ],
            values=hw.BASE_VALUES,
            held={"CS01": {"marking": SENSITIVE}},
        ),
    ),
]

# --- Zip bombs and odd archives -------------------------------------------------------------


def _bomb_sheet(path: Path) -> None:
    """The Values part is 3 GiB of zeros, and the directory says so."""
    stream, crc = hw.zeros(3 * hw.GIB)
    hw.replace_entry(hw.PART["Values"], lambda e: hw.Entry(e.name, stream, crc, 3 * hw.GIB))(path)


def _runs_past_its_size(honest_crc: bool) -> hw.Build:
    """The Values part's stream goes on for 3 GiB of zeros past the size its directory gives."""

    def build(path: Path) -> None:
        xml = hw.parts_of()[hw.PART["Values"]]
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        head = packer.compress(xml) + packer.flush(zlib.Z_FULL_FLUSH)
        stream, _ = hw.zeros(3 * hw.GIB)
        size = len(xml) if honest_crc else 2048
        crc = zlib.crc32(xml[:size]) if honest_crc else zlib.crc32(xml)
        hw.replace_entry(hw.PART["Values"], lambda e: hw.Entry(e.name, head + stream, crc, size))(
            path
        )

    return build


def _many_bombs(path: Path) -> None:
    """3,000 members of 1 MiB of zeros each: 3 GiB in all, each member small."""
    stream, crc = hw.zeros(hw.MIB)
    extra = [hw.Entry(f"xl/media/zeros{n}.bin", stream, crc, hw.MIB) for n in range(3000)]
    hw.with_entries(lambda items: items + extra)(path)


def _many_members(path: Path) -> None:
    empty = hw.entry("x", b"")
    extra = [hw.Entry(f"customXml/item{n}.xml", empty.data, empty.crc, 0) for n in range(40_000)]
    hw.with_entries(lambda items: items + extra)(path)


def _nested_bomb(path: Path) -> None:
    """An embedded object that is a zip of a zip of 1 GiB of zeros; nothing should open it."""
    stream, crc = hw.zeros(hw.GIB)
    inner = hw.raw_zip([hw.Entry("zeros.bin", stream, crc, hw.GIB)])
    middle = hw.raw_zip([hw.entry("inner.zip", inner)])
    hw.with_entries(lambda items: [*items, hw.entry("xl/embeddings/oleObject1.bin", middle)])(path)


def _duplicate_values_part(path: Path) -> None:
    """Two members named as the Values part: one with a formula, one without."""
    hostile = hw.parts_of()
    hw.cell("Values", "C3", hw.formula())(hostile)
    first = hw.entry(hw.PART["Values"], hostile[hw.PART["Values"]])
    hw.with_entries(lambda items: [first, *items])(path)


def _local_name_differs(path: Path) -> None:
    hw.with_entries(lambda items: items)(path)
    data = path.read_bytes()
    local = data.index(hw.PART["Values"].encode())  # the first, in the local header
    name = hw.PART["Values"].encode().replace(b"sheet3", b"sheet9")
    path.write_bytes(data[:local] + name + data[local + len(name) :])


def _bad_crc(entry: hw.Entry) -> hw.Entry:
    return hw.Entry(entry.name, entry.data, entry.crc ^ 0xFFFF, entry.size)


def _method(method: int, flags: int = 0) -> hw.Build:
    return hw.replace_entry(
        hw.PART["Values"],
        lambda e: hw.Entry(e.name, e.data, e.crc, e.size, method=method, flags=flags),
    )


CASES += [
    Case("zip member of 3 GiB", _bomb_sheet, file_level(), heavy=True),
    Case(
        "zip member whose stream runs 3 GiB past its declared size",
        _runs_past_its_size(honest_crc=True),
        Either(file_level()),  # zipfile stops at the declared size: the rest is never inflated
        heavy=True,
    ),
    Case(
        "zip member that declares 2 KiB and inflates to 3 GiB",
        _runs_past_its_size(honest_crc=False),
        file_level(),
        heavy=True,
    ),
    Case("3,000 zip members of 1 MiB each", _many_bombs, file_level(), heavy=True),
    Case("40,000 empty zip members", _many_members, Either(file_level()), heavy=True),
    # An embedded object is never opened, so a bomb inside it costs nothing.
    Case("a nested zip bomb as an embedded object", _nested_bomb, Imports(), heavy=True),
    Case(
        "a Values part that is itself a zip",
        hw.patched(hw.put(hw.PART["Values"], hw.zipped(hw.parts_of()))),
        file_level("Values"),
    ),
    # zipfile raises NotImplementedError or RuntimeError for these, not BadZipFile.
    Case("a zip member compressed by an unknown method", _method(99), file_level()),
    Case("a zip member compressed by Deflate64", _method(9), file_level()),
    Case("an encrypted zip member", _method(8, flags=1), file_level()),
    Case("a zip member whose local name differs", _local_name_differs, file_level()),
    Case(
        "a zip member with a wrong CRC", hw.replace_entry(hw.PART["Values"], _bad_crc), file_level()
    ),
    # zipfile reads the last copy, another reader the first: neither may be chosen silently.
    Case("two zip members named as the Values part", _duplicate_values_part, file_level("Values")),
]

# --- XML entity bombs -----------------------------------------------------------------------

CASES += [
    Case(
        f"{name} in {where}",
        hw.patched(*edits),
        file_level("Values", SHARED_STRINGS_MESSAGE, r"(?i)entit"),
        heavy=True,
    )
    for name, where, edits in (
        (
            "billion laughs",
            "the Values sheet",
            [hw.with_dtd(hw.PART["Values"], hw.LAUGHS, b"<t>Two sites</t>", b"<t>&lol9;</t>")],
        ),
        (
            "billion laughs",
            "the shared strings",
            [
                hw.shared_strings(hw.string_table("lol")),
                hw.with_dtd(hw.SHARED_STRINGS, hw.LAUGHS, b">lol<", b">&lol9;<"),
            ],
        ),
        (
            "billion laughs",
            "workbook.xml",
            [hw.with_dtd("xl/workbook.xml", hw.LAUGHS, b'name="Instructions"', b'name="&lol9;"')],
        ),
        (
            "billion laughs",
            "[Content_Types].xml",
            [
                hw.with_dtd(
                    "[Content_Types].xml",
                    hw.LAUGHS,
                    b"</Types>",
                    b'<Default Extension="bin" ContentType="&lol9;" /></Types>',
                )
            ],
        ),
        (
            "billion laughs",
            "the core properties",
            [hw.with_dtd("docProps/core.xml", hw.LAUGHS, b">openpyxl<", b">&lol9;<")],
        ),
        (
            "billion laughs",
            "the styles",
            [
                hw.with_dtd(
                    "xl/styles.xml", hw.LAUGHS, b'formatCode="yyyy', b'formatCode="&lol9;yyyy'
                )
            ],
        ),
        (
            "quadratic blowup",
            "the Values sheet",
            [
                hw.with_dtd(
                    hw.PART["Values"],
                    hw.QUADRATIC,
                    b"<t>Two sites</t>",
                    b"<t>" + b"&a;" * 50_000 + b"</t>",
                )
            ],
        ),
        (
            "external entity",
            "the Values sheet",
            [hw.with_dtd(hw.PART["Values"], hw.EXTERNAL, b"<t>Two sites</t>", b"<t>&xxe;</t>")],
        ),
        (
            "external entity",
            "workbook.xml",
            [hw.with_dtd("xl/workbook.xml", hw.EXTERNAL, b'name="Instructions"', b'name="&xxe;"')],
        ),
        (
            "parameter entity",
            "the Values sheet",
            [hw.with_dtd(hw.PART["Values"], hw.PARAMETER, b"<sheetData>", b"<sheetData>")],
        ),
    )
]

# --- Truncated files and files that are not workbooks ---------------------------------------


def _truncated(cut: float | int) -> hw.Build:
    def content() -> bytes:
        data = hw.zipped(hw.parts_of())
        end = int(len(data) * cut) if isinstance(cut, float) else cut % len(data)
        return data[:end]

    return hw.raw(content)


def _directory(path: Path) -> None:
    path.mkdir()


def _fifo(path: Path) -> None:
    os.mkfifo(path)  # reading it would wait for ever


def _device(path: Path) -> None:
    path.symlink_to("/dev/zero")  # reading it would never end


def _without(*names: str) -> hw.Build:
    return hw.patched(*(hw.drop(name) for name in names))


CASES += [
    Case(f"truncated to {cut}", _truncated(cut), file_level())
    for cut in (1, 4, 30, 100, 0.25, 0.5, 0.75, 0.9, -100, -22, -1)
]
CASES += [
    Case("an empty file", hw.raw(b""), file_level()),
    Case("one byte", hw.raw(b"P"), file_level()),
    Case("a CSV file", hw.raw(b"Code,Period,Actual\nHB01,2015-04,12\n"), file_level()),
    Case(
        "an old .xls file", hw.raw(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4088)), file_level()
    ),
    Case(
        "a PDF file", hw.raw(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"), file_level()
    ),
    Case(
        "a gzipped workbook", hw.raw(lambda: gzip.compress(hw.zipped(hw.parts_of()))), file_level()
    ),
    Case("random bytes", hw.raw(random.Random(6).randbytes(8192)), file_level()),
    Case(
        "an HTML table", hw.raw(b"<html><table><tr><td>HB01</td></tr></table></html>"), file_level()
    ),
    Case("a zip without [Content_Types].xml", _without("[Content_Types].xml"), file_level()),
    Case(
        "a zip holding only [Content_Types].xml",
        hw.raw(lambda: hw.zipped({"[Content_Types].xml": hw.parts_of()["[Content_Types].xml"]})),
        file_level(),
    ),
    Case("a zip without workbook.xml", _without("xl/workbook.xml"), file_level()),
    Case("a zip without the Values part", _without(hw.PART["Values"]), file_level("Values")),
    Case(
        "a Values part that is not XML",
        hw.patched(hw.put(hw.PART["Values"], b"\x00\x01 not xml")),
        file_level("Values"),
    ),
    Case(
        "an empty Values part",
        hw.patched(hw.put(hw.PART["Values"], b"")),
        file_level("Values"),
    ),
    Case(
        "a Values part cut off mid-element",
        hw.patched(hw.member(hw.PART["Values"], lambda data: data[: len(data) // 2])),
        file_level("Values"),
    ),
    Case(
        "a sheet relationship pointing outside the package",
        hw.patched(
            hw.replace_bytes(
                "xl/_rels/workbook.xml.rels", b"/xl/worksheets/sheet3.xml", b"../../../etc/passwd"
            )
        ),
        file_level("Values"),
    ),
    Case("a folder named like a workbook", _directory, file_level()),
    Case("a named pipe", _fifo, file_level(), heavy=True),  # heavy: a hang is stopped
    Case("a link to /dev/zero", _device, file_level(), heavy=True),
]

# --- Declared sizes, far cells and long sheets ----------------------------------------------

FAR_CELL = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c></row>'

CASES += [
    Case(
        f"dimension A1:XFD1048576 on {sheet}",
        hw.patched(hw.dimension("A1:XFD1048576", sheet)),
        file_level(sheet),
    )
    for sheet in ("Values", "Metrics", "Instructions")
]
CASES += [
    Case("dimension A1:XFD1 on Values", hw.patched(hw.dimension("A1:XFD1")), Imports()),
    Case(
        "dimension of twenty-digit rows",
        hw.patched(hw.dimension("A1:J99999999999999999999")),
        file_level("Values"),
    ),
    Case(
        "dimension in lower case",
        hw.patched(hw.dimension("a1:xfd1048576")),
        Either(file_level("Values")),  # a declared size is only a hint: rows are counted
    ),
    Case(
        "one cell at XFD1048576, declared",
        hw.patched(hw.rows_xml(FAR_CELL), hw.dimension("A1:XFD1048576")),
        file_level("Values"),
        heavy=True,
    ),
    Case(
        "one cell at XFD1048576 in Values, undeclared",
        hw.patched(hw.rows_xml(FAR_CELL), hw.dimension(None)),
        file_level("Values"),
        heavy=True,
    ),
    Case(
        "one cell at XFD1048576 in Metrics, undeclared",
        hw.patched(hw.rows_xml(FAR_CELL, "Metrics"), hw.dimension(None, "Metrics")),
        file_level("Metrics"),
        heavy=True,
    ),
    Case(
        "150,000 Values rows, declared",
        hw.patched(
            lambda parts: parts.update({hw.PART["Values"]: hw.long_sheet(150_000)}),
            hw.dimension("A1:J150001"),
        ),
        file_level("Values"),
        heavy=True,
    ),
    Case(
        "150,000 Values rows, undeclared",
        hw.patched(lambda parts: parts.update({hw.PART["Values"]: hw.long_sheet(150_000)})),
        file_level("Values"),
        heavy=True,
    ),
    Case(
        "150,000 Metrics rows, declared as one",
        hw.patched(
            lambda parts: parts.update({hw.PART["Metrics"]: hw.long_sheet(150_000, "Metrics")}),
            hw.dimension("A1:X2", "Metrics"),
        ),
        file_level("Metrics"),
        heavy=True,
    ),
]

# --- Control characters and NUL -------------------------------------------------------------

CASES += [
    Case(
        f"character reference {reference} in a commentary",
        hw.patched(
            hw.replace_bytes(
                hw.PART["Values"], b"Two sites", b"Two" + reference.encode() + b"sites"
            )
        ),
        file_level("Values"),  # XML 1.0 forbids it: the sheet is not well-formed
    )
    for reference in (
        "&#0;",
        "&#1;",
        "&#8;",
        "&#11;",
        "&#27;",
        "&#31;",
        "&#xFFFE;",
        "&#xFFFF;",
        "&#xD800;",
    )
]
CASES += [
    Case(
        "character reference &#0; in a title",
        hw.patched(hw.replace_bytes(hw.PART["Metrics"], b"Homes built", b"Homes&#0;built")),
        file_level("Metrics"),
    ),
]
CASES += [
    Case(
        f"raw bytes {name} in a commentary",
        hw.patched(hw.replace_bytes(hw.PART["Values"], b"Two sites", b"Two" + raw + b"sites")),
        file_level("Values"),
    )
    for name, raw in (
        ("NUL", b"\x00"),
        ("SOH", b"\x01"),
        ("ESC", b"\x1b[31m"),
        ("0xFF", b"\xff"),
        ("overlong UTF-8", b"\xc0\xaf"),
        ("UTF-8 surrogate", b"\xed\xa0\x80"),
    )
]
CASES += [
    Case(
        f"character reference {reference} in a commentary imports",
        hw.patched(
            hw.replace_bytes(
                hw.PART["Values"], b"Two sites", b"Two" + reference.encode() + b"sites"
            )
        ),
        values_with(2, {"Commentary": f"Two{char}sites"}),
    )
    for reference, char in (("&#9;", "\t"), ("&#10;", "\n"), ("&#13;", "\r"))
]
CASES += [
    Case(
        "a zero-width space in a Values code",
        put("Values", "Code", 2, hw.text("HB\u200b01")),
        named("Values!A2"),
    ),
    Case(
        "a zero-width space in a Metrics code",
        put("Metrics", "Code", 4, hw.text("NEW\u200b01")),
        named("Metrics!A4"),
    ),
]

# --- NaN, infinity, huge and signed numbers -------------------------------------------------

REFUSED_NUMBERS = {  # written in a <v>, as Excel writes a number
    "NaN": "NaN",
    "nan": "nan",
    "inf": "inf",
    "-Infinity": "-Infinity",
    "1e309": "1e309",
    "-1e309": "-1e309",
    "1e308": "1e308",
    "a 30-digit integer": "123456789012345678901234567890",
    "a 5,000-digit integer": "9" * 5000,  # past Python's int-from-text limit
    "hex 0x10": "0x10",
    "1e15.5": "1e15.5",
}
REFUSED_TEXTS = [  # typed as text in a number column
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e308",
    "1e309",
    "1e400",
    "123456789012345678901234567890",
    "1,000",
    "-2+3",
    "12 apples",
]

CASES += [
    Case(
        f"number {label} in Actual",
        put("Values", "Actual", 3, hw.number(value)),
        named("Values!C3"),
    )
    for label, value in REFUSED_NUMBERS.items()
]
CASES += [
    Case(
        f"text {value!r} in Actual",
        put("Values", "Actual", 3, hw.text(value)),
        named("Values!C3"),
    )
    for value in REFUSED_TEXTS
]
CASES += [
    Case(
        f"number {raw!r} in Actual imports as {value:g}",
        put("Values", "Actual", 3, hw.number(raw)),
        values_with(3, {"Actual": value}),
    )
    for raw, value in (("-0", 0.0), ("-0.0", 0.0), ("1e15", 1e15), ("1E+2", 100.0))
]
CASES += [
    Case(
        f"text {raw!r} in Actual imports as {value:g}",
        put("Values", "Actual", 3, hw.text(raw)),
        values_with(3, {"Actual": value}),
    )
    for raw, value in (("-0", 0.0), ("+12", 12.0), ("1e15", 1e15))
]
CASES += [
    Case(
        f"{what} in Metrics {column}",
        put("Metrics", column, 2, xml),
        named(at("Metrics", column, 2)),
    )
    for what, column, xml in (
        ("number 1e309", "Baseline", hw.number("1e309")),
        ("text NaN", "Baseline", hw.text("NaN")),
        ("number NaN", "Baseline", hw.number("NaN")),
        ("number 1e308", "Decimals", hw.number("1e308")),
        ("text inf", "Risk impact", hw.text("inf")),
        ("a 30-digit number", "Definition version", hw.number("1" * 30)),
        ("text NaN%", "Tolerance", hw.text("NaN%")),
        ("number -1e309", "Tolerance", hw.number("-1e309")),
    )
]
CASES += [
    Case(
        "number -0 as a Baseline imports as 0",
        put("Metrics", "Baseline", 2, hw.number("-0")),
        metrics_with(2, {"Baseline": 0.0}),
    ),
]

# --- Far dates ------------------------------------------------------------------------------

DATE = hw.DATE_STYLE
CASES += [
    Case(
        f"{what} as a Period",
        put("Values", "Period", 3, xml),
        named("Values!B3"),
    )
    for what, xml in (
        ("ISO date 9999-12-31", hw.typed("d", "9999-12-31T00:00:00")),
        ("ISO date 10000-01-01", hw.typed("d", "10000-01-01T00:00:00")),
        ("ISO date 0001-01-01", hw.typed("d", "0001-01-01T00:00:00")),
        ("ISO date that is not one", hw.typed("d", "not a date")),
        ("serial 2958465 (9999-12-31)", hw.typed("n", "2958465", DATE)),
        ("serial 2958466", hw.typed("n", "2958466", DATE)),
        ("serial 1e12", hw.typed("n", "1e12", DATE)),
        ("serial -1", hw.typed("n", "-1", DATE)),
        ("serial 0", hw.typed("n", "0", DATE)),
        ("serial NaN", hw.typed("n", "NaN", DATE)),
        ("text 9999-12", hw.text("9999-12")),
        ("text 1899-12", hw.text("1899-12")),
        ("text 2015-13", hw.text("2015-13")),
    )
]
CASES += [
    Case(
        "ISO date 2015-05-15 as a Period imports as 2015-05",
        put("Values", "Period", 3, hw.typed("d", "2015-05-15T00:00:00")),
        Imports(),
    ),
    Case(
        "serial 42139 (2015-05-15) as a Period imports as 2015-05",
        put("Values", "Period", 3, hw.typed("n", "42139", DATE)),
        Imports(),
    ),
]
CASES += [
    Case(
        f"{what} as {column}",
        put("Metrics", column, 2, xml),
        named(at("Metrics", column, 2)),
    )
    for what, column, xml in (
        ("ISO date 9999-12-31", "Active from", hw.typed("d", "9999-12-31T00:00:00")),
        ("serial 2958466", "Active from", hw.typed("n", "2958466", DATE)),
        ("serial -1", "Active from", hw.typed("n", "-1", DATE)),
        ("text 9999-04", "Active from", hw.text("9999-04")),
        ("serial 2958465 (9999-12-31)", "Active to", hw.typed("n", "2958465", DATE)),
    )
]
CASES += [
    Case(
        "serial 1 (1900-01-01) as Active from imports as 1900-01",
        put("Metrics", "Active from", 2, hw.typed("n", "1", DATE)),
        metrics_with(2, {"Active from": "1900-01"}),
    ),
]

# --- Text that looks like a formula ---------------------------------------------------------

CASES += [
    Case(
        f"text {value!r} as a commentary imports as typed",
        put("Values", "Commentary", 2, hw.text(value)),
        values_with(2, {"Commentary": stored}),
    )
    for value, stored in (
        ("+SUM(A1)", "+SUM(A1)"),
        ("@x", "@x"),
        ("-2+3", "-2+3"),
        ("'=1+1", "=1+1"),  # as export writes =1+1: the apostrophe comes off
        ("\t=1+1", "\t=1+1"),
    )
]
CASES += [
    Case(
        "text '=1+1' as a commentary is a formula",
        put("Values", "Commentary", 2, hw.text("=1+1")),
        named("Values!H2"),
    ),
    Case(
        "text '=HYPERLINK(...)' as a title is a formula",
        put("Metrics", "Title", 4, hw.text('=HYPERLINK("http://x","y")')),
        named("Metrics!B4"),
    ),
    Case(
        "text '=cmd|...' as a service is a formula",
        put("Metrics", "Service", 4, hw.text("=cmd|' /C calc'!A0")),
        named("Metrics!G4"),
    ),
    Case(
        "text '@SUM(1)' as a title imports as typed",
        put("Metrics", "Title", 4, hw.text("@SUM(1)")),
        metrics_with(4, {"Title": "@SUM(1)"}),
    ),
]

# --- Booleans and errors where numbers belong -----------------------------------------------

CASES += [
    Case(
        f"{what} in Values {column}",
        put("Values", column, 3, xml),
        named(at("Values", column, 3)),
    )
    for what, column, xml in (
        ("boolean TRUE", "Actual", hw.typed("b", "1")),
        ("boolean that is not 0 or 1", "Actual", hw.typed("b", "x")),
        ("error #DIV/0!", "Actual", hw.typed("e", "#DIV/0!")),
        ("error #N/A", "Period", hw.typed("e", "#N/A")),
        ("boolean TRUE", "Code", hw.typed("b", "1")),
        ("error #REF!", "Target", hw.typed("e", "#REF!")),
        ("boolean FALSE", "Denominator", hw.typed("b", "0")),
    )
]
CASES += [
    Case(
        f"{what} in Metrics {column}",
        put("Metrics", column, 2, xml),
        named(at("Metrics", column, 2)),
    )
    for what, column, xml in (
        ("boolean TRUE", "Decimals", hw.typed("b", "1")),
        ("error #NAME?", "Tier", hw.typed("e", "#NAME?")),
    )
]
CASES += [
    Case(
        "boolean TRUE as Data only imports as yes",
        put("Metrics", "Data only", 2, hw.typed("b", "1")),
        metrics_with(2, {"Data only": "yes"}),
    ),
]

# --- Text over every length limit -----------------------------------------------------------

CASES += [
    Case(
        f"{length:,} characters in Metrics {column}",
        put("Metrics", column, 4, hw.text("N" * length)),
        named(at("Metrics", column, 4)),
    )
    for column, length in (
        ("Code", 41),
        ("Title", 301),
        ("Definition", 4001),
        ("Priority", 201),
        ("Initiative", 201),
        ("Service", 201),
        ("Team", 201),
        ("Aligned to", 41),
        ("Responsible officer", 201),
        ("Data source", 501),
        ("Title", 40_000),
    )
]
CASES += [
    Case(
        f"{length:,} characters in Values {column}",
        put("Values", column, row, hw.text("N" * length)),
        named(at("Values", column, row)),
    )
    for column, row, length in (
        ("Code", 5, 41),
        ("Period", 3, 10_000),
        ("Commentary", 2, 4001),
        ("Corrective action", 3, 4001),
        ("Commentary", 2, 32_768),
        ("Commentary", 2, 1_000_000),
    )
]
CASES += [
    Case(
        "a title of exactly 300 characters imports",
        put("Metrics", "Title", 4, hw.text("T" * 300)),
        metrics_with(4, {"Title": "T" * 300}),
    ),
    Case(
        "a commentary of exactly 4,000 characters imports",
        put("Values", "Commentary", 2, hw.text("C" * 4000)),
        values_with(2, {"Commentary": "C" * 4000}),
    ),
]

# --- Rows repeated in one file --------------------------------------------------------------

CASES += [
    Case(
        "a Metrics code twice",
        hw.patched(metrics=[*METRICS, METRICS[0]]),
        named("Metrics!A5"),
    ),
    Case(
        "a Metrics code twice in another case",
        hw.patched(metrics=[*METRICS, {**METRICS[0], "Code": "hb01"}]),
        named("Metrics!A5"),
    ),
    Case(
        "a Values row twice",
        hw.patched(values=[*VALUES, VALUES[1]]),
        in_row("Values", 6),
    ),
    Case(
        "a Values period twice in two spellings",
        hw.patched(values=[*VALUES, {**VALUES[3], "Period": "2015-16;Q1", "Actual": 3}]),
        in_row("Values", 6),
    ),
    Case(
        "a Values code twice in another case",
        hw.patched(values=[*VALUES, {**VALUES[0], "Code": "hb01"}]),
        in_row("Values", 6),
    ),
]

# --- Rows and cells out of place in the XML -------------------------------------------------

ROW_3 = (
    '<row r="3"><c r="A3" t="inlineStr"><is><t>HB01</t></is></c>'
    '<c r="B3" t="inlineStr"><is><t>2015-05</t></is></c><c r="C3"><v>99</v></c></row>'
)


def _swap_rows_4_and_5(xml: str) -> str:
    four = re.search(r'<row r="4">.*?</row>', xml).group(0)  # type: ignore[union-attr]
    five = re.search(r'<row r="5">.*?</row>', xml).group(0)  # type: ignore[union-attr]
    return xml.replace(four, "\0").replace(five, four).replace("\0", five)


def _row_attribute(old: str, new: str) -> hw.Edit:
    return hw.replaced(f'<row r="{old}">', new)


# openpyxl's read-only rows skip a row number already passed and file a cell by its column
# alone: each of these once lost or moved a value without a word.
CASES += [
    Case(
        "row 3 twice",
        hw.patched(hw.replaced('<row r="4">', ROW_3 + '<row r="4">')),
        in_row("Values", 3),
    ),
    Case(
        "row 5 before row 4",
        hw.patched(hw.sheet_xml(_swap_rows_4_and_5)),
        Either(in_row("Values", 4, 5)),
    ),
    Case(
        "cell C3 twice",
        hw.patched(hw.cell("Values", "C3", '<c r="C3"><v>9</v></c><c r="C3"><v>99</v></c>')),
        named("Values!C3"),
    ),
    Case(
        "cell C7 inside row 3",
        hw.patched(hw.cell("Values", "C3", '<c r="C7"><v>9</v></c>')),
        Refused(any_of=(r"Values!C7(?![0-9])", *in_row("Values", 3).any_of)),
    ),
    Case(
        "cell C3 inside row 2 as well",
        hw.patched(hw.cell("Values", "D2", '<c r="C3"><v>99</v></c>')),
        Refused(any_of=(r"Values!C3(?![0-9])", *in_row("Values", 2).any_of)),
    ),
    Case(
        "cells of row 3 out of order",
        hw.patched(
            hw.replaced(
                '<c r="C3" t="n"><v>9</v></c><c r="F3" t="n"><v>10</v></c>',
                '<c r="F3" t="n"><v>10</v></c><c r="C3" t="n"><v>9</v></c>',
            )
        ),
        Either(in_row("Values", 3)),
    ),
    Case("a row without r", hw.patched(_row_attribute("3", "<row>")), Imports()),
    Case("row 0", hw.patched(_row_attribute("3", '<row r="0">')), file_level("Values")),
    Case("row -1", hw.patched(_row_attribute("3", '<row r="-1">')), file_level("Values")),
    Case("row abc", hw.patched(_row_attribute("3", '<row r="abc">')), file_level("Values")),
    Case(
        "row 1048577, past the last",
        hw.patched(_row_attribute("5", '<row r="1048577">')),
        file_level("Values"),
    ),
    Case(
        "cell C0",
        hw.patched(hw.cell("Values", "C3", '<c r="C0"><v>9</v></c>')),
        file_level("Values"),
    ),
    Case(
        "cell XFE3, past the last column",
        hw.patched(hw.cell("Values", "D3", '<c r="XFE3"><v>9</v></c>')),
        Either(file_level("Values")),  # refused as out of the sheet, or ignored as far right
    ),
]

# --- Rows the vocabulary or the database refuse ---------------------------------------------

CASES += [
    Case(
        f"{what} in Values {column}",
        put("Values", column, row_number, xml),
        named(at("Values", column, row_number)),
    )
    for what, column, row_number, xml in (
        ("an unknown code", "Code", 3, hw.text("ZZ99")),
        ("a quarter for a monthly measure", "Period", 3, hw.text("2015-16 Q1")),
        ("a month for a quarterly measure", "Period", 5, hw.text("2015-04")),
        ("a quarter Q5", "Period", 5, hw.text("2015-16 Q5")),
        ("a blank period", "Period", 3, None),
        ("a blank code", "Code", 3, None),
        ("a percent over 100", "Actual", 4, hw.number("100.0001")),
        ("a negative percent", "Actual", 4, hw.number("-0.5")),
        ("a negative count", "Actual", 3, hw.number("-1")),
        ("a count that is not whole", "Actual", 3, hw.number("9.5")),
        ("an upper target below the target", "Target upper", 4, hw.number("70")),
        ("an unknown approval", "Approval", 3, hw.text("approve")),
    )
]
CASES += [
    Case(
        "a denominator of 0",
        hw.patched(
            hw.cell("Values", "D3", hw.number("1")), hw.cell("Values", "E3", hw.number("0"))
        ),
        named("Values!E3"),
    ),
    Case(
        "a negative numerator",
        hw.patched(
            hw.cell("Values", "D3", hw.number("-1")), hw.cell("Values", "E3", hw.number("2"))
        ),
        named("Values!D3"),
    ),
    # Refused inside the write: the rows written before it must be rolled back.
    Case(
        "approving a value changed in the same upload",
        put("Values", "Approval", 2, hw.text("approved")),
        Refused(any_of=(r"Values!J2(?![0-9])", r"Values row 2 \(Approval\)")),
    ),
]
CASES += [
    Case(
        f"{what} in Metrics {column}",
        put("Metrics", column, row_number, xml),
        named(at("Metrics", column, row_number)),
    )
    for what, column, row_number, xml in (
        ("an unknown tier", "Tier", 2, hw.text("Corporate")),
        ("an unknown unit", "Unit", 4, hw.text("percentage")),
        ("an unknown polarity", "Polarity", 2, hw.text("up")),
        ("an unknown frequency", "Frequency", 4, hw.text("weekly")),
        ("an unknown aggregation", "Aggregation", 2, hw.text("median")),
        ("an unknown marking", "Marking", 2, hw.text("SECRET")),
        ("a data-only that is not yes or no", "Data only", 2, hw.text("maybe")),
        ("decimals of 11", "Decimals", 2, hw.number("11")),
        ("a risk impact of 4", "Risk impact", 2, hw.number("4")),
        ("a definition version of 0", "Definition version", 2, hw.number("0")),
        ("a negative tolerance", "Tolerance", 2, hw.number("-1")),
        ("an unknown Aligned to", "Aligned to", 4, hw.text("ZZ99")),
        ("alignment to itself", "Aligned to", 4, hw.text("NEW01")),
        ("a code with a space", "Code", 4, hw.text("NEW 01")),
        ("a blank title", "Title", 3, None),
        ("a held measure's new frequency", "Frequency", 2, hw.text("quarterly")),
        ("a held percent made a number", "Unit", 3, hw.text("number")),
        ("a team without its service", "Team", 2, hw.text("Lettings")),
    )
]
CASES += [
    Case(
        "Active to before Active from",
        hw.patched(
            hw.cell("Metrics", "V4", hw.text("2016-04")),
            hw.cell("Metrics", "W4", hw.text("2015-04")),
        ),
        named("Metrics!W4"),
    ),
]

# --- Headers and sheets ---------------------------------------------------------------------

CASES += [
    Case(
        f"the required header {column} missing from {sheet}",
        put(sheet, column, 1, None),
        header(sheet, column),
    )
    for sheet in ("Metrics", "Values")
    for column in hw.REQUIRED[sheet]
]
CASES += [
    Case(
        "the Actual header twice",
        hw.patched(hw.cell("Values", "K1", hw.text("Actual"))),
        one_of("Values!C1", "Values!K1"),
    ),
    Case(
        "the Commentary header twice in another case",
        hw.patched(hw.cell("Values", "K1", hw.text(" COMMENTARY "))),
        one_of("Values!H1", "Values!K1"),
    ),
    Case(
        "the Tier header twice",
        hw.patched(hw.cell("Metrics", "Y1", hw.text("tier"))),
        one_of("Metrics!D1", "Metrics!Y1"),
    ),
    Case(
        "an unknown header twice is ignored",
        hw.patched(
            hw.cell("Values", "K1", hw.text("Notes")), hw.cell("Values", "L1", hw.text("Notes"))
        ),
        Imports(),
    ),
    Case("no Values sheet", hw.patched(hw.remove_sheet("Values")), sheets_named("Values")),
    Case("no Metrics sheet", hw.patched(hw.remove_sheet("Metrics")), sheets_named("Metrics")),
    Case(
        "neither sheet",
        hw.patched(hw.remove_sheet("Metrics"), hw.remove_sheet("Values")),
        sheets_named("Metrics", "Values"),
    ),
    Case(
        "a sheet named Value",
        hw.patched(hw.rename_sheet("Values", "Value")),
        sheets_named("Values"),
    ),
    Case(
        "an empty Values sheet",
        hw.patched(
            hw.sheet_xml(
                lambda xml: re.sub(
                    r"<sheetData>.*</sheetData>", "<sheetData></sheetData>", xml, flags=re.S
                )
            )
        ),
        sheets_named("Values"),
    ),
    Case(
        "the Values header on row 2",
        hw.patched(
            hw.sheet_xml(
                lambda xml: re.sub(
                    r' r="([A-Z]*)(\d+)"', lambda m: f' r="{m[1]}{int(m[2]) + 1}"', xml
                )
            )
        ),
        sheets_named("Values"),
    ),
    Case("a hidden Values sheet", hw.patched(hw.hide_sheet("Values")), Imports()),
    Case(
        "a very hidden Metrics sheet", hw.patched(hw.hide_sheet("Metrics", "veryHidden")), Imports()
    ),
    Case("the valid workbook imports", hw.patched(), Imports()),
]

# --- The test -------------------------------------------------------------------------------


@dataclass
class Run:
    code: Any
    out: str
    err: str
    seconds: float  # wall time of the import call
    cpu_seconds: float  # CPU time of the import call: what the bound is on
    peak_mib: float | None = None


@pytest.fixture(scope="session")
def base_council(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workbook of the council every case starts from."""
    path = tmp_path_factory.mktemp("base") / "base.xlsx"
    hw.patched(metrics=hw.BASE_METRICS, values=hw.BASE_VALUES)(path)
    return path


@pytest.fixture(scope="session")
def council_file(base_council: Path) -> Path | None:
    """On SQLite, a database file holding the council, built once and copied for each case."""
    if POSTGRESQL:
        return None
    path = base_council.parent / "council.db"
    engine = store.make_engine(f"sqlite:///{path}")
    try:
        store.upgrade(engine)
        import_workbook(engine, base_council, actor="base")
        with engine.begin() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    finally:
        engine.dispose()
    return path


@pytest.fixture
def council(
    request: pytest.FixtureRequest, base_council: Path, council_file: Path | None, tmp_path: Path
) -> Iterator[Engine]:
    """A database holding the council: a copy of the one file (SQLite), or imported afresh into
    the test's own schema (PostgreSQL, through conftest's `engine`)."""
    if council_file is None:
        engine = request.getfixturevalue("engine")
        import_workbook(engine, base_council, actor="base")
        yield engine
        return
    copy = tmp_path / "council.db"
    shutil.copyfile(council_file, copy)
    engine = store.make_engine(f"sqlite:///{copy}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def plain_import_cpu(
    base_council: Path, tmp_path_factory: pytest.TempPathFactory, _empty_sqlite: Path
) -> Iterator[float]:
    """The CPU time of importing the council's own workbook again, apart, as a heavy case is
    imported (the least of two), into the same kind of database as the cases: the floor the
    crafted cases' bounds are ratios to. (On PostgreSQL the client does more of an import's
    work than on SQLite: a crafted case there took 5.7 times a floor measured on SQLite.)"""
    folder = tmp_path_factory.mktemp("plain")
    database = database_of_its_own(folder, _empty_sqlite)
    engine = next(database)
    try:
        import_workbook(engine, base_council, actor="base")
        path = folder / FILE_NAME
        shutil.copy(base_council, path)
        url = engine.url.render_as_string(hide_password=False)
        runs = [run_apart(path, url, SECONDS) for _ in range(2)]
        assert all(run.code == 0 for run in runs), [run.err for run in runs]
        yield min(run.cpu_seconds for run in runs)
    finally:
        next(database, None)  # removes the database


@pytest.fixture(scope="session")
def heavy_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the big files are built, once a session."""
    return tmp_path_factory.mktemp("heavy")


def dump(engine: Engine) -> dict[str, str]:
    """Every row of every table, ordered, as text."""
    with engine.connect() as connection:
        tables = {
            table.name: repr(connection.execute(table.select().order_by(*table.columns)).all())
            for table in SQLModel.metadata.sorted_tables
        }
        version = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return {**tables, "alembic_version": repr(version)}


def run_here(path: Path, url: str, monkeypatch: pytest.MonkeyPatch, capsys) -> Run:  # type: ignore[no-untyped-def]
    """`python -m metrics import FILE`, in this process."""
    monkeypatch.setenv("SCORECARD_DATABASE_URL", url)
    settings.cache_clear()
    capsys.readouterr()
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True, file=sys.__stderr__)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        code = cli.main(["import", str(path)])
    except Exception as error:  # an uncaught exception fails the case, whatever it is
        pytest.fail(f"the import raised {type(error).__name__}: {error}")
    finally:
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        faulthandler.cancel_dump_traceback_later()
        settings.cache_clear()
    out, err = capsys.readouterr()
    return Run(code, out, err, seconds, cpu)


def run_apart(path: Path, url: str, seconds: float) -> Run:
    """The same command in a child process with its address space capped at MEMORY_LIMIT.

    The child is forked from a server that has already imported the app, so it starts at once.
    """
    context = multiprocessing.get_context("forkserver")
    # metrics.views too: an import ends by rating the dashboard's months (`views.rate_ahead`),
    # and loading the rating's modules is not the import's work
    context.set_forkserver_preload(["metrics.cli", "metrics.views", "hostile_workbooks"])
    folder = path.parent / "child"
    folder.mkdir(exist_ok=True)
    for name in ("stdout", "stderr", "report.json"):
        (folder / name).unlink(missing_ok=True)
    child = context.Process(
        target=hw.import_in_child, args=(str(path), url, str(folder), MEMORY_LIMIT)
    )
    child.start()
    limit = 6 * seconds + 10  # wall time, with room for a loaded machine: beyond it, a hang
    child.join(timeout=limit)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"the import did not finish within {limit:.0f} s")
    if not (folder / "stderr").exists():  # it died before its first line: forking went wrong
        pytest.fail(f"the child process died before it began (exit {child.exitcode})")
    out, err = ((folder / name).read_text(errors="replace") for name in ("stdout", "stderr"))
    report = folder / "report.json"
    if not report.exists():
        pytest.fail(f"the import died (exit {child.exitcode}):\n{err[-4000:]}")
    result = json.loads(report.read_text())
    return Run(
        result["code"], out, err, result["seconds"], result["cpu_seconds"], result["peak_mib"]
    )


# Metric attributes by column; links and Aligned to are compared by name and code.
METRIC_ATTRIBUTES = {
    "Code": "code",
    "Title": "title",
    "Definition": "definition",
    "Tier": "tier",
    "Unit": "unit",
    "Decimals": "decimals",
    "Polarity": "polarity",
    "Frequency": "frequency",
    "Aggregation": "aggregation",
    "Risk impact": "risk_impact",
    "Marking": "marking",
    "Responsible officer": "responsible_officer",
    "Responsible e-mail": "responsible_email",
    "Data source": "data_source",
    "Baseline": "baseline",
    "Active from": "active_from",
    "Active to": "active_to",
    "Definition version": "definition_version",
}
LINKS = {"Priority": Priority, "Initiative": Initiative, "Service": Service, "Team": Team}
VALUE_ATTRIBUTES = {
    "Actual": "actual",
    "Numerator": "numerator",
    "Denominator": "denominator",
    "Target": "target",
    "Target upper": "target_upper",
    "Commentary": "commentary",
    "Corrective action": "corrective_action",
    "Approval": "status",
}


def _same(held: Any, given: Any) -> bool:
    if isinstance(given, int | float) and not isinstance(given, bool):
        return held is not None and math.isclose(float(held), float(given), rel_tol=1e-12)
    return held == given


def held_rows(engine: Engine, expected: Imports) -> list[str]:
    """What of the expected rows the database does not hold as given: one line each."""
    with Session(engine) as session:
        held = {m.code.casefold(): m for m in session.exec(select(Metric)).all()}
        names = {
            column: {row.id: row.name for row in session.exec(select(model)).all()}
            for column, model in LINKS.items()
        }
        codes = {m.id: m.code for m in held.values()}
        values = {
            (codes[v.metric_id].casefold(), v.period): v
            for v in session.exec(select(PeriodValue)).all()
        }
    wrong: list[str] = []
    for number, row in enumerate(expected.metrics, start=2):
        metric = held.get(str(row["Code"]).casefold())
        if metric is None:
            wrong.append(f"Metrics row {number}: {row['Code']} is not held")
            continue
        for column, given in row.items():
            if column in LINKS:
                value = names[column].get(getattr(metric, f"{column.lower()}_id"))
            elif column == "Aligned to":
                value = codes.get(metric.aligned_to_id)
            elif column == "Data only":
                value, given = metric.data_only, given == "yes"
            else:
                value = getattr(metric, METRIC_ATTRIBUTES[column])
            if not _same(value, given):
                wrong.append(f"Metrics row {number} ({column}): held {value!r}, given {given!r}")
    for number, row in enumerate(expected.values, start=2):
        value_row = values.get((str(row["Code"]).casefold(), row["Period"]))
        if value_row is None:
            wrong.append(f"Values row {number}: {row['Code']} {row['Period']} is not held")
            continue
        for column, given in row.items():
            if column in VALUE_ATTRIBUTES:
                value = getattr(value_row, VALUE_ATTRIBUTES[column])
                if not _same(value, given):
                    wrong.append(f"Values row {number} ({column}): held {value!r}, given {given!r}")
    for code, attributes in expected.held.items():
        for attribute, given in attributes.items():
            value = getattr(held[code.casefold()], attribute)
            if not _same(value, given):
                wrong.append(f"{code}.{attribute}: held {value!r}, should be {given!r}")
    return wrong


def _changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return [name for name in before if before[name] != after.get(name)]


# One in eight everyday, spread over every kind of case; all of them in `make faults`.
@pytest.mark.parametrize("case", sampled(CASES, 8, ids=[case.id for case in CASES]))
def test_a_hostile_workbook_is_refused_naming_its_place_or_imported_whole(
    case: Case,
    council: Engine,
    heavy_folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> None:
    engine = council
    folder = heavy_folder / re.sub(r"\W+", "-", case.id) if case.heavy else tmp_path / "case"
    folder.mkdir(exist_ok=True)
    path = folder / FILE_NAME
    if not path.exists() and not path.is_symlink():
        case.build(path)
    url = engine.url.render_as_string(hide_password=False)
    before = dump(engine)
    if case.heavy:
        run = run_apart(path, url, case.seconds)
    else:
        run = run_here(path, url, monkeypatch, capsys)
    after = dump(engine)

    assert run.code in (0, 1), f"exit {run.code!r}\n{run.err}"
    assert "Traceback" not in run.err, run.err
    expected = case.expect
    if isinstance(expected, Either):
        expected = expected.imports if run.code == 0 else expected.refused
    if isinstance(expected, Refused):
        assert run.code == 1, f"imported, but should be refused: {run.out}"
        assert run.err.startswith("error: "), run.err
        missing = expected.missing(run.err)
        assert not missing, f"the message does not name {missing}:\n{run.err[:3000]}"
        assert after == before, f"refused, but changed {_changed_tables(before, after)}"
    else:
        assert run.code == 0, f"refused, but should import:\n{run.err[:3000]}"
        assert run.out.startswith("Imported "), run.out
        wrong = held_rows(engine, expected)
        assert not wrong, "dropped or changed:\n" + "\n".join(wrong)
    peak = f", peak {run.peak_mib:.0f} MiB" if run.peak_mib else ""
    took = f"the import took {run.cpu_seconds:.2f} s of CPU ({run.seconds:.2f} s){peak}"
    bound = case.seconds
    if case.times_plain is not None:
        bound = case.times_plain * request.getfixturevalue("plain_import_cpu")
    assert run.cpu_seconds < bound, f"{took}, over its bound of {bound:.2f} s"


def test_there_are_at_least_200_cases_with_distinct_names() -> None:
    assert len(CASES) >= 200
    assert len({case.id for case in CASES}) == len(CASES)
