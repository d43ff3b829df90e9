"""A small council for the data-entry tests: two services, four measures, four people."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from metrics import periods, store
from metrics.access import CurrentUser
from metrics.models import Metric, PeriodValue, Service, Team
from metrics.vocab import Marking, Role

TODAY = date(2016, 5, 20)  # March 2016's values are late; April's are due; May has not ended

MANAGER = CurrentUser(
    "housing@x.gov.uk",
    "Housing manager",
    Role.SERVICE_MANAGER,
    Marking.OFFICIAL,
    frozenset({"Housing"}),
)
OTHER_MANAGER = CurrentUser(
    "comms@x.gov.uk",
    "Comms manager",
    Role.SERVICE_MANAGER,
    Marking.OFFICIAL,
    frozenset({"Communications"}),
)
OFFICER = CurrentUser("pmitg@x.gov.uk", "PMITG", Role.PERFORMANCE_OFFICER, Marking.OFFICIAL)
SECOND_OFFICER = CurrentUser(
    "pmitg2@x.gov.uk", "PMITG 2", Role.PERFORMANCE_OFFICER, Marking.OFFICIAL
)
ADMIN = CurrentUser("admin@x.gov.uk", "Admin", Role.ADMINISTRATOR, Marking.OFFICIAL)
DIRECTOR = CurrentUser("dir@x.gov.uk", "Director", Role.MANAGEMENT_TEAM, Marking.OFFICIAL)

MEASURES = [  # code, service, team, unit, aggregation, polarity, frequency, target
    ("HOU01", "Housing", "Allocations", "percent", "ratio", "higher", "monthly", 80.0),
    ("HOU02", "Housing", "Allocations", "number", "sum", "higher", "monthly", 10.0),
    ("HOU03", "Housing", "Repairs", "days", "mean", "lower", "monthly", 8.0),
    ("HOU04", "Housing", "Repairs", "percent", "mean", "higher", "quarterly", 90.0),
    ("COM01", "Communications", "Information", "number", "sum", "higher", "monthly", 5.0),
]


def build(engine: Engine, *, months: tuple[str, ...] = ("2016-03", "2016-04")) -> dict[str, int]:
    """The council, with targets (and no actuals) for the months given; metric ids by code."""
    ids: dict[str, int] = {}
    with store.write(engine) as session:
        services: dict[str, Service] = {}
        teams: dict[str, Team] = {}
        for code, service, team, unit, aggregation, polarity, frequency, target in MEASURES:
            if service not in services:
                services[service] = Service(code=service.lower(), name=service)
                session.add(services[service])
                session.flush()
            if team not in teams:
                teams[team] = Team(code=team.lower(), name=team, service_id=services[service].id)
                session.add(teams[team])
                session.flush()
            metric = Metric(
                code=code,
                title=f"Measure {code}",
                tier="Service Standards",
                unit=unit,
                aggregation=aggregation,
                polarity=polarity,
                frequency=frequency,
                decimals=1,
                service_id=services[service].id,
                team_id=teams[team].id,
                responsible_officer=f"Head of {team}",
                responsible_email=f"{team.lower()}@x.gov.uk",
            )
            session.add(metric)
            session.flush()
            ids[code] = int(metric.id)
            for month in months:
                period = periods.due_in_month(periods.parse(month), frequency)
                if period is None:
                    continue
                session.add(
                    PeriodValue(
                        metric_id=metric.id,
                        period=period.label,
                        fiscal_year=period.fiscal_year,
                        period_end=period.end,
                        target=target,
                    )
                )
    return ids


def add_history(engine: Engine, code_id: int, actuals: list[float], *, last: str) -> None:
    """Approved monthly actuals ending the month before `last`."""
    end = periods.parse(last)
    with store.write(engine) as session:
        for step, actual in enumerate(actuals):
            period = periods.shift(end, step - len(actuals))
            session.add(
                PeriodValue(
                    metric_id=code_id,
                    period=period.label,
                    fiscal_year=period.fiscal_year,
                    period_end=period.end,
                    actual=actual,
                    status="approved",
                )
            )
