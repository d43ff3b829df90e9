"""Time to save a team's month of 50 values through `entry.save_month`, against a floor: a bare
`executemany` UPDATE of the same 50 rows in one transaction, measured in the same run.

    .venv/bin/python benchmarks/entry_save.py [--repeat 7] [--url sqlite:///...]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics import config, entry, store
from metrics.access import CurrentUser
from metrics.models import Metric, PeriodValue, Service, Team
from metrics.vocab import Marking, Role

VALUES = 50
PERIOD = "2016-03"
TODAY = date(2016, 5, 20)
MANAGER = CurrentUser("m@x", "Manager", Role.SERVICE_MANAGER, Marking.OFFICIAL, frozenset({"S"}))


def build(url: str) -> store.Engine:
    """One service, one team, 50 monthly counts, each with a target for the month."""
    engine = store.make_engine(url)
    store.upgrade(engine)
    with store.write(engine) as session:
        service = Service(code="s", name="S")
        session.add(service)
        session.flush()
        team = Team(code="s/t", name="T", service_id=service.id)
        session.add(team)
        session.flush()
        for number in range(VALUES):
            metric = Metric(
                code=f"M{number:03d}",
                title=f"Measure {number}",
                tier="Service Standards",
                service_id=service.id,
                team_id=team.id,
                unit="number",
                aggregation="sum",
            )
            session.add(metric)
            session.flush()
            session.add(
                PeriodValue(
                    metric_id=metric.id,
                    period=PERIOD,
                    fiscal_year="2015-16",
                    period_end=date(2016, 3, 31),
                    target=10.0,
                )
            )
    return engine


def versions(engine: store.Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.exec(
            select(Metric.code, PeriodValue.version).join(
                PeriodValue, PeriodValue.metric_id == Metric.id
            )
        ).all()
    return dict(rows)


def save_month(engine: store.Engine, actual: float) -> float:
    seen = versions(engine)
    entries = [entry.Entry(code, PERIOD, seen[code], actual=actual) for code in sorted(seen)]
    start = time.perf_counter()
    entry.save_month(engine, user=MANAGER, entries=entries, today=TODAY, config=config.Settings())
    return time.perf_counter() - start


def write_only(engine: store.Engine, actual: float) -> float:
    """The write under the lock alone (`entry.commit_checked`: scope and versions again, one
    executemany of versioned UPDATEs, one of audit rows), the rules checked beforehand."""
    seen = versions(engine)
    entries = [entry.Entry(code, PERIOD, seen[code], actual=actual) for code in sorted(seen)]
    settings = config.Settings()
    with Session(engine) as session:
        held = entry.hold(session, MANAGER, entries, settings)
        frame = entry.checked_frame(session, held, TODAY, settings)
    checked = entry.checked_values(entries, frame)
    start = time.perf_counter()
    entry.commit_checked(engine, user=MANAGER, checked=checked, config=settings)
    return time.perf_counter() - start


def floor(engine: store.Engine, actual: float) -> float:
    """A bare executemany of the same 50 updates in one transaction."""
    with Session(engine) as session:
        ids = session.exec(select(PeriodValue.id)).all()
    rows = [{"actual": actual, "id": row_id} for row_id in ids]
    start = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE period_value SET actual = :actual, version = version + 1 WHERE id = :id"),
            rows,
        )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--url", help="a database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = build(args.url or f"sqlite:///{folder}/bench.db")
        saves, writes, floors = [], [], []
        for run in range(args.repeat):
            saves.append(save_month(engine, 12.0 + run))
            writes.append(write_only(engine, 50.0 + run))
            floors.append(floor(engine, 100.0 + run))
        engine.dispose()
    save, write = statistics.median(saves), statistics.median(writes)
    bare = statistics.median(floors)
    print(f"save_month of {VALUES} values: median {save * 1000:.1f} ms over {args.repeat} runs")
    print(f"  of which the write under the lock: median {write * 1000:.1f} ms")
    print(f"bare executemany of the same {VALUES} updates: median {bare * 1000:.1f} ms")
    print(f"ratio: {save / bare:.0f} x the floor (the write alone {write / bare:.1f} x)")


if __name__ == "__main__":
    main()
