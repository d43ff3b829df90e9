"""SQLModel tables: the line of sight, metric templates, period values, users, audit, snapshots.

Coded columns hold the string values of the enums in `metrics.vocab`. Every schema change goes
through an Alembic migration in `metrics/migrations/versions`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel


class Priority(SQLModel, table=True):
    """A Corporate Plan priority (2015 onwards)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=40)
    name: str = Field(unique=True, max_length=200)
    description: str = ""
    sort_order: int = 0


class Initiative(SQLModel, table=True):
    """An ME2E (Melton Extending To Excellence) initiative; it delivers one or more priorities."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=40)
    name: str = Field(unique=True, max_length=200)
    description: str = ""


class InitiativePriority(SQLModel, table=True):
    """Which priorities an ME2E initiative delivers."""

    __tablename__ = "initiative_priority"
    initiative_id: int = Field(foreign_key="initiative.id", primary_key=True)
    priority_id: int = Field(foreign_key="priority.id", primary_key=True)


class Service(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=40)
    name: str = Field(unique=True, max_length=200)


class Team(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("service_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=80)
    name: str = Field(max_length=200)
    service_id: int = Field(foreign_key="service.id", index=True)


class Metric(SQLModel, table=True):
    """One row of a metric template (DESIGN.md section 3)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=40)
    title: str = Field(max_length=300)
    definition: str = ""
    tier: str = Field(index=True, max_length=40)
    priority_id: int | None = Field(default=None, foreign_key="priority.id", index=True)
    initiative_id: int | None = Field(default=None, foreign_key="initiative.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="service.id", index=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    aligned_to_id: int | None = Field(default=None, foreign_key="metric.id", index=True)
    responsible_officer: str = ""
    unit: str = "number"
    decimals: int = 0
    polarity: str = "higher"
    frequency: str = "monthly"
    aggregation: str = "sum"
    tolerance: float | None = None
    tolerance_is_percent: bool = True
    risk_impact: int = 2
    marking: str = Field(default="OFFICIAL", index=True)
    data_source: str = ""
    baseline: float | None = None
    active_from: str | None = None
    active_to: str | None = None
    definition_version: int = 1
    data_only: bool = False
    version: int = 1


class PeriodValue(SQLModel, table=True):
    """A metric's actual, target and commentary for one period, with its approval state."""

    __tablename__ = "period_value"
    __table_args__ = (UniqueConstraint("metric_id", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    metric_id: int = Field(foreign_key="metric.id", index=True)
    period: str = Field(max_length=20)
    fiscal_year: str = Field(index=True, max_length=7)
    period_end: date = Field(index=True)
    actual: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    target: float | None = None
    target_upper: float | None = None
    commentary: str = ""
    corrective_action: str = ""
    status: str = Field(default="draft", max_length=20)
    entered_by: str = ""
    entered_at: datetime | None = None
    approved_by: str = ""
    approved_at: datetime | None = None
    version: int = 1


class AuditLog(SQLModel, table=True):
    """Append-only trail of every change: who, when, what, old value, new value, why."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=40)
    entity: str = Field(max_length=40)
    entity_key: str = Field(index=True, max_length=120)
    field_name: str = Field(default="", max_length=80)
    old_value: str | None = None
    new_value: str | None = None
    reason: str = ""


class User(SQLModel, table=True):
    """A person known to the app, keyed by e-mail; roles and scopes live here, not in the IdP."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True, unique=True, max_length=320)
    name: str = Field(max_length=200)
    role: str = Field(max_length=40)
    clearance: str = Field(default="OFFICIAL", max_length=40)
    active: bool = True


class UserService(SQLModel, table=True):
    """The services whose metrics a service manager may enter."""

    __tablename__ = "user_service"
    user_id: int = Field(foreign_key="user.id", primary_key=True)
    service_id: int = Field(foreign_key="service.id", primary_key=True)


class Snapshot(SQLModel, table=True):
    """What a committee was shown for a period, frozen with a SHA-256 of its content."""

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(index=True, max_length=20)
    title: str = ""
    meeting: str = ""
    marking: str = "OFFICIAL"
    taken_at: datetime
    taken_by: str = ""
    sha256: str = Field(max_length=64)
    content: str = ""


class DataVersion(SQLModel, table=True):
    """One row; bumped in the same transaction as every write so cached reads know to refresh."""

    __tablename__ = "data_version"
    id: int = Field(default=1, primary_key=True)
    version: int = 0
