"""Comparing two committee snapshots, both seen at one clearance: which statuses moved, which
measures became Red or recovered, and which were added or retired between them."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Engine

from metrics.snapshots import Frozen, show
from metrics.vocab import Status


@dataclass(frozen=True)
class Comparison:
    """What moved between two snapshots (both seen at one clearance)."""

    movements: pd.DataFrame  # code, title, tier, before, after: every status that changed
    new_reds: pd.DataFrame  # became Red (or arrived Red)
    recovered: pd.DataFrame  # were Red, now Amber or Green
    added: pd.DataFrame  # in the later snapshot only
    retired: pd.DataFrame  # in the earlier snapshot only


def compare(before: Frozen, after: Frozen) -> Comparison:
    """Status movements, new reds, recovered reds, and measures added or retired."""
    keep = ["code", "title", "tier", "status", "commentary", "risk_score", "risk_level"]
    old = before.rows[keep].set_index("code")
    new = after.rows[keep].set_index("code")
    both = new.join(old[["status"]].rename(columns={"status": "before"}), how="inner")
    both = both.rename(columns={"status": "after"}).reset_index()
    moved = both[both["before"] != both["after"]].reset_index(drop=True)
    red = Status.RED.value
    arrived = new.loc[new.index.difference(old.index)].reset_index()
    arrived_red = arrived[arrived["status"] == red].rename(columns={"status": "after"})
    arrived_red.insert(3, "before", "")
    new_reds = pd.concat(
        [moved[(moved["after"] == red)], arrived_red], ignore_index=True
    ).reset_index(drop=True)
    rated = moved["after"].isin([Status.AMBER.value, Status.GREEN.value])
    recovered = moved[(moved["before"] == red) & rated].reset_index(drop=True)
    retired = old.loc[old.index.difference(new.index)].reset_index()
    return Comparison(
        movements=moved,
        new_reds=new_reds,
        recovered=recovered,
        added=arrived.reset_index(drop=True),
        retired=retired.reset_index(drop=True),
    )


def compare_snapshots(
    engine: Engine, before_id: int, after_id: int, *, clearance: str
) -> Comparison:
    """`compare` of two stored snapshots, both seen at one clearance."""
    return compare(
        show(engine, before_id, clearance=clearance), show(engine, after_id, clearance=clearance)
    )
