"""`frames.among` answers as `Series.isin` does, for every kind of column the domain asks it of;
`frames.first_in_order` as `sort_values` then `head`; `frames.looked_up` as `Series.map`;
`frames.in_text_order` as `sort_values`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from metrics.frames import among, first_in_order, in_text_order, looked_up

ARROW_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default, not the app's


@pytest.mark.parametrize(
    ("values", "wanted", "expected"),
    [
        (["CP01", "HOU02", None], {"CP01"}, [True, False, False]),  # a set, as pages pass one
        (["CP01", "HOU02", None], ["HOU02", "X"], [False, True, False]),
        (["CP01", None], [None], [False, False]),  # a missing value is never among them
        (["CP01", "cp01"], ["CP01"], [True, False]),  # codes are compared exactly
        (["CP01"], [], [False]),
        ([], ["CP01"], []),
        ([None, None], ["CP01"], [False, False]),  # nothing but missing values
        ([1, 2, 3], pd.Series([3, 1]), [True, False, True]),  # ids as well as codes
    ],
)
@pytest.mark.parametrize("text", ["str", ARROW_TEXT, object], ids=["python", "arrow", "object"])
def test_among_is_isin(values: list, wanted: object, expected: list[bool], text: object) -> None:
    numbers = values and isinstance(values[0], int)
    series = pd.Series(values, index=np.arange(len(values)) * 10, dtype=None if numbers else text)
    got = among(series, wanted)  # type: ignore[arg-type]
    assert got.tolist() == expected
    assert got.dtype == bool
    assert got.index.equals(series.index)  # rows keep their labels, for a mask


def test_the_read_layer_holds_text_as_python_strings() -> None:
    """Importing the read layer alone sets pandas' text storage (`metrics.frames`), so a
    command that reads without the views gets it too: checked in a fresh interpreter, since
    this module's own import of `metrics.frames` has set it here already."""
    probe = (
        "import metrics.queries, pandas as pd\n"
        "print(pd.DataFrame({'code': ['CP01', None]})['code'].dtype.storage)"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "python"


@pytest.mark.parametrize("text", ["str", ARROW_TEXT], ids=["python", "arrow"])
def test_among_agrees_with_isin_over_many_codes(text: object) -> None:
    codes = pd.Series([f"M{i:05d}" for i in range(5_000)] + [None] * 3, dtype=text)
    wanted = pd.Series([f"M{i:05d}" for i in range(0, 10_000, 3)], dtype=text)
    assert among(codes, wanted).tolist() == codes.isin(wanted).tolist()


def test_among_does_not_compare_as_arrow_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The slow path (a scalar built per wanted value) is never taken, whatever pandas infers."""
    from pandas.core.arrays import string_arrow

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("compared as Arrow strings")

    monkeypatch.setattr(string_arrow.ArrowStringArray, "isin", refuse)
    codes = pd.Series(["CP01", "HOU02", None], dtype=ARROW_TEXT)
    assert among(codes, pd.Series(["HOU02"], dtype=ARROW_TEXT)).tolist() == [False, True, False]


STATUS = pd.DataFrame(
    {
        "code": ["A1", "B2", "C3", "D4", "E5", "F6"],
        "risk_score": [4, 9, 4, 1, 9, 6],
        "rag": ["Amber", "Red", "Red", "Green", "Amber", "Red"],
        "wide": ["a", "b", "c", "d", "e", "f"],
    },
    index=[10, 11, 12, 13, 14, 15],  # not a range: the rows are taken by label
)


@pytest.mark.parametrize(
    ("by", "ascending", "limit", "rows", "expected"),
    [
        (["risk_score", "code"], [False, True], None, None, ["B2", "E5", "F6", "A1", "C3", "D4"]),
        (["risk_score", "code"], [False, True], 2, None, ["B2", "E5"]),
        (["risk_score", "code"], [False, True], 0, None, []),
        (["risk_score", "code"], [False, True], 99, None, ["B2", "E5", "F6", "A1", "C3", "D4"]),
        # ties on the score broken by the status (Red before Amber), then the code
        (["risk_score", "rag", "code"], [False, False, True], 3, None, ["B2", "E5", "F6"]),
        (["risk_score", "rag", "code"], [False, False, True], None, "Red", ["B2", "F6", "C3"]),
        (["code"], [True], 1, "Red", ["B2"]),
        (["code"], [True], None, "Blue", []),
    ],
)
def test_first_in_order_is_sort_values_then_head(
    by: list[str], ascending: list[bool], limit: int | None, rows: str | None, expected: list[str]
) -> None:
    marked = None if rows is None else STATUS["rag"] == rows
    got = first_in_order(STATUS, by, ascending, limit=limit, rows=marked)
    chosen = STATUS if marked is None else STATUS[marked]
    whole = chosen.sort_values(by, ascending=ascending)
    pd.testing.assert_frame_equal(got, whole if limit is None else whole.head(limit))
    assert got["code"].tolist() == expected


def random_status(rows: int, seed: int) -> pd.DataFrame:
    """Many ties on every key, codes of mixed case and length, a label index out of order."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "code": rng.choice(["a", "B", "b1", "Zz", "é", "A10", "A9"], rows),
            "risk_score": rng.integers(0, 4, rows),
            "rag": rng.choice(["Red", "Amber", "Green"], rows),
            "share": rng.choice([0.5, 1.0, 2.25], rows),
            "row": np.arange(rows),  # which row it was: ties must keep their order
        },
        index=rng.permutation(rows) + 100,
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    ("by", "ascending"),
    [
        (["risk_score", "code"], [False, True]),
        (["rag", "risk_score", "code"], [False, False, True]),
        (["share", "code"], [True, False]),
        (["code", "row"], [False, True]),
    ],
)
def test_first_in_order_keeps_pandas_order_and_its_ties(
    seed: int, by: list[str], ascending: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sorted by Arrow, the order is `sort_values`' own, ties in their order, text by code point."""
    frame = random_status(500, seed)
    marked = frame["rag"] != "Green"
    expected = frame[marked].sort_values(by, ascending=ascending).head(50)
    monkeypatch.setattr(pd.DataFrame, "sort_values", None)  # sorted by Arrow, not by pandas
    got = first_in_order(frame, by, ascending, limit=50, rows=marked)
    monkeypatch.undo()
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize(
    ("column", "missing"),
    [("risk_score", np.nan), ("share", np.nan), ("code", None), ("rag", None)],
)
@pytest.mark.parametrize("ascending", [True, False])
def test_first_in_order_puts_a_missing_key_last_either_way(
    column: str, missing: object, ascending: bool
) -> None:
    frame = random_status(60, 7)
    frame.loc[frame.index[[3, 17, 40]], column] = missing
    by = [column, "row"]
    got = first_in_order(frame, by, [ascending, True])
    pd.testing.assert_frame_equal(got, frame.sort_values(by, ascending=[ascending, True]))
    assert got[column].iloc[-3:].isna().all()


TIERS = {"Corporate Plan": 0, "ME2E": 1, "Service Standards": 2}


@pytest.mark.parametrize(
    ("values", "table", "default", "expected"),
    [
        (["ME2E", "Corporate Plan", "Service Standards"], TIERS, 9, [1, 0, 2]),
        (["ME2E", None, "Other", "me2e"], TIERS, 9, [1, 9, 9, 9]),  # missing, unknown, case
        (["ME2E", None], TIERS, np.nan, [1.0, np.nan]),  # as `map` gives, NaN where none
        (["Red", "Overdue", ""], {"Red": "R", "Overdue": "Missing"}, None, ["R", "Missing", None]),
        ([], TIERS, 9, []),
        (["ME2E"], {}, -1, [-1]),  # an empty table: the default everywhere
    ],
)
def test_looked_up_is_map_with_a_default(
    values: list, table: dict, default: object, expected: list
) -> None:
    for kind in ("str", ARROW_TEXT, object):  # text as the app holds it, in Arrow, as objects
        series = pd.Series(values, index=np.arange(len(values)) * 10, dtype=kind)
        got = looked_up(series, table, default)
        assert got.index.equals(series.index)
        want = series.map(table)
        plain = [None if pd.isna(v) else v for v in got]  # NaN or None: either is "none"
        assert plain == [None if pd.isna(v) else v for v in expected]
        mapped = [default if pd.isna(v) else v for v in want]  # `map`, then the default
        assert plain == [None if pd.isna(v) else v for v in mapped]


def test_looked_up_agrees_with_map_over_many_rows() -> None:
    rng = np.random.default_rng(7)
    tiers = pd.Series(rng.choice([*TIERS, None, "x"], 20_000), dtype="str")
    assert looked_up(tiers, TIERS, 9).tolist() == tiers.map(TIERS).fillna(9).astype(int).tolist()


@pytest.mark.parametrize(
    "codes",
    [
        ["HOU02", "CP01", "ME2E-3", "CP10", "cp01"],  # upper before lower case, as code points
        ["B", None, "A", "B", None],  # missing last, ties in their order
        ["Café", "Cafe", "Ça", "Zoo", "ß"],  # beyond ASCII: by code point, not by locale
        ["team/a", "team-a", "team a", ""],  # the blank first
        [],
    ],
    ids=["codes", "missing and ties", "accents", "punctuation", "none"],
)
@pytest.mark.parametrize("text", ["str", ARROW_TEXT, object], ids=["python", "arrow", "object"])
def test_in_text_order_is_sort_values(codes: list, text: object) -> None:
    frame = pd.DataFrame(
        {"code": pd.Series(codes, dtype=text), "n": range(len(codes))},
        index=range(10, 10 + len(codes)),
    )
    want = frame.sort_values("code", ignore_index=True, kind="stable")
    pd.testing.assert_frame_equal(in_text_order(frame, "code"), want)
