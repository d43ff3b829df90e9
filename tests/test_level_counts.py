"""Issue 11, findings 2 and 3: every count agrees with the page it opens (or says what it counts
and opens that part), and every rolled-up status and risk score carries the sentence that says
why."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from metrics import views
from metrics.config import RatingRules, load_settings
from metrics.explain_rollup import risk_sentence, rollup_sentence, share_words
from metrics.rating import COUNT_COLUMNS, rollup
from metrics.vocab import Marking

RULES = RatingRules()
APP = str(Path(__file__).resolve().parent.parent / "app.py")
MONTH = "2016-03"
CLEARED = Marking.OFFICIAL_SENSITIVE.value
HOMES = "homes-good-homes-for-everyone"
PRIORITIES = [
    "places-a-clean-safe-borough",
    "people-supporting-vulnerable-people",
    "prosperity-a-thriving-local-economy",
    HOMES,
    "health-active-and-healthy-lives",
    "a-well-run-council",
]


def rolled(*statuses: str, high: int = 0, rules: RatingRules = RULES) -> str:
    """The roll-up sentence of a group with these statuses; the first `high` Reds are High risk."""
    levels = ["Medium"] * len(statuses)
    for place in [i for i, s in enumerate(statuses) if s == "Red"][:high]:
        levels[place] = "High"
    group = pd.DataFrame({"team": "T1", "rag": list(statuses), "risk_level": levels})
    return str(rollup_sentence(rollup(group, "team", rules=rules), rules=rules).iloc[0])


# --- The roll-up sentence, at every boundary of the rule ----------------------------------------


@pytest.mark.parametrize(
    ("statuses", "high", "expected"),
    [
        (  # exactly a third Red
            ["Red", "Green", "Green"],
            0,
            "Red: 1 of 3 rated measures is Red, at least a third",
        ),
        (  # just under a third Red: any Red makes it Amber
            ["Red", "Green", "Green", "Green"],
            0,
            "Amber: 1 of 4 rated measures is Red, under a third and none with High risk; "
            "any Red makes it at least Amber",
        ),
        (  # under a third Red, but a High-risk Red
            ["Red", *["Green"] * 9],
            1,
            "Red: 1 Red measure carries High risk, and any High-risk Red makes it Red "
            "(1 of 10 rated measures is Red, under a third)",
        ),
        (  # the issue's example
            ["Red"] * 6 + ["Amber"] * 5 + ["Green"] * 5,
            0,
            "Red: 6 of 16 rated measures are Red, at least a third",
        ),
        (  # exactly a third Amber
            ["Amber", "Green", "Green"],
            0,
            "Amber: 1 of 3 rated measures is Amber, at least a third, and none is Red",
        ),
        (  # just under a third Amber
            ["Amber", "Green", "Green", "Green"],
            0,
            "Green: none of its 4 rated measures is Red and 1 is Amber, under a third",
        ),
        (  # all Data only: nothing rated
            ["Data only", "Data only"],
            0,
            "Data only: none of its 2 measures is rated (2 Data only, 0 Missing)",
        ),
        (  # nothing entered
            ["Missing", "Overdue"],
            0,
            "Missing: no value has been entered for any of its 2 measures",
        ),
        (  # Data only and Missing do not dilute the shares, and the sentence says so
            ["Red", "Green", "Green", "Data only", "Missing"],
            0,
            "Red: 1 of 3 rated measures is Red, at least a third; "
            "1 Data only and 1 Missing are not counted in the shares",
        ),
    ],
)
def test_rollup_sentence_states_the_rule_and_the_numbers(
    statuses: list[str], high: int, expected: str
) -> None:
    assert rolled(*statuses, high=high) == expected


def test_rollup_sentence_names_the_configured_share() -> None:
    quarter = replace(RULES, rollup_red_share=0.25, rollup_amber_share=0.25)
    assert rolled("Red", "Green", "Green", "Green", rules=quarter) == (
        "Red: 1 of 4 rated measures is Red, at least a quarter"
    )
    assert share_words(0.3333) == "a third"  # config.toml's way of writing it
    assert share_words(0.4) == "40 %"


def test_nothing_due_has_no_rolled_up_sentence() -> None:
    assert views.levels._rollup_one(pd.DataFrame({"code": []}), RULES) == (
        "",
        dict.fromkeys(COUNT_COLUMNS, 0),
        "",
    )


# --- The risk sentence ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rag", "travel", "impact", "score", "level", "expected"),
    [
        (
            "Red",
            "Stable",
            3,
            9,
            "High",
            "High (9): likelihood 3 (Red 3) × impact 3 (high) = 9; scores above 4 are High",
        ),
        (  # Worsening adds one to the likelihood
            "Amber",
            "Worsening",
            2,
            6,
            "High",
            "High (6): likelihood 3 (Amber 2 +1 Worsening) × impact 2 (medium) = 6; "
            "scores above 4 are High",
        ),
        (  # but never past 3
            "Red",
            "Worsening",
            1,
            3,
            "Medium",
            "Medium (3): likelihood 3 (Red 3, Worsening adds 1 but 3 is the most) × impact 1 "
            "(low) = 3; scores 3 to 4 are Medium",
        ),
        (
            "Green",
            "Improving",
            2,
            2,
            "Low",
            "Low (2): likelihood 1 (Green 1) × impact 2 (medium) = 2; scores up to 2 are Low",
        ),
        (
            "Data only",
            "Stable",
            3,
            0,
            "Not rated",
            "Not rated: a Data only measure has no risk score",
        ),
        (
            "Missing",
            "No comparison",
            2,
            0,
            "Not rated",
            "Not rated: a Missing measure has no risk score",
        ),
        (
            "Overdue",
            "No comparison",
            2,
            0,
            "Not rated",
            "Not rated: an Overdue measure has no risk score",
        ),
    ],
)
def test_risk_sentence_shows_how_the_score_was_made(
    rag: str, travel: str, impact: int, score: int, level: str, expected: str
) -> None:
    frame = pd.DataFrame(
        {
            "rag": [rag],
            "dot_previous": [travel],
            "risk_impact": [impact],
            "risk_score": [score],
            "risk_level": [level],
        }
    )
    assert risk_sentence(frame, rules=RULES).iloc[0] == expected


# --- Every count against the page it opens -------------------------------------------------------


@pytest.fixture(scope="module")
def month(demo_database: str) -> tuple[Engine, dict, views.Reading]:
    from metrics import store

    engine = store.make_engine(demo_database)
    kw = {
        "period": MONTH,
        "clearance": CLEARED,
        "today": date(2016, 6, 1),
        "settings": load_settings(),
    }
    return engine, kw, views.read_month(engine, **kw)


def part(row: pd.Series) -> views.Within:
    return views.Within(
        str(row.get("serving") or ""), str(row.get("aligned_to") or ""), str(row.get("tier") or "")
    )


@pytest.mark.parametrize("priority", PRIORITIES)
def test_every_level_row_agrees_with_the_page_it_opens(month: tuple, priority: str) -> None:
    """From the dashboard's row of a priority down through every table of every page a row
    opens, two levels deep: the row's five counts are the opened page's, and a row counting
    part of a level says so (one priority a test, to keep each short)."""
    engine, kw, reading = month
    built: dict[tuple[str, str, views.Within], views.LevelView | None] = {}
    checked = noted = 0

    def walk(table: pd.DataFrame, depth: int) -> None:
        nonlocal checked, noted
        for _, row in table.iterrows():
            if row["code"] == "-":
                continue
            within, key = part(row), (row["kind"], row["code"], part(row))
            fresh = key not in built
            if fresh:
                built[key] = views.level(
                    engine, kind=row["kind"], code=row["code"], reading=reading, within=within, **kw
                )
            opened = built[key]
            assert opened is not None
            shown = [int(row[c]) for c in COUNT_COLUMNS]
            assert shown == [opened.counts[c] for c in COUNT_COLUMNS], (row.to_dict(), within)
            assert bool(within) == bool(row.get("Counts")), row.to_dict()
            if within:
                noted += 1
                assert opened.notes[0].startswith(f"Showing {sum(shown)} of ")
            checked += 1
            if fresh and depth < 2:  # priority pages, then every page their rows open
                for inner in (opened.children, opened.teams, opened.aligned):
                    if "kind" in inner and len(inner):
                        walk(inner, depth + 1)

    board = views.dashboard(engine, **kw).priorities
    walk(board[board["code"] == priority], 0)
    assert checked > 5 and noted > 0


def test_the_issue_example_says_what_the_housing_row_counts(month: tuple) -> None:
    engine, kw, reading = month
    homes = views.level(engine, kind="priority", code=HOMES, reading=reading, **kw)
    housing = homes.children.set_index("code").loc["housing"]
    assert housing["Counts"] == (
        "10 of Housing's 15 measures due: the Service Standards ones serving "
        "Homes: good homes for everyone"
    )
    assert (housing["serving"], housing["tier"]) == (HOMES, "Service Standards")
    assert housing["Why"].startswith("Red: ")


# --- The same walk through the rendered pages ----------------------------------------------------


def unescape(text: str) -> str:
    """Markdown as the reader sees it (`plain` escapes text)."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u2060", "")


def page(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def shown_counts(at: AppTest) -> list[int]:
    """The level page's five count metrics, as the reader sees them (all 0 when it says that
    nothing is due)."""
    shown = [int(m.value) for m in at.metric][: len(COUNT_COLUMNS)]
    if not shown:
        assert any(i.value.startswith("Nothing here is due") for i in at.info)
        return [0] * len(COUNT_COLUMNS)
    return shown


def row_link(row: pd.Series) -> dict[str, str]:
    return {str(row["kind"]): str(row["code"]), "period": MONTH, **part(row).params()}


def test_the_homes_priority_page_rows_agree_with_the_pages_they_open(demo_db: str) -> None:
    at = page(priority=HOMES, period=MONTH)
    assert not at.exception
    tables = {t.key: t for t in at.dataframe}
    for key in ("children", "teams"):
        shown = tables[key].value
        assert "Why" in tables[key].proto.column_order
        for _, row in shown.iterrows():
            opened = page(**row_link(row))
            assert not opened.exception
            assert shown_counts(opened) == [int(row[c]) for c in COUNT_COLUMNS], row.to_dict()
            if row["Counts"]:
                assert row["Counts"] in unescape("\n".join(i.value for i in opened.info))


def test_selecting_the_housing_row_opens_the_part_it_counts(demo_db: str) -> None:
    at = page(priority=HOMES, period=MONTH)
    children = at.dataframe(key="children").value
    place = int(children.index[children["code"] == "housing"][0])
    at.session_state["children"] = {"selection": {"rows": [place], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.query_params["service"] == "housing"
    assert at.query_params["serving"] == HOMES
    assert at.query_params["tier"] == "Service Standards"
    assert shown_counts(at) == [int(children.loc[place, c]) for c in COUNT_COLUMNS]
    # a way back to the whole service, and a sentence under the rolled-up status
    assert "Show all of Housing" in [p.label for p in at.get("page_link")]
    assert any(unescape(c.value).startswith("Why: Red") for c in at.caption)


def test_the_dashboard_priorities_agree_with_their_pages(demo_db: str) -> None:
    at = page(period=MONTH)
    priorities = at.dataframe(key="priorities").value
    for _, row in priorities.head(3).iterrows():
        opened = page(**row_link(row))
        assert shown_counts(opened) == [int(row[c]) for c in COUNT_COLUMNS]
        assert f"Why: {row['Why']}" in [unescape(c.value) for c in opened.caption]


def test_the_metric_page_explains_its_risk_and_its_spc_badges(demo_db: str) -> None:
    at = page(metric="CP03", period=MONTH)
    assert not at.exception
    risk = [unescape(m.value) for m in at.markdown if m.value.startswith("**Risk:**")]
    assert len(risk) == 1 and "likelihood" in risk[0] and "× impact" in risk[0]
    badges = [m for m in at.markdown if m.value.startswith((":violet-badge[", ":blue-badge["))]
    assert len(badges) == 2  # variation and assurance, each with its sentence on hover
    label = badges[0].value[len(":violet-badge[") : -1]
    assert unescape(badges[0].proto.help).startswith(f"{label}: ")
    assert all(unescape(b.proto.help).count(" ") > 5 for b in badges)
    exceptions = page(period=MONTH).dataframe(key="exceptions").value
    assert exceptions["Why this risk"].str.contains(" × impact ").all()
