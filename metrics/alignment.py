"""The alignment: which Corporate Plan priority each measure serves, and the tree of
priorities, initiatives, services, teams and measures a dashboard draws (the "line of sight" of
`docs/line-of-sight.md`).

Pure: frames in, frames out. Everything here works on frames that `metrics.queries` already
filtered by clearance: a code the reader may not see is never aligned to and never named.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from metrics import rating
from metrics.charts import status_label
from metrics.config import RatingRules
from metrics.display import count_bar, counts_text
from metrics.frames import among
from metrics.rating import COUNT_COLUMNS
from metrics.vocab import Tier

UNALIGNED = "-"


UNALIGNED_LABEL = "Not aligned to a priority"


# A measure serves its own priority and the priorities of the measure it is aligned to; only
# when it has neither does it serve the priorities its ME2E initiative delivers.
VIA_ORDER = {"priority": 0, "aligned": 0, "initiative": 1}


@dataclass(frozen=True)
class Structure:
    """Priorities, initiatives (and the priorities each delivers), services and teams."""

    priorities: pd.DataFrame  # code, name, sort_order
    initiatives: pd.DataFrame  # code, name
    delivers: pd.DataFrame  # initiative_code, priority_code
    services: pd.DataFrame  # code, name
    teams: pd.DataFrame  # code, name, service_code

    def table(self, kind: str) -> pd.DataFrame:
        """The rows of one kind: priority, initiative, service or team."""
        return {
            "priority": self.priorities,
            "initiative": self.initiatives,
            "service": self.services,
            "team": self.teams,
        }[kind]

    def name(self, kind: str, code: str) -> str | None:
        """The name of a priority, initiative, service or team; None for an unknown code."""
        return self._names[kind][0].get(code)

    def options(self, kind: str) -> dict[str, str]:
        """Code → name of every item of a kind, in display order (a team as 'Service: Team')."""
        return dict(self._names[kind][1])

    def team_labels(self) -> pd.Series:
        """Every team as 'Service: Team', in the teams' order (one join, not a scan per team)."""
        services = self.services.set_index("code")["name"]
        return self.teams["service_code"].map(services).fillna("") + ": " + self.teams["name"]

    def team_label(self, code: str) -> str:
        """'Housing: Options': a team's name is only unique within its service."""
        return self._names["team"][1].get(code, code)

    @cached_property
    def _names(self) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
        # Built once: a page names hundreds of levels, and a scan of a table each took a
        # millisecond (two seconds of a priority page at XL).
        found = {}
        for kind in ("priority", "initiative", "service", "team"):
            table = self.table(kind)
            names = dict(zip(table["code"], table["name"].astype(str), strict=True))
            shown = self.team_labels() if kind == "team" else table["name"]
            found[kind] = names, dict(zip(table["code"], shown, strict=True))
        return found


def mask_alignment(frame: pd.DataFrame, visible: pd.Series | None = None) -> pd.DataFrame:
    """`aligned_to` kept only where it names a visible metric (else the code would leak)."""
    visible = frame["code"] if visible is None else visible
    # a new frame sharing the other columns (pandas copies on write): a copy of XL's 20,000
    # templates took 4 ms
    return frame.assign(aligned_to=frame["aligned_to"].where(among(frame["aligned_to"], visible)))


def priorities_served(metrics: pd.DataFrame, delivers: pd.DataFrame) -> pd.DataFrame:
    """One row per metric and priority it serves: its own priority and the priorities of the
    metric it is aligned to; failing both, those its ME2E initiative delivers; else none
    (UNALIGNED).

    Columns: code, priority_code, via ('priority', 'aligned', 'initiative' or 'none').
    """
    # Worked out on numbers: each measure is its row in `metrics`, each priority and initiative
    # a number. Grouping and merging XL's 20,000 codes as text took 40 ms.
    n = len(metrics)
    priority, priorities = pd.factorize(
        pd.concat([metrics["priority_code"], delivers["priority_code"]], ignore_index=True)
    )
    initiative, _ = pd.factorize(
        pd.concat([metrics["initiative_code"], delivers["initiative_code"]], ignore_index=True)
    )
    has_own, has_initiative = priority[:n] >= 0, initiative[:n] >= 0
    own = _rows(at=np.flatnonzero(has_own), priority=priority[:n][has_own])
    by_initiative = _rows(at=np.flatnonzero(has_initiative), via=initiative[:n][has_initiative])
    delivered = _rows(via=initiative[n:], priority=priority[n:])
    by_initiative = by_initiative.merge(delivered, on="via")[["at", "priority"]]
    direct = _first_source({"priority": own, "initiative": by_initiative}, n)
    target = pd.Index(metrics["code"]).get_indexer(metrics["aligned_to"])
    aligned = _rows(at=np.flatnonzero(target >= 0), via=target[target >= 0]).merge(
        direct[["at", "priority"]].rename(columns={"at": "via"}), on="via"
    )[["at", "priority"]]
    served = _first_source({"priority": own, "aligned": aligned, "initiative": by_initiative}, n)
    orphans = np.setdiff1d(np.arange(n), served["at"].to_numpy())
    at = np.concatenate([served["at"].to_numpy(), orphans]).astype(np.int64)
    chosen = np.concatenate([served["priority"].to_numpy(), np.full(len(orphans), -1)])
    names = np.append(np.asarray(priorities, dtype=object), UNALIGNED)  # at -1: none
    return pd.DataFrame(
        {
            "code": pd.array(metrics["code"].to_numpy(dtype=object)[at], dtype="str"),
            "priority_code": pd.array(names[chosen.astype(np.int64)], dtype="str"),
            # joined as arrays: unpacked, pandas gave each of XL's 20,000 texts one by one (10 ms)
            "via": pd.array(
                np.concatenate([served["via"].to_numpy(dtype=object), ["none"] * len(orphans)]),
                dtype="str",
            ),
        }
    )


def _rows(**columns: np.ndarray) -> pd.DataFrame:
    """Measures (`at`: their rows in the catalogue) and what serves them, as numbers."""
    return pd.DataFrame({name: values.astype(np.int64) for name, values in columns.items()})


def _first_source(sources: dict[str, pd.DataFrame], n: int) -> pd.DataFrame:
    """Per measure, the (measure, priority) rows of its most direct sources (`VIA_ORDER`),
    each pair once, source by source in their order: at, priority, via."""
    best = np.full(n, len(VIA_ORDER))
    for via, rows in sources.items():
        np.minimum.at(best, rows["at"].to_numpy(), VIA_ORDER[via])
    kept = pd.concat(
        [
            rows[best[rows["at"].to_numpy()] == VIA_ORDER[via]].assign(via=via)
            for via, rows in sources.items()
        ],
        ignore_index=True,
    )
    return kept[~kept.duplicated(["at", "priority"])].reset_index(drop=True)


SEPARATOR = "|"  # between the steps of a node id; codes may hold "/" (team codes do)


def placed(status: pd.DataFrame, served: pd.DataFrame) -> pd.DataFrame:
    """Status rows, one per priority each metric serves (`serves`, and `via`: how). Their
    places in the tree are named by `tree` (`node_ids`), the one reader of them."""
    return status.merge(served.rename(columns={"priority_code": "serves"}), on="code", how="inner")


def node_ids(rows: pd.DataFrame) -> pd.DataFrame:
    """`placed()` rows with the ids of the metric's nodes in the whole tree (only its reader
    builds them: for 20,000 measures of XL they took 30 ms of every month's reading).

    Ids are paths, so a team that serves two priorities appears under both:
    `P:<priority>`, then `|I:<initiative>` (ME2E) or `|S:<service>|T:<team>` (Service
    Standards), then `|M:<code>`.
    """
    top = "P:" + rows["serves"].astype(str)
    me2e, service_tier, code = _second_step(rows)
    # One path built per row, its step chosen first: both paths built for every row and one
    # taken cost a third more at XL.
    step = pd.Series(np.where(me2e, SEPARATOR + "I:", SEPARATOR + "S:"), index=rows.index)
    second = (top + step + code.astype(str)).where(me2e | service_tier, "")
    rows = rows.assign(node_priority=top, node_second=second)
    third = (second + SEPARATOR + "T:" + rows["team_code"].fillna(UNALIGNED).astype(str)).where(
        service_tier, ""
    )
    parent = third.where(third != "", second.where(second != "", top))
    return rows.assign(
        node_third=third,
        node_parent=parent,
        node_id=parent + SEPARATOR + "M:" + rows["code"].astype(str),
    )


def _second_step(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Where each measure sits below its priority: whether it is ME2E, whether it is a Service
    Standards measure, and the code of its initiative or service (UNALIGNED where none)."""
    me2e = rows["tier"] == Tier.ME2E.value
    service = rows["tier"] == Tier.SERVICE_STANDARDS.value
    return (
        me2e,
        service,
        rows["initiative_code"].where(me2e, rows["service_code"]).fillna(UNALIGNED),
    )


# What a membership row keeps of its metric: where it sits, and what the roll-up (rag,
# risk_level) and a leaf's title read. A placed row holds some sixty columns; copying them all
# for each level took 0.1 s at XL.
MEMBER_COLUMNS = [
    *("code", "title", "tier", "rag", "risk_level", "serves", "initiative_code"),
    *("service_code", "team_code", "node_priority", "node_second", "node_third"),
    *("node_id", "node_parent"),
]


def _levels(rows: pd.DataFrame) -> pd.DataFrame:
    """One membership row per metric and node above it, itself included: node, parent, kind
    and code of the node, with what the roll-up and the leaves read of the metric (`rows`:
    MEMBER_COLUMNS)."""
    levels = [
        ("node_priority", None, "priority", "serves"),
        ("node_second", "node_priority", "initiative", "initiative_code"),
        ("node_third", "node_second", "team", "team_code"),
        ("node_id", "node_parent", "metric", "code"),
    ]
    frames = []
    for column, parent, kind, code in levels:
        above = rows[parent] if parent else ""
        frame = rows.assign(node=rows[column], parent=above, kind=kind, node_code=rows[code])
        if column == "node_second":
            service = frame["tier"] == Tier.SERVICE_STANDARDS.value
            frame["kind"] = np.where(service, "service", "initiative")
            frame["node_code"] = frame["service_code"].where(service, frame["initiative_code"])
        frames.append(frame)
    membership = pd.concat(frames, ignore_index=True)
    membership["node_code"] = membership["node_code"].fillna(UNALIGNED).astype(str)
    # compared as Python objects: pandas' own comparison of text checks each for missing first
    return membership[membership["node"].to_numpy(dtype=object) != ""]


def tree(
    rows: pd.DataFrame, where: Structure, *, rules: RatingRules, whole: bool = True
) -> pd.DataFrame:
    """Tree nodes from `placed()` rows (named by `node_ids`): id, parent, kind, code, label,
    title, value, the status counts, the rolled-up status (a metric's own status for a leaf)
    and a one-line summary of the counts. Not `whole`: the priorities and the initiatives and
    services under them only (what `overview` shows), without the teams and measures (20,000
    leaves at XL)."""
    if rows.empty:
        return pd.DataFrame(
            columns=["id", "parent", "kind", "code", "label", "title", "value", "status", "summary"]
        )
    nodes = _every_node(rows, rules) if whole else _overview_nodes(rows, rules)
    is_leaf = nodes["kind"] == "metric"
    nodes["value"] = nodes[COUNT_COLUMNS].sum(axis=1)
    names = _names(nodes, where)
    nodes["label"] = names.where(~is_leaf, nodes["code"])
    nodes["title"] = (nodes["code"] + ": " + nodes.pop("_title")).where(is_leaf, names)
    nodes["summary"] = counts_text(nodes)
    order = nodes.pop("_priority").map(_priority_order(where))
    nodes["_order"] = order.fillna(len(where.priorities))
    nodes = nodes.sort_values(["_order", "id"]).drop(columns="_order")
    return nodes.reset_index(drop=True)


def _every_node(rows: pd.DataFrame, rules: RatingRules) -> pd.DataFrame:
    """Every node, a measure's own for a leaf, rolled up from a membership row per measure and
    node above it: the counts, status, parent, kind and code of each, a leaf's title (`_title`)
    and the node of its priority (`_priority`)."""
    # narrowed first: each level copies these rows, and the ids are added to the narrow ones
    narrow = rows[[c for c in MEMBER_COLUMNS if c in rows]]
    membership = _levels(node_ids(narrow))
    nodes = rating.rollup(membership, "node", rules=rules).rename(columns={"node": "id"})
    meta = membership.drop_duplicates("node").set_index("node")
    nodes["parent"] = nodes["id"].map(meta["parent"])
    nodes["kind"] = nodes["id"].map(meta["kind"])
    nodes["code"] = nodes["id"].map(meta["node_code"])
    is_leaf = nodes["kind"] == "metric"
    nodes.loc[is_leaf, "status"] = nodes.loc[is_leaf, "id"].map(meta["rag"])
    nodes["_title"] = nodes["id"].map(meta["title"])
    nodes["_priority"] = nodes["id"].map(meta["node_priority"])
    return nodes


def _overview_nodes(rows: pd.DataFrame, rules: RatingRules) -> pd.DataFrame:
    """The priorities and the initiatives and services under them, as `_every_node` gives them,
    rolled up from the rows grouped by where they sit: an id is built for each of XL's 1,800
    such nodes, not for each of its 19,000 rows (and twice as many memberships)."""
    me2e, service, code = _second_step(rows)
    places = rows[["serves", *rating.ROLLUP_READS]].assign(
        kind=pd.Series(np.select([me2e, service], ["initiative", "service"], ""), index=rows.index),
        code=code.where(me2e | service, ""),  # none: counted in its priority only
    )
    seconds = rating.rollup(places, ["serves", "kind", "code"], rules=rules)
    counted = [*COUNT_COLUMNS, "high_red"]
    tops = seconds.groupby("serves", sort=True)[counted].sum().reset_index()
    tops["status"] = rating.rollup_status(tops, tops["high_red"] > 0, rules=rules)
    top = "P:" + tops["serves"].astype(str)
    tops = tops.assign(id=top, parent="", kind="priority", code=tops["serves"], _priority=top)
    seconds = seconds[seconds["kind"] != ""]
    above = "P:" + seconds["serves"].astype(str)
    step = np.where(seconds["kind"] == "initiative", SEPARATOR + "I:", SEPARATOR + "S:")
    seconds = seconds.assign(id=above + step + seconds["code"], parent=above, _priority=above)
    columns = ["id", *counted, "status", "parent", "kind", "code", "_priority"]
    nodes = pd.concat([tops[columns], seconds[columns]], ignore_index=True)
    return nodes.assign(_title="")  # no leaf here


def _names(nodes: pd.DataFrame, where: Structure) -> pd.Series:
    # the structure's own lookups, built once: XL's 600 teams took 1 ms a tree to look up again
    lookup = {kind: names for kind, (names, _) in where._names.items()}
    names = pd.Series(
        [
            lookup.get(kind, {}).get(code)
            for kind, code in zip(nodes["kind"], nodes["code"], strict=True)
        ],
        index=nodes.index,
        dtype=object,
    )
    unaligned = (nodes["kind"] == "priority") & (nodes["code"] == UNALIGNED)
    names[unaligned] = UNALIGNED_LABEL
    return names.fillna("(none)")


def _priority_order(where: Structure) -> dict[str, int]:
    return {f"P:{code}": i for i, code in enumerate(where.priorities["code"])}


OVERVIEW_KINDS = ("priority", "initiative", "service")
CHILD_MARK = "\u2003└ "  # an em space and a corner: a child reads as under its priority


def overview(nodes: pd.DataFrame) -> pd.DataFrame:
    """The line of sight to read at a glance: each priority, then the initiatives and services
    under it (from `tree()`, in its order), with status, the five counts and a symbol bar.

    Columns: id, kind, code, Name (a child indented), Status, the counts, Bar."""
    columns = ["id", "kind", "code", "Name", "Status", *COUNT_COLUMNS, "Bar"]
    rows = nodes[nodes["kind"].isin(OVERVIEW_KINDS)] if len(nodes) else nodes
    if rows.empty:
        return pd.DataFrame(columns=columns)
    child = rows["kind"] != "priority"
    name = rows["label"].astype(str)
    return (
        rows.assign(
            Name=name.where(~child, CHILD_MARK + name),
            Status=rows["status"].map(status_label),
            Bar=count_bar(rows),
        )[columns]
        .astype({c: int for c in COUNT_COLUMNS})
        .reset_index(drop=True)
    )


# The tier of the measures a tree segment under a priority counts (`placed`).
SEGMENT_TIER = {
    "initiative": Tier.ME2E.value,
    "service": Tier.SERVICE_STANDARDS.value,
    "team": Tier.SERVICE_STANDARDS.value,
}


def node_target(nodes: pd.DataFrame, node_id: str) -> tuple[str, str, dict[str, str]] | None:
    """The page a tree segment opens: its kind, code and the query that narrows it to what the
    segment counts (a service under a priority: its Service Standards measures serving that
    priority; `docs/line-of-sight.md`); None for 'not aligned' groupings."""
    found = nodes[nodes["id"] == node_id]
    if found.empty or found["code"].iloc[0] == UNALIGNED:
        return None
    kind, code = str(found["kind"].iloc[0]), str(found["code"].iloc[0])
    query = {}
    if kind in SEGMENT_TIER:
        query = {"serving": node_id.partition(SEPARATOR)[0][2:], "tier": SEGMENT_TIER[kind]}
    return kind, code, query
