"""Time to build the committee pack and the cover report, beside a floor measured in the same run.

The floor is writing the same cells (the same paragraphs and table cells for the report) with
no styles, number formats, print set-up or charts: the least work either file needs. Sizes:
the demo council's March 2016 snapshot (OFFICIAL view) and the same snapshot ten times over
(every measure repeated with a new code, counts multiplied), since pack and report read only
the snapshot.

    .venv/bin/python benchmarks/committee_pack.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
from docx import Document
from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics import demo, snapshots, store
from metrics.publish import pack, report
from metrics.snapshots import Frozen

GENERATED = datetime(2016, 4, 1, tzinfo=UTC)
COUNTS = ["red", "amber", "green", "data_only", "missing"]


def demo_snapshots(folder: Path) -> tuple[Frozen, Frozen]:
    """February and March 2016 frozen on the demo council, as an OFFICIAL reader sees them."""
    engine = store.make_engine(f"sqlite:///{folder}/demo.db")
    store.upgrade(engine)
    demo.load_demo(engine)
    ids = [
        snapshots.freeze(
            engine, period=p, title="Performance", actor="bench", today=date(2016, 4, 20)
        ).id
        for p in ("2016-02", "2016-03")
    ]
    february, march = (snapshots.show(engine, i, clearance="OFFICIAL") for i in ids)
    engine.dispose()
    return march, february


def scaled(frozen: Frozen, times: int) -> Frozen:
    """The snapshot with every measure repeated `times` times under new codes."""
    rows = pd.concat(
        [frozen.rows.assign(code=frozen.rows["code"] + f"-{n}") for n in range(times)],
        ignore_index=True,
    )
    rollups = frozen.rollups.copy()
    rollups[COUNTS] = rollups[COUNTS] * times
    return replace(frozen, rows=rows, rollups=rollups)


def timed(action: Callable[[], object], repeat: int) -> float:
    """The best of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def build_pack(frozen: Frozen) -> None:
    book = pack.build_pack(frozen, council="Demo", generated_at=GENERATED, marking="OFFICIAL")
    book.save(io.BytesIO())


def pack_floor(frozen: Frozen) -> Callable[[], None]:
    """Writing the same cell values into a workbook with no styles."""
    built = pack.build_pack(frozen, council="Demo", generated_at=GENERATED, marking="OFFICIAL")
    sheets = {s.title: [[c.value for c in r] for r in s.iter_rows()] for s in built.worksheets}

    def write() -> None:
        book = Workbook()
        book.remove(book.active)
        for title, rows in sheets.items():
            sheet = book.create_sheet(title)
            for row in rows:
                sheet.append(row)
        book.save(io.BytesIO())

    return write


def build_report(frozen: Frozen, before: Frozen) -> None:
    document = report.build_report(frozen, before, council="Demo", report_of="Head", contact="")
    document.save(io.BytesIO())


def report_floor(frozen: Frozen, before: Frozen) -> Callable[[], None]:
    """The same paragraphs and table cells in a document with no styles."""
    built = report.build_report(frozen, before, council="Demo", report_of="Head", contact="")
    texts = [p.text for p in built.paragraphs]
    tables = [[[c.text for c in r.cells] for r in t.rows] for t in built.tables]

    def write() -> None:
        document = Document()
        for text in texts:
            document.add_paragraph(text)
        for rows in tables:
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for cells, values in zip(table.rows, rows, strict=True):
                for cell, value in zip(cells.cells, values, strict=True):
                    cell.text = value
        document.save(io.BytesIO())

    return write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as folder:
        march, february = demo_snapshots(Path(folder))
    print(f"{'size':<14}{'rows':>6}{'pack s':>9}{'floor s':>9}{'ratio':>7}"
          f"{'report s':>10}{'floor s':>9}{'ratio':>7}")  # fmt: skip
    for label, times in (("demo council", 1), ("ten times", 10)):
        now, before = scaled(march, times), scaled(february, times)
        pack_s = timed(lambda now=now: build_pack(now), repeat)
        pack_0 = timed(pack_floor(now), repeat)
        report_s = timed(lambda now=now, before=before: build_report(now, before), repeat)
        report_0 = timed(report_floor(now, before), repeat)
        print(
            f"{label:<14}{len(now.rows):>6}{pack_s:>9.3f}{pack_0:>9.3f}{pack_s / pack_0:>7.1f}"
            f"{report_s:>10.3f}{report_0:>9.3f}{report_s / report_0:>7.1f}"
        )


if __name__ == "__main__":
    main()
