"""No lost updates: 8 processes x 200 version-checked saves on a few values, on the test
database (SQLite, or PostgreSQL with SCORECARD_TEST_DATABASE_URL). Every acknowledged save is
in the final values and in the audit trail; with the version check off, saves are lost."""

from __future__ import annotations

import multiprocessing
from collections import Counter

import concurrent_worker
import pytest
from entry_council import build
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from metrics.models import AuditLog, Metric, PeriodValue

PROCESSES, UPDATES = 8, 200
CONTROL_UPDATES = 50  # enough to lose some; the control only has to show that it can fail
KEYS = [("HOU02", "2016-03"), ("HOU03", "2016-03"), ("COM01", "2016-03")]


pytestmark = pytest.mark.slow  # 8 x 200 writes: `make faults`


def hammer(
    engine: Engine,
    *,
    checked: bool,
    processes: int = PROCESSES,
    updates: int = UPDATES,
    full: bool = False,
) -> Counter[str]:
    """Run the workers; the acknowledged saves per value key."""
    build(engine)
    url = engine.url.render_as_string(hide_password=False)
    spawn = multiprocessing.get_context("spawn")
    with spawn.Manager() as manager, spawn.Pool(processes) as pool:
        start = manager.Barrier(processes)
        jobs = [(url, n, updates, KEYS, checked, full, start) for n in range(processes)]
        results = pool.starmap(concurrent_worker.run, jobs)
    total: Counter[str] = Counter()
    for result in results:
        total.update(result["acknowledged"])
    if checked:
        assert sum(r["conflicts"] for r in results) > 0, "the processes never raced"
    return total


def final_values(engine: Engine) -> dict[str, float]:
    with Session(engine) as session:
        rows = session.execute(
            select(Metric.code, PeriodValue.period, PeriodValue.actual).join(
                Metric, Metric.id == PeriodValue.metric_id
            )
        ).all()
    return {f"{c}/{p}": a or 0 for c, p, a in rows if (c, p) in KEYS}


def audited(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.execute(
            select(AuditLog.entity_key, func.count())
            .where(AuditLog.field_name == "actual")
            .group_by(AuditLog.entity_key)
        ).all()
    return dict(rows)


def test_every_acknowledged_save_is_in_the_final_value_and_the_audit_trail(
    engine: Engine,
) -> None:
    acknowledged = hammer(engine, checked=True)
    assert sum(acknowledged.values()) > len(KEYS)  # the run did race, and saved
    assert final_values(engine) == {key: float(n) for key, n in acknowledged.items()}
    assert audited(engine) == dict(acknowledged)


def test_saves_through_every_rule_are_accounted_for_too(engine: Engine) -> None:
    """The whole save (rules included) under contention: fewer, slower writes."""
    acknowledged = hammer(engine, checked=True, processes=4, updates=8, full=True)
    assert final_values(engine) == {key: float(n) for key, n in acknowledged.items()}
    assert audited(engine) == dict(acknowledged)


def test_control_without_the_version_check_loses_updates(engine: Engine) -> None:
    """Proves the test above can fail: the same run with the check off loses saves."""
    acknowledged = hammer(engine, checked=False, updates=CONTROL_UPDATES)
    finals = final_values(engine)
    assert sum(acknowledged.values()) == PROCESSES * CONTROL_UPDATES, acknowledged
    lost = {key: acknowledged[key] - finals[key] for key in acknowledged}
    if not any(lost.values()):
        pytest.fail(f"no update was lost without the version check: {lost}")
