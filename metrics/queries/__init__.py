"""The read layer: every SELECT the pages and the command line need, filtered by clearance.

Keyword-only functions taking an Engine and returning frames (or plain values); no rule is
applied here. A measure the clearance may not see is never returned, not even as an aligned-to
code. Visibility is `access.effective_marking` against `access.visible_markings`, written once
for SQL in `visible_to` (see `docs/marking-and-roles.md`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Engine,
    Integer,
    and_,
    any_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlmodel import Session, col

from metrics import frames  # before any frame is read: pandas' text storage
from metrics.access import CurrentUser, user_from_row, visible_markings
from metrics.models import (
    AuditLog,
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
from metrics.periods import UnknownPeriod, month_for
from metrics.queries import bulk
from metrics.vocab import Marking

__all__ = ["UnknownPeriod", "month_for"]  # re-exported: the CLI refuses an UnknownPeriod


def effective_marking(table: type[Metric] = Metric) -> ColumnElement[str]:
    """SQL `access.effective_marking`: blank is OFFICIAL, an unknown marking OFFICIAL-SENSITIVE."""
    known = [marking.value for marking in Marking]
    return case(
        (func.coalesce(col(table.marking), "") == "", Marking.OFFICIAL.value),
        (col(table.marking).in_(known), col(table.marking)),
        else_=Marking.OFFICIAL_SENSITIVE.value,
    )


def visible_to(clearance: str, table: type[Metric] = Metric) -> ColumnElement[bool]:
    """SQL `access.may_see`: the metric's effective marking is one the clearance may see."""
    return effective_marking(table).in_(visible_markings(clearance))


def among(engine: Engine, column: Any, ids: list[int]) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL as one array parameter (`= ANY`), since psycopg took most
    of a second to parse a statement of 20,000 placeholders (docs/performance.md, XL)."""
    if engine.dialect.name == "postgresql":
        return column == any_(bindparam("ids", [int(i) for i in ids], type_=ARRAY(Integer)))
    return column.in_(ids)


# The template's own columns, in the catalogue's order: what every reader of measures needs. Not
# its definition, a paragraph a measure, read for the one measure a page describes
# (`definition`): every page reads the templates of every measure the reader may see (a county's
# 20,000 definitions would be megabytes a page).
TEMPLATE = [
    *("code", "title", "tier", "unit", "decimals", "polarity", "frequency"),
    *("aggregation", "tolerance", "tolerance_is_percent", "risk_impact", "marking", "data_only"),
    *("active_from", "active_to", "responsible_officer"),
]


# Where a measure sits: the id column, the table, and the code and name columns it gives.
PLACES: list[tuple[str, type[Priority | Initiative | Service | Team], str, str]] = [
    ("priority_id", Priority, "priority_code", "priority"),
    ("initiative_id", Initiative, "initiative_code", "initiative"),
    ("service_id", Service, "service_code", "service"),
    ("team_id", Team, "team_code", "team"),
]


def metric_frame(
    engine: Engine, *, clearance: str, tier: str | None = None, codes: list[str] | None = None
) -> pd.DataFrame:
    """Metric templates the clearance may see, with their place in the line of sight."""
    query: Any = select(
        col(Metric.id).label("metric_id"),
        *[col(getattr(Metric, name)) for name in TEMPLATE],
        *[col(getattr(Metric, ids)) for ids, *_ in PLACES],
        col(Metric.aligned_to_id),
    ).where(visible_to(clearance))
    if tier:
        query = query.where(col(Metric.tier) == tier)
    if codes is not None:
        query = query.where(col(Metric.code).in_(codes))
    # The places' codes and names are looked up here, not joined: joined, PostgreSQL sent each
    # name with each of XL's 20,000 measures (a fifth of the read) and pandas made a string of
    # each one (docs/performance.md).
    places = union_all(
        *[
            select(
                literal(name).label("kind"),
                col(table.id),
                col(table.code),
                col(table.name),
            )
            for _, table, _, name in PLACES
        ]
    ).subquery()
    with engine.connect() as connection:
        frame = driver_rows(connection, query)
        known = fetched_rows(connection, select(places))  # a few hundred: see structure_frames
        aligned = frame.pop("aligned_to_id")
        if tier is None and codes is None:  # every measure it may see is here: no other read
            [frame["aligned_to"]] = _by_id(aligned, frame["metric_id"], frame["code"])
        else:
            frame["aligned_to"] = _aligned_codes(engine, connection, aligned, clearance=clearance)
    for ids, _, code_column, name_column in PLACES:
        mine, place = known[known["kind"] == name_column], frame.pop(ids)
        place_codes, names = _by_id(place, mine["id"], mine["code"], mine["name"])
        at = frame.columns.get_loc("aligned_to")
        frame.insert(at, code_column, place_codes)
        frame.insert(at + 1, name_column, names)
    frame["tolerance"] = frame["tolerance"].astype(float)
    for flag in ("tolerance_is_percent", "data_only"):  # SQLite's driver gives 0 and 1
        frame[flag] = frame[flag].astype(bool)
    # In code order, sorted here: PostgreSQL sorted the 20,000 wide rows of XL on disk (40 ms of
    # the query's 90), and its collation need not order codes as SQLite does.
    return frames.in_text_order(frame, "code")


def definition(engine: Engine, *, code: str, clearance: str) -> str | None:
    """What a measure the clearance may see counts, and what it does not; None for an unknown
    code and for one the reader may not see."""
    query = select(col(Metric.definition)).where(col(Metric.code) == code, visible_to(clearance))
    with engine.connect() as connection:
        return connection.execute(query).scalar_one_or_none()


def _by_id(ids: pd.Series, known: pd.Series, *values: pd.Series) -> list[pd.Series]:
    """The values of each id among the `known` ones (each of `values`, in their order), missing
    where the id is missing or unknown: text as the driver gives a column of text, and a column
    of None where none is found (as it gives a column of NULLs only)."""
    place = pd.Index(known.to_numpy(dtype="int64")).get_indexer(ids.fillna(-1).astype("int64"))
    if (place < 0).all():
        return [pd.Series([None] * len(ids), index=ids.index, dtype=object) for _ in values]
    # the few values made text once, then taken: None last, at -1
    texts = [pd.array([*column.to_numpy(dtype=object), None], dtype="str") for column in values]
    return [pd.Series(text.take(place), index=ids.index) for text in texts]


def _aligned_codes(
    engine: Engine, connection: Connection, aligned: pd.Series, *, clearance: str
) -> pd.Series:
    """The code of the measure each is aligned to, by id: blank where there is none, or where the
    clearance may not see it (not even its code is named). Looked up apart from the templates:
    joined to them, PostgreSQL sorted all 20,000 of XL to merge them (40 ms of 120)."""
    ids = [int(i) for i in pd.unique(aligned.dropna())]
    found = (
        connection.execute(
            select(col(Metric.id), col(Metric.code)).where(
                among(engine, col(Metric.id), ids), visible_to(clearance)
            )
        ).all()
        if ids
        else []
    )
    known = pd.DataFrame(found, columns=["id", "code"])
    return _by_id(aligned, known["id"], known["code"])[0]


def driver_rows(connection: Connection, query: Any) -> pd.DataFrame:
    """The query's rows as a frame, straight from the database driver: SQLAlchemy's conversion,
    row by row, was half of the values' read at L (docs/performance.md). The caller converts
    what the driver leaves raw (SQLite's dates are text, its booleans 0 and 1). On PostgreSQL
    the rows come by COPY, in bulk, as the driver would give them (`queries.bulk`)."""
    if bulk.copies(connection, query):
        return bulk.copied_rows(connection, query)
    return fetched_rows(connection, query)


def fetched_rows(connection: Connection, query: Any) -> pd.DataFrame:
    """The query's rows fetched from the driver all at once, made a frame by pandas: what
    `driver_rows` gives where it does not copy (and what a copy must equal)."""
    result = connection.execute(query)
    return pd.DataFrame.from_records(result.cursor.fetchall(), columns=list(result.keys()))


def value_frame(
    engine: Engine,
    *,
    metric_ids: list[int],
    first_end: date,
    last_end: date,
    approved_only: bool = False,
    actuals_only: bool = False,
) -> pd.DataFrame:
    """Period values of these metrics whose periods end between the two dates (with
    `approved_only`, approved values only: the committee's view; with `actuals_only`, only
    where each is and its actual: what an XmR history needs of earlier years)."""
    where = [
        col(PeriodValue.metric_id),
        col(PeriodValue.period),
        col(PeriodValue.fiscal_year),
        col(PeriodValue.period_end),
        col(PeriodValue.actual),
    ]
    rest = [
        col(PeriodValue.numerator),
        col(PeriodValue.denominator),
        col(PeriodValue.target),
        col(PeriodValue.target_upper),
        col(PeriodValue.commentary),
        col(PeriodValue.corrective_action),
        col(PeriodValue.status).label("approval"),
    ]
    query = select(*where, *([] if actuals_only else rest)).where(
        among(engine, col(PeriodValue.metric_id), metric_ids),
        col(PeriodValue.period_end) >= first_end,
        col(PeriodValue.period_end) <= last_end,
    )
    if approved_only:
        query = query.where(col(PeriodValue.status) == "approved")
    with engine.connect() as connection:
        frame = driver_rows(connection, query)  # the columns are converted whole below
    frame["period_end"] = pd.to_datetime(frame["period_end"], format="ISO8601").dt.date
    for column in ("actual", "numerator", "denominator", "target", "target_upper"):
        if column in frame:
            frame[column] = frame[column].astype(float)
    return frame


def reported_span(
    engine: Engine, *, clearance: str, submitted_only: bool = False, approved_only: bool = False
) -> tuple[date | None, date | None]:
    """The first and last period end with a value of a metric the clearance may see (with
    `submitted_only`, only submitted or approved actuals count; with `approved_only`, only
    approved ones); (None, None) when none has."""
    counted = [col(PeriodValue.metric_id) == col(Metric.id), visible_to(clearance)]
    if submitted_only or approved_only:
        counted += [
            col(PeriodValue.actual).is_not(None),
            col(PeriodValue.status).in_(
                ["approved"] if approved_only else ["submitted", "approved"]
            ),
        ]

    def end(order: Any) -> Any:
        # The period-end index walked from one end to the first value that counts: a row or two
        # read, where a seek a measure read 20,000 index entries at XL (0.3 s, three times a
        # page). A clearance that sees no measure would walk every value, so it is asked first.
        return (
            select(col(PeriodValue.period_end)).where(*counted).order_by(order).limit(1)
        ).scalar_subquery()

    anyone = select(col(Metric.id)).where(visible_to(clearance)).limit(1)
    query = select(end(col(PeriodValue.period_end).asc()), end(col(PeriodValue.period_end).desc()))
    with engine.connect() as connection:
        if connection.execute(anyone).first() is None:
            return None, None
        first, last = connection.execute(query).one()
    as_date = lambda day: None if day is None else pd.Timestamp(day).date()  # noqa: E731
    return as_date(first), as_date(last)


def structure_frames(engine: Engine) -> dict[str, pd.DataFrame]:
    """Priorities, initiatives, which priorities each initiative delivers, services and teams
    (none of them carries a protective marking), in display order."""
    queries = {
        "priorities": select(
            col(Priority.code), col(Priority.name), col(Priority.sort_order)
        ).order_by(col(Priority.sort_order), col(Priority.code)),
        "initiatives": select(col(Initiative.code), col(Initiative.name)).order_by(
            col(Initiative.code)
        ),
        "delivers": select(
            col(Initiative.code).label("initiative_code"), col(Priority.code).label("priority_code")
        )
        .join(InitiativePriority, col(InitiativePriority.initiative_id) == col(Initiative.id))
        .join(Priority, col(InitiativePriority.priority_id) == col(Priority.id))
        .order_by(col(Priority.sort_order), col(Initiative.code)),
        "services": select(col(Service.code), col(Service.name)).order_by(col(Service.name)),
        "teams": select(col(Team.code), col(Team.name), col(Service.code).label("service_code"))
        .join(Service, col(Team.service_id) == col(Service.id))
        .order_by(col(Service.name), col(Team.name)),
    }
    # Fetched, not copied: a few hundred rows each, for which a COPY's statement (compiled anew
    # each time, where SQLAlchemy caches a SELECT's) and its parse cost more than the rows
    # (XL: 11 ms copied, 6 ms fetched). pandas' read_sql asked the catalogue first, each time.
    with engine.connect() as connection:
        return {name: fetched_rows(connection, query) for name, query in queries.items()}


def audit_rows(engine: Engine, *, code: str) -> pd.DataFrame:
    """The audit rows of one metric's template and values, newest first. The caller checks the
    reader may see the metric before asking."""
    query = (
        select(
            col(AuditLog.at),
            col(AuditLog.actor),
            col(AuditLog.action),
            col(AuditLog.entity_key),
            col(AuditLog.field_name),
            col(AuditLog.old_value),
            col(AuditLog.new_value),
            col(AuditLog.reason),
        )
        .where(
            or_(
                and_(
                    col(AuditLog.entity) == "period_value",
                    col(AuditLog.entity_key).startswith(f"{code}/", autoescape=True),
                ),
                and_(col(AuditLog.entity) == "metric", col(AuditLog.entity_key) == code),
            )
        )
        .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
    )
    with engine.connect() as connection:
        return pd.read_sql(query, connection)


def user(engine: Engine, *, email: str) -> CurrentUser | None:
    """The active user with this e-mail (case-insensitive), with their service scope."""
    with Session(engine) as session:
        row = session.scalars(select(User).where(col(User.email) == email.strip().lower())).first()
        if row is None:
            return None
        services = session.scalars(
            select(col(Service.name))
            .join(UserService, col(UserService.service_id) == col(Service.id))
            .where(col(UserService.user_id) == row.id)
        ).all()
        return user_from_row(row, services)


def users(engine: Engine) -> list[CurrentUser]:
    """Every active user, for the demo persona picker."""
    with Session(engine) as session:
        emails = session.scalars(
            select(col(User.email)).where(col(User.active)).order_by(col(User.id))
        ).all()
    return [found for email in emails if (found := user(engine, email=email))]


def people(engine: Engine) -> tuple[list[str], list[str]]:
    """Every user's e-mail (active or not) and every actor the audit trail names, for telling
    the demo council's database from a council's own."""
    with engine.connect() as connection:
        emails = list(connection.execute(select(col(User.email))).scalars())
        actors = list(connection.execute(select(col(AuditLog.actor)).distinct()).scalars())
    return emails, actors
