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
