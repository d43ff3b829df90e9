"""The committee pack, opened with openpyxl and checked cell by cell."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from committee_council import CANARY, CANARY_NOTE, RATED_ON, build, restate
from openpyxl import load_workbook
from sqlalchemy import Engine

from metrics import snapshots
from metrics.inert import TRIGGERS, revert
from metrics.publish import pack

GENERATED = datetime(2016, 4, 1, 9, 30, tzinfo=UTC)
SHEETS = ["Cover", "Summary", "Corporate Plan", "ME2E", "Service Standards", "Exceptions",
          "Restatements"]  # fmt: skip


def freeze(engine: Engine) -> int:
    return snapshots.freeze(
        engine, period="2016-03", title="Performance", actor="pmitg@council", today=RATED_ON
    ).id


@pytest.fixture
def restated(engine: Engine) -> tuple[Engine, int]:
    """A second March snapshot carrying one restatement of the first."""
    build(engine)
    freeze(engine)
    restate(engine, "CP01", "2016-03", actual=39.0, reason="late tonnage from the depot")
    return engine, freeze(engine)


def write(engine: Engine, snapshot_id: int, path: Path, **extra: object) -> Path:
    return pack.write_pack(engine, snapshot_id, path, generated_at=GENERATED, **extra)


def rows_by_code(sheet) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    headings = [c.value for c in sheet[1]]
    return {
        row[0].value: {h: c for h, c in zip(headings, row, strict=True)}
        for row in sheet.iter_rows(min_row=2)
    }


def test_the_pack_is_laid_out_and_printed_as_committee_papers(
    restated: tuple[Engine, int], tmp_path: Path
) -> None:
    engine, snapshot_id = restated
    path = write(engine, snapshot_id, tmp_path / "pack.xlsx")
    assert path.name == "pack.xlsx"
    book = load_workbook(path)
    assert book.sheetnames == SHEETS
    header = snapshots.show(engine, snapshot_id, clearance="OFFICIAL").snapshot
    cover = {row[0].value: row[1].value for row in book["Cover"].iter_rows(min_row=3)}
    assert cover["Snapshot SHA-256"] == header.sha256
    assert cover["Protective marking"] == "OFFICIAL"
    assert cover["Period"] == "2016-03" and cover["Generated at"] == "2016-04-01 09:30 UTC"
    plan = rows_by_code(book["Corporate Plan"])
    red = plan["CP01"]
    assert red["Status"].value == "✖ Red" and red["Status"].fill.fgColor.rgb == "00F3B79B"
    assert red["Actual"].value == 39.0 and red["Actual"].number_format == '#,##0.0" %"'
    assert red["On previous period"].value == "▼ Worsening"
    assert red["Why this risk"].value.startswith("High (9): likelihood 3 (Red 3, Worsening")
    assert red["Commentary"].alignment.wrap_text
    money = plan["CP02"]["Actual"]
    assert money.value == -1500 and money.data_type == "n"
    assert money.number_format == '"£"#,##0;-"£"#,##0'
    assert rows_by_code(book["ME2E"])["ME01"]["Actual"].number_format == '#,##0.0" days"'
    assert rows_by_code(book["Service Standards"])["SS01"]["Status"].value == "◆ Amber"
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.oddHeader.center.text == "OFFICIAL" == sheet.oddFooter.center.text
        assert sheet.oddFooter.right.text == "Page &P of &N"
        if sheet.title != "Cover":
            assert sheet.print_title_rows in ("1:1", "$1:$1")
            assert sheet.freeze_panes in ("A2", "C2")
    assert book["Corporate Plan"].auto_filter.ref == "A1:U3"
    assert len(book["Summary"]._charts) == 1


def test_the_summary_counts_each_tier_and_priority(restated: tuple[Engine, int], tmp_path):
    engine, snapshot_id = restated
    summary = load_workbook(write(engine, snapshot_id, tmp_path / "p.xlsx"))["Summary"]
    table = {row[0].value: [c.value for c in row[1:]] for row in summary.iter_rows(min_row=2)}
    # Tier: status, Red, Amber, Green, Data only, Missing, Total (the canary is left out)
    assert table["Corporate Plan"] == ["✖ Red", 1, 0, 1, 0, 0, 2]
    assert table["Service Standards"] == ["◆ Amber", 0, 1, 0, 0, 0, 1]
    assert table["Places: a clean borough"] == ["✖ Red", 1, 0, 2, 0, 0, 3]


def test_exceptions_come_highest_risk_first_and_restatements_are_listed(
    restated: tuple[Engine, int], tmp_path: Path
) -> None:
    engine, snapshot_id = restated
    book = load_workbook(write(engine, snapshot_id, tmp_path / "p.xlsx"))
    listed = [(row[0].value, row[5].value) for row in book["Exceptions"].iter_rows(min_row=2)]
    assert listed == [("CP01", 9), ("SS01", 6)]  # Amber and worsening: 3 x impact 2
    assert book["Exceptions"]["G2"].value.startswith("High (9): likelihood 3 (Red 3, Worsening")
    assert book["Exceptions"]["H2"].value.startswith("Red: 39.0 % is below the 46.0 % target")
    [row] = book["Restatements"].iter_rows(min_row=2, values_only=True)
    assert row[:6] == ("CP01", "Household waste recycled", "2016-03", "actual", 40.0, 39.0)
    assert row[6] == "analyst@council" and row[8] == "late tonnage from the depot"


def test_the_same_snapshot_always_gives_the_same_cells(
    restated: tuple[Engine, int], tmp_path: Path
) -> None:
    engine, snapshot_id = restated
    first = load_workbook(write(engine, snapshot_id, tmp_path / "a.xlsx"))
    restate(engine, "ME01", "2016-03", actual=99.0, reason="changed after the pack")
    second = load_workbook(write(engine, snapshot_id, tmp_path / "b.xlsx"))
    for sheet in first.worksheets:
        again = second[sheet.title]
        assert [[c.value for c in r] for r in sheet.iter_rows()] == [
            [c.value for c in r] for r in again.iter_rows()
        ]


def test_the_default_pack_never_holds_the_sensitive_canary(
    restated: tuple[Engine, int], tmp_path: Path
) -> None:
    engine, snapshot_id = restated
    path = write(engine, snapshot_id, tmp_path / "pack.xlsx")
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            assert CANARY.encode() not in data and CANARY_NOTE.encode() not in data, name


def test_a_sensitive_pack_is_marked_on_every_sheet_and_in_its_name(
    restated: tuple[Engine, int], tmp_path: Path
) -> None:
    engine, snapshot_id = restated
    path = write(engine, snapshot_id, tmp_path / "pack.xlsx", include_sensitive=True)
    assert path.name == "pack-OFFICIAL-SENSITIVE.xlsx"
    book = load_workbook(path)
    for sheet in book.worksheets:
        assert sheet.oddHeader.center.text == "OFFICIAL-SENSITIVE" == sheet.oddFooter.center.text
    assert CANARY in [r[1] for r in book["Service Standards"].iter_rows(values_only=True)]


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_every_text_cell_is_inert_and_reads_back(engine: Engine, trigger: str, tmp_path) -> None:
    hostile = f'{trigger}HYPERLINK("http://x")'
    build(engine, text=hostile)
    book = load_workbook(write(engine, freeze(engine), tmp_path / "p.xlsx"))
    found = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                if isinstance(c.value, str) and revert(c.value) == hostile:
                    assert c.data_type == "s" and c.value == "'" + hostile
                    found += 1
    assert found >= 5  # title and commentary on the tier sheet and in Exceptions, the action
