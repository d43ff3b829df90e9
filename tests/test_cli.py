"""`python -m metrics` end to end on the demo council: init, status, workbooks, refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import copy_demo
from entry_council import MANAGER, OFFICER, TODAY, build
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session

from metrics import approval, cli, config, demo, entry, pipeline, views, workbook
from metrics.models import AuditLog, Metric, PeriodValue, User
from metrics.vocab import Assurance, Marking, Signal, Status

STATUS_HEADER = pipeline.STATUS_COLUMNS


@pytest.fixture
def database(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The test database, made the one the command line opens."""
    monkeypatch.setenv("SCORECARD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    config.settings.cache_clear()
    yield engine
    config.settings.cache_clear()


@pytest.fixture
def demo_database(
    demo_database: str,
    make_engine: Callable[[], Engine],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Engine]:
    """A copy of the session's demo council (loaded once, as `init --demo` loads it), made the
    one the command line opens; `test_init_demo_loads_...` runs the command itself."""
    engine = copy_demo(demo_database, make_engine, tmp_path)
    monkeypatch.setenv("SCORECARD_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    config.settings.cache_clear()
    yield engine
    engine.dispose()
    config.settings.cache_clear()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def status_rows(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, str]]:
    code, out, _ = run(capsys, "status", "--period", "2016-03", "--format", "csv", *extra)
    assert code == 0
    return list(csv.DictReader(io.StringIO(out)))


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_init_demo_loads_the_council_with_users_and_an_audit_trail(database: Engine) -> None:
    assert cli.main(["init", "--demo"]) == 0
    demo_database = database
    assert count(demo_database, Metric) == 120
    assert count(demo_database, User) == len(demo.DEMO_USERS)
    assert count(demo_database, PeriodValue) > 2000
    assert count(demo_database, AuditLog) >= count(demo_database, PeriodValue)


def test_init_demo_refuses_to_load_on_top_of_data(
    demo_database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    before = count(demo_database, PeriodValue), count(demo_database, AuditLog)
    code, _, err = run(capsys, "init", "--demo")
    assert code == 1
    assert "already holds metrics" in err
    assert (count(demo_database, PeriodValue), count(demo_database, AuditLog)) == before


def test_status_csv_prints_every_active_non_sensitive_metric_with_all_columns(
    demo_database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = status_rows(capsys)
    with Session(demo_database) as session:
        sensitive = set(
            session.exec(
                select(Metric.code).where(Metric.marking == Marking.OFFICIAL_SENSITIVE.value)
            ).scalars()
        )
    expected = views.status(demo_database, period="2016-03", clearance=Marking.OFFICIAL.value)
    assert list(rows[0]) == STATUS_HEADER
    assert [row["code"] for row in rows] == expected["code"].tolist()
    assert sensitive and not sensitive & {row["code"] for row in rows}
    for row in rows:
        rated = row["rag"] in {Status.RED, Status.AMBER, Status.GREEN}
        assert row["explanation"].startswith(row["rag"])
        assert row["rag"] in set(Status)
        assert row["dot_previous"] and row["dot_last_year"] and row["risk_level"]
        assert row["target"] or not rated
        assert (int(row["risk_score"]) > 0) == rated


def test_status_prints_each_measures_xmr_variation_and_assurance_last(
    demo_database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = status_rows(capsys)
    assert list(rows[0])[-2:] == ["spc_variation", "spc_assurance"]
    expected = views.status(demo_database, period="2016-03", clearance=Marking.OFFICIAL.value)
    assert [(r["spc_variation"], r["spc_assurance"]) for r in rows] == list(
        zip(expected["spc_variation"], expected["spc_assurance"], strict=True)
    )
    variations = {r["spc_variation"] for r in rows}
    assert variations <= {s.value for s in Signal} and len(variations) >= 3
    assert {r["spc_assurance"] for r in rows} <= {a.value for a in Assurance}
    for row in rows:
        if row["spc_variation"] == Signal.TOO_FEW_POINTS:
            assert row["spc_assurance"] == ""  # no limits to compare a target with


def test_status_includes_sensitive_measures_only_when_asked(
    demo_database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = {row["code"] for row in status_rows(capsys)}
    cleared = {row["code"] for row in status_rows(capsys, "--include-sensitive")}
    assert plain < cleared


def test_status_rates_quarterly_metrics_on_their_quarter_in_its_last_month(
    demo_database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    periods_shown = {row["period"] for row in status_rows(capsys)}
    assert periods_shown == {"2016-03", "2015-16 Q4", "2015-16"}
    _, out, _ = run(capsys, "status", "--period", "2016-02", "--format", "csv")
    assert {row["period"] for row in csv.DictReader(io.StringIO(out))} == {"2016-02"}


def test_status_filters_by_tier(demo_database: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    rows = status_rows(capsys, "--tier", "ME2E")
    assert rows and {row["tier"] for row in rows} == {"ME2E"}


@pytest.mark.parametrize("period", ["2016-13", "March", "2015-17"])
def test_status_refuses_an_unreadable_period(
    database: Engine, capsys: pytest.CaptureFixture[str], period: str
) -> None:
    code, out, err = run(capsys, "status", "--period", period)
    assert code == 1
    assert period in err and not out


def test_csv_text_cells_are_inert(
    demo_database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with Session(demo_database) as session:
        metric = session.exec(select(Metric).where(Metric.code == "CP01")).scalars().one()
        metric.title = '=HYPERLINK("http://example.invalid")'
        session.add(metric)
        session.commit()
    row = next(row for row in status_rows(capsys) if row["code"] == "CP01")
    assert row["title"].startswith("'=")


def test_workbook_round_trip_through_the_command_line(
    demo_database: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = tmp_path / "council.xlsx"
    assert run(capsys, "export-workbook", str(exported))[0] == 0
    code, out, _ = run(capsys, "import", str(exported))
    assert code == 0, out
    assert count(demo_database, Metric) == 120


def test_an_import_rates_the_month_the_dashboard_opens_on_before_anyone_asks(
    demo_database: Engine,
    make_engine: Callable[[], Engine],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    exported = workbook.export_workbook(
        demo_database, tmp_path / "council.xlsx", clearance="OFFICIAL-SENSITIVE"
    )
    database = make_engine()  # the command line now opens an empty database
    monkeypatch.setenv("SCORECARD_DATABASE_URL", database.url.render_as_string(hide_password=False))
    config.settings.cache_clear()
    code, out, err = run(capsys, "import", str(exported))
    assert code == 0, err
    assert "Rated March 2017 from submitted values, ready for the dashboard." in out
    assert "from approved values (the committee's view)" in out
    with database.connect() as connection:
        kept = connection.execute(
            text("SELECT period, approved_only, count(*) FROM kept_rating"
                 " WHERE whole GROUP BY period, approved_only")
        ).all()  # fmt: skip
    due = len(views.status(database, period="2017-03", clearance="OFFICIAL-SENSITIVE"))
    # every measure due in March 2017, of whatever frequency ("2016-17 Q4", "2016-17"), is kept
    assert sum(n for _, approved_only, n in kept if not approved_only) == due == 120


def test_rate_keeps_the_dashboards_months_again_after_they_were_forgotten(
    demo_database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with demo_database.begin() as connection:  # as after an upgrade or a change of the rules
        connection.execute(text("DELETE FROM kept_rating"))
    code, out, err = run(capsys, "rate")
    assert code == 0, err
    assert out.splitlines() == [
        "Rated March 2017 from submitted values, ready for the dashboard.",
        "Rated February 2017 from approved values (the committee's view), ready for the dashboard.",
    ]
    with demo_database.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM kept_rating")).scalar()


def test_rate_on_a_council_with_no_values_says_so(
    database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["init"]) == 0
    code, out, _ = run(capsys, "rate")
    assert code == 0
    assert out.splitlines()[-1] == "No values have been submitted yet, so there is nothing to rate."


def test_import_of_a_bad_file_exits_1_and_names_the_problem(
    demo_database: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "values.xlsx"
    bad.write_bytes(b"Code,Period,Actual\nCP01,2016-03,abc\n")
    before = count(demo_database, PeriodValue), count(demo_database, AuditLog)
    code, _, err = run(capsys, "import", str(bad))
    assert code == 1
    assert "nothing was changed" in err and "workbook" in err.lower()
    assert (count(demo_database, PeriodValue), count(demo_database, AuditLog)) == before


def test_template_writes_a_workbook_that_imports_cleanly(
    database: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blank = tmp_path / "blank.xlsx"
    assert run(capsys, "template", str(blank))[0] == 0
    code, _, err = run(capsys, "import", str(blank))
    assert code == 0, err
    assert count(database, Metric) == 0


def test_demo_council_survives_export_import_export_unchanged(
    demo_database: Engine, make_engine, tmp_path: Path
) -> None:
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    first = workbook.export_workbook(demo_database, first, clearance="OFFICIAL-SENSITIVE")
    empty = make_engine()
    workbook.import_workbook(empty, first, actor="test")
    second = workbook.export_workbook(empty, second, clearance="OFFICIAL-SENSITIVE")

    def cells(path: Path) -> dict[str, list[tuple]]:
        book = load_workbook(path, read_only=True)
        return {
            name: list(book[name].iter_rows(values_only=True)) for name in ("Metrics", "Values")
        }

    assert cells(first) == cells(second)
    assert len(cells(first)["Values"]) > 2000


def test_status_on_an_empty_database_says_nothing_is_due(
    database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "status", "--period", "2016-03") == (0, "No metric is due in 2016-03.\n", "")
    code, out, _ = run(capsys, "status", "--period", "2016-03", "--format", "csv")
    assert (code, out) == (0, ",".join(STATUS_HEADER) + "\n")


@pytest.mark.parametrize(
    "argv",
    [
        ("status", "--period", "2016-03"),
        ("export-workbook", "out.xlsx"),
        ("import", "in.xlsx"),
    ],
)
def test_commands_on_a_database_without_a_schema_say_run_init_first(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
) -> None:
    monkeypatch.setenv("SCORECARD_DATABASE_URL", f"sqlite:///{tmp_path}/typo.db")
    config.settings.cache_clear()
    code, out, err = run(capsys, *argv)
    config.settings.cache_clear()
    assert code == 1 and not out
    assert "has no schema: run `python -m metrics init` first" in err


def test_export_to_a_folder_is_refused_with_a_message(
    demo_database: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "export-workbook", str(tmp_path))
    assert code == 1
    assert err.startswith("error: ")


def test_status_csv_carries_each_values_approval_state(
    database: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    build(database)

    def saved(code: str, period: str = "2016-03", **typed: object) -> int:
        value = entry.save_value(
            database, user=MANAGER, entry=entry.Entry(code, period, 1, **typed), today=TODAY
        )
        return value.version

    def submit(code: str, version: int, period: str = "2016-03") -> int:
        entry.submit(database, user=MANAGER, seen={(code, period): version}, today=TODAY)
        return version + 1

    saved("HOU01", numerator=90, denominator=100)  # stays a draft
    submit("HOU02", saved("HOU02", actual=12))
    approval.approve(
        database,
        user=OFFICER,
        seen={("HOU03", "2016-03"): submit("HOU03", saved("HOU03", actual=7))},
    )
    quarter = "2015-16 Q4"
    approval.return_value(
        database,
        user=OFFICER,
        code="HOU04",
        period=quarter,
        seen_version=submit("HOU04", saved("HOU04", quarter, actual=95), quarter),
        reason="check the survey count",
    )
    code, out, _ = run(
        capsys, "status", "--period", "2016-03", "--format", "csv", "--today", "2016-05-20"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and list(rows[0]) == STATUS_HEADER
    assert STATUS_HEADER[-4:] == ["explanation", "approval", "spc_variation", "spc_assurance"]
    assert {row["code"]: row["approval"] for row in rows} == {
        "HOU01": "draft",
        "HOU02": "submitted",
        "HOU03": "approved",
        "HOU04": "returned",
        "COM01": "",  # a target is held but no value: nothing to approve
    }
    _, table, _ = run(capsys, "status", "--period", "2016-03", "--today", "2016-05-20")
    assert "approval" in table.splitlines()[0]


def test_a_text_table_aligns_each_column_shows_gaps_as_nothing_and_cuts_long_text() -> None:
    table = pd.DataFrame(
        {"code": ["CP01", "HOU10"], "actual": [72.5, None], "why": ["short", "x" * 30]}
    )
    lines = cli.text_table(table, widest=12).splitlines()
    assert lines == [
        " code actual          why",
        " CP01   72.5        short",
        "HOU10        xxxxxxxxx...",
    ]


def test_a_text_table_of_no_rows_is_its_headings_and_any_gap_is_nothing() -> None:
    empty = pd.DataFrame({"code": pd.Series([], dtype=object), "rag": pd.Series([], dtype=object)})
    assert cli.text_table(empty, widest=12) == "code rag"
    gaps = pd.DataFrame({"code": ["A", None], "n": pd.array([1, None], dtype="Int64")})
    assert cli.text_table(gaps, widest=12).splitlines() == ["code n", "   A 1", "      "]


def test_a_reader_that_stops_reading_ends_the_command_quietly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m metrics status ... | head`: the closed pipe is no error message."""

    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(cli, "_status", lambda args: print("x" * 10) or 0)
    monkeypatch.setattr("sys.stdout", Closed())
    assert cli.main(["status", "--period", "2016-03"]) == 1
    assert capsys.readouterr().err == ""
