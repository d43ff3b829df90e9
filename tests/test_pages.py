"""The pages, run headless with AppTest on the demo council: the numbers match the rating engine,
every drill-down and deep link lands where it should, and a sensitive measure never shows."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from conftest import sampled
from sqlalchemy import Engine, event, select
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from metrics import access, queries, views
from metrics.charts import status_label
from metrics.explain import format_value
from metrics.models import Metric, PeriodValue, Priority, Service, User
from metrics.periods import spoken
from metrics.rating import COUNT_COLUMNS
from metrics.views import board, levels
from metrics.vocab import Marking, Role, Tier

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIERS = [t.value for t in Tier]
CLEARED = Marking.OFFICIAL_SENSITIVE.value
ESCAPED = re.compile(r"\\(.)")
NO_ACCESS = (
    "You do not have access to Line of Sight. Ask the performance team "
    "(performance@melburyvale.gov.uk) to give you access."
)


def run(persona: str | None = None, **params: str) -> AppTest:
    """The app as a fresh browser session opening `/?params`, as `persona`."""
    at = AppTest.from_file(APP, default_timeout=60)
    if persona:
        at.session_state["persona"] = persona
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def unescape(text: str) -> str:
    """Markdown as the reader sees it (the pages escape text from users and links)."""
    return ESCAPED.sub(r"\1", text).replace("\u2060", "")


def titles(at: AppTest) -> list[str]:
    return [unescape(t.value) for t in at.title]


def errors(at: AppTest) -> list[str]:
    return [unescape(e.value) for e in at.error]


def everything_shown(at: AppTest) -> str:
    """Every piece of text, table cell and chart the page sent, as one string."""
    parts = [
        str(e.value)
        for kind in ("markdown", "caption", "title", "subheader")
        for e in getattr(at, kind)
    ]
    parts += (
        [e.value for e in at.error] + [e.value for e in at.info] + [e.value for e in at.warning]
    )
    parts += [m.label + " " + m.value for m in at.metric]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    parts += [chart.proto.spec for chart in at.get("plotly_chart")]
    parts += [str(s.options) for s in at.selectbox]
    return "\n".join(parts)


@pytest.fixture
def users(demo_db: str, demo_engine: Engine) -> dict[Role, access.CurrentUser]:
    """One demo persona per role."""
    found: dict[Role, access.CurrentUser] = {}
    for user in queries.users(demo_engine):
        found.setdefault(user.role, user)
    assert set(found) == set(Role)
    return found


@pytest.fixture
def sensitive(demo_engine: Engine) -> dict[str, str]:
    """Code → title of every OFFICIAL-SENSITIVE measure of the demo council."""
    with Session(demo_engine) as session:
        rows = session.exec(
            select(Metric.code, Metric.title).where(Metric.marking == CLEARED)
        ).all()
    assert rows
    return dict(rows)


def expected_counts(
    engine: Engine, period: str, clearance: str, approved_only: bool = False
) -> pd.DataFrame:
    """What `python -m metrics status` rates for the month, counted by tier (Overdue = Missing)."""
    status = views.status(engine, period=period, clearance=clearance, approved_only=approved_only)
    rag = status["rag"].replace("Overdue", "Missing")
    return pd.crosstab(status["tier"], rag).reindex(index=TIERS, columns=COUNT_COLUMNS).fillna(0)


HEADLINE_CELL = re.compile(
    r"^(?P<label>.+)  \n\*\*(?P<count>\d+)\*\* :(?P<colour>\w+)-badge\[(?P<change>[^\]]+)\]$"
)
HEADLINE_FIRST = re.compile(r"^(?P<label>.+)  \n\*\*(?P<count>\d+)\*\* ?$")


def headline_cells(at: AppTest) -> list[dict[str, str]]:
    """The dashboard's headline counts, in page order: label, count, change and its colour
    (no change: empty)."""
    cells = []
    for block in at.markdown:
        found = HEADLINE_CELL.match(block.value) or HEADLINE_FIRST.match(block.value)
        if found:
            cells.append({"colour": "", "change": "", **found.groupdict()})
    return cells


def shown_counts(at: AppTest) -> pd.DataFrame:
    """The dashboard's headline counts, in page order: tiers down, statuses across."""
    cells = headline_cells(at)
    assert [c["label"] for c in cells] == [status_label(s) for s in COUNT_COLUMNS] * len(TIERS)
    values = [int(c["count"]) for c in cells]
    return pd.DataFrame(
        [values[i : i + 5] for i in range(0, 15, 5)], index=TIERS, columns=COUNT_COLUMNS
    )


# --- The dashboard ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.MANAGEMENT_TEAM, Role.COUNCILLOR])
def test_dashboard_counts_match_the_rating_engine(
    users: dict, demo_engine: Engine, role: Role
) -> None:
    user = users[role]
    at = run(user.email)
    assert not at.exception
    # a councillor reads the committee's view: statuses from approved values only
    committee = not access.allowed(role, "dashboard", "unapproved")
    latest = views.latest_reported_month(
        demo_engine, clearance=user.clearance, approved_only=committee
    )
    assert at.query_params["period"] == latest  # the default: the latest reported month
    assert titles(at) == [f"ME2E dashboard: {spoken(latest)}"]
    expected = expected_counts(demo_engine, latest, user.clearance.value, committee)
    pd.testing.assert_frame_equal(shown_counts(at), expected, check_dtype=False, check_names=False)


def test_dashboard_deltas_compare_each_measure_with_its_previous_period(
    demo_db: str, demo_engine: Engine
) -> None:
    at = run(period="2016-08")  # only monthly measures are due in August
    now = views.status(demo_engine, period="2016-08", clearance=CLEARED)
    before = views.status(demo_engine, period="2016-07", clearance=CLEARED)
    before = before[before["code"].isin(now["code"])]
    change = expected_counts_of(now) - expected_counts_of(before)
    cells = headline_cells(at)
    deltas = [int(c["change"].replace("±", "")) for c in cells]
    shown = pd.DataFrame(
        [deltas[i : i + 5] for i in range(0, 15, 5)], index=TIERS, columns=COUNT_COLUMNS
    )
    pd.testing.assert_frame_equal(shown, change, check_dtype=False, check_names=False)
    # more Red is bad news (red), fewer is good news (green); more Green is good news
    checked = 0
    for cell, (tier, status) in zip(
        cells, [(t, s) for t in TIERS for s in COUNT_COLUMNS], strict=True
    ):
        delta = int(cell["change"].replace("±", ""))
        if delta == 0 or status == "Data only":
            assert cell["colour"] == "gray", (tier, status, delta)
            continue
        bad = status in ("Red", "Amber", "Missing")
        expected = "red" if (delta > 0) == bad else "green"
        assert cell["colour"] == expected, (tier, status, delta)
        checked += 1
    assert checked  # the month has news, good or bad, to colour


def expected_counts_of(status: pd.DataFrame) -> pd.DataFrame:
    rag = status["rag"].replace("Overdue", "Missing")
    table = pd.crosstab(status["tier"], rag).reindex(index=TIERS, columns=COUNT_COLUMNS)
    return table.fillna(0).astype(int)


def test_the_first_month_has_no_change_arrows(demo_db: str) -> None:
    at = run(period="2015-04")  # nothing before it to compare with
    assert not at.exception
    cells = headline_cells(at)
    assert len(cells) == 15 and [c["change"] for c in cells] == [""] * 15


def test_exceptions_are_red_and_amber_by_risk_with_travel_and_forecast(
    demo_db: str, demo_engine: Engine
) -> None:
    at = run(period="2017-03")
    table = next(frame.value for frame in at.dataframe if "Last year" in frame.value.columns)
    status = views.status(demo_engine, period="2017-03", clearance=CLEARED)
    exceptions = status[status["rag"].isin(["Red", "Amber"])]
    assert set(table["code"]) == set(exceptions["code"])
    risk = table["Risk"].str.extract(r"\((\d+)\)")[0].astype(int)
    assert risk.is_monotonic_decreasing
    assert table["Status"].isin(["✖ Red", "◆ Amber"]).all()
    assert table["Travel"].str.match(r"^(▲ Improving|▼ Worsening|► Stable|– No comparison)$").all()
    columns = list(table.columns)
    assert columns.index("Forecast") == columns.index("Status") + 1  # side by side
    assert columns[columns.index("Forecast") + 1 :][:2] == ["Variation", "Assurance"]
    shown = table.set_index("code")
    expected = exceptions.set_index("code")
    assert (shown["Variation"] == expected["spc_variation"].reindex(shown.index)).all()
    assert (shown["Assurance"] == expected["spc_assurance"].reindex(shown.index)).all()
    assert shown["Signal or noise"].str.len().gt(0).all()  # every reading has its sentence


def test_a_long_list_shows_its_highest_risk_rows_counts_the_rest_and_links_to_them_all(
    demo_db: str, demo_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board, "LISTED", 5)  # the demo's month has fewer than 200 exceptions
    at = run(period="2017-03")
    status = views.status(demo_engine, period="2017-03", clearance=CLEARED)
    red_amber = status[status["rag"].isin(["Red", "Amber"])]
    worst = red_amber.sort_values(["risk_score", "rag", "code"], ascending=[False, False, True])
    assert at.dataframe(key="exceptions").value["code"].tolist() == worst["code"][:5].tolist()
    changes = at.dataframe(key="changes").value
    assert len(changes) == 5 and changes["Change"].iloc[0] == "▼ Worse"
    captions = [unescape(c.value) for c in at.caption]
    assert f"The first 5 of {len(red_amber)} Red and Amber measures." in captions
    assert any(
        re.fullmatch(r"The first 5 of \d+ measures that changed status\.", c) for c in captions
    )
    links = [(p.proto.label, p.proto.query_string) for p in at.get("page_link")]
    assert links.count(("Every measure due, highest risk first", "period=2017-03")) == 2

    monkeypatch.setattr(board, "LISTED", 200)  # as many as there are: no note, no link
    st.cache_data.clear()
    at = run(period="2017-03")
    assert len(at.dataframe(key="exceptions").value) == len(red_amber)
    assert not [c for c in at.caption if c.value.startswith("The first ")]


@pytest.mark.parametrize(
    ("kind", "code"),
    [("priority", "homes-good-homes-for-everyone"), ("initiative", "customer-access-review")],
)
def test_a_level_lists_its_first_aligned_measures_and_counts_the_rest(
    demo_db: str, kind: str, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(levels, "LISTED", 2)  # the demo's levels have fewer than 200
    st.cache_data.clear()  # no view built with every row
    try:
        at = run(**{kind: code}, period="2017-03")
        assert len(at.dataframe(key="aligned").value) == 2
        captions = [unescape(c.value) for c in at.caption]
        noted = [
            c for c in captions if re.fullmatch(r"The first 2 of \d+ measures aligned to it\.", c)
        ]
        assert len(noted) == 1
        links = [(p.proto.label, p.proto.query_string) for p in at.get("page_link")]
        assert ("Every measure due, highest risk first", "period=2017-03") in links
    finally:
        st.cache_data.clear()  # nor one built with two, for the tests after


def test_the_pages_leave_the_month_they_share_as_it_was_read(
    demo_db: str, demo_engine: Engine
) -> None:
    """A clearance's scope and a month's reading are held once per process, not copied per
    reader (`readers._month`): no page that reads them may change them."""
    from metrics import store
    from metrics.config import settings
    from pages._ui import readers

    for params in ({}, {"priority": "homes-good-homes-for-everyone"},
                   {"initiative": "income-generation"}, {"metric": ""}, {"metric": "CP03"},
                   {"service": ""}, {"team": ""}):  # fmt: skip
        assert not run(period="2017-03", **params).exception, params
    viewer = queries.user(demo_engine, email=settings().identity.demo_default_persona)
    assert viewer is not None
    version, today = store.data_version(demo_engine), date.today()
    held = readers._month("2017-03", viewer.clearance, False, version, today)  # the pages' own
    fresh = views.read_month(demo_engine, period="2017-03", clearance=viewer.clearance,
                             today=today, settings=settings())  # fmt: skip
    assert held is readers._month("2017-03", viewer.clearance, False, version, today)
    pd.testing.assert_frame_equal(held.status, fresh.status)
    pd.testing.assert_frame_equal(held.rows, fresh.rows)
    pd.testing.assert_frame_equal(held.scope.catalogue, fresh.scope.catalogue)
    pd.testing.assert_frame_equal(held.scope.served, fresh.scope.served)


@pytest.mark.slow  # an exhaustive sweep of the demo: `make faults`
def test_every_month_of_the_demo_renders_the_dashboard(demo_db: str, demo_engine: Engine) -> None:
    months = views.period_options(demo_engine, clearance=CLEARED)
    assert len(months) == 24
    at = run()
    for month in months:
        at.sidebar.selectbox(key="period").set_value(month).run()
        assert not at.exception, month
        assert titles(at) == [f"ME2E dashboard: {spoken(month)}"]
        assert at.query_params["period"] == month


def test_a_warm_rerun_reads_only_the_data_version(demo_db: str) -> None:
    from pages import _ui

    at = run(period="2016-09")
    at.sidebar.selectbox(key="period").set_value("2016-10").run()
    statements: list[str] = []
    engine = _ui.engine()

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        at.sidebar.selectbox(key="period").set_value("2016-09").run()  # back to a cached month
        assert not at.exception
        at.run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 2, statements  # one data-version read per run
    assert all("data_version" in s for s in statements)


# --- Drilling down and back up ----------------------------------------------------------------


def test_selecting_a_priority_and_then_a_metric_reaches_the_metric_page(
    demo_db: str, demo_engine: Engine
) -> None:
    at = run(period="2016-03")
    priorities = next(f for f in at.dataframe if f.key == "priorities").value
    first = priorities.iloc[0]
    at.session_state["priorities"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert titles(at) == [first["Name"]]
    assert at.query_params["priority"] == first["code"]
    own = next(f for f in at.dataframe if f.key == "own").value
    code = own["code"].iloc[0]
    at.session_state["own"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.query_params["metric"] == code and at.query_params["period"] == "2016-03"
    row = views.status(demo_engine, period="2016-03", clearance=CLEARED).set_index("code")
    row = row.loc[code]
    assert titles(at) == [f"{code}: {row['title']}"]
    shown = {m.label: m.value for m in at.metric}
    value = row["ytd"] if row["rated_on"] == "ytd" else row["actual"]
    label = "Year to date" if row["rated_on"] == "ytd" else "Actual"
    assert shown[label] == format_value(value, row["unit"], row["decimals"])
    text = everything_shown(at)
    assert status_label(row["rag"]) in text
    assert unescape(text).count(row["explanation"]) >= 1
    # and back up: the breadcrumb links the priority it came from, keeping the month
    links = {(p.value, p.proto.query_string) for p in at.get("page_link")}
    assert (first["Name"], f"priority={first['code']}&period=2016-03") in {
        (unescape(label), query) for label, query in links
    }


@pytest.mark.parametrize("kind", ["priority", "initiative", "service"])
def test_selecting_a_row_of_the_line_of_sight_opens_its_page(demo_db: str, kind: str) -> None:
    at = run(period="2016-03")
    overview = next(f for f in at.dataframe if f.key == "alignment").value
    assert list(next(f for f in at.dataframe if f.key == "alignment").proto.column_order)[:2] == [
        "Name",
        "Status",
    ]
    row = int((overview["kind"] == kind).to_numpy().argmax())
    chosen = overview.iloc[row]
    assert chosen["kind"] == kind
    # a child is indented under the priority above it; a priority is not
    assert chosen["Name"].startswith("\u2003└ ") == (kind != "priority")
    at.session_state["alignment"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.query_params[kind] == chosen["code"]
    assert titles(at) == [chosen["Name"].removeprefix("\u2003└ ")]


def test_the_line_of_sight_reads_each_priority_then_what_delivers_it(demo_db: str) -> None:
    at = run(period="2016-03")
    overview = next(f for f in at.dataframe if f.key == "alignment").value
    priorities = next(f for f in at.dataframe if f.key == "priorities").value
    tops = overview[overview["kind"] == "priority"]
    assert tops["code"].tolist() == priorities["code"].tolist()  # the plan's order
    for column in COUNT_COLUMNS:  # the same roll-up as the priorities table
        assert tops[column].tolist() == priorities[column].tolist()
    assert set(overview["kind"]) <= {"priority", "initiative", "service"}  # no slivers
    assert not at.get("plotly_chart")  # no chart to wait for: the dashboard is tables and text


@pytest.mark.parametrize(
    ("rows", "row_height", "expected"),
    [
        (1, 35, "content"),
        (25, 76, "content"),  # the last table shown whole, however tall its wrapped rows
        (26, 30, 780),  # 25 rows and the header, scrolling inside
        (120, 76, 900),  # never taller than a laptop's screen
    ],
)
def test_a_short_table_is_shown_whole_and_a_long_one_scrolls(
    rows: int, row_height: int, expected: int | str
) -> None:
    from pages._ui.widgets import _height

    assert _height(rows, row_height) == expected


@pytest.mark.parametrize("key", ["exceptions", "changes"])
def test_the_reason_is_beside_the_code_in_every_measure_table(demo_db: str, key: str) -> None:
    at = run(period="2017-03")
    table = next(f for f in at.dataframe if f.key == key)
    order = list(table.proto.column_order)
    assert order[:2] == ["code", "Why"]  # within the first four, before anything else
    assert set(order) == set(table.value.columns)  # nothing dropped, only moved
    assert table.proto.row_height > 64  # over 4rem a cell wraps: the reason is read whole
    why = table.value["Why"]
    assert why.str.match(r"^(✖ Red|◆ Amber|● Green|■ Data only|○ Missing|⊗ Overdue): ").all()


@pytest.mark.parametrize(
    ("kind", "code", "title"),
    [
        ("priority", "homes-good-homes-for-everyone", "Homes: good homes for everyone"),
        ("initiative", "income-generation", "Income generation"),
        ("service", "housing", "Housing"),
        ("team", "environmental-services/waste-and-street-scene", "Waste and Street Scene"),
        ("metric", "CP03", "CP03: Fly-tipping incidents cleared within two working days"),
    ],
)
def test_a_deep_link_opens_the_same_view(demo_db: str, kind: str, code: str, title: str) -> None:
    at = run(**{kind: code, "period": "2016-03"})
    assert not at.exception
    assert titles(at) == [title]
    assert at.query_params[kind] == code and at.query_params["period"] == "2016-03"
    assert not errors(at)


INDEX_TITLES = {
    "priority": "Priorities",
    "initiative": "ME2E initiatives",
    "service": "Services",
    "team": "Teams",
    "metric": "Measures",
}


@pytest.mark.parametrize("kind", list(INDEX_TITLES))
def test_a_page_without_a_code_lists_everything_to_choose_from(demo_db: str, kind: str) -> None:
    at = run(period="2016-03")
    at.switch_page(f"pages/{kind}.py").run()
    assert not at.exception
    assert titles(at) == [INDEX_TITLES[kind]]
    listed = next(f for f in at.dataframe if f.key == "index").value
    assert len(listed)
    at.session_state["index"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.query_params[kind] == listed["code"].iloc[0]
    assert titles(at) != [INDEX_TITLES[kind]]


@pytest.mark.parametrize("kind", list(INDEX_TITLES))
def test_an_unknown_code_in_a_link_says_so(demo_db: str, kind: str) -> None:
    at = run(**{kind: "NO-SUCH-CODE"})
    assert not at.exception
    word = {"initiative": "ME2E initiative"}.get(kind, kind)
    assert errors(at) == [f"There is no {word} NO-SUCH-CODE."]
    assert titles(at) == [INDEX_TITLES[kind]]  # and the list to choose from instead


def test_a_sensitive_code_reads_exactly_like_an_unknown_one(
    users: dict, sensitive: dict[str, str]
) -> None:
    councillor = users[Role.COUNCILLOR]
    assert councillor.clearance != CLEARED
    code, title = next(iter(sensitive.items()))
    secret = run(councillor.email, metric=code, period="2016-03")
    unknown = run(councillor.email, metric="ZZ-99", period="2016-03")
    assert not secret.exception
    assert errors(secret) == [f"There is no metric {code}."]
    shown = unescape(everything_shown(secret)).replace(code, "ZZ-99")
    assert shown == unescape(everything_shown(unknown))
    assert title not in everything_shown(secret)
    # a cleared director sees it
    director = run(users[Role.MANAGEMENT_TEAM].email, metric=code, period="2016-03")
    assert titles(director) == [f"{code}: {title}"]


def test_an_official_user_never_receives_a_sensitive_measure(
    users: dict, sensitive: dict[str, str], demo_engine: Engine
) -> None:
    councillor = users[Role.COUNCILLOR].email
    catalogue = views.read_scope(demo_engine, clearance=CLEARED).catalogue.set_index("code")
    teams = catalogue.loc[list(sensitive), "team_code"].dropna().unique()
    pages = [run(councillor, period="2017-03")]
    pages += [run(councillor, team=team, period="2017-03") for team in teams]
    pages += [
        run(councillor, metric=m)
        for m in catalogue.index[catalogue["aligned_to"].notna()]
        if catalogue.loc[m, "aligned_to"] in sensitive
    ][:2]
    for at in pages:
        assert not at.exception
        text = unescape(everything_shown(at))
        for code, title in sensitive.items():
            assert not re.search(rf"\b{re.escape(code)}\b", text), code
            assert title not in text


# --- Every page, every role -------------------------------------------------------------------


PAGE_LINKS = {
    "dashboard": {},
    "priority": {"priority": "places-a-clean-safe-borough"},
    "initiative": {"initiative": "channel-shift-digital-by-default"},
    "service": {"service": "communications"},
    "team": {"team": "communications/information-management"},
    "metric": {"metric": "SS-COM-01"},
}


@pytest.mark.parametrize("role", sampled(list(Role), 2))  # the rest in `make faults`
def test_every_role_opens_every_page(users: dict, role: Role) -> None:
    for page, params in PAGE_LINKS.items():
        at = run(users[role].email, period="2016-12", **params)
        assert not at.exception, (role, page)
        assert not errors(at), (role, page)
        assert at.title, (role, page)


@pytest.mark.parametrize("period", ["2015-04", "2016-03", "2017-03"])
def test_drill_down_pages_render_at_the_ends_of_the_data(demo_db: str, period: str) -> None:
    for page, params in PAGE_LINKS.items():
        at = run(period=period, **params)
        assert not at.exception, (page, period)


def test_the_metric_page_shows_history_definition_and_audit(
    demo_db: str, demo_engine: Engine
) -> None:
    at = run(metric="CP03", period="2016-09")
    tabs = {tab.label: tab for tab in at.tabs}
    frames = {
        "periods": tabs["Periods"].dataframe[0].value,
        "definition": tabs["Definition and alignment"].dataframe[0].value,
        "audit": tabs["Audit trail"].dataframe[0].value,
    }
    assert frames["periods"]["Period"].iloc[0] == "September 2016"  # newest first, none after
    assert len(frames["periods"]) == 18
    assert {"Actual", "Target", "Year to date", "Status", "Commentary"} <= set(frames["periods"])
    assert {"Corrective action", "Approval"} <= set(frames["periods"])
    fields = dict(zip(frames["definition"]["Field"], frames["definition"]["Value"], strict=True))
    with demo_engine.connect() as connection:  # read for this measure alone
        said = connection.execute(select(Metric.definition).where(Metric.code == "CP03"))
        definition = said.scalar_one()
    assert definition and fields["Definition"] == definition
    assert fields["Polarity"] == "Higher is better"
    assert fields["Frequency"] == "Monthly"
    assert fields["Protective marking"] == "NOT PROTECTIVELY MARKED"
    assert (frames["audit"]["Period"] == "Definition").any()
    names = [json.loads(c.proto.spec)["data"] for c in at.get("plotly_chart")]
    trend = {t.get("name") for t in names[0]}
    assert {"Target", "Tolerance band (Amber)", "Last year"} <= trend
    assert {"Upper process limit", "Lower process limit", "Mean"} <= {
        t.get("name") for t in names[1]
    }


def test_the_metric_page_shows_variation_and_assurance_beside_the_status(
    demo_db: str, demo_engine: Engine
) -> None:
    at = run(metric="CP08", period="2017-03")
    assert not at.exception
    row = views.status(demo_engine, period="2017-03", clearance=CLEARED).set_index("code")
    expected = row.loc["CP08"]
    text = [unescape(m.value) for m in at.markdown]
    badges = " ".join(t for t in text if "-badge[" in t)
    assert expected["spc_variation"] in badges and expected["spc_assurance"] in badges
    assert f"**Variation:** {expected['spc_variation_why']}" in text
    assert f"**Assurance:** {expected['spc_assurance_why']}" in text
    assert expected["spc_variation"].startswith("Special cause")  # the demo's CP08 is special
    chart = next(
        json.loads(c.proto.spec)["data"]
        for c in at.get("plotly_chart")
        if "Upper process limit" in c.proto.spec
    )
    marked = {t.get("name"): t.get("x") for t in chart if t.get("mode") == "markers"}
    assert "March 2017" in marked[expected["spc_variation"]]  # the chart agrees with the badge


def test_a_link_with_an_unknown_period_is_flagged_and_falls_back(
    demo_db: str, demo_engine: Engine
) -> None:
    at = run(period="1999-01")
    assert not at.exception
    assert [unescape(w.value) for w in at.main.warning if "period" in w.value] == [
        "The link asked for the period 1999-01, which has no data you can see; "
        "showing March 2017 instead."
    ]
    assert at.query_params["period"] == views.latest_reported_month(demo_engine, clearance=CLEARED)


# --- Identity ---------------------------------------------------------------------------------


def test_demo_mode_says_so_in_the_sidebar_and_on_the_page(demo_db: str) -> None:
    at = run()
    assert any(w.value.startswith("DEMO MODE") for w in at.sidebar.warning)
    assert any(w.value.startswith("DEMO:") for w in at.main.warning)
    assert at.sidebar.selectbox(key="persona").value.startswith("director@")


@pytest.fixture
def single_sign_on(demo_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app configured for single sign-on instead of the demo personas."""
    from metrics.config import settings

    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(text.replace('mode = "demo"', 'mode = "oidc"'), encoding="utf-8")
    monkeypatch.setenv("SCORECARD_CONFIG", str(config))
    settings.cache_clear()
    assert settings().identity_mode == "oidc"


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ({"is_logged_in": False}, "info: Sign in"),
        (
            {"is_logged_in": True, "email": "stranger@example.com"},
            "error: You do not have access to Line of Sight",
        ),
        ({"is_logged_in": True, "email": "Director@demo.melburyvale.gov.uk"}, "title: ME2E"),
    ],
)
def test_single_sign_on_plugs_into_the_same_seam(
    single_sign_on: None, user: dict, expected: str
) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.user = user
    at.run()
    assert not at.exception
    kind, _, start = expected.partition(": ")
    assert any(unescape(e.value).startswith(start) for e in getattr(at, kind)), expected
    assert not any(w.value.startswith("DEMO") for w in at.warning)


def test_pages_never_hand_text_to_raw_html() -> None:
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]:
        source = path.read_text(encoding="utf-8")
        assert "unsafe_allow_html" not in source, path
        assert "st.html" not in source, path


# --- Small databases: nothing the reader may see, and nobody set up -------------------------


OFFICIAL_READER = "reader@example.gov.uk"


def value(metric: Metric, label: str, fiscal_year: str, end: date) -> PeriodValue:
    """An approved value of 5 against a target of 5."""
    return PeriodValue(
        metric_id=metric.id,
        period=label,
        fiscal_year=fiscal_year,
        period_end=end,
        actual=5.0,
        target=5.0,
        status="approved",
    )


@pytest.fixture
def only_sensitive_due(app_on: Callable[[], Engine]) -> Engine:
    """A council read by an OFFICIAL manager: an OFFICIAL quarterly measure with values for
    December 2015 and March 2016, and an OFFICIAL-SENSITIVE monthly one, the only measure due
    in February 2016."""
    engine = app_on()
    with Session(engine) as session:
        priority, service = Priority(code="P1", name="Safe"), Service(code="S1", name="Care")
        reader = User(email=OFFICIAL_READER, name="Reader", role=Role.MANAGEMENT_TEAM.value)
        session.add_all([priority, service, reader])
        session.flush()
        links = {"priority_id": priority.id, "service_id": service.id}
        secret = Metric(code="SEN01", title="Secret", tier="ME2E", marking=CLEARED, **links)
        open_ = Metric(code="OPEN01", title="Open", tier="ME2E", frequency="quarterly", **links)
        session.add_all([secret, open_])
        session.flush()
        session.add_all(
            [
                value(secret, "2016-02", "2015-16", date(2016, 2, 29)),
                value(open_, "2015-16 Q3", "2015-16", date(2015, 12, 31)),
                value(open_, "2015-16 Q4", "2015-16", date(2016, 3, 31)),
            ]
        )
        session.commit()
    return engine


@pytest.mark.parametrize(
    ("params", "empty"),
    [
        ({}, "No measure is Red or Amber in February 2016."),
        ({"priority": "P1"}, "No Corporate Plan measure of this priority is due."),
        ({"service": "S1"}, "No measure of this service is due this month."),
    ],
)
def test_a_month_with_nothing_the_reader_may_see_renders_empty(
    only_sensitive_due: Engine, params: dict[str, str], empty: str
) -> None:
    at = run(OFFICIAL_READER, period="2016-02", **params)
    assert not at.exception, at.exception
    assert at.query_params["period"] == "2016-02"
    shown = everything_shown(at)
    assert empty in unescape(shown)
    assert "SEN01" not in shown and "Secret" not in shown


@pytest.mark.parametrize(
    "params", [{}, {"metric": "CP01"}, {"priority": "P1", "period": "2016-03"}]
)
def test_a_link_opened_with_nobody_set_up_says_so(
    app_on: Callable[[], Engine], params: dict[str, str]
) -> None:
    app_on()  # no users, no measures
    at = run(**params)
    assert not at.exception, at.exception
    assert errors(at) == [NO_ACCESS]


def test_the_period_picker_offers_only_months_the_reader_may_see(
    only_sensitive_due: Engine,
) -> None:
    at = run(OFFICIAL_READER)  # the sensitive measure alone has values for Jan and Feb 2016
    assert not at.exception
    assert at.sidebar.selectbox(key="period").options == [  # as the council says them
        "March 2016",
        "February 2016",
        "January 2016",
        "December 2015",
    ]
    assert at.query_params["period"] == "2016-03"


def test_no_period_picker_before_a_user_is_known(app_on: Callable[[], Engine]) -> None:
    engine = app_on()  # values, but nobody set up to read them
    with Session(engine) as session:
        metric = Metric(code="OPEN01", title="Open", tier="ME2E")
        session.add(metric)
        session.flush()
        session.add(value(metric, "2016-02", "2015-16", date(2016, 2, 29)))
        session.commit()
    at = run(period="2016-02")
    assert not at.exception
    assert not [s for s in at.sidebar.selectbox if s.key == "period"]
    assert errors(at) == [NO_ACCESS]


def test_the_dashboards_priorities_show_all_five_counts(demo_db: str) -> None:
    at = run()
    assert not at.exception
    table = at.dataframe(key="priorities")
    assert list(table.proto.column_order) == ["Name", "Status", "Why", *COUNT_COLUMNS]


@pytest.mark.parametrize(
    ("code", "against"),
    [
        ("SS-HOU-04", re.compile(r"^Against [\d.]+ % to [\d.]+ %$")),  # a band shows its range
        ("CP03", re.compile(r"^Against [\d.]+ %$")),  # higher is better: one target
    ],
)
def test_the_forecast_is_judged_against_the_whole_target(
    demo_db: str, code: str, against: re.Pattern[str]
) -> None:
    at = run(metric=code, period="2016-12")
    captions = [unescape(c.value) for c in at.caption if c.value.startswith("Against")]
    assert len(captions) == 1 and against.match(captions[0]), captions
