"""Small pandas helpers the domain shares, where pandas' own way is slow at a county's scale."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Text columns are held as Python strings, not Arrow's: the same `str` dtype with the same
# behaviour (missing is NaN), only stored differently. pandas 3 stores them in Arrow by default,
# and at a council's size every take, comparison and copy of a text column then costs an Arrow
# compute call: at S a month's rating took twice as long, and the page tests a third more CPU
# (docs/performance.md). Every frame the read layer builds comes after this (queries
# imports this module).
pd.options.mode.string_storage = "python"


def among(values: pd.Series, wanted: Iterable[object]) -> pd.Series:
    """Whether each value (a code, an id) is one of `wanted` (`Series.isin`); a missing value
    never is.

    Text held in Arrow (pandas' default storage, not this app's) is compared by Arrow's own
    `is_in`: pandas would build one Arrow scalar per wanted value, about 5 µs each, 100 ms for
    20,000 wanted codes, where `is_in` takes 1 ms. Python strings and numbers go to `isin`'s
    hash table (1.5 ms for 20,000; the same codes converted to Arrow first took 33 ms).
    """
    if not isinstance(wanted, pd.Series | pd.Index | np.ndarray | list):
        wanted = list(wanted)
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return values.isin(wanted) & values.notna()
    data = pa.array(values, from_pandas=True)
    if pa.types.is_null(data.type):  # no values, or none but missing ones: none is among them
        return pd.Series(False, index=values.index, dtype=bool)
    chosen = pa.array(np.asarray(wanted, dtype=object), from_pandas=True).cast(data.type)
    found = pc.is_in(data, value_set=chosen, skip_nulls=True)  # a missing value is never found
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index, dtype=bool)


def first_in_order(
    frame: pd.DataFrame,
    by: list[str],
    ascending: list[bool],
    *,
    limit: int | None = None,
    rows: pd.Series | None = None,
) -> pd.DataFrame:
    """The rows (those `rows` marks, if given) as `sort_values(by, ascending=ascending)` orders
    them, the first `limit` if given, sorting only the `by` columns: a month's status has sixty
    columns, and sorting the 10,000 exceptions of XL copied them all to list the first 200.
    The rows are taken by label, so the frame's index must be unique (a merged frame's is)."""
    keys = frame[by] if rows is None else frame.loc[rows, by]
    order = _sorted_by_arrow(keys, by, ascending)
    if order is None:
        order = keys.sort_values(by, ascending=ascending).index
    return frame.loc[order if limit is None else order[:limit]]


def _sorted_by_arrow(keys: pd.DataFrame, by: list[str], ascending: list[bool]) -> pd.Index | None:
    """The keys' index as `sort_values` orders it, sorted by Arrow (stable, as pandas' sort by
    several columns is; text by code point, as Python compares it): pandas took 8 ms for XL's
    10,000 changes of status by an order, a score and a code, Arrow 2. None where a key is
    missing somewhere (pandas puts a missing value last in either direction, Arrow a NaN
    among the numbers) or is not of one Arrow type, and for one key (pandas sorts one column
    by an unstable quicksort): `sort_values` orders those."""
    if len(by) < 2 or keys.empty or keys.isna().to_numpy().any():
        return None
    try:
        table = pa.table({name: pa.array(keys[name], from_pandas=True) for name in by})
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    directions = ["ascending" if up else "descending" for up in ascending]
    order = pc.sort_indices(table, sort_keys=list(zip(by, directions, strict=True)))
    return keys.index[order.to_numpy()]


def in_text_order(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """The rows ordered by one text column, as `sort_values(column, ignore_index=True)` orders
    them (by code point, missing last; ties in their order), but sorted by Arrow: pandas
    compared Python strings a pair at a time, 19 ms for the 20,000 codes of XL where Arrow
    takes 5."""
    text = pa.array(frame[column], type=pa.large_string(), from_pandas=True)
    order = pc.array_sort_indices(text).to_numpy()  # stable, missing last
    return frame.take(order).reset_index(drop=True)


def looked_up(
    values: pd.Series, table: Mapping[str, object], default: object = np.nan
) -> pd.Series:
    """Each text's entry in `table` (`Series.map` with a dict), `default` where it has none or
    is missing. pandas maps text one Python object at a time, 10 to 15 ms for the 20,000 tiers
    of XL; Arrow finds each one's place among the table's keys in a few."""
    text = pa.array(values, type=pa.large_string(), from_pandas=True)
    place = pc.index_in(text, value_set=pa.array(list(table), type=pa.large_string()))
    entries = pd.Series([*table.values(), default]).to_numpy()  # the default last, at -1
    return pd.Series(entries[place.fill_null(-1).to_numpy()], index=values.index)
