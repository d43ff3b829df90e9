"""Real council data through the template: Stirling's LGBF quarterly ratio measures.

The slice in tests/data/lgbf_slice (see its README) is turned into a Metrics + Values workbook
the way a performance officer would, then imported through `import_workbook`.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from metrics.models import Metric, PeriodValue
from metrics.workbook import import_workbook

SLICE = Path(__file__).parent / "data" / "lgbf_slice"
POLARITY = {"Ascending": "lower", "Descending": "higher", "Goldilocks": "band"}
UNIT = {"Percentage": "percent", "Days": "days"}
BAND_HALF_WIDTH = 5.0  # percentage points either side of a Goldilocks midpoint
BAND_YEAR = "2022-23"  # the year the Goldilocks band targets are set for
QUARTER_END = {"Q1": (0, 6, 30), "Q2": (0, 9, 30), "Q3": (0, 12, 31), "Q4": (1, 3, 31)}


def read_slice(name: str) -> list[dict[str, str]]:
    """A slice file; the originals start with a byte-order mark, hence utf-8-sig."""
    with (SLICE / name).open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def our_code(lgbf_code: str) -> str:
    """`CORP 09` in the data file is `CORP09` in the indicator file (and in a code, no spaces)."""
    return lgbf_code.replace(" ", "")


def metric_row(indicator: dict[str, str], quarterly: set[str]) -> dict[str, Any]:
    unit = UNIT[indicator["MeasureType"]]
    return {
        "Code": indicator["Code"],
        "Title": indicator["Title"],
        "Tier": "Corporate Plan",
        "Unit": unit,
        "Decimals": 1,
        "Polarity": POLARITY[indicator["Ranking_Type"]],
        "Frequency": "quarterly" if indicator["Code"] in quarterly else "annual",
        "Aggregation": "ratio" if unit == "percent" else "mean",
        "Data source": "Improvement Service, LGBF",
    }


def band_targets(indicator: dict[str, str]) -> dict[str, Any]:
    """A band around the Goldilocks midpoint (a share, so x 100), kept inside 0 to 100."""
    midpoint = float(indicator["Ranking_GoldilocksMidpoint"]) * 100
    return {
        "Code": indicator["Code"],
        "Period": BAND_YEAR,
        "Target": max(midpoint - BAND_HALF_WIDTH, 0.0),
        "Target upper": min(midpoint + BAND_HALF_WIDTH, 100.0),
    }


def value_row(published: dict[str, str]) -> dict[str, Any]:
    """Numerator and denominator as published, Actual left for the import to work out."""
    return {
        "Code": our_code(published["Code"]),
        "Period": published["Period"],  # as LGBF writes it: 2018-19;Q1
        "Numerator": float(published["Numerator"]),
        "Denominator": float(published["Denominator"]),
    }


def lgbf_workbook(path: Path) -> Path:
    """The slice as a template workbook: indicator definitions and Stirling's quarters."""
    indicators = read_slice("indicator_information.csv")
    published = read_slice("stirling_quarterly.csv")
    quarterly = {our_code(row["Code"]) for row in published}
    metrics = [metric_row(indicator, quarterly) for indicator in indicators]
    values = [value_row(row) for row in published]
    values += [band_targets(i) for i in indicators if i["Ranking_Type"] == "Goldilocks"]
    book = openpyxl.Workbook()
    for title, rows in (("Metrics", metrics), ("Values", values)):
        sheet = book.create_sheet(title)
        header = list(dict.fromkeys(key for row in rows for key in row))
        sheet.append(header)
        for row in rows:
            sheet.append([row.get(column) for column in header])
    book.save(path)
    return path


@pytest.fixture
def imported(engine: Engine, tmp_path: Path) -> Engine:
    result = import_workbook(engine, lgbf_workbook(tmp_path / "lgbf.xlsx"), actor="lgbf test")
    assert (result.metrics_created, result.values_created) == (6, 42 + 2)
    return engine


def stored(engine: Engine, code: str) -> list[PeriodValue]:
    with Session(engine) as session:
        query = select(PeriodValue).join(Metric).where(Metric.code == code)
        return sorted(session.exec(query).all(), key=lambda value: value.period_end)


def published(code: str) -> dict[str, dict[str, str]]:
    """The published rows of one measure, by our period label."""
    rows = read_slice("stirling_quarterly.csv")
    return {row["Period"].replace(";", " "): row for row in rows if our_code(row["Code"]) == code}


@pytest.mark.parametrize("code", ["CORP09", "CORP10"])
def test_every_quarter_is_stored_with_the_council_label(imported: Engine, code: str) -> None:
    values = stored(imported, code)
    assert len(values) == 21
    assert [v.period for v in values] == list(published(code))  # the file is in time order
    assert values[0].period == "2018-19 Q1"
    assert values[-1].period == "2023-24 Q1"


@pytest.mark.parametrize("code", ["CORP09", "CORP10"])
def test_actual_is_the_ratio_of_the_published_counts(imported: Engine, code: str) -> None:
    rows = published(code)
    for value in stored(imported, code):
        row = rows[value.period]
        numerator, denominator = float(row["Numerator"]), float(row["Denominator"])
        assert value.actual == pytest.approx(numerator / denominator * 100)
        # Value is rounded to a whole percent (0.5 points); the counts are rounded to the
        # nearest 5 for disclosure control, which moves their ratio by up to this much more.
        share = numerator / denominator
        slack = 0.5 + 100 * 2.5 * (1 + share) / denominator
        assert value.actual == pytest.approx(float(row["Value"]) * 100, abs=slack)


@pytest.mark.parametrize("code", ["CORP09", "CORP10"])
def test_fiscal_year_and_period_end_cross_the_calendar_year(imported: Engine, code: str) -> None:
    for value in stored(imported, code):
        year, quarter = value.period.split()
        later, month, day = QUARTER_END[quarter]
        assert value.fiscal_year == year
        assert value.period_end == date(int(year[:4]) + later, month, day)
        assert value.status == "submitted"


@pytest.mark.parametrize(
    ("code", "polarity", "frequency", "unit"),
    [
        ("CORP01", "lower", "annual", "percent"),  # Ascending: lower is better
        ("CORP06a", "lower", "annual", "days"),
        ("CORP09", "higher", "quarterly", "percent"),  # Descending: higher is better
        ("CORP03b", "band", "annual", "percent"),  # Goldilocks: closest to the midpoint
    ],
)
def test_ranking_type_becomes_polarity(
    imported: Engine, code: str, polarity: str, frequency: str, unit: str
) -> None:
    with Session(imported) as session:
        metric = session.exec(select(Metric).where(Metric.code == code)).one()
    assert (metric.polarity, metric.frequency, metric.unit) == (polarity, frequency, unit)


@pytest.mark.parametrize(
    ("code", "target", "target_upper"),
    [
        ("CORP03b", 45.0, 55.0),  # half the top earners women, give or take 5 points
        ("CORP11", 95.0, 100.0),  # all the budget spent: the band stops at 100 %
    ],
)
def test_goldilocks_band_targets_surround_the_midpoint(
    imported: Engine, code: str, target: float, target_upper: float
) -> None:
    (value,) = stored(imported, code)
    assert (value.period, value.actual) == (BAND_YEAR, None)
    assert (value.target, value.target_upper) == (target, target_upper)


def test_reimporting_the_lgbf_workbook_changes_nothing(imported: Engine, tmp_path: Path) -> None:
    result = import_workbook(imported, lgbf_workbook(tmp_path / "again.xlsx"), actor="again")
    assert (result.metrics_unchanged, result.values_unchanged) == (6, 44)
