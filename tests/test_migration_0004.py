"""Migration 0004 (administration) upgrades a council's 0003 database in place: every level and
user keeps its row, starts at version 1 and is not retired."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from conftest import engine_at_revision
from sqlalchemy import Engine, text

from metrics import store


@pytest.fixture
def engine_at_0003(tmp_path: Path) -> Iterator[Engine]:
    """An empty database migrated only to 0003: SQLite file or a private PostgreSQL schema."""
    yield from engine_at_revision("0003", tmp_path)


def test_a_0003_council_upgrades_keeping_every_level_and_user(engine_at_0003: Engine) -> None:
    statements = [
        "INSERT INTO priority (code, name, description, sort_order) VALUES ('p1', 'Places', '', 1)",
        "INSERT INTO initiative (code, name, description) VALUES ('i1', 'Digital', 'online')",
        "INSERT INTO initiative_priority (initiative_id, priority_id)"
        " SELECT i.id, p.id FROM initiative i, priority p",
        "INSERT INTO service (code, name) VALUES ('housing', 'Housing')",
        "INSERT INTO team (code, name, service_id) SELECT 'housing/repairs', 'Repairs', id"
        " FROM service",
        'INSERT INTO "user" (email, name, role, clearance, active) VALUES'
        " ('a@x.gov.uk', 'Ann', 'Administrator', 'OFFICIAL', true)",
        'INSERT INTO user_service (user_id, service_id) SELECT u.id, s.id FROM "user" u, service s',
    ]
    with engine_at_0003.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    store.upgrade(engine_at_0003)
    assert store.schema_revision(engine_at_0003) == "0008"
    with engine_at_0003.connect() as connection:
        levels = {
            table: tuple(
                connection.execute(
                    text(f"SELECT code, name, retired_from, version FROM {table}")
                ).one()
            )
            for table in ("priority", "initiative", "service", "team")
        }
        user = connection.execute(
            text('SELECT email, name, role, active, version FROM "user"')
        ).one()
        scope = connection.execute(text("SELECT count(*) FROM user_service")).scalar_one()
        links = connection.execute(text("SELECT count(*) FROM initiative_priority")).scalar_one()
    assert levels == {
        "priority": ("p1", "Places", None, 1),
        "initiative": ("i1", "Digital", None, 1),
        "service": ("housing", "Housing", None, 1),
        "team": ("housing/repairs", "Repairs", None, 1),
    }
    assert tuple(user) == ("a@x.gov.uk", "Ann", "Administrator", True, 1)
    assert (scope, links) == (1, 1)


def test_0004_downgrades_to_0003_and_up_again(engine_at_0003: Engine) -> None:
    store.upgrade(engine_at_0003)
    command.downgrade(store.alembic_config(engine_at_0003), "0003")
    assert store.schema_revision(engine_at_0003) == "0003"
    store.upgrade(engine_at_0003)
    assert store.schema_revision(engine_at_0003) == "0008"
