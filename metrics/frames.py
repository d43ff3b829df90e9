"""Small pandas helpers the domain shares, where pandas' own way is slow at a county's scale."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def among(values: pd.Series, wanted: Iterable[object]) -> pd.Series:
    """Whether each value is one of `wanted` (`Series.isin`); a missing value never is.

    pandas' Arrow-backed strings build one Arrow scalar per wanted value before comparing, about
    5 µs each: 20,000 wanted codes cost 100 ms. Compared as Python objects, the same takes 5 ms.
    """
    if not isinstance(wanted, pd.Series | pd.Index | np.ndarray | list):
        wanted = list(wanted)
    plain = pd.Series(values.to_numpy(dtype=object), index=values.index, dtype=object)
    return plain.isin(np.asarray(wanted, dtype=object)) & values.notna()


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
    order = keys.sort_values(by, ascending=ascending).index
    return frame.loc[order if limit is None else order[:limit]]
