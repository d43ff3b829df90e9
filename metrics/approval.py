"""The performance officer approves or returns submitted values; nobody approves their own.

Each call is one write (check who, lock, compare versions, audit), all or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine

from metrics import access, store
from metrics.config import Settings, settings
from metrics.entry import Entry, EntryRefused, Held, hold
from metrics.entry_writes import update_value, update_values
from metrics.models import ClosedYear
from metrics.validation import Problem
from metrics.vocab import ApprovalState


def _may_approve(user: access.CurrentUser, _service: str | None, marking: str) -> None:
    access.require_approve(user, marking=marking)


def _problem(h: Held, name: str, message: str) -> Problem:
    return Problem(h.metric.code, h.period.label, name, message)


def approval_problems(h: Held, user: access.CurrentUser) -> list[Problem]:
    """Why this officer may not approve this held value now (empty when they may)."""
    value = h.value
    if value is None or value.status != ApprovalState.SUBMITTED:
        state = value.status if value else "not entered"
        return [_problem(h, "approval", f"only a submitted value can be approved; it is {state}")]
    if value.entered_by.casefold() == user.email.casefold():
        return [_problem(h, "approval", "you entered or last changed it: another officer approves")]
    if value.outlier and not value.outlier_reviewed_by:
        return [_problem(h, "outlier_note", "it is outside its natural process limits: review it")]
    return []


def approve(
    engine: Engine,
    *,
    user: access.CurrentUser,
    seen: Mapping[tuple[str, str], int],
    config: Settings | None = None,
) -> int:
    """Approve submitted values, (code, period) -> the version the officer saw: one value or a
    team at once. Refused whole if any is not submitted, is the officer's own or is an outlier
    not yet reviewed; a value changed since it was seen is a conflict. Returns how many."""
    config = config or settings()
    with store.write(engine) as session:
        entries = [Entry(code, period, version) for (code, period), version in seen.items()]
        held = hold(session, user, entries, config, require=_may_approve)
        problems = [p for h in held for p in approval_problems(h, user)]
        if problems:
            raise EntryRefused(problems)
        changes = {
            "status": ApprovalState.APPROVED.value,
            "approved_by": user.email,
            "approved_at": store.now(),
        }
        update_values(
            session, user, [(h, changes) for h in held], reason="approved", action="approve"
        )
        store.bump_data_version(session)
    return len(held)


def return_value(
    engine: Engine,
    *,
    user: access.CurrentUser,
    code: str,
    period: str,
    seen_version: int,
    reason: str,
    config: Settings | None = None,
) -> None:
    """Return a submitted value to its service manager with a reason they will see."""
    config = config or settings()
    with store.write(engine) as session:
        [h] = hold(session, user, [Entry(code, period, seen_version)], config, _may_approve)
        problems = []
        if h.value is None or h.value.status != ApprovalState.SUBMITTED:
            problems.append(_problem(h, "approval", "only a submitted value can be returned"))
        if not reason.strip():
            problems.append(_problem(h, "reason", "say what the service manager should change"))
        if problems:
            raise EntryRefused(problems)
        changes = {
            "status": ApprovalState.RETURNED.value,
            "return_reason": reason.strip(),
            "returned_by": user.email,
        }
        update_value(session, user, h, changes, reason=reason.strip(), action="return")
        store.bump_data_version(session)


def review_outlier(
    engine: Engine,
    *,
    user: access.CurrentUser,
    code: str,
    period: str,
    seen_version: int,
    config: Settings | None = None,
) -> None:
    """Record that an officer other than its enterer has looked again at an outlier."""
    config = config or settings()
    with store.write(engine) as session:
        [h] = hold(session, user, [Entry(code, period, seen_version)], config, _may_approve)
        if h.value is None or not h.value.outlier:
            raise EntryRefused([_problem(h, "outlier_note", "this value is not an outlier")])
        if h.value.entered_by.casefold() == user.email.casefold():
            raise EntryRefused([_problem(h, "outlier_note", "another officer must review it")])
        changes = {"outlier_reviewed_by": user.email}
        update_value(session, user, h, changes, reason=h.value.outlier_note, action="review")
        store.bump_data_version(session)


def close_year(engine: Engine, *, user: access.CurrentUser, fiscal_year: str, reason: str) -> None:
    """An administrator closes a financial year: its values no longer change."""
    access.require_administer(user)
    with store.write(engine) as session:
        if session.get(ClosedYear, fiscal_year) is not None:
            return
        row = ClosedYear(
            fiscal_year=fiscal_year, closed_by=user.email, closed_at=store.now(), reason=reason
        )
        session.add(row)
        store.audit(
            session,
            actor=user.email,
            action="close",
            entity="closed_year",
            entity_key=fiscal_year,
            new_value="closed",
            reason=reason,
        )
        store.bump_data_version(session)
