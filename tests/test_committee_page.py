"""The committee papers page, run headless with AppTest on the demo council: a performance
officer freezes, lists, verifies and compares snapshots, sees pending restatements and gets the
papers; any other role is refused on the server, and only the cleared may take sensitive packs."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from metrics import snapshots, store
from metrics.explain import format_value
from metrics.models import Metric, PeriodValue, User
from metrics.publish import papers
from metrics.vocab import Marking, Role

APP = str(Path(__file__).resolve().parent.parent / "app.py")
OFFICER = "performance@demo.melburyvale.gov.uk"
DIRECTOR = "director@demo.melburyvale.gov.uk"
UNCLEARED = "junior.officer@demo.melburyvale.gov.uk"
ESCAPED = re.compile(r"\\(.)")
SENSITIVE_OPTION = "Include OFFICIAL-SENSITIVE measures in the pack"


def unescape(text: str) -> str:
    return ESCAPED.sub(r"\1", text).replace("\u2060", "")


def committee_page(persona: str, period: str = "2016-03") -> AppTest:
    """The committee page as a fresh session of `persona` opens it."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["persona"] = persona
    at.query_params["period"] = period
    at.run()
    return at.switch_page("pages/committee.py").run()


def freeze(at: AppTest, title: str) -> AppTest:
    """Fill in and submit the freeze form."""
    at.text_input[1].input(title)
    at.button[0].click()  # the form's submit button comes first
    return at.run()


def shown(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "success", "error", "info") for e in at.get(kind)]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return unescape("\n".join(str(p) for p in parts))


TABLES = {  # a column only that table has
    "snapshots": "SHA-256",
    "frozen_rows": "On last year",
    "restatements": "Who",
}
COMPARED = ["Status movements", "New reds", "Recovered reds", "Added", "Retired"]


def frame(at: AppTest, name: str):  # type: ignore[no-untyped-def]
    """A table the page shows: by a column only it has, or a comparison by its heading."""
    if name in TABLES:
        return next(f.value for f in at.dataframe if TABLES[name] in f.value.columns)
    compared = [
        f.value
        for f in at.dataframe
        if "commentary" in f.value.columns and "explanation" not in f.value.columns
    ]
    assert len(compared) == len(COMPARED)
    return compared[COMPARED.index(name)]


@pytest.fixture
def council(demo_copy: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """A demo council of this test's own the app is pointed at (tests here write), with an
    OFFICIAL-only performance officer added."""
    with Session(demo_copy) as session:
        session.add(
            User(
                email=UNCLEARED,
                name="Junior Officer",
                role=Role.PERFORMANCE_OFFICER.value,
                clearance=Marking.OFFICIAL.value,
            )
        )
        session.commit()
    # its restatements are audited as a made-up analyst: the demo is told to run over them
    monkeypatch.setenv("SCORECARD_ALLOW_DEMO_OVER_REAL_DATA", "1")
    return demo_copy


def restate(engine: Engine, code: str, period: str, actual: float) -> None:
    """Change a held actual as data entry does: versioned, audited, data version bumped."""
    with store.write(engine) as session:
        value = session.exec(
            select(PeriodValue)
            .join(Metric, Metric.id == PeriodValue.metric_id)
            .where(Metric.code == code, PeriodValue.period == period)
        ).one()
        store.versioned_update(session, PeriodValue, value.id, value.version, actual=actual)
        store.audit(
            session,
            actor="analyst@council",
            action="update",
            entity="period_value",
            entity_key=f"{code}/{period}",
            field_name="actual",
            old_value=value.actual,
            new_value=actual,
            reason="late figures from the depot",
        )
        store.bump_data_version(session)


def test_an_officer_freezes_march_and_sees_it_listed_with_a_verified_hash(
    council: Engine,
) -> None:
    at = committee_page(OFFICER)
    assert not at.exception
    assert at.selectbox(key="freeze_period").value == "2016-03"
    assert "0 in March 2016 not approved yet" in at.checkbox[0].label
    at = freeze(at, "Performance Q4")
    assert not at.exception
    [success, verified] = [unescape(s.value) for s in at.success]
    assert success.startswith("Snapshot 1 frozen. SHA-256: ")
    digest = success.rsplit(" ", 1)[1]
    assert verified == f"SHA-256 hash verified: {digest}"
    listed = frame(at, "snapshots")
    assert listed[["Snapshot", "Period", "Title", "Taken by"]].values.tolist() == [
        [1, "March 2016", "Performance Q4", OFFICER]
    ]
    rows = frame(at, "frozen_rows")
    assert len(rows) and "March 2016" in set(rows["Period"])
    assert not rows["Marking"].isna().any()
    snake = [name for name in rows.columns if "_" in name or name.islower()]
    assert snake == []  # every column under a plain heading, none under a field's name


def test_a_refused_freeze_says_why_plainly(council: Engine) -> None:
    at = freeze(committee_page(OFFICER), "   ")
    assert not at.exception
    assert [unescape(e.value) for e in at.error] == [
        "Not frozen: a snapshot needs a title (the meeting's agenda item)"
    ]
    assert "No snapshot has been frozen yet." in shown(at)


def test_a_second_snapshot_is_compared_and_a_changed_value_is_restated(
    council: Engine,
) -> None:
    at = freeze(committee_page(OFFICER), "Performance Q4")
    held = snapshots.show(council, 1, clearance=Marking.OFFICIAL_SENSITIVE.value).rows
    held = held.set_index("code")
    code = str(held.index[held["actual"].notna()][0])
    old = float(held.loc[code, "actual"])
    unit, decimals = str(held.loc[code, "unit"]), int(held.loc[code, "decimals"])
    rows = frame(at, "frozen_rows").set_index("Code")  # as frozen, in the measure's unit
    assert rows.loc[code, "Actual"] == format_value(old, unit, decimals)
    assert "Nothing published has changed since." in shown(at)

    restate(council, code, "2016-03", old + 1000)
    at = committee_page(OFFICER)
    pending = frame(at, "restatements")
    assert pending[["Measure", "Period", "Field", "Old", "New", "Who", "Why"]].values.tolist() == [
        [
            code,
            "March 2016",
            "actual",
            old,
            old + 1000,
            "analyst@council",
            "late figures from the depot",
        ]
    ]
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d", pending["When"].iloc[0])

    at = freeze(at, "Performance Q4, restated")
    assert not at.exception
    assert frame(at, "snapshots")["Snapshot"].tolist() == [2, 1]
    assert at.selectbox(key="before").value == 1 and at.selectbox(key="after").value == 2
    assert "**Status movements**" in "\n".join(m.value for m in at.markdown)
    movements = frame(at, "Status movements")
    assert set(movements.columns) >= {"code", "before", "after"}
    assert frame(at, "Added").empty and frame(at, "Retired").empty
    # the second snapshot carried the restatement, so it is published and no longer pending
    assert "Nothing published has changed since." in shown(at)


def test_the_papers_download_with_the_domains_file_names(council: Engine) -> None:
    at = freeze(committee_page(OFFICER), "Performance Q4")
    assert at.checkbox[1].label == SENSITIVE_OPTION
    at.checkbox[1].check().run()
    next(b for b in at.button if b.label == "Build the papers").click()
    at.run()
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == [
        "Committee pack (Excel): snapshot-1-pack-OFFICIAL-SENSITIVE.xlsx",
        "Cover report (Word): snapshot-1-report.docx",
        "Transparency file (CSV): snapshot-1-transparency.csv",
        "Transparency file (JSON): snapshot-1-transparency.json",
    ]


def test_the_director_opening_the_page_by_url_is_refused_and_sees_no_snapshot(
    council: Engine,
) -> None:
    freeze(committee_page(OFFICER), "Performance Q4 secret agenda")
    at = committee_page(DIRECTOR)
    assert not at.exception
    assert [unescape(e.value) for e in at.error] == ["A Management Team may not open this page."]
    assert "secret agenda" not in shown(at) and not at.get("download_button")
    assert not at.title


def test_a_build_clicked_as_the_tick_lands_builds_what_the_reader_sees(council: Engine) -> None:
    """A quick reader ticks "Include OFFICIAL-SENSITIVE" and clicks Build before the page has
    redrawn: both reach the server in one run, and the papers hold the sensitive measures."""
    at = freeze(committee_page(OFFICER), "Performance Q4")
    next(b for b in at.button if b.label == "Build the papers").click()
    at.checkbox[1].check()
    at.run()
    assert not at.exception
    names = [b.proto.label.rsplit(": ", 1)[1] for b in at.get("download_button")]
    assert names[0] == "snapshot-1-pack-OFFICIAL-SENSITIVE.xlsx"


def test_an_uncleared_officer_gets_no_sensitive_option_and_the_domain_refuses_it(
    council: Engine,
) -> None:
    freeze(committee_page(OFFICER), "Performance Q4")
    at = committee_page(UNCLEARED)
    assert not at.exception
    assert SENSITIVE_OPTION not in [c.label for c in at.checkbox]
    next(b for b in at.button if b.label == "Build the papers").click()
    at.run()
    names = [b.proto.label.rsplit(": ", 1)[1] for b in at.get("download_button")]
    assert names[0] == "snapshot-1-pack.xlsx"
    with pytest.raises(PermissionError):
        papers.build_papers(council, 1, clearance=Marking.OFFICIAL.value, include_sensitive=True)


def test_a_hash_that_does_not_match_is_shown_in_red(
    council: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    freeze(committee_page(OFFICER), "Performance Q4")
    real = snapshots.verify

    def tampered(engine: Engine, snapshot_id: int) -> snapshots.Verification:
        return replace(real(engine, snapshot_id), computed="0" * 64)

    monkeypatch.setattr(snapshots, "verify", tampered)
    at = committee_page(OFFICER)
    assert not at.exception
    [error] = [unescape(e.value) for e in at.error]
    assert error.startswith("The stored rows do not match the hash: stored ")
    assert not any("verified" in s.value for s in at.success)


def test_unapproved_values_are_counted_and_frozen_only_when_included(council: Engine) -> None:
    with store.write(council) as session:
        held = session.exec(
            select(PeriodValue).where(PeriodValue.period == "2016-03").limit(2)
        ).all()
        for value in held:
            value.status = "submitted"
            session.add(value)
        store.bump_data_version(session)
    at = committee_page(OFFICER)
    assert at.checkbox[0].label.startswith("Include unapproved values (2 in March 2016")
    at = freeze(at, "Performance Q4")
    [error] = [unescape(e.value) for e in at.error]
    assert error.startswith("Not frozen: 2 value(s) in March 2016 are not approved")
    assert "choose to include unapproved values" in error and "--" not in error  # no CLI flag
    at.checkbox[0].check()
    at = freeze(at, "Performance Q4")
    assert not at.exception and not at.error
    assert frame(at, "snapshots")["Unapproved"].tolist() == [2]
    assert frame(at, "frozen_rows")["Unapproved"].sum() == 2
