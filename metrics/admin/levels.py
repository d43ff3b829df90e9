"""Priorities, ME2E initiatives, services and teams as an administrator keeps them: created,
renamed, retired from a month (never deleted) and re-aligned (a team to another service, an
initiative to the priorities it delivers), each version-checked and audited with a reason."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from metrics import store
from metrics.access import CurrentUser, may_see
from metrics.admin.common import (
    AdminRefused,
    Form,
    audit_changes,
    check_version,
    level_code,
    require_admin,
)
from metrics.levels import TEAM_CODE_LIMIT, Levels
from metrics.models import Initiative, InitiativePriority, Metric, Priority, Service, Team
from metrics.names import fold
from metrics.queries import admin as reads
from metrics.queries import workbook as workbook_reads
from metrics.workbook import cells

WHAT = "priorities, initiatives, services or teams"
MODELS: dict[str, type[Any]] = {
    "priority": Priority,
    "initiative": Initiative,
    "service": Service,
    "team": Team,
}
WORDS = {
    "priority": "priority",
    "initiative": "ME2E initiative",
    "service": "service",
    "team": "team",
}


def create_level(
    engine: Engine,
    *,
    actor: CurrentUser,
    kind: str,
    name: str,
    reason: str,
    code: str = "",
    service: str = "",
    priorities: Sequence[str] = (),
) -> Any:
    """A new priority, initiative, service or team (within `service`, by code); an initiative
    may name the priorities it delivers. The code is made from the name unless one is typed."""
    require_admin(actor, WHAT)
    model, form = _model(kind), Form()
    read_name = form.read("Name", name, cells.name, required=True)
    read_code = form.read("Code", code, cells.code)
    why = form.reason(reason)
    with store.write(engine) as session:
        levels = Levels(session, actor=actor.email, reason=why)
        scope: dict[str, Any] = {}
        parent = None
        if kind == "team":
            parent = _pick(form, session, "service", service, "Service", required=True)
            scope = {"service_id": parent.id} if parent else {}
        delivers = _priorities(form, session, priorities) if kind == "initiative" else []
        if read_name and (kind != "team" or scope):
            _unique_name(form, levels.rows[model], read_name, kind, scope)
        if read_code and parent is not None:
            read_code = f"{parent.code}/{read_code}"  # a team's code is behind its service's
            if len(read_code) > TEAM_CODE_LIMIT:
                form.fail("Code", f"'{read_code}' is longer than {TEAM_CODE_LIMIT} characters")
        if read_code and read_code in {row.code for row in levels.rows[model]}:
            form.fail("Code", f"the code '{read_code}' is already held")
        form.raise_if_any()
        if read_code:
            row = model(code=read_code, name=read_name, **scope)
            session.add(row)
            session.flush()
            levels.rows[model].append(row)
            store.audit(
                session,
                actor=actor.email,
                action="create",
                entity=kind,
                entity_key=read_code,
                new_value=read_name,
                reason=why,
            )
        else:
            row = levels.find(model, read_name, **scope)
        for priority in delivers:
            levels.link(row, priority)
        store.bump_data_version(session)
    return row


def rename_level(
    engine: Engine,
    *,
    actor: CurrentUser,
    kind: str,
    code: str,
    seen_version: int,
    name: str,
    reason: str,
) -> Any:
    """A new name (its code stays: links and history keep pointing at it)."""
    require_admin(actor, WHAT)
    model, form = _model(kind), Form()
    read_name = form.read("Name", name, cells.name, required=True)
    why = form.reason(reason)
    with store.write(engine) as session:
        row = _held(form, session, kind, code, seen_version)
        rows = workbook_reads.rows_of(session, model=model)
        scope = {"service_id": row.service_id} if kind == "team" else {}
        others = [r for r in rows if r.id != row.id]
        if read_name:
            _unique_name(form, others, read_name, kind, scope)
        if read_name and read_name == row.name:
            form.fail("Name", "it already has this name")
        form.raise_if_any()
        return _write(session, actor, kind, row, {"name": (row.name, read_name)}, why, "rename")


def retire_level(
    engine: Engine,
    *,
    actor: CurrentUser,
    kind: str,
    code: str,
    seen_version: int,
    from_month: str | None,
    reason: str,
) -> Any:
    """Retire a level from a month on (blank: reinstate it). Refused while a measure it owns is
    still reported from that month: retire or move those first."""
    require_admin(actor, WHAT)
    _model(kind)
    form = Form()
    month = form.read("Retire from", from_month, cells.month(last=False))
    why = form.reason(reason)
    with store.write(engine) as session:
        row = _held(form, session, kind, code, seen_version)
        if month:
            owned = reads.measures_owned(session, attribute=f"{kind}_id", level_id=row.id)
            live = [m for m in owned if (m.active_to or "9999") >= month]
            if live:
                form.fail("Retire from", _still_reported(actor, live, month))
        if month == row.retired_from:
            form.fail("Retire from", "nothing was changed")
        form.raise_if_any()
        changes = {"retired_from": (row.retired_from, month)}
        return _write(session, actor, kind, row, changes, why, "retire" if month else "reinstate")


def realign_level(
    engine: Engine,
    *,
    actor: CurrentUser,
    kind: str,
    code: str,
    seen_version: int,
    reason: str,
    service: str = "",
    priorities: Sequence[str] = (),
) -> Any:
    """Move a team (and the measures it owns) to another service, or say which priorities an
    initiative delivers; priorities and services sit under nothing."""
    require_admin(actor, WHAT)
    form = Form()
    why = form.reason(reason)
    if kind not in ("team", "initiative"):
        raise AdminRefused([("kind", f"a {WORDS.get(kind, kind)} is not aligned to anything")])
    with store.write(engine) as session:
        row = _held(form, session, kind, code, seen_version)
        if kind == "initiative":
            return _deliver(session, actor, form, row, priorities, why)
        parent = _pick(form, session, "service", service, "Service", required=True)
        if parent is not None and parent.id == row.service_id:
            form.fail("Service", f"the team is already in the service '{parent.code}'")
        elif parent is not None:
            rows = workbook_reads.rows_of(session, model=Team)
            others = [r for r in rows if r.id != row.id]
            _unique_name(form, others, row.name, kind, {"service_id": parent.id})
        form.raise_if_any()
        assert parent is not None  # a missing service is a problem raised above
        old = next(
            s.code for s in workbook_reads.rows_of(session, model=Service) if s.id == row.service_id
        )
        for metric in reads.measures_owned(session, attribute="team_id", level_id=row.id):
            session.expunge(metric)
            store.versioned_update(
                session, Metric, metric.id or 0, metric.version, service_id=parent.id
            )
            audit_changes(
                session,
                actor=actor,
                action="realign",
                entity="metric",
                key=metric.code,
                changes={"service": (old, parent.code)},
                reason=why,
            )
        changes = {"service_id": (row.service_id, parent.id)}
        written = _write(
            session, actor, kind, row, changes, why, "realign", shown=(old, parent.code)
        )
        return written


# --- Helpers -----------------------------------------------------------------------------------


def _model(kind: str) -> type[Any]:
    if kind not in MODELS:
        raise AdminRefused([("kind", f"'{kind}' is not a priority, initiative, service or team")])
    return MODELS[kind]


def _held(form: Form, session: Session, kind: str, code: str, seen_version: int) -> Any:
    """The level with this code, at the version the administrator saw."""
    row = next(
        (r for r in workbook_reads.rows_of(session, model=MODELS[kind]) if r.code == code), None
    )
    if row is None:
        form.fail("Code", f"no {WORDS[kind]} has the code {cells.clip(str(code))}")
        raise AdminRefused(form.problems)
    check_version(
        session,
        entity=kind,
        key=row.code,
        what=f"The {WORDS[kind]} {row.code}",
        held_version=row.version,
        seen_version=seen_version,
        now={"name": row.name, "retired from": row.retired_from or "not retired"},
    )
    return row


def _pick(
    form: Form, session: Session, kind: str, code: object, column: str, *, required: bool = False
) -> Any:
    """A live (not retired) level by its code, or a problem."""
    typed = form.read(column, code, level_code, required=required)
    if not typed:
        return None
    row = next(
        (r for r in workbook_reads.rows_of(session, model=MODELS[kind]) if r.code == typed), None
    )
    if row is None:
        form.fail(column, f"no {WORDS[kind]} has the code '{typed}'")
    elif row.retired_from:
        form.fail(column, f"the {WORDS[kind]} '{typed}' is retired from {row.retired_from}")
        return None
    return row


def _priorities(form: Form, session: Session, codes: Sequence[str]) -> list[Priority]:
    found = [_pick(form, session, "priority", code, "Priorities") for code in codes]
    return [row for row in found if row is not None]


def _unique_name(form: Form, rows: list[Any], name: str, kind: str, scope: dict[str, Any]) -> None:
    """Names are unique (a team's within its service), compared without case or spacing."""
    for row in rows:
        if fold(row.name) == fold(name) and all(getattr(row, k) == v for k, v in scope.items()):
            where = " in this service" if kind == "team" else ""
            form.fail("Name", f"a {WORDS[kind]} named {cells.clip(row.name)} already exists{where}")
            return


def _still_reported(actor: CurrentUser, live: list[Metric], month: str) -> str:
    """Which measures block a retirement, naming only those the actor may see."""
    shown = [m.code for m in live if may_see(actor.clearance, m.marking)]
    hidden = len(live) - len(shown)
    names = ", ".join(shown[:10]) + (f" and {len(shown) - 10} more" if len(shown) > 10 else "")
    if hidden:
        names = f"{names}{' and ' if names else ''}{hidden} you are not cleared to see"
    return (
        f"{len(live)} measure(s) are still reported from {month} ({names}); "
        "retire or move them first"
    )


def _deliver(
    session: Session,
    actor: CurrentUser,
    form: Form,
    row: Initiative,
    codes: Sequence[str],
    why: str,
) -> Initiative:
    """Replace the priorities an initiative delivers."""
    wanted = _priorities(form, session, codes)
    rows = {p.id: p.code for p in workbook_reads.rows_of(session, model=Priority)}
    held = {p for i, p in workbook_reads.delivery_links(session) if i == row.id}
    new = {p.id for p in wanted}
    if new == held and not form.problems:
        form.fail("Priorities", "nothing was changed")
    form.raise_if_any()
    for priority_id in held - new:
        link = session.get(InitiativePriority, (row.id, priority_id))
        session.delete(link)
    for added in new - held:
        session.add(InitiativePriority(initiative_id=row.id or 0, priority_id=added or 0))
    shown = (
        ", ".join(sorted(rows[i] for i in held)),
        ", ".join(sorted(rows[i] or "" for i in new)),
    )
    return _write(
        session, actor, "initiative", row, {}, why, "realign", shown=shown, field="priorities"
    )


def _write(
    session: Session,
    actor: CurrentUser,
    kind: str,
    row: Any,
    changes: dict[str, tuple[Any, Any]],
    reason: str,
    action: str,
    *,
    shown: tuple[Any, Any] | None = None,
    field: str = "service",
) -> Any:
    """The version-checked UPDATE, one audit row per field, and the data version bumped."""
    values = {k: new for k, (_, new) in changes.items()}
    session.expunge(row)
    store.versioned_update(session, MODELS[kind], row.id, row.version, **values)
    audited = {k: v for k, v in changes.items() if k != "service_id"}
    if shown is not None:
        audited[field] = shown
    audit_changes(
        session,
        actor=actor,
        action=action,
        entity=kind,
        key=row.code,
        changes=audited,
        reason=reason,
    )
    for name, new in values.items():
        setattr(row, name, new)
    row.version += 1
    store.bump_data_version(session)
    return row
