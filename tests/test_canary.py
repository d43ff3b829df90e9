"""The OFFICIAL-SENSITIVE canary: a measure whose title, code and commentary appear nowhere else
never reaches an uncleared person, on any page, chart, table, download, deep link, error or
cached result (a cleared officer reads it first, so every cache holds it)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import access_council as council
import pytest
from access_pages import PAGE_LINKS, database, downloads, everything_shown, open_as, point_app_at
from conftest import sampled
from streamlit.testing.v1 import AppTest

from metrics import access
from metrics.vocab import Role

CANARY_LINKS = {  # deep links that name the canary or what holds it
    "metric": {"metric": council.CANARY_CODE},
    "team": {"team": "allocations"},
    "service": {"service": "housing"},
    "priority": {"priority": "P1"},
    "initiative": {"initiative": "I1"},
}
__all__ = ["downloads"]  # the fixture
SECRETS = (council.CANARY, council.CANARY_TEXT)


@pytest.fixture(scope="module")
def council_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from database(tmp_path_factory, council.build)


@pytest.fixture
def app(council_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    yield from point_app_at(council_url, monkeypatch)


def readable(data: bytes) -> str:
    """A download's text: every member of an Office file (a zip), or the bytes themselves."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return data.decode("utf-8", "replace")


def with_papers(at: AppTest) -> AppTest:
    """The committee page after pressing Build the papers (its downloads then offered)."""
    for box in at.checkbox:  # offered to the cleared only: take everything offered
        if box.label.startswith("Include OFFICIAL-SENSITIVE"):
            box.check().run()
    build = [b for b in at.button if b.label == "Build the papers"]
    if build:
        build[0].click()
        at.run()
    return at


VISITS: dict[str, tuple[str, dict[str, str]]] = {
    **{page: (page, {"period": council.MONTH, **params}) for page, params in PAGE_LINKS.items()},
    **{
        f"{page} naming {next(iter(params.values()))}": (page, {"period": council.MONTH, **params})
        for page, params in CANARY_LINKS.items()
    },
    "a link to the landing page naming it": ("dashboard", {"metric": council.CANARY_CODE}),
}
CASES = [
    (role, visit)
    for role in Role
    for visit, (page, _) in VISITS.items()
    if access.allowed(role, page)  # a refused page shows nothing at all: test_access_matrix
]


def visit(email: str, name: str) -> AppTest:
    page, params = VISITS[name]
    at = open_as(email, page, **params)
    return with_papers(at) if page == "committee" else at


def assert_no_canary(at: AppTest, downloads: list[bytes], where: object) -> None:
    text = everything_shown(at)
    for secret in SECRETS:
        assert secret not in text, where
    # a link naming the canary's code reads exactly like a code that does not exist
    echoed = f"There is no metric {council.CANARY_CODE}."
    assert council.CANARY_CODE not in text.replace(echoed, ""), where
    for data in map(readable, downloads):
        for secret in (*SECRETS, council.CANARY_CODE):
            assert secret not in data, where


def test_a_cleared_officer_sees_the_canary_and_an_uncleared_one_never_gets_it_from_a_cache(
    app: str, downloads: list[bytes]
) -> None:
    """The control (the canary is there to be found, in the pages and the papers), then the
    same pages for an uncleared officer with every cache holding the canary."""
    names = ["dashboard", "metric naming ZZCANARY9", "team naming allocations", "committee"]
    seen = [visit(council.CLEARED.email, name) for name in names]
    text = "\n".join(everything_shown(at) for at in seen)
    assert council.CANARY in text and council.CANARY_TEXT in text
    assert any(council.CANARY_CODE in readable(data) for data in downloads)
    downloads.clear()
    for name in names:
        assert_no_canary(visit(council.PEOPLE[Role.PERFORMANCE_OFFICER][0], name), downloads, name)
    assert len(downloads) >= 4  # the committee papers were searched


@pytest.mark.parametrize(("role", "name"), sampled(CASES, 4))  # all in `make faults`
def test_an_uncleared_person_never_receives_the_canary(
    app: str, downloads: list[bytes], role: Role, name: str
) -> None:
    assert not access.may_see(council.PEOPLE[role][1], "OFFICIAL-SENSITIVE")
    at = visit(council.PEOPLE[role][0], name)
    assert not at.exception
    assert_no_canary(at, downloads, (role, name))
    if name == "data_quality":
        assert downloads  # the chase list was searched


def test_every_page_is_visited() -> None:
    assert {page for page, _ in VISITS.values()} == set(PAGE_LINKS)
    print(f"\n{len(CASES)} canary visits")
