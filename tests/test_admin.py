"""Administration in the domain (metrics.admin): every write checks the role, reads the form
with the workbook's own checks, refuses bad input changing nothing, refuses a stale edit naming
who changed it, and audits each change with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from entry_council import ADMIN, DIRECTOR, MANAGER, OFFICER, build
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from metrics import admin, store
from metrics.access import AccessDenied, CurrentUser
from metrics.models import AuditLog, InitiativePriority, Metric, PeriodValue, Team, User
from metrics.vocab import Marking, Role

SENSITIVE_ADMIN = CurrentUser(
    "boss@x.gov.uk", "Boss", Role.ADMINISTRATOR, Marking.OFFICIAL_SENSITIVE
)
NEW = {  # a measure as an administrator types it
    "title": "Rent collected",
    "tier": "Service Standards",
    "unit": "percent",
    "polarity": "higher",
    "frequency": "monthly",
    "service": "housing",
    "team": "allocations",
    "tolerance": "5%",
    "responsible_officer": "Head of Allocations",
    "responsible_email": "Rents@x.gov.uk",
}


def everything(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, and the data version: to show nothing changed."""
    with Session(engine) as session:
        rows = {
            table.name: sorted(
                (dict(row._mapping) for row in session.execute(table.select())), key=repr
            )
            for table in SQLModel.metadata.sorted_tables
        }
    return {**rows, "version": [{"v": store.data_version(engine)}]}


def audit_rows(engine: Engine, entity: str, key: str) -> list[AuditLog]:
    with Session(engine) as session:
        query = select(AuditLog).where(AuditLog.entity == entity, AuditLog.entity_key == key)
        return list(session.exec(query.order_by(AuditLog.id)).all())


def metric(engine: Engine, code: str) -> Metric:
    with Session(engine) as session:
        return session.exec(select(Metric).where(Metric.code == code)).one()


def refused(engine: Engine, call, *args, **kwargs) -> admin.AdminRefused:  # type: ignore[no-untyped-def]
    """The refusal, after checking the database did not change at all."""
    before = everything(engine)
    with pytest.raises(admin.AdminRefused) as caught:
        call(engine, *args, **kwargs)
    assert everything(engine) == before
    return caught.value


# --- Only an administrator ---------------------------------------------------------------------

WRITES = {
    "create measure": (admin.create_measure, {"code": "X1", "fields": NEW, "reason": "r"}),
    "edit measure": (
        admin.edit_measure,
        {"code": "HOU02", "seen_version": 1, "fields": {"title": "t"}, "reason": "r"},
    ),
    "retire measure": (
        admin.retire_measure,
        {"code": "HOU02", "seen_version": 1, "from_month": "2017-04", "reason": "r"},
    ),
    "create level": (admin.create_level, {"kind": "service", "name": "Planning", "reason": "r"}),
    "rename level": (
        admin.rename_level,
        {"kind": "service", "code": "housing", "seen_version": 1, "name": "Homes", "reason": "r"},
    ),
    "retire level": (
        admin.retire_level,
        {
            "kind": "team",
            "code": "repairs",
            "seen_version": 1,
            "from_month": "2030-04",
            "reason": "r",
        },
    ),
    "realign level": (
        admin.realign_level,
        {
            "kind": "team",
            "code": "repairs",
            "seen_version": 1,
            "service": "communications",
            "reason": "r",
        },
    ),
    "add user": (
        admin.add_user,
        {
            "email_address": "a@x.gov.uk",
            "name": "A",
            "role": "Councillor",
            "clearance": "OFFICIAL",
            "reason": "r",
        },
    ),
    "update user": (
        admin.update_user,
        {"email_address": "admin@x.gov.uk", "seen_version": 1, "active": False, "reason": "r"},
    ),
    "preview workbook": (admin.preview_workbook, {"path": Path("nowhere.xlsx")}),
    "import workbook": (admin.import_workbook, {"path": Path("nowhere.xlsx")}),
}


@pytest.mark.parametrize("who", [MANAGER, OFFICER, DIRECTOR], ids=lambda u: u.role.value)
@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_admin_write_is_refused_to_anyone_but_an_administrator(
    engine: Engine, write: str, who: CurrentUser
) -> None:
    build(engine)
    call, kwargs = WRITES[write]
    before = everything(engine)
    with pytest.raises(AccessDenied, match=f"A {who.role.value} may not change"):
        call(engine, actor=who, **kwargs)
    assert everything(engine) == before


# --- Measures --------------------------------------------------------------------------------


def test_an_administrator_creates_a_measure_audited_with_its_reason(engine: Engine) -> None:
    build(engine)
    made = admin.create_measure(engine, actor=ADMIN, code="HOU09", fields=NEW, reason="new KPI")
    held = metric(engine, "HOU09")
    assert (held.id, held.title, held.aggregation, held.tolerance) == (
        made.id,
        "Rent collected",
        "ratio",
        5.0,
    )
    assert (held.responsible_email, held.definition_version, held.version) == (
        "rents@x.gov.uk",
        1,
        1,
    )
    (row,) = audit_rows(engine, "metric", "HOU09")
    assert (row.action, row.actor, row.reason) == ("create", ADMIN.email, "new KPI")
    assert '"team": "allocations"' in (row.new_value or "")


@pytest.mark.parametrize(
    ("code", "changes", "field", "message"),
    [
        ("HOU09", {"title": ""}, "Title", "this field is required, but it is blank"),
        ("HOU09", {"title": "   "}, "Title", "required"),
        ("HOU01", {}, "Code", "the code 'HOU01' is already held"),
        ("hou01", {}, "Code", "already held"),  # codes compare in any case
        ("HOU 9", {}, "Code", "is not a code"),
        ("HOU09", {"unit": "furlongs"}, "Unit", "'furlongs' is not a unit: use percent"),
        (
            "HOU09",
            {"title": '=HYPERLINK("http://x")'},
            "Title",
            "begins like a spreadsheet formula",
        ),
        ("HOU09", {"responsible_officer": "@SUM(A1)"}, "Responsible officer", "formula"),
        ("HOU09", {"title": "x" * 301}, "Title", "the text is 301 characters; the limit is 300"),
        ("HOU09", {"title": "Rent\x07"}, "Title", "hidden control character (U+0007)"),
        ("HOU09", {"title": "Rent\u202e"}, "Title", "hidden control character (U+202E)"),
        ("HOU09", {"title": "Ноusing"}, "Title", "mixes Cyrillic and Latin letters"),
        ("HOU09", {"decimals": "11"}, "Decimals", "is not a whole number from 0 to 10"),
        ("HOU09", {"tolerance": "-5"}, "Tolerance", "is negative"),
        ("HOU09", {"responsible_email": "rents"}, "Responsible e-mail", "is not an e-mail address"),
        ("HOU09", {"team": "information"}, "Team", "is not in the service 'housing'"),
        ("HOU09", {"service": "planning"}, "Service", "no service has the code 'planning'"),
        ("HOU09", {"service": ""}, "Team", "a team needs its Service on the same row"),
        ("HOU09", {"aligned_to": "HOU09"}, "Aligned to", "a metric cannot be aligned to itself"),
        ("HOU09", {"aligned_to": "NOPE"}, "Aligned to", "no metric has the code 'NOPE'"),
        (
            "HOU09",
            {"active_from": "2016-05", "active_to": "2016-04"},
            "Active to",
            "is before Active from",
        ),
        ("HOU09", {"marking": "OFFICIAL-SENSITIVE"}, "Marking", "you are not cleared for"),
        ("HOU09", {"frequency": "weekly"}, "Frequency", "is not a frequency"),
    ],
)
def test_a_bad_measure_is_refused_naming_the_field_and_changes_nothing(
    engine: Engine, code: str, changes: dict[str, str], field: str, message: str
) -> None:
    build(engine)
    error = refused(
        engine, admin.create_measure, actor=ADMIN, code=code, fields={**NEW, **changes}, reason="r"
    )
    assert any(f == field and message in why for f, why in error.problems), error.problems


def test_a_reason_is_required(engine: Engine) -> None:
    build(engine)
    error = refused(engine, admin.create_measure, actor=ADMIN, code="HOU09", fields=NEW, reason=" ")
    assert error.problems == [("reason", "this field is required, but it is blank")]


def test_an_edit_bumps_the_definition_version_and_audits_each_field(engine: Engine) -> None:
    build(engine)
    fields = {"title": "Homes let", "definition": "Lets in the month", "team": "allocations"}
    edited = admin.edit_measure(
        engine, actor=ADMIN, code="HOU02", seen_version=1, fields=fields, reason="clearer"
    )
    held = metric(engine, "HOU02")
    assert (held.title, held.definition_version, held.version) == ("Homes let", 2, 2)
    assert (edited.definition_version, edited.version) == (2, 2)
    audited = {
        (r.field_name, r.old_value, r.new_value, r.reason)
        for r in audit_rows(engine, "metric", "HOU02")
    }
    assert audited == {
        ("title", "Measure HOU02", "Homes let", "clearer"),
        ("definition", "", "Lets in the month", "clearer"),
        ("definition_version", "1", "2", "clearer"),
    }


def test_a_stale_edit_says_who_changed_it_when_and_to_what(engine: Engine) -> None:
    build(engine)
    admin.edit_measure(
        engine,
        actor=SENSITIVE_ADMIN,
        code="HOU02",
        seen_version=1,
        fields={"title": "Theirs"},
        reason="r",
    )
    before = everything(engine)
    with pytest.raises(admin.AdminConflict) as caught:
        admin.edit_measure(
            engine, actor=ADMIN, code="HOU02", seen_version=1, fields={"title": "Mine"}, reason="r"
        )
    assert everything(engine) == before
    assert caught.value.changed_by == SENSITIVE_ADMIN.email
    assert caught.value.changed_to == {"title": "Theirs"}
    assert caught.value.changed_at is not None
    assert "your typed values are kept" in str(caught.value)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"frequency": "quarterly"},
            "Frequency",
            "HOU02 already holds values, so its frequency cannot change",
        ),
        ({"unit": "percent"}, "Unit", "its unit cannot change from number to percent"),
        ({"code": "HOU99"}, "code", "not a field that can be typed here"),
        ({"definition_version": "7"}, "definition_version", "not a field that can be typed here"),
        ({"colour": "red"}, "colour", "not a field of a metric template"),
        ({"title": "Measure HOU02"}, "fields", "nothing was changed"),
    ],
)
def test_an_edit_keeps_what_the_workbook_keeps(engine: Engine, fields, field, message) -> None:
    build(engine)  # HOU02 holds (target) values
    error = refused(
        engine,
        admin.edit_measure,
        actor=ADMIN,
        code="HOU02",
        seen_version=1,
        fields=fields,
        reason="r",
    )
    assert any(f == field and message in why for f, why in error.problems), error.problems


def test_a_measure_above_the_clearance_is_not_found(engine: Engine) -> None:
    build(engine)
    admin.edit_measure(
        engine,
        actor=SENSITIVE_ADMIN,
        code="HOU02",
        seen_version=1,
        fields={"marking": "OFFICIAL-SENSITIVE"},
        reason="r",
    )
    error = refused(
        engine,
        admin.edit_measure,
        actor=ADMIN,
        code="HOU02",
        seen_version=2,
        fields={"title": "x"},
        reason="r",
    )
    assert error.problems == [("Code", "no measure 'HOU02'")]


def test_a_measure_is_retired_from_a_month_and_keeps_its_values(engine: Engine) -> None:
    ids = build(engine)
    with store.write(engine) as session:
        value = session.exec(
            select(PeriodValue).where(
                PeriodValue.metric_id == ids["HOU02"], PeriodValue.period == "2016-04"
            )
        ).one()
        value.actual = 12.0
    error = refused(
        engine,
        admin.retire_measure,
        actor=ADMIN,
        code="HOU02",
        seen_version=1,
        from_month="2016-04",
        reason="r",
    )
    assert error.problems == [
        ("Retire from", "HOU02 holds a value for 2016-04; retire it from a later month")
    ]
    retired = admin.retire_measure(
        engine, actor=ADMIN, code="HOU02", seen_version=1, from_month="2016-05", reason="merged"
    )
    assert (retired.active_to, metric(engine, "HOU02").active_to, retired.version) == (
        "2016-04",
        "2016-04",
        2,
    )
    (row,) = audit_rows(engine, "metric", "HOU02")
    assert (row.action, row.field_name, row.old_value, row.new_value, row.reason) == (
        "retire",
        "active_to",
        None,
        "2016-04",
        "merged",
    )
    with Session(engine) as session:
        assert session.exec(select(PeriodValue).where(PeriodValue.metric_id == ids["HOU02"])).all()


# --- Levels --------------------------------------------------------------------------------------


def test_levels_are_created_renamed_realigned_and_retired(engine: Engine) -> None:
    build(engine)
    priority = admin.create_level(
        engine, actor=ADMIN, kind="priority", name="Homes for all", reason="plan"
    )
    admin.create_level(
        engine, actor=ADMIN, kind="priority", name="Safe places", code="P2", reason="plan"
    )
    initiative = admin.create_level(
        engine,
        actor=ADMIN,
        kind="initiative",
        name="Digital first",
        priorities=["homes-for-all"],
        reason="plan",
    )
    team = admin.create_level(
        engine, actor=ADMIN, kind="team", name="Lettings", service="housing", reason="restructure"
    )
    assert (priority.code, initiative.code, team.code) == (
        "homes-for-all",
        "digital-first",
        "housing/lettings",
    )
    renamed = admin.rename_level(
        engine,
        actor=ADMIN,
        kind="team",
        code="housing/lettings",
        seen_version=1,
        name="Lettings and voids",
        reason="wider",
    )
    assert (renamed.name, renamed.version) == ("Lettings and voids", 2)
    admin.realign_level(
        engine,
        actor=ADMIN,
        kind="initiative",
        code="digital-first",
        seen_version=1,
        priorities=["P2"],
        reason="moved",
    )
    with Session(engine) as session:
        links = session.exec(select(InitiativePriority)).all()
    assert [(link.initiative_id, link.priority_id) for link in links] == [(initiative.id, 2)]
    admin.retire_level(
        engine,
        actor=ADMIN,
        kind="team",
        code="housing/lettings",
        seen_version=2,
        from_month="2017-04",
        reason="gone",
    )
    audited = [
        (r.action, r.field_name, r.old_value, r.new_value)
        for r in audit_rows(engine, "team", "housing/lettings")
    ]
    assert audited == [
        ("create", "", None, "Lettings"),
        ("rename", "name", "Lettings", "Lettings and voids"),
        ("retire", "retired_from", None, "2017-04"),
    ]
    assert [
        (r.field_name, r.old_value, r.new_value)
        for r in audit_rows(engine, "initiative", "digital-first")
    ][-1] == ("priorities", "homes-for-all", "P2")


def test_a_team_realigned_to_another_service_takes_its_measures(engine: Engine) -> None:
    build(engine)
    admin.realign_level(
        engine,
        actor=ADMIN,
        kind="team",
        code="repairs",
        seen_version=1,
        service="communications",
        reason="merger",
    )
    with Session(engine) as session:
        team = session.exec(select(Team).where(Team.code == "repairs")).one()
        moved = {
            m.code: m.service_id
            for m in session.exec(select(Metric).where(Metric.team_id == team.id))
        }
    assert set(moved) == {"HOU03", "HOU04"} and set(moved.values()) == {team.service_id}
    assert [(r.field_name, r.new_value) for r in audit_rows(engine, "metric", "HOU03")] == [
        ("service", "communications")
    ]


@pytest.mark.parametrize(
    ("call", "kwargs", "field", "message"),
    [
        (
            admin.create_level,
            {"kind": "service", "name": "housing"},
            "Name",
            "a service named 'Housing' already exists",
        ),
        (
            admin.create_level,
            {"kind": "team", "name": "Repairs", "service": "housing"},
            "Name",
            "already exists in this service",
        ),
        (
            admin.create_level,
            {"kind": "team", "name": "Voids"},
            "Service",
            "this field is required, but it is blank",
        ),
        (admin.create_level, {"kind": "service", "name": ""}, "Name", "this field is required"),
        (
            admin.create_level,
            {"kind": "service", "name": "=cmd|' /C calc'!A0"},
            "Name",
            "begins like a spreadsheet formula",
        ),
        (admin.create_level, {"kind": "service", "name": "x" * 201}, "Name", "the limit is 200"),
        (
            admin.create_level,
            {"kind": "service", "name": "Plan\u200bning"},
            "Name",
            "hidden control character (U+200B)",
        ),
        (
            admin.create_level,
            {"kind": "service", "name": "Planning", "code": "housing"},
            "Code",
            "the code 'housing' is already held",
        ),
        (
            admin.create_level,
            {"kind": "initiative", "name": "Go", "priorities": ["nope"]},
            "Priorities",
            "no priority has the code 'nope'",
        ),
        (
            admin.rename_level,
            {"kind": "service", "code": "housing", "seen_version": 1, "name": "Communications"},
            "Name",
            "already exists",
        ),
        (
            admin.retire_level,
            {"kind": "team", "code": "repairs", "seen_version": 1, "from_month": "2016-04"},
            "Retire from",
            "2 measure(s) are still reported from 2016-04 (HOU03, HOU04)",
        ),
        (
            admin.retire_level,
            {"kind": "team", "code": "repairs", "seen_version": 1, "from_month": "April"},
            "Retire from",
            "April",
        ),
        (
            admin.realign_level,
            {"kind": "team", "code": "repairs", "seen_version": 1, "service": "housing"},
            "Service",
            "already in the service",
        ),
        (
            admin.realign_level,
            {"kind": "service", "code": "housing", "seen_version": 1},
            "kind",
            "is not aligned to anything",
        ),
    ],
)
def test_a_bad_level_change_is_refused_and_changes_nothing(
    engine: Engine, call, kwargs, field, message
) -> None:
    build(engine)
    error = refused(engine, call, actor=ADMIN, reason="r", **kwargs)
    assert any(f == field and message in why for f, why in error.problems), error.problems


def test_a_stale_rename_names_who_renamed_it(engine: Engine) -> None:
    build(engine)
    admin.rename_level(
        engine,
        actor=SENSITIVE_ADMIN,
        kind="service",
        code="housing",
        seen_version=1,
        name="Homes",
        reason="r",
    )
    with pytest.raises(
        admin.AdminConflict, match=r"changed by boss@x.gov.uk at .* \(now: name Homes"
    ):
        admin.rename_level(
            engine,
            actor=ADMIN,
            kind="service",
            code="housing",
            seen_version=1,
            name="Housing services",
            reason="r",
        )


# --- Users ------------------------------------------------------------------------------------


def test_a_user_is_added_changed_and_disabled_never_deleted(engine: Engine) -> None:
    build(engine)
    added = admin.add_user(
        engine,
        actor=ADMIN,
        email_address=" New.Manager@X.gov.uk ",
        name="New manager",
        role="service manager",
        clearance="official",
        services=["housing"],
        reason="joined",
    )
    assert (added.email, added.role, added.clearance, added.version) == (
        "new.manager@x.gov.uk",
        "Service manager",
        "OFFICIAL",
        1,
    )
    changed = admin.update_user(
        engine,
        actor=ADMIN,
        email_address="new.manager@x.gov.uk",
        seen_version=1,
        services=["housing", "communications"],
        role="Performance officer",
        reason="promoted",
    )
    assert (changed.role, changed.version) == ("Performance officer", 2)
    admin.update_user(
        engine,
        actor=ADMIN,
        email_address="new.manager@x.gov.uk",
        seen_version=2,
        active=False,
        reason="left",
    )
    with Session(engine) as session:
        held = session.exec(select(User).where(User.email == "new.manager@x.gov.uk")).one()
    assert (held.active, held.version) == (False, 3)
    audited = [
        (r.action, r.field_name, r.old_value, r.new_value)
        for r in audit_rows(engine, "user", "new.manager@x.gov.uk")
    ]
    assert ("create", "services", None, "housing") in audited
    assert ("update", "services", "housing", "communications, housing") in audited
    assert ("update", "role", "Service manager", "Performance officer") in audited
    assert audited[-1] == ("disable", "active", "True", "False")


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"email_address": "not-an-address"}, "E-mail", "is not an e-mail address"),
        (
            {"email_address": "admin@x.gov.uk"},
            "E-mail",
            "a user with the e-mail admin@x.gov.uk already exists",
        ),
        ({"role": "Overlord"}, "Role", "'Overlord' is not a role: use Management Team"),
        ({"clearance": "SECRET"}, "Clearance", "is not a protective marking"),
        ({"clearance": "OFFICIAL-SENSITIVE"}, "Clearance", "above your own clearance"),
        ({"services": ["planning"]}, "Services", "no service has the code 'planning'"),
        ({"name": "+44 7700"}, "Name", "formula"),
        ({"name": ""}, "Name", "required"),
    ],
)
def test_a_bad_user_is_refused_and_changes_nothing(engine: Engine, kwargs, field, message) -> None:
    build(engine)
    admin.add_user(
        engine,
        actor=SENSITIVE_ADMIN,
        email_address="admin@x.gov.uk",
        name="Admin",
        role="Administrator",
        clearance="OFFICIAL",
        reason="seed",
    )
    typed = {
        "email_address": "n@x.gov.uk",
        "name": "N",
        "role": "Councillor",
        "clearance": "OFFICIAL",
        **kwargs,
    }
    error = refused(engine, admin.add_user, actor=ADMIN, reason="r", **typed)
    assert any(f == field and message in why for f, why in error.problems), error.problems


def test_an_administrator_cannot_lock_themself_out_and_a_stale_edit_is_refused(
    engine: Engine,
) -> None:
    build(engine)
    admin.add_user(
        engine,
        actor=SENSITIVE_ADMIN,
        email_address="admin@x.gov.uk",
        name="Admin",
        role="Administrator",
        clearance="OFFICIAL",
        reason="seed",
    )
    error = refused(
        engine,
        admin.update_user,
        actor=ADMIN,
        email_address="admin@x.gov.uk",
        seen_version=1,
        active=False,
        reason="r",
    )
    assert error.problems == [
        ("role", "you may not disable your own account or change your own role")
    ]
    admin.update_user(
        engine,
        actor=SENSITIVE_ADMIN,
        email_address="admin@x.gov.uk",
        seen_version=1,
        name="Ada",
        reason="r",
    )
    with pytest.raises(admin.AdminConflict, match=r"changed by boss@x\.gov\.uk"):
        admin.update_user(
            engine,
            actor=SENSITIVE_ADMIN,
            email_address="admin@x.gov.uk",
            seen_version=1,
            name="Ann",
            reason="r",
        )


# --- The workbook ---------------------------------------------------------------------------------


def test_a_workbook_preview_writes_nothing_and_the_import_then_writes_it(
    engine: Engine, tmp_path: Path
) -> None:
    from test_workbook import good_book

    path = good_book(tmp_path / "book.xlsx")
    before = everything(engine)
    preview = admin.preview_workbook(engine, actor=ADMIN, path=path)
    assert everything(engine) == before
    result = admin.import_workbook(engine, actor=ADMIN, path=path)
    assert str(preview) == str(result)
    assert result.metrics_created > 0
    with Session(engine) as session:
        actors = set(session.exec(select(AuditLog.actor)).all())
    assert actors == {ADMIN.email}


def test_a_workbook_naming_a_measure_above_the_clearance_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    from test_workbook import METRICS, write_book

    from metrics.workbook import WorkbookError

    build(engine)
    admin.edit_measure(
        engine,
        actor=SENSITIVE_ADMIN,
        code="HOU02",
        seen_version=1,
        fields={"marking": "OFFICIAL-SENSITIVE"},
        reason="r",
    )
    path = write_book(tmp_path / "b.xlsx", [{**METRICS[0], "Code": "HOU02"}], [])
    before = everything(engine)
    with pytest.raises(WorkbookError, match="not cleared to change the measure with this code"):
        admin.preview_workbook(engine, actor=ADMIN, path=path)
    assert everything(engine) == before
