"""Time and peak memory of `python -m metrics import FILE` for a large council's workbook, into
databases that already hold more and more values, against openpyxl's read-only read of the same
file measured in the same run.

The workbook is a large council's four years: 1,000 monthly measures x 48 months = 48,000
value rows (and the 1,000 Metrics rows). Each database already holds the measures and about 0,
50,000 or 200,000 values of earlier months. The import runs in a child process, so its peak
RSS (ru_maxrss) is its own; the floor is the least any import must do: read every cell of the
file with openpyxl in read-only mode. The import should stay within 5x the floor, and its peak
memory should not grow with what the database holds.

    .venv/bin/python benchmarks/import_memory.py [--metrics 1000] [--months 48]
        [--held 0,50000,200000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import insert, text
from sqlmodel import col, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics import periods, store
from metrics.models import Metric, PeriodValue
from metrics.workbook import METRIC_COLUMNS, VALUE_COLUMNS, import_workbook

FIRST_YEAR = 2019  # the workbook's months start at April 2019; held values come before
SHAPES = [  # unit, polarity, aggregation: a percentage, a count, a time in days
    ("percent", "higher", "ratio"),
    ("number", "higher", "sum"),
    ("days", "lower", "mean"),
]
CHILD = """
import json, resource, sys, time
from metrics import cli
start = time.perf_counter()
code = cli.main(["import", sys.argv[1]])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"code": code, "seconds": seconds, "peak_mib": peak}), file=sys.__stderr__)
"""


def write_workbook(path: Path, *, metrics: int, months: int, seed: int = 12) -> None:
    """A filled template: `metrics` monthly measures and `months` values of each."""
    rng = random.Random(seed)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Metrics")
    sheet.append([column.name for column in METRIC_COLUMNS])
    names = [column.name for column in METRIC_COLUMNS]
    for number in range(metrics):
        unit, polarity, aggregation = SHAPES[number % len(SHAPES)]
        row = {
            "Code": f"L{number:05d}",
            "Title": f"Measure {number}",
            "Tier": "Service Standards",
            "Service": f"Service {number % 12}",
            "Team": f"Team {number % 5}",
            "Unit": unit,
            "Polarity": polarity,
            "Frequency": "monthly",
            "Aggregation": aggregation,
        }
        sheet.append([row.get(name) for name in names])
    sheet = book.create_sheet("Values")
    names = [column.name for column in VALUE_COLUMNS]
    sheet.append(names)
    for step in range(months):
        period = periods.shift(periods.month_period(FIRST_YEAR, 4), step).label
        for number in range(metrics):
            unit = SHAPES[number % len(SHAPES)][0]
            actual = rng.randint(0, 100) if unit != "days" else round(rng.uniform(1, 30), 1)
            row = {
                "Code": f"L{number:05d}",
                "Period": period,
                "Actual": actual,
                "Target": 50,
                "Commentary": f"Note on {period}" if number % 4 == 0 else None,
            }
            sheet.append([row.get(name) for name in names])
    book.save(path)


def build_database(engine: store.Engine, folder: Path, *, metrics: int, held: int) -> None:
    """The council's measures (imported from a workbook of them alone) and `held` values of
    the months before the workbook's, written in bulk, into a database at the latest schema."""
    measures = folder / f"measures-{metrics}.xlsx"
    if not measures.exists():
        write_workbook(measures, metrics=metrics, months=0)
    import_workbook(engine, measures, actor="bench")
    with store.write(engine) as session:
        ids = list(session.exec(select(Metric.id).order_by(col(Metric.code))))
        rows: list[dict[str, Any]] = []
        for index in range(held):
            back = index // len(ids) + 1
            period = periods.shift(periods.month_period(FIRST_YEAR, 4), -back)
            rows.append(_held(ids[index % len(ids)], period))
            if len(rows) == 10_000:
                session.execute(insert(PeriodValue), rows)
                rows.clear()
        if rows:
            session.execute(insert(PeriodValue), rows)
        store.bump_data_version(session)
    if engine.dialect.name == "sqlite":
        with engine.begin() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))


def _held(metric_id: int | None, period: periods.Period) -> dict[str, Any]:
    return {
        "metric_id": metric_id,
        "period": period.label,
        "fiscal_year": period.fiscal_year,
        "period_end": period.end,
        "actual": 40.0,
        "target": 50.0,
        "status": "approved",
        "commentary": "",
        "corrective_action": "",
        "entered_by": "bench",
        "approved_by": "bench",
        "version": 1,
    }


def openpyxl_read(path: Path) -> float:
    """The floor: seconds to read every cell of the file with openpyxl in read-only mode."""
    start = time.perf_counter()
    book = openpyxl.load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        for _row in sheet.iter_rows(values_only=True):
            pass
    book.close()
    return time.perf_counter() - start


def import_apart(path: Path, url: str) -> dict[str, Any]:
    """`python -m metrics import FILE` in a child process: exit code, seconds, peak MiB."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "SCORECARD_DATABASE_URL": url, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    report = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""
    if not report.startswith("{"):
        raise RuntimeError(f"the import failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(report)
    if result["code"] != 0:
        raise RuntimeError(f"the import was refused:\n{done.stderr[-3000:]}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--metrics", type=int, default=1000)
    parser.add_argument("--months", type=int, default=48)
    parser.add_argument("--held", default="0,50000,200000", help="values already held, each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "large-council.xlsx"
        write_workbook(path, metrics=args.metrics, months=args.months)
        rows = args.metrics * args.months
        print(f"{rows:,} value rows, {path.stat().st_size / 1e6:.1f} MB file")
        print(f"{'held values':>12} {'floor s':>8} {'import s':>9} {'ratio':>6} {'peak MiB':>9}")
        for held in (int(n) for n in args.held.split(",")):
            url = f"sqlite:///{folder / f'held-{held}.db'}"
            engine = store.make_engine(url)
            store.upgrade(engine)
            build_database(engine, folder, metrics=args.metrics, held=held)
            engine.dispose()
            floor = openpyxl_read(path)
            result = import_apart(path, url)
            ratio = result["seconds"] / floor
            print(
                f"{held:>12,} {floor:8.2f} {result['seconds']:9.2f} {ratio:6.1f} "
                f"{result['peak_mib']:9.0f}"
            )


if __name__ == "__main__":
    main()
