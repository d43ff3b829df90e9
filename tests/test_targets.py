"""Targets for a year: the three profiles, and the versioned, audited write."""

from __future__ import annotations

import pytest
from entry_council import ADMIN, MANAGER, OFFICER, build
from sqlalchemy import Engine, select
from sqlmodel import Session

from metrics import store, targets
from metrics.access import AccessDenied
from metrics.entry import EntryRefused
from metrics.models import AuditLog, Metric, PeriodValue


@pytest.mark.parametrize(
    ("kind", "annual", "count", "custom", "decimals", "expected"),
    [
        ("flat", 80.0, 4, None, 1, [80.0, 80.0, 80.0, 80.0]),  # a rate: the same every quarter
        ("even", 120.0, 12, None, 0, [10.0] * 12),  # a total shared evenly
        ("even", 100.0, 12, None, 0, [8.0] * 11 + [12.0]),  # the last month takes the remainder
        ("even", 100.0, 12, None, 1, [8.3] * 11 + [8.7]),
        ("even", 7.0, 1, None, 0, [7.0]),  # an annual measure: one period
        ("custom", None, 4, [1, 2, 3, 4], 0, [1.0, 2.0, 3.0, 4.0]),
        ("flat", None, 2, None, 0, [None, None]),  # no annual target: no targets
    ],
)
def test_profiles(kind, annual, count, custom, decimals, expected) -> None:
    assert targets.profile(kind, annual, count, custom=custom, decimals=decimals) == expected


@pytest.mark.parametrize(
    ("typed", "field", "message"),
    [
        ({"kind": "lumpy"}, "profile", "'lumpy' is not flat, even or custom"),
        ({"kind": "custom", "custom": [1, 2]}, "target", "give 12 targets, one per period"),
        ({"reason": " "}, "reason", "say why"),
        ({"fiscal_year": "2017-19"}, "fiscal_year", "nor a financial year"),
    ],
)
def test_refused_targets_name_the_field(engine: Engine, typed, field, message) -> None:
    build(engine)
    call = {
        "code": "HOU02",
        "fiscal_year": "2017-18",
        "kind": "even",
        "annual_target": 120.0,
        "reason": "Housing strategy 2017",
        "seen_version": 0,
        **typed,
    }
    with pytest.raises(EntryRefused) as refused:
        targets.set_targets(engine, user=OFFICER, **call)
    first = refused.value.problems[0]
    assert first.field == field and message in first.message


def test_next_years_targets_are_set_before_any_actual_then_versioned(engine: Engine) -> None:
    ids = build(engine)
    plan = targets.set_targets(
        engine,
        user=OFFICER,
        code="HOU02",
        fiscal_year="2017-18",
        kind="even",
        annual_target=120.0,
        reason="Housing strategy 2017",
        seen_version=0,
    )
    with Session(engine) as session:
        rows = session.exec(
            select(PeriodValue.period, PeriodValue.target, PeriodValue.actual)
            .where(PeriodValue.metric_id == ids["HOU02"], PeriodValue.fiscal_year == "2017-18")
            .order_by(PeriodValue.period_end)
        ).all()
    assert [tuple(r) for r in rows][:2] == [("2017-04", 10.0, None), ("2017-05", 10.0, None)]
    assert len(rows) == 12
    with pytest.raises(store.ConflictError, match=r"changed by pmitg@x\.gov\.uk"):
        targets.set_targets(
            engine,
            user=ADMIN,
            code="HOU02",
            fiscal_year="2017-18",
            kind="flat",
            annual_target=9.0,
            reason="stale",
            seen_version=0,
        )
    changed = targets.set_targets(
        engine,
        user=ADMIN,
        code="HOU02",
        fiscal_year="2017-18",
        kind="custom",
        annual_target=None,
        custom=[9.0] * 11 + [21.0],
        reason="budget cut",
        seen_version=plan.version,
    )
    assert (changed.version, changed.profile) == (2, "custom")
    with Session(engine) as session:
        audit = (
            session.exec(
                select(AuditLog).where(
                    AuditLog.entity_key == "HOU02/2018-03", AuditLog.reason == "budget cut"
                )
            )
            .scalars()
            .one()
        )
    assert (audit.field_name, audit.old_value, audit.new_value) == ("target", "10.0", "21.0")


def test_band_targets_carry_their_upper_targets(engine: Engine) -> None:
    ids = build(engine)
    with store.write(engine) as session:
        session.get(Metric, ids["HOU03"]).polarity = "band"
    targets.set_targets(
        engine,
        user=OFFICER,
        code="HOU03",
        fiscal_year="2017-18",
        kind="flat",
        annual_target=5.0,
        annual_target_upper=8.0,
        reason="a range",
        seen_version=0,
    )
    with Session(engine) as session:
        bounds = session.exec(
            select(PeriodValue.target, PeriodValue.target_upper).where(
                PeriodValue.metric_id == ids["HOU03"], PeriodValue.period == "2017-04"
            )
        ).one()
    assert tuple(bounds) == (5.0, 8.0)


def test_a_service_manager_may_not_set_targets(engine: Engine) -> None:
    build(engine)
    with pytest.raises(AccessDenied, match="may not set targets"):
        targets.set_targets(
            engine,
            user=MANAGER,
            code="HOU02",
            fiscal_year="2017-18",
            kind="flat",
            annual_target=1.0,
            reason="mine",
            seen_version=0,
        )
