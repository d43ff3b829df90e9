"""Tables for reading: the reason first, each reason led by its symbol, counts as a symbol bar,
and the line of sight as a tree table of priorities and what delivers them."""

from __future__ import annotations

import pandas as pd
import pytest

from metrics import alignment, display
from metrics.rating import COUNT_COLUMNS


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        # the exceptions table: reason, title and commentary move up, the rest keep their order
        (
            ["code", "Status", "Forecast", "Measure", "Why", "Commentary", "Action"],
            ["code", "Why", "Measure", "Commentary", "Status", "Forecast", "Action"],
        ),
        # the changes table has no commentary: nothing is invented
        (
            ["code", "Change", "Was", "Now", "Measure", "Why"],
            ["code", "Why", "Measure", "Change", "Was", "Now"],
        ),
        (["Name", "Status"], ["Name", "Status"]),  # no reading column at all
    ],
)
def test_reading_order_puts_the_reason_beside_the_code(
    columns: list[str], expected: list[str]
) -> None:
    assert display.reading_order(columns) == expected


@pytest.mark.parametrize(
    ("why", "expected"),
    [
        ("Red: 15 is above the 12 target", "✖ Red: 15 is above the 12 target"),
        ("Amber: 46.8 % is below", "◆ Amber: 46.8 % is below"),
        ("Green: 9 meets the target", "● Green: 9 meets the target"),
        ("Data only: 3 is not rated", "■ Data only: 3 is not rated"),
        ("Missing: no actual entered", "○ Missing: no actual entered"),
        ("Overdue: no actual entered", "⊗ Overdue: no actual entered"),
        ("Reddish: not a status word", "Reddish: not a status word"),  # only a whole word
        (None, ""),
    ],
)
def test_each_reason_is_led_by_its_status_symbol(why: str | None, expected: str) -> None:
    assert display.with_symbol(pd.Series([why], dtype=object)).iloc[0] == expected


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((2, 1, 3, 0, 1), "✖✖◆●●●○"),  # one symbol a measure, worst first
        ((0, 0, 0, 0, 0), ""),
        ((0, 0, 20, 0, 0), "●" * 20),  # exactly the width: not scaled
        ((1, 0, 39, 0, 0), "✖" + "●" * 20),  # scaled, and a lone Red is never rounded away
        ((10, 10, 20, 0, 0), "✖" * 5 + "◆" * 5 + "●" * 10),  # halved
    ],
)
def test_count_bar_draws_the_counts_in_symbols(counts: tuple[int, ...], expected: str) -> None:
    frame = pd.DataFrame([counts], columns=COUNT_COLUMNS)
    assert display.count_bar(frame).iloc[0] == expected


def nodes() -> pd.DataFrame:
    """A tree as `alignment.tree` gives it: a priority, an initiative, a service, a team and
    their measures."""
    ids = ["P:a", "P:a|I:i", "P:a|I:i|M:ME1", "P:a|S:s", "P:a|S:s|T:t", "P:a|S:s|T:t|M:SS1"]
    return pd.DataFrame(
        {
            "id": ids,
            "parent": ["", "P:a", "P:a|I:i", "P:a", "P:a|S:s", "P:a|S:s|T:t"],
            "kind": ["priority", "initiative", "metric", "service", "team", "metric"],
            "code": ["a", "i", "ME1", "s", "t", "SS1"],
            "label": ["Homes", "Income", "ME1", "Housing", "Options", "SS1"],
            "status": ["Red", "Red", "Red", "Green", "Green", "Green"],
            "Red": [1, 1, 1, 0, 0, 0],
            "Amber": [0] * 6,
            "Green": [1, 0, 0, 1, 1, 1],
            "Data only": [0] * 6,
            "Missing": [0] * 6,
        }
    )


@pytest.mark.parametrize(
    ("value", "unit", "decimals", "expected"),
    [
        (71.25, "percent", 1, "71.2 %"),  # Python's rounding, as format_value writes it
        (1234.0, "currency", 0, "£1,234"),
        (-50.0, "currency", 0, "-£50"),
        (8.5, "days", 1, "8.5 days"),
        (-0.04, "number", 1, "0.0"),  # rounds to nothing: no minus sign
        (1234567.891, "ratio", 2, "1,234,567.89"),
        (None, "percent", 1, "–"),  # no number: a dash, not "no value"
        (float("nan"), "days", 0, "–"),
    ],
)
def test_a_number_column_is_written_in_each_measures_unit(
    value: float | None, unit: str, decimals: int, expected: str
) -> None:
    frame = pd.DataFrame(
        {"actual": [value, 3.0], "unit": [unit, "number"], "decimals": [decimals, 0]},
        index=[7, 9],  # the frame's own index is kept
    )
    got = display.formatted(frame, "actual")
    assert got.tolist() == [expected, "3"]
    assert got.index.tolist() == [7, 9]


def test_the_overview_is_each_priority_then_what_delivers_it() -> None:
    table = alignment.overview(nodes())
    assert table["id"].tolist() == ["P:a", "P:a|I:i", "P:a|S:s"]  # no teams, no measures
    assert table["Name"].tolist() == ["Homes", "\u2003└ Income", "\u2003└ Housing"]
    assert table["Status"].tolist() == ["✖ Red", "✖ Red", "● Green"]
    assert table["Bar"].tolist() == ["✖●", "✖", "●"]
    assert table["Red"].tolist() == [1, 1, 0]


def test_every_row_of_the_overview_opens_its_page() -> None:
    tree = nodes()
    table = alignment.overview(tree)
    targets = [alignment.node_target(tree, node) for node in table["id"]]
    assert targets == [  # each narrowed to what its row counts (docs/line-of-sight.md)
        ("priority", "a", {}),
        ("initiative", "i", {"serving": "a", "tier": "ME2E"}),
        ("service", "s", {"serving": "a", "tier": "Service Standards"}),
    ]


def test_an_empty_tree_gives_an_empty_overview() -> None:
    assert alignment.overview(nodes().iloc[0:0]).empty


STRUCTURE = alignment.Structure(
    priorities=pd.DataFrame({"code": ["homes"], "name": ["Homes"], "sort_order": [1]}),
    initiatives=pd.DataFrame({"code": ["income"], "name": ["Income generation"]}),
    delivers=pd.DataFrame({"initiative_code": ["income"], "priority_code": ["homes"]}),
    services=pd.DataFrame({"code": ["housing", "waste"], "name": ["Housing", "Waste"]}),
    teams=pd.DataFrame(
        {"code": ["housing/options", "waste/options"], "name": ["Options", "Options"],
         "service_code": ["housing", "waste"]}
    ),
)  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "code", "name", "option"),
    [
        ("priority", "homes", "Homes", "Homes"),
        ("initiative", "income", "Income generation", "Income generation"),
        ("service", "waste", "Waste", "Waste"),
        # a team's name is only unique within its service, so it is offered with the service's
        ("team", "housing/options", "Options", "Housing: Options"),
        ("team", "waste/options", "Options", "Waste: Options"),
        ("team", "nowhere", None, None),  # an unknown code has no name
    ],
)
def test_each_level_is_named_and_offered(
    kind: str, code: str, name: str | None, option: str | None
) -> None:
    assert STRUCTURE.name(kind, code) == name
    assert STRUCTURE.options(kind).get(code) == option
    if kind == "team":
        assert STRUCTURE.team_label(code) == (option or code)
    STRUCTURE.options(kind).clear()  # what a caller does with its copy changes nothing held
    assert STRUCTURE.name(kind, code) == name
