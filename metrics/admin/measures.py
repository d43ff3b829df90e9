"""Metric templates as an administrator keeps them: created, edited (the definition version goes
up, every changed field is audited with the reason) and retired from a month, never deleted."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, timedelta
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
from metrics.models import Initiative, Metric, Priority, Service, Team
from metrics.queries import admin as reads
from metrics.queries import workbook as workbook_reads
from metrics.workbook import cells
from metrics.workbook.cells import Cell
from metrics.workbook.validate import (
    AGGREGATION,
    METRIC_FIELDS,
    blank_metric,
    default_aggregation,
    holding_values_reason,
    kept_when_holding_values,
    row_problems,
)

WHAT = "metric templates"
EMAIL_LIMIT = 320
# attribute -> (the workbook's column name, its cell reader): a form's field is read as a cell.
READERS: dict[str, tuple[str, Callable[[Cell], Any]]] = {
    **{attribute: (column, parse) for column, (attribute, parse) in METRIC_FIELDS.items()},
    "aggregation": ("Aggregation", AGGREGATION),
    "tolerance": ("Tolerance", cells.tolerance),
}
REQUIRED = {"title", "tier", "unit", "polarity", "frequency"}
LINKS: dict[str, tuple[str, type[Any]]] = {
    "priority": ("Priority", Priority),
    "initiative": ("Initiative", Initiative),
    "service": ("Service", Service),
    "team": ("Team", Team),
}
FIXED = {"code", "definition_version", "version", "id"}  # never typed into an edit


def email(cell: Cell) -> str:
    """An e-mail address: one '@' with text either side, no spaces, kept in lower case."""
    value = cells.text(EMAIL_LIMIT)(cell).lower()
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain or "@" in domain or " " in value:
        raise cells.Invalid(f"{cells.clip(value)} is not an e-mail address")
    return value


READERS["responsible_email"] = ("Responsible e-mail", email)


def create_measure(
    engine: Engine, *, actor: CurrentUser, code: str, fields: Mapping[str, object], reason: str
) -> Metric:
    """A new measure from a form: the workbook's checks on every field, its links by code."""
    require_admin(actor, WHAT)
    form = Form()
    read_code = form.read("Code", code, cells.code, required=True)
    why = form.reason(reason)
    with store.write(engine) as session:
        held = workbook_reads.metrics_by_code(session)
        if read_code and read_code.casefold() in held:
            form.fail("Code", f"the code '{read_code}' is already held")
        wanted = _template(form, session, actor, read_code, fields, held, current=None)
        form.raise_if_any()
        metric = Metric(code=read_code, **wanted)
        session.add(metric)
        session.flush()
        shown = {_name(k): _shown(session, k, v, held) for k, v in wanted.items()}
        store.audit(
            session,
            actor=actor.email,
            action="create",
            entity="metric",
            entity_key=metric.code,
            new_value=json.dumps(shown, sort_keys=True, default=str, ensure_ascii=False),
            reason=why,
        )
        store.bump_data_version(session)
    return metric


def edit_measure(
    engine: Engine,
    *,
    actor: CurrentUser,
    code: str,
    seen_version: int,
    fields: Mapping[str, object],
    reason: str,
) -> Metric:
    """Change a measure's template as typed: its definition version goes up by one and each
    changed field is audited with the reason; a stale version is refused."""
    require_admin(actor, WHAT)
    form = Form()
    why = form.reason(reason)
    with store.write(engine) as session:
        held = workbook_reads.metrics_by_code(session)
        metric = _visible(form, actor, held, code)
        if metric is None:
            raise AdminRefused(form.problems)
        wanted = _template(form, session, actor, metric.code, fields, held, current=metric)
        now = {k: getattr(metric, k) for k in wanted if k in fields}
        _check(session, metric, seen_version, now)
        changes = {k: (getattr(metric, k), v) for k, v in wanted.items() if getattr(metric, k) != v}
        if "frequency" in changes or "unit" in changes:
            _kept(form, session, metric, wanted)
        if not changes and not form.problems:
            form.fail("fields", "nothing was changed")
        form.raise_if_any()
        changes["definition_version"] = (metric.definition_version, metric.definition_version + 1)
        return _update(session, actor, metric, changes, why, held)


def retire_measure(
    engine: Engine,
    *,
    actor: CurrentUser,
    code: str,
    seen_version: int,
    from_month: str,
    reason: str,
) -> Metric:
    """Stop reporting a measure from a month on (its `Active to` becomes the month before); its
    values and history stay. Refused while it holds a value from that month on."""
    require_admin(actor, WHAT)
    form = Form()
    why = form.reason(reason)
    first = form.read("Retire from", from_month, cells.month(last=False), required=True)
    with store.write(engine) as session:
        held = workbook_reads.metrics_by_code(session)
        metric = _visible(form, actor, held, code)
        if metric is None or first is None:
            raise AdminRefused(form.problems)
        _check(session, metric, seen_version, {"active_to": metric.active_to})
        start = date(int(first[:4]), int(first[5:7]), 1)
        last_day = start - timedelta(days=1)
        active_to = f"{last_day.year}-{last_day.month:02d}"
        found = reads.first_value_from(session, metric_id=metric.id or 0, day=start)
        if found:
            form.fail(
                "Retire from",
                f"{metric.code} holds a value for {found}; retire it from a later month",
            )
        fields = {"active_from": metric.active_from, "active_to": active_to}
        for column, problem in row_problems(metric.code, fields, {}, service_given=True):
            form.fail(column, problem)
        form.raise_if_any()
        changes = {"active_to": (metric.active_to, active_to)}
        return _update(session, actor, metric, changes, why, held, action="retire")


# --- Reading the form --------------------------------------------------------------------------


def _visible(form: Form, actor: CurrentUser, held: dict[str, Metric], code: str) -> Metric | None:
    metric = held.get(str(code).strip().casefold())
    if metric is None or not may_see(actor.clearance, metric.marking):
        form.fail("Code", f"no measure {cells.clip(str(code))}")
        return None
    return metric


def _template(
    form: Form,
    session: Session,
    actor: CurrentUser,
    code: str | None,
    fields: Mapping[str, object],
    held: dict[str, Metric],
    *,
    current: Metric | None,
) -> dict[str, Any]:
    """Metric attributes from typed fields: blank is the workbook's blank, links are codes.
    `current` is the measure being edited (None: a new one); what is not typed stays."""
    creating = current is None
    blank = blank_metric()
    wanted: dict[str, Any] = {}
    for name, value in fields.items():
        if name in FIXED:
            form.fail(name, "not a field that can be typed here")
        elif name in READERS:
            column, parse = READERS[name]
            read = form.read(column, value, parse, required=name in REQUIRED)
            if name == "tolerance":
                wanted["tolerance"], wanted["tolerance_is_percent"] = read or (None, True)
            else:
                wanted[name] = blank.get(name, "") if read is None else read
        elif name not in LINKS and name != "aligned_to":
            form.fail(name, "not a field of a metric template")
    if creating:
        for name in sorted(REQUIRED - set(fields)):
            form.fail(READERS[name][0], "this field is required, but it is blank")
        wanted = {**blank, **wanted}
        wanted.setdefault("aggregation", default_aggregation(wanted.get("unit") or ""))
    if "aggregation" in wanted and not wanted["aggregation"]:
        wanted["aggregation"] = default_aggregation(wanted.get("unit") or "")
    marking = wanted.get("marking")
    if marking and not may_see(actor.clearance, marking):
        form.fail("Marking", f"you are not cleared for {marking}, so you may not set it")
    wanted.update(_links(form, session, actor, code, fields, held, current))
    dates = {k: wanted.get(k, getattr(current, k, None)) for k in ("active_from", "active_to")}
    for column, problem in row_problems(code, dates, {}, service_given=True):
        form.fail(column, problem)
    return wanted


def _links(
    form: Form,
    session: Session,
    actor: CurrentUser,
    code: str | None,
    fields: Mapping[str, object],
    held: dict[str, Metric],
    current: Metric | None,
) -> dict[str, int | None]:
    """Ids for the codes typed for priority, initiative, service, team and aligned-to; a link
    not typed stays as the measure being edited holds it."""
    found: dict[str, Any] = {}
    for name, (column, model) in LINKS.items():
        if name not in fields:
            continue
        typed = form.read(column, fields[name], level_code)
        row = next(
            (r for r in workbook_reads.rows_of(session, model=model) if r.code == typed), None
        )
        if typed and row is None:
            form.fail(column, f"no {name} has the code '{typed}'")
        elif row is not None and row.retired_from:
            form.fail(column, f"the {name} '{typed}' is retired from {row.retired_from}")
        found[name] = row
    service, team = found.get("service"), found.get("team")
    if "service" not in fields and current is not None and current.service_id is not None:
        service = session.get(Service, current.service_id)
    if service is not None and team is not None and team.service_id != service.id:
        form.fail("Team", f"the team '{team.code}' is not in the service '{service.code}'")
    target = form.read("Aligned to", fields.get("aligned_to"), cells.code)
    aligned = held.get(target.casefold()) if target else None
    if target and (aligned is None or not may_see(actor.clearance, aligned.marking)):
        form.fail("Aligned to", f"no metric has the code '{target}'")
    links = {"team": team and team.code, "aligned_to": target}
    for column, problem in row_problems(code, {}, links, service_given=service is not None):
        form.fail(column, problem)
    ids: dict[str, int | None] = {f"{k}_id": v.id if v else None for k, v in found.items()}
    if "aligned_to" in fields:
        ids["aligned_to_id"] = aligned.id if aligned else None
    return ids


def _kept(form: Form, session: Session, metric: Metric, wanted: dict[str, Any]) -> None:
    """A measure holding values keeps its frequency and stays percent or not (the workbook's)."""
    if not workbook_reads.metric_ids_with_values(session, ids=[metric.id or 0]):
        return
    frequency = wanted.get("frequency", metric.frequency)
    unit = wanted.get("unit", metric.unit)
    for column, was in kept_when_holding_values(metric, frequency=frequency, unit=unit):
        form.fail(column, holding_values_reason(metric.code, was))


# --- Writing -------------------------------------------------------------------------------------


def _check(session: Session, metric: Metric, seen: int, now: Mapping[str, object]) -> None:
    check_version(
        session,
        entity="metric",
        key=metric.code,
        what=f"The template of {metric.code}",
        held_version=metric.version,
        seen_version=seen,
        now=now,
    )


def _update(
    session: Session,
    actor: CurrentUser,
    metric: Metric,
    changes: dict[str, tuple[Any, Any]],
    reason: str,
    held: dict[str, Metric],
    *,
    action: str = "template",
) -> Metric:
    session.expunge(metric)
    values = {k: new for k, (_, new) in changes.items()}
    store.versioned_update(session, Metric, metric.id or 0, metric.version, **values)
    shown = {
        _name(k): (_shown(session, k, old, held), _shown(session, k, new, held))
        for k, (old, new) in changes.items()
    }
    audit_changes(
        session,
        actor=actor,
        action=action,
        entity="metric",
        key=metric.code,
        changes=shown,
        reason=reason,
    )
    for name, new in values.items():
        setattr(metric, name, new)
    metric.version += 1
    store.bump_data_version(session)
    return metric


def _name(attribute: str) -> str:
    """A field's name as the audit shows it: `team`, not `team_id`."""
    return attribute.removesuffix("_id") if attribute.endswith("_id") else attribute


def _shown(session: Session, attribute: str, value: Any, held: dict[str, Metric]) -> Any:
    """A field as the audit shows it: codes rather than ids."""
    if attribute == "aligned_to_id":
        return next((m.code for m in held.values() if m.id == value), None)
    if attribute.removesuffix("_id") in LINKS and attribute.endswith("_id"):
        model = LINKS[attribute.removesuffix("_id")][1]
        rows = workbook_reads.rows_of(session, model=model)
        return next((r.code for r in rows if r.id == value), None)
    return value
