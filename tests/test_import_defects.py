"""The defects a hostile-input run found in the workbook import, each pinned where it lived.

Concurrent imports (lost updates, racing creations), a blank cell that declassified a measure,
sensitive measures leaving in every export, a capped problem list that hid its true count,
look-alike names, and number text that a backtracking pattern read in quadratic time.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from test_workbook import METRICS, VALUES, write_book

from metrics import store
from metrics.models import AuditLog, Metric, PeriodValue, Service
from metrics.workbook import WorkbookError, cells, export_workbook, import_workbook

PROJECT = Path(__file__).resolve().parent.parent


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _marking(engine: Engine, code: str) -> str:
    with Session(engine) as session:
        return session.exec(select(Metric.marking).where(Metric.code == code)).one()


# --- Concurrent imports of one value: every update kept, every audit row chained -------------

MARKER = 424242  # the Actual in the base workbook, replaced byte-for-byte in each copy


def _copies(base: Path, folder: Path, actuals: list[int]) -> list[Path]:
    """Copies of the base workbook, each with its own Actual in the Values sheet's XML."""
    with zipfile.ZipFile(base) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    sheet = next(name for name, data in parts.items() if b"<v>424242</v>" in data)
    paths = []
    for actual in actuals:
        path = folder / f"v{actual}.xlsx"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in parts.items():
                if name == sheet:
                    data = data.replace(b"<v>424242</v>", f"<v>{actual}</v>".encode())
                archive.writestr(name, data)
        paths.append(path)
    return paths


def _import_all(url: str, paths: list[str]) -> int:
    """One worker process: import each file in turn; the number that succeeded."""
    engine = store.make_engine(url)
    done = 0
    for path in paths:
        import_workbook(engine, Path(path), actor=f"worker-{os.getpid()}")
        done += 1
    engine.dispose()
    return done


def test_eight_processes_importing_one_value_lose_no_update(engine: Engine, tmp_path: Path) -> None:
    """8 x 100 imports of the same value row: version 801, and every audit row's old value is
    the new value of the row before it (the lock is taken before the value is read)."""
    base = write_book(tmp_path / "base.xlsx", METRICS[:1], [{**VALUES[0], "Actual": MARKER}])
    import_workbook(engine, base, actor="setup")
    processes, each = 8, 100
    actuals = [1_000 + n for n in range(processes * each)]
    paths = [str(p) for p in _copies(base, tmp_path, actuals)]
    batches = [paths[p * each : (p + 1) * each] for p in range(processes)]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        done = pool.starmap(_import_all, [(_url(engine), batch) for batch in batches])
    assert sum(done) == processes * each
    with Session(engine) as session:
        value = session.exec(select(PeriodValue)).one()
        trail = session.exec(
            select(AuditLog)
            .where(AuditLog.entity == "period_value", AuditLog.field_name == "actual")
            .order_by(AuditLog.id)
        ).all()
    assert value.version == 1 + processes * each
    assert len(trail) == processes * each
    assert trail[0].old_value == str(float(MARKER))
    broken = [
        (before.new_value, after.old_value)
        for before, after in itertools.pairwise(trail)
        if after.old_value != before.new_value
    ]
    assert broken == []
    assert sorted(float(row.new_value) for row in trail) == [float(a) for a in actuals]
    assert value.actual == float(trail[-1].new_value)


def test_concurrent_first_imports_create_each_row_once_without_a_traceback(
    engine: Engine, tmp_path: Path
) -> None:
    """Four CLI imports at once, each creating the same measure, service and team."""
    path = write_book(tmp_path / "new.xlsx", METRICS, VALUES)
    environment = {**os.environ, "SCORECARD_DATABASE_URL": _url(engine)}
    command = [sys.executable, "-m", "metrics", "import", str(path)]
    running = [
        subprocess.Popen(
            command, cwd=PROJECT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in running]  # type: ignore[union-attr]
    for code, out, err in results:
        assert b"Traceback" not in err, err.decode()
        assert code == 0, err.decode()
        assert b"Imported" in out
    with Session(engine) as session:
        assert len(session.exec(select(Metric)).all()) == len(METRICS)
        assert len(session.exec(select(Service)).all()) == 2
        assert len(session.exec(select(PeriodValue)).all()) == len(VALUES)


# --- A blank Marking never declassifies a measure --------------------------------------------

SENSITIVE = METRICS[2]  # SS-CS-01, OFFICIAL-SENSITIVE, row 4 of the Metrics sheet


def _with_marking(path: Path, marking: str | None) -> Path:
    changed = [dict(m) for m in METRICS]
    changed[2]["Marking"] = marking
    return write_book(path, changed, [])


@pytest.mark.parametrize(
    ("marking", "administrator", "expected"),
    [
        (None, False, "OFFICIAL-SENSITIVE"),  # blank: the measure keeps what it has
        ("OFFICIAL-SENSITIVE", False, "OFFICIAL-SENSITIVE"),  # unchanged
        ("OFFICIAL", True, "OFFICIAL"),  # lowered, explicitly, by an administrator
        ("NOT PROTECTIVELY MARKED", True, "NOT PROTECTIVELY MARKED"),
    ],
    ids=["blank keeps", "same", "administrator lowers", "administrator unmarks"],
)
def test_a_held_measure_keeps_its_marking_unless_a_lower_one_is_written_by_an_administrator(
    engine: Engine, tmp_path: Path, marking: str | None, administrator: bool, expected: str
) -> None:
    import_workbook(engine, write_book(tmp_path / "first.xlsx", METRICS, VALUES), actor="t")
    result = import_workbook(
        engine,
        _with_marking(tmp_path / "second.xlsx", marking),
        actor="admin",
        may_lower_markings=administrator,
    )
    assert _marking(engine, "SS-CS-01") == expected
    lowered = expected != "OFFICIAL-SENSITIVE"
    assert result.markings_lowered == (
        [f"SS-CS-01: OFFICIAL-SENSITIVE to {expected}"] if lowered else []
    )
    with Session(engine) as session:
        trail = session.exec(
            select(AuditLog).where(AuditLog.field_name == "marking", AuditLog.actor == "admin")
        ).all()
    assert [(r.old_value, r.new_value) for r in trail] == (
        [("OFFICIAL-SENSITIVE", expected)] if lowered else []
    )


def test_lowering_a_marking_without_an_administrator_is_refused_and_changes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    import_workbook(engine, write_book(tmp_path / "first.xlsx", METRICS, VALUES), actor="t")
    with pytest.raises(WorkbookError) as refused:
        import_workbook(engine, _with_marking(tmp_path / "lower.xlsx", "OFFICIAL"), actor="m")
    assert "Metrics!Q4 (Marking): SS-CS-01 is OFFICIAL-SENSITIVE; only an administrator" in str(
        refused.value
    )
    assert _marking(engine, "SS-CS-01") == "OFFICIAL-SENSITIVE"


def test_raising_a_marking_needs_no_administrator(engine: Engine, tmp_path: Path) -> None:
    import_workbook(engine, write_book(tmp_path / "first.xlsx", METRICS, VALUES), actor="t")
    changed = [dict(m) for m in METRICS]
    changed[0]["Marking"] = "OFFICIAL-SENSITIVE"
    import_workbook(engine, write_book(tmp_path / "up.xlsx", changed, []), actor="m")
    assert _marking(engine, "CP01") == "OFFICIAL-SENSITIVE"


def test_the_command_line_reports_a_lowered_marking(
    engine: Engine, tmp_path: Path, monkeypatch, capsys
) -> None:
    from metrics import cli, config

    import_workbook(engine, write_book(tmp_path / "first.xlsx", METRICS, VALUES), actor="t")
    monkeypatch.setenv("SCORECARD_DATABASE_URL", _url(engine))
    config.settings.cache_clear()
    path = str(_with_marking(tmp_path / "lower.xlsx", "OFFICIAL"))
    try:
        assert cli.main(["import", path]) == 1
        assert "only an administrator may lower" in capsys.readouterr().err
        assert cli.main(["import", path, "--allow-lower-marking"]) == 0
        assert (
            "marking lowered: SS-CS-01: OFFICIAL-SENSITIVE to OFFICIAL" in capsys.readouterr().out
        )
    finally:
        config.settings.cache_clear()


# --- Exports leave sensitive measures out unless asked, and mark a file that holds them -------


def _export_cells(path: Path) -> set[str]:
    book = openpyxl.load_workbook(path)
    return {str(c.value) for s in book for row in s.iter_rows() for c in row if c.value}


def test_an_export_leaves_sensitive_measures_out_by_default(engine: Engine, tmp_path: Path) -> None:
    import_workbook(engine, write_book(tmp_path / "in.xlsx", METRICS, VALUES), actor="t")
    written = export_workbook(engine, tmp_path / "out.xlsx")
    assert written == tmp_path / "out.xlsx"
    shown = _export_cells(written)
    assert "SS-CS-01" not in shown and SENSITIVE["Title"] not in shown
    assert "OFFICIAL-SENSITIVE" not in written.read_bytes().decode("latin-1")
    book = openpyxl.load_workbook(written)
    assert {s.oddHeader.center.text for s in book} == {"OFFICIAL"}


def test_an_export_with_sensitive_measures_says_so_in_its_name_and_on_every_page(
    engine: Engine, tmp_path: Path
) -> None:
    import_workbook(engine, write_book(tmp_path / "in.xlsx", METRICS, VALUES), actor="t")
    written = export_workbook(engine, tmp_path / "all.xlsx", clearance="OFFICIAL-SENSITIVE")
    assert written.name == "all-OFFICIAL-SENSITIVE.xlsx"
    assert "SS-CS-01" in _export_cells(written)
    book = openpyxl.load_workbook(written)
    for sheet in book:
        assert sheet.oddHeader.center.text == "OFFICIAL-SENSITIVE", sheet.title
        assert sheet.oddFooter.center.text == "OFFICIAL-SENSITIVE", sheet.title


def test_the_command_line_exports_sensitive_measures_only_when_asked(
    engine: Engine, tmp_path: Path, monkeypatch, capsys
) -> None:
    from metrics import cli, config

    import_workbook(engine, write_book(tmp_path / "in.xlsx", METRICS, VALUES), actor="t")
    monkeypatch.setenv("SCORECARD_DATABASE_URL", _url(engine))
    config.settings.cache_clear()
    try:
        assert cli.main(["export-workbook", str(tmp_path / "a.xlsx")]) == 0
        assert "OFFICIAL-SENSITIVE measures left out" in capsys.readouterr().out
        assert "SS-CS-01" not in _export_cells(tmp_path / "a.xlsx")
        assert cli.main(["export-workbook", str(tmp_path / "b.xlsx"), "--include-sensitive"]) == 0
        assert "b-OFFICIAL-SENSITIVE.xlsx" in capsys.readouterr().out
        assert "SS-CS-01" in _export_cells(tmp_path / "b-OFFICIAL-SENSITIVE.xlsx")
    finally:
        config.settings.cache_clear()


# --- The refusal's header gives the true number of problems -------------------------------------


def test_a_capped_problem_list_still_gives_the_true_total(
    engine: Engine, tmp_path: Path, monkeypatch, capsys
) -> None:
    from metrics import cli, config

    values = [{"Code": "CP01", "Period": f"bad {n}"} for n in range(2_812)]
    path = write_book(tmp_path / "bad.xlsx", METRICS[:1], values)
    monkeypatch.setenv("SCORECARD_DATABASE_URL", _url(engine))
    config.settings.cache_clear()
    try:
        assert cli.main(["import", str(path)]) == 1
    finally:
        config.settings.cache_clear()
    err = capsys.readouterr().err
    assert err.startswith("error: 2,812 problems (the first 200 listed), nothing was changed:")
    assert "... and 2612 more" in err


# --- Look-alike letters and hidden characters in names -----------------------------------------


@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("Housing", False),
        ("Ноusing", True),  # Cyrillic Н and о beside Latin letters
        ("Ηousing", True),  # Greek capital eta
        ("Gwasanaethau Tai", False),
        ("Café & Leisure", False),  # accents are Latin
        ("Housing 2", False),
        ("Hous\u202eing", True),  # a right-to-left override
        ("Hous\x07ing", True),  # a control character
    ],
)
def test_a_name_must_be_written_in_one_alphabet_without_hidden_characters(
    name: str, refused: bool
) -> None:
    if refused:
        with pytest.raises(cells.Invalid):
            cells.name(cells.Cell(name))
    else:
        assert cells.name(cells.Cell(name)) == name


def test_a_look_alike_service_is_refused_naming_the_cell(engine: Engine, tmp_path: Path) -> None:
    rows = [dict(METRICS[3]), {**METRICS[3], "Code": "SS-HOU-02", "Service": "Ноusing"}]
    with pytest.raises(WorkbookError) as refused:
        import_workbook(engine, write_book(tmp_path / "spoof.xlsx", rows, []), actor="t")
    message = str(refused.value)
    assert "Metrics!G3 (Service): 'Ноusing' mixes Cyrillic and Latin letters" in message
    assert "'Н' (U+041D), 'о' (U+043E) are Cyrillic" in message


# --- Reading a cell never takes more than linear time ------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["1" * 200_000 + "x", "1" * 200_000 + ".", "2015-16" + " " * 200_000 + "x"],
    ids=["digits then a letter", "digits then a point", "a period padded with spaces"],
)
def test_crafted_cell_text_is_refused_in_linear_time(text: str) -> None:
    started = time.perf_counter()
    with pytest.raises(cells.Invalid):
        cells.number(cells.Cell(text))
    with pytest.raises(cells.Invalid):
        cells.period("monthly")(cells.Cell(text))
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("text", "expected"),
    [("85", 85.0), ("85%", 85.0), ("-2.5", -2.5), ("+.5", 0.5), ("1e3", 1000.0), (" 7 ", 7.0)],
)
def test_number_text_reads_as_before(text: str, expected: float) -> None:
    assert cells.number(cells.Cell(text)) == expected


@pytest.mark.parametrize("text", ["nan", "inf", "1_000", "0x10", "--1", "1e", "e5", "١٢"])
def test_number_text_that_float_would_accept_is_still_refused(text: str) -> None:
    with pytest.raises(cells.Invalid):
        cells.number(cells.Cell(text))


def test_the_write_lock_is_taken_before_the_first_read(engine: Engine) -> None:
    """A second writer waits for the first: on SQLite its BEGIN IMMEDIATE times out."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's advisory lock is exercised by the concurrent import test")
    other = store.make_engine(_url(engine))
    with store.write(engine), other.connect() as connection:
        connection.exec_driver_sql("PRAGMA busy_timeout=100")
        with pytest.raises(Exception, match="locked"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
    other.dispose()
