"""Who may see and change what: clearance against marking, and the edit rule, as tables."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from metrics import access, queries, store
from metrics.access import AccessDenied, CurrentUser
from metrics.models import User
from metrics.vocab import Marking, Role

NPM, OFFICIAL, SENSITIVE = (m.value for m in Marking)


@pytest.mark.parametrize(
    ("clearance", "visible"),
    [
        (NPM, [NPM]),  # the public sees only what is not protectively marked
        (OFFICIAL, [NPM, OFFICIAL]),
        (SENSITIVE, [NPM, OFFICIAL, SENSITIVE]),
        ("SECRET", [NPM]),  # a clearance the app does not know grants the least
        ("", [NPM]),
    ],
)
def test_a_clearance_sees_its_marking_and_below(clearance: str, visible: list[str]) -> None:
    assert access.visible_markings(clearance) == visible


@pytest.mark.parametrize(
    ("marking", "effective"),
    [
        (None, OFFICIAL),  # no marking is treated as OFFICIAL (docs/marking-and-roles.md)
        ("", OFFICIAL),
        (NPM, NPM),
        (SENSITIVE, SENSITIVE),
        ("official-sensitive", SENSITIVE),  # a misspelling fails closed, never open
        ("OFFICIAL SENSITIVE", SENSITIVE),
    ],
)
def test_effective_marking_fails_closed(marking: str | None, effective: str) -> None:
    assert access.effective_marking(marking) == effective


def person(role: Role, clearance: str = OFFICIAL, services: tuple[str, ...] = ()) -> CurrentUser:
    return CurrentUser(
        email="x@council",
        name="X",
        role=role,
        clearance=Marking(clearance),
        services=frozenset(services),
    )


@pytest.mark.parametrize(
    ("user", "service", "marking", "allowed"),
    [
        (person(Role.SERVICE_MANAGER, services=("Housing",)), "Housing", OFFICIAL, True),
        (person(Role.SERVICE_MANAGER, services=("Housing",)), "Planning", OFFICIAL, False),
        (person(Role.SERVICE_MANAGER, services=("Housing",)), "Housing", SENSITIVE, False),
        (person(Role.SERVICE_MANAGER, SENSITIVE, ("Housing",)), "Housing", SENSITIVE, True),
        (person(Role.SERVICE_MANAGER), "Housing", OFFICIAL, False),  # no services yet
        (person(Role.PERFORMANCE_OFFICER), "Planning", OFFICIAL, True),  # chases any service
        (person(Role.PERFORMANCE_OFFICER), "Planning", SENSITIVE, False),  # not above clearance
        (person(Role.MANAGEMENT_TEAM, SENSITIVE), "Housing", OFFICIAL, False),  # reads only
        (person(Role.COUNCILLOR), "Housing", NPM, False),
        (
            person(Role.ADMINISTRATOR, SENSITIVE),
            "Housing",
            OFFICIAL,
            False,
        ),  # templates, not values
    ],
)
def test_who_may_enter_values(user: CurrentUser, service: str, marking: str, allowed: bool) -> None:
    if allowed:
        access.require_edit(user, service=service, marking=marking)
    else:
        with pytest.raises(AccessDenied):
            access.require_edit(user, service=service, marking=marking)


def test_a_manager_without_services_is_told_to_ask_an_administrator() -> None:
    with pytest.raises(AccessDenied, match="ask an administrator"):
        access.require_edit(person(Role.SERVICE_MANAGER), service="Housing", marking=OFFICIAL)


@pytest.mark.parametrize(
    ("role", "clearance", "found"),
    [
        (Role.MANAGEMENT_TEAM.value, OFFICIAL, True),
        ("Chief Exec", OFFICIAL, False),  # a mistyped role grants nothing
        (Role.MANAGEMENT_TEAM.value, "TOP SECRET", False),  # so does a mistyped clearance
    ],
)
def test_load_user_refuses_a_row_it_cannot_read(
    engine: Engine, role: str, clearance: str, found: bool
) -> None:
    with store.write(engine) as session:
        session.add(User(email="someone@council", name="Someone", role=role, clearance=clearance))
    assert (queries.user(engine, email=" Someone@Council ") is not None) == found


MARKINGS = [None, "", NPM, OFFICIAL, SENSITIVE, "SECRET", "official"]


def test_the_sql_filter_and_the_python_rule_agree_on_every_marking_and_clearance(
    engine: Engine,
) -> None:
    """One visibility rule: what `queries.visible_to` lets through is what `access.may_see`
    allows, for blank, known and unknown markings (an unknown one fails closed, to sensitive)."""
    from sqlalchemy import select

    from metrics.models import Metric

    with store.write(engine) as session:
        for number, marking in enumerate(MARKINGS):
            session.add(Metric(code=f"M{number}", title="x", tier="ME2E", marking=marking))
    for clearance in [NPM, OFFICIAL, SENSITIVE, "SECRET"]:
        with engine.connect() as connection:
            found = set(
                connection.execute(
                    select(Metric.code).where(queries.visible_to(clearance))
                ).scalars()
            )
        allowed = {f"M{n}" for n, m in enumerate(MARKINGS) if access.may_see(clearance, m)}
        assert found == allowed, clearance


@pytest.mark.parametrize(
    ("clearance", "marking", "visible"),
    [
        (OFFICIAL, None, True),  # no marking is OFFICIAL
        (NPM, "", False),
        (OFFICIAL, SENSITIVE, False),
        (SENSITIVE, SENSITIVE, True),
        (SENSITIVE, "SECRET", True),  # unknown is treated as sensitive, not hidden from all
        (OFFICIAL, "SECRET", False),
    ],
)
def test_may_see(clearance: str, marking: str | None, visible: bool) -> None:
    assert access.may_see(clearance, marking) is visible
