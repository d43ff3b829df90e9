"""Single sign-on in a real browser: the app in `oidc` mode signs people in through `st.login`
against an OpenID Connect provider started on loopback inside the test (oidc-provider-mock).
A service manager lands on My scorecard as themselves with their pages; a person with no
account gets the no-access page; sign-out signs out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import access_council as council
import pytest
from access_pages import database
from app_server import _free_port, serve
from browser_app import settle as _settle
from playwright.sync_api import Page, expect

from metrics.vocab import Role

ROOT = Path(__file__).resolve().parent.parent
MANAGER = council.PEOPLE[Role.SERVICE_MANAGER][0]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """An OpenID Connect provider on loopback: any client, any subject typed in its form."""
    oidc_provider_mock = pytest.importorskip("oidc_provider_mock")
    with oidc_provider_mock.run_server_in_thread(port=_free_port()) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def signed_in_app(provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app in oidc mode, its [auth] secrets pointing at the provider, on the small council."""
    pytest.importorskip("authlib")
    folder = tmp_path_factory.mktemp("sso")
    url = next(database(tmp_path_factory, council.build))
    port = _free_port()
    app = f"http://localhost:{port}"
    config = (ROOT / "config.toml").read_text(encoding="utf-8")
    (folder / "config.toml").write_text(config.replace('mode = "demo"', 'mode = "oidc"'))
    (folder / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "{app}/oauth2callback"\n'
        'cookie_secret = "a-long-random-string-for-the-test-only"\n'
        'client_id = "line-of-sight"\n'
        'client_secret = "not-a-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    env = {"SCORECARD_DATABASE_URL": url, "SCORECARD_CONFIG": str(folder / "config.toml")}
    secrets = ["--secrets.files", str(folder / "secrets.toml")]
    with serve(url, folder, env=env, args=secrets, port=port):
        yield app


def sign_in(page: Page, app: str, email: str) -> None:
    page.goto(app)
    _settle(page)
    expect(page.get_by_text("Sign in to see the council's performance.")).to_be_visible()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("input[name='sub']", timeout=30_000)  # the provider's own page
    page.fill("input[name='sub']", email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_function("a => location.href.startsWith(a)", arg=app, timeout=30_000)
    _settle(page)


def test_sign_in_lands_as_the_right_person_and_sign_out_signs_out(
    page: Page, signed_in_app: str
) -> None:
    sign_in(page, signed_in_app, MANAGER)
    expect(page.locator("h1").first).to_have_text("My scorecard")
    signed = page.get_by_text("Signed in as").first.inner_text().replace("\u2060", "")
    assert signed == f"Signed in as {MANAGER}"
    nav = page.locator("[data-testid='stSidebarNav']")
    for title in ("My scorecard", "ME2E dashboard", "My month"):
        expect(nav.get_by_text(title, exact=True)).to_be_visible()
    assert nav.get_by_text("Approvals", exact=True).count() == 0  # not a manager's page
    assert page.get_by_text("DEMO").count() == 0

    page.get_by_role("button", name="Sign out").click()
    # Streamlit ends the provider's session too (RP-initiated logout), then comes back
    page.get_by_role("button", name="End session").click(timeout=30_000)
    page.wait_for_function("a => location.href.startsWith(a)", arg=signed_in_app, timeout=30_000)
    page.goto(signed_in_app)
    _settle(page)
    expect(page.get_by_text("Sign in to see the council's performance.")).to_be_visible()
    assert page.get_by_text("Signed in as").count() == 0


def test_a_person_with_no_account_gets_the_no_access_page(page: Page, signed_in_app: str) -> None:
    sign_in(page, signed_in_app, "stranger@elsewhere.gov.uk")
    expect(page.locator("h1").first).to_have_text("No access")
    expect(page.get_by_text("You do not have access to Line of Sight.")).to_be_visible()
    assert page.locator("[data-testid='stDataFrame']").count() == 0
    assert page.locator("[data-testid='stSidebarNav']").get_by_text("ME2E dashboard").count() <= 1
