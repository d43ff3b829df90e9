"""Shared fixtures: a fresh, migrated database per test, on SQLite or on PostgreSQL.

Set SCORECARD_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to
run the same tests on PostgreSQL. Each test then gets its own schema, dropped afterwards, so
test runs that share one PostgreSQL database never see each other's rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from metrics import store

TEST_DATABASE_URL = os.environ.get("SCORECARD_TEST_DATABASE_URL", "")


def _with_search_path(url: str, schema: str) -> str:
    """The URL with every connection's search_path set to the schema, so tables land there."""
    parsed = make_url(url)
    return parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def _postgres_engine(_folder: Path) -> Iterator[Engine]:
    schema = f"test_{uuid4().hex[:16]}"
    admin = create_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = store.make_engine(_with_search_path(TEST_DATABASE_URL, schema))
    try:
        store.upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _sqlite_engine(folder: Path) -> Iterator[Engine]:
    engine = store.make_engine(f"sqlite:///{folder}/t.db")
    try:
        store.upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def make_engine(tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """A maker of empty databases at the latest schema, each removed when the test ends."""
    opened: list[Iterator[Engine]] = []

    def make() -> Engine:
        folder = tmp_path / f"db{len(opened)}"
        folder.mkdir()
        database = (_postgres_engine if TEST_DATABASE_URL else _sqlite_engine)(folder)
        opened.append(database)
        return next(database)

    yield make
    for database in reversed(opened):
        next(database, None)  # runs the generator's clean-up


@pytest.fixture
def engine(make_engine: Callable[[], Engine]) -> Engine:
    """An empty database at the latest schema: temp-file SQLite, or a private PostgreSQL schema."""
    return make_engine()


# --- The demo council, for the pages, the line of sight and the browser (issue 3) ---------------


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a database holding the demo council, built once a session through the
    workbook import (the pages only read it): temp-file SQLite, or a private PostgreSQL schema
    when SCORECARD_TEST_DATABASE_URL is set."""
    from metrics import demo

    if TEST_DATABASE_URL:
        schema = f"demo_{uuid4().hex[:16]}"
        admin = create_engine(TEST_DATABASE_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _with_search_path(TEST_DATABASE_URL, schema)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    engine = store.make_engine(url)
    store.upgrade(engine)
    demo.load_demo(engine)
    engine.dispose()
    yield url
    if TEST_DATABASE_URL:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def demo_db(demo_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app pointed at the demo council (SCORECARD_DATABASE_URL, settings re-read), with
    Streamlit's caches emptied before and after the test."""
    import streamlit as st

    from metrics.config import settings

    monkeypatch.setenv("SCORECARD_DATABASE_URL", demo_database)
    settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield demo_database
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.undo()
    settings.cache_clear()


@pytest.fixture
def demo_engine(demo_database: str) -> Iterator[Engine]:
    """An engine on the demo council."""
    engine = store.make_engine(demo_database)
    yield engine
    engine.dispose()
