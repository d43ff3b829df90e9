"""Every write of the domain, called directly (no page in front of it) as a role or scope the
access table does not allow, is refused and changes nothing; a measure above the caller's
clearance reads as one that does not exist, and no refusal names it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import access_council as council
import pytest
from sqlalchemy import Engine, func, select

from metrics import approval, entry, snapshots, store, targets, templates
from metrics.access import AccessDenied, CurrentUser
from metrics.entry import Entry, EntryRefused
from metrics.models import AuditLog
from metrics.vocab import Role

MANAGER, OFFICER = council.person(Role.SERVICE_MANAGER), council.person(Role.PERFORMANCE_OFFICER)
MONTH, CANARY = council.MONTH, council.CANARY_CODE
TODAY = date(2016, 4, 20)
WRITES: dict[str, Callable[[Engine, CurrentUser, str], object]] = {
    "save a value": lambda e, u, code: entry.save_value(
        e, user=u, entry=Entry(code, MONTH, 1, actual=60.0), today=TODAY
    ),
    "submit": lambda e, u, code: entry.submit(e, user=u, seen={(code, MONTH): 1}, today=TODAY),
    "approve": lambda e, u, code: approval.approve(e, user=u, seen={(code, MONTH): 1}),
    "return": lambda e, u, code: approval.return_value(
        e, user=u, code=code, period=MONTH, seen_version=1, reason="check"
    ),
    "review an outlier": lambda e, u, code: approval.review_outlier(
        e, user=u, code=code, period=MONTH, seen_version=1
    ),
    "set targets": lambda e, u, code: targets.set_targets(
        e,
        user=u,
        code=code,
        fiscal_year="2016-17",
        kind="flat",
        annual_target=70.0,
        reason="new plan",
        seen_version=0,
    ),
    "change a template": lambda e, u, code: templates.update_template(
        e, user=u, code=code, seen_version=1, changes={"title": "Renamed"}, reason="clearer"
    ),
    "close a year": lambda e, u, _code: approval.close_year(
        e, user=u, fiscal_year="2015-16", reason="closed"
    ),
    "freeze a snapshot": lambda e, u, _code: snapshots.freeze(
        e, period="2016-02", title="Agenda", actor="x", user=u, today=TODAY
    ),
}
# Who may do each write (docs/marking-and-roles.md): everyone else is refused.
MAY = {
    "save a value": {Role.SERVICE_MANAGER, Role.PERFORMANCE_OFFICER},
    "submit": {Role.SERVICE_MANAGER, Role.PERFORMANCE_OFFICER},
    "approve": {Role.PERFORMANCE_OFFICER},
    "return": {Role.PERFORMANCE_OFFICER},
    "review an outlier": {Role.PERFORMANCE_OFFICER},
    "set targets": {Role.PERFORMANCE_OFFICER, Role.ADMINISTRATOR},
    "change a template": {Role.ADMINISTRATOR},
    "close a year": {Role.ADMINISTRATOR},
    "freeze a snapshot": {Role.PERFORMANCE_OFFICER},
}
WRONG = [(write, role) for write in WRITES for role in Role if role not in MAY[write]]


@pytest.fixture
def council_db(engine: Engine) -> Engine:
    council.build(engine, with_snapshot=False)
    return engine


def footprint(engine: Engine) -> tuple[int, int]:
    """The data version and the audit trail's length: any write moves both."""
    with engine.connect() as connection:
        audited = connection.execute(select(func.count()).select_from(AuditLog)).scalar_one()
    return store.data_version(engine), int(audited)


def test_every_write_of_the_domain_is_in_the_table() -> None:
    assert set(MAY) == set(WRITES)
    print(f"\n{len(WRONG)} writes called as a role that may not, plus scope and clearance cases")


def test_every_write_called_as_the_wrong_role_is_refused_and_changes_nothing(
    council_db: Engine,
) -> None:
    """One database for every (write, role) pair: each refusal must leave it as it was."""
    before = footprint(council_db)
    for write, role in WRONG:
        with pytest.raises(AccessDenied):
            WRITES[write](council_db, council.person(role), "HOU01")
        assert footprint(council_db) == before, (write, role)


@pytest.mark.parametrize("write", ["save a value", "submit"])
def test_a_manager_writes_only_their_own_services_values(council_db: Engine, write: str) -> None:
    before = footprint(council_db)
    with pytest.raises(AccessDenied, match="only enter values for Housing"):
        WRITES[write](council_db, MANAGER, "COM01")  # Communications is not theirs
    assert footprint(council_db) == before


@pytest.mark.parametrize(
    "write", [w for w in WRITES if w not in ("close a year", "freeze a snapshot")]
)
@pytest.mark.parametrize(
    "role", [Role.SERVICE_MANAGER, Role.PERFORMANCE_OFFICER, Role.ADMINISTRATOR]
)
def test_a_measure_above_the_callers_clearance_reads_as_unknown_and_is_never_named(
    council_db: Engine, write: str, role: Role
) -> None:
    before = footprint(council_db)
    with pytest.raises(
        (AccessDenied, EntryRefused, templates.TemplateRefused, LookupError)
    ) as refused:
        WRITES[write](council_db, council.person(role), CANARY)
    message = str(refused.value) + repr(getattr(refused.value, "problems", ""))
    assert council.CANARY not in message and council.CANARY_TEXT not in message
    assert footprint(council_db) == before
