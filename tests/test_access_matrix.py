"""The access table (metrics/access.py ACCESS), checked cell by cell on the running app: every
role opens every page by its URL (listed in their navigation or not) and what the page offers
each action is what the table says. The domain's writes, called directly as the wrong role or
scope, are refused in tests/test_access_writes.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import access_council as council
import pytest
from access_pages import PAGE_LINKS, database, everything_shown, open_as, point_app_at, unescape
from conftest import sampled
from streamlit.testing.v1 import AppTest

from metrics import access
from metrics.vocab import Role
from pages._ui.routing import PAGE_FILES, ROLE_PAGES


@pytest.fixture(scope="module")
def council_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from database(tmp_path_factory, council.build)


@pytest.fixture
def app(council_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from point_app_at(council_url, monkeypatch)


def refused(at: AppTest) -> bool:
    return any("may not open this page" in unescape(e.value) for e in at.error)


def opened(at: AppTest, _text: str) -> bool:
    return not at.exception and bool(at.title) and not refused(at)


def button(label: str) -> Callable[[AppTest, str], bool]:
    return lambda at, _text: any(b.label.startswith(label) for b in at.button)


def unapproved(_at: AppTest, text: str) -> bool:
    """The submitted value, its commentary or its draft corrective action is on the page."""
    return any(mark in text for mark in ("Submitted, not approved", f"{council.UNAPPROVED}"))


# How each (page, action) of the table shows on its page: True when the page offers it.
OBSERVE: dict[tuple[str, str], Callable[[AppTest, str], bool]] = {
    **{(page, "open"): opened for page in PAGE_LINKS},
    **{(page, "unapproved"): unapproved for page in access.READING},
    ("metric", "audit"): lambda at, _text: "Audit trail" in [t.label for t in at.tabs],
    ("metric", "corrective_action"): lambda _at, text: council.DRAFT_ACTION in text,
    ("my_month", "enter"): button("Save draft"),
    ("approvals", "approve"): button("Approve"),
    ("data_quality", "download"): lambda at, _text: bool(at.get("download_button")),
    ("committee", "freeze"): button("Freeze the snapshot"),
    ("committee", "download"): button("Build the papers"),
}
CELLS = access.matrix()


def test_every_cell_of_the_access_table_is_checked_and_listed() -> None:
    """The matrix the page tests check, one line per role x page x action."""
    assert {(page, action) for _, page, action, _ in CELLS} == set(OBSERVE)
    assert set(PAGE_LINKS) == set(PAGE_FILES)  # every page the app has is opened
    print(f"\naccess matrix: {len(CELLS)} cells")
    for role, page, action, allowed in CELLS:
        print(f"{role.value:20} {page:13} {action:18} {'allowed' if allowed else 'refused'}")
    assert len(CELLS) == len(Role) * len(OBSERVE)


# A quarter of role x page everyday, spread over both; every one in `make faults`.
@pytest.mark.parametrize(
    ("role", "name"), sampled([(role, name) for role in Role for name in PAGE_LINKS], 4)
)
def test_a_role_gets_on_a_page_what_the_access_table_says(app: str, role: Role, name: str) -> None:
    """Opened by its URL, listed in the role's navigation or not: the page opens or refuses,
    and offers each action, exactly as the table says."""
    at = open_as(council.PEOPLE[role][0], name, period=council.MONTH, **PAGE_LINKS[name])
    assert not at.exception, at.exception
    text = everything_shown(at)
    cells = [(page, action, ok) for who, page, action, ok in CELLS if who == role and page == name]
    seen = {(page, action): OBSERVE[(page, action)](at, text) for page, action, _ in cells}
    assert seen == {(page, action): ok for page, action, ok in cells}
    if not seen[(name, "open")]:
        assert [unescape(e.value) for e in at.error] == [f"A {role.value} may not open this page."]
        assert not at.title and not at.dataframe and not at.get("download_button")


@pytest.mark.parametrize("role", list(Role))
def test_the_navigation_lists_the_pages_the_table_opens_and_lands_where_it_says(
    app: str, role: Role
) -> None:
    at = open_as(council.PEOPLE[role][0], "dashboard", period=council.MONTH)
    assert not at.exception
    listed = {page for page in ROLE_PAGES[role]}
    assert listed == {
        page for page, action in OBSERVE if access.allowed(role, page, action) and action == "open"
    }
    landing = "My scorecard" if role is Role.SERVICE_MANAGER else "ME2E dashboard"
    assert at.title[0].value.startswith(landing)
    assert access.landing(role) == ("my_scorecard" if role is Role.SERVICE_MANAGER else "dashboard")
