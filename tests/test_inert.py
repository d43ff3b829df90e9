"""A table made inert column by column (`inert_frame`) is the table made inert cell by cell."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from metrics.inert import QUOTE, TRIGGERS, inert, inert_frame

TEXTS = [f"{trigger}SUM(A1)" for trigger in TRIGGERS] + ["'quoted", "plain", "", " =not first"]

COLUMNS = {  # name: the column's cells, every kind a CSV or sheet of ours carries
    "object text": pd.Series(TEXTS, dtype=object),
    "string dtype": pd.Series(TEXTS, dtype="string"),
    "text with gaps": pd.Series([None, "=1", np.nan, "ok"] * 3 + [None] * 2, dtype=object),
    "mixed": pd.Series(["-3", 4, 2.5, None, "@x", date(2017, 3, 31)] * 2, dtype=object),
    "no text": pd.Series([None, 1, 2.0, date(2017, 3, 31)] * 3, dtype=object),
    "all empty": pd.Series([None] * 12, dtype=object),
    "numbers": pd.Series(range(12)),
    "floats": pd.Series(np.linspace(-1, 1, 12)),
    "flags": pd.Series([True, False] * 6),
    "categories": pd.Series(["Red", "=Amber", "Green"] * 4, dtype="category"),
}


def by_cell(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.map(lambda v: inert(v) if isinstance(v, str) else v)


@pytest.mark.parametrize("name", list(COLUMNS))
def test_each_kind_of_column_is_made_inert_as_each_cell_would_be(name: str) -> None:
    column = COLUMNS[name]
    frame = pd.DataFrame({"cells": column[:12].reset_index(drop=True)})
    made = inert_frame(frame)["cells"].tolist()
    expected = by_cell(frame)["cells"].tolist()
    for a, b in zip(made, expected, strict=True):  # a gap stays a gap (None or NaN alike)
        assert (pd.isna(a) and pd.isna(b)) if pd.isna(b) else (a == b and type(a) is type(b))


def test_a_whole_table_is_untouched_where_nothing_could_run() -> None:
    frame = pd.DataFrame(
        {name: cells[:12].reset_index(drop=True) for name, cells in COLUMNS.items()}
    )
    made = inert_frame(frame)
    assert made["numbers"].equals(frame["numbers"]) and made["flags"].equals(frame["flags"])
    assert frame["object text"][0] == "=SUM(A1)"  # the caller's table is not changed
    assert made["object text"][0] == QUOTE + "=SUM(A1)"
    assert all(not str(v).startswith(TRIGGERS) for v in made["object text"])
