"""Kept ratings: each measure's rating of a period, kept when first rated, so that the next
reader (another session, another replica, the command line) reads it instead of rating it again
from five years of values.

A kept rating is never older than what it was rated from: triggers delete a measure's kept rows
in the same transaction as any change to its values or its template (migration 0007), and a
rating is kept only if no write was made between reading the data version and keeping it (the
write lock is held while it is checked). A kept row is used only when it was rated under the
same rules and rating code (`rules_key`) and for the same approval basis, and when its period
is overdue, or not, on the day it was rated as on the day it is read. Everything else is rated
afresh by the one pipeline and kept in turn. Keeping is never waited for: when a writer holds
the lock the rating is simply not kept.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from metrics import pipeline, rating, store
from metrics.config import Settings
from metrics.models import KeptRating
from metrics.queries import kept as kept_queries

# What `pipeline.rate` adds to a due row, in its order, then the commentary the row shows
# (`rated.with_latest_commentary`); and how each column is typed there.
KEPT = [
    name
    for name in KeptRating.model_fields
    if name not in ("metric_id", "period", "approved_only", "whole", "rated_today", "rules")
]
NUMBERS = [
    *("actual", "numerator", "denominator", "target", "target_upper", "previous", "last_year"),
    *("ytd", "ytd_target", "ytd_target_upper", "forecast", "forecast_target"),
    "forecast_target_upper",
]
OBJECTS = ["explanation", "spc_variation_why", "spc_assurance_why"]
# The code a rating comes from: the reads of its values, the pipeline and its rules.
PACKAGE = Path(__file__).resolve().parent.parent
RATING_CODE = [
    *("queries/__init__.py", "queries/bulk.py", "views/rated.py", "pipeline.py", "rating.py"),
    *("spc.py", "explain.py", "explain_rollup.py", "periods.py", "config.py", "vocab.py"),
]


@dataclass(frozen=True)
class Basis:
    """What a kept rating was rated on besides the measure's own rows: approved values only or
    all of them, the rules and rating code (`rules_key`), and the day (for overdue deadlines)."""

    approved_only: bool
    rules: str
    today: date


def rules_key(settings: Settings, history_years: int) -> str:
    """What a rating depends on beyond the measure's own rows: the rating rules, the year's
    start, the deadlines, the history read, and the code that rates (a new release re-rates)."""
    said = _said(
        (settings.rating, settings.financial_year_start_month, settings.deadline, history_years)
    )
    return hashlib.sha256((said + _code_digest()).encode()).hexdigest()[:16]


def _said(value: Any) -> str:
    """A setting as text that is the same in every process (a set's order is not)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return f"{type(value).__name__}({', '.join(_said(getattr(value, f.name)) for f in fields)})"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(_said(item) for item in value)) + "}"
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_said(item) for item in value) + ")"
    return repr(value)


@cache
def _code_digest() -> str:
    found = hashlib.sha256()
    for name in RATING_CODE:
        found.update((PACKAGE / name).read_bytes())
    return found.hexdigest()


def kept_for(
    engine: Engine,
    due: pd.DataFrame,
    basis: Basis,
    *,
    whole: bool,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """The kept ratings of these due rows (one per measure) still good today (`whole`: only
    those with every column): metric_id and `columns` (all of `KEPT` unless named), typed as
    the pipeline types them."""
    columns = KEPT if columns is None else columns
    if due.empty:
        return _frame(pd.DataFrame(columns=["metric_id", *columns]))
    if not due["metric_id"].is_unique:
        raise ValueError("kept ratings are found for one due period per measure")
    found = kept_queries.kept_rows(
        engine,
        metric_ids=due["metric_id"].tolist(),
        periods=sorted(due["period"].unique()),  # a set of Arrow strings took 35 ms at XL
        approved_only=basis.approved_only,
        rules=basis.rules,
        whole=whole,
        columns=columns,
    )
    # Each kept row's due row, found by its measure's place (a merge on the measure and the
    # period, as text, took 20 ms at XL): it is good if it is of the period due, and that
    # period was overdue, or not, on the day it was rated as it is today.
    place = pd.Index(due["metric_id"]).get_indexer(found["metric_id"])  # -1: not due
    at = np.where(place >= 0, place, 0)
    periods = due["period"].to_numpy(dtype=object)[at]
    of_period = (place >= 0) & (found["period"].to_numpy(dtype=object) == periods)
    deadline = pd.Series(due["deadline"].to_numpy()[at], index=found.index)
    then = rating.is_overdue(deadline, found["rated_today"])
    same_day_rule = (then == rating.is_overdue(deadline, basis.today)).to_numpy()
    good = found.loc[of_period & same_day_rule] if not (of_period & same_day_rule).all() else found
    return _frame(good.drop(columns=["period", "rated_today"]))


def _frame(found: pd.DataFrame) -> pd.DataFrame:
    return typed(found, metric_id=True).reset_index(drop=True)


def typed(frame: pd.DataFrame, *, metric_id: bool = False) -> pd.DataFrame:
    """The `KEPT` columns present (and `metric_id`) as the pipeline types them when it rates a
    whole month (a few rows rated alone may come out otherwise: a year with no values gives
    blank YTDs as objects)."""
    types: dict[str, Any] = {name: "float64" for name in NUMBERS}
    types |= {name: object for name in OBJECTS} | {"risk_score": "int64"}
    types |= {name: "str" for name in KEPT if name not in types}
    types |= {"metric_id": "int64"} if metric_id else {}
    wanted = {name: kind for name, kind in types.items() if name in frame and kind is not object}
    frame = frame.astype(wanted)  # in one call: each call copied the frame
    for name in OBJECTS:  # blank sentences are None in the pipeline's frame
        if name in frame:
            sentences = frame[name].to_numpy(dtype=object, na_value=None)
            frame[name] = pd.Series(sentences, index=frame.index, dtype=object)
    return frame


def keep(engine: Engine, rated: pd.DataFrame, basis: Basis, *, whole: bool, since: int) -> bool:
    """Keep these freshly rated rows unless the data changed after `since` (the data version
    read before their values were) or a writer holds the lock (`store.keep_ratings`). Whether
    they were kept."""
    if rated.empty:
        return False
    rows = _records(rated, basis, whole=whole)
    return store.keep_ratings(engine, rows, whole=whole, since=since)


def _records(rated: pd.DataFrame, basis: Basis, *, whole: bool) -> list[dict[str, Any]]:
    named = ["metric_id", "period", *KEPT]
    # A row kept whole has every column; one rated for its RAG alone leaves the commentary out.
    frame = (rated[named] if whole else rated.reindex(columns=named)).astype(object)
    frame = frame.where(frame.notna(), None)
    stamp = {
        "approved_only": basis.approved_only,
        "whole": whole,
        "rated_today": basis.today,
        "rules": basis.rules,
    }
    return [record | stamp for record in frame.to_dict("records")]


def combined(due: pd.DataFrame, found: pd.DataFrame, fresh: pd.DataFrame) -> pd.DataFrame:
    """The due rows with a kept rating, rated from it, and the freshly rated rest, in the
    pipeline's order: what rating every due row afresh gives (of the columns `found` has)."""
    if found.empty:
        return fresh
    from_kept = due.merge(found, on="metric_id")
    if fresh.empty:
        return pipeline.in_order(from_kept)
    fresh = typed(fresh[from_kept.columns])
    return pipeline.in_order(pd.concat([from_kept, fresh], ignore_index=True))
