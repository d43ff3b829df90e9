"""`python -m metrics snapshot | pack | report | publish | verify` end to end, and refusals."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from committee_council import build
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from metrics import cli, config


@pytest.fixture
def council(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The small council, in the database the command line opens."""
    monkeypatch.setenv("SCORECARD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    config.settings.cache_clear()
    build(engine)
    yield engine
    config.settings.cache_clear()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def snapshot(capsys: pytest.CaptureFixture[str]) -> str:
    code, out, _ = run(
        capsys, "snapshot", "--period", "2016-03", "--title", "Performance",
        "--meeting-date", "2016-04-07", "--today", "2016-04-20",
    )  # fmt: skip
    assert code == 0
    match = re.fullmatch(r"Snapshot (\d+) sha256 ([0-9a-f]{64})\n", out)
    assert match, out
    return match.group(1)


def test_a_snapshot_becomes_committee_papers(council: Engine, capsys, tmp_path: Path) -> None:
    snapshot_id = snapshot(capsys)
    assert run(capsys, "verify", snapshot_id)[0] == 0
    code, out, _ = run(capsys, "pack", snapshot_id, str(tmp_path / "pack.xlsx"))
    assert code == 0 and "left out" in out
    assert load_workbook(tmp_path / "pack.xlsx")["Cover"]["B9"].value is not None
    code, out, _ = run(
        capsys, "pack", snapshot_id, str(tmp_path / "all.xlsx"), "--include-sensitive"
    )
    assert code == 0 and (tmp_path / "all-OFFICIAL-SENSITIVE.xlsx").exists()
    assert run(capsys, "report", snapshot_id, str(tmp_path / "report.docx"))[0] == 0
    assert (tmp_path / "report.docx").stat().st_size > 0
    code, out, _ = run(
        capsys, "publish", snapshot_id, str(tmp_path / "t.csv"), "--json", str(tmp_path / "t.json")
    )
    assert code == 0 and out.endswith(": 3 measures.\n")
    assert len(json.loads((tmp_path / "t.json").read_text())["rows"]) == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["snapshot", "--period", "2016-13", "--title", "T"], "2016-13"),
        (["snapshot", "--period", "2010-03", "--title", "T"], "nothing to freeze"),
        (["verify", "99"], "there is no snapshot 99"),
        (["pack", "99", "p.xlsx"], "there is no snapshot 99"),
        (["report", "99", "r.docx"], "there is no snapshot 99"),
        (["publish", "99", "t.csv"], "there is no snapshot 99"),
    ],
)
def test_refused_input_is_one_line_and_exit_1(council: Engine, capsys, argv, message) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err


def test_verify_fails_when_stored_rows_were_tampered_with(council: Engine, capsys) -> None:
    snapshot_id = snapshot(capsys)
    with council.begin() as connection:  # only someone bypassing the triggers could do this
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER snapshot_row_no_update"))
        else:
            connection.execute(text("ALTER TABLE snapshot_row DISABLE TRIGGER snapshot_row_frozen"))
        connection.execute(text("UPDATE snapshot_row SET actual = 99 WHERE code = 'CP01'"))
    code, _, err = run(capsys, "verify", snapshot_id)
    assert code == 1 and "does not match its hash" in err


def test_unapproved_values_name_the_flag_that_includes_them(engine: Engine, monkeypatch, capsys):
    monkeypatch.setenv("SCORECARD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    config.settings.cache_clear()
    build(engine, status="submitted")
    argv = ["snapshot", "--period", "2016-03", "--title", "T", "--today", "2016-04-20"]
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert "not approved" in err and err.rstrip().endswith("with --include-unapproved")
    code, out, _ = run(capsys, *argv, "--include-unapproved")
    assert code == 0 and "unapproved value(s) included, each marked" in out
    config.settings.cache_clear()
