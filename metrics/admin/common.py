"""What every administration service shares: its refusals, the role check, the form reader
(the workbook's cell readers on typed values), the version check and the audit row."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from metrics import store
from metrics.access import AccessDenied, CurrentUser
from metrics.queries import entry as entry_queries
from metrics.vocab import Role
from metrics.workbook import cells
from metrics.workbook.cells import Cell

REASON_LIMIT = 500


class AdminRefused(ValueError):
    """Some fields were wrong; each problem names the field and what to fix. Nothing changed."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in self.problems))


class AdminConflict(store.ConflictError):
    """Somebody changed the row since the administrator opened it: who, when and to what."""

    def __init__(
        self,
        *,
        what: str,
        changed_by: str,
        changed_at: datetime | None,
        changed_to: Mapping[str, object],
        version: int,
    ) -> None:
        self.what, self.version = what, version
        self.changed_by, self.changed_at, self.changed_to = changed_by, changed_at, dict(changed_to)
        when = f" at {changed_at:%d %b %Y %H:%M}" if changed_at else ""
        now = ", ".join(f"{k} {v}" for k, v in self.changed_to.items())
        super().__init__(
            f"{what} was changed by {changed_by or 'someone else'}{when} (now: {now}); nothing "
            "was saved and your typed values are kept: reload to see their change, then save again"
        )


def require_admin(actor: CurrentUser, what: str) -> None:
    """Only an administrator changes templates, levels and users."""
    if actor.role is not Role.ADMINISTRATOR:
        raise AccessDenied(f"A {actor.role.value} may not change {what}.")


def level_code(cell: Cell) -> str:
    """The code of a held level: a code, or for a team its service's code, '/', its own."""
    value = cells.as_text(cell.value).strip()
    parts = value.split("/")
    if len(parts) > 2:
        raise cells.Invalid(f"{cells.clip(value)} is not the code of a priority, service or team")
    return "/".join(cells.code(Cell(part)) for part in parts)


def blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class Form:
    """Reads typed fields with the workbook's cell readers, collecting a problem per field."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def read(
        self, field: str, value: object, parse: Callable[[Cell], Any], *, required: bool = False
    ) -> Any:
        """The value read by `parse`; None when blank (a problem if required) or unreadable."""
        if blank(value):
            if required:
                self.fail(field, "this field is required, but it is blank")
            return None
        try:
            read = parse(Cell(value))
            # Text read as text is never a formula: a number (-5) or a choice is no text.
            return cells.not_formula_like(read) if isinstance(read, str) else read
        except cells.Invalid as error:
            self.fail(field, str(error))
            return None

    def reason(self, value: str) -> str:
        """Why the change is made: required, one paragraph, no hidden controls."""
        read = self.read("reason", value, cells.text(REASON_LIMIT), required=True)
        return read or ""

    def fail(self, field: str, reason: str) -> None:
        self.problems.append((field, reason))

    def raise_if_any(self) -> None:
        if self.problems:
            raise AdminRefused(self.problems)


def check_version(
    session: Session,
    *,
    entity: str,
    key: str,
    what: str,
    held_version: int,
    seen_version: int,
    now: Mapping[str, object],
) -> None:
    """The version the administrator saw must be the one held; else say who changed it."""
    if held_version == seen_version:
        return
    last = entry_queries.last_change(session, entity=entity, entity_key=key)
    raise AdminConflict(
        what=what,
        changed_by=last.actor if last else "",
        changed_at=last.at if last else None,
        changed_to=now,
        version=held_version,
    )


def audit_changes(
    session: Session,
    *,
    actor: CurrentUser,
    action: str,
    entity: str,
    key: str,
    changes: Mapping[str, tuple[object, object]],
    reason: str,
) -> None:
    """One audit row per changed field: old and new value, and why."""
    for name, (old, new) in changes.items():
        store.audit(
            session,
            actor=actor.email,
            action=action,
            entity=entity,
            entity_key=key,
            field_name=name,
            old_value=old,
            new_value=new,
            reason=reason,
        )
