"""A real browser (pytest-playwright, Debian's Chromium) on the real server: open the dashboard,
drill from a priority to a measure by clicking, and keep the README's screenshots."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
# `make screenshots` points this at docs/screenshots to refresh the README's pictures.
SCREENSHOTS = Path(os.environ.get("SCORECARD_SCREENSHOTS", ROOT / "tests" / "artifacts"))
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
VIEWPORT = {"width": 1400, "height": 1500}

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the app exited early with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"the app did not answer {url}/_stcore/health in {timeout} s")


@pytest.fixture(scope="module")
def app_url(demo_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app started the way the README starts it, on a free port, on the demo council."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("server") / "streamlit.log").open("w")
    env = {**os.environ, "SCORECARD_DATABASE_URL": demo_database}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's Chromium (Playwright cannot download its own browser here)."""
    if not CHROMIUM.exists():
        reason = "no Chromium at /usr/bin/chromium (apt-get install -y chromium)"
        if os.environ.get("REQUIRE_BROWSER"):  # CI installs it, so there a skip is a failure
            pytest.fail(reason)
        pytest.skip(reason)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """A window tall enough for the screenshots to show a screenful of the page."""
    return {**browser_context_args, "viewport": VIEWPORT}


def _settle(page: Page) -> None:
    """Wait until the script has finished and the page stopped changing."""
    page.wait_for_selector(READY, timeout=60_000)
    page.wait_for_load_state("networkidle")
    page.wait_for_selector(READY, timeout=60_000)


def _wait_for_url(page: Page, fragment: str) -> None:
    page.wait_for_function("f => window.location.href.includes(f)", arg=fragment, timeout=30_000)
    _settle(page)


def test_drill_from_the_dashboard_to_a_priority_and_a_measure(page: Page, app_url: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{app_url}/?period=2017-03")
    _settle(page)
    page.wait_for_selector("g.slice", timeout=30_000)
    expect(page.locator("h1").first).to_have_text("ME2E dashboard: 2017-03")
    assert page.get_by_text("DEMO: ").count() >= 1
    assert page.locator("[data-testid='stMetric']").count() == 15
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"))

    # Down: select the priority's segment in the line of sight.
    priority = "Places: a clean, safe borough"
    segment = page.locator("g.slice").filter(has_text=priority).first
    segment.locator("path").first.click(force=True)
    _wait_for_url(page, "/priority?priority=places-a-clean-safe-borough")
    expect(page.locator("h1").first).to_have_text(priority)
    assert "period=2017-03" in page.url
    page.screenshot(path=str(SCREENSHOTS / "priority.png"))

    # Further down: select the first Corporate Plan measure's row.
    table = page.locator("[data-testid='stDataFrame']").first
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the row's selection cell
    _wait_for_url(page, "/metric?")  # the measure page itself, not the URL on its way
    code = page.url.split("metric=")[1].split("&")[0]
    expect(page.locator("h1").first).to_contain_text(f"{code}: ")
    assert page.get_by_text("Why:").count() == 1
    page.wait_for_selector("[data-testid='stPlotlyChart'] .scatterlayer", timeout=30_000)
    page.screenshot(path=str(SCREENSHOTS / "metric.png"))

    # And back up through the breadcrumb.
    page.get_by_role("link", name=priority).first.click()
    _wait_for_url(page, "/priority?priority=places-a-clean-safe-borough")
    expect(page.locator("h1").first).to_have_text(priority)


def test_a_link_pasted_in_an_email_opens_the_same_view(page: Page, app_url: str) -> None:
    page.goto(f"{app_url}/?metric=CP03&period=2016-03")
    _wait_for_url(page, "/metric")
    expect(page.locator("h1").first).to_contain_text("CP03: ")
    assert page.get_by_text("Status for 2016-03").count() == 1
