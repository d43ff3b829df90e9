"""The ME2E dashboard of one month: headline counts per tier and their change, the alignment
tree, the priorities rolled up, the exceptions and what changed status. Pure."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics import alignment, periods
from metrics.alignment import Structure
from metrics.charts import status_label
from metrics.config import RatingRules
from metrics.display import display_table, exceptions, first_exceptions, is_exception
from metrics.explain_rollup import rollup_sentence
from metrics.frames import first_in_order, looked_up
from metrics.rating import COUNT_COLUMNS, COUNTED_AS
from metrics.vocab import Status, Tier

# What the dashboard keeps of each measure it counted (enough to check it against the CLI).
RATED_COLUMNS = ["code", "tier", "rag", "rag_before", "risk_score", "risk_level"]
# What the dashboard reads of every measure's kept rating: what it counts, rolls up and lists
# by. The rest (numbers and sentences, nine tenths of what is kept) is read for the rows it
# lists only: at XL 400 of 20,000, and the month's read fell from 13 MB to 1 MB.
COUNTED = ["rag", "risk_score", "risk_level"]
# The exceptions and changes of status the dashboard lists, highest risk first: a screen's
# reading for the Management Team; the measures page lists every one. At XL (20,000 measures)
# a month has some 10,000 exceptions, and building, caching and sending them all took a second.
LISTED = 200
MISSING = {Status.OVERDUE.value: Status.MISSING.value}  # a change between these is none
# Which way a change of status reads: a larger number is worse.
STATUS_RANK = {Status.GREEN.value: 0, Status.AMBER.value: 1, Status.RED.value: 2}


def headline(status: pd.DataFrame) -> pd.DataFrame:
    """Counts of Red, Amber, Green, Data only and Missing (Overdue included) per tier."""
    tiers = [t.value for t in Tier]
    if status.empty:
        return pd.DataFrame(0, index=tiers, columns=COUNT_COLUMNS)
    # Counted by each row's place in the table (`crosstab` took 25 ms a table at XL).
    row = looked_up(status["tier"], {tier: i for i, tier in enumerate(tiers)}, -1).to_numpy()
    across = looked_up(status["rag"], COUNTED_AS, -1).to_numpy()
    known = (row >= 0) & (across >= 0)  # a row of no tier or no status counts nowhere
    width = len(COUNT_COLUMNS)
    cells = np.bincount(row[known] * width + across[known], minlength=len(tiers) * width)
    table = pd.DataFrame(cells.reshape(len(tiers), width), index=tiers, columns=COUNT_COLUMNS)
    return table.rename_axis(index="tier", columns="rag")


def previous_months(status: pd.DataFrame, fy_start: int = 4) -> list[str]:
    """The months whose status holds each due metric's previous period."""
    labels = status["previous_period"].dropna().unique() if not status.empty else []
    return sorted({periods.month_for(str(label), fy_start).label for label in labels})


def with_previous(status: pd.DataFrame, earlier: list[pd.DataFrame]) -> pd.DataFrame:
    """Each due metric with the status it had in its own previous period (`rag_before`)."""
    frames = [f[["code", "period", "rag"]] for f in earlier if not f.empty]
    if not frames or status.empty:
        return status.assign(rag_before=pd.Series(dtype=object, index=status.index))
    before = pd.concat(frames, ignore_index=True)
    if not before["code"].is_unique:  # several periods of a measure: by code and period
        before = before.drop_duplicates(["code", "period"])
        before = before.rename(columns={"period": "previous_period", "rag": "rag_before"})
        return status.merge(before, on=["code", "previous_period"], how="left")
    # Each measure's one earlier row found by its code, if it is of its own previous period:
    # a merge on the two texts took 16 ms at XL.
    place = pd.Index(before["code"]).get_indexer(status["code"])
    period = before["period"].to_numpy(dtype=object)[np.where(place >= 0, place, 0)]
    mine = (place >= 0) & (period == status["previous_period"].to_numpy(dtype=object))
    rag = before["rag"].array.take(np.where(mine, place, -1), allow_fill=True)
    return status.assign(rag_before=pd.Series(rag, index=status.index)).reset_index(drop=True)


def headline_change(status: pd.DataFrame) -> pd.DataFrame:
    """Per tier and status: the count now minus the count last period, of only the measures that
    have a previous status (like with like); NaN for a tier where none has one (no delta)."""
    known = status[status["rag_before"].notna()] if not status.empty else status
    now = headline(known)
    was = headline(known.assign(rag=known["rag_before"]))
    compared = known["tier"].value_counts() if not known.empty else pd.Series(dtype=int)
    change = (now - was).astype(float)
    change.loc[~change.index.isin(compared.index)] = np.nan
    return change


def changed(status: pd.DataFrame) -> pd.Series:
    """A measure changed status when it differs from its previous period's (`rag_before`),
    Overdue counting as Missing."""
    if status.empty:
        return pd.Series(dtype=bool, index=status.index)
    # compared as Python objects: pandas' own comparison of text, after a replace of each column,
    # took 5 ms a call at XL, and the dashboard asks three times
    now, was = status["rag"].to_numpy(dtype=object), status["rag_before"].to_numpy(dtype=object)
    overdue, gap = Status.OVERDUE.value, Status.MISSING.value
    moved = np.where(now == overdue, gap, now) != np.where(was == overdue, gap, was)
    return pd.Series(pd.notna(was) & moved, index=status.index)


def first_changes(status: pd.DataFrame, *, limit: int | None = None) -> pd.DataFrame:
    """Which way each measure that changed status moved (`change`), worst news first (the first
    `limit` if given), by the few columns that say it, labelled as in `status`. Overdue counts
    as Missing (so Overdue to Missing is no change), and Missing is worse than Green."""
    if status.empty:
        return pd.DataFrame(columns=["rag", "rag_before", "risk_score", "code", "change"])
    moved = status.loc[changed(status), ["rag", "rag_before", "risk_score", "code"]]
    if moved.empty:
        return moved.assign(change=pd.Series(dtype=object))
    # Compared as numbers and Python objects: pandas' replace, map and comparisons of text took
    # 40 ms for XL's 10,000 changes.
    now, was = (
        looked_up(moved[c], STATUS_RANK).to_numpy(dtype=float) for c in ("rag", "rag_before")
    )
    after, before = (moved[c].to_numpy(dtype=object) for c in ("rag", "rag_before"))
    green, gaps = Status.GREEN.value, [Status.MISSING.value, Status.OVERDUE.value]
    gap_now = np.isin(after, gaps)
    gap_before = np.isin(before, gaps)
    worse = (now > was) | (gap_now & (before == green))
    better = (now < was) | (gap_before & (after == green))
    order = np.select([worse, better], [0, 2], 1)  # worse news first
    moved["change"] = np.array(["▼ Worse", "► Changed", "▲ Better"])[order]
    moved["_order"] = order
    by, ascending = ["_order", "risk_score", "code"], [True, False, True]
    return first_in_order(moved, by, ascending, limit=limit).drop(columns="_order")


def changes(status: pd.DataFrame, *, limit: int | None = None) -> pd.DataFrame:
    """Metrics whose status differs from their previous period's, worst news first (the first
    `limit` if given), as `first_changes` orders them."""
    columns = ["code", "Change", "Was", "Now", "Measure", "Tier", "Actual", "Target", "Why"]
    chosen = first_changes(status, limit=limit)
    if chosen.empty:
        return pd.DataFrame(columns=columns)
    # The rows listed are taken whole only now.
    moved = status.loc[chosen.index].assign(change=chosen["change"])
    table = display_table(moved)
    table.insert(1, "Was", moved["rag_before"].map(status_label).to_numpy())
    table.insert(2, "Now", moved["rag"].map(status_label).to_numpy())
    table.insert(3, "Change", moved["change"].to_numpy())
    return table[columns]


@dataclass(frozen=True)
class DashboardView:
    """What the ME2E dashboard shows for one month."""

    period: str
    rated: pd.DataFrame  # every measure due: code, rag, rag_before, risk, explanation
    headline: pd.DataFrame  # tier × status counts
    change: pd.DataFrame  # tier × status: change since each measure's previous period
    nodes: pd.DataFrame  # the line-of-sight tree down to initiatives and services (`overview`)
    priorities: pd.DataFrame  # one row per priority, rolled up
    exceptions: pd.DataFrame  # the first LISTED, highest risk first
    changes: pd.DataFrame  # the first LISTED, worst news first
    exceptions_total: int  # how many measures are Red or Amber
    changes_total: int  # how many changed status
    compared_with: list[str]  # the months the previous statuses came from


def listed(current: pd.DataFrame) -> pd.DataFrame:
    """The rows the dashboard lists (its first exceptions and first changes of status, each
    measure once), of the month's status with each one's `rag_before`."""
    shown = first_exceptions(current, limit=LISTED).index.union(
        first_changes(current, limit=LISTED).index
    )
    return current.loc[shown]


def same_ratings(counted: pd.DataFrame, whole: pd.DataFrame) -> bool:
    """Whether rows read whole rate each measure as the rows counted did (`COUNTED`): not so
    when a write came between the two reads."""
    keys = ["code", *COUNTED]
    before = counted[keys].astype(object).sort_values("code", ignore_index=True)
    after = whole[keys].astype(object).sort_values("code", ignore_index=True)
    return before.equals(after)


def assemble(
    month: str,
    current: pd.DataFrame,
    shown: pd.DataFrame,
    compared_with: list[str],
    rows: pd.DataFrame,
    where: Structure,
    *,
    rules: RatingRules,
) -> DashboardView:
    """Assemble the dashboard from this month's status with each measure's previous status
    (`with_previous`), the rows it may list read whole (all of them, or those `listed`), the
    months the previous statuses came from and this month's `placed()` rows."""
    nodes = alignment.tree(rows, where, rules=rules, whole=False)  # the overview's nodes
    top = nodes[nodes["kind"] == "priority"] if len(nodes) else nodes
    priorities = pd.DataFrame(
        {
            "code": top.get("code", pd.Series(dtype=object)),
            "Name": top.get("label", pd.Series(dtype=object)),
            "Status": top.get("status", pd.Series(dtype=object)).map(status_label),
            **{c: top.get(c, pd.Series(dtype=int)) for c in COUNT_COLUMNS},
            # each row counts what its page counts, so it opens the whole priority
            "Why": rollup_sentence(top, rules=rules) if len(top) else pd.Series(dtype=object),
            "kind": "priority",
        }
    ).reset_index(drop=True)
    return DashboardView(
        period=month,
        rated=current.reindex(columns=RATED_COLUMNS),
        headline=headline(current),
        change=headline_change(current),
        nodes=nodes,
        priorities=priorities,
        # the lists hold the first of all: chosen among the rows listed, they come out the same
        exceptions=exceptions(shown, limit=LISTED),
        changes=changes(shown, limit=LISTED),
        exceptions_total=int(is_exception(current).sum()) if len(current) else 0,
        changes_total=int(changed(current).sum()),
        compared_with=compared_with,
    )
