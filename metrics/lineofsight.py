"""The line of sight, read side: which priority each measure serves, the tree a dashboard draws,
roll-ups at every level, the views a drill-down page shows, a metric's history and audit trail,
and what changed status since the previous period.

Everything here works on frames that `metrics.queries` already filtered by clearance: a code the
user may not see is never looked up, never aligned to, and reads exactly like an unknown one.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Engine, and_, func, or_, select

from metrics import periods, queries, rating
from metrics.charts import direction_label, status_label
from metrics.config import RatingDefaults
from metrics.models import (
    AuditLog,
    Initiative,
    InitiativePriority,
    Metric,
    PeriodValue,
    Priority,
    Service,
    Team,
)
from metrics.rating import COUNT_COLUMNS, format_value
from metrics.vocab import Aggregation, Status, Tier

UNALIGNED = "-"
UNALIGNED_LABEL = "Not aligned to a priority"
NOTHING_DUE = "– nothing due"
# Which way a change of status reads: a larger number is worse.
STATUS_RANK = {Status.GREEN.value: 0, Status.AMBER.value: 1, Status.RED.value: 2}
# A measure serves its own priority and the priorities of the measure it is aligned to; only
# when it has neither does it serve the priorities its ME2E initiative delivers.
VIA_ORDER = {"priority": 0, "aligned": 0, "initiative": 1}


# --- The structure above the metrics ----------------------------------------------------------


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
        table = self.table(kind)
        found = table.loc[table["code"] == code, "name"]
        return None if found.empty else str(found.iloc[0])

    def options(self, kind: str) -> dict[str, str]:
        """Code → name of every item of a kind, in display order."""
        table = self.table(kind)
        names = self.team_labels() if kind == "team" else table["name"]
        return dict(zip(table["code"], names, strict=True))

    def team_labels(self) -> pd.Series:
        """Every team as 'Service: Team', in the teams' order (one join, not a scan per team)."""
        services = self.services.set_index("code")["name"]
        return self.teams["service_code"].map(services).fillna("") + ": " + self.teams["name"]

    def team_label(self, code: str) -> str:
        """'Housing: Options': a team's name is only unique within its service."""
        return self.options("team").get(code, code)


def structure(engine: Engine) -> Structure:
    """Everything above the metrics; none of it carries a protective marking."""
    with engine.connect() as connection:
        priorities = pd.read_sql(
            select(Priority.code, Priority.name, Priority.sort_order).order_by(
                Priority.sort_order, Priority.code
            ),
            connection,
        )
        initiatives = pd.read_sql(
            select(Initiative.code, Initiative.name).order_by(Initiative.code), connection
        )
        delivers = pd.read_sql(
            select(Initiative.code.label("initiative_code"), Priority.code.label("priority_code"))
            .join(InitiativePriority, InitiativePriority.initiative_id == Initiative.id)
            .join(Priority, InitiativePriority.priority_id == Priority.id)
            .order_by(Priority.sort_order, Initiative.code),
            connection,
        )
        services = pd.read_sql(
            select(Service.code, Service.name).order_by(Service.name), connection
        )
        teams = pd.read_sql(
            select(Team.code, Team.name, Service.code.label("service_code"))
            .join(Service, Team.service_id == Service.id)
            .order_by(Service.name, Team.name),
            connection,
        )
    return Structure(priorities, initiatives, delivers, services, teams)


# --- Which priority each metric serves ---------------------------------------------------------


def catalogue(engine: Engine, clearance: str) -> pd.DataFrame:
    """Metric templates the clearance may see; an alignment to a metric it may not see is blank."""
    return mask_alignment(queries.metric_frame(engine, clearance=clearance))


def mask_alignment(frame: pd.DataFrame, visible: pd.Series | None = None) -> pd.DataFrame:
    """`aligned_to` kept only where it names a visible metric (else the code would leak)."""
    visible = frame["code"] if visible is None else visible
    frame = frame.copy()
    frame["aligned_to"] = frame["aligned_to"].where(frame["aligned_to"].isin(set(visible)))
    return frame


def priorities_served(metrics: pd.DataFrame, delivers: pd.DataFrame) -> pd.DataFrame:
    """One row per metric and priority it serves: its own priority and the priorities of the
    metric it is aligned to; failing both, those its ME2E initiative delivers; else none
    (UNALIGNED).

    Columns: code, priority_code, via ('priority', 'aligned', 'initiative' or 'none').
    """
    own = metrics.loc[metrics["priority_code"].notna(), ["code", "priority_code"]].assign(
        via="priority"
    )
    by_initiative = (
        metrics[["code", "initiative_code"]]
        .dropna()
        .merge(delivers, on="initiative_code")[["code", "priority_code"]]
        .assign(via="initiative")
    )
    direct = _first_source(pd.concat([own, by_initiative], ignore_index=True))
    aligned = (
        metrics[["code", "aligned_to"]]
        .dropna()
        .merge(
            direct[["code", "priority_code"]].rename(columns={"code": "aligned_to"}),
            on="aligned_to",
        )[["code", "priority_code"]]
        .assign(via="aligned")
    )
    served = _first_source(pd.concat([own, aligned, by_initiative], ignore_index=True))
    orphans = metrics.loc[~metrics["code"].isin(served["code"]), ["code"]].assign(
        priority_code=UNALIGNED, via="none"
    )
    return pd.concat([served, orphans], ignore_index=True).drop_duplicates(
        ["code", "priority_code"]
    )


def _first_source(candidates: pd.DataFrame) -> pd.DataFrame:
    """Keep, per metric, the rows of its most direct source of priorities."""
    if candidates.empty:
        return candidates.assign(rank=[]).drop(columns="rank")
    rank = candidates["via"].map(VIA_ORDER)
    best = rank.groupby(candidates["code"]).transform("min")
    return candidates[rank == best].drop_duplicates(["code", "priority_code"])


# --- The tree ---------------------------------------------------------------------------------


SEPARATOR = "|"  # between the steps of a node id; codes may hold "/" (team codes do)


def placed(status: pd.DataFrame, served: pd.DataFrame) -> pd.DataFrame:
    """Status rows, one per priority each metric serves (`serves`, and `via`: how), with the
    ids of the metric's nodes in the tree.

    Ids are paths, so a team that serves two priorities appears under both:
    `P:<priority>`, then `|I:<initiative>` (ME2E) or `|S:<service>|T:<team>` (Service
    Standards), then `|M:<code>`.
    """
    rows = status.merge(served.rename(columns={"priority_code": "serves"}), on="code", how="inner")
    top = "P:" + rows["serves"].astype(str)
    me2e = rows["tier"] == Tier.ME2E.value
    service_tier = rows["tier"] == Tier.SERVICE_STANDARDS.value
    second = pd.Series(
        np.select(
            [me2e, service_tier],
            [
                top + SEPARATOR + "I:" + rows["initiative_code"].fillna(UNALIGNED).astype(str),
                top + SEPARATOR + "S:" + rows["service_code"].fillna(UNALIGNED).astype(str),
            ],
            "",
        ),
        index=rows.index,
    )
    third = (second + SEPARATOR + "T:" + rows["team_code"].fillna(UNALIGNED).astype(str)).where(
        service_tier, ""
    )
    parent = third.where(third != "", second.where(second != "", top))
    rows["node_priority"], rows["node_second"], rows["node_third"] = top, second, third
    rows["node_parent"] = parent
    rows["node_id"] = parent + SEPARATOR + "M:" + rows["code"].astype(str)
    return rows


def _levels(rows: pd.DataFrame) -> pd.DataFrame:
    """One membership row per metric and node above it (itself included): node, parent,
    kind and code of the node, with the metric's status columns."""
    unused = pd.Series("", index=rows.index)
    levels = [
        ("node_priority", unused, "priority", rows["serves"]),
        ("node_second", rows["node_priority"], "initiative", rows["initiative_code"]),
        ("node_third", rows["node_second"], "team", rows["team_code"]),
        ("node_id", rows["node_parent"], "metric", rows["code"]),
    ]
    frames = []
    for column, parent, kind, code in levels:
        frame = rows.assign(node=rows[column], parent=parent, kind=kind, node_code=code)
        if column == "node_second":
            service = frame["tier"] == Tier.SERVICE_STANDARDS.value
            frame["kind"] = np.where(service, "service", "initiative")
            frame["node_code"] = frame["service_code"].where(service, frame["initiative_code"])
        frames.append(frame)
    membership = pd.concat(frames, ignore_index=True)
    membership["node_code"] = membership["node_code"].fillna(UNALIGNED).astype(str)
    return membership[membership["node"] != ""]


def tree(rows: pd.DataFrame, where: Structure, *, rules: RatingDefaults) -> pd.DataFrame:
    """Sunburst nodes from `placed()` rows: id, parent, kind, code, label, title, value, the
    status counts, the rolled-up status (a metric's own status for a leaf) and a one-line
    summary of the counts."""
    if rows.empty:
        return pd.DataFrame(
            columns=["id", "parent", "kind", "code", "label", "title", "value", "status", "summary"]
        )
    membership = _levels(rows)
    nodes = rating.rollup(membership, "node", rating=rules).rename(columns={"node": "id"})
    meta = membership.drop_duplicates("node").set_index("node")
    nodes["parent"] = nodes["id"].map(meta["parent"])
    nodes["kind"] = nodes["id"].map(meta["kind"])
    nodes["code"] = nodes["id"].map(meta["node_code"])
    is_leaf = nodes["kind"] == "metric"
    nodes.loc[is_leaf, "status"] = nodes.loc[is_leaf, "id"].map(meta["rag"])
    nodes["value"] = nodes[COUNT_COLUMNS].sum(axis=1)
    names = _names(nodes, where)
    nodes["label"] = names.where(~is_leaf, nodes["code"])
    nodes["title"] = (nodes["code"] + ": " + nodes["id"].map(meta["title"])).where(is_leaf, names)
    nodes["summary"] = counts_text(nodes)
    order = nodes["id"].str.partition(SEPARATOR)[0].map(_priority_order(where))
    nodes["_order"] = order.fillna(len(where.priorities))
    nodes = nodes.sort_values(["_order", "id"]).drop(columns="_order")
    return nodes.reset_index(drop=True)


def _names(nodes: pd.DataFrame, where: Structure) -> pd.Series:
    lookup = {
        "priority": dict(zip(where.priorities["code"], where.priorities["name"], strict=True)),
        "initiative": dict(zip(where.initiatives["code"], where.initiatives["name"], strict=True)),
        "service": dict(zip(where.services["code"], where.services["name"], strict=True)),
        "team": dict(zip(where.teams["code"], where.teams["name"], strict=True)),
    }
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


def node_target(nodes: pd.DataFrame, node_id: str) -> tuple[str, str] | None:
    """The page a tree segment opens: its kind and code (None for 'not aligned' groupings)."""
    found = nodes[nodes["id"] == node_id]
    if found.empty or found["code"].iloc[0] == UNALIGNED:
        return None
    return str(found["kind"].iloc[0]), str(found["code"].iloc[0])


def counts_text(counts: pd.DataFrame) -> pd.Series:
    """'2 Red · 1 Amber · 5 Green · 0 Data only · 1 Missing', status words always spelled out."""
    parts = [counts[c].astype(int).astype(str) + " " + c for c in COUNT_COLUMNS]
    text = parts[0]
    for part in parts[1:]:
        text = text + " · " + part
    return text


# --- Headline counts and what changed -----------------------------------------------------------


def headline(status: pd.DataFrame) -> pd.DataFrame:
    """Counts of Red, Amber, Green, Data only and Missing (Overdue included) per tier."""
    tiers = [t.value for t in Tier]
    if status.empty:
        return pd.DataFrame(0, index=tiers, columns=COUNT_COLUMNS)
    rag = status["rag"].replace(Status.OVERDUE.value, Status.MISSING.value)
    table = pd.crosstab(status["tier"], rag).reindex(index=tiers, columns=COUNT_COLUMNS)
    return table.fillna(0).astype(int)


def previous_months(status: pd.DataFrame, fy_start: int = 4) -> list[str]:
    """The months whose status holds each due metric's previous period."""
    labels = status["previous_period"].dropna().unique() if not status.empty else []
    return sorted({queries.month_for(str(label), fy_start).label for label in labels})


def with_previous(status: pd.DataFrame, earlier: list[pd.DataFrame]) -> pd.DataFrame:
    """Each due metric with the status it had in its own previous period (`rag_before`)."""
    frames = [f[["code", "period", "rag"]] for f in earlier if not f.empty]
    if not frames or status.empty:
        return status.assign(rag_before=pd.Series(dtype=object, index=status.index))
    before = pd.concat(frames).drop_duplicates(["code", "period"])
    before = before.rename(columns={"period": "previous_period", "rag": "rag_before"})
    return status.merge(before, on=["code", "previous_period"], how="left")


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


def changes(status: pd.DataFrame) -> pd.DataFrame:
    """Metrics whose status differs from their previous period's, worst news first. Overdue
    counts as Missing (so Overdue to Missing is no change), and Missing is worse than Green."""
    columns = ["code", "Change", "Was", "Now", "Measure", "Tier", "Actual", "Target", "Why"]
    if status.empty:
        return pd.DataFrame(columns=columns)
    missing = {Status.OVERDUE.value: Status.MISSING.value}
    rag_now, rag_was = status["rag"].replace(missing), status["rag_before"].replace(missing)
    moved = status[status["rag_before"].notna() & (rag_now != rag_was)].copy()
    if moved.empty:
        return pd.DataFrame(columns=columns)
    after, before = rag_now[moved.index], rag_was[moved.index]
    now, was = after.map(STATUS_RANK).astype(float), before.map(STATUS_RANK).astype(float)
    green, gap = Status.GREEN.value, Status.MISSING.value
    worse = (now > was) | ((after == gap) & (before == green))
    better = (now < was) | ((before == gap) & (after == green))
    moved["change"] = np.select([worse, better], ["▼ Worse", "▲ Better"], "► Changed")
    moved["_order"] = moved["change"].map({"▼ Worse": 0, "► Changed": 1, "▲ Better": 2})
    moved = moved.sort_values(["_order", "risk_score", "code"], ascending=[True, False, True])
    table = _display(moved)
    table.insert(1, "Was", moved["rag_before"].map(status_label).to_numpy())
    table.insert(2, "Now", moved["rag"].map(status_label).to_numpy())
    table.insert(3, "Change", moved["change"].to_numpy())
    return table[columns]


@dataclass(frozen=True)
class Dashboard:
    """What the ME2E dashboard shows for one month."""

    period: str
    headline: pd.DataFrame  # tier × status counts
    change: pd.DataFrame  # tier × status: change since each measure's previous period
    nodes: pd.DataFrame  # the line-of-sight tree
    priorities: pd.DataFrame  # one row per priority, rolled up
    exceptions: pd.DataFrame
    changes: pd.DataFrame
    compared_with: list[str]  # the months the previous statuses came from


def dashboard(
    month: str,
    status: pd.DataFrame,
    earlier: dict[str, pd.DataFrame],
    rows: pd.DataFrame,
    where: Structure,
    *,
    rules: RatingDefaults,
) -> Dashboard:
    """Assemble the dashboard from this month's status, the statuses of the earlier months that
    hold each measure's previous period (keyed by month), and this month's `placed()` rows."""
    current = with_previous(status, list(earlier.values()))
    nodes = tree(rows, where, rules=rules)
    top = nodes[nodes["kind"] == "priority"] if len(nodes) else nodes
    priorities = pd.DataFrame(
        {
            "code": top.get("code", pd.Series(dtype=object)),
            "Name": top.get("label", pd.Series(dtype=object)),
            "Status": top.get("status", pd.Series(dtype=object)).map(status_label),
            **{c: top.get(c, pd.Series(dtype=int)) for c in COUNT_COLUMNS},
            "kind": "priority",
        }
    ).reset_index(drop=True)
    return Dashboard(
        period=month,
        headline=headline(current),
        change=headline_change(current),
        nodes=nodes,
        priorities=priorities,
        exceptions=exceptions(current),
        changes=changes(current),
        compared_with=sorted(earlier),
    )


# --- Tables a page shows ----------------------------------------------------------------------


def formatted(frame: pd.DataFrame, column: str) -> pd.Series:
    """A number column written in each metric's unit and decimals ('71.2 %', '£1,234')."""
    return pd.Series(
        [
            format_value(value, unit, decimals) if pd.notna(value) else "–"
            for value, unit, decimals in zip(
                frame[column], frame["unit"], frame["decimals"], strict=True
            )
        ],
        index=frame.index,
        dtype=object,
    )


def _rated_value(frame: pd.DataFrame) -> pd.Series:
    """The number the status judged: year to date for cumulative (`sum`) measures."""
    cumulative = frame["aggregation"] == Aggregation.SUM.value
    return frame["ytd"].where(cumulative, frame["actual"])


DISPLAY_COLUMNS = [
    "code",
    "Status",
    "Forecast",
    "Travel",
    "Risk",
    "Measure",
    "Tier",
    "Actual",
    "Target",
    "Year to date",
    "Why",
    "Commentary",
]


def _display(frame: pd.DataFrame, extra: list[str] | None = None) -> pd.DataFrame:
    """The columns every metric table shares, formatted for reading: the status and the
    year-end forecast side by side, then travel, risk, the numbers and why."""
    if frame.empty:
        return pd.DataFrame(columns=[*DISPLAY_COLUMNS, *(extra or [])])
    risk = (
        frame["risk_level"].astype(str) + " (" + frame["risk_score"].astype(int).astype(str) + ")"
    )
    forecast = formatted(frame, "forecast") + " " + frame["forecast_rag"].map(status_label)
    columns = {
        "code": frame["code"],
        "Status": frame["rag"].map(status_label),
        "Forecast": forecast.where(frame["forecast"].notna(), "–"),
        "Travel": frame["dot_previous"].map(direction_label),
        "Risk": risk.where(frame["risk_score"] > 0, "–"),
        "Measure": frame["title"],
        "Tier": frame["tier"],
        "Actual": formatted(frame, "actual"),
        "Target": formatted(frame, "target"),
        "Year to date": formatted(frame, "ytd"),
        "Why": frame["explanation"],
        "Commentary": frame.get("latest_commentary", frame["commentary"]).fillna(""),
    }
    return pd.DataFrame(columns)[DISPLAY_COLUMNS].reset_index(drop=True)


def metric_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per metric: status and forecast side by side, travel, risk, the reason and the
    commentary; ordered by risk score, highest first."""
    if frame.empty:
        return _display(frame)
    ordered = frame.sort_values(["risk_score", "code"], ascending=[False, True])
    return _display(ordered)


def exceptions(status: pd.DataFrame) -> pd.DataFrame:
    """Red and Amber measures ordered by risk score (highest first), with travel against the
    previous period and last year, the XmR signal, the reason and the latest commentary."""
    chosen = status[status["rag"].isin([Status.RED.value, Status.AMBER.value])]
    if chosen.empty:
        return _display(chosen, extra=["Last year", "Signal", "Action"])
    chosen = chosen.sort_values(["risk_score", "rag", "code"], ascending=[False, False, True])
    table = _display(chosen)
    table["Last year"] = chosen["dot_last_year"].map(direction_label).to_numpy()
    table["Signal"] = chosen["spc_signal"].to_numpy()
    table["Action"] = chosen["corrective_action"].fillna("").to_numpy()
    return table[
        [
            "code",
            "Status",
            "Forecast",
            "Travel",
            "Last year",
            "Risk",
            "Measure",
            "Tier",
            "Actual",
            "Target",
            "Signal",
            "Why",
            "Commentary",
            "Action",
        ]
    ]


# --- Views for the drill-down pages ------------------------------------------------------------


@dataclass(frozen=True)
class Crumb:
    """One step of a breadcrumb: a page kind, the code it opens, and its label."""

    kind: str
    code: str
    label: str


@dataclass(frozen=True)
class LevelView:
    """A priority, initiative, service or team: its rolled-up status and what makes it."""

    kind: str
    code: str
    name: str
    status: str
    counts: dict[str, int]
    path: list[Crumb]
    metrics: pd.DataFrame  # its own measures
    aligned: pd.DataFrame  # measures aligned to it from below
    children: pd.DataFrame  # the levels under it (or the priorities it serves), rolled up
    notes: list[str] = field(default_factory=list)
    teams: pd.DataFrame = field(default_factory=pd.DataFrame)  # teams behind it, worst first


def _rollup_one(rows: pd.DataFrame, rules: RatingDefaults) -> tuple[str, dict[str, int]]:
    """The rolled-up status and counts of a set of status rows (each metric counted once)."""
    rows = rows.drop_duplicates("code")
    if rows.empty:
        return "", dict.fromkeys(COUNT_COLUMNS, 0)
    result = rating.rollup(rows.assign(_all="all"), "_all", rating=rules).iloc[0]
    return str(result["status"]), {c: int(result[c]) for c in COUNT_COLUMNS}


def rollup_table(
    rows: pd.DataFrame, by: str, names: dict[str, str], rules: RatingDefaults, label: str
) -> pd.DataFrame:
    """One row per group: its code, name, status (symbol and word) and counts."""
    rows = rows[rows[by].notna()].drop_duplicates(["code", by])
    if rows.empty:
        return pd.DataFrame(columns=["code", label, "Status", *COUNT_COLUMNS])
    table = rating.rollup(rows, by, rating=rules)
    table.insert(1, label, table[by].map(names).fillna(table[by]))
    table["Status"] = table["status"].map(status_label)
    table = table.rename(columns={by: "code"})
    return table[["code", label, "Status", *COUNT_COLUMNS]]


def teams_behind(rows: pd.DataFrame, where: Structure, rules: RatingDefaults) -> pd.DataFrame:
    """The teams whose measures make a level's status, rolled up, most Red then Amber first:
    who to ask about a red priority."""
    table = rollup_table(rows, "team_code", where.options("team"), rules, "Name")
    return table.assign(kind="team").sort_values(
        ["Red", "Amber", "Name"], ascending=[False, False, True], ignore_index=True
    )


def priority_view(
    code: str, rows: pd.DataFrame, where: Structure, rules: RatingDefaults
) -> LevelView | None:
    """A priority: everything that serves it (its Corporate Plan measures, the initiatives that
    deliver it with their ME2E measures, and Service Standards measures aligned to any of
    those or to the priority itself), rolled up; None if there is no such priority."""
    name = UNALIGNED_LABEL if code == UNALIGNED else where.name("priority", code)
    if name is None:
        return None
    mine = rows[rows["serves"] == code]
    own = mine[(mine["tier"] == Tier.CORPORATE_PLAN.value) & (mine["via"] == "priority")]
    below = mine[~mine["code"].isin(own["code"])].drop_duplicates("code")
    status, counts = _rollup_one(mine, rules)
    delivering = where.delivers.loc[where.delivers["priority_code"] == code, "initiative_code"]
    initiatives = rollup_table(
        mine[mine["tier"] == Tier.ME2E.value],
        "initiative_code",
        where.options("initiative"),
        rules,
        "Initiative",
    )
    missing = sorted(set(delivering) - set(initiatives["code"]))
    if missing:
        empty = pd.DataFrame(
            {
                "code": missing,
                "Initiative": [where.name("initiative", c) for c in missing],
                "Status": NOTHING_DUE,
                **dict.fromkeys(COUNT_COLUMNS, 0),
            }
        )
        initiatives = pd.concat([initiatives, empty], ignore_index=True)
    services = rollup_table(
        mine[mine["tier"] == Tier.SERVICE_STANDARDS.value],
        "service_code",
        where.options("service"),
        rules,
        "Service",
    )
    return LevelView(
        kind="priority",
        code=code,
        name=name,
        status=status,
        counts=counts,
        path=[],
        metrics=metric_table(own),
        aligned=_with_via(below),
        children=pd.concat(
            [
                initiatives.assign(kind="initiative").rename(columns={"Initiative": "Name"}),
                services.assign(kind="service").rename(columns={"Service": "Name"}),
            ],
            ignore_index=True,
        ),
        teams=teams_behind(mine, where, rules),
    )


def initiative_view(
    code: str, rows: pd.DataFrame, where: Structure, rules: RatingDefaults
) -> LevelView | None:
    """An ME2E initiative: its measures, the Service Standards measures aligned to it or to its
    measures, and the priorities it delivers (the way back up)."""
    name = where.name("initiative", code)
    if name is None:
        return None
    unique = rows.drop_duplicates("code")
    own = unique[(unique["tier"] == Tier.ME2E.value) & (unique["initiative_code"] == code)]
    below = unique[
        (unique["tier"] != Tier.ME2E.value)
        & ((unique["initiative_code"] == code) | unique["aligned_to"].isin(own["code"]))
    ]
    status, counts = _rollup_one(pd.concat([own, below]), rules)
    delivers = where.delivers.loc[where.delivers["initiative_code"] == code, "priority_code"]
    path = [Crumb("priority", p, where.name("priority", p) or p) for p in delivers]
    return LevelView(
        kind="initiative",
        code=code,
        name=name,
        status=status,
        counts=counts,
        path=path,
        metrics=metric_table(own),
        aligned=_with_via(below),
        children=rollup_table(below, "service_code", where.options("service"), rules, "Service")
        .rename(columns={"Service": "Name"})
        .assign(kind="service"),
        teams=teams_behind(pd.concat([own, below]), where, rules),
    )


def service_view(
    code: str, rows: pd.DataFrame, where: Structure, rules: RatingDefaults
) -> LevelView | None:
    """A service: its teams rolled up, all its measures, and the priorities they serve."""
    name = where.name("service", code)
    if name is None:
        return None
    mine = rows[rows["service_code"] == code]
    status, counts = _rollup_one(mine, rules)
    teams = rollup_table(mine, "team_code", where.options("team"), rules, "Team")
    all_teams = where.teams.loc[where.teams["service_code"] == code, "code"]
    idle = sorted(set(all_teams) - set(teams["code"]))
    notes = (
        [
            f"{len(idle)} team(s) have no measure due this month: "
            + ", ".join(where.team_label(t) for t in idle)
        ]
        if idle
        else []
    )
    return LevelView(
        kind="service",
        code=code,
        name=name,
        status=status,
        counts=counts,
        path=[],
        metrics=_with_via(mine.drop_duplicates("code")),
        aligned=priorities_it_serves(mine, where, rules),
        children=teams.rename(columns={"Team": "Name"}).assign(kind="team"),
        notes=notes,
    )


def priorities_it_serves(
    rows: pd.DataFrame, where: Structure, rules: RatingDefaults
) -> pd.DataFrame:
    """The priorities a service's or team's measures serve, rolled up: the way back up."""
    names = {**where.options("priority"), UNALIGNED: UNALIGNED_LABEL}
    served = rollup_table(rows, "serves", names, rules, "Name")
    return served.assign(kind="priority")


def team_view(
    code: str, rows: pd.DataFrame, where: Structure, rules: RatingDefaults
) -> LevelView | None:
    """A team: its measures and what each is aligned to, under its service."""
    team = where.teams.loc[where.teams["code"] == code]
    if team.empty:
        return None
    service = str(team["service_code"].iloc[0])
    mine = rows[rows["team_code"] == code]
    status, counts = _rollup_one(mine, rules)
    return LevelView(
        kind="team",
        code=code,
        name=str(team["name"].iloc[0]),
        status=status,
        counts=counts,
        path=[Crumb("service", service, where.name("service", service) or service)],
        metrics=_with_via(mine.drop_duplicates("code")),
        aligned=priorities_it_serves(mine, where, rules),
        children=pd.DataFrame(),
    )


VIEWS = {
    "priority": priority_view,
    "initiative": initiative_view,
    "service": service_view,
    "team": team_view,
}


def level_index(
    kind: str, rows: pd.DataFrame, where: Structure, rules: RatingDefaults
) -> pd.DataFrame:
    """Every priority, initiative, service or team, rolled up exactly as its own page rolls it up:
    code, Name, Status and the counts, Red first."""
    views = [VIEWS[kind](code, rows, where, rules) for code in where.options(kind)]
    table = pd.DataFrame(
        {
            "code": [v.code for v in views],
            "Name": [where.team_label(v.code) if kind == "team" else v.name for v in views],
            "Status": [status_label(v.status) if v.status else NOTHING_DUE for v in views],
            **{c: [v.counts[c] for v in views] for c in COUNT_COLUMNS},
            "kind": kind,
        }
    )
    rank = table["Status"].map({status_label(s): i for s, i in STATUS_RANK.items()})
    table["_rank"] = rank.fillna(-1)
    table = table.sort_values(["_rank", "Red", "Amber"], ascending=False, kind="stable")
    return table.drop(columns="_rank").reset_index(drop=True)


def _with_via(frame: pd.DataFrame) -> pd.DataFrame:
    """A metric table with a column saying how each measure is aligned upwards."""
    table = metric_table(frame)
    if frame.empty:
        return table.assign(**{"Aligned to": []})
    ordered = frame.sort_values(["risk_score", "code"], ascending=[False, True])
    table.insert(
        table.columns.get_loc("Measure") + 1, "Aligned to", alignment_text(ordered).to_numpy()
    )
    return table


def alignment_text(frame: pd.DataFrame) -> pd.Series:
    """'measure CP03', 'initiative Income generation', 'priority Homes' or 'nothing'."""
    text = np.select(
        [
            frame["aligned_to"].notna(),
            frame["initiative_code"].notna(),
            frame["priority_code"].notna(),
        ],
        [
            "measure " + frame["aligned_to"].astype(str),
            "initiative " + frame["initiative"].astype(str),
            "priority " + frame["priority"].astype(str),
        ],
        "nothing",
    )
    return pd.Series(text, index=frame.index)


# --- A metric ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricView:
    """One measure: its template, its history up to the chosen month, and where it sits."""

    code: str
    template: dict[str, object]
    current: dict[str, object] | None  # the rated row of the latest period up to the month
    history: pd.DataFrame  # every period up to the month, rated
    trend: pd.DataFrame  # what the trend chart plots
    xmr: pd.DataFrame  # metrics.rating.xmr of the actuals, with their period labels
    table: pd.DataFrame  # periods for reading
    path: list[Crumb]
    aligned_up: list[Crumb]
    owners: list[Crumb]  # its service and team
    aligned_below: pd.DataFrame  # measures aligned to this one


def metric_view(
    code: str,
    history: pd.DataFrame,
    metrics: pd.DataFrame,
    served: pd.DataFrame,
    where: Structure,
    month: str,
    *,
    rules: RatingDefaults,
    fy_start: int = 4,
) -> MetricView | None:
    """Everything the metric page shows; None when the code is unknown *or* not visible."""
    found = metrics[metrics["code"] == code]
    if found.empty:
        return None
    template = found.iloc[0].to_dict()
    end = queries.month_for(month, fy_start).end
    upto = (
        history[pd.to_datetime(history["period_end"]).dt.date <= end] if len(history) else history
    )
    current = upto.iloc[-1].to_dict() if len(upto) else None
    chart = _xmr(upto, rules)
    below = metrics[metrics["aligned_to"] == code]
    return MetricView(
        code=code,
        template=template,
        current=current,
        history=upto.reset_index(drop=True),
        trend=trend_frame(upto, fy_start=fy_start, rules=rules),
        xmr=chart,
        table=period_table(upto),
        path=metric_path(template, served, where),
        aligned_up=_aligned_up(template),
        owners=owners(template),
        aligned_below=below[["code", "title", "tier", "service", "team"]].rename(
            columns={"title": "Measure", "tier": "Tier", "service": "Service", "team": "Team"}
        ),
    )


def metric_path(template: dict[str, object], served: pd.DataFrame, where: Structure) -> list[Crumb]:
    """The levels above a measure on the line of sight: its priorities (and initiative) for
    Corporate Plan and ME2E measures; its service and team for Service Standards ones."""
    if template["tier"] == Tier.SERVICE_STANDARDS.value:
        return owners(template)
    priorities = served.loc[
        (served["code"] == template["code"]) & (served["priority_code"] != UNALIGNED),
        "priority_code",
    ]
    path = [Crumb("priority", p, where.name("priority", p) or p) for p in priorities]
    if template["tier"] == Tier.ME2E.value and _present(template.get("initiative_code")):
        path.append(
            Crumb("initiative", str(template["initiative_code"]), str(template["initiative"]))
        )
    return path


def owners(template: dict[str, object]) -> list[Crumb]:
    """The service and team that own a measure."""
    found = []
    if _present(template.get("service_code")):
        found.append(Crumb("service", str(template["service_code"]), str(template["service"])))
    if _present(template.get("team_code")):
        found.append(Crumb("team", str(template["team_code"]), str(template["team"])))
    return found


def _aligned_up(template: dict[str, object]) -> list[Crumb]:
    """What a Service Standards measure is aligned to: a measure, an initiative or a priority."""
    if template["tier"] != Tier.SERVICE_STANDARDS.value:
        return []
    up = []
    if _present(template.get("aligned_to")):
        up.append(Crumb("metric", str(template["aligned_to"]), str(template["aligned_to"])))
    if _present(template.get("initiative_code")):
        up.append(
            Crumb("initiative", str(template["initiative_code"]), str(template["initiative"]))
        )
    if _present(template.get("priority_code")):
        up.append(Crumb("priority", str(template["priority_code"]), str(template["priority"])))
    return up


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value)) and value != ""


def trend_frame(history: pd.DataFrame, *, fy_start: int = 4, rules: RatingDefaults) -> pd.DataFrame:
    """What the trend chart plots: the rated value (year to date for `sum` measures) against
    its target, the Amber band edges, each period's status, and last year's value."""
    columns = [
        "period",
        "value",
        "target",
        "target_upper",
        "band_low",
        "band_high",
        "status",
        "last_year",
        "polarity",
    ]
    if history.empty:
        return pd.DataFrame(columns=columns)
    cumulative = history["aggregation"] == Aggregation.SUM.value
    judged = history.assign(
        target=history["ytd_target"].where(cumulative, history["target"]),
        target_upper=history["ytd_target_upper"].where(cumulative, history["target_upper"]),
    )
    value = _rated_value(history).where(history["actual"].notna())
    below = rating.tolerance_below(judged, rules.default_tolerance_percent)
    above = rating.tolerance_above(judged, rules.default_tolerance_percent)
    polarity = judged["polarity"]
    upper = judged["target_upper"].where(polarity == "band", judged["target"])
    band_low = np.select(
        [polarity == "higher", polarity == "lower"],
        [judged["target"] - below, judged["target"]],
        judged["target"] - below,
    )
    band_high = np.select(
        [polarity == "higher", polarity == "lower"],
        [judged["target"], judged["target"] + above],
        upper + above,
    )
    rated_by_period = dict(zip(history["period"], value, strict=True))
    unrated = judged["data_only"].astype(bool) | judged["target"].isna()
    return pd.DataFrame(
        {
            "period": history["period"],
            "value": value,
            "target": judged["target"].where(~unrated),
            "target_upper": judged["target_upper"].where(~unrated),
            "band_low": pd.Series(band_low, index=history.index).where(~unrated),
            "band_high": pd.Series(band_high, index=history.index).where(~unrated),
            "status": history["rag"],
            "last_year": history["last_year_period"].map(rated_by_period),
            "polarity": polarity,
        }
    ).reset_index(drop=True)


def _xmr(history: pd.DataFrame, rules: RatingDefaults) -> pd.DataFrame:
    """The XmR chart of the actuals, with their period labels; empty under the minimum points."""
    known = history.dropna(subset=["actual"]) if len(history) else history
    if len(known) < rules.spc_min_points:
        return pd.DataFrame()
    chart = rating.xmr(known["actual"])
    chart["period"] = known["period"].to_numpy()
    return chart


def period_table(history: pd.DataFrame) -> pd.DataFrame:
    """One row per period, newest first: actual, target, YTD, status, forecast, travel,
    commentary, corrective action and approval state."""
    if history.empty:
        return pd.DataFrame(
            columns=[
                "Period",
                "Actual",
                "Target",
                "Year to date",
                "Status",
                "Forecast",
                "Travel",
                "Commentary",
                "Corrective action",
                "Approval",
            ]
        )
    ordered = history.iloc[::-1]
    forecast = formatted(ordered, "forecast") + " " + ordered["forecast_rag"].map(status_label)
    return pd.DataFrame(
        {
            "Period": ordered["period"],
            "Actual": formatted(ordered, "actual"),
            "Target": formatted(ordered, "target"),
            "Year to date": formatted(ordered, "ytd"),
            "Status": ordered["rag"].map(status_label),
            "Forecast": forecast.where(ordered["forecast"].notna(), "–"),
            "Travel": ordered["dot_previous"].map(direction_label),
            "Commentary": ordered["commentary"].fillna(""),
            "Corrective action": ordered["corrective_action"].fillna(""),
            "Approval": ordered["approval"].fillna("not entered"),
        }
    ).reset_index(drop=True)


def _hide_alignment(row: pd.Series, visible: set[str]) -> pd.Series:
    """One audit row with any `aligned_to` code the reader may not see blanked (a field row's
    old and new value, and the key inside a JSON "create" value)."""
    row = row.copy()
    if row["field_name"] == "aligned_to":
        for column in ("old_value", "new_value"):
            if row[column] is not None and str(row[column]) not in visible:
                row[column] = None
        return row
    if row["field_name"] or not isinstance(row["new_value"], str):
        return row
    try:
        created = json.loads(row["new_value"])
    except ValueError:
        return row
    if isinstance(created, dict) and created.get("aligned_to") not in (None, *visible):
        created["aligned_to"] = None
        row["new_value"] = json.dumps(created, sort_keys=True, default=str, ensure_ascii=False)
    return row


def audit_trail(engine: Engine, code: str, visible: Collection[str]) -> pd.DataFrame:
    """Who changed this metric's template or values, when, from what to what, and why; newest
    first. Callers check the metric is visible before asking; an `aligned_to` code outside
    `visible` (the codes the reader may see) is blanked, so a sensitive code never shows."""
    query = (
        select(
            AuditLog.at,
            AuditLog.actor,
            AuditLog.action,
            AuditLog.entity_key,
            AuditLog.field_name,
            AuditLog.old_value,
            AuditLog.new_value,
            AuditLog.reason,
        )
        .where(
            or_(
                and_(
                    AuditLog.entity == "period_value",
                    AuditLog.entity_key.startswith(f"{code}/", autoescape=True),
                ),
                and_(AuditLog.entity == "metric", AuditLog.entity_key == code),
            )
        )
        .order_by(AuditLog.at.desc(), AuditLog.id.desc())
    )
    with engine.connect() as connection:
        frame = pd.read_sql(query, connection)
    if not frame.empty:
        frame = frame.apply(_hide_alignment, axis=1, visible=set(visible))
    period = frame["entity_key"].astype(str).str.split("/", n=1).str[1].astype(object)
    frame["what"] = period.fillna("template").replace("", "template")
    return frame.rename(
        columns={
            "at": "When",
            "actor": "Who",
            "action": "Action",
            "what": "Period",
            "field_name": "Field",
            "old_value": "Old value",
            "new_value": "New value",
            "reason": "Why",
        }
    )[["When", "Who", "Action", "Period", "Field", "Old value", "New value", "Why"]]


def with_latest_commentary(engine: Engine, status: pd.DataFrame) -> pd.DataFrame:
    """Status rows with `latest_commentary`: this period's commentary, or else the most recent
    one of the year before it, prefixed with its period ('2016-11: Snow on collection days')."""
    if status.empty:
        return status.assign(latest_commentary=pd.Series(dtype=object))
    until = max(status["period_end"])
    query = select(
        PeriodValue.metric_id, PeriodValue.period, PeriodValue.period_end, PeriodValue.commentary
    ).where(
        PeriodValue.metric_id.in_([int(i) for i in status["metric_id"]]),
        PeriodValue.commentary != "",
        PeriodValue.period_end <= until,
        PeriodValue.period_end > until - timedelta(days=366),
    )
    with engine.connect() as connection:
        said = pd.read_sql(query, connection)
    latest = said.sort_values("period_end").drop_duplicates("metric_id", keep="last")
    latest["period_end"] = pd.to_datetime(latest["period_end"]).dt.date
    merged = status.merge(
        latest.rename(
            columns={"period": "_said_in", "period_end": "_said_end", "commentary": "_said"}
        ),
        on="metric_id",
        how="left",
    )
    own = merged["commentary"].fillna("")
    earlier = merged["_said"].notna() & (merged["_said_end"] < merged["period_end"])
    merged["latest_commentary"] = own.where(
        own != "", (merged["_said_in"] + ": " + merged["_said"]).where(earlier, "")
    )
    return merged.drop(columns=["_said_in", "_said_end", "_said"])


def period_options(engine: Engine, fy_start: int = 4, *, clearance: str) -> list[str]:
    """Every month from the first period with a value of a metric the clearance may see to the
    last, newest first (a sensitive measure's months are not offered to an uncleared reader)."""
    query = (
        select(func.min(PeriodValue.period_end), func.max(PeriodValue.period_end))
        .join(Metric, Metric.id == PeriodValue.metric_id)
        .where(queries.marking_visible_to(clearance))
    )
    with engine.connect() as connection:
        first, last = connection.execute(query).one()
    if first is None or last is None:
        return []
    first, last = pd.Timestamp(first).date(), pd.Timestamp(last).date()
    start = periods.month_period(first.year, first.month, fy_start)
    end = periods.month_period(last.year, last.month, fy_start)
    return [p.label for p in reversed(periods.months(start, end, fy_start))]
