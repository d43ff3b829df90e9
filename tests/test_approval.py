"""Submitting, approving and returning: nobody approves their own value, a stale approval is a
conflict, a returned value carries its reason, an approved value changes only with a reason."""

from __future__ import annotations

import pytest
from entry_council import ADMIN, MANAGER, OFFICER, SECOND_OFFICER, TODAY, add_history, build
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from metrics import approval, entry
from metrics.access import AccessDenied
from metrics.models import AuditLog


@pytest.fixture
def council(engine: Engine) -> dict[str, int]:
    return build(engine)


def save(engine, code="HOU02", version=1, user=MANAGER, **typed):
    return entry.save_value(
        engine, user=user, entry=entry.Entry(code, "2016-03", version, **typed), today=TODAY
    )


def submitted(engine, code="HOU02", user=MANAGER, **typed):
    value = save(engine, code, user=user, **typed)
    entry.submit(engine, user=user, seen={(code, "2016-03"): value.version}, today=TODAY)
    return value.version + 1


def test_submit_a_team_at_once_checks_every_value_first(engine, council) -> None:
    twelve = save(engine, "HOU02", actual=12)
    with pytest.raises(entry.EntryRefused, match="HOU01 March 2016, actual: enter a value"):
        entry.submit(
            engine,
            user=MANAGER,
            seen={("HOU02", "2016-03"): 2, ("HOU01", "2016-03"): 1},
            today=TODAY,
        )
    assert entry.submit(engine, user=MANAGER, seen={("HOU02", "2016-03"): twelve.version}) == 1
    with pytest.raises(entry.EntryRefused, match="already submitted"):
        entry.submit(engine, user=MANAGER, seen={("HOU02", "2016-03"): 3}, today=TODAY)


def test_approval_by_another_officer_is_stamped_and_audited(engine, council) -> None:
    version = submitted(engine, actual=12)
    assert approval.approve(engine, user=OFFICER, seen={("HOU02", "2016-03"): version}) == 1
    with Session(engine) as session:
        query = select(AuditLog).where(AuditLog.field_name == "status").order_by(AuditLog.id.desc())
        last = session.exec(query).scalars().first()
    assert (last.action, last.field_name, last.old_value, last.new_value, last.actor) == (
        "approve",
        "status",
        "submitted",
        "approved",
        OFFICER.email,
    )


def test_nobody_approves_a_value_they_entered_or_last_changed(engine, council) -> None:
    version = submitted(engine, user=OFFICER, actual=12)
    with pytest.raises(entry.EntryRefused, match="you entered or last changed it"):
        approval.approve(engine, user=OFFICER, seen={("HOU02", "2016-03"): version})
    assert approval.approve(engine, user=SECOND_OFFICER, seen={("HOU02", "2016-03"): version})


@pytest.mark.parametrize("who", [MANAGER, ADMIN])
def test_only_a_performance_officer_approves(engine, council, who) -> None:
    version = submitted(engine, actual=12)
    with pytest.raises(AccessDenied, match="may not approve"):
        approval.approve(engine, user=who, seen={("HOU02", "2016-03"): version})


def test_approving_a_value_changed_since_it_was_seen_is_refused(engine, council) -> None:
    version = submitted(engine, actual=12)
    save(engine, version=version, actual=14)  # the manager changes it back to a draft
    with pytest.raises(entry.ValueConflict) as conflict:
        approval.approve(engine, user=OFFICER, seen={("HOU02", "2016-03"): version})
    assert conflict.value.changed_to["actual"] == 14
    assert conflict.value.changed_by == MANAGER.email


def test_a_returned_value_carries_its_reason_until_resubmitted(engine, council) -> None:
    version = submitted(engine, actual=12)
    with pytest.raises(entry.EntryRefused, match="reason: say what"):
        approval.return_value(
            engine, user=OFFICER, code="HOU02", period="2016-03", seen_version=version, reason=" "
        )
    approval.return_value(
        engine,
        user=OFFICER,
        code="HOU02",
        period="2016-03",
        seen_version=version,
        reason="March included February's lettings",
    )
    fixed = save(engine, version=version + 1, actual=11)
    assert (fixed.status, fixed.return_reason) == ("returned", "March included February's lettings")
    entry.submit(engine, user=MANAGER, seen={("HOU02", "2016-03"): fixed.version}, today=TODAY)
    with Session(engine) as session:
        reasons = session.exec(select(AuditLog.reason).where(AuditLog.action == "return"))
        reasons = reasons.scalars().all()
    assert set(reasons) == {"March included February's lettings"}


def test_an_approved_value_changes_only_with_a_reason_and_goes_back_to_submitted(
    engine, council
) -> None:
    version = submitted(engine, actual=12)
    approval.approve(engine, user=OFFICER, seen={("HOU02", "2016-03"): version})
    trail = audit_count(engine)
    for blank in ("", "  "):
        with pytest.raises(entry.EntryRefused, match="reason: an approved value changes only"):
            save(engine, version=version + 1, actual=13, reason=blank)
    assert audit_count(engine) == trail  # refused: nothing written, not even an audit row
    changed = save(engine, version=version + 1, actual=13, reason="late returns from a contractor")
    assert (changed.status, changed.approved_by) == ("submitted", "")
    with Session(engine) as session:
        query = select(AuditLog.field_name, AuditLog.old_value, AuditLog.new_value, AuditLog.reason)
        rows = session.exec(query.where(AuditLog.id > trail)).all()
    assert set(rows) >= {
        ("actual", "12.0", "13.0", "late returns from a contractor"),
        ("status", "approved", "submitted", "late returns from a contractor"),
    }


def audit_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.max(AuditLog.id))).scalar_one()


def test_an_outlier_is_reviewed_before_it_is_approved(engine, council) -> None:
    add_history(engine, council["HOU03"], [7.0, 7.5, 8.0, 7.2, 7.8, 7.4], last="2016-03")
    typed = {"actual": 30, "commentary": "c", "corrective_action": "a", "outlier_note": "flood"}
    version = submitted(engine, "HOU03", **typed)
    seen = {("HOU03", "2016-03"): version}
    with pytest.raises(entry.EntryRefused, match="review it"):
        approval.approve(engine, user=OFFICER, seen=seen)
    approval.review_outlier(
        engine, user=OFFICER, code="HOU03", period="2016-03", seen_version=version
    )
    assert approval.approve(engine, user=OFFICER, seen={("HOU03", "2016-03"): version + 1}) == 1
