"""Opening the app's pages headless, as any person, on a small council built once a module:
what every page shows as one string, and the bytes of every download it offers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import Engine, create_engine, text
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from metrics import store

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
ESCAPED = re.compile(r"\\(.)")
# The page each page's test opens it on, with what its link names.
PAGE_LINKS: dict[str, dict[str, str]] = {
    "my_scorecard": {},
    "dashboard": {},
    "priority": {"priority": "P1"},
    "initiative": {"initiative": "I1"},
    "service": {"service": "housing"},
    "team": {"team": "allocations"},
    "metric": {"metric": "HOU01"},
    "my_month": {},
    "approvals": {},
    "data_quality": {},
    "committee": {},
    "admin_measures": {},
    "admin_levels": {},
    "admin_users": {},
    "admin_workbook": {},
}


def database(
    tmp_path_factory: pytest.TempPathFactory, build: Callable[[Engine], None]
) -> Iterator[str]:
    """The URL of a database `build` fills once: temp-file SQLite, or a private PostgreSQL
    schema when SCORECARD_TEST_DATABASE_URL is set (dropped afterwards)."""
    from conftest import TEST_DATABASE_URL, _with_search_path

    schema = f"access_{uuid4().hex[:16]}"
    if TEST_DATABASE_URL:
        admin = create_engine(TEST_DATABASE_URL)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _with_search_path(TEST_DATABASE_URL, schema)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('access') / 'access.db'}"
    engine = store.make_engine(url)
    store.upgrade(engine)
    build(engine)
    engine.dispose()
    yield url
    if TEST_DATABASE_URL:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def point_app_at(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app pointed at the database (its people are made up: demo mode is told to run over
    them), caches emptied before and after."""
    import streamlit as st

    from metrics.config import settings

    monkeypatch.setenv("SCORECARD_DATABASE_URL", url)
    monkeypatch.setenv("SCORECARD_ALLOW_DEMO_OVER_REAL_DATA", "1")
    settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield url
    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.undo()
    settings.cache_clear()


def unescape(body: str) -> str:
    """Markdown as the reader sees it (the pages escape text from users and links)."""
    return ESCAPED.sub(r"\1", body).replace("\u2060", "")


def open_as(email: str, page: str, **params: str) -> AppTest:
    """A fresh session of `email` opening the page by its URL (`/<page>?period=...&...`)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["persona"] = email
    if "period" in params:
        at.session_state["entry_month"] = params["period"]  # the monthly cycle's month too
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    if page != "dashboard" and not at.exception:
        at.switch_page(f"pages/{page}.py").run()
    return at


def markdown_bodies(at: AppTest) -> list[str]:
    """Every Markdown body the page sent: text, captions, titles, alerts, labels and badges."""
    bodies = [
        str(e.value)
        for kind in ("markdown", "caption", "title", "subheader", "header")
        for e in at.get(kind)
    ]
    bodies += [
        str(e.value) for kind in ("error", "info", "warning", "success") for e in at.get(kind)
    ]
    bodies += [m.label for m in at.metric]
    bodies += [str(b.proto.label) for kind in ("button", "download_button") for b in at.get(kind)]
    bodies += [t.label for t in at.tabs] + [e.label for e in at.expander]
    return bodies


def everything_shown(at: AppTest) -> str:
    """Every piece of text, widget option, table cell and chart the page sent, as one string
    (escapes resolved), and the exception if one was raised."""
    parts = [unescape(body) for body in markdown_bodies(at)]
    parts += [str(m.value) for m in at.metric]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    parts += [str(chart.proto.spec) for chart in at.get("plotly_chart")]
    parts += [str(s.options) + str(s.value) for s in at.selectbox]
    parts += [str(e.value) for e in at.exception]
    return "\n".join(parts)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bytes of every file a page hands the browser (download buttons, media) while the
    test runs."""
    kept: list[bytes] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
        if isinstance(path_or_data, bytes | str):
            kept.append(path_or_data.encode() if isinstance(path_or_data, str) else path_or_data)
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return kept
