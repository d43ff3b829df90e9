"""Speed of the status query, at stated data sizes, as ratios to a floor measured in the same run.

These machines are shared and noisy, so seconds alone mean little: each figure is divided by the
time of the least work any status must do (reading the period's value rows into pandas). Sizes:
the demo council (120 metrics x 24 months) and a council ten times its size.

    .venv/bin/python benchmarks/run.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics import periods, queries, store
from metrics.models import Metric, PeriodValue, Priority, Service, Team

SHAPES = [  # polarity, unit, aggregation, frequency
    ("higher", "percent", "ratio", "monthly"),
    ("lower", "days", "mean", "monthly"),
    ("higher", "number", "sum", "monthly"),
    ("band", "percent", "last", "quarterly"),
    ("higher", "percent", "mean", "annual"),
]


def build(path: Path, metrics: int) -> store.Engine:
    """A council with this many metrics and two years of values, written in one transaction."""
    engine = store.make_engine(f"sqlite:///{path}")
    store.upgrade(engine)
    rng = random.Random(metrics)
    with store.transaction(engine) as session:
        priority = Priority(code="p", name="Priority")
        service = Service(code="s", name="Service")
        session.add_all([priority, service])
        session.flush()
        team = Team(code="s/t", name="Team", service_id=service.id)
        session.add(team)
        session.flush()
        for number in range(metrics):
            polarity, unit, aggregation, frequency = SHAPES[number % len(SHAPES)]
            metric = Metric(
                code=f"M{number:05d}",
                title=f"Metric {number}",
                tier="Service Standards",
                priority_id=priority.id,
                service_id=service.id,
                team_id=team.id,
                polarity=polarity,
                unit=unit,
                aggregation=aggregation,
                frequency=frequency,
            )
            session.add(metric)
            session.flush()
            session.add_all(_values(metric, rng))
        store.bump_data_version(session)
    return engine


def _values(metric: Metric, rng: random.Random) -> list[PeriodValue]:
    first = {
        "monthly": periods.month_period(2015, 4),
        "quarterly": periods.quarter_period(2015, 1),
        "annual": periods.year_period(2015),
    }[metric.frequency]
    count = periods.per_year(metric.frequency) * 2
    rows = []
    for step in range(count):
        period = periods.shift(first, step)
        denominator = rng.randint(80, 120)
        numerator = rng.randint(60, denominator)
        rows.append(
            PeriodValue(
                metric_id=metric.id,
                period=period.label,
                fiscal_year=period.fiscal_year,
                period_end=period.end,
                actual=100 * numerator / denominator,
                numerator=numerator,
                denominator=denominator,
                target=80.0,
                target_upper=90.0 if metric.polarity == "band" else None,
                status="approved",
            )
        )
    return rows


def timed(action: Callable[[], object], repeat: int) -> float:
    """The median of several runs, in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def floor(engine: store.Engine) -> None:
    """The least work a status must do: read one month's value rows into a DataFrame."""
    query = select(PeriodValue).where(PeriodValue.period_end == date(2017, 3, 31))
    with engine.connect() as connection:
        pd.read_sql(query, connection)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'size':>28} {'floor ms':>9} {'status ms':>10} {'ratio':>7}")
    with tempfile.TemporaryDirectory() as folder:
        for label, count in (("demo council (120 metrics)", 120), ("10x (1,200 metrics)", 1200)):
            engine = build(Path(folder) / f"bench-{count}.db", count)
            base = timed(lambda engine=engine: floor(engine), args.repeat)
            rated = timed(
                lambda engine=engine: queries.status(
                    engine, period="2017-03", clearance="OFFICIAL", today=date(2017, 5, 1)
                ),
                args.repeat,
            )
            print(f"{label:>28} {base * 1000:9.1f} {rated * 1000:10.1f} {rated / base:7.1f}")


if __name__ == "__main__":
    main()
