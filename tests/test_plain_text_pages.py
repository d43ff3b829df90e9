"""Titles, commentary, corrective actions, return reasons and snapshot titles holding HTML,
script and Streamlit markdown render as plain text on every page: each Markdown body the app
sends holds them escaped (no tag, handler, link or colour directive survives), and the reader
sees them literally."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import access_council as council
import pytest
from access_pages import (
    PAGE_LINKS,
    database,
    everything_shown,
    markdown_bodies,
    open_as,
    point_app_at,
)
from sqlalchemy import Engine, update

from metrics import access, snapshots, store
from metrics.models import Metric, PeriodValue, Service, Team
from metrics.vocab import Role

PAYLOAD = "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) :red[x]"
# Each, unescaped, would be a tag, a handler, a link or a colour directive in a Markdown body.
ACTIVE = [
    re.compile(pattern)
    for pattern in (r"(?<!\\)<script", r"(?<!\\)<img", r"onerror=", r"\]\(javascript:", r":red\[")
]


def hostile(engine: Engine) -> None:
    """The access council with the payload in every piece of text a person can write."""
    council.build(engine, with_snapshot=False)
    with store.write(engine) as session:
        session.execute(update(Metric).values(title=Metric.code + " " + PAYLOAD))
        session.execute(
            update(PeriodValue).values(
                commentary="Said " + PAYLOAD,
                corrective_action="Do " + PAYLOAD,
                return_reason="Because " + PAYLOAD,
            )
        )
        session.execute(update(Service).values(name=Service.code + " " + PAYLOAD))
        session.execute(update(Team).values(name=Team.code + " " + PAYLOAD))
        store.bump_data_version(session)
    snapshots.freeze(
        engine,
        period="2016-02",
        title="Agenda " + PAYLOAD,
        committee="Committee " + PAYLOAD,
        actor=council.CLEARED.email,
        user=council.CLEARED,
        today=date(2016, 4, 20),
    )


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from database(tmp_path_factory, hostile)


@pytest.fixture
def app(hostile_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from point_app_at(hostile_url, monkeypatch)


def reader_of(page: str) -> str:
    """Someone who may open the page."""
    role = next(role for role in Role if access.allowed(role, page))
    return council.CLEARED.email if role is Role.PERFORMANCE_OFFICER else council.PEOPLE[role][0]


# Pages about people and files, which show no measure, level or snapshot text.
SHOWS_NO_MEASURE_TEXT = {"admin_users", "admin_workbook"}


@pytest.mark.parametrize("name", list(PAGE_LINKS))
def test_hostile_text_renders_as_plain_text(app: str, name: str) -> None:
    at = open_as(reader_of(name), name, period=council.MONTH, **PAGE_LINKS[name])
    assert not at.exception, at.exception
    assert at.title, name
    for body in markdown_bodies(at):
        for active in ACTIVE:
            assert not active.search(body.replace("\u2060", "")), (name, body)
    if name not in SHOWS_NO_MEASURE_TEXT:
        assert PAYLOAD in everything_shown(at), name  # shown, literally
