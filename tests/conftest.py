"""Shared fixtures: a fresh, migrated database per test, on SQLite or on PostgreSQL.

Set SCORECARD_TEST_DATABASE_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to
run the same tests on PostgreSQL. Each test then gets its own schema, dropped afterwards, so
test runs that share one PostgreSQL database never see each other's rows.
"""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
import sys
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


def engine_at_revision(revision: str, folder: Path) -> Iterator[Engine]:
    """An empty database migrated only to `revision` (for a migration's upgrade test): a SQLite
    file in `folder` or a private PostgreSQL schema, removed afterwards."""
    from alembic import command

    if not TEST_DATABASE_URL:
        engine = store.make_engine(f"sqlite:///{folder}/old.db")
        command.upgrade(store.alembic_config(engine), revision)
        yield engine
        engine.dispose()
        return
    schema = f"test_{uuid4().hex[:16]}"
    admin = create_engine(TEST_DATABASE_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = store.make_engine(_with_search_path(TEST_DATABASE_URL, schema))
    command.upgrade(store.alembic_config(engine), revision)
    yield engine
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def _sqlite_engine(folder: Path, empty: Path) -> Iterator[Engine]:
    """A copy of `empty` (a database migrated once a session): the same pages as running every
    migration again, at a hundredth of the time (the suite opens hundreds of these)."""
    with sqlite3.connect(empty) as source, sqlite3.connect(folder / "t.db") as target:
        source.backup(target)
    engine = store.make_engine(f"sqlite:///{folder}/t.db")
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _empty_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database brought to the latest schema by the migrations, once a session."""
    path = tmp_path_factory.mktemp("empty") / "empty.db"
    engine = store.make_engine(f"sqlite:///{path}")
    store.upgrade(engine)
    engine.dispose()  # the last connection closes: the write-ahead log is folded in
    return path


@pytest.fixture(autouse=True, scope="session")
def _scan_components_once() -> Iterator[None]:
    """Scan the installed packages for Streamlit components once a session, not once an AppTest.

    Each new AppTest reads the metadata of every installed distribution (about 80 ms) before its
    first run; the suite opens over a thousand, and what is installed cannot change mid-run.
    """
    from streamlit.components.v2 import manifest_scanner

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            manifest_scanner,
            "scan_component_manifests",
            functools.cache(manifest_scanner.scan_component_manifests),
        )
        yield


@pytest.fixture(autouse=True, scope="session")
def _wait_for_each_run_without_polling() -> Iterator[None]:
    """Wait for an AppTest run by joining its script thread, not by polling every millisecond.

    Streamlit's own wait wakes each millisecond to scan every event the run has sent so far,
    taking the interpreter's lock from the page it waits for: 5 to 10 % of a page test's time.
    The run is over when its thread ends (AppTest joins it before reading the page anyway);
    a run still going after the timeout is stopped and fails as Streamlit's own wait does.
    """
    from streamlit.testing.v1 import local_script_runner

    def wait(runner: local_script_runner.LocalScriptRunner, timeout: float = 3) -> None:
        thread = runner._script_thread
        if thread is not None:
            thread.join(timeout)
            if not thread.is_alive() or runner.script_stopped():
                return
        runner.request_stop()
        runner.join()
        raise RuntimeError(f"AppTest script run timed out after {timeout}(s)")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(local_script_runner, "require_widgets_deltas", wait)
        yield


@pytest.fixture(autouse=True)
def _restore_main_module() -> Iterator[None]:
    """Put back `__main__` after each test: an AppTest run leaves a page script there.

    A child started by multiprocessing (forkserver or spawn) imports whatever `__main__` names
    before it runs its target, so a leftover page would run inside every later child.
    """
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


def database_of_its_own(folder: Path, empty: Path) -> Iterator[Engine]:
    """An empty database at the latest schema, removed when the iterator ends: a copy of `empty`
    in `folder` (SQLite), or a private schema (PostgreSQL, when the suite runs on it)."""
    return _postgres_engine(folder) if TEST_DATABASE_URL else _sqlite_engine(folder, empty)


@pytest.fixture
def make_engine(tmp_path: Path, _empty_sqlite: Path) -> Iterator[Callable[[], Engine]]:
    """A maker of empty databases at the latest schema, each removed when the test ends."""
    opened: list[Iterator[Engine]] = []

    def make() -> Engine:
        folder = tmp_path / f"db{len(opened)}"
        folder.mkdir()
        database = database_of_its_own(folder, _empty_sqlite)
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


def sampled(cases: list, every: int, ids: list[str] | None = None) -> list:
    """The cases of a sweep with every `every`-th one in the everyday suite (spread across the
    sweep, so each kind of case keeps one there) and the rest marked slow: `make faults`, which
    CI runs too, goes through them all. A tuple is one case's arguments."""
    return [
        pytest.param(
            *(case if isinstance(case, tuple) else (case,)),
            marks=() if place % every == 0 else pytest.mark.slow,
            id=None if ids is None else ids[place],
        )
        for place, case in enumerate(cases)
    ]


def copy_demo(demo_database: str, make_engine: Callable[[], Engine], folder: Path) -> Engine:
    """A demo council of the test's own to write to, in well under a second: a copy of the
    session's SQLite file, or its rows copied into a fresh PostgreSQL schema."""
    if not TEST_DATABASE_URL:
        copy = folder / "council.db"
        shutil.copy(demo_database.removeprefix("sqlite:///"), copy)
        return store.make_engine(f"sqlite:///{copy}")
    from sqlmodel import SQLModel

    engine = make_engine()
    source = make_url(demo_database).query["options"].removeprefix("-csearch_path=")
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):  # what the migrations seeded
            connection.execute(text(f'DELETE FROM "{table.name}"'))
        for table in SQLModel.metadata.sorted_tables:  # parents before children
            connection.execute(
                text(f'INSERT INTO "{table.name}" SELECT * FROM "{source}"."{table.name}"')
            )
            if "id" in table.columns and table.columns["id"].autoincrement is not False:
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f'coalesce((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
                    )
                )
    return engine


@pytest.fixture
def demo_copy(
    demo_database: str,
    make_engine: Callable[[], Engine],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Engine]:
    """The app pointed at a demo council of this test's own (the test writes), caches emptied
    around it."""
    import streamlit as st

    from metrics.config import settings

    engine = copy_demo(demo_database, make_engine, tmp_path)
    monkeypatch.setenv("SCORECARD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield engine
    engine.dispose()
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


@pytest.fixture
def app_on(
    make_engine: Callable[[], Engine], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], Engine]]:
    """A maker of an empty database the app is then pointed at (caches emptied around it). Its
    people are made up by each test, so demo mode is told to run over them."""
    import streamlit as st

    from metrics.config import settings

    def make() -> Engine:
        engine = make_engine()
        monkeypatch.setenv("SCORECARD_DATABASE_URL", engine.url.render_as_string(False))
        monkeypatch.setenv("SCORECARD_ALLOW_DEMO_OVER_REAL_DATA", "1")
        settings.cache_clear()
        st.cache_data.clear()
        st.cache_resource.clear()
        return engine

    yield make
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.undo()
    settings.cache_clear()


# --- The real browser (pytest-playwright on Debian's Chromium): tests marked `browser` -------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's Chromium (Playwright cannot download its own browser here)."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        reason = "no Chromium at /usr/bin/chromium (apt-get install -y chromium)"
        if os.environ.get("REQUIRE_BROWSER"):  # CI installs it, so there a skip is a failure
            pytest.fail(reason)
        pytest.skip(reason)
    return {
        **browser_type_launch_args,
        "executable_path": str(chromium),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """A window tall enough for the screenshots to show a screenful of the page."""
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1500}}


@pytest.fixture
def writable_app(
    demo_database: str, make_engine: Callable[[], Engine], tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """(app URL, database URL): the app serving a demo council of this test's own, to write to."""
    from browser_app import serve, writable_demo

    database = writable_demo(demo_database, make_engine, tmp_path)
    with serve(database, tmp_path) as url:
        yield url, database
