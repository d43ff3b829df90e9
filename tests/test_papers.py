"""The committee page's domain helpers: the unapproved count before freezing, the pending
restatements a clearance may see, and the papers built as bytes (sensitive packs refused to
the uncleared)."""

from __future__ import annotations

import io
import json

import pytest
from committee_council import CANARY, RATED_ON, build, restate
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import Engine

from metrics import restatements, snapshots
from metrics.access import AccessDenied
from metrics.publish import papers

CLEARED, OFFICIAL = "OFFICIAL-SENSITIVE", "OFFICIAL"


def freeze(engine: Engine, **extra: object) -> int:
    header = snapshots.freeze(
        engine, period="2016-03", title="Performance for March", actor="pmitg@council",
        today=RATED_ON, **extra,
    )  # fmt: skip
    assert header.id is not None
    return header.id


def cells_of(data: bytes) -> str:
    """Every cell of a workbook, as one string."""
    book = load_workbook(io.BytesIO(data))
    return " ".join(str(c.value) for s in book.worksheets for r in s.iter_rows() for c in r)


@pytest.mark.parametrize(("status", "count"), [("approved", 0), ("submitted", 5)])
def test_the_unapproved_count_is_what_freeze_would_refuse(
    engine: Engine, status: str, count: int
) -> None:
    build(engine, status=status)
    assert snapshots.unapproved_count(engine, period="2016-03", today=RATED_ON) == count
    if count:
        header = snapshots.freeze(
            engine, period="2016-03", title="t", actor="a", include_unapproved=True, today=RATED_ON
        )
        assert header.unapproved_count == count


def test_an_unknown_period_has_nothing_unapproved(engine: Engine) -> None:
    build(engine)
    assert snapshots.unapproved_count(engine, period="2016-13") == 0


def test_pending_restatements_are_listed_only_to_those_who_may_see_them(engine: Engine) -> None:
    build(engine)
    freeze(engine)
    assert restatements.pending_table(engine, clearance=CLEARED).empty
    restate(engine, "CP01", "2016-03", actual=44.5, reason="late tonnage from the depot")
    restate(engine, "SS09", "2016-03", actual=12.0, reason="recount")
    official = restatements.pending_table(engine, clearance=OFFICIAL)
    assert official[["Measure", "Period", "Field", "Old", "New", "Who", "Why"]].values.tolist() == [
        ["CP01", "2016-03", "actual", 40.0, 44.5, "analyst@council", "late tonnage from the depot"]
    ]
    cleared = restatements.pending_table(engine, clearance=CLEARED)
    assert CANARY in cleared["Title"].tolist() and CANARY not in official["Title"].tolist()


def test_the_papers_are_the_domains_files_as_bytes(engine: Engine) -> None:
    build(engine)
    snapshot = freeze(engine)
    built = {p.file_name: p for p in papers.build_papers(engine, snapshot, clearance=OFFICIAL)}
    stem = f"snapshot-{snapshot}"
    assert list(built) == [
        f"{stem}-pack.xlsx",
        f"{stem}-report.docx",
        f"{stem}-transparency.csv",
        f"{stem}-transparency.json",
    ]
    assert CANARY not in cells_of(built[f"{stem}-pack.xlsx"].data)
    assert Document(io.BytesIO(built[f"{stem}-report.docx"].data)).paragraphs
    assert built[f"{stem}-transparency.csv"].data.startswith(b"council,measure_code,")
    document = json.loads(built[f"{stem}-transparency.json"].data)
    assert document["snapshot"]["id"] == snapshot


def test_a_sensitive_pack_is_marked_for_the_cleared_and_refused_to_others(engine: Engine) -> None:
    build(engine)
    snapshot = freeze(engine)
    [pack, *_] = papers.build_papers(engine, snapshot, clearance=CLEARED, include_sensitive=True)
    assert pack.file_name == f"snapshot-{snapshot}-pack-OFFICIAL-SENSITIVE.xlsx"
    book = load_workbook(io.BytesIO(pack.data))
    assert CANARY in " ".join(
        str(c.value) for s in book.worksheets for r in s.iter_rows() for c in r
    )
    with pytest.raises(AccessDenied, match="OFFICIAL-SENSITIVE"):
        papers.build_papers(engine, snapshot, clearance=OFFICIAL, include_sensitive=True)
