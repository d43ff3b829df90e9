"""The template workbook: blank template, all-or-nothing import, export round trip, inert text."""

from __future__ import annotations

import copy
import os
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, func, text
from sqlmodel import Session, SQLModel, select

from metrics import store, workbook
from metrics.config import UploadLimits, settings
from metrics.inert import inert, revert
from metrics.models import (
    AuditLog,
    InitiativePriority,
    Metric,
    PeriodValue,
    Priority,
    Service,
    Team,
)
from metrics.workbook import Problem, WorkbookError, export_workbook, import_workbook

METRIC_HEADER = [column.name for column in workbook.METRIC_COLUMNS]
VALUE_HEADER = [column.name for column in workbook.VALUE_COLUMNS]

# Four measures, one per corner of the line of sight; rows 2 to 5 of the Metrics sheet.
METRICS: list[dict[str, Any]] = [
    {
        "Code": "CP01",
        "Title": "Homes built",
        "Tier": "Corporate Plan",
        "Priority": "Homes for all",
        "Unit": "number",
        "Polarity": "higher",
        "Frequency": "monthly",
        "Tolerance": "5%",
        "Risk impact": 3,
    },
    {
        "Code": "ME01",
        "Title": "Forms completed online",
        "Tier": "ME2E",
        "Priority": "Homes for all",
        "Initiative": "Digital first",
        "Aligned to": "CP01",
        "Unit": "percent",
        "Decimals": 1,
        "Polarity": "higher",
        "Frequency": "quarterly",
        "Tolerance": 2.5,
    },
    {
        "Code": "SS-CS-01",
        "Title": "Calls answered within 60 seconds",
        "Tier": "Service Standards",
        "Service": "Customer Services",
        "Team": "Contact Centre",
        "Aligned to": "ME01",
        "Unit": "percent",
        "Polarity": "band",
        "Frequency": "monthly",
        "Marking": "OFFICIAL-SENSITIVE",
    },
    {
        "Code": "SS-HOU-01",
        "Title": "Days to relet a council home",
        "Tier": "Service Standards",
        "Service": "Housing",
        "Team": "Lettings",
        "Unit": "days",
        "Polarity": "lower",
        "Frequency": "annual",
        "Aggregation": "mean",
        "Data only": "no",
    },
]

# Rows 2 to 6 of the Values sheet.
VALUES: list[dict[str, Any]] = [
    {
        "Code": "CP01",
        "Period": "2015-04",
        "Actual": 12,
        "Target": 10,
        "Commentary": "-5% on last month",
    },
    {"Code": "CP01", "Period": "2015-05", "Actual": 9, "Target": 10},
    {"Code": "ME01", "Period": "2015-16 Q1", "Numerator": 45, "Denominator": 50, "Target": 80},
    {
        "Code": "SS-CS-01",
        "Period": "2015-04",
        "Actual": 85,
        "Target": 80,
        "Target upper": 90,
        "Approval": "approved",
    },
    {"Code": "SS-HOU-01", "Period": "2015-16", "Actual": 21.5, "Target": 20},
]

# A new measure and value added to every refused workbook, so a partial write would show.
NEW_METRIC = {**METRICS[0], "Code": "NEW01", "Title": "A new measure", "Priority": "A new priority"}
NEW_VALUE = {"Code": "NEW01", "Period": "2015-06", "Actual": 1}


def write_book(
    path: Path,
    metrics: list[dict[str, Any]],
    values: list[dict[str, Any]],
    *,
    metric_header: list[str] | None = None,
    value_header: list[str] | None = None,
) -> Path:
    """A workbook with a Metrics and a Values sheet; keys not in the header become new columns."""
    book = openpyxl.Workbook()
    book.active.title = "Instructions"
    for title, rows, header in (
        ("Metrics", metrics, metric_header or METRIC_HEADER),
        ("Values", values, value_header or VALUE_HEADER),
    ):
        sheet = book.create_sheet(title)
        extra = [key for row in rows for key in row if key not in header]
        columns = [*header, *dict.fromkeys(extra)]
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(column) for column in columns])
    book.save(path)
    return path


def good_book(path: Path) -> Path:
    return write_book(path, METRICS, VALUES)


def row_counts(engine: Engine) -> dict[str, int]:
    """How many rows every table holds, and the data version."""
    with Session(engine) as session:
        counts = {
            table.name: session.exec(select(func.count()).select_from(table)).one()
            for table in SQLModel.metadata.sorted_tables
        }
    return {**counts, "data version": store.data_version(engine)}


def held_value(session: Session, code: str, period: str) -> PeriodValue:
    query = (
        select(PeriodValue).join(Metric).where(Metric.code == code, PeriodValue.period == period)
    )
    return session.exec(query).one()


def cells(path: Path) -> dict[str, list[list[Any]]]:
    """Every cell value of every sheet."""
    book = openpyxl.load_workbook(path)
    return {sheet.title: [[c.value for c in row] for row in sheet.iter_rows()] for sheet in book}


def refusal(engine: Engine, path: Path, **kwargs: Any) -> str:
    """The refusal message, after checking that the database did not change."""
    before = row_counts(engine)
    with pytest.raises(WorkbookError) as caught:
        import_workbook(engine, path, actor="tester", **kwargs)
    assert row_counts(engine) == before
    return str(caught.value)


# --- The blank template ---------------------------------------------------------------------


def test_template_has_instructions_metrics_and_values_with_drop_downs(tmp_path: Path) -> None:
    path = tmp_path / "blank.xlsx"
    workbook.write_template(path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Instructions", "Metrics", "Values"]
    assert [c.value for c in book["Metrics"][1]] == METRIC_HEADER
    assert [c.value for c in book["Values"][1]] == VALUE_HEADER
    dropped = {
        book[sheet].cell(1, next(iter(rule.sqref.ranges)).min_col).value: rule.formula1
        for sheet in ("Metrics", "Values")
        for rule in book[sheet].data_validations.dataValidation
    }
    assert set(dropped) >= {
        "Tier",
        "Polarity",
        "Frequency",
        "Aggregation",
        "Unit",
        "Marking",
        "Data only",
        "Approval",
    }
    assert dropped["Polarity"] == '"higher,lower,band"'
    assert book["Metrics"].freeze_panes == "A2"
    assert book["Values"].freeze_panes == "A2"
    explained = {row[1] for row in book["Instructions"].iter_rows(values_only=True)}
    assert set(METRIC_HEADER) | set(VALUE_HEADER) <= explained


def test_blank_template_imports_as_nothing(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "blank.xlsx"
    workbook.write_template(path)
    result = import_workbook(engine, path, actor="tester")
    assert result == workbook.ImportResult()


# --- A good import --------------------------------------------------------------------------


def test_good_import_creates_the_line_of_sight(engine: Engine, tmp_path: Path) -> None:
    result = import_workbook(engine, good_book(tmp_path / "good.xlsx"), actor="tester")
    assert (result.metrics_created, result.values_created) == (4, 5)
    assert (result.priorities_created, result.initiatives_created) == (1, 1)
    assert (result.services_created, result.teams_created, result.links_created) == (2, 2, 1)
    with Session(engine) as session:
        metric = {m.code: m for m in session.exec(select(Metric)).all()}
        assert {p.code for p in session.exec(select(Priority)).all()} == {"homes-for-all"}
        teams = {t.code for t in session.exec(select(Team)).all()}
        assert teams == {"customer-services/contact-centre", "housing/lettings"}
        assert session.exec(select(InitiativePriority)).one()
        assert metric["SS-CS-01"].aligned_to_id == metric["ME01"].id
        assert metric["SS-CS-01"].marking == "OFFICIAL-SENSITIVE"
        value = session.exec(select(PeriodValue).where(PeriodValue.period == "2015-16 Q1")).one()
        assert (value.actual, value.fiscal_year, str(value.period_end)) == (
            90.0,
            "2015-16",
            "2015-06-30",
        )
        assert (value.status, value.entered_by, value.version) == ("submitted", "tester", 1)
        approved = session.exec(select(PeriodValue).where(PeriodValue.status == "approved")).one()
        assert approved.approved_by == "tester"
        assert session.exec(select(AuditLog).where(AuditLog.action == "create")).all()
    assert store.data_version(engine) == 1


@pytest.mark.parametrize(
    ("cell", "unit", "attribute", "expected"),
    [
        ({}, "number", "decimals", settings().metric_defaults.decimals),
        ({}, "number", "risk_impact", settings().metric_defaults.risk_impact),
        ({}, "number", "marking", settings().metric_defaults.marking),
        ({}, "number", "aggregation", "sum"),  # a count adds up
        ({}, "percent", "aggregation", "ratio"),  # a percentage is a ratio of sums
        ({}, "number", "tolerance", None),  # the rating engine's default applies
        ({}, "number", "data_only", False),
        ({"Tolerance": "5%"}, "number", "tolerance", 5.0),
        ({"Tolerance": "5%"}, "number", "tolerance_is_percent", True),
        ({"Tolerance": 2.5}, "number", "tolerance_is_percent", False),
        ({"Tolerance": "2.5"}, "number", "tolerance", 2.5),
        ({"Data only": "Y"}, "number", "data_only", True),
        ({"Data only": 0}, "number", "data_only", False),
        ({"Marking": " official-sensitive "}, "number", "marking", "OFFICIAL-SENSITIVE"),
        ({"Tier": "me2e"}, "number", "tier", "ME2E"),
        ({"Polarity": "LOWER"}, "number", "polarity", "lower"),
        ({"Active from": "2015-16"}, "number", "active_from", "2015-04"),
        ({"Active to": "2016-17 Q2"}, "number", "active_to", "2016-09"),
        ({"Active from": datetime(2015, 5, 17)}, "number", "active_from", "2015-05"),
    ],
)
def test_blank_and_coded_cells_become_canonical_values(
    engine: Engine, tmp_path: Path, cell: dict, unit: str, attribute: str, expected: Any
) -> None:
    row = {
        "Code": "X1",
        "Title": "A measure",
        "Tier": "Corporate Plan",
        "Unit": unit,
        "Polarity": "higher",
        "Frequency": "monthly",
        **cell,
    }
    import_workbook(engine, write_book(tmp_path / "one.xlsx", [row], []), actor="tester")
    with Session(engine) as session:
        assert getattr(session.exec(select(Metric)).one(), attribute) == expected


@pytest.mark.parametrize(
    ("unit", "aggregation", "value", "expected"),
    [
        ("percent", "ratio", {"Numerator": 45, "Denominator": 50}, 90.0),  # x 100 for a percent
        ("ratio", "mean", {"Numerator": 3, "Denominator": 4}, 0.75),
        ("percent", "ratio", {"Actual": 88, "Numerator": 45, "Denominator": 50}, 88.0),
        ("percent", "ratio", {"Actual": "85%"}, 85.0),
        ("number", "sum", {"Actual": "12"}, 12.0),
        ("number", "sum", {"Actual": "'-0"}, 0.0),  # what inert made of a text "-0"
    ],
)
def test_actual_from_the_row(
    engine: Engine, tmp_path: Path, unit: str, aggregation: str, value: dict, expected: float
) -> None:
    metric = {**METRICS[0], "Unit": unit, "Aggregation": aggregation, "Priority": None}
    path = write_book(
        tmp_path / "one.xlsx", [metric], [{"Code": "CP01", "Period": "2015-04", **value}]
    )
    import_workbook(engine, path, actor="tester")
    with Session(engine) as session:
        assert session.exec(select(PeriodValue.actual)).one() == pytest.approx(expected)


def test_a_cell_shown_as_a_percentage_imports_as_shown(engine: Engine, tmp_path: Path) -> None:
    path = write_book(tmp_path / "pct.xlsx", [{**METRICS[2], "Aligned to": None}], [])
    book = openpyxl.load_workbook(path)
    book["Values"].append(["SS-CS-01", "2015-04", 0.85])
    book["Values"]["C2"].number_format = "0%"
    book.save(path)
    import_workbook(engine, path, actor="tester")
    with Session(engine) as session:
        assert session.exec(select(PeriodValue.actual)).one() == pytest.approx(85.0)


def test_headers_ignore_case_spacing_order_and_unknown_columns(
    engine: Engine, tmp_path: Path
) -> None:
    header = ["  frequency", "POLARITY", "unit ", "tier", "title", "CODE", "Notes"]
    row = {
        "  frequency": "monthly",
        "POLARITY": "higher",
        "unit ": "number",
        "tier": "Corporate Plan",
        "title": "Homes built",
        "CODE": "CP01",
        "Notes": "ignored",
    }
    values = [{"code": "cp01", "PERIOD": datetime(2015, 4, 30), "actual": 3}]
    path = write_book(
        tmp_path / "odd.xlsx",
        [row],
        values,
        metric_header=header,
        value_header=["code", "PERIOD", "actual"],
    )
    result = import_workbook(engine, path, actor="tester")
    assert (result.metrics_created, result.values_created) == (1, 1)
    with Session(engine) as session:
        assert session.exec(select(PeriodValue.period)).one() == "2015-04"


def test_lgbf_style_quarter_is_stored_with_the_council_label(
    engine: Engine, tmp_path: Path
) -> None:
    values = [{"Code": "ME01", "Period": "2018-19;Q4", "Actual": 50}]
    import_workbook(engine, write_book(tmp_path / "q.xlsx", METRICS[:2], values), actor="t")
    with Session(engine) as session:
        value = session.exec(select(PeriodValue)).one()
    assert (value.period, value.fiscal_year, str(value.period_end)) == (
        "2018-19 Q4",
        "2018-19",
        "2019-03-31",
    )


def test_names_that_share_a_slug_stay_apart_with_distinct_codes(
    engine: Engine, tmp_path: Path
) -> None:
    metrics = [
        {**METRICS[3], "Code": "A1", "Service": "Customer Services", "Team": None},
        {**METRICS[3], "Code": "A2", "Service": "customer  services", "Team": None},  # the same
        {**METRICS[3], "Code": "A3", "Service": "Customer-Services", "Team": None},  # another
    ]
    import_workbook(engine, write_book(tmp_path / "s.xlsx", metrics, []), actor="tester")
    with Session(engine) as session:
        services = {s.code: s.name for s in session.exec(select(Service)).all()}
    assert services == {
        "customer-services": "Customer Services",
        "customer-services-2": "Customer-Services",
    }


# --- Importing again ------------------------------------------------------------------------


def test_reimporting_the_same_workbook_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = good_book(tmp_path / "good.xlsx")
    import_workbook(engine, path, actor="tester")
    audit_rows = row_counts(engine)["audit_log"]
    result = import_workbook(engine, path, actor="someone else")
    assert (result.metrics_unchanged, result.values_unchanged) == (4, 5)
    assert result.metrics_created + result.metrics_updated + result.values_created == 0
    assert result.values_updated == 0
    assert row_counts(engine)["audit_log"] == audit_rows


def test_updating_a_value_audits_each_changed_field_with_old_and_new(
    engine: Engine, tmp_path: Path
) -> None:
    import_workbook(engine, good_book(tmp_path / "first.xlsx"), actor="tester")
    values = copy.deepcopy(VALUES)
    values[0].update({"Actual": 13, "Commentary": "revised after audit"})
    second = write_book(tmp_path / "second.xlsx", METRICS, values)
    result = import_workbook(engine, second, actor="officer")
    assert (result.values_updated, result.values_unchanged) == (1, 4)
    with Session(engine) as session:
        trail = session.exec(
            select(AuditLog).where(
                AuditLog.entity_key == "CP01/2015-04", AuditLog.action == "import"
            )
        ).all()
        value = held_value(session, "CP01", "2015-04")
    changed = {(a.field_name, a.old_value, a.new_value) for a in trail}
    assert changed == {
        ("actual", "12.0", "13.0"),
        ("commentary", "-5% on last month", "revised after audit"),
    }
    assert {(a.entity, a.actor, a.reason) for a in trail} == {
        ("period_value", "officer", "workbook import second.xlsx")
    }
    assert (value.version, value.entered_by, value.actual) == (2, "officer", 13.0)


def test_updating_a_metric_audits_the_change_and_bumps_its_version(
    engine: Engine, tmp_path: Path
) -> None:
    import_workbook(engine, good_book(tmp_path / "first.xlsx"), actor="tester")
    metrics = copy.deepcopy(METRICS)
    metrics[2].update({"Title": "Calls answered within 30 seconds", "Team": "Reception"})
    result = import_workbook(engine, write_book(tmp_path / "b.xlsx", metrics, VALUES), actor="a")
    assert (result.metrics_updated, result.metrics_unchanged, result.teams_created) == (1, 3, 1)
    with Session(engine) as session:
        trail = session.exec(select(AuditLog).where(AuditLog.entity_key == "SS-CS-01")).all()
        metric = session.exec(select(Metric).where(Metric.code == "SS-CS-01")).one()
    changes = {(a.field_name, a.old_value, a.new_value) for a in trail if a.action == "import"}
    assert changes == {
        ("title", "Calls answered within 60 seconds", "Calls answered within 30 seconds"),
        ("team", "Contact Centre", "Reception"),
    }
    assert metric.version == 2


def test_a_metric_without_values_may_change_frequency_and_unit(
    engine: Engine, tmp_path: Path
) -> None:
    import_workbook(engine, write_book(tmp_path / "a.xlsx", METRICS[:1], []), actor="tester")
    metric = {**METRICS[0], "Frequency": "quarterly", "Unit": "percent"}
    import_workbook(engine, write_book(tmp_path / "b.xlsx", [metric], []), actor="tester")
    with Session(engine) as session:
        held = session.exec(select(Metric)).one()
    assert (held.frequency, held.unit) == ("quarterly", "percent")


def test_a_unit_change_that_keeps_percent_out_is_allowed(engine: Engine, tmp_path: Path) -> None:
    import_workbook(engine, good_book(tmp_path / "a.xlsx"), actor="tester")
    metrics = copy.deepcopy(METRICS)
    metrics[3]["Unit"] = "number"  # days to number: values stay what they were
    result = import_workbook(engine, write_book(tmp_path / "b.xlsx", metrics, []), actor="t")
    assert result.metrics_updated == 1


def test_a_blank_values_cell_leaves_what_is_held(engine: Engine, tmp_path: Path) -> None:
    import_workbook(engine, good_book(tmp_path / "first.xlsx"), actor="tester")
    values = [{"Code": "CP01", "Period": "2015-04", "Actual": 14}]  # no target, no commentary
    import_workbook(engine, write_book(tmp_path / "b.xlsx", [], values), actor="tester")
    with Session(engine) as session:
        value = held_value(session, "CP01", "2015-04")
    assert (value.actual, value.target, value.commentary) == (14.0, 10.0, "-5% on last month")


def test_a_changed_approved_value_goes_back_to_submitted(engine: Engine, tmp_path: Path) -> None:
    import_workbook(engine, good_book(tmp_path / "first.xlsx"), actor="tester")
    values = [{"Code": "SS-CS-01", "Period": "2015-04", "Actual": 86}]
    import_workbook(engine, write_book(tmp_path / "b.xlsx", [], values), actor="manager")
    with Session(engine) as session:
        value = session.exec(select(PeriodValue).where(PeriodValue.actual == 86)).one()
    assert (value.status, value.approved_by) == ("submitted", "")


def test_a_values_row_with_nothing_in_it_is_skipped(engine: Engine, tmp_path: Path) -> None:
    values = [{"Code": "CP01", "Period": "2015-04"}]
    path = write_book(tmp_path / "empty.xlsx", METRICS[:1], values)
    result = import_workbook(engine, path, actor="tester")
    assert (result.values_created, result.values_skipped) == (0, 1)


# --- Bad input: every problem named, nothing written ----------------------------------------


def _set(sheet: str, index: int, column: str, value: Any):  # type: ignore[no-untyped-def]
    def change(metrics: list[dict], values: list[dict]) -> None:
        (metrics if sheet == "Metrics" else values)[index][column] = value

    return change


def _append(sheet: str, row: dict[str, Any]):  # type: ignore[no-untyped-def]
    def change(metrics: list[dict], values: list[dict]) -> None:
        (metrics if sheet == "Metrics" else values).append(dict(row))

    return change


BAD_CELLS = [
    (
        "not an e-mail address",
        _set("Metrics", 3, "Responsible e-mail", "head of housing"),
        "Metrics!Y5 (Responsible e-mail): 'head of housing' is not an e-mail address",
    ),
    (
        "unknown tier",
        _set("Metrics", 0, "Tier", "Cabinet"),
        "Metrics!D2 (Tier): 'Cabinet' is not a tier",
    ),
    (
        "unknown polarity",
        _set("Metrics", 0, "Polarity", "up"),
        "Metrics!L2 (Polarity): 'up' is not a polarity",
    ),
    (
        "unknown frequency",
        _set("Metrics", 0, "Frequency", "weekly"),
        "Metrics!M2 (Frequency): 'weekly'",
    ),
    (
        "unknown aggregation",
        _set("Metrics", 0, "Aggregation", "median"),
        "Metrics!N2 (Aggregation): 'median'",
    ),
    (
        "unknown unit",
        _set("Metrics", 0, "Unit", "litres"),
        "Metrics!J2 (Unit): 'litres' is not a unit",
    ),
    (
        "unknown marking",
        _set("Metrics", 0, "Marking", "SECRET"),
        "Metrics!Q2 (Marking): 'SECRET' is not a protective",
    ),
    (
        "blank required cell",
        _set("Metrics", 0, "Title", None),
        "Metrics!B2 (Title): this column is required",
    ),
    (
        "text in a number column",
        _set("Metrics", 0, "Decimals", "two"),
        "Metrics!K2 (Decimals): 'two' is not a number",
    ),
    (
        "risk impact out of range",
        _set("Metrics", 0, "Risk impact", 4),
        "Metrics!P2 (Risk impact): '4' is not a whole number from 1 to 3",
    ),
    (
        "data only not yes or no",
        _set("Metrics", 0, "Data only", "maybe"),
        "Metrics!R2 (Data only): 'maybe' is not yes or no",
    ),
    (
        "negative tolerance",
        _set("Metrics", 0, "Tolerance", -1),
        "Metrics!O2 (Tolerance): '-1' is negative",
    ),
    (
        "code too long",
        _set("Metrics", 3, "Code", "X" * 41),
        "Metrics!A5 (Code): 'XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX...' is longer than 40",
    ),
    (
        "code with a space",
        _set("Metrics", 3, "Code", "SS HOU 01"),
        "Metrics!A5 (Code): 'SS HOU 01' is not a code",
    ),
    (
        "title too long",
        _set("Metrics", 0, "Title", "T" * 301),
        "Metrics!B2 (Title): the text is 301 characters; the limit is 300",
    ),
    (
        "team without its service",
        _set("Metrics", 2, "Service", None),
        "Metrics!H4 (Team): a team needs its Service",
    ),
    (
        "aligned to an unknown code",
        _set("Metrics", 1, "Aligned to", "CP99"),
        "Metrics!I3 (Aligned to): no metric has the code 'CP99'",
    ),
    (
        "aligned to itself",
        _set("Metrics", 1, "Aligned to", "me01"),
        "Metrics!I3 (Aligned to): a metric cannot be aligned to itself",
    ),
    (
        "duplicate metric code",
        _append("Metrics", {**METRICS[0], "Code": "cp01"}),
        "Metrics!A7 (Code): the code 'cp01' is already on row 2",
    ),
    (
        "text in the Actual column",
        _set("Values", 0, "Actual", "abc"),
        "Values!C2 (Actual): 'abc' is not a number",
    ),
    (
        "frequency of a metric with values",
        _set("Metrics", 0, "Frequency", "quarterly"),
        "Metrics!M2 (Frequency): CP01 already holds values, so its frequency cannot change "
        "from monthly to quarterly",
    ),
    (
        "unit of a metric with values from percent",
        _set("Metrics", 1, "Unit", "number"),
        "Metrics!J3 (Unit): ME01 already holds values, so its unit cannot change from percent "
        "to number",
    ),
    (
        "unit of a metric with values to percent",
        _set("Metrics", 3, "Unit", "percent"),
        "Metrics!J5 (Unit): SS-HOU-01 already holds values, so its unit cannot change",
    ),
    (
        "number too large",
        _set("Values", 0, "Actual", 2e15),
        "Values!C2 (Actual): 2e+15 is larger than 1e+15 in size",
    ),
    (
        "ratio too large to hold",
        _append(
            "Values", {"Code": "CP01", "Period": "2015-06", "Numerator": 1e15, "Denominator": 1e-10}
        ),
        "Values!D8 (Numerator): the numerator over the denominator is 1e+25, too large to hold",
    ),
    (
        "percent over 100",
        _set("Values", 3, "Actual", 101),
        "Values!C5 (Actual): 101 is outside 0 to 100",
    ),
    (
        "percent target under 0",
        _set("Values", 3, "Target", -1),
        "Values!F5 (Target): -1 is outside 0 to 100",
    ),
    (
        "percent upper target over 100",
        _set("Values", 3, "Target upper", 120),
        "Values!G5 (Target upper): 120 is outside 0 to 100",
    ),
    (
        "ratio over 100 percent",
        _set("Values", 2, "Numerator", 55),
        "Values!D4 (Numerator): 110 is outside 0 to 100",
    ),
    (
        "negative count",
        _set("Values", 0, "Actual", -3),
        "Values!C2 (Actual): -3 is negative; a count is 0 or more",
    ),
    (
        "count not whole",
        _set("Values", 0, "Actual", 2.5),
        "Values!C2 (Actual): 2.5 is not a whole number",
    ),
    (
        "denominator 0",
        _set("Values", 2, "Denominator", 0),
        "Values!E4 (Denominator): the denominator is 0",
    ),
    (
        "band upper below target",
        _set("Values", 3, "Target upper", 70),
        "Values!G5 (Target upper): the upper target 70 is below the target 80",
    ),
    (
        "unparseable period",
        _set("Values", 0, "Period", "April 2015"),
        "Values!B2 (Period): 'April 2015' is not a period",
    ),
    ("impossible financial year", _set("Values", 4, "Period", "2015-17"), "Values!B6 (Period): "),
    (
        "period of the wrong frequency",
        _set("Values", 0, "Period", "2015-16 Q1"),
        "Values!B2 (Period): '2015-16 Q1' is a quarterly period but the metric is monthly",
    ),
    (
        "value for an unknown metric",
        _set("Values", 0, "Code", "XX01"),
        "Values!A2 (Code): no metric has the code 'XX01'",
    ),
    (
        "unknown approval state",
        _set("Values", 0, "Approval", "done"),
        "Values!J2 (Approval): 'done' is not an approval state",
    ),
    (
        "commentary too long",
        _set("Values", 0, "Commentary", "x" * 4001),
        "Values!H2 (Commentary): the text is 4,001 characters; the limit is 4,000",
    ),
    (
        "duplicate code and period",
        _append("Values", {"Code": "cp01", "Period": "2015-04", "Actual": 1}),
        "Values!B8 (Period): CP01 2015-04 is already on row 2",
    ),
    (
        "same quarter written two ways",
        _append("Values", {"Code": "ME01", "Period": "2015-16;Q1", "Actual": 1}),
        "Values!B8 (Period): ME01 2015-16 Q1 is already on row 4",
    ),
    (
        "formula in a value",
        _set("Values", 0, "Target", "=1+1"),
        "Values!F2 (Target): the cell holds a formula ('=1+1')",
    ),
    (
        "formula in a metric",
        _set("Metrics", 0, "Title", '=HYPERLINK("http://x")'),
        "Metrics!B2 (Title): the cell holds a formula",
    ),
    (
        "formula in an ignored column",
        _set("Values", 0, "Notes", "=A1"),
        "Values!K2: the cell holds a formula",
    ),
]


@pytest.mark.parametrize(
    ("change", "expected"), [c[1:] for c in BAD_CELLS], ids=[c[0] for c in BAD_CELLS]
)
def test_refused_import_names_the_cell_and_leaves_database_unchanged(
    engine: Engine, tmp_path: Path, change, expected: str | None
) -> None:
    import_workbook(engine, good_book(tmp_path / "good.xlsx"), actor="tester")
    metrics, values = copy.deepcopy(METRICS), copy.deepcopy(VALUES)
    change(metrics, values)
    metrics.insert(len(METRICS), dict(NEW_METRIC))  # would be written if anything were
    values.insert(len(VALUES), dict(NEW_VALUE))
    message = refusal(engine, write_book(tmp_path / "bad.xlsx", metrics, values))
    assert expected is None or expected in message, message


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("housing@council.gov.uk", "housing@council.gov.uk"),
        ("  Housing.Team@Council.gov.uk ", "Housing.Team@Council.gov.uk"),  # trimmed, case kept
        ("", ""),  # blank: no e-mail
        ("a@b.c", "a@b.c"),  # the shortest that reads
        ("housing", None),  # no @
        ("@council.gov.uk", None),  # no mailbox
        ("housing@council", None),  # a domain without a dot
        ("housing@council..gov.uk", None),  # an empty label
        ("housing@@council.gov.uk", None),  # two @
        ("head of housing@council.gov.uk", None),  # a space
        ("housing@council.gov.uk\n", "housing@council.gov.uk"),  # a trailing newline trimmed
        ("housing\u200b@council.gov.uk", None),  # a hidden character
        ("h" * 310 + "@council.gov.uk", None),  # longer than 320
    ],
)
def test_a_responsible_e_mail_cell(typed: Any, expected: str | None) -> None:
    cell = workbook.Cell(typed.encode().decode("unicode_escape") if typed else typed)
    if expected is None:
        with pytest.raises(workbook.Invalid):
            workbook.cells.email(cell)
    else:
        assert workbook.cells.email(cell) == expected


def test_the_responsible_e_mail_round_trips_and_an_absent_column_keeps_it(
    engine: Engine, tmp_path: Path
) -> None:
    metrics = copy.deepcopy(METRICS)
    metrics[3]["Responsible e-mail"] = "housing.team@council.gov.uk"
    import_workbook(engine, write_book(tmp_path / "in.xlsx", metrics, VALUES), actor="t")
    exported = export_workbook(engine, tmp_path / "out.xlsx", clearance="OFFICIAL-SENSITIVE")
    header, *rows = cells(exported)["Metrics"]
    column = header.index("Responsible e-mail")
    assert {row[0]: row[column] for row in rows}[metrics[3]["Code"]] == metrics[3][
        "Responsible e-mail"
    ]
    without = [c.name for c in workbook.METRIC_COLUMNS if c.name != "Responsible e-mail"]
    import_workbook(
        engine,
        write_book(tmp_path / "old.xlsx", METRICS, VALUES, metric_header=without),
        actor="t",
    )
    with Session(engine) as session:
        held = session.exec(select(Metric.code, Metric.responsible_email)).all()
    assert dict(held)[metrics[3]["Code"]] == "housing.team@council.gov.uk"


@pytest.mark.parametrize("value", [10**400, float("inf"), float("nan"), "1e400", -2e15])
def test_a_number_cell_must_be_finite_and_of_sane_size(value: Any) -> None:
    """A long run of digits reads as an int float() cannot hold: a Problem, not a crash."""
    with pytest.raises(workbook.Invalid):
        workbook.number_parts(workbook.Cell(value))


def test_active_to_before_active_from_is_refused(engine: Engine, tmp_path: Path) -> None:
    metric = {**METRICS[0], "Active from": "2016-04", "Active to": "2015-04"}
    message = refusal(engine, write_book(tmp_path / "bad.xlsx", [metric], []))
    assert "Metrics!W2 (Active to): 2015-04 is before Active from 2016-04" in message


def test_a_sheet_the_import_does_not_read_is_never_parsed(engine: Engine, tmp_path: Path) -> None:
    """Only Metrics and Values are read: a formula on a scratch sheet is ignored with it."""
    path = good_book(tmp_path / "good.xlsx")
    book = openpyxl.load_workbook(path)
    book.create_sheet("Scratch")["B3"] = "=SUM(A1:A2)"
    book.save(path)
    assert import_workbook(engine, path, actor="tester").values_created == len(VALUES)


def test_stray_far_right_cells_are_ignored_but_their_formulas_refused(
    engine: Engine, tmp_path: Path
) -> None:
    """Column XFD on every row: only the recognised columns are read (and no sheet is padded)."""
    values = [{"Code": "CP01", "Period": f"{2015 + n // 12}-{n % 12 + 1:02d}"} for n in range(240)]
    for row in values:
        row["Actual"] = 1
    path = write_book(tmp_path / "wide.xlsx", METRICS[:1], values)
    book = openpyxl.load_workbook(path)
    scratch = book.create_sheet("Scratch")
    for number in range(1, 2001):
        book["Values"].cell(row=number, column=16384, value="stray")
        scratch.cell(row=number, column=16384, value="stray")
    book.save(path)
    result = import_workbook(engine, path, actor="tester")
    assert result.values_created == 240
    book["Values"]["XFD5"] = "=1+1"
    book.save(path)
    assert "Values!XFD5: the cell holds a formula ('=1+1')" in refusal(engine, path)


def test_every_problem_is_listed_up_to_a_cap(engine: Engine, tmp_path: Path) -> None:
    values = [{"Code": "CP01", "Period": f"bad {n}"} for n in range(250)]
    with pytest.raises(WorkbookError) as caught:
        import_workbook(engine, write_book(tmp_path / "bad.xlsx", METRICS[:1], values), actor="t")
    problems = caught.value.problems
    assert caught.value.total == 250
    assert len(problems) == workbook.MAX_PROBLEMS + 1
    assert str(problems[-1]) == "... and 50 more"


@pytest.mark.parametrize(
    ("problem", "shown"),
    [
        (
            Problem("Values", 14, "Actual", "'abc' is not a number", "D14"),
            "Values!D14 (Actual): 'abc' is not a number",
        ),
        (Problem("Metrics", 1, "Polarity", "missing"), "Metrics row 1 (Polarity): missing"),
        (Problem("Values", None, None, "no sheet"), "Values: no sheet"),
        (Problem("", None, None, "book.xlsx is empty"), "book.xlsx is empty"),
    ],
)
def test_a_problem_reads_as_sheet_cell_column_and_reason(problem: Problem, shown: str) -> None:
    assert str(problem) == shown


# --- Bad files: refused before their rows are read ------------------------------------------


def test_missing_sheet_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = good_book(tmp_path / "good.xlsx")
    book = openpyxl.load_workbook(path)
    del book["Values"]
    book.save(path)
    assert "Values: the workbook has no 'Values' sheet" in refusal(engine, path)


def test_missing_required_header_is_refused(engine: Engine, tmp_path: Path) -> None:
    header = [name for name in METRIC_HEADER if name != "Polarity"]
    metrics = [{k: v for k, v in row.items() if k != "Polarity"} for row in METRICS]
    path = write_book(tmp_path / "bad.xlsx", metrics, VALUES, metric_header=header)
    message = refusal(engine, path)
    assert "Metrics row 1 (Polarity): the required column 'Polarity' is missing" in message


def _zip_without_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "bad.xlsx is empty"),
        (b"Code,Period,Actual\nCP01,2015-04,12\n", "bad.xlsx is not an Excel workbook"),
        (os.urandom(4096), "bad.xlsx is not an Excel workbook"),
        (_zip_without_workbook, "bad.xlsx is not an Excel workbook"),
    ],
    ids=["empty file", "csv renamed", "random bytes", "a zip that is not a workbook"],
)
def test_a_file_that_is_not_a_workbook_is_refused(
    engine: Engine, tmp_path: Path, content, expected: str
) -> None:
    path = tmp_path / "bad.xlsx"
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)
    assert expected in refusal(engine, path)


def test_a_truncated_workbook_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = good_book(tmp_path / "good.xlsx")
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) * 2 // 3])
    assert "good.xlsx" in refusal(engine, path)


def _rewrite_member(path: Path, member: str, change) -> None:  # type: ignore[no-untyped-def]
    """Rewrite one file inside the xlsx zip."""
    with zipfile.ZipFile(path) as archive:
        contents = {info.filename: archive.read(info) for info in archive.infolist()}
    contents[member] = change(contents[member])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


def test_an_xml_entity_bomb_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = good_book(tmp_path / "bomb.xlsx")
    bomb = (
        b'<?xml version="1.0"?>'
        b'<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    )

    def add_doctype(xml: bytes) -> bytes:
        return bomb + xml.replace(b"<t>Homes built</t>", b"<t>&lol2;</t>")

    _rewrite_member(path, "xl/worksheets/sheet2.xml", add_doctype)  # the Metrics sheet
    message = refusal(engine, path)
    assert "bomb.xlsx cannot be read as an Excel workbook: EntitiesForbidden" in message


def _no_parsing(*_args: Any, **_kwargs: Any) -> None:
    raise AssertionError("the workbook was parsed")


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (UploadLimits(max_file_bytes=1000), "good.xlsx is {size} bytes; the limit is 1,000"),
        (UploadLimits(max_uncompressed_bytes=5000), "good.xlsx unpacks to"),
        (UploadLimits(max_rows=5), "good.xlsx: a sheet declares 6 rows; the limit is 5"),
    ],
    ids=["file size", "uncompressed size", "declared rows"],
)
def test_caps_refuse_before_parsing(
    engine: Engine, tmp_path: Path, monkeypatch, limits: UploadLimits, expected: str
) -> None:
    path = good_book(tmp_path / "good.xlsx")
    monkeypatch.setattr(openpyxl, "load_workbook", _no_parsing)
    message = refusal(engine, path, limits=limits)
    assert expected.format(size=f"{path.stat().st_size:,}") in message


def _lie_about_dimension(path: Path) -> None:
    def lie(xml: bytes) -> bytes:
        start = xml.index(b"<dimension")
        return xml[:start] + b'<dimension ref="A1:B2"/>' + xml[xml.index(b"/>", start) + 2 :]

    _rewrite_member(path, "xl/worksheets/sheet3.xml", lie)  # the Values sheet


def test_rows_are_counted_even_when_the_declared_size_lies(engine: Engine, tmp_path: Path) -> None:
    path = good_book(tmp_path / "good.xlsx")
    _lie_about_dimension(path)
    message = refusal(engine, path, limits=UploadLimits(max_rows=5))
    assert "Values: the sheet has more than 5 rows (the limit)" in message


def test_rows_past_a_lying_declared_size_are_still_imported(engine: Engine, tmp_path: Path) -> None:
    path = good_book(tmp_path / "good.xlsx")
    _lie_about_dimension(path)
    assert import_workbook(engine, path, actor="tester").values_created == len(VALUES)


def test_defusedxml_guards_openpyxl() -> None:
    assert openpyxl.DEFUSEDXML is True


def test_import_refuses_to_run_without_defusedxml(
    engine: Engine, tmp_path: Path, monkeypatch
) -> None:
    path = good_book(tmp_path / "good.xlsx")
    monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
    before = row_counts(engine)
    with pytest.raises(RuntimeError, match="defusedxml"):
        import_workbook(engine, path, actor="tester")
    assert row_counts(engine) == before


# --- Export ---------------------------------------------------------------------------------

AWKWARD_TEXT = [
    "-5% on last month",
    "'=1+1",  # as export writes a text that begins with '='
    "+44 1664 502502",
    "@council please note",
    "line one\nline two",
    "'quoted' from the report",
    "Café, naïve, 10 × 2 ≥ 15",
]


def test_export_then_import_then_export_gives_the_same_cells(make_engine, tmp_path: Path) -> None:
    values = copy.deepcopy(VALUES)
    for n, commentary in enumerate(AWKWARD_TEXT):
        values.append(
            {"Code": "CP01", "Period": f"2016-{n + 1:02d}", "Actual": n, "Commentary": commentary}
        )
    values[1].update({"Corrective action": "\tindented", "Approval": "returned"})
    metrics = copy.deepcopy(METRICS)
    metrics[0].update({"Definition": "=not a formula once exported", "Baseline": 7.25})
    metrics[0]["Definition"] = "'" + metrics[0]["Definition"]
    metrics[3].update(
        {
            "Responsible officer": "Head of Housing",
            "Responsible e-mail": "housing.team@council.gov.uk",
            "Active from": "2015-04",
        }
    )
    first_db, second_db = make_engine(), make_engine()
    import_workbook(first_db, write_book(tmp_path / "source.xlsx", metrics, values), actor="t")
    everything = {"clearance": "OFFICIAL-SENSITIVE"}
    first_path = export_workbook(first_db, tmp_path / "first.xlsx", **everything)
    import_workbook(second_db, first_path, actor="t")
    second_path = export_workbook(second_db, tmp_path / "second.xlsx", **everything)
    first, second = cells(first_path), cells(second_path)
    assert first == second
    assert len(first["Metrics"]) == 1 + len(METRICS)
    assert len(first["Values"]) == 1 + len(values)
    assert row_counts(first_db) | {"audit_log": 0} == row_counts(second_db) | {"audit_log": 0}


def test_export_makes_text_inert_and_keeps_numbers_numbers(engine: Engine, tmp_path: Path) -> None:
    values = [{**VALUES[0], "Commentary": '\'=HYPERLINK("http://evil")'}]
    import_workbook(engine, write_book(tmp_path / "in.xlsx", METRICS[:1], values), actor="t")
    export_workbook(engine, tmp_path / "out.xlsx")
    book = openpyxl.load_workbook(tmp_path / "out.xlsx")
    row = [c for c in book["Values"][2]]
    assert row[7].value == '\'=HYPERLINK("http://evil")'
    assert row[7].data_type == "s"
    assert isinstance(row[2].value, int | float) and row[2].data_type == "n"
    assert all(c.data_type != "f" for sheet in book for r in sheet.iter_rows() for c in r)


def test_export_with_a_clearance_leaves_out_what_it_may_not_see(
    engine: Engine, tmp_path: Path
) -> None:
    import_workbook(engine, good_book(tmp_path / "good.xlsx"), actor="tester")
    export_workbook(engine, tmp_path / "official.xlsx", clearance="OFFICIAL")
    sheets = cells(tmp_path / "official.xlsx")
    shown = {row[0] for name in ("Metrics", "Values") for row in sheets[name][1:]}
    assert shown == {"CP01", "ME01", "SS-HOU-01"}  # SS-CS-01 is OFFICIAL-SENSITIVE


def test_export_of_an_empty_database_is_the_blank_template(engine: Engine, tmp_path: Path) -> None:
    export_workbook(engine, tmp_path / "out.xlsx")
    workbook.write_template(tmp_path / "blank.xlsx")
    assert cells(tmp_path / "out.xlsx") == cells(tmp_path / "blank.xlsx")


# --- Inert text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+44 1664", "'+44 1664"),
        ("-5% on last month", "'-5% on last month"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("\n=1+1", "'\n=1+1"),
        ("'quoted'", "''quoted'"),  # one more apostrophe, so the way back is exact
        ("Homes built", "Homes built"),
        ("5% above target", "5% above target"),
        ("", ""),
    ],
)
def test_inert_text_cannot_become_a_formula_and_comes_back_exactly(
    given: str, written: str
) -> None:
    assert inert(given) == written
    assert revert(written) == given


def test_tests_run_on_the_database_the_environment_names(engine: Engine) -> None:
    with engine.connect() as connection:
        dialect = connection.dialect.name
        assert connection.execute(text("SELECT 1")).scalar() == 1
    assert dialect == ("postgresql" if os.environ.get("SCORECARD_TEST_DATABASE_URL") else "sqlite")


# --- Approval through a workbook ------------------------------------------------------------


def _approve_cp01(path: Path, **changes: Any) -> Path:
    return write_book(path, METRICS, [{**VALUES[1], "Approval": "approved", **changes}])


def test_the_person_who_entered_a_value_cannot_approve_it(engine: Engine, tmp_path: Path) -> None:
    import_workbook(engine, good_book(tmp_path / "first.xlsx"), actor="officer@council")
    before = row_counts(engine)
    with pytest.raises(WorkbookError, match="approver must not be the person who entered"):
        import_workbook(engine, _approve_cp01(tmp_path / "mine.xlsx"), actor="officer@council")
    assert row_counts(engine) == before


def test_changing_a_value_and_approving_it_in_one_go_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    import_workbook(engine, good_book(tmp_path / "first.xlsx"), actor="officer@council")
    with pytest.raises(WorkbookError, match="approver must not be"):
        import_workbook(
            engine, _approve_cp01(tmp_path / "both.xlsx", Actual=11), actor="pmitg@council"
        )


def test_another_officer_approves_and_the_enterer_is_kept(engine: Engine, tmp_path: Path) -> None:
    import_workbook(engine, good_book(tmp_path / "first.xlsx"), actor="officer@council")
    import_workbook(engine, _approve_cp01(tmp_path / "theirs.xlsx"), actor="pmitg@council")
    with Session(engine) as session:
        value = session.exec(select(PeriodValue).where(PeriodValue.period == "2015-05")).one()
    assert (value.status, value.entered_by, value.approved_by) == (
        "approved",
        "officer@council",
        "pmitg@council",
    )
