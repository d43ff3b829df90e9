"""Speed of rating at a county's scale (issue 12), as ratios to floors measured in the same run.

These machines are shared and noisy, so seconds alone mean little. Three figures per size:

- pipeline: the one rating pipeline (`pipeline.rate`) rating every measure due in one month,
  from frames already in memory, against a plain numpy comparison of actual with target over
  the same arrays (the least any rating can do);
- status: the status query (`views.status`, reads included) against reading the month's value
  rows into pandas, with nothing kept (the first reader of the month) and with every measure's
  rating of the month kept by an earlier reader (`views.kept`);
- history: one measure's history (`views.metric_history`, every month of ten years rated)
  against reading that measure's value rows into pandas.

Sizes (docs/performance.md, benchmarks/councils.py): S the demo council (120 measures x 24
months), L 2,000 measures x 10 years (about 206,000 values: monthly, quarterly and annual).

    .venv/bin/python benchmarks/rating.py [--repeat 5] [--sizes S,L]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import councils

from metrics import due_rows, periods, pipeline, queries, store, views
from metrics.config import Settings
from metrics.models import PeriodValue

CLEARED = "OFFICIAL-SENSITIVE"
PERIOD = "2017-03"  # the last month of every council benchmarks/councils.py builds


def build(path: Path, size: str) -> tuple[store.Engine, str]:
    """A council of `size` (benchmarks/councils.py), analysed; rated at its last month."""
    engine, _values = councils.new_council(f"sqlite:///{path}", size)
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    return engine, PERIOD


def timed(
    action: Callable[[], object], repeat: int, before: Callable[[], object] | None = None
) -> float:
    """The median of several runs, in seconds (`before` each run, untimed)."""
    samples = []
    for _ in range(repeat):
        if before is not None:
            before()
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def plain_numpy(actual: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The pipeline's floor: one comparison of actual with target, no rule, no frame."""
    return np.where(np.isnan(actual), 0, np.where(actual >= target, 1, 2))


def measure(engine: store.Engine, period: str, repeat: int) -> dict[str, tuple[float, float]]:
    """(floor, figure) in seconds for the pipeline, the status query and one history."""
    settings, today = Settings(), date(2030, 1, 1)
    fy_start = settings.financial_year_start_month
    month = periods.month_for(period, fy_start)
    due = due_rows.due_periods(
        queries.metric_frame(engine, clearance=CLEARED), month, fy_start, settings.deadline
    )
    year = periods.year_period(int(month.fiscal_year[:4]), fy_start)
    values = queries.value_frame(
        engine,
        metric_ids=due["metric_id"].tolist(),
        first_end=date(year.start.year - views.rated.HISTORY_YEARS, year.start.month, 1),
        last_end=year.end,
    )
    current = due[["metric_id", "period"]].merge(values, on=["metric_id", "period"], how="left")
    actual, target = current["actual"].to_numpy(float), current["target"].to_numpy(float)

    def rate() -> None:
        pipeline.rate(due, values, today=today, rules=settings.rating, fy_start=fy_start)

    end = month.end
    code = str(due["code"].iloc[0])
    metric_id = int(due["metric_id"].iloc[0])

    def month_rows() -> None:
        query = select(PeriodValue).where(PeriodValue.period_end == end)
        with engine.connect() as connection:
            pd.read_sql(query, connection)

    def measure_rows() -> None:
        query = select(PeriodValue).where(PeriodValue.metric_id == metric_id)
        with engine.connect() as connection:
            pd.read_sql(query, connection)

    def status() -> None:
        views.status(engine, period=period, clearance=CLEARED, today=today)

    def forget() -> None:  # nothing kept: the first reader after the values were loaded
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM kept_rating"))

    return {
        "pipeline": (
            timed(lambda: [plain_numpy(actual, target) for _ in range(100)], repeat) / 100,
            timed(rate, repeat),
        ),  # 100 at a time: too quick to time once
        "status": (
            timed(month_rows, repeat),
            timed(status, repeat, before=forget),
        ),
        "status, kept": (timed(month_rows, repeat), timed(status, repeat)),
        "history": (
            timed(measure_rows, repeat),
            timed(
                lambda: views.metric_history(engine, code=code, clearance=CLEARED, today=today),
                repeat,
            ),
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sizes", default="S,L")
    args = parser.parse_args()
    print(f"{'size':>4} {'figure':>9} {'floor ms':>10} {'ms':>10} {'ratio':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes.split(","):
            engine, period = build(Path(folder) / f"{size}.db", size)
            for name, (base, figure) in measure(engine, period, args.repeat).items():
                print(
                    f"{size:>4} {name:>9} {base * 1000:10.3f} {figure * 1000:10.1f}"
                    f" {figure / base:9.1f}"
                )
            engine.dispose()


if __name__ == "__main__":
    main()
