"""Two app processes on one PostgreSQL database (issue 12): a write made while both are open is
seen by each on its next rerun, because every cached view is keyed on the data version that
the write bumped in its own transaction (docs/deployment.md: several replicas)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import hostile_workbooks as hw
import pytest
from browser_app import serve, settle, shows, wait_for_url, writable_demo
from playwright.sync_api import BrowserContext, Page
from sqlalchemy import Engine

from metrics import store
from metrics.workbook import import_workbook

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,  # two servers and a demo council: about 40 s
    pytest.mark.skipif(
        not os.environ.get("SCORECARD_TEST_DATABASE_URL", "").startswith("postgresql"),
        reason="replicas share one PostgreSQL: set SCORECARD_TEST_DATABASE_URL to one",
    ),
]

VIEW = "/?metric=CP03&period=2016-03"


def opened(page: Page, app: str) -> Page:
    page.goto(app + VIEW)
    wait_for_url(page, "/metric")
    return page


def test_a_write_is_seen_by_both_replicas_on_their_next_rerun(
    page: Page,
    context: BrowserContext,
    demo_database: str,
    make_engine: Callable[[], Engine],
    tmp_path: Path,
) -> None:
    database = writable_demo(demo_database, make_engine, tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    note = f"Seen by every replica {uuid4().hex[:8]}"
    with serve(database, tmp_path / "a") as app_a, serve(database, tmp_path / "b") as app_b:
        page_a, page_b = opened(page, app_a), opened(context.new_page(), app_b)
        for shown in (page_a, page_b):  # each has read, and cached, the view before the write
            assert shown.get_by_text(note).count() == 0

        path = tmp_path / "commentary.xlsx"
        hw.patched(metrics=[], values=[{"Code": "CP03", "Period": "2016-03", "Commentary": note}])(
            path
        )
        engine = store.make_engine(database)
        try:
            import_workbook(engine, path, actor="replica test")
        finally:
            engine.dispose()

        for shown in (page_b, page_a):  # the next rerun of each: a fresh session, same cache
            shown.reload()
            settle(shown)
            shows(shown, note)
