"""SQLModel tables: the line of sight, metric templates, period values, users, audit, snapshots.

Coded columns hold the string values of the enums in `metrics.vocab`. Every schema change goes
through an Alembic migration in `metrics/migrations/versions`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel


class Priority(SQLModel, table=True):
    """A Corporate Plan priority (2015 onwards)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=40)
    name: str = Field(unique=True, max_length=200)
    description: str = ""
    sort_order: int = 0
    retired_from: str | None = Field(default=None, max_length=20)  # a month: gone from then on
    version: int = 1


class Initiative(SQLModel, table=True):
    """An ME2E (Melton Extending To Excellence) initiative; it delivers one or more priorities."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=40)
    name: str = Field(unique=True, max_length=200)
    description: str = ""
    retired_from: str | None = Field(default=None, max_length=20)
    version: int = 1


class InitiativePriority(SQLModel, table=True):
    """Which priorities an ME2E initiative delivers."""

    __tablename__ = "initiative_priority"
    initiative_id: int = Field(foreign_key="initiative.id", primary_key=True)
    priority_id: int = Field(foreign_key="priority.id", primary_key=True)


class Service(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=40)
    name: str = Field(unique=True, max_length=200)
    retired_from: str | None = Field(default=None, max_length=20)
    version: int = 1


class Team(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("service_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=80)
    name: str = Field(max_length=200)
    service_id: int = Field(foreign_key="service.id", index=True)
    retired_from: str | None = Field(default=None, max_length=20)
    version: int = 1


class Metric(SQLModel, table=True):
    """One row of a metric template (`docs/template-workbook.md`, the Metrics sheet)."""

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
    # Where reminders go: the responsible officer's e-mail (docs/data-entry.md, "Reminders").
    responsible_email: str = Field(default="", max_length=320)
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
    __table_args__ = (
        UniqueConstraint("metric_id", "period"),
        # The status query reads a window of period ends for the measures due (issue 12).
        Index("ix_period_value_metric_id_period_end", "metric_id", "period_end"),
    )
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
    submitted_at: datetime | None = None
    return_reason: str = ""
    returned_by: str = ""
    # A value outside its measure's natural process limits: confirmed by a note, then reviewed.
    outlier: bool = False
    outlier_note: str = ""
    outlier_reviewed_by: str = ""
    version: int = 1


class TargetPlan(SQLModel, table=True):
    """How a metric's targets for one financial year were set: the annual figure and profile."""

    __tablename__ = "target_plan"
    __table_args__ = (UniqueConstraint("metric_id", "fiscal_year"),)
    id: int | None = Field(default=None, primary_key=True)
    metric_id: int = Field(foreign_key="metric.id", index=True)
    fiscal_year: str = Field(max_length=7)
    profile: str = Field(max_length=20)
    annual_target: float | None = None
    annual_target_upper: float | None = None
    reason: str = ""
    set_by: str = ""
    set_at: datetime | None = None
    version: int = 1


class ClosedYear(SQLModel, table=True):
    """A financial year the council has closed: its values no longer change."""

    __tablename__ = "closed_year"
    fiscal_year: str = Field(primary_key=True, max_length=7)
    closed_by: str = ""
    closed_at: datetime | None = None
    reason: str = ""


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
    active: bool = True  # a user is disabled, never deleted: the audit trail keeps their name
    version: int = 1


class UserService(SQLModel, table=True):
    """The services whose metrics a service manager may enter."""

    __tablename__ = "user_service"
    user_id: int = Field(foreign_key="user.id", primary_key=True)
    service_id: int = Field(foreign_key="service.id", primary_key=True)


class Snapshot(SQLModel, table=True):
    """What a committee was shown for a period, frozen with a SHA-256 of its content.

    A snapshot and its rows, roll-ups and restatements are written once and never changed:
    triggers refuse UPDATE and DELETE on all four tables (migration 0002).
    """

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(index=True, max_length=20)
    committee: str = Field(default="", max_length=200)
    title: str = Field(default="", max_length=300)
    meeting_date: date | None = None
    marking: str = Field(default="OFFICIAL", max_length=40)
    rated_on: date
    include_unapproved: bool = False
    unapproved_count: int = 0
    taken_at: datetime
    taken_by: str = Field(default="", max_length=200)
    sha256: str = Field(max_length=64)


class SnapshotRow(SQLModel, table=True):
    """One measure as the committee saw it in a snapshot."""

    __tablename__ = "snapshot_row"
    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="snapshot.id", index=True)
    position: int
    code: str = Field(max_length=40)
    title: str = ""
    tier: str = Field(default="", max_length=40)
    priority: str = ""
    initiative: str = ""
    service: str = ""
    team: str = ""
    responsible_officer: str = ""
    marking: str = Field(default="OFFICIAL", max_length=40)
    unit: str = Field(default="number", max_length=20)
    decimals: int = 0
    polarity: str = Field(default="higher", max_length=20)
    frequency: str = Field(default="monthly", max_length=20)
    period: str = Field(default="", max_length=20)
    actual: float | None = None
    target: float | None = None
    target_upper: float | None = None
    ytd: float | None = None
    ytd_target: float | None = None
    status: str = Field(default="", max_length=20)
    explanation: str = ""
    dot_previous: str = Field(default="", max_length=20)
    dot_last_year: str = Field(default="", max_length=20)
    risk_score: int = 0
    risk_level: str = Field(default="", max_length=20)
    risk_why: str = ""  # migration 0006; blank in snapshots frozen before it
    forecast: float | None = None
    forecast_target: float | None = None
    forecast_status: str = Field(default="", max_length=20)
    spc_signal: str = Field(default="", max_length=40)
    commentary: str = ""
    corrective_action: str = ""
    approval: str = Field(default="", max_length=20)
    unapproved: bool = False
    last_updated: date | None = None


class SnapshotRollup(SQLModel, table=True):
    """Status counts of a tier or priority in a snapshot, as a reader of one marking sees them."""

    __tablename__ = "snapshot_rollup"
    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="snapshot.id", index=True)
    position: int
    scope: str = Field(max_length=40)
    level: str = Field(max_length=20)
    name: str = ""
    red: int = 0
    amber: int = 0
    green: int = 0
    data_only: int = 0
    missing: int = 0
    status: str = Field(default="", max_length=20)


class SnapshotRestatement(SQLModel, table=True):
    """A value or target an earlier snapshot published that has changed since, carried here."""

    __tablename__ = "snapshot_restatement"
    id: int | None = Field(default=None, primary_key=True)
    snapshot_id: int = Field(foreign_key="snapshot.id", index=True)
    position: int
    code: str = Field(max_length=40)
    title: str = ""
    tier: str = Field(default="", max_length=40)
    marking: str = Field(default="OFFICIAL", max_length=40)
    unit: str = Field(default="number", max_length=20)
    decimals: int = 0
    period: str = Field(max_length=20)
    field_name: str = Field(max_length=20)
    old_value: float | None = None
    new_value: float | None = None
    changed_by: str = ""
    changed_at: datetime | None = None
    reason: str = ""
    published_in: int = 0


class DataVersion(SQLModel, table=True):
    """One row; bumped in the same transaction as every write so cached reads know to refresh."""

    __tablename__ = "data_version"
    id: int = Field(default=1, primary_key=True)
    version: int = 0


class KeptRating(SQLModel, table=True):
    """One measure's rating of one of its periods, kept when first rated so that the next reader
    reads it instead of rating it again (`views.kept`). Derived data, never audited: triggers
    delete a measure's rows whenever its template or any of its values changes (migration 0007).

    `whole` rows hold everything a status shows; the others only what a RAG needs (the sentence,
    forecast and XmR columns blank). The other columns are those `pipeline.rate` adds to a
    due row, in its order, then the commentary the row shows (`rated.with_latest_commentary`)."""

    __tablename__ = "kept_rating"
    # A month's read of every measure finds its rows by period; a part's by measure (the key).
    __table_args__ = (Index("ix_kept_rating_period", "period", "approved_only"),)
    metric_id: int = Field(primary_key=True)
    period: str = Field(primary_key=True, max_length=20)
    approved_only: bool = Field(primary_key=True)
    whole: bool = True
    rated_today: date
    rules: str = Field(max_length=16)
    actual: float | None = None
    numerator: float | None = None
    denominator: float | None = None
    target: float | None = None
    target_upper: float | None = None
    commentary: str | None = None
    corrective_action: str | None = None
    approval: str | None = None
    previous: float | None = None
    last_year: float | None = None
    ytd: float | None = None
    ytd_target: float | None = None
    ytd_target_upper: float | None = None
    forecast: float | None = None
    forecast_target: float | None = None
    forecast_target_upper: float | None = None
    rated_on: str | None = None
    rag: str | None = None
    dot_previous: str | None = None
    dot_last_year: str | None = None
    risk_score: int = 0
    risk_level: str | None = None
    risk_why: str | None = None
    forecast_rag: str | None = None
    explanation: str | None = None
    spc_variation: str | None = None
    spc_assurance: str | None = None
    spc_variation_why: str | None = None
    spc_assurance_why: str | None = None
    # the commentary the row shows: its own, or the latest of the year before (migration 0008)
    latest_commentary: str | None = None
