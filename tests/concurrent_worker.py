"""A process that updates values as a user would: read the value and its version, then save the
value plus one against the version read. Spawned by test_entry_concurrency.

`full=True` saves through `entry.save_value` (every rule checked, which costs tens of
milliseconds of pandas); otherwise through `entry.commit_checked`, the locked, version-checked,
audited write that `save_value` ends with, so 1,600 writes fit in seconds. `checked=False`
switches the version check off (the control run)."""

from __future__ import annotations

from collections import Counter
from threading import Barrier

from entry_council import OFFICER, TODAY
from sqlalchemy import select, update
from sqlmodel import Session

from metrics import config, entry, store
from metrics.models import Metric, PeriodValue

QUIET = config.Settings(
    entry=config.EntryRules(
        commentary_required_for=(), corrective_action_required_for=(), outlier_min_points=10**6
    ),
    rating=config.RatingRules(spc_min_points=10**6),
)


def _unchecked_update(session, model, rows) -> None:  # type: ignore[no-untyped-def]
    """`versioned_update_many` without its `AND version = ?`: what the control run writes with."""
    for row_id, version, values in rows:
        session.exec(update(model).where(model.id == row_id).values(version=version + 1, **values))


def run(
    url: str,
    worker: int,
    updates: int,
    keys: list[tuple[str, str]],
    checked: bool,
    full: bool,
    start: Barrier,
) -> dict:
    """Try `updates` updates round the keys; count the acknowledged ones per key."""
    if not checked:
        entry._check_version = lambda session, held: None  # type: ignore[assignment]
        store.versioned_update_many = _unchecked_update  # type: ignore[assignment]
    engine = store.make_engine(url)
    start.wait(timeout=120)  # every process is imported and ready: they race from here
    acknowledged: Counter[str] = Counter()
    conflicts = 0
    for attempt in range(updates):
        code, period = keys[(worker + attempt) % len(keys)]
        with Session(engine) as session:
            actual, version = session.execute(
                select(PeriodValue.actual, PeriodValue.version)
                .join(Metric, Metric.id == PeriodValue.metric_id)
                .where(Metric.code == code, PeriodValue.period == period)
            ).one()
        typed = entry.Entry(code, period, version, actual=(actual or 0) + 1)
        try:
            if full:
                entry.save_value(engine, user=OFFICER, entry=typed, today=TODAY, config=QUIET)
            else:
                done = entry.Checked(typed, (actual or 0) + 1, None, None, False)
                entry.commit_checked(engine, user=OFFICER, checked=[done], config=QUIET)
        except entry.ValueConflict:
            conflicts += 1
            continue
        acknowledged[f"{code}/{period}"] += 1
    engine.dispose()
    return {"acknowledged": dict(acknowledged), "conflicts": conflicts}
