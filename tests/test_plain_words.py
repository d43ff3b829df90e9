"""Plain words on screen (issue 11): a measure's settings, its audit trail and the way a reader
came, each a small table of what is stored against what the reader is shown."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from metrics import quality
from metrics.plain_words import audit_table, audit_value, definition_table, in_words, setting_text
from metrics.views.trail import Crumb, read_trail, trail_text, walked


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("decimals", 1, "1 decimal place"),
        ("decimals", 0, "whole numbers"),
        ("decimals", 2, "2 decimal places"),
        (
            "aggregation",
            "ratio",
            "The year's numerators added up, divided by its denominators added up",
        ),
        ("aggregation", "sum", "Added up over the year so far"),
        ("polarity", "lower", "Lower is better"),
        ("unit", "percent", "Percentage"),
        ("frequency", "monthly", "Monthly"),
        ("risk_impact", 3, "3 (high)"),
        ("data_only", False, "No"),
        ("active_from", "2015-04", "April 2015"),
        ("active_to", None, "–"),  # never 'None'
        ("responsible_officer", float("nan"), "–"),  # never 'nan'
    ],
)
def test_a_setting_reads_in_plain_words(name: str, value: object, said: str) -> None:
    assert setting_text(name, value) == said


def test_the_definition_names_each_setting_in_words() -> None:
    template = {"unit": "percent", "decimals": 1, "aggregation": "ratio", "polarity": "higher",
                "tolerance": None, "tier": "ME2E"}  # fmt: skip
    fields = dict(definition_table(template, 5.0).to_numpy().tolist())
    assert fields["Shown to"] == "1 decimal place"  # not "Decimals 1"
    assert fields["Year to date"].startswith("The year's numerators")  # not "ratio"
    assert fields["Tolerance"] == "5 % of the target (the council's default)"
    assert "Decimals" not in fields and "None" not in fields.values()


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        (None, json.dumps({"actual": 76.4, "target": 92.0, "corrective_action": None}),
         "Actual: 76.4; Target: 92.0"),  # a created record in words, its empty fields left out
        ("", json.dumps({"aligned_to": "CP02", "data_only": True}),
         "Aligned to: CP02; Data only (no target): Yes"),
        ("aligned_to", None, "–"),
        ("sort_order", "1", "1"),
        ("aggregation", "mean", "The average of the year's periods so far"),
        ("commentary", "{not json", "{not json"),  # text a person typed is shown as typed
    ],
)  # fmt: skip
def test_an_audit_value_reads_in_words(field: object, value: object, said: str) -> None:
    assert audit_value(field, value) == said


def test_an_audit_row_has_no_raw_json_none_or_iso_timestamp() -> None:
    trail = pd.DataFrame(
        {
            "at": [datetime(2017, 4, 3, 8, 15, tzinfo=UTC)],
            "actor": ["officer@example.gov.uk"],
            "action": ["create"],
            "period": ["2017-03"],
            "field_name": [""],
            "old_value": [None],
            "new_value": [json.dumps({"actual": 12.0})],
            "reason": [None],
        }
    )
    row = audit_table(trail).iloc[0].to_dict()
    assert row == {
        "When": "3 April 2017, 09:15",  # UK summer time
        "Who": "officer@example.gov.uk",
        "Action": "Created",
        "Period": "March 2017",
        "Field": "–",
        "Old value": "–",
        "New value": "Actual: 12.0",
        "Why": "–",
    }


NAMES = {
    "priority": {"homes": "Homes"},
    "team": {"housing/options": "Housing Options"},
    "metric": {"CP05": "CP05"},
}
HOMES, OPTIONS = (
    Crumb("priority", "homes", "Homes"),
    Crumb("team", "housing/options", "Housing Options"),
)


@pytest.mark.parametrize(
    ("via", "trail"),
    [
        ("priority:homes,team:housing/options", [HOMES, OPTIONS]),
        ("", []),
        (None, []),
        ("priority:homes,team:secret/team", [HOMES]),  # a code the reader may not see ends it
        ("team:secret/team,priority:homes", []),  # ... however late the visible steps come
        ("admin:users,priority:homes", []),  # not a page of the line of sight
        ("priority:homes,priority:homes", [HOMES]),  # a loop is cut
        ("priority", []),  # no code
    ],
)
def test_a_carried_trail_keeps_only_what_the_reader_may_open(via, trail) -> None:
    assert read_trail(via, NAMES) == trail


@pytest.mark.parametrize(
    ("trail", "here", "to", "carried"),
    [
        ([], None, ("priority", "homes"), []),  # from the dashboard
        ([], HOMES, ("team", "housing/options"), [HOMES]),  # priority, then its team
        ([HOMES], OPTIONS, ("metric", "CP05"), [HOMES, OPTIONS]),  # the team's measure
        ([HOMES, OPTIONS], Crumb("metric", "CP05", "CP05"), ("team", "housing/options"), [HOMES]),
        ([HOMES], OPTIONS, ("priority", "homes"), []),  # back up to the start
    ],
)
def test_the_way_taken_is_carried_on_and_cut_back_on_the_way_up(trail, here, to, carried) -> None:
    assert walked(trail, here, *to) == carried


def test_a_trail_reads_back_from_its_own_text() -> None:
    assert read_trail(trail_text([HOMES, OPTIONS]), NAMES) == [HOMES, OPTIONS]


@pytest.mark.parametrize(
    ("column", "stored", "shown"),
    [
        ("period", "2017-03", "March 2017"),
        ("period", "2016-17 Q4", "Q4 2016-17"),
        ("period", "2016-17", "2016-17"),  # a year already reads as the council writes it
        ("period", None, "–"),
        ("deadline", date(2016, 8, 12), "12 August 2016"),
        ("deadline", "2016-08-12", "12 August 2016"),
        ("deadline", None, "–"),
        ("taken_at", datetime(2017, 4, 18, 8, 5, tzinfo=UTC), "18 April 2017, 09:05"),  # BST
        ("note", None, "–"),
        ("note", "SS-HOU-04 checked", "SS-HOU-04 checked"),  # a measure code stays
    ],
)
def test_a_table_cell_reads_as_the_council_says_it(column: str, stored: object, shown) -> None:
    frame = pd.DataFrame({column: [stored, "x"]}, dtype=object).iloc[:1]
    said = in_words(frame, day_columns=("deadline", "taken_at"))
    assert said[column].tolist() == [shown]


def test_a_table_keeps_the_order_it_was_sorted_in_before_it_speaks() -> None:
    frame = pd.DataFrame({"period": ["2016-04", "2016-08", "2016-12"]})  # calendar order
    said = in_words(frame.sort_values("period"), names={"period": "Period"})
    assert said["Period"].tolist() == ["April 2016", "August 2016", "December 2016"]
    assert frame["period"].tolist() == ["2016-04", "2016-08", "2016-12"]  # the input is kept


def test_the_chase_list_reads_in_words_and_its_csv_keeps_the_machines() -> None:
    chase = pd.DataFrame(
        {
            "code": ["SS-HOU-04"],
            "responsible_email": ["a@council"],
            "period": ["2016-17 Q1"],
            "deadline": [date(2016, 7, 14)],
            "days_overdue": [3],
        }
    )
    said = quality.for_reading(chase)
    assert said.to_dict("records") == [
        {
            "Code": "SS-HOU-04",
            "E-mail": "a@council",
            "Period": "Q1 2016-17",
            "Due by": "14 July 2016",
            "Days overdue": 3,
        }
    ]
    assert b"2016-17 Q1,2016-07-14" in quality.csv_bytes(chase)
