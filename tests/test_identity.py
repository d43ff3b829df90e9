"""The identity modes through the one seam: a trusted proxy's header (believed only from the
proxy), the demo (refused on a council's own data; the persona kept across a reload but never
in a link), the no-access page, and the idle timeout."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import access_council as council
import pytest
from access_pages import APP, ROOT, database, point_app_at, unescape
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from metrics import identity, store
from metrics.config import Identity, settings
from metrics.models import User
from metrics.vocab import Role
from pages._ui import identity as seam

DIRECTOR = council.PEOPLE[Role.MANAGEMENT_TEAM][0]
NO_ACCESS = (
    "You do not have access to Line of Sight. Ask the performance team "
    "(performance@melburyvale.gov.uk) to give you access."
)


@pytest.mark.parametrize(
    ("address", "trusted", "believed"),
    [
        (None, ("127.0.0.1/32",), True),  # Streamlit reports loopback as no address
        ("10.0.0.7", ("10.0.0.0/24",), True),
        ("10.0.1.7", ("10.0.0.0/24",), False),  # not the proxy: the header is not believed
        ("::1", ("::1/128",), True),
        ("bogus", ("0.0.0.0/0",), False),
        ("10.0.0.7", ("not a network",), False),
    ],
)
def test_the_header_is_believed_only_from_a_trusted_proxy(
    address: str | None, trusted: tuple[str, ...], believed: bool
) -> None:
    config = Identity(mode="header", header_name="X-Email", trusted_proxies=trusted)
    found = identity.header_email({"x-email": " Someone@Council.gov.uk "}, address, config)
    assert found == ("someone@council.gov.uk" if believed else "")


def test_an_unknown_mode_stops_the_app() -> None:
    with pytest.raises(identity.IdentityError, match="not one of demo, header, oidc"):
        identity.check_mode(Identity(mode="none"))


@pytest.mark.parametrize(
    ("last", "now", "minutes", "expired"),
    [(None, 10_000, 30, False), (0, 1800, 30, False), (0, 1801, 30, True), (0, 99_999, 0, False)],
)
def test_idle_timeout(last: float | None, now: float, minutes: int, expired: bool) -> None:
    assert identity.idle_expired(last, now, minutes) is expired


def test_the_demo_refuses_a_database_with_people_outside_the_demo(engine: Engine) -> None:
    council.build(engine, with_snapshot=False)
    assert identity.demo_data_only(engine)  # x.gov.uk is not the demo's domain
    refusal = identity.demo_refusal(engine, Identity(mode="demo"))
    assert refusal and refusal.startswith("Demo mode will not start")
    assert "x.gov.uk" not in refusal  # names nobody
    assert (
        identity.demo_refusal(engine, Identity(mode="demo", allow_demo_over_real_data=True)) is None
    )
    assert identity.demo_refusal(engine, Identity(mode="oidc")) is None


def test_the_demo_council_is_the_demo(demo_engine: Engine) -> None:
    assert identity.demo_data_only(demo_engine) == []


def test_command_line_actors_name_nobody_but_a_person_outside_the_demo_does(
    engine: Engine,
) -> None:
    with store.write(engine) as session:
        session.add(User(email="pat@demo.melburyvale.gov.uk", name="Pat", role="Councillor"))
        store.audit(session, actor="cli:root", action="x", entity="x", entity_key="x")
    assert identity.demo_data_only(engine) == []
    with store.write(engine) as session:
        store.audit(session, actor="Sam@Council.gov.uk", action="x", entity="x", entity_key="x")
    assert identity.demo_data_only(engine) == ["sam@council.gov.uk"]


# --- On the running app ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def council_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from database(tmp_path_factory, council.build)


@pytest.fixture
def app(council_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from point_app_at(council_url, monkeypatch)


@pytest.fixture
def mode(app: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Configure the app's identity mode (and any other [identity] line)."""

    def configure(name: str, **more: str) -> None:
        text = (ROOT / "config.toml").read_text(encoding="utf-8")
        text = text.replace('mode = "demo"', f'mode = "{name}"')
        for key, value in more.items():
            text = text.replace("[identity]\n", f"[identity]\n{key} = {value}\n")
        config = tmp_path / "config.toml"
        config.write_text(text, encoding="utf-8")
        monkeypatch.setenv("SCORECARD_CONFIG", str(config))
        settings.cache_clear()

    return configure


def through_proxy(
    monkeypatch: pytest.MonkeyPatch, email: str | None, address: str | None = None
) -> None:
    headers = {"X-Forwarded-Email": email} if email else {}
    monkeypatch.setattr(seam, "_request", lambda: (headers, address))


def shown(at: AppTest) -> list[str]:
    return [unescape(e.value) for kind in ("error", "info", "title") for e in at.get(kind)]


def test_the_proxys_header_signs_a_person_in(mode, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    mode("header")
    through_proxy(monkeypatch, "Director@X.gov.uk")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value.startswith("ME2E dashboard")
    assert any("Signed in as director" in unescape(c.value) for c in at.sidebar.caption)
    assert not any(w.value.startswith("DEMO") for w in at.warning)


@pytest.mark.parametrize(
    ("email", "address", "expected"),
    [
        (DIRECTOR, "192.0.2.9", "Open Line of Sight through the council's sign-in page."),
        (None, None, "Open Line of Sight through the council's sign-in page."),
        ("stranger@x.gov.uk", None, NO_ACCESS),
        (council.DISABLED, None, NO_ACCESS),  # a disabled account is no account
    ],
)
def test_no_header_no_proxy_or_no_account_gets_the_no_access_page_and_nothing_else(  # type: ignore[no-untyped-def]
    mode, monkeypatch: pytest.MonkeyPatch, email: str | None, address: str | None, expected: str
) -> None:
    mode("header")
    through_proxy(monkeypatch, email, address)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["metric"] = "HOU01"
    at.run()
    assert not at.exception
    assert expected in shown(at)
    assert not at.dataframe and not at.metric and not at.get("plotly_chart")
    assert not [s for s in at.sidebar.selectbox if s.key == "period"]


def test_the_demo_will_not_start_on_a_councils_own_data(app: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SCORECARD_ALLOW_DEMO_OVER_REAL_DATA")
    settings.cache_clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["persona"] = DIRECTOR
    at.run()
    assert not at.exception
    assert [e for e in shown(at) if e.startswith("Demo mode will not start")]
    assert not at.title and not at.dataframe and not at.sidebar.selectbox


def test_the_persona_survives_a_reload_and_never_rides_in_the_link(  # type: ignore[no-untyped-def]
    app: str, monkeypatch
) -> None:
    monkeypatch.setattr(seam, "_browser", lambda: "one-browser")
    councillor = council.PEOPLE[Role.COUNCILLOR][0]
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["persona"] = councillor  # as the picker sets it
    at.run()
    assert at.sidebar.selectbox(key="persona").value == councillor
    assert "persona" not in at.query_params and councillor not in str(at.query_params)
    reloaded = AppTest.from_file(APP, default_timeout=60).run()  # a new session, same browser
    assert reloaded.sidebar.selectbox(key="persona").value == councillor
    monkeypatch.setattr(seam, "_browser", lambda: "another-browser")
    pasted = AppTest.from_file(APP, default_timeout=60)
    for name, value in at.query_params.items():
        pasted.query_params[name] = value
    pasted.run()  # the link pasted into another browser opens as that browser's own persona
    assert pasted.sidebar.selectbox(key="persona").value != councillor


def test_an_idle_session_must_sign_in_again(app: str) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["persona"] = DIRECTOR
    at.run()
    assert at.title
    at.session_state["_last_seen"] = time.time() - 31 * 60
    at.run()
    assert "You were signed out after 30 minutes without activity." in shown(at)
    assert not at.title and not at.dataframe
    at.button(key="sign_in_again").click().run()
    assert not at.exception
    assert at.title  # in again (the demo's picker, or the proxy, says who)
