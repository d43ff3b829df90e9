"""A real browser on the real server: no page asks any host but the app's own (docs/security.md),
and the public view shows no OFFICIAL or OFFICIAL-SENSITIVE canary, on the page or in its
download.

Every request a page makes is recorded (`page.on("request")`, and its WebSocket), and so is
every icon link, script, image and loaded resource the page holds at the end, since Chromium
fetches a page's icon without telling Playwright."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from app_server import ROOT, serve
from playwright.sync_api import Page, expect
from sqlalchemy import Engine
from test_public_view import NEVER, PUBLIC, council, freeze

from metrics import queries
from metrics.vocab import Marking
from pages._ui.routing import PAGE_FILES, ROLE_PAGES

READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
# What the page holds that the browser fetched or will fetch: links (icons, styles), scripts,
# images and frames, and every resource the page loaded.
FETCHED = """() => [
  ...[...document.querySelectorAll('link[href]')].map(e => e.href),
  ...[...document.querySelectorAll('script[src], img[src], iframe[src], source[src]')]
    .map(e => e.src),
  ...performance.getEntriesByType('resource').map(e => e.name),
]"""

pytestmark = pytest.mark.browser


class Recorder:
    """Every URL a page asked for, and which of them went to another host."""

    def __init__(self, page: Page, app_url: str) -> None:
        self.page = page
        self.own = urlsplit(app_url).netloc
        self.seen: list[str] = []
        page.on("request", lambda request: self.seen.append(request.url))
        page.on("websocket", lambda socket: self.seen.append(socket.url))

    def settle(self) -> None:
        """Wait for the script to finish and the page to stop fetching; keep what it holds."""
        self.page.wait_for_selector(READY, timeout=60_000)
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_selector(READY, timeout=60_000)
        self.seen.extend(self.page.evaluate(FETCHED))

    def outside(self) -> list[str]:
        return sorted({url for url in self.seen if not self._own(url)})

    def _own(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme == "data":  # inline, fetched from nowhere
            return True
        if parts.scheme == "blob":  # blob:http://host:port/uuid
            parts = urlsplit(parts.path)
        return parts.scheme in ("http", "https", "ws", "wss") and parts.netloc == self.own


OFFICER = "performance@demo.melburyvale.gov.uk"  # reaches every page but these:
OTHERS = {  # page -> the demo persona who opens it
    "my_scorecard": "housing.manager@demo.melburyvale.gov.uk",
    **{
        name: "admin@demo.melburyvale.gov.uk"
        for name in ("admin_measures", "admin_levels", "admin_users", "admin_workbook")
    },
}
# A page and what its link names, so each shows its charts and tables, not only a picker.
LINKS = {
    "dashboard": "/?period=2016-03",
    "metric": "/metric?metric=CP03&period=2016-03",  # trend and XmR charts
    "priority": "/priority?priority=places-a-clean-safe-borough&period=2016-03",
}


@pytest.fixture(scope="module")
def demo_url(
    demo_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], str]]:
    """The app on the demo council as a persona: its default persona set to them (so a link,
    which opens a new session, opens as them), one server per persona, started when asked."""
    servers: dict[str, str] = {}
    with ExitStack() as stack:

        def url_for(email: str) -> str:
            if email not in servers:
                folder = tmp_path_factory.mktemp("server")
                text = (ROOT / "config.toml").read_text(encoding="utf-8")
                text = re.sub(
                    r'demo_default_persona = ".*"', f'demo_default_persona = "{email}"', text
                )
                (folder / "config.toml").write_text(text, encoding="utf-8")
                env = {"SCORECARD_CONFIG": str(folder / "config.toml")}
                servers[email] = stack.enter_context(serve(demo_database, folder, env=env))
            return servers[email]

        yield url_for


def test_every_page_is_visited_as_a_persona_who_may_open_it(demo_engine: Engine) -> None:
    personas = {user.email: user for user in queries.users(demo_engine)}
    officer = personas[OFFICER]
    assert officer.clearance is Marking.OFFICIAL_SENSITIVE
    for name in PAGE_FILES:
        visitor = personas[OTHERS.get(name, OFFICER)]
        assert name in ROLE_PAGES[visitor.role], (name, visitor.email)


# Every page shares the same shell and static files; the everyday suite visits one page of each
# kind (reading, entry, committee, administration) and `make faults` visits the rest.
EVERYDAY_PAGES = {"dashboard", "metric", "my_month", "committee", "admin_measures"}


@pytest.mark.parametrize(
    "name",
    [n if n in EVERYDAY_PAGES else pytest.param(n, marks=pytest.mark.slow) for n in PAGE_FILES],
)
def test_no_page_a_persona_reaches_asks_another_host(
    page: Page, demo_url: Callable[[str], str], name: str
) -> None:
    url = demo_url(OTHERS.get(name, OFFICER))
    recorder = Recorder(page, url)
    page.goto(url + LINKS.get(name, f"/{name}?period=2016-03"))
    recorder.settle()
    # The first settle can see the state between the app's first run and the rerun it asks for
    # (a slow page on PostgreSQL was still running 5 s later): wait for the heading as long as
    # a slow rerun takes, then settle again so every fetch of the finished page is recorded.
    expect(page.locator("h1").first).to_be_visible(timeout=60_000)
    recorder.settle()
    assert not page.locator("[data-testid='stException']").count()
    assert page.get_by_text(" may not open this page").count() == 0
    assert recorder.outside() == []


# Single sign-on set up, so Streamlit knows nobody is signed in; the provider is never asked.
AUTH = """[auth]
redirect_uri = "http://127.0.0.1:8501/oauth2callback"
cookie_secret = "only-for-this-test"
client_id = "line-of-sight"
client_secret = "only-for-this-test"
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
"""


@pytest.fixture
def public_url(make_engine: Callable[[], Engine], tmp_path: Path) -> Iterator[str]:
    """The app with the public view on, single sign-on and nobody signed in, on a council whose
    2016-02 and 2016-03 are published (an OFFICIAL and an OFFICIAL-SENSITIVE canary among its
    measures)."""
    engine = make_engine()
    council(engine)
    freeze(engine, "2016-02")
    freeze(engine, "2016-03")
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('mode = "demo"', 'mode = "oidc"').replace(
        "enabled = false", "enabled = true"
    )
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    (tmp_path / "secrets.toml").write_text(AUTH, encoding="utf-8")
    with serve(
        engine.url.render_as_string(hide_password=False),
        tmp_path,
        env={"SCORECARD_CONFIG": str(tmp_path / "config.toml")},
        args=["--secrets.files", str(tmp_path / "secrets.toml")],
    ) as url:
        yield url


def test_the_public_view_asks_no_other_host_and_shows_no_canary(
    page: Page, public_url: str
) -> None:
    app = public_url
    recorder = Recorder(page, app)
    # A fresh server's first request for a page other than the root runs that page's file
    # before app.py: the tab's icon must still be the app's own.
    page.goto(f"{app}/metric")
    recorder.settle()
    page.goto(app)
    recorder.settle()
    expect(page.locator("h1").first).to_have_text(
        "How Borough of Melbury Vale (demo) is performing"
    )
    page.wait_for_selector("[data-testid='stDataFrame']")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download this data (CSV)").click()
    data = Path(download.value.path()).read_bytes()
    recorder.settle()
    text = page.inner_text("body")
    assert "Open Government Licence" in text
    assert data.count(b"\r\n") == 1 + len(PUBLIC)
    for secret in NEVER:
        assert secret not in text, secret
        assert secret.encode() not in data, secret
    assert recorder.outside() == []
