"""Counts that agree with what they open (`docs/line-of-sight.md`, "Counts and what they open").

A row under a priority or an initiative counts only the part of a level that serves it: the
Service Standards measures of Housing that serve Homes, say. Such a row says what it counts
("10 of Housing's 15 measures: the Service Standards ones serving Homes") and opens that part
of the level's page (`?service=housing&serving=homes&tier=Service Standards`), whose own note
says the same and links back to the whole. A row that counts the whole level opens it plainly.
Pure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from metrics import due_rows, periods
from metrics.alignment import UNALIGNED, UNALIGNED_LABEL, Structure, placed
from metrics.frames import among
from metrics.vocab import Tier

# The query parameters of a part of a level, in the order a link writes them.
PARAMS = ("serving", "aligned_to", "tier")


@dataclass(frozen=True)
class Within:
    """The part of a level a link opens: its measures serving a priority, those that make up an
    initiative (its own ME2E measures and those aligned to it), of one tier; blank for all."""

    serving: str = ""  # a priority code (UNALIGNED: serving none)
    aligned_to: str = ""  # an ME2E initiative code
    tier: str = ""

    def __bool__(self) -> bool:
        # asked of every row of a table: `asdict` made it 3 µs, a tenth of an XL priority's view
        return bool(self.serving or self.aligned_to or self.tier)

    def params(self) -> dict[str, str]:
        """The query parameters that open this part (none for the whole level)."""
        return {k: v for k, v in asdict(self).items() if v}

    def also(self, other: Within) -> Within:
        """Both parts at once: a part of a part keeps the outer part's conditions."""
        return Within(**{k: v or getattr(self, k) for k, v in asdict(other).items()})


def initiative_members(rows: pd.DataFrame, code: str) -> pd.DataFrame:
    """The rows that make up an initiative: its own ME2E measures, and the other measures of the
    initiative or aligned to one of its measures."""
    me2e = rows["tier"] == Tier.ME2E.value
    own = rows[me2e & (rows["initiative_code"] == code)]
    under = (rows["initiative_code"] == code) | among(rows["aligned_to"], own["code"])
    below = rows[~me2e & under]
    return pd.concat([own, below])


def narrow(rows: pd.DataFrame, within: Within, due: pd.DataFrame | None = None) -> pd.DataFrame:
    """The month's placed rows cut down to a part: a level built from them shows only it. An
    initiative's members are found among every measure due (`due`, when `rows` are only some)."""
    keep = pd.Series(True, index=rows.index)
    if within.serving:
        keep &= rows["serves"] == within.serving
    if within.tier:
        keep &= rows["tier"] == within.tier
    if within.aligned_to:
        members = initiative_members(rows if due is None else due, within.aligned_to)
        keep &= among(rows["code"], members["code"])
    return rows[keep]


# Where a measure sits: all a level's counts and the parts its links open read of a measure.
PLACE = ["code", "tier", "initiative_code", "aligned_to", "service_code", "team_code"]


def every_due(
    catalogue: pd.DataFrame,
    served: pd.DataFrame,
    month: periods.Period,
    fy_start: int,
    deadline: periods.Deadline,
) -> pd.DataFrame:
    """Every measure of the catalogue due in the month, one row per priority it serves, with
    where it sits only (`PLACE`, `serves`, `via`): what a level's counts count, and which
    measures a level lists, without rating any of them."""
    slim = catalogue[[*PLACE, "frequency", "active_from", "active_to"]]
    return placed(due_rows.due_periods(slim, month, fy_start, deadline)[PLACE], served)


# The column that says which priority, service or team a row counts for.
LEVEL_COLUMN = {"priority": "serves", "service": "service_code", "team": "team_code"}


def measures_of(kind: str, rows: pd.DataFrame) -> pd.Series:
    """How many measures each priority, initiative, service or team has in the rows (each
    measure once), as its own page counts them."""
    if kind == "initiative":  # as `initiative_members`, for every initiative at once
        me2e = rows["tier"] == Tier.ME2E.value
        pairs = rows[["code", "initiative_code"]]
        own = pairs[me2e].dropna()
        aligned = rows.loc[~me2e, ["code", "aligned_to"]].merge(
            own.rename(columns={"code": "aligned_to"}), on="aligned_to"
        )
        members = pd.concat([pairs.dropna(), aligned[["code", "initiative_code"]]])
        return members.drop_duplicates().groupby("initiative_code").size()
    column = LEVEL_COLUMN[kind]
    return rows[["code", column]].drop_duplicates().groupby(column).size()


def describe(within: Within, where: Structure) -> str:
    """`the Service Standards ones serving Homes`: a part in words."""
    conditions = []
    if within.serving:
        name = (
            UNALIGNED_LABEL.lower()
            if within.serving == UNALIGNED
            else f"serving {where.name('priority', within.serving) or within.serving}"
        )
        conditions.append(name)
    if within.aligned_to:
        name = where.name("initiative", within.aligned_to) or within.aligned_to
        conditions.append(f"making up the initiative {name}")
    subject = f"the {within.tier} ones" if within.tier else "those"
    return f"{subject} {' and '.join(conditions)}".strip() if conditions else subject


def counts_note(name: str, shown: int, total: int, within: Within, where: Structure) -> str:
    """`10 of Housing's 15 measures: the Service Standards ones serving Homes`."""
    if not within or shown == total:
        return ""
    return f"{shown} of {name}'s {total} measures due: {describe(within, where)}"


def opening(
    table: pd.DataFrame,
    *,
    rows: pd.DataFrame,
    where: Structure,
    within: Within,
    counts: list[str],
    opens: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """A level table with what each row opens: `Counts` says what a row counts when that is
    less than the whole level, and serving / aligned_to / tier open that part of it.

    `rows` are the month's rows before any part was taken; `within` is the part every row
    counts. `opens` is (kind, code) when each row is a priority the page's own level serves
    (the way back up): the row then opens that level's part serving the row's priority.
    """
    table = table.copy()
    if table.empty:
        return table.assign(Counts="", **dict.fromkeys(PARAMS, ""))
    shown = table[counts].sum(axis=1).astype(int)
    if opens is not None:
        kind, code = opens
        parts = [within.also(Within(serving=str(p))) for p in table["code"]]
        table["kind"], table["code"] = kind, code
    else:
        kind, parts = str(table["kind"].iloc[0]), [within] * len(table)
    totals = measures_of(kind, rows).reindex(table["code"]).fillna(0).astype(int).to_numpy()
    named = where.options(kind)  # a team as 'Service: Team'
    names = [named.get(c) or c for c in table["code"]]
    table["Counts"] = [
        counts_note(n, s, t, p, where)
        for n, s, t, p in zip(names, shown, totals, parts, strict=True)
    ]
    for param in PARAMS:
        table[param] = [
            getattr(p, param) if s != t else ""
            for s, t, p in zip(shown, totals, parts, strict=True)
        ]
    return table


def from_params(params: dict[str, str]) -> Within:
    """The part a link asks for (`?serving=…&aligned_to=…&tier=…`); unknown keys ignored."""
    return Within(**{k: str(params.get(k, "") or "") for k in PARAMS})
