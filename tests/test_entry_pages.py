"""The monthly cycle through the pages (AppTest, demo council): a service manager enters and
submits a team, the performance officer approves one value and returns another, the manager
reads the reason, the dashboard follows; and each page refuses the roles it is not for."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from metrics.models import Metric, PeriodValue

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
DOMAIN = "demo.melburyvale.gov.uk"
MANAGER = f"housing.manager@{DOMAIN}"
COMMS = f"comms.manager@{DOMAIN}"
OFFICER = f"performance@{DOMAIN}"
DIRECTOR = f"director@{DOMAIN}"
MONTH = "2017-03"
PERIODS = {"CP05": "2016-17 Q4"}  # a quarterly measure, due in March


@pytest.fixture
def council(demo_copy: Engine) -> Engine:
    """A demo council of this test's own (the pages write to it), the app pointed at it."""
    return demo_copy


def open_page(persona: str, name: str, at: AppTest | None = None) -> AppTest:
    """The page `name` as `persona` opens it, in a fresh session (or the same one), for MONTH."""
    if at is None:
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["persona"] = persona
        at.session_state["entry_month"] = MONTH
        at.query_params["period"] = MONTH
        at.run()
    at.switch_page(f"pages/{name}.py").run()
    assert not at.exception, at.exception
    return at


def state(engine: Engine, code: str) -> PeriodValue:
    period = PERIODS.get(code, MONTH)
    with Session(engine) as session:
        query = (
            select(PeriodValue)
            .join(Metric, Metric.id == PeriodValue.metric_id)
            .where(Metric.code == code, PeriodValue.period == period)
        )
        return session.exec(query).scalars().one()


def key(code: str, name: str) -> str:
    return f"entry|{code}|{PERIODS.get(code, MONTH)}|{name}"


def shown(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("markdown", "caption") for e in getattr(at, kind)]
    parts += [str(e.value) for e in [*at.warning, *at.error, *at.success, *at.info]]
    return "\n".join(parts).replace("\\", "").replace("\u2060", "")


def team_button(at: AppTest, team: str, label: str):  # type: ignore[no-untyped-def]
    """The button labelled `label` in the expander of `team`."""
    [box] = [e for e in at.expander if team in e.label]
    [button] = [b for b in box.button if b.label == label]
    return button


def fill_team(at: AppTest, engine: Engine, codes: list[str]) -> None:
    """Commentary and corrective action for every open measure of the team."""
    for code in codes:
        at.text_area(key=key(code, "commentary")).input(f"{code}: why it moved")
        at.text_area(key=key(code, "corrective_action")).input("a plan")


OPTIONS = ["CP05", "CP06", "SS-HOU-02"]  # Housing Options' open values in March 2017


def test_a_manager_types_checks_saves_and_submits_a_team(council: Engine) -> None:
    at = open_page(MANAGER, "my_month")
    assert at.selectbox(key="entry_month").value == MONTH
    before = state(council, "CP06")
    assert (before.actual, before.status) == (15.0, "draft")
    at.number_input(key=key("CP06", "actual")).set_value(11.0)
    team_button(at, "Housing Options", "Check").click().run()
    assert "If saved as typed: Green: 11 is at or under the 12 target" in shown(at)
    assert state(council, "CP06").actual == 15.0  # a Check writes nothing

    team_button(at, "Housing Options", "Save draft").click().run()
    assert not at.exception
    saved = state(council, "CP06")
    assert (saved.actual, saved.status, saved.entered_by) == (11.0, "draft", MANAGER)
    assert "Saved 3 draft value(s)." in shown(at)

    fill_team(at, council, OPTIONS)
    team_button(at, "Housing Options", "Submit team").click().run()
    assert "Submitted 3 value(s) for approval." in shown(at), shown(at)
    assert {state(council, code).status for code in OPTIONS} == {"submitted"}
    assert "State: **submitted**" in shown(at)  # the page shows the new approval state


def test_a_manager_saves_each_teams_drafts_then_submits_the_whole_month(council: Engine) -> None:
    from datetime import date

    from metrics import queries
    from metrics.queries import entry as entry_queries

    manager = next(u for u in queries.users(council) if u.email == MANAGER)
    _, rows = entry_queries.my_month(council, user=manager, month=MONTH, today=date.today())
    open_rows = rows[rows["approval"].isin(["draft", "returned"])]
    at = open_page(MANAGER, "my_month")
    for team, team_rows in open_rows.groupby("team"):
        for code, period in zip(team_rows["code"], team_rows["period"], strict=True):
            at.text_area(key=f"entry|{code}|{period}|commentary").input(f"{code}: why it moved")
            at.text_area(key=f"entry|{code}|{period}|corrective_action").input("a plan")
        team_button(at, str(team), "Save draft").click().run()
        assert not at.error, [e.value for e in at.error]
    [month] = [b for b in at.button if b.label.startswith("Submit the month")]
    assert month.label.startswith(f"Submit the month ({len(open_rows)} saved value(s)")
    month.click().run()
    assert f"Submitted {len(open_rows)} value(s) for approval." in shown(at), shown(at)
    assert set(rows_now(council, open_rows)["status"]) == {"submitted"}


def rows_now(engine: Engine, rows) -> list:  # type: ignore[no-untyped-def]
    """The held values of these rows' (code, period)s, as a frame."""
    import pandas as pd

    wanted = set(zip(rows["code"], rows["period"], strict=True))
    with Session(engine) as session:
        held = session.execute(
            select(Metric.code, PeriodValue.period, PeriodValue.status).join(
                Metric, Metric.id == PeriodValue.metric_id
            )
        ).all()
    return pd.DataFrame(
        [h for h in held if (h[0], h[1]) in wanted], columns=["code", "period", "status"]
    )


def test_a_refused_save_names_each_field_and_keeps_what_was_typed(council: Engine) -> None:
    at = open_page(MANAGER, "my_month")
    at.number_input(key=key("CP06", "actual")).set_value(30.0)  # Red: needs both texts
    at.text_area(key=key("CP06", "commentary")).input("")
    at.text_area(key=key("CP06", "corrective_action")).input("")
    team_button(at, "Housing Options", "Save draft").click().run()
    [error] = at.error
    assert "Nothing was saved" in error.value and "CP06 March 2017, commentary" in shown(at)
    assert at.number_input(key=key("CP06", "actual")).value == 30.0
    assert state(council, "CP06").actual == 15.0


def test_a_value_changed_by_someone_else_is_a_conflict_naming_them(council: Engine) -> None:
    at = open_page(MANAGER, "my_month")
    at.number_input(key=key("CP06", "actual")).set_value(11.0)
    from metrics import entry, queries

    officer = next(u for u in queries.users(council) if u.email == OFFICER)
    entry.save_value(council, user=officer, entry=entry.Entry("CP06", MONTH, 1, actual=12.0))
    team_button(at, "Housing Options", "Save draft").click().run()
    assert f"{OFFICER} changed CP06 March 2017 at" in shown(at) and "to 12.0" in shown(at)
    assert at.number_input(key=key("CP06", "actual")).value == 11.0  # the typed value is kept
    assert state(council, "CP06").actual == 12.0


def test_the_officer_approves_one_returns_another_and_the_manager_reads_why(
    council: Engine,
) -> None:
    at = open_page(OFFICER, "approvals")
    one = "approve|Housing|Housing Options|SS-HOU-01|2017-03|1"
    other = "approve|Housing|Housing Options|SS-HOU-03|2017-03|1"
    at.button(key=f"{one}|approve").click().run()
    assert "Approved 1 value(s)." in shown(at)
    assert state(council, "SS-HOU-01").status == "approved"

    at.button(key=f"{other}|return").click().run()  # no reason: refused, plainly
    assert "reason: say what the service manager should change" in shown(at)
    at.text_input(key=f"{other}|reason").input("Check the March figure against the log")
    at.button(key=f"{other}|return").click().run()
    returned = state(council, "SS-HOU-03")
    assert (returned.status, returned.return_reason) == (
        "returned",
        "Check the March figure against the log",
    )

    manager = open_page(MANAGER, "my_month")
    assert "Returned: Check the March figure against the log" in shown(manager)
    assert manager.number_input(key=key("SS-HOU-03", "actual")).value == 14.0  # open again


def test_the_dashboard_follows_a_submitted_value_on_its_next_run(council: Engine) -> None:
    at = open_page(MANAGER, "dashboard")
    exceptions = at.dataframe[0].value
    assert "CP06" in exceptions["code"].tolist()  # Red at 15 against 12
    at = open_page(MANAGER, "my_month", at)
    at.number_input(key=key("CP06", "actual")).set_value(11.0)
    fill_team(at, council, OPTIONS)
    team_button(at, "Housing Options", "Submit team").click().run()
    at = open_page(MANAGER, "dashboard", at)
    assert "CP06" not in at.dataframe[0].value["code"].tolist()  # now Green


def test_nobody_approves_their_own_value(council: Engine) -> None:
    at = open_page(OFFICER, "my_month")
    [box] = [e for e in at.expander if "Housing Options" in e.label]
    at.number_input(key=key("CP06", "actual")).set_value(11.0)
    fill_team(at, council, OPTIONS)
    team_button(at, "Housing Options", "Submit team").click().run()
    assert state(council, "CP06").status == "submitted"
    at = open_page(OFFICER, "approvals", at)
    at.button(key="approve|Housing|Housing Options|CP06|2017-03|3|approve").click().run()
    assert "you entered or last changed it: another officer approves" in shown(at)
    assert state(council, "CP06").status == "submitted"
    del box


@pytest.mark.parametrize(
    ("persona", "name"),
    [
        (DIRECTOR, "approvals"),
        (DIRECTOR, "my_month"),
        (MANAGER, "approvals"),
        (MANAGER, "data_quality"),
        (f"councillor@{DOMAIN}", "data_quality"),
    ],
)
def test_a_pasted_link_to_a_page_not_for_the_role_is_refused(
    council: Engine, persona: str, name: str
) -> None:
    at = open_page(persona, name)
    assert [e.value for e in at.error] == [
        f"A {'Management Team' if persona == DIRECTOR else at.error[0].value[2:].split(' may')[0]}"
        " may not open this page."
    ]
    assert not at.title and not at.number_input and not at.dataframe


def test_a_manager_sees_only_their_own_services_measures(council: Engine) -> None:
    at = open_page(COMMS, "my_month")
    text = shown(at)
    assert "SS-COM-01" in text
    assert "HOU" not in text and "CP06" not in text
    assert all("Communications" in e.label for e in at.expander)


def test_data_quality_shows_the_chase_list_and_the_six_dimensions(council: Engine) -> None:
    at = open_page(DIRECTOR, "data_quality")
    assert [t.value for t in at.title] == ["Data quality: 12 months to March 2017"]
    dimensions = at.dataframe[-1].value
    assert dimensions["dimension"].tolist() == [
        "accuracy",
        "validity",
        "reliability",
        "timeliness",
        "relevance",
        "completeness",
    ]
    [download] = at.get("download_button")
    assert download.proto.label == "Download the chase list (CSV)"


def test_an_approved_value_changes_on_my_month_only_with_a_reason(council: Engine) -> None:
    from metrics import approval, queries
    from metrics.queries import entry as entry_queries

    officer = next(u for u in queries.users(council) if u.email == OFFICER)
    approval.approve(council, user=officer, seen={("SS-HOU-01", MONTH): 1})
    held = state(council, "SS-HOU-01")
    at = open_page(MANAGER, "my_month")
    assert "State: **approved**" in shown(at)
    at.toggle(key=key("SS-HOU-01", "change")).set_value(True).run()
    at.number_input(key=key("SS-HOU-01", "actual")).set_value(held.actual + 1)
    at.text_area(key=key("SS-HOU-01", "commentary")).input("two late cases")
    at.text_area(key=key("SS-HOU-01", "corrective_action")).input("a weekly check")
    [save] = [b for b in at.button if b.label == "Save change"]
    save.click().run()  # no reason: refused by the domain, nothing written, the value kept
    assert "SS-HOU-01 March 2017, reason: an approved value changes only with a reason" in shown(at)
    assert at.number_input(key=key("SS-HOU-01", "actual")).value == held.actual + 1
    assert (state(council, "SS-HOU-01").status, state(council, "SS-HOU-01").version) == (
        "approved",
        held.version,
    )

    at.text_input(key=key("SS-HOU-01", "reason")).input("the contractor's late returns")
    [save] = [b for b in at.button if b.label == "Save change"]
    save.click().run()
    assert "Changed SS-HOU-01 March 2017: it goes back to submitted for approval." in shown(at)
    changed = state(council, "SS-HOU-01")
    assert (changed.actual, changed.status, changed.entered_by, changed.approved_by) == (
        held.actual + 1,
        "submitted",
        MANAGER,
        "",
    )
    trail = entry_queries.audit_rows(council, entity_key_prefix=f"SS-HOU-01/{MONTH}")
    mine = trail[(trail["actor"] == MANAGER) & trail["field_name"].isin(["actual", "status"])]
    assert set(zip(mine["field_name"], mine["new_value"], mine["reason"], strict=True)) == {
        ("actual", str(held.actual + 1), "the contractor's late returns"),
        ("status", "submitted", "the contractor's late returns"),
    }


def test_the_month_picker_speaks_but_enters_the_month_it_names(council: Engine) -> None:
    at = open_page(MANAGER, "my_month")
    picker = at.selectbox(key="entry_month")
    assert picker.value == MONTH and "March 2017" in picker.options
    assert not [o for o in picker.options if o[:4].isdigit()]  # every month in words
    picker.set_value("2017-02").run()
    assert not at.exception
    assert at.selectbox(key="entry_month").value == "2017-02"
    keys = [w.key for w in [*at.number_input, *at.toggle] if str(w.key).startswith("entry|")]
    assert keys and all("|2017-02|" in k for k in keys)  # the forms write February's values
    assert "· _February 2017_" in shown(at)
