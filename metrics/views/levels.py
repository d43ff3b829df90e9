"""The drill-down views of a priority, ME2E initiative, service or team, and the index of every
one of a kind, each rolled up from the month's placed rows (`alignment.placed`). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from metrics import rating
from metrics.alignment import UNALIGNED, UNALIGNED_LABEL, Structure
from metrics.charts import status_label
from metrics.config import RatingRules
from metrics.display import metric_table, with_alignment
from metrics.explain_rollup import rollup_sentence
from metrics.frames import among
from metrics.rating import COUNT_COLUMNS, ROLLUP_READS
from metrics.views.board import STATUS_RANK
from metrics.views.trail import Crumb
from metrics.views.within import (
    Within,
    describe,
    initiative_members,
    measures_of,
    narrow,
    opening,
)
from metrics.vocab import Tier

NOTHING_DUE = "– nothing due"
# The measures aligned from below that a priority's or an initiative's page lists, highest risk
# first: a screen's reading, as the dashboard's lists (the measures page lists every one). At
# XL a priority has some 2,000, and building and sending them all took 90 ms of its page
# (docs/performance.md).
LISTED = 200


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
    aligned: pd.DataFrame  # measures aligned to it from below (the first `LISTED`)
    children: pd.DataFrame  # the levels under it (or the priorities it serves), rolled up
    notes: list[str] = field(default_factory=list)
    teams: pd.DataFrame = field(default_factory=pd.DataFrame)  # teams behind it, worst first
    why: str = ""  # the roll-up rule and the numbers behind `status`
    within: Within = field(default_factory=Within)  # the part of the level shown (all: blank)
    aligned_due: int = 0  # how many measures aligned to it from below are due


def _rollup_one(rows: pd.DataFrame, rules: RatingRules) -> tuple[str, dict[str, int], str]:
    """The rolled-up status, counts and the sentence that says why, of a set of status rows
    (each metric counted once)."""
    if rows.empty:
        return "", dict.fromkeys(COUNT_COLUMNS, 0), ""
    rows = rows.loc[~rows.duplicated("code"), ["code", *ROLLUP_READS]]
    result = rating.rollup(rows.assign(_all="all"), "_all", rules=rules)
    why = str(rollup_sentence(result, rules=rules).iloc[0])
    first = result.iloc[0]
    return str(first["status"]), {c: int(first[c]) for c in COUNT_COLUMNS}, why


def rollup_table(
    rows: pd.DataFrame, by: str, names: dict[str, str], rules: RatingRules, label: str
) -> pd.DataFrame:
    """One row per group: its code, name, status (symbol and word), counts and why."""
    # only what the roll-up reads is copied: the month's sixty columns were a third of the view
    rows = rows.loc[rows[by].notna() & ~rows.duplicated(["code", by]), ["code", by, *ROLLUP_READS]]
    if rows.empty:
        return pd.DataFrame(columns=["code", label, "Status", *COUNT_COLUMNS, "Why"])
    table = rating.rollup(rows, by, rules=rules)
    table.insert(1, label, table[by].map(names).fillna(table[by]))
    table["Status"] = table["status"].map(status_label)
    table["Why"] = rollup_sentence(table, rules=rules)
    table = table.rename(columns={by: "code"})
    return table[["code", label, "Status", *COUNT_COLUMNS, "Why"]]


def teams_behind(rows: pd.DataFrame, where: Structure, rules: RatingRules) -> pd.DataFrame:
    """The teams whose measures make a level's status, rolled up, most Red then Amber first:
    who to ask about a red priority."""
    table = rollup_table(rows, "team_code", where.options("team"), rules, "Name")
    return table.assign(kind="team").sort_values(
        ["Red", "Amber", "Name"], ascending=[False, False, True], ignore_index=True
    )


def members(
    kind: str, code: str, rows: pd.DataFrame, where: Structure
) -> tuple[str, pd.DataFrame] | None:
    """A level's name and the month's rows its roll-up counts (a priority: everything that serves
    it; an initiative: its measures and those aligned to them; a service or a team: its own),
    or None if there is no such level."""
    if kind == "team":
        team = where.teams.loc[where.teams["code"] == code]
        return None if team.empty else (str(team["name"].iloc[0]), rows[rows["team_code"] == code])
    name = UNALIGNED_LABEL if (kind, code) == ("priority", UNALIGNED) else where.name(kind, code)
    if name is None:
        return None
    if kind == "priority":
        return name, rows[rows["serves"] == code]
    if kind == "initiative":
        return name, initiative_members(rows.drop_duplicates("code"), code)
    return name, rows[rows["service_code"] == code]


def own_and_below(kind: str, mine: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A priority's or an initiative's own measures (a priority's Corporate Plan measures
    serving it directly, an initiative's ME2E measures) and those aligned to it from below
    (each once), of its `members`."""
    if kind == "priority":
        own = mine[(mine["tier"] == Tier.CORPORATE_PLAN.value) & (mine["via"] == "priority")]
        return own, mine[~among(mine["code"], own["code"])].drop_duplicates("code")
    return mine[mine["tier"] == Tier.ME2E.value], mine[mine["tier"] != Tier.ME2E.value]


def priority_view(
    code: str, rows: pd.DataFrame, where: Structure, rules: RatingRules
) -> LevelView | None:
    """A priority: everything that serves it (its Corporate Plan measures, the initiatives that
    deliver it with their ME2E measures, and Service Standards measures aligned to any of
    those or to the priority itself), rolled up; None if there is no such priority."""
    found = members("priority", code, rows, where)
    if found is None:
        return None
    name, mine = found
    own, below = own_and_below("priority", mine)
    status, counts, why = _rollup_one(mine, rules)
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
                "Why": "Nothing of it that serves this priority is due this month",
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
        why=why,
        path=[],
        metrics=metric_table(own),
        aligned=with_alignment(below, limit=LISTED),
        aligned_due=len(below),
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
    code: str, rows: pd.DataFrame, where: Structure, rules: RatingRules
) -> LevelView | None:
    """An ME2E initiative: its measures, the Service Standards measures aligned to it or to its
    measures, and the priorities it delivers (the way back up)."""
    found = members("initiative", code, rows, where)
    if found is None:
        return None
    name, mine = found
    own, below = own_and_below("initiative", mine)
    status, counts, why = _rollup_one(mine, rules)
    delivers = where.delivers.loc[where.delivers["initiative_code"] == code, "priority_code"]
    path = [Crumb("priority", p, where.name("priority", p) or p) for p in delivers]
    return LevelView(
        kind="initiative",
        code=code,
        name=name,
        status=status,
        counts=counts,
        why=why,
        path=path,
        metrics=metric_table(own),
        aligned=with_alignment(below, limit=LISTED),
        aligned_due=len(below),
        children=rollup_table(mine, "service_code", where.options("service"), rules, "Service")
        .rename(columns={"Service": "Name"})
        .assign(kind="service"),
        teams=teams_behind(mine, where, rules),
    )


def service_view(
    code: str, rows: pd.DataFrame, where: Structure, rules: RatingRules
) -> LevelView | None:
    """A service: its teams rolled up, all its measures, and the priorities they serve."""
    found = members("service", code, rows, where)
    if found is None:
        return None
    name, mine = found
    status, counts, why = _rollup_one(mine, rules)
    teams = rollup_table(mine, "team_code", where.options("team"), rules, "Team")
    all_teams = where.teams.loc[where.teams["service_code"] == code, "code"]
    idle = sorted(set(all_teams) - set(teams["code"]))
    named = ", ".join(where.team_label(t) for t in idle)
    notes = [f"{len(idle)} team(s) have no measure due this month: {named}"] if idle else []
    return LevelView(
        kind="service",
        code=code,
        name=name,
        status=status,
        counts=counts,
        why=why,
        path=[],
        metrics=with_alignment(mine.drop_duplicates("code")),
        aligned=priorities_it_serves(mine, where, rules),
        children=teams.rename(columns={"Team": "Name"}).assign(kind="team"),
        notes=notes,
    )


def priorities_it_serves(rows: pd.DataFrame, where: Structure, rules: RatingRules) -> pd.DataFrame:
    """The priorities a service's or team's measures serve, rolled up: the way back up."""
    names = {**where.options("priority"), UNALIGNED: UNALIGNED_LABEL}
    served = rollup_table(rows, "serves", names, rules, "Name")
    return served.assign(kind="priority")


def team_view(
    code: str, rows: pd.DataFrame, where: Structure, rules: RatingRules
) -> LevelView | None:
    """A team: its measures and what each is aligned to, under its service."""
    found = members("team", code, rows, where)
    if found is None:
        return None
    name, mine = found
    service = str(where.teams.loc[where.teams["code"] == code, "service_code"].iloc[0])
    status, counts, why = _rollup_one(mine, rules)
    return LevelView(
        kind="team",
        code=code,
        name=name,
        status=status,
        counts=counts,
        why=why,
        path=[Crumb("service", service, where.name("service", service) or service)],
        metrics=with_alignment(mine.drop_duplicates("code")),
        aligned=priorities_it_serves(mine, where, rules),
        children=pd.DataFrame(),
    )


LEVELS = {
    "priority": priority_view,
    "initiative": initiative_view,
    "service": service_view,
    "team": team_view,
}


def level_index(
    kind: str, rows: pd.DataFrame, where: Structure, rules: RatingRules
) -> pd.DataFrame:
    """Every priority, initiative, service or team, rolled up exactly as its own page rolls it up
    (`members`, then `_rollup_one`; none of its tables built): code, Name, Status and the
    counts, Red first."""
    found = {code: members(kind, code, rows, where) for code in where.options(kind)}
    names = {code: level[0] for code, level in found.items() if level is not None}
    rolled = {c: _rollup_one(level[1], rules) for c, level in found.items() if level is not None}
    table = pd.DataFrame(
        {
            "code": list(rolled),
            "Name": [where.team_label(c) if kind == "team" else names[c] for c in rolled],
            "Status": [status_label(s) if s else NOTHING_DUE for s, _, _ in rolled.values()],
            **{c: [counts[c] for _, counts, _ in rolled.values()] for c in COUNT_COLUMNS},
            "Why": [why for _, _, why in rolled.values()],
            "kind": kind,
        }
    )
    rank = table["Status"].map({status_label(s): i for s, i in STATUS_RANK.items()})
    table["_rank"] = rank.fillna(-1)
    table = table.sort_values(["_rank", "Red", "Amber"], ascending=False, kind="stable")
    return table.drop(columns="_rank").reset_index(drop=True)


def part_of(
    kind: str,
    code: str,
    rows: pd.DataFrame,
    where: Structure,
    rules: RatingRules,
    within: Within,
    due: pd.DataFrame | None = None,
) -> LevelView | None:
    """A level built from only the part of its measures `within` names (all of them when
    blank), each of its tables saying what its rows count and opening exactly that. Counts
    of whole levels are of `due` (`every_due`) when `rows` are only the level's own."""
    due = rows if due is None else due
    view = LEVELS[kind](code, narrow(rows, within, due) if within else rows, where, rules)
    if view is None:
        return None
    notes = list(view.notes)
    if within:
        total = int(measures_of(kind, due).get(code, 0))
        shown = sum(view.counts.values())
        notes.insert(
            0,
            f"Showing {shown} of {view.name}'s {total} measures due: {describe(within, where)}.",
        )
    # The part each table's rows count, besides the page's own (`Within.also`).
    me2e, service_tier = Tier.ME2E.value, Tier.SERVICE_STANDARDS.value
    parts = {
        "priority": {
            "initiative": Within(serving=code, tier=me2e),
            "service": Within(serving=code, tier=service_tier),
            "teams": Within(serving=code),
        },
        "initiative": {"service": Within(aligned_to=code), "teams": Within(aligned_to=code)},
    }.get(kind, {})

    def opened(table: pd.DataFrame, part: Within, up: bool = False) -> pd.DataFrame:
        return opening(
            table,
            rows=due,
            where=where,
            within=within.also(part),
            counts=COUNT_COLUMNS,
            opens=(kind, code) if up else None,
        )

    children = view.children
    if not children.empty:
        children = pd.concat(
            [
                opened(group, parts.get(str(child), Within()))
                for child, group in children.groupby("kind", sort=False)
            ],
            ignore_index=True,
        )
    aligned = view.aligned
    if kind in ("service", "team"):
        aligned = opened(aligned, Within(), up=True)
    return replace(
        view,
        notes=notes,
        within=within,
        children=children,
        aligned=aligned,
        teams=opened(view.teams, parts.get("teams", Within())) if len(view.teams) else view.teams,
    )
