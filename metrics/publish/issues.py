"""The key issues of a committee cover report, drafted from a snapshot and the one before it.

Pure: every sentence is built from the frozen rows, roll-ups and restatements; nothing is
invented. A number in a sentence is a count of frozen rows, a stored value in the measure's
format, a stored risk score, or a snapshot's id, period or date.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from metrics.publish.cells import format_number
from metrics.snapshot_compare import Comparison, compare
from metrics.snapshots import Frozen
from metrics.vocab import RiskLevel, Status

COUNTED = (
    ("red", Status.RED.value),
    ("amber", Status.AMBER.value),
    ("green", Status.GREEN.value),
    ("data_only", Status.DATA_ONLY.value),
    ("missing", Status.MISSING.value),
)
TOP_RISKS = 5


@dataclass(frozen=True)
class Issue:
    """One numbered key issue (3.n): its heading, its paragraphs (3.n.1 ...), maybe a table."""

    heading: str
    paragraphs: list[str] = field(default_factory=list)
    table: list[list[str]] | None = None  # first row is the heading row


def key_issues(frozen: Frozen, before: Frozen | None) -> list[Issue]:
    """Counts by tier and their movement, new reds, recoveries, highest risks, restatements."""
    comparison = compare(before, frozen) if before is not None else None
    found = [
        _overview(frozen, before),
        _tier_counts(frozen, before),
        _new_reds(frozen, comparison),
        _recovered(comparison),
        _highest_risks(frozen),
        _restatements(frozen),
    ]
    return [issue for issue in found if issue is not None]


def _overview(frozen: Frozen, before: Frozen | None) -> Issue:
    header, rows = frozen.snapshot, frozen.rows
    sentence = (
        f"This report sets out performance for {header.period} as frozen in snapshot "
        f"{header.id}: {len(rows)} measures, each with its status, direction of travel, risk "
        "and commentary."
    )
    sentences = [sentence]
    if header.include_unapproved:
        unapproved = int(rows["unapproved"].sum())
        sentences.append(f"{unapproved} of these values had not been approved when it was taken.")
    if before is None:
        sentences.append("There is no earlier snapshot to compare it with.")
    else:
        sentences.append(
            f"Movements are given against snapshot {before.snapshot.id} ({before.snapshot.period})."
        )
    return Issue("Performance this period", [" ".join(sentences)])


def _counts(frozen: Frozen | None) -> dict[str, dict[str, int]]:
    if frozen is None:
        return {}
    tiers = frozen.rollups[frozen.rollups["level"] == "tier"]
    return {
        record["name"]: {label: int(record[name]) for name, label in COUNTED}
        for record in tiers.to_dict("records")
    }


def _tier_counts(frozen: Frozen, before: Frozen | None) -> Issue | None:
    now, then = _counts(frozen), _counts(before)
    statuses = dict(frozen.rollups[frozen.rollups["level"] == "tier"][["name", "status"]].values)
    paragraphs = []
    table = [["Tier", *[label for _, label in COUNTED], "Total", "Status"]]
    for tier, counts in now.items():
        listed = ", ".join(f"{count} {label}" for label, count in counts.items())
        sentences = [
            f"{tier}: {sum(counts.values())} measures, {listed}; "
            f"rolled up, the tier is {statuses[tier]}."
        ]
        if tier in then:
            sentences.append(_movement(then[tier], counts))
        elif before is not None:
            sentences.append("The earlier snapshot held no measure of this tier.")
        paragraphs.append(" ".join(sentences))
        table.append(
            [tier, *[str(c) for c in counts.values()], str(sum(counts.values())), statuses[tier]]
        )
    return Issue("Measures by tier", paragraphs, table) if paragraphs else None


def _movement(then: dict[str, int], now: dict[str, int]) -> str:
    changed = [
        f"{label} from {then[label]} to {now[label]}" for label in now if now[label] != then[label]
    ]
    if not changed:
        return "The counts are unchanged since the previous snapshot."
    return "Since the previous snapshot: " + "; ".join(changed) + "."


def _value_phrase(row: pd.Series | dict) -> str:
    actual = format_number(row["actual"], row["unit"], row["decimals"])
    if pd.isna(row["target"]):
        return f"{actual} (no target)"
    target = format_number(row["target"], row["unit"], row["decimals"])
    return f"{actual} against a target of {target}"


def _new_reds(frozen: Frozen, comparison: Comparison | None) -> Issue | None:
    rows = frozen.rows.set_index("code")
    if comparison is None:
        codes = rows.index[rows["status"] == Status.RED.value].tolist()
        was = dict.fromkeys(codes, "")
    else:
        codes = comparison.new_reds["code"].tolist()
        was = dict(comparison.new_reds[["code", "before"]].values)
    paragraphs = []
    for code in codes:
        row = rows.loc[code]
        became = f"became Red (it was {was[code]})" if was[code] else "is Red"
        if comparison is not None and not was[code]:
            became = "is Red and was not reported in the previous snapshot"
        sentences = [f"{code} {row['title']} {became}: {_value_phrase(row)}."]
        sentences.append(
            f"Commentary: “{row['commentary']}”" if row["commentary"] else "No commentary given."
        )
        if row["corrective_action"]:
            sentences.append(f"Corrective action: “{row['corrective_action']}”")
        paragraphs.append(" ".join(sentences))
    if not paragraphs:
        return None
    table = [["Code", "Measure", "Was", "Now", "Value", "Target", "Commentary"]]
    for code in codes:
        row = rows.loc[code]
        value = format_number(row["actual"], row["unit"], row["decimals"])
        target = format_number(row["target"], row["unit"], row["decimals"])
        table.append([code, row["title"], was[code], "Red", value, target, row["commentary"]])
    heading = "Measures that became Red" if comparison is not None else "Measures that are Red"
    return Issue(heading, paragraphs, table)


def _recovered(comparison: Comparison | None) -> Issue | None:
    if comparison is None or comparison.recovered.empty:
        return None
    sentences = [
        f"{record['code']} {record['title']} recovered from Red to {record['after']}."
        for record in comparison.recovered.to_dict("records")
    ]
    return Issue("Measures that recovered from Red", sentences)


def _highest_risks(frozen: Frozen) -> Issue:
    rows = frozen.rows
    high = rows[rows["risk_level"] == RiskLevel.HIGH.value]
    top = high.sort_values(["risk_score", "code"], ascending=[False, True]).head(TOP_RISKS)
    if top.empty:
        return Issue("Highest risks", ["No measure carries a High risk this period."])
    sentences = [
        f"{len(high)} measures carry a High risk; the highest are listed here."
        if len(high) > len(top)
        else f"{len(high)} measures carry a High risk."
    ]
    sentences += [
        f"{row['code']} {row['title']}: {row['status']}, risk score {row['risk_score']}, "
        f"{_value_phrase(row)}."
        for row in top.to_dict("records")
    ]
    return Issue("Highest risks", sentences)


def _restatements(frozen: Frozen) -> Issue:
    restated = frozen.restatements
    if restated.empty:
        return Issue("Restatements", ["No value published in an earlier snapshot has changed."])
    sentences = []
    for row in restated.to_dict("records"):
        old = format_number(row["old_value"], row["unit"], row["decimals"])
        new = format_number(row["new_value"], row["unit"], row["decimals"])
        who = row["changed_by"] or "a person not recorded"
        when = pd.Timestamp(row["changed_at"]).strftime("%Y-%m-%d") if row["changed_at"] else ""
        why = f"; the reason given: “{row['reason']}”" if row["reason"] else ""
        sentences.append(
            f"{row['code']} {row['title']}, {row['period']}: the {row['field_name']} published in "
            f"snapshot {row['published_in']} as {old} is now {new}, changed by {who}"
            f"{' on ' + when if when else ''}{why}."
        )
    return Issue("Restatements", sentences)
