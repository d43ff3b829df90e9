"""Reads for data entry, approval and data quality (issue 8), in one module for the read layer.

Functions taking a `Session` run inside the caller's write transaction (after the write lock),
so what they return cannot change before the write that uses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pandas as pd
from sqlalchemy import Engine, case, func, select, tuple_
from sqlmodel import Session, col

from metrics import access, periods
from metrics.config import Settings, settings
from metrics.models import AuditLog, ClosedYear, Metric, PeriodValue, Service, TargetPlan
from metrics.vocab import ApprovalState, Role

IN_LIST_CHUNK = 500


def metrics_for_entry(session: Session, *, codes: Iterable[str]) -> dict[str, tuple[Metric, str]]:
    """Each metric named (codes matched in any case), with its owning service's name."""
    wanted = sorted({code.casefold() for code in codes})
    found: dict[str, tuple[Metric, str]] = {}
    query = select(Metric, col(Service.name)).outerjoin(
        Service, col(Metric.service_id) == col(Service.id)
    )
    for start in range(0, len(wanted), IN_LIST_CHUNK):
        chunk = wanted[start : start + IN_LIST_CHUNK]
        for metric, service in session.execute(query.where(col(Metric.code).in_(chunk))):
            found[metric.code.casefold()] = (metric, service or "")
    if len(found) < len(wanted):  # codes held in another case: rare, so one wider look
        for metric, service in session.execute(query):
            found.setdefault(metric.code.casefold(), (metric, service or ""))
    return found


def values_for_update(
    session: Session, *, keys: Iterable[tuple[int, str]]
) -> dict[tuple[int, str], PeriodValue]:
    """The held values for these (metric id, period) pairs."""
    wanted = sorted(set(keys))
    found: dict[tuple[int, str], PeriodValue] = {}
    for start in range(0, len(wanted), IN_LIST_CHUNK):
        chunk = wanted[start : start + IN_LIST_CHUNK]
        query = select(PeriodValue).where(
            tuple_(col(PeriodValue.metric_id), col(PeriodValue.period)).in_(chunk)
        )
        for value in session.scalars(query):
            found[(value.metric_id, value.period)] = value
    return found


def history(session: Session, *, metric_ids: Iterable[int], first_end: date) -> pd.DataFrame:
    """Values of these metrics from periods ending on or after `first_end`, oldest first."""
    ids = sorted(set(metric_ids))
    query = (
        select(
            col(PeriodValue.metric_id),
            col(PeriodValue.period),
            col(PeriodValue.fiscal_year),
            col(PeriodValue.period_end),
            col(PeriodValue.actual),
            col(PeriodValue.numerator),
            col(PeriodValue.denominator),
            col(PeriodValue.target),
            col(PeriodValue.target_upper),
        )
        .where(col(PeriodValue.metric_id).in_(ids), col(PeriodValue.period_end) >= first_end)
        .order_by(col(PeriodValue.metric_id), col(PeriodValue.period_end))
    )
    frame = pd.DataFrame(session.execute(query).all(), columns=list(query.selected_columns.keys()))
    for column in ("actual", "numerator", "denominator", "target", "target_upper"):
        frame[column] = frame[column].astype(float)
    frame["period_end"] = pd.to_datetime(frame["period_end"]).dt.date
    return frame


def closed_years(session: Session) -> set[str]:
    """The financial years the council has closed."""
    return set(session.scalars(select(col(ClosedYear.fiscal_year))))


def last_change(session: Session, *, entity: str, entity_key: str) -> AuditLog | None:
    """The latest audit row for one entity: who last changed it, and when."""
    query = (
        select(AuditLog)
        .where(col(AuditLog.entity) == entity, col(AuditLog.entity_key) == entity_key)
        .order_by(col(AuditLog.id).desc())
        .limit(1)
    )
    return session.scalars(query).first()


def target_plan(session: Session, *, metric_id: int, fiscal_year: str) -> TargetPlan | None:
    """How the metric's targets for the year were set, if they were."""
    query = select(TargetPlan).where(
        col(TargetPlan.metric_id) == metric_id, col(TargetPlan.fiscal_year) == fiscal_year
    )
    return session.scalars(query).first()


def audit_rows(engine: Engine, *, entity_key_prefix: str) -> pd.DataFrame:
    """Raw audit rows whose key starts with the prefix (`CP03/` for every period of CP03)."""
    query = (
        select(AuditLog)
        .where(col(AuditLog.entity_key).startswith(entity_key_prefix, autoescape=True))
        .order_by(col(AuditLog.id))
    )
    with Session(engine) as session:
        rows = [row.model_dump() for row in session.scalars(query)]
    return pd.DataFrame(rows, columns=list(AuditLog.model_fields))


# --- The grid of due periods that "My month" and data quality read ---------------------------

GRID_VALUE_COLUMNS = [
    "value_id",
    "actual",
    "numerator",
    "denominator",
    "commentary",
    "corrective_action",
    "approval",
    "version",
    "entered_by",
    "entered_at",
    "submitted_at",
    "return_reason",
    "returned_by",
    "outlier",
    "outlier_note",
    "outlier_reviewed_by",
    "approved_by",
]


def ended_months(today: date, count: int, fy_start: int = 4) -> list[periods.Period]:
    """The `count` months that ended most recently before `today`, oldest first."""
    this_month = periods.month_period(today.year, today.month, fy_start)
    return [periods.shift(this_month, -step, fy_start) for step in range(count, 0, -1)]


def entry_months(held: list[str], default: str, today: date, fy_start: int = 4) -> list[str]:
    """The months My month offers, newest first: those holding values, the default, and the
    month after the newest of them once it has ended (the next month's entry starts there)."""
    months = {default, *held}
    following = periods.shift(periods.month_for(max(months), fy_start), 1, fy_start)
    if following.end < today:
        months.add(following.label)
    return sorted(months, reverse=True)


def due_grid(
    engine: Engine, *, clearance: str, months: list[periods.Period], config: Settings
) -> pd.DataFrame:
    """One row per metric (the clearance may see) due in each month, with its value's state,
    its responsible officer's e-mail and its entry deadline (`config.deadline`: working days,
    bank holidays skipped)."""
    from metrics import due_rows, queries  # the template's reader and the due-period rule

    fy_start = config.financial_year_start_month
    metrics = queries.metric_frame(engine, clearance=clearance)
    frames = [
        due_rows.due_periods(metrics, month, fy_start, config.deadline).assign(month=month.label)
        for month in months
    ]
    frames = [frame for frame in frames if not frame.empty]
    if not frames or metrics.empty:
        return pd.DataFrame(
            columns=[*metrics.columns, "period", "month", "deadline", *GRID_VALUE_COLUMNS]
        )
    grid = pd.concat(frames, ignore_index=True)
    emails = _responsible_emails(engine)
    grid["responsible_email"] = grid["metric_id"].map(emails).fillna("")
    values = _grid_values(engine, grid)
    return grid.merge(values, on=["metric_id", "period"], how="left")


def _responsible_emails(engine: Engine) -> dict[int, str]:
    with engine.connect() as connection:
        rows = connection.execute(select(col(Metric.id), col(Metric.responsible_email))).all()
    return {row[0]: row[1] for row in rows if row[0] is not None}


def _grid_values(engine: Engine, grid: pd.DataFrame) -> pd.DataFrame:
    """The held value of each (metric, period) in the grid."""
    first, last = min(grid["period_end"]), max(grid["period_end"])
    query = select(
        col(PeriodValue.metric_id),
        col(PeriodValue.period),
        col(PeriodValue.id).label("value_id"),
        *(getattr(PeriodValue, c) for c in GRID_VALUE_COLUMNS if c not in ("value_id", "approval")),
        col(PeriodValue.status).label("approval"),
    ).where(col(PeriodValue.period_end) >= first, col(PeriodValue.period_end) <= last)
    with engine.connect() as connection:
        values = pd.read_sql(query, connection)
    for column in ("actual", "numerator", "denominator"):
        values[column] = values[column].astype(float)
    return values


def in_scope(frame: pd.DataFrame, user: access.CurrentUser) -> pd.DataFrame:
    """A service manager's rows are their own services'; others see every row they may see."""
    if user.role is Role.SERVICE_MANAGER:
        return frame[frame["service"].isin(user.services)]
    return frame


STILL_DUE = ("", ApprovalState.DRAFT.value, ApprovalState.RETURNED.value)


def default_entry_month(
    engine: Engine, *, user: access.CurrentUser, today: date, config: Settings
) -> str:
    """The month "My month" opens on: the earliest month with a value still due from the user,
    else the last month looked at (docs/data-entry.md, "My month").

    The months looked at are the 12 up to the month after the latest actual the user's measures
    hold (or up to the latest ended month, if that is sooner; the last 12 ended months when no
    actual is held): work is reckoned from where the user's figures stand, not from the
    calendar alone, so a council's data read years later still opens on its open work. A value
    is still due in a period its measure is due and active in, in the user's services, with no
    value or a draft or returned one, in a financial year not closed, and not before the
    measure's first value row (a measure holding none is due throughout)."""
    from metrics import queries  # the template's reader

    fy_start = config.financial_year_start_month
    latest_ended = ended_months(today, 1, fy_start)[-1]
    mine = in_scope(queries.metric_frame(engine, clearance=user.clearance), user)
    spans = _value_spans(engine)
    spans = spans[spans["metric_id"].isin(mine["metric_id"])]
    last = spans["last_actual"].dropna().max() if not spans.empty else None
    end = latest_ended
    if last is not None and not pd.isna(last):
        end = min(end, periods.shift(periods.month_of(last, fy_start), 1, fy_start))
    months = [periods.shift(end, -step, fy_start) for step in range(11, -1, -1)]
    grid = in_scope(due_grid(engine, clearance=user.clearance, months=months, config=config), user)
    with Session(engine) as session:
        closed = closed_years(session)
    first = grid["metric_id"].map(spans.set_index("metric_id")["first_row"])
    due = grid[
        grid["approval"].fillna("").isin(STILL_DUE)
        & ~grid["fiscal_year"].isin(closed)
        & (first.isna() | (pd.to_datetime(grid["period_end"]) >= pd.to_datetime(first)))
    ]
    return str(due["month"].min()) if not due.empty else end.label


def _value_spans(engine: Engine) -> pd.DataFrame:
    """Per metric: the end of its first value row (of any kind: a target alone says the
    measure is expected then) and of its latest row holding an actual."""
    with_actual = case((col(PeriodValue.actual).is_not(None), col(PeriodValue.period_end)))
    query = select(
        col(PeriodValue.metric_id),
        func.min(col(PeriodValue.period_end)).label("first_row"),
        func.max(with_actual).label("last_actual"),
    ).group_by(col(PeriodValue.metric_id))
    with engine.connect() as connection:
        frame = pd.DataFrame(
            connection.execute(query).all(), columns=list(query.selected_columns.keys())
        )
    for column in ("first_row", "last_actual"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


MY_MONTH_COLUMNS = [
    "service",
    "team",
    "code",
    "title",
    "unit",
    "decimals",
    "aggregation",
    "polarity",
    "period",
    "previous",
    "last_year",
    "target",
    "target_upper",
    "actual",
    "numerator",
    "denominator",
    "commentary",
    "corrective_action",
    "approval",
    "version",
    "return_reason",
    "outlier",
    "outlier_note",
    "rag",
    "explanation",
    "ytd",
    "ytd_target",
    "ytd_target_upper",
    "tolerance",
    "tolerance_is_percent",
    "data_only",
    "deadline",
]


def my_month(
    engine: Engine,
    *,
    user: access.CurrentUser,
    month: str | None = None,
    today: date | None = None,
    config: Settings | None = None,
) -> tuple[str, pd.DataFrame]:
    """The month (default: `default_entry_month`) and every measure of the user's services due
    in it, grouped by team, rated, with its held version (0: no value yet) for the save."""
    from metrics import views  # the month is rated by the one pipeline, through its view

    config, today = config or settings(), today or date.today()
    month = month or default_entry_month(engine, user=user, today=today, config=config)
    rated = in_scope(
        views.status(engine, period=month, clearance=user.clearance, today=today, settings=config),
        user,
    )
    if rated.empty:
        return month, pd.DataFrame(columns=MY_MONTH_COLUMNS)
    grid = due_grid(
        engine,
        clearance=user.clearance,
        months=[periods.month_for(month, config.financial_year_start_month)],
        config=config,
    )
    state = grid.set_index(["metric_id", "period"])[
        ["version", "return_reason", "outlier", "outlier_note"]
    ]
    frame = rated.join(state, on=["metric_id", "period"])
    frame["version"] = frame["version"].fillna(0).astype(int)
    frame["outlier"] = frame["outlier"].fillna(False).astype(bool)
    frame[["return_reason", "outlier_note"]] = frame[["return_reason", "outlier_note"]].fillna("")
    frame["approval"] = frame["approval"].fillna("not entered")
    return month, frame.sort_values(["team", "code"])[MY_MONTH_COLUMNS].reset_index(drop=True)
