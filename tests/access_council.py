"""A small council for the access tests: one person of each role, two services, an ordinary
measure each, a canary OFFICIAL-SENSITIVE measure with a title found nowhere else, and values
approved, submitted, drafted and returned, so every page has something to show (or to hide)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from metrics import periods, snapshots, store
from metrics.access import CurrentUser
from metrics.models import (
    Initiative,
    Metric,
    PeriodValue,
    Priority,
    Service,
    Team,
    User,
    UserService,
)
from metrics.vocab import Marking, Role

MONTH = "2016-03"  # the month every page opens on
CANARY_CODE = "ZZCANARY9"
CANARY = "Quokka sentinel canary 7f3e"  # the canary measure's title, found nowhere else
CANARY_TEXT = "Wombat canary commentary 5b1d"  # its commentary and corrective action
DRAFT_ACTION = "Draft corrective action 91ac"  # a corrective action the committee never sees
UNAPPROVED = 12.3  # a submitted, unapproved actual (Red) the committee never sees

PEOPLE = {  # role -> (email, clearance, services)
    Role.MANAGEMENT_TEAM: ("director@x.gov.uk", Marking.OFFICIAL, ()),
    Role.SERVICE_MANAGER: ("manager@x.gov.uk", Marking.OFFICIAL, ("Housing",)),
    Role.PERFORMANCE_OFFICER: ("officer@x.gov.uk", Marking.OFFICIAL, ()),
    Role.ADMINISTRATOR: ("admin@x.gov.uk", Marking.OFFICIAL, ()),
    Role.COUNCILLOR: ("councillor@x.gov.uk", Marking.OFFICIAL, ()),
}
CLEARED = CurrentUser(
    "cleared@x.gov.uk", "Cleared", Role.PERFORMANCE_OFFICER, Marking.OFFICIAL_SENSITIVE
)
DISABLED = "gone@x.gov.uk"

MEASURES = [  # code, title, service, team, marking
    ("HOU01", "Homes let within target", "Housing", "Allocations", Marking.OFFICIAL),
    ("HOU02", "Repairs on time", "Housing", "Allocations", Marking.OFFICIAL),  # March not in
    ("COM01", "Web pages updated", "Communications", "Web", Marking.NOT_PROTECTIVELY_MARKED),
    (CANARY_CODE, CANARY, "Housing", "Allocations", Marking.OFFICIAL_SENSITIVE),
]


def person(role: Role) -> CurrentUser:
    email, clearance, services = PEOPLE[role]
    return CurrentUser(email, role.value, role, clearance, frozenset(services))


def _value(metric: Metric, month: str, actual: float, status: str, **more: object) -> PeriodValue:
    period = periods.parse(month)
    return PeriodValue(
        metric_id=metric.id,
        period=period.label,
        fiscal_year=period.fiscal_year,
        period_end=period.end,
        actual=actual,
        target=50.0,
        status=status,
        entered_by="manager@x.gov.uk",
        **more,
    )


def build(engine: Engine, *, with_snapshot: bool = True) -> None:
    """The council; with a committee snapshot of February frozen by the cleared officer."""
    with store.write(engine) as session:
        priority = Priority(code="P1", name="Safe homes")
        session.add(priority)
        session.flush()
        initiative = Initiative(code="I1", name="Digital by default")
        session.add(initiative)
        session.flush()
        services: dict[str, Service] = {}
        teams: dict[str, Team] = {}
        metrics: dict[str, Metric] = {}
        for code, title, service, team, marking in MEASURES:
            if service not in services:
                services[service] = Service(code=service.lower(), name=service)
                session.add(services[service])
                session.flush()
            if team not in teams:
                teams[team] = Team(code=team.lower(), name=team, service_id=services[service].id)
                session.add(teams[team])
                session.flush()
            metrics[code] = Metric(
                code=code,
                title=title,
                tier="Corporate Plan",
                marking=marking.value,
                priority_id=priority.id,
                initiative_id=initiative.id,
                service_id=services[service].id,
                team_id=teams[team].id,
                decimals=1,
            )
            session.add(metrics[code])
            session.flush()
        for role, (email, clearance, owned) in PEOPLE.items():
            user = User(email=email, name=role.value, role=role.value, clearance=clearance.value)
            session.add(user)
            session.flush()
            for name in owned:
                session.add(UserService(user_id=user.id, service_id=services[name].id))
        session.add(
            User(
                email=CLEARED.email,
                name=CLEARED.name,
                role=CLEARED.role.value,
                clearance=CLEARED.clearance.value,
            )
        )
        session.add(
            User(email=DISABLED, name="Gone", role=Role.MANAGEMENT_TEAM.value, active=False)
        )
        for month, actual in [("2016-01", 40.0), ("2016-02", 45.0)]:
            for code, metric in metrics.items():
                extra = {"commentary": CANARY_TEXT} if code == CANARY_CODE else {}
                session.add(_value(metric, month, actual, "approved", **extra))
        session.add(
            _value(
                metrics["HOU01"],
                MONTH,
                UNAPPROVED,
                "submitted",
                commentary="Submitted, not approved",
                corrective_action=DRAFT_ACTION,
            )
        )
        session.add(_value(metrics["COM01"], MONTH, 20.0, "returned", return_reason="Check it"))
        session.add(
            _value(
                metrics[CANARY_CODE],
                MONTH,
                10.0,
                "draft",
                commentary=CANARY_TEXT,
                corrective_action=CANARY_TEXT,
            )
        )
        store.bump_data_version(session)
    if with_snapshot:
        snapshots.freeze(
            engine,
            period="2016-02",
            title="Performance February",
            actor=CLEARED.email,
            user=CLEARED,
            today=date(2016, 4, 20),
        )
