"""Fuzzed uploads (issue 12): over a thousand malformed workbooks, each refused with a message
naming its place, none of them changing the database.

Each case starts from a sample of the demo council's own template rows (a few of its measures
and their values, which the database already holds) and applies one to three faults drawn with
a seeded generator: a wrong type, NaN or infinity, a far date, an unknown choice, a duplicate
or missing header, a missing or renamed sheet, a far cell, a row written twice, control
characters and NUL, an XML entity, a truncated zip. Every fault alone is a refusal, so any mix
of them is too. The cases run in this process through `metrics.cli.main(["import", path])`;
the bombs and the 150,000-row sheet, a small fixed set, run in a child process whose address
space is capped (tests/test_workbook_hostile.py's `run_apart`). For every case: exit 1, a
message starting "error: " that names one of the places its faults are at (a sheet, a cell, a
row, or the file), no traceback, bounded CPU time; the database's tables are counted after
each case and dumped whole before and after each batch.
"""

from __future__ import annotations

import faulthandler
import random
import re
import resource
import string
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hostile_workbooks as hw
import openpyxl
import pytest
from sqlalchemy import Engine, func, select, text
from sqlmodel import SQLModel
from test_workbook_hostile import MEMORY_LIMIT, dump, run_apart

from metrics import cli, demo
from metrics.config import settings
from metrics.demo.load import write_demo_workbook

pytestmark = pytest.mark.slow

BATCHES = 8
PER_BATCH = 130  # 1,040 cases in all
SECONDS = 5.0  # CPU seconds of one import in this process
GROWTH_MIB = 300  # how far this process's peak RSS may grow over a batch
FILE = hw.FILE_NAME
DATE = hw.DATE_STYLE

Pick = Callable[[random.Random], str]  # raw cell XML, {r} for its reference


@dataclass(frozen=True)
class Fault:
    """One fault in a workbook: its edits of the parts, and the places its refusal may name."""

    label: str
    edits: tuple[hw.Edit, ...]
    places: tuple[str, ...]  # regular expressions; the message must match one of some fault's
    late: bool = False  # applied after every cell edit (it may leave XML that is not text)


# --- The demo's rows ------------------------------------------------------------------------


@cache
def demo_rows() -> dict[str, list[dict[str, Any]]]:
    """The demo council's Metrics and Values rows, as its template workbook holds them."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.xlsx"
        write_demo_workbook(path)
        book = openpyxl.load_workbook(path, read_only=True)
        rows: dict[str, list[dict[str, Any]]] = {}
        for sheet in book.worksheets:
            found = sheet.iter_rows(values_only=True)
            header = next(found)
            rows[sheet.title] = [
                {k: v for k, v in zip(header, row, strict=True) if v is not None} for row in found
            ]
        book.close()
    return rows


def sample(rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two to six of the demo's measures and up to twelve of their values."""
    rows = demo_rows()
    metrics = rng.sample(rows["Metrics"], rng.randint(2, 6))
    codes = {m["Code"] for m in metrics}
    values = [v for v in rows["Values"] if v["Code"] in codes]
    values = rng.sample(values, min(len(values), rng.randint(1, 12)))
    return metrics, values


# --- Faults ---------------------------------------------------------------------------------


def _word(rng: random.Random, letters: str = string.ascii_lowercase) -> str:
    return "".join(rng.choice(letters) for _ in range(rng.randint(3, 9)))


def _cell_place(sheet: str, ref: str) -> str:
    return re.escape(f"{sheet}!{ref}") + r"(?![0-9])"


def _sheet_place(sheet: str) -> str:
    return re.escape(sheet)


FILE_PLACE = re.escape(FILE)

# (sheet, column, maker of raw cell XML): every one is refused, naming the cell.
BAD_CELLS: list[tuple[str, str, Pick]] = [
    # wrong types
    ("Values", "Actual", lambda rng: hw.text(_word(rng))),
    ("Values", "Actual", lambda rng: hw.typed("b", "1")),
    ("Values", "Target", lambda rng: hw.typed("e", rng.choice(["#N/A", "#DIV/0!", "#REF!"]))),
    ("Values", "Numerator", lambda rng: hw.number(str(-rng.randint(1, 999)))),
    ("Values", "Denominator", lambda rng: hw.number("0")),
    ("Values", "Code", lambda rng: hw.text("ZZ-" + _word(rng, string.ascii_uppercase))),
    ("Values", "Approval", lambda rng: hw.text(_word(rng))),
    ("Values", "Commentary", lambda rng: hw.formula(f"SUM(A{rng.randint(1, 99)})")),
    ("Metrics", "Unit", lambda rng: hw.text(_word(rng))),
    ("Metrics", "Polarity", lambda rng: hw.text(_word(rng))),
    ("Metrics", "Frequency", lambda rng: hw.text(_word(rng))),
    ("Metrics", "Tier", lambda rng: hw.text(_word(rng))),
    ("Metrics", "Marking", lambda rng: hw.text("TOP " + _word(rng, string.ascii_uppercase))),
    ("Metrics", "Risk impact", lambda rng: hw.number(str(rng.randint(4, 99)))),
    ("Metrics", "Decimals", lambda rng: hw.number(str(rng.randint(11, 99)))),
    ("Metrics", "Data only", lambda rng: hw.text(_word(rng))),
    ("Metrics", "Code", lambda rng: hw.text(f"CP\u200b{rng.randint(10, 99)}")),
    ("Metrics", "Code", lambda rng: hw.text(f"CP\u202e{rng.randint(10, 99)}")),
    # NaN and infinity
    *(
        (sheet, column, lambda rng: hw.number(rng.choice(["NaN", "inf", "-Infinity", "1e309"])))
        for sheet, column in (("Values", "Actual"), ("Values", "Target"), ("Metrics", "Baseline"))
    ),
    ("Values", "Actual", lambda rng: hw.text(rng.choice(["NaN", "inf", "-inf", "1e400"]))),
    # far dates
    (
        "Values",
        "Period",
        lambda rng: rng.choice(
            [
                hw.typed("d", "9999-12-31T00:00:00"),
                hw.typed("d", "0001-01-01T00:00:00"),
                hw.typed("n", str(rng.randint(2_958_466, 10**12)), DATE),
                hw.typed("n", str(-rng.randint(1, 10**6)), DATE),
                hw.text(f"{rng.randint(3000, 9999)}-{rng.randint(1, 12):02d}"),
                hw.text(f"2015-{rng.randint(13, 99)}"),
            ]
        ),
    ),
    (
        "Metrics",
        "Active from",
        lambda rng: rng.choice(
            [
                hw.typed("d", "9999-12-31T00:00:00"),
                hw.typed("n", str(rng.randint(2_958_466, 10**9)), DATE),
                hw.text(f"{rng.randint(3000, 9999)}-04"),
            ]
        ),
    ),
]


def bad_cell(rng: random.Random, rows: dict[str, int]) -> Fault:
    sheet, column, pick = rng.choice(BAD_CELLS)
    ref = hw.at(sheet, column, rng.randint(2, rows[sheet] + 1))
    return Fault(
        f"bad {column} at {sheet}!{ref}",
        (hw.cell(sheet, ref, pick(rng)),),
        (_cell_place(sheet, ref),),
    )


def missing_sheet(rng: random.Random, _rows: dict[str, int]) -> Fault:
    sheet = rng.choice(["Metrics", "Values"])
    if rng.random() < 0.5:
        edit, how = hw.remove_sheet(sheet), "removed"
    else:
        edit, how = hw.rename_sheet(sheet, _word(rng).title() + " " + sheet[:3]), "renamed"
    return Fault(f"{sheet} sheet {how}", (edit,), (re.escape(f"'{sheet}'"),))


def sheet_named_alike(rng: random.Random, _rows: dict[str, int]) -> Fault:
    """Instructions renamed to another sheet's name in another case or spacing."""
    sheet = rng.choice(["Metrics", "Values"])
    alike = rng.choice([sheet.upper(), sheet.lower(), f" {sheet} ", sheet.swapcase()])
    return Fault(
        f"a sheet named {alike!r}",
        (hw.rename_sheet("Instructions", alike),),
        (re.escape(f"'{alike}'"), re.escape(f"'{sheet}'")),
    )


def duplicate_header(rng: random.Random, _rows: dict[str, int]) -> Fault:
    sheet = rng.choice(["Metrics", "Values"])
    name = rng.choice(hw.HEADERS[sheet])
    shown = rng.choice([name, name.upper(), f" {name.lower()} "])
    ref = f"{openpyxl.utils.get_column_letter(len(hw.HEADERS[sheet]) + rng.randint(1, 30))}1"
    return Fault(
        f"header {name} again at {sheet}!{ref}",
        (hw.cell(sheet, ref, hw.text(shown)),),
        (_cell_place(sheet, ref),),
    )


def missing_header(rng: random.Random, _rows: dict[str, int]) -> Fault:
    sheet = rng.choice(["Metrics", "Values"])
    name = rng.choice(hw.REQUIRED[sheet])
    ref = f"{hw.letter(sheet, name)}1"
    xml = rng.choice([None, hw.text(_word(rng))])
    return Fault(
        f"header {name} missing from {sheet}",
        (hw.cell(sheet, ref, xml),),
        (re.escape(f"{sheet} row 1"), _cell_place(sheet, ref)),
    )


def far_cell(rng: random.Random, _rows: dict[str, int]) -> Fault:
    """A cell far below the row limit, at XFD or anywhere, declared in the sheet's size or not."""
    sheet = rng.choice(["Metrics", "Values"])
    row = rng.choice([1_048_576, rng.randint(100_001, 1_048_576)])
    column = rng.choice(["XFD", openpyxl.utils.get_column_letter(rng.randint(1, 16_384))])
    xml = f'<row r="{row}"><c r="{column}{row}" t="inlineStr"><is><t>far</t></is></c></row>'
    edits = [hw.rows_xml(xml, sheet)]
    if rng.random() < 0.5:
        edits.append(hw.dimension(f"A1:{column}{row}", sheet))
    places = (_sheet_place(sheet), FILE_PLACE)  # a declared size is refused before parsing
    return Fault(f"a cell at {sheet}!{column}{row}", tuple(edits), places)


def row_again(rng: random.Random, rows: dict[str, int]) -> Fault:
    """A row number written again after later rows."""
    sheet = rng.choice(["Metrics", "Values"])
    number = rng.randint(2, rows[sheet] + 1)
    xml = f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>X1</t></is></c></row>'
    return Fault(
        f"{sheet} row {number} written again",
        (hw.rows_xml(xml, sheet),),
        (re.escape(f"{sheet} row {number}"), _cell_place(sheet, f"A{number}")),
    )


CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\ufffe", "\uffff"]
REFERENCES = ["&#0;", "&#1;", "&#8;", "&#11;", "&#27;", "&#31;", "&#xFFFE;", "&#xD800;"]


def control_character(rng: random.Random, rows: dict[str, int]) -> Fault:
    """A character XML 1.0 forbids, raw or as a reference, in a text cell: not well-formed."""
    sheet, column = rng.choice(
        [("Values", "Commentary"), ("Values", "Corrective action"), ("Metrics", "Title")]
    )
    ref = hw.at(sheet, column, rng.randint(2, rows[sheet] + 1))
    bad = rng.choice(CONTROLS + REFERENCES)
    xml = '<c r="{r}" t="inlineStr"><is><t>a' + bad + "b</t></is></c>"
    return Fault(
        f"{bad!r} at {sheet}!{ref}",
        (hw.cell(sheet, ref, xml),),
        (_sheet_place(sheet), FILE_PLACE, _cell_place(sheet, ref)),
    )


ENTITY_PARTS = {
    "Values": hw.PART["Values"],
    "Metrics": hw.PART["Metrics"],
    "workbook": "xl/workbook.xml",
    "styles": "xl/styles.xml",
    "content types": "[Content_Types].xml",
}
DOCTYPES = [
    b'<!DOCTYPE x [<!ENTITY e "entity">]>',
    b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    b'<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
]


def entity(rng: random.Random, _rows: dict[str, int]) -> Fault:
    """An entity declared in a part's DOCTYPE: refused whether or not it is used."""
    where, doctype = rng.choice(list(ENTITY_PARTS)), rng.choice(DOCTYPES)
    edit = hw.member(ENTITY_PARTS[where], lambda data: doctype + data)
    places = (FILE_PLACE, r"(?i)entit", *((_sheet_place(where),) if where in hw.PART else ()))
    return Fault(f"an entity in {where}", (edit,), places, late=True)


FAULTS: list[Callable[[random.Random, dict[str, int]], Fault]] = [
    bad_cell,
    bad_cell,
    bad_cell,
    bad_cell,  # the most kinds: drawn most often
    missing_sheet,
    sheet_named_alike,
    duplicate_header,
    missing_header,
    far_cell,
    row_again,
    control_character,
    entity,
]


RENAMING = (missing_sheet, sheet_named_alike)


@dataclass(frozen=True)
class Upload:
    label: str
    build: hw.Build
    places: tuple[str, ...]


def upload(seed: int) -> Upload:
    """One malformed upload: a sample of the demo, one to three faults, perhaps truncated."""
    rng = random.Random(seed)
    if rng.random() < 0.03:  # not a workbook at all
        data = rng.randbytes(rng.randint(1, 4096))
        return Upload(f"{len(data)} random bytes", hw.raw(data), (FILE_PLACE,))
    metrics, values = sample(rng)
    rows = {"Metrics": len(metrics), "Values": len(values)}
    faults, renamed = [], False
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        make = rng.choice(FAULTS)
        if make in RENAMING and renamed:
            continue  # one renaming of the sheets a workbook: a second may not find its sheet
        renamed = renamed or make in RENAMING
        faults.append(make(rng, rows))
    edits = [e for f in faults if not f.late for e in f.edits]
    edits += [e for f in faults if f.late for e in f.edits]
    places = tuple(p for f in faults for p in f.places)
    labels = [f.label for f in faults]
    build = hw.patched(*edits, metrics=metrics, values=values)
    if rng.random() < 0.1:
        cut = rng.uniform(0.0, 0.98)
        labels.append(f"truncated to {cut:.0%}")
        build, places = _truncated(build, cut), (FILE_PLACE,)
    return Upload("; ".join(labels), build, places)


def _truncated(build: hw.Build, cut: float) -> hw.Build:
    def truncated(path: Path) -> None:
        build(path)
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * cut)])

    return truncated


# --- Running them ---------------------------------------------------------------------------


def counts(engine: Engine) -> dict[str, int]:
    """Rows in every table and the data version: cheap enough to take after every case."""
    with engine.connect() as connection:
        found = {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
        }
        version = connection.execute(text("SELECT version FROM data_version")).all()
    return {**found, "data_version": hash(tuple(version))}


@pytest.fixture
def demo_council(engine: Engine) -> Engine:
    """A database holding the demo council (SQLite, or a private PostgreSQL schema)."""
    demo.load_demo(engine)
    return engine


def import_here(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, float]:
    """`python -m metrics import FILE` in this process: exit code, stderr, CPU seconds."""
    capsys.readouterr()
    faulthandler.dump_traceback_later(120, exit=True, file=sys.__stderr__)
    cpu = time.process_time()
    try:
        code = cli.main(["import", str(path)])
    except BaseException as error:  # any exception at all fails the case
        pytest.fail(f"the import raised {type(error).__name__}: {error}")
    finally:
        faulthandler.cancel_dump_traceback_later()
    cpu = time.process_time() - cpu
    return code, capsys.readouterr().err, cpu


def check(label: str, code: Any, err: str, places: tuple[str, ...]) -> list[str]:
    """What is wrong with one refusal: one line, or none."""
    if code != 1:
        return [f"{label}: exit {code!r}, not a refusal:\n{err[:1000]}"]
    if "Traceback" in err or not err.startswith("error: "):
        return [f"{label}: not a clear message:\n{err[:2000]}"]
    if not any(re.search(place, err) for place in places):
        return [f"{label}: the message names none of {places}:\n{err[:2000]}"]
    return []


@pytest.mark.parametrize("batch", range(BATCHES))
def test_a_thousand_malformed_uploads_are_each_refused_naming_their_place(
    batch: int,
    demo_council: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = demo_council
    monkeypatch.setenv("SCORECARD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    settings.cache_clear()
    before, held = dump(engine), counts(engine)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wrong: list[str] = []
    for seed in range(batch * PER_BATCH, (batch + 1) * PER_BATCH):
        case = upload(seed)
        folder = tmp_path / str(seed)
        folder.mkdir()
        path = folder / FILE
        case.build(path)
        code, err, cpu = import_here(path, capsys)
        label = f"seed {seed} ({case.label})"
        wrong += check(label, code, err, case.places)
        if cpu > SECONDS:
            wrong.append(f"{label}: took {cpu:.1f} s of CPU")
        if counts(engine) != held:
            wrong.append(f"{label}: the database changed")
            break
        path.unlink()
    settings.cache_clear()
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - peak
    assert not wrong, f"{len(wrong)} of {PER_BATCH} cases went wrong:\n" + "\n".join(wrong[:20])
    assert dump(engine) == before, "a refused upload changed the database"
    assert growth < GROWTH_MIB, f"this process's peak memory grew by {growth:.0f} MiB"


# --- The heavy few, in a child process ------------------------------------------------------


def heavy_uploads() -> Iterator[tuple[str, hw.Build]]:
    metrics, values = sample(random.Random(12))

    def bomb(path: Path) -> None:
        stream, crc = hw.zeros(3 * hw.GIB)
        parts = hw.parts_of(metrics, values)
        entries = [
            hw.Entry(e.name, stream, crc, 3 * hw.GIB) if e.name == hw.PART["Values"] else e
            for e in hw.entries_of(parts)
        ]
        path.write_bytes(hw.raw_zip(entries))

    long_values = hw.put(hw.PART["Values"], hw.long_sheet(150_000))
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>far</t></is></c></row>'
    laughs = hw.member(hw.PART["Values"], lambda data: hw.LAUGHS + data)
    yield "a zip member of 3 GiB", bomb
    yield "billion laughs in the Values sheet", hw.patched(laughs, metrics=metrics, values=values)
    yield "150,000 Values rows", hw.patched(long_values, metrics=metrics, values=values)
    yield (
        "a cell at XFD1048576, undeclared",
        hw.patched(hw.rows_xml(far), hw.dimension(None), metrics=metrics, values=values),
    )


HEAVY = list(heavy_uploads())


@pytest.mark.parametrize(("label", "build"), HEAVY, ids=[label for label, _ in HEAVY])
def test_the_heavy_uploads_are_refused_within_bounded_memory(
    label: str, build: hw.Build, demo_council: Engine, tmp_path: Path
) -> None:
    engine = demo_council
    path = tmp_path / FILE
    build(path)
    before = dump(engine)
    run = run_apart(path, engine.url.render_as_string(hide_password=False), SECONDS)
    assert check(label, run.code, run.err, (FILE_PLACE, "Values")) == []
    assert dump(engine) == before, "a refused upload changed the database"
    assert run.cpu_seconds < SECONDS, f"{label} took {run.cpu_seconds:.1f} s of CPU"
    assert run.peak_mib is not None and run.peak_mib * hw.MIB < MEMORY_LIMIT
