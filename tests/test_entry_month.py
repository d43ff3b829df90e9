"""The month "My month" opens on: the earliest month with a value still due from the user, else
the last month looked at; reckoned from where the user's figures stand, so the demo's service
managers (data 2015 to 2017, read years later) open on the month that has their work in it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from entry_council import ADMIN, MANAGER, OTHER_MANAGER, TODAY, add_history, build
from sqlalchemy import Engine

from metrics import approval, entry
from metrics.access import CurrentUser
from metrics.config import Settings
from metrics.queries import entry as entry_queries
from metrics.queries import users

HOUSING = ("HOU01", "HOU02", "HOU03")  # Housing's monthly measures (HOU04 is quarterly)
TYPED = {"HOU01": {"numerator": 90, "denominator": 100}, "HOU02": {"actual": 12}}


def submit_housing(engine: Engine, month: str) -> None:
    """Every Housing value due in the month, entered and submitted."""
    codes = [*HOUSING, "HOU04"] if month == "2016-03" else list(HOUSING)
    period = {"HOU04": "2015-16 Q4"}
    seen = {}
    for code in codes:
        typed = TYPED.get(code, {"actual": 7 if code == "HOU03" else 95})
        saved = entry.save_value(
            engine,
            user=MANAGER,
            entry=entry.Entry(code, period.get(code, month), 1, **typed),
            today=TODAY,
        )
        seen[(code, period.get(code, month))] = saved.version
    entry.submit(engine, user=MANAGER, seen=seen, today=TODAY)


def draft(engine: Engine, code: str, month: str, user: CurrentUser = MANAGER) -> None:
    entry.save_value(engine, user=user, entry=entry.Entry(code, month, 1, actual=12), today=TODAY)


def close_2015_16(engine: Engine) -> None:
    approval.close_year(engine, user=ADMIN, fiscal_year="2015-16", reason="accounts signed")


Setup = Callable[[Engine, dict[str, int]], None]


@pytest.mark.parametrize(
    ("setup", "today", "user", "expected"),
    [
        # the council holds targets (no actuals) for March and April 2016
        (lambda e, ids: None, TODAY, MANAGER, "2016-03"),  # nothing before a measure's first row
        (lambda e, ids: submit_housing(e, "2016-03"), TODAY, MANAGER, "2016-04"),
        (  # everything in: the last month looked at, the latest ended one
            lambda e, ids: (submit_housing(e, "2016-03"), submit_housing(e, "2016-04")),
            TODAY,
            MANAGER,
            "2016-04",
        ),
        (  # a draft is still due until it is submitted
            lambda e, ids: (submit_housing(e, "2016-03"), draft(e, "HOU02", "2016-04")),
            TODAY,
            MANAGER,
            "2016-04",
        ),
        (lambda e, ids: close_2015_16(e), TODAY, MANAGER, "2016-04"),  # a closed year is not due
        (  # another service's open month does not pull a manager back
            lambda e, ids: submit_housing(e, "2016-03"),
            TODAY,
            OTHER_MANAGER,
            "2016-03",
        ),
        (  # history approved up to February, so March is the first still due
            lambda e, ids: add_history(e, ids["HOU02"], [10.0] * 11, last="2016-03"),
            TODAY,
            MANAGER,
            "2016-03",
        ),
        (  # read ten years on: still March 2016, where the figures stand, not November 2025
            lambda e, ids: draft(e, "HOU02", "2016-03"),
            date(2026, 11, 30),
            MANAGER,
            "2016-03",
        ),
        (  # ten years on with all of March and April in: the month after the latest actual
            lambda e, ids: (submit_housing(e, "2016-03"), submit_housing(e, "2016-04")),
            date(2026, 11, 30),
            MANAGER,
            "2016-05",
        ),
        (lambda e, ids: None, date(2016, 4, 10), MANAGER, "2016-03"),  # April has not ended
    ],
)
def test_the_default_month_is_the_earliest_with_work_still_due(
    engine: Engine, setup: Setup, today: date, user: CurrentUser, expected: str
) -> None:
    ids = build(engine)
    setup(engine, ids)
    month = entry_queries.default_entry_month(engine, user=user, today=today, config=Settings())
    assert month == expected


def test_the_demo_service_managers_open_on_their_latest_return(demo_engine: Engine) -> None:
    """The demo's latest return (March 2017) holds drafts and a returned value for both managers;
    every earlier value of theirs is approved. Read today, they open there, not on last month.
    The performance officer (every service) opens on the one gap in the 12 months to April 2017:
    SS-CAN-08's July 2016, never entered."""
    people = {u.email.split("@")[0]: u for u in users(demo_engine)}
    expected = {"housing.manager": "2017-03", "comms.manager": "2017-03", "performance": "2016-07"}
    opened = {
        who: entry_queries.default_entry_month(
            demo_engine, user=people[who], today=date(2026, 11, 30), config=Settings()
        )
        for who in expected
    }
    assert opened == expected


@pytest.mark.parametrize(
    ("held", "default", "today", "offered"),
    [
        (["2017-03", "2017-02"], "2017-03", date(2026, 11, 30), ["2017-04", "2017-03", "2017-02"]),
        (["2017-03"], "2017-03", date(2017, 4, 29), ["2017-03"]),  # April has not ended yet
        (["2017-03"], "2017-03", date(2017, 5, 1), ["2017-04", "2017-03"]),  # now it has
        ([], "2016-11", date(2017, 1, 5), ["2016-12", "2016-11"]),  # nothing held yet
        (["2017-03"], "2016-05", date(2026, 1, 1), ["2017-04", "2017-03", "2016-05"]),
    ],
)
def test_my_month_offers_held_months_the_default_and_the_next_once_ended(
    held: list[str], default: str, today: date, offered: list[str]
) -> None:
    assert entry_queries.entry_months(held, default, today) == offered
