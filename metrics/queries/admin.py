"""What the administration pages and services read: templates, levels and users as held.

Functions taking a `Session` run inside the caller's write transaction (after the write lock);
those taking an Engine feed the pages' cached readers. Measures are filtered by clearance.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlmodel import Session, SQLModel, col

from metrics.models import (
    Initiative,
    InitiativePriority,
    Metric,
    PeriodValue,
    Priority,
    Service,
    Team,
    User,
    UserService,
)
from metrics.queries import visible_to

LEVEL_MODELS: dict[str, type[SQLModel]] = {
    "priority": Priority,
    "initiative": Initiative,
    "service": Service,
    "team": Team,
}
TEMPLATE_COLUMNS = [
    "code",
    "title",
    "definition",
    "tier",
    "unit",
    "decimals",
    "polarity",
    "frequency",
    "aggregation",
    "tolerance",
    "tolerance_is_percent",
    "risk_impact",
    "marking",
    "data_only",
    "responsible_officer",
    "responsible_email",
    "data_source",
    "baseline",
    "active_from",
    "active_to",
    "definition_version",
    "version",
]


def user_row(session: Session, *, email: str) -> User | None:
    """The user with this e-mail (already lower case), active or not."""
    return session.scalars(select(User).where(col(User.email) == email)).first()


def user_service_ids(session: Session, *, user_id: int) -> set[int]:
    """The ids of the services in a user's scope."""
    query = select(col(UserService.service_id)).where(col(UserService.user_id) == user_id)
    return set(session.scalars(query))


def measures_owned(session: Session, *, attribute: str, level_id: int) -> list[Metric]:
    """The measures whose `priority_id`, `initiative_id`, `service_id` or `team_id` is this."""
    query = select(Metric).where(getattr(Metric, attribute) == level_id)
    return list(session.scalars(query.order_by(col(Metric.code))))


def first_value_from(session: Session, *, metric_id: int, day: date) -> str | None:
    """The earliest period holding an actual that ends on or after `day`, if any."""
    query = (
        select(col(PeriodValue.period))
        .where(
            col(PeriodValue.metric_id) == metric_id,
            col(PeriodValue.period_end) >= day,
            col(PeriodValue.actual).is_not(None),
        )
        .order_by(col(PeriodValue.period_end))
        .limit(1)
    )
    return session.scalars(query).first()


# --- For the pages -------------------------------------------------------------------------------


def templates_frame(engine: Engine, *, clearance: str) -> pd.DataFrame:
    """Every measure's template the clearance may see, with its links as codes and how many
    values it holds."""
    counts = (
        select(col(PeriodValue.metric_id), func.count().label("values_held"))
        .group_by(col(PeriodValue.metric_id))
        .subquery()
    )
    aligned = select(col(Metric.id).label("aid"), col(Metric.code).label("aligned_to")).subquery()
    query: Any = (
        select(
            *[getattr(Metric, name) for name in TEMPLATE_COLUMNS],
            col(Priority.code).label("priority"),
            col(Initiative.code).label("initiative"),
            col(Service.code).label("service"),
            col(Team.code).label("team"),
            aligned.c.aligned_to,
            func.coalesce(counts.c.values_held, 0).label("values_held"),
        )
        .outerjoin(Priority, col(Metric.priority_id) == col(Priority.id))
        .outerjoin(Initiative, col(Metric.initiative_id) == col(Initiative.id))
        .outerjoin(Service, col(Metric.service_id) == col(Service.id))
        .outerjoin(Team, col(Metric.team_id) == col(Team.id))
        .outerjoin(aligned, col(Metric.aligned_to_id) == aligned.c.aid)
        .outerjoin(counts, col(Metric.id) == counts.c.metric_id)
        .where(visible_to(clearance))
        .order_by(col(Metric.code))
    )
    with engine.connect() as connection:
        return pd.read_sql(query, connection)


def levels_frame(engine: Engine, *, kind: str) -> pd.DataFrame:
    """Every priority, initiative, service or team held, retired or not: code, name, retired
    from, version, what it sits under (a team's service, an initiative's priorities)."""
    model: Any = LEVEL_MODELS[kind]
    columns = [col(model.code), col(model.name), col(model.retired_from), col(model.version)]
    with Session(engine) as session:
        if kind == "team":
            query = select(*columns, col(Service.code).label("under")).join(
                Service, col(Team.service_id) == col(Service.id)
            )
            rows = session.execute(query.order_by(col(Team.code))).all()
            return pd.DataFrame(rows, columns=["code", "name", "retired_from", "version", "under"])
        rows = session.execute(select(*columns, col(model.id)).order_by(col(model.code))).all()
        frame = pd.DataFrame(rows, columns=["code", "name", "retired_from", "version", "id"])
        under: dict[int, list[str]] = {}
        if kind == "initiative":
            links = select(col(InitiativePriority.initiative_id), col(Priority.code)).join(
                Priority, col(InitiativePriority.priority_id) == col(Priority.id)
            )
            for initiative_id, code in session.execute(links.order_by(col(Priority.code))):
                under.setdefault(initiative_id, []).append(code)
    frame["under"] = [", ".join(under.get(int(i), [])) for i in frame["id"]]
    return frame.drop(columns="id")


def users_frame(engine: Engine) -> pd.DataFrame:
    """Every user, active or disabled, with the codes of the services in their scope."""
    with Session(engine) as session:
        users = session.scalars(select(User).order_by(col(User.email))).all()
        scope = session.execute(
            select(col(UserService.user_id), col(Service.code))
            .join(Service, col(UserService.service_id) == col(Service.id))
            .order_by(col(Service.code))
        ).all()
    services: dict[int, list[str]] = {}
    for user_id, code in scope:
        services.setdefault(user_id, []).append(code)
    rows = [
        {
            "email": u.email,
            "name": u.name,
            "role": u.role,
            "clearance": u.clearance,
            "services": ", ".join(services.get(u.id or 0, [])),
            "active": u.active,
            "version": u.version,
        }
        for u in users
    ]
    columns = ["email", "name", "role", "clearance", "services", "active", "version"]
    return pd.DataFrame(rows, columns=columns)
