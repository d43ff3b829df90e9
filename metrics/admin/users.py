"""Users as an administrator keeps them: added, their role, service scope and clearance changed,
disabled (never deleted, so the audit trail keeps their names), each change audited."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from metrics import store
from metrics.access import CurrentUser, may_see
from metrics.admin.common import AdminRefused, Form, audit_changes, check_version, require_admin
from metrics.admin.measures import email
from metrics.models import Service, User, UserService
from metrics.queries import admin as reads
from metrics.queries import workbook as workbook_reads
from metrics.vocab import Marking, Role
from metrics.workbook import cells

WHAT = "users"
ROLE = cells.choice(Role, "a role")
CLEARANCE = cells.choice(Marking, "a protective marking")


def add_user(
    engine: Engine,
    *,
    actor: CurrentUser,
    email_address: str,
    name: str,
    role: str,
    clearance: str,
    services: Sequence[str] = (),
    reason: str,
) -> User:
    """A new user, keyed by e-mail, with a role, a clearance and the services (by code) whose
    measures they may enter."""
    require_admin(actor, WHAT)
    form = Form()
    address = form.read("E-mail", email_address, email, required=True)
    fields = _fields(form, actor, name=name, role=role, clearance=clearance)
    why = form.reason(reason)
    with store.write(engine) as session:
        if address and reads.user_row(session, email=address) is not None:
            form.fail("E-mail", f"a user with the e-mail {address} already exists")
        scope = _services(form, session, services)
        form.raise_if_any()
        user = User(email=address, **fields)
        session.add(user)
        session.flush()
        for service in scope:
            session.add(UserService(user_id=user.id or 0, service_id=service.id or 0))
        shown = {**fields, "services": _codes(scope)}
        changes = {k: (None, v) for k, v in shown.items()}
        audit_changes(
            session,
            actor=actor,
            action="create",
            entity="user",
            key=user.email,
            changes=changes,
            reason=why,
        )
        store.bump_data_version(session)
    return user


def update_user(
    engine: Engine,
    *,
    actor: CurrentUser,
    email_address: str,
    seen_version: int,
    reason: str,
    name: str | None = None,
    role: str | None = None,
    clearance: str | None = None,
    services: Sequence[str] | None = None,
    active: bool | None = None,
) -> User:
    """Change a user's name, role, clearance, service scope or whether they may sign in (None:
    leave as is). An administrator may not lock themself out."""
    require_admin(actor, WHAT)
    form = Form()
    address = str(email_address).strip().lower()
    with store.write(engine) as session:
        user = reads.user_row(session, email=address)
        if user is None:
            raise AdminRefused([("E-mail", f"no user has the e-mail {cells.clip(address)}")])
        fields = _fields(
            form, actor, name=name, role=role, clearance=clearance, held_clearance=user.clearance
        )
        why = form.reason(reason)
        held_ids = reads.user_service_ids(session, user_id=user.id or 0)
        all_services = workbook_reads.rows_of(session, model=Service)
        held_scope = [s for s in all_services if s.id in held_ids]
        check_version(
            session,
            entity="user",
            key=user.email,
            what=f"The user {user.email}",
            held_version=user.version,
            seen_version=seen_version,
            now={
                "role": user.role,
                "clearance": user.clearance,
                "services": _codes(held_scope) or "none",
                "active": "yes" if user.active else "no",
            },
        )
        if active is not None:
            fields["active"] = bool(active)
        scope = held_scope if services is None else _services(form, session, services)
        if user.email == actor.email and (
            fields.get("active") is False or fields.get("role", user.role) != user.role
        ):
            form.fail("role", "you may not disable your own account or change your own role")
        changes: dict[str, tuple[Any, Any]] = {
            k: (getattr(user, k), v) for k, v in fields.items() if getattr(user, k) != v
        }
        if {s.id for s in scope} != held_ids:
            changes["services"] = (_codes(held_scope), _codes(scope))
        if not changes and not form.problems:
            form.fail("fields", "nothing was changed")
        form.raise_if_any()
        values = {k: new for k, (_, new) in changes.items() if k != "services"}
        session.expunge(user)
        store.versioned_update(session, User, user.id or 0, user.version, **values)
        if "services" in changes:
            _replace_scope(session, user.id or 0, held_ids, {s.id or 0 for s in scope})
        action = "disable" if values.get("active") is False else "update"
        audit_changes(
            session,
            actor=actor,
            action=action,
            entity="user",
            key=user.email,
            changes=changes,
            reason=why,
        )
        for key, value in values.items():
            setattr(user, key, value)
        user.version += 1
        store.bump_data_version(session)
    return user


def _fields(
    form: Form,
    actor: CurrentUser,
    *,
    name: str | None,
    role: str | None,
    clearance: str | None,
    held_clearance: str | None = None,
) -> dict[str, Any]:
    """The typed name, role and clearance that were given (None: not given)."""
    found: dict[str, Any] = {}
    if name is not None:
        found["name"] = form.read("Name", name, cells.name, required=True)
    if role is not None:
        found["role"] = form.read("Role", role, ROLE, required=True)
    if clearance is not None:
        read = form.read("Clearance", clearance, CLEARANCE, required=True)
        if read and read != held_clearance and not may_see(actor.clearance, read):
            form.fail("Clearance", f"you may not grant {read}: it is above your own clearance")
        found["clearance"] = read
    return found


def _services(form: Form, session: Session, codes: Sequence[str]) -> list[Service]:
    """Services by code, live ones only."""
    held = {s.code: s for s in workbook_reads.rows_of(session, model=Service)}
    found = []
    for code in dict.fromkeys(codes):
        service = held.get(code)
        if service is None:
            form.fail("Services", f"no service has the code {cells.clip(str(code))}")
        elif service.retired_from:
            form.fail("Services", f"the service '{code}' is retired from {service.retired_from}")
        else:
            found.append(service)
    return found


def _replace_scope(session: Session, user_id: int, held: set[int], wanted: set[int]) -> None:
    for service_id in held - wanted:
        session.delete(session.get(UserService, (user_id, service_id)))
    for service_id in wanted - held:
        session.add(UserService(user_id=user_id, service_id=service_id))


def _codes(services: Sequence[Service]) -> str:
    return ", ".join(sorted(s.code for s in services))
