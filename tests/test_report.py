"""The committee cover report, opened with python-docx: numbering, numbers, marking, safety."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from committee_council import CANARY, CANARY_NOTE, RATED_ON, build, restate
from docx import Document
from sqlalchemy import Engine

from metrics import snapshots
from metrics.inert import TRIGGERS, revert
from metrics.publish import report
from metrics.publish.cells import format_number

SECTIONS = [
    "PURPOSE OF REPORT",
    "RECOMMENDATIONS",
    "KEY ISSUES",
    *[title.upper() for title in report.IMPLICATIONS],
]
NUMBER = re.compile(r"-?£?\d+(?:,\d{3})*(?:\.\d+)?")


def freeze(engine: Engine, period: str) -> int:
    return snapshots.freeze(
        engine, period=period, title="Performance", actor="pmitg@council", today=RATED_ON
    ).id


@pytest.fixture
def papers(engine: Engine, tmp_path: Path) -> tuple[Engine, int, Path]:
    """February then March frozen, a February value restated in between; March's report."""
    build(engine)
    freeze(engine, "2016-02")
    restate(engine, "ME01", "2016-02", actual=12.5, reason="duplicate claims removed")
    march = freeze(engine, "2016-03")
    return engine, march, report.write_report(engine, march, tmp_path / "report.docx")


def paragraphs(path: Path) -> list[str]:
    return [p.text for p in Document(str(path)).paragraphs]


def test_sections_and_paragraphs_are_numbered_in_the_committee_format(papers) -> None:
    *_, path = papers
    texts = paragraphs(path)
    assert texts[:4] == ["GOVERNANCE COMMITTEE", "DATE TBC", "REPORT OF HEAD OF COMMUNICATIONS",
                         "PERFORMANCE"]  # fmt: skip
    headings = [t for t in texts if re.match(r"^\d+\.0\t", t)]
    assert headings == [f"{n}.0\t{title}" for n, title in enumerate(SECTIONS, start=1)]
    key = [t.split("\t")[0] for t in texts if re.match(r"^3\.[1-9]\d*\t", t)]
    assert key == [f"3.{n}" for n in range(1, len(key) + 1)] and len(key) >= 6
    for number in range(4, 13):
        assert f"{number}.1\t[OFFICER TO COMPLETE: " in "\n".join(texts)


def test_key_issues_say_what_moved_and_why(papers) -> None:
    *_, path = papers
    text = "\n".join(paragraphs(path))
    assert (
        "CP01 Household waste recycled became Red (it was Green): 40.0 % against a target" in text
    )
    assert "Commentary: “Crews were diverted to the floods.”" in text
    assert "ME01 Days to process a benefit claim recovered from Red to Green." in text
    assert "Red from 1 to 1" not in text and "Amber from 1 to 0" in text
    assert "published in snapshot 1 as 13.0 days is now 12.5 days" in text
    assert "the reason given: “duplicate claims removed”" in text


def test_every_number_in_the_key_issues_comes_from_the_snapshots(papers) -> None:
    engine, march, path = papers
    allowed: set[str] = set()
    for frozen in (
        snapshots.show(engine, march, clearance="OFFICIAL"),
        snapshots.show(engine, march - 1, clearance="OFFICIAL"),
    ):
        header = frozen.snapshot
        corpus = [str(header.id), header.period, str(len(frozen.rows))]
        for row in frozen.rows.to_dict("records"):
            corpus += [str(v) for v in row.values() if isinstance(v, str | int)]
            corpus += [format_number(row[f], row["unit"], row["decimals"])
                       for f in ("actual", "target")]  # fmt: skip
        counts = frozen.rollups[["red", "amber", "green", "data_only", "missing"]]
        corpus += [str(v) for v in counts.to_numpy().ravel()]
        corpus += [str(v) for v in counts.sum(axis=1)]
        corpus.append(str((frozen.rows["risk_level"] == "High").sum()))
        for row in frozen.restatements.to_dict("records"):
            corpus += [str(row["published_in"]), row["period"],
                       pd.Timestamp(row["changed_at"]).strftime("%Y-%m-%d")]  # fmt: skip
            corpus += [format_number(row[f], row["unit"], row["decimals"])
                       for f in ("old_value", "new_value")]  # fmt: skip
        allowed |= {n for text in corpus for n in NUMBER.findall(text)}
    key = [t.split("\t", 1) for t in paragraphs(path)]
    in_key_issues = False
    checked = 0
    for parts in key:
        if len(parts) == 2 and re.match(r"^\d+\.0$", parts[0]):
            in_key_issues = parts[1] == "KEY ISSUES"
            continue
        if in_key_issues:
            for number in NUMBER.findall(parts[-1]):
                assert number in allowed, (number, parts[-1])
                checked += 1
    assert checked > 20


def test_the_marking_heads_and_foots_every_page(papers) -> None:
    *_, path = papers
    section = Document(str(path)).sections[0]
    assert section.header.paragraphs[0].text == "OFFICIAL"
    assert section.footer.paragraphs[0].text == "OFFICIAL"
    with zipfile.ZipFile(path) as archive:
        footers = [archive.read(n) for n in archive.namelist() if "footer" in n]
    assert any(b'w:instr="PAGE"' in f for f in footers)


def test_the_report_never_holds_the_sensitive_canary(papers) -> None:
    *_, path = papers
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            assert CANARY.encode() not in data and CANARY_NOTE.encode() not in data, name
            assert b"SS09" not in data, name


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_text_in_report_tables_is_inert_and_reads_back(
    engine: Engine, trigger: str, tmp_path: Path
) -> None:
    hostile = f"{trigger}2+5+cmd|' /C calc'!A0"
    build(engine, text=hostile, hostile="CP01")  # CP01 is Red: its row is in a table
    freeze(engine, "2016-02")
    path = report.write_report(engine, freeze(engine, "2016-03"), tmp_path / "r.docx")
    cells = [c.text for t in Document(str(path)).tables for r in t.rows for c in r.cells]
    found = [text for text in cells if revert(text) == hostile]
    assert found and all(text == "'" + hostile for text in found)
