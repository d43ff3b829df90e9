"""The administration pages through AppTest, on a copy of the demo council: an administrator
adds a team, a measure and a user and retires a measure through the pages; bad input is named
and keeps what was typed; a stale edit says who changed it; other roles are refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text
from sqlmodel import Session
from streamlit.testing.v1 import AppTest
from test_entry_pages import APP, DIRECTOR, DOMAIN, MANAGER, OFFICER, council, shown

from metrics import admin, queries
from metrics.models import AuditLog, Metric, Team, User

__all__ = ["council"]  # the fixture, shared with the monthly cycle's page tests
ADMIN = f"admin@{DOMAIN}"


@pytest.fixture
def admin_user(council: Engine) -> Iterator[Engine]:
    yield council


def open_page(name: str, persona: str = ADMIN, at: AppTest | None = None) -> AppTest:
    if at is None:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["persona"] = persona
        at.run()
    at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    [found] = [b for b in at.button if b.label == label]
    return found


def metric(engine: Engine, code: str) -> Metric | None:
    with Session(engine) as session:
        return session.exec(select(Metric).where(Metric.code == code)).scalars().first()


def test_an_administrator_adds_a_team_a_measure_and_a_user_and_retires_a_measure(
    council: Engine,
) -> None:
    at = open_page("admin_levels")
    at.text_input(key="level|team|new|name").input("Voids")
    at.selectbox(key="level|team|new|service").select("housing")
    at.text_input(key="level|team|new|reason").input("restructure")
    button(at, "Add team").click().run()
    assert not at.exception, at.exception
    assert "Added the team Voids (housing/voids)." in shown(at), shown(at)
    with Session(council) as session:
        team = session.exec(select(Team).where(Team.code == "housing/voids")).scalars().one()
    assert team.name == "Voids"

    at = open_page("admin_measures", at=at)
    typed = {"code": "SS-HOU-99", "title": "Empty homes brought back into use"}
    typed |= {"responsible_officer": "Voids Manager", "tolerance": "5%", "reason": "new team"}
    for name, value in typed.items():
        at.text_input(key=f"measures|new|{name}").input(value)
    chosen = {"tier": "Service Standards", "unit": "number", "polarity": "higher"}
    chosen |= {"frequency": "monthly", "service": "housing", "team": "housing/voids"}
    for name, value in chosen.items():
        at.selectbox(key=f"measures|new|{name}").select(value)
    button(at, "Add measure").click().run()
    assert not at.exception, at.exception
    assert "Added the measure SS-HOU-99" in shown(at), shown(at)
    made = metric(council, "SS-HOU-99")
    assert made is not None and (made.team_id, made.unit, made.tolerance) == (
        team.id,
        "number",
        5.0,
    )

    at.selectbox(key="measures|retire|code").select("SS-HOU-99")
    at.text_input(key="measures|retire|from").input("2017-04")
    at.text_input(key="measures|retire|reason").input("pilot ended")
    button(at, "Retire measure").click().run()
    assert "Retired SS-HOU-99: last reported in March 2017." in shown(at), shown(at)
    assert metric(council, "SS-HOU-99").active_to == "2017-03"  # type: ignore[union-attr]

    at = open_page("admin_users", at=at)
    at.text_input(key="users|new|email").input("voids.manager@demo.melburyvale.gov.uk")
    at.text_input(key="users|new|name").input("Demo voids manager")
    at.selectbox(key="users|new|role").select("Service manager")
    at.multiselect(key="users|new|services").select("housing")
    at.text_input(key="users|new|reason").input("new team")
    button(at, "Add user").click().run()
    assert "Added Demo voids manager" in shown(at), shown(at)
    added = queries.user(council, email="voids.manager@demo.melburyvale.gov.uk")
    assert added is not None and added.services == frozenset({"Housing"})

    with Session(council) as session:
        audit = session.exec(select(AuditLog).where(AuditLog.actor == ADMIN)).scalars().all()
    assert {(row.entity, row.entity_key) for row in audit} >= {
        ("team", "housing/voids"),
        ("metric", "SS-HOU-99"),
        ("user", "voids.manager@demo.melburyvale.gov.uk"),
    }


def test_bad_input_is_named_changes_nothing_and_keeps_what_was_typed(council: Engine) -> None:
    at = open_page("admin_measures")
    at.text_input(key="measures|new|code").input("CP05")  # held already
    at.text_input(key="measures|new|title").input('=HYPERLINK("http://evil")')
    at.text_input(key="measures|new|reason").input("try")
    button(at, "Add measure").click().run()
    text = shown(at)
    assert "Nothing was saved" in text
    assert "Code: the code 'CP05' is already held" in text
    assert "begins like a spreadsheet formula" in text
    assert "Unit: this field is required" in text
    assert at.text_input(key="measures|new|title").value == '=HYPERLINK("http://evil")'
    assert metric(council, "CP05").title == "Affordable homes delivered"  # type: ignore[union-attr]


def test_a_stale_edit_says_who_changed_it_and_keeps_the_typed_title(council: Engine) -> None:
    at = open_page("admin_measures")
    at.selectbox(key="measures|edit|pick").select("CP05").run()
    assert not at.exception, at.exception
    at.text_input(key="measures|edit|CP05|title").input("Affordable homes (mine)")
    at.text_input(key="measures|edit|CP05|reason").input("clearer")
    other = queries.user(council, email=ADMIN)
    assert other is not None
    admin.edit_measure(  # someone else saves first
        council,
        actor=other,
        code="CP05",
        seen_version=1,
        fields={"title": "Affordable homes (theirs)"},
        reason="theirs",
    )
    button(at, "Save changes").click().run()
    text = shown(at)
    assert f"The template of CP05 was changed by {ADMIN} at" in text, text
    assert "title Affordable homes (theirs)" in text
    assert at.text_input(key="measures|edit|CP05|title").value == "Affordable homes (mine)"
    assert metric(council, "CP05").title == "Affordable homes (theirs)"  # type: ignore[union-attr]


@pytest.mark.parametrize("persona", [MANAGER, OFFICER, DIRECTOR])
@pytest.mark.parametrize(
    "page", ["admin_measures", "admin_levels", "admin_users", "admin_workbook"]
)
def test_the_admin_pages_are_refused_to_other_roles(
    council: Engine, persona: str, page: str
) -> None:
    at = open_page(page, persona=persona)
    assert any("may not open this page" in e.value for e in at.error)
    assert not at.text_input and not at.button


def test_a_user_is_disabled_through_the_page_and_kept(council: Engine) -> None:
    at = open_page("admin_users")
    at.selectbox(key="users|pick").select(MANAGER).run()
    assert not at.exception, at.exception
    at.checkbox(key=f"users|{MANAGER}|active").uncheck()
    at.text_input(key=f"users|{MANAGER}|reason").input("left the council")
    button(at, "Save changes").click().run()
    assert f"Saved {MANAGER} (disabled)." in shown(at).replace("\u2060", ""), shown(at)
    with Session(council) as session:
        held = session.exec(select(User).where(User.email == MANAGER)).scalars().one()
    assert held.active is False


def test_a_workbook_upload_is_previewed_then_imported(council: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from test_workbook import write_book

    row = {"Code": "NEW01", "Title": "A new measure", "Tier": "Corporate Plan"}
    row |= {"Unit": "number", "Polarity": "higher", "Frequency": "monthly"}
    path = write_book(tmp_path / "new.xlsx", [row], [])
    at = open_page("admin_workbook")
    assert [b.label for b in at.get("download_button")] or True  # downloads render
    at.get("file_uploader")[0].upload("new.xlsx", path.read_bytes()).run()
    assert not at.exception, at.exception
    assert "If imported now" in shown(at), shown(at)
    assert metric(council, "NEW01") is None  # the preview wrote nothing
    with council.begin() as connection:  # nothing rated yet (as after a change of the rules)
        connection.execute(text("DELETE FROM kept_rating"))
    button(at, "Import this workbook").click().run()
    assert not at.exception, at.exception
    assert "Imported new.xlsx: 1 metrics created" in shown(at), shown(at)
    assert metric(council, "NEW01") is not None
    with council.connect() as connection:  # the dashboard's month was rated ahead of its reader
        kept = connection.execute(text("SELECT count(*) FROM kept_rating WHERE whole")).scalar()
    assert kept


def test_a_team_is_renamed_through_the_page(council: Engine) -> None:
    at = open_page("admin_levels")
    at.selectbox(key="level|team|pick").select("housing/housing-options").run()
    assert not at.exception, at.exception
    at.text_input(key="level|team|housing/housing-options|name").input("Housing Advice")
    at.text_input(key="level|team|housing/housing-options|reason").input("new name")
    [save] = [b for b in at.button if b.label == "Save changes"]
    save.click().run()
    assert "The team housing/housing-options was renamed." in shown(at), shown(at)
    with Session(council) as session:
        team = (
            session.exec(select(Team).where(Team.code == "housing/housing-options")).scalars().one()
        )
    assert (team.name, team.version) == ("Housing Advice", 2)


def test_a_change_refused_in_part_says_what_was_saved(council: Engine) -> None:
    at = open_page("admin_levels")
    at.selectbox(key="level|team|pick").select("housing/housing-options").run()
    prefix = "level|team|housing/housing-options"
    at.text_input(key=f"{prefix}|name").input("Housing Advice")
    at.text_input(key=f"{prefix}|retired_from").input("2016-04")  # its measures are live
    at.text_input(key=f"{prefix}|reason").input("reshape")
    [save] = [b for b in at.button if b.label == "Save changes"]
    save.click().run()
    text = shown(at)
    assert "Saved: the team was renamed. Not saved:" in text, text
    assert "still reported from 2016-04" in text
    assert at.text_input(key=f"{prefix}|retired_from").value == "2016-04"  # kept as typed
