"""The transparency file: tidy CSV and the same JSON, unmarked measures only, inert text."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest
from committee_council import CANARY, CANARY_NOTE, RATED_ON, build
from sqlalchemy import Engine

from metrics import snapshots
from metrics.config import Publication, Settings
from metrics.inert import TRIGGERS, revert
from metrics.publish import transparency


def freeze(engine: Engine) -> int:
    return snapshots.freeze(
        engine, period="2016-03", title="Performance", actor="pmitg@council", today=RATED_ON
    ).id


def published(engine: Engine, tmp_path: Path) -> tuple[list[dict[str, str]], dict]:
    snapshot_id = freeze(engine)
    count = transparency.publish(
        engine, snapshot_id, tmp_path / "t.csv", json_path=tmp_path / "t.json"
    )
    with (tmp_path / "t.csv").open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    document = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert count == len(rows) == len(document["rows"])
    return rows, document


def test_the_file_holds_only_unmarked_measures_in_tidy_columns(engine: Engine, tmp_path) -> None:
    build(engine)
    rows, document = published(engine, tmp_path)
    assert list(rows[0]) == transparency.COLUMNS == document["columns"]
    assert [row["measure_code"] for row in rows] == ["CP01", "ME01", "SS01"]  # CP02 is OFFICIAL
    first = rows[0]
    assert (first["actual"], first["target"], first["status"]) == ("40.0", "46.0", "Red")
    assert first["direction"] == "Worsening" and first["unit"] == "percent"
    assert first["licence"].startswith("Open Government Licence v3.0")
    assert document["rows"][0]["actual"] == 40.0 and document["licence"] == first["licence"]
    for path in (tmp_path / "t.csv", tmp_path / "t.json"):
        data = path.read_bytes()
        assert CANARY.encode() not in data and CANARY_NOTE.encode() not in data
        assert b"OFFICIAL" not in data.replace(b"NOT PROTECTIVELY MARKED", b"")


def test_official_measures_are_published_only_when_the_council_says_so(engine: Engine) -> None:
    build(engine)
    frozen = snapshots.show(engine, freeze(engine), clearance="OFFICIAL-SENSITIVE")
    publishing = replace(Settings(), publication=Publication(publish_official=True))
    markings = transparency.published_markings(publishing)
    table = transparency.transparency_table(frozen, council="C", markings=markings)
    assert table["measure_code"].tolist() == ["CP01", "CP02", "ME01", "SS01"]
    assert table.loc[1, "actual"] == -1500.0  # a negative value is still a number
    every = [*markings, "OFFICIAL-SENSITIVE"]
    table = transparency.transparency_table(frozen, council="C", markings=every)
    assert CANARY not in table["title"].tolist()  # never, whatever it is asked


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_text_in_the_csv_and_json_is_inert_and_reads_back(
    engine: Engine, trigger: str, tmp_path: Path
) -> None:
    hostile = f"{trigger}cmd|' /C calc'!A0"
    build(engine, text=hostile)
    rows, document = published(engine, tmp_path)
    [csv_row] = [row for row in rows if row["measure_code"] == "SS01"]
    [json_row] = [row for row in document["rows"] if row["measure_code"] == "SS01"]
    for row in (csv_row, json_row):
        assert row["title"] == "'" + hostile and revert(row["title"]) == hostile
    assert csv_row["actual"] == "95.0" and json_row["actual"] == 95.0
