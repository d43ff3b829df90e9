"""The writes of data entry, batched: a team's month of values is one executemany of
version-checked UPDATEs (`UPDATE ... WHERE id = ? AND version = ?`, every row counted), one
INSERT of the new rows and one executemany of audit rows, inside the caller's `store.write`
transaction after it has compared every version under the write lock. All or nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from sqlmodel import Session

from metrics import access, store
from metrics.models import PeriodValue
from metrics.vocab import ApprovalState

if TYPE_CHECKING:
    from metrics.entry import Checked, Held

AUDITED_QUIETLY = {"entered_by", "entered_at", "submitted_at", "approved_at"}


def write_checked(
    session: Session, user: access.CurrentUser, held: Sequence[Held], checked: Sequence[Checked]
) -> list[PeriodValue]:
    """Store checked entries as drafts (a changed approved value goes back to submitted): the
    new ones inserted, the changed ones updated, the unchanged ones left; each change audited."""
    saved: dict[int, PeriodValue] = {}
    new: list[tuple[int, Held, dict[str, object]]] = []
    planned: list[tuple[int, Held, dict[str, object]]] = []
    for index, (h, c) in enumerate(zip(held, checked, strict=True)):
        wanted = _wanted(h, c)
        if h.value is None:
            new.append((index, h, wanted))
        elif changes := _changes(user, h, wanted):
            planned.append((index, h, changes))
        else:
            saved[index] = h.value
    inserted = _insert(session, user, [(h, wanted) for _, h, wanted in new])
    updated = update_values(session, user, [(h, ch) for _, h, ch in planned], reason=None)
    saved |= {index: value for (index, _, _), value in zip(new, inserted, strict=True)}
    saved |= {index: value for (index, _, _), value in zip(planned, updated, strict=True)}
    return [saved[index] for index in range(len(held))]


def _wanted(h: Held, c: Checked) -> dict[str, object]:
    numbers = {"actual": c.actual, "numerator": c.numerator, "denominator": c.denominator}
    texts = {f: str(getattr(h.entry, f)).strip() for f in ("commentary", "corrective_action")}
    wanted: dict[str, object] = {**numbers, **texts, "outlier": c.outlier}
    wanted["outlier_note"] = h.entry.outlier_note.strip() if c.outlier else ""
    return wanted


def _changes(user: access.CurrentUser, h: Held, wanted: Mapping[str, object]) -> dict[str, object]:
    """What changes in a held value, with its new state; empty when nothing does."""
    assert h.value is not None
    changes: dict[str, object] = {k: v for k, v in wanted.items() if getattr(h.value, k) != v}
    if not changes:
        return changes
    if h.value.status == ApprovalState.APPROVED:
        changes |= {"status": ApprovalState.SUBMITTED.value, "approved_by": "", "approved_at": None}
    elif h.value.status == ApprovalState.SUBMITTED:
        changes["status"] = ApprovalState.DRAFT.value
    if "actual" in changes and h.value.outlier_reviewed_by:
        changes["outlier_reviewed_by"] = ""  # a changed value needs a fresh review
    return changes | {"entered_by": user.email, "entered_at": store.now()}


def update_value(
    session: Session,
    user: access.CurrentUser,
    h: Held,
    changes: Mapping[str, object],
    *,
    reason: str,
    action: str = "enter",
) -> PeriodValue:
    """Version-checked update of one held value; every changed field is audited."""
    return update_values(session, user, [(h, changes)], reason=reason, action=action)[0]


def update_values(
    session: Session,
    user: access.CurrentUser,
    updates: Sequence[tuple[Held, Mapping[str, object]]],
    *,
    reason: str | None,
    action: str = "enter",
) -> list[PeriodValue]:
    """Version-checked updates of held values, batched; every changed field is audited with
    `reason` (None: each entry's own)."""
    audit = []
    for h, changes in updates:
        value = h.value
        assert value is not None
        why = h.entry.reason.strip() if reason is None else reason
        audit += [
            store.audit_row(
                actor=user.email,
                action=action,
                entity="period_value",
                entity_key=h.key,
                field_name=name,
                old_value=getattr(value, name),
                new_value=new,
                reason=why,
            )
            for name, new in changes.items()
            if name not in AUDITED_QUIETLY
        ]
        session.expunge(value)  # the UPDATE below is the only write; the object is our copy
    store.versioned_update_many(
        session,
        PeriodValue,
        [(h.value.id or 0, h.value.version, changes) for h, changes in updates if h.value],
    )
    store.audit_many(session, audit)
    saved = []
    for h, changes in updates:
        value = h.value
        assert value is not None
        for name, new in changes.items():
            setattr(value, name, new)
        value.version += 1
        saved.append(value)
    return saved


def _insert(
    session: Session, user: access.CurrentUser, new: Sequence[tuple[Held, Mapping[str, object]]]
) -> list[PeriodValue]:
    """First values for their periods, as drafts at version 1, audited field by field."""
    if not new:
        return []
    values = [
        PeriodValue.model_validate(
            {
                **wanted,
                "metric_id": h.metric.id,
                "period": h.period.label,
                "fiscal_year": h.period.fiscal_year,
                "period_end": h.period.end,
                "status": ApprovalState.DRAFT.value,
                "entered_by": user.email,
                "entered_at": store.now(),
                "version": 1,
            }
        )
        for h, wanted in new
    ]
    session.add_all(values)
    session.flush()
    for value in values:
        session.expunge(value)
    store.audit_many(
        session,
        [
            store.audit_row(
                actor=user.email,
                action="enter",
                entity="period_value",
                entity_key=h.key,
                field_name=name,
                new_value=value,
                reason=h.entry.reason.strip(),
            )
            for h, wanted in new
            for name, value in wanted.items()
            if value not in (None, "", False)
        ],
    )
    return values
