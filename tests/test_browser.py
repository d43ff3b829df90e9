"""A real browser (pytest-playwright, Debian's Chromium) on the real server: open the dashboard,
drill from a priority to a measure by clicking, and keep the README's screenshots."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_app import ROOT, serve, settle, wait_for_url
from playwright.sync_api import Page, expect

# `make screenshots` points this at docs/screenshots to refresh the README's pictures.
SCREENSHOTS = Path(os.environ.get("SCORECARD_SCREENSHOTS", ROOT / "tests" / "artifacts"))

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def app_url(demo_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app started the way the README starts it, on a free port, on the demo council."""
    with serve(demo_database, tmp_path_factory.mktemp("server")) as url:
        yield url


def test_drill_from_the_dashboard_to_a_priority_and_a_measure(page: Page, app_url: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{app_url}/?period=2017-03")
    settle(page)
    expect(page.locator("h1").first).to_have_text("ME2E dashboard: March 2017")
    assert page.get_by_text("DEMO: ").count() >= 1
    assert page.get_by_text("measures due").count() == 3  # the headline: one short row a tier
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"))

    # Down: select the first row of the priorities table (worst first).
    tables = page.locator("[data-testid='stDataFrame']")
    priorities = tables.nth(1)  # after the exceptions
    priorities.scroll_into_view_if_needed()
    box = priorities.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first row's selection cell
    wait_for_url(page, "/priority?priority=")
    priority = page.locator("h1").first.inner_text()
    priority_code = page.url.split("priority=")[1].split("&")[0]
    assert priority and "period=2017-03" in page.url
    page.screenshot(path=str(SCREENSHOTS / "priority.png"))

    # Further down: select the first Corporate Plan measure's row.
    table = page.locator("[data-testid='stDataFrame']").first
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 38)  # the row's selection cell (76 px rows)
    wait_for_url(page, "/metric?")  # the measure page itself, not the URL on its way
    code = page.url.split("metric=")[1].split("&")[0]
    expect(page.locator("h1").first).to_contain_text(f"{code}: ")
    assert page.get_by_text("Why:").count() == 1
    page.wait_for_selector("[data-testid='stPlotlyChart'] .scatterlayer", timeout=30_000)
    page.screenshot(path=str(SCREENSHOTS / "metric.png"))

    # And back up through the breadcrumb.
    page.get_by_role("link", name=priority).first.click()
    wait_for_url(page, f"/priority?priority={priority_code}")
    expect(page.locator("h1").first).to_have_text(priority)


def test_a_link_pasted_in_an_email_opens_the_same_view(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/?metric=CP03&period=2016-03")
    wait_for_url(page, "/metric")
    expect(page.locator("h1").first).to_contain_text("CP03: ")
    assert page.get_by_text("Status for March 2016").count() == 1
