"""The public view: the latest published performance, for visitors nobody has signed in as.

"Published" means frozen in a committee snapshot (`metrics.snapshots`): what a committee was
shown, never changed once taken, and what the transparency file is written from. The app keeps
no other record of publication (`python -m metrics publish` writes a file and stores nothing),
so the public view reads only frozen rows, never live values:

- the latest published period is the newest period any snapshot was taken for, read from the
  last snapshot taken for it (which carries any restatement);
- a measure is shown only if the public may see it under the one visibility rule
  (`access.may_see` at NOT PROTECTIVELY MARKED), both as it was frozen and as its template is
  marked now, so a measure re-marked since it was published is withdrawn;
- a row frozen with a value that was not yet approved is withheld;
- each measure's trend is its frozen actual in the last snapshot of each published period;
- no commentary, corrective action, officer's name, who took the snapshot or audit trail.

Pure: snapshot headers and rows in, a frozen dataclass out (`views.public_view` reads them).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from metrics.access import may_see
from metrics.charts import direction_label, status_label
from metrics.display import formatted
from metrics.models import Snapshot, SnapshotRow
from metrics.rating import COUNT_COLUMNS
from metrics.vocab import Marking, Status

PUBLIC_CLEARANCE = Marking.NOT_PROTECTIVELY_MARKED.value
TREND_PERIODS = 13  # a year of months and the same month a year before
NO_PRIORITY = "Not aligned to a priority"
# The frozen fields the public may read; commentary, officers and approval never leave here.
PUBLIC_FIELDS = [
    "code",
    "title",
    "tier",
    "priority",
    "period",
    "actual",
    "target",
    "unit",
    "decimals",
    "status",
    "explanation",
    "dot_previous",
    "last_updated",
    "marking",
]
MEASURE_COLUMNS = [
    "Code",
    "Measure",
    "Priority",
    "Period",
    "Status",
    "Travel",
    "Actual",
    "Target",
    "Why",
    "Trend",
]


@dataclass(frozen=True)
class PublicView:
    """What the public page shows: the latest published period, counts by priority, and each
    measure with its status, the sentence saying why, and its trend over published periods."""

    council: str
    period: str  # the latest published reporting month
    snapshot_id: int
    sha256: str
    published: tuple[str, ...]  # every published period the trends cover, oldest first
    totals: dict[str, int]  # Red, Amber, Green, Data only, Missing over every shown measure
    counts: pd.DataFrame  # Priority, then a count per status
    measures: pd.DataFrame  # MEASURE_COLUMNS, formatted for reading; Trend a list of actuals
    rows: pd.DataFrame  # the shown rows as frozen (PUBLIC_FIELDS): what the download holds
    withheld: int  # public measures of the period left out because their value was unapproved


def published_snapshots(headers: Sequence[Snapshot]) -> list[Snapshot]:
    """The last snapshot taken for each published period, oldest period first, at most
    TREND_PERIODS of them (the newest)."""
    last: dict[str, Snapshot] = {}
    for header in sorted(headers, key=lambda h: int(h.id or 0)):
        last[header.period] = header
    return [last[period] for period in sorted(last)][-TREND_PERIODS:]


def public_rows(rows: Sequence[SnapshotRow], public_now: Collection[str]) -> pd.DataFrame:
    """The frozen rows the public may read: marked for the public as frozen and as the template
    is marked now (codes in `public_now`, any case), and approved; public fields only."""
    now = {code.lower() for code in public_now}
    kept = [
        {name: getattr(row, name) for name in PUBLIC_FIELDS}
        for row in rows
        if may_see(PUBLIC_CLEARANCE, row.marking) and row.code.lower() in now and not row.unapproved
    ]
    return pd.DataFrame(kept, columns=PUBLIC_FIELDS).astype({"actual": float, "target": float})


def assemble_public(
    headers: Sequence[Snapshot],
    rows: Mapping[int, Sequence[SnapshotRow]],
    public_now: Collection[str],
    *,
    council: str,
) -> PublicView | None:
    """The public view of the published snapshots (`published_snapshots(headers)`), whose rows
    are `rows[snapshot id]`; None while nothing has been published."""
    chosen = published_snapshots(headers)
    if not chosen:
        return None
    latest = chosen[-1]
    frozen = rows.get(int(latest.id or 0), [])
    shown = public_rows(frozen, public_now)
    now = {code.lower() for code in public_now}
    withheld = sum(
        1
        for row in frozen
        if row.unapproved and may_see(PUBLIC_CLEARANCE, row.marking) and row.code.lower() in now
    )
    trends = {
        header.period: public_rows(rows.get(int(header.id or 0), []), public_now)
        for header in chosen
    }
    counts = _counts(shown)
    return PublicView(
        council=council,
        period=latest.period,
        snapshot_id=int(latest.id or 0),
        sha256=latest.sha256,
        published=tuple(header.period for header in chosen),
        totals={name: int(count) for name, count in counts.sum().items()},
        counts=counts.rename_axis("Priority").reset_index(),
        measures=_measures(shown, trends),
        rows=shown.reset_index(drop=True),
        withheld=withheld,
    )


def _counts(shown: pd.DataFrame) -> pd.DataFrame:
    """Measures of each status under each priority (Overdue counted as Missing)."""
    status = shown["status"].replace({Status.OVERDUE.value: Status.MISSING.value})
    status = status.where(status.isin(COUNT_COLUMNS), Status.MISSING.value)
    priority = shown["priority"].where(shown["priority"] != "", NO_PRIORITY)
    table = pd.crosstab(priority, status) if len(shown) else pd.DataFrame()
    return table.reindex(columns=COUNT_COLUMNS, fill_value=0).astype(int).rename_axis(None)


def _measures(shown: pd.DataFrame, trends: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per shown measure, formatted for reading, its trend the frozen actual of each
    published period (None where it had no public, approved value)."""
    actuals = {
        period: dict(zip(frame["code"].str.lower(), frame["actual"], strict=True))
        for period, frame in trends.items()
    }
    trend = [
        [_plain_number(actuals[period].get(code.lower())) for period in trends]
        for code in shown["code"]
    ]
    return pd.DataFrame(
        {
            "Code": shown["code"],
            "Measure": shown["title"],
            "Priority": shown["priority"],
            "Period": shown["period"],
            "Status": shown["status"].map(status_label),
            "Travel": shown["dot_previous"].map(lambda travel: direction_label(travel or None)),
            "Actual": formatted(shown, "actual"),
            "Target": formatted(shown, "target"),
            "Why": shown["explanation"],
            "Trend": pd.Series(trend, index=shown.index, dtype=object),
        },
        columns=MEASURE_COLUMNS,
    ).reset_index(drop=True)


def _plain_number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]
