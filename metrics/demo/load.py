"""The demo council into a database: written as a template workbook, imported through the
workbook import, then described, and its users created, every change audited."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any, cast

import numpy as np
from openpyxl import Workbook
from sqlalchemy import Engine
from sqlmodel import Session, select

from metrics import store, workbook
from metrics.demo.source import (
    DEMO_USERS,
    METRIC_NUMBER_COLUMNS,
    VALUE_COLUMNS,
    DemoError,
    initiative_priorities,
    initiatives_frame,
    metrics_frame,
    priorities_frame,
)
from metrics.demo.values import values_frame
from metrics.levels import Levels
from metrics.models import (
    Initiative,
    Metric,
    Priority,
    Service,
    Team,
    User,
    UserService,
)

# --- The workbook and the database ---------------------------------------------------------------


def _cell(value: Any) -> Any:
    """Blanks (and NaN) as empty cells, whole numbers as int, the rest as the export writes it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float | np.floating):
        return int(value) if float(value).is_integer() else float(value)
    return workbook.cell_value(value)


def _metric_cell(column: str, text: str) -> Any:
    """A Metrics cell: numeric columns (and absolute tolerances) as numbers, the rest as text."""
    numeric = column in METRIC_NUMBER_COLUMNS or (column == "Tolerance" and "%" not in text)
    if numeric and text.strip():
        return _cell(float(text))
    return _cell(text)


def write_demo_workbook(path: Path) -> None:
    """Write the demo's Metrics and Values sheets as a workbook the template import reads."""
    book = Workbook()
    metrics_sheet = book.active
    metrics_sheet.title = "Metrics"
    templates = metrics_frame()
    metrics_sheet.append(list(templates.columns))
    for record in templates.itertuples(index=False):
        metrics_sheet.append(
            [_metric_cell(c, t) for c, t in zip(templates.columns, record, strict=True)]
        )
    values_sheet = book.create_sheet("Values")
    values = values_frame()
    values_sheet.append(VALUE_COLUMNS)
    for record in values.itertuples(index=False):
        values_sheet.append([_cell(value) for value in record])
    book.save(path)


DEMO_REASON = "demo council"
# Every kind of row the demo writes first-hand: any one held means the database is in use.
EMPTY_TABLES = {
    Metric: "metrics",
    Priority: "priorities",
    Initiative: "initiatives",
    Service: "services",
    Team: "teams",
    User: "users",
}


def load_demo(engine: Engine, *, actor: str = "demo loader") -> None:
    """Load the demo council into an empty database, all of it in one transaction or nothing.

    Refuses if any metric, priority, initiative, service, team or user is already held, so a
    council's own data is never mixed with the demo's.
    """
    with tempfile.TemporaryDirectory() as folder, store.write(engine) as session:
        _require_empty(session)
        path = Path(folder) / "melbury-vale-demo.xlsx"
        write_demo_workbook(path)
        workbook.import_workbook_in(session, path, actor=actor)
        levels = Levels(session, actor=actor, reason=DEMO_REASON)
        _describe_line_of_sight(session, levels, actor)
        _create_users(session, actor)
        store.bump_data_version(session)


def _require_empty(session: Session) -> None:
    """DemoError unless every table the demo fills is empty."""
    held = [
        noun
        for m, noun in EMPTY_TABLES.items()
        if session.scalars(select(cast(Any, m)).limit(1)).first()
    ]
    if held:
        raise DemoError(
            f"the database already holds {', '.join(held)}; the demo council loads only into an "
            "empty database (remove the database file, or point SCORECARD_DATABASE_URL elsewhere)"
        )


def _set(session: Session, row: Any, field: str, value: Any, actor: str) -> None:
    old = getattr(row, field)
    if old == value:
        return
    setattr(row, field, value)
    session.add(row)
    store.audit(
        session,
        actor=actor,
        action="update",
        entity=type(row).__tablename__,
        entity_key=row.code,
        field_name=field,
        old_value=old,
        new_value=value,
        reason=DEMO_REASON,
    )


def _describe_line_of_sight(session: Session, levels: Levels, actor: str) -> None:
    """Descriptions and plan order for priorities, descriptions and links for initiatives."""
    for order, record in enumerate(priorities_frame().itertuples(index=False), start=1):
        priority = levels.find(Priority, record.name)
        _set(session, priority, "description", record.description, actor)
        _set(session, priority, "sort_order", order, actor)
    for record in initiatives_frame().itertuples(index=False):
        initiative = levels.find(Initiative, record.name)
        _set(session, initiative, "description", record.description, actor)
        for name in initiative_priorities(record.priorities):
            levels.link(initiative, levels.find(Priority, name))


def _create_users(session: Session, actor: str) -> None:
    """One demo user per role (the user table was found empty), each audited with its access."""
    services = {s.name: s for s in session.exec(select(Service))}
    for person in DEMO_USERS:
        user = User(
            email=person["email"],
            name=person["name"],
            role=person["role"],
            clearance=person["clearance"],
        )
        session.add(user)
        session.flush()
        for name in person["services"]:
            if name not in services:
                raise DemoError(f"the demo user {person['email']} names an unknown service {name}")
            service_id = services[name].id
            assert user.id is not None and service_id is not None  # both flushed
            session.add(UserService(user_id=user.id, service_id=service_id))
        access = {key: person[key] for key in ("role", "clearance", "services")}
        store.audit(
            session,
            actor=actor,
            action="create",
            entity="user",
            entity_key=user.email,
            new_value=json.dumps(access, sort_keys=True),
            reason=DEMO_REASON,
        )
