"""Data quality (DESIGN.md section 5): pure frames from the due grid of
`entry_queries.due_grid`, for the performance officer and Management Team.

Every function takes the grid (one row per measure due in a month, with its value's state) and
returns a frame ready for a table, a CSV or a heatmap.
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from metrics import plain_words, rating
from metrics.inert import inert_frame
from metrics.vocab import ApprovalState, Status

SENT = (ApprovalState.SUBMITTED.value, ApprovalState.APPROVED.value)
CHASE_COLUMNS = [
    "code",
    "title",
    "service",
    "team",
    "responsible_officer",
    "responsible_email",
    "period",
    "status",
    "deadline",
    "days_overdue",
]
# The columns of the page's tables in the council's words (the CSV keeps the machine's).
HEADINGS = {
    "code": "Code",
    "title": "Measure",
    "service": "Service",
    "team": "Team",
    "responsible_officer": "Responsible officer",
    "responsible_email": "E-mail",
    "period": "Period",
    "status": "Status",
    "deadline": "Due by",
    "days_overdue": "Days overdue",
    "actual": "Value",
    "entered_by": "Entered by",
    "age_days": "Days waiting",
    "outlier": "Outlier",
    "outlier_note": "Outlier note",
    "return_reason": "Returned because",
    "returned_by": "Returned by",
}


def for_reading(frame: pd.DataFrame) -> pd.DataFrame:
    """A data quality table as the council reads it, in the order it was sorted: periods as
    'Q4 2016-17', deadlines as '12 August 2016', the columns in words."""
    return plain_words.in_words(frame, day_columns=("deadline",), names=HEADINGS)


def entered(grid: pd.DataFrame) -> pd.Series:
    """A value is in once it has an actual and has been submitted (or approved)."""
    return grid["actual"].notna() & grid["approval"].isin(SENT)


def completeness(grid: pd.DataFrame) -> pd.DataFrame:
    """Per service, team and month: measures due, values in, and the share in (0 to 1)."""
    frame = grid.assign(
        entered=entered(grid),
        service=grid["service"].fillna("(no service)"),
        team=grid["team"].fillna("(no team)"),
    )
    counts = frame.groupby(["service", "team", "month"], as_index=False).agg(
        due=("metric_id", "size"), entered=("entered", "sum")
    )
    return counts.assign(share=counts["entered"] / counts["due"])


def chase_list(grid: pd.DataFrame, today: date) -> pd.DataFrame:
    """Measures whose value is not in: Missing until its deadline, Overdue after it, with the
    responsible officer and the days past the deadline, most overdue first."""
    out = grid[~entered(grid)]
    deadline = pd.to_datetime(out["deadline"])
    days = (pd.Timestamp(today) - deadline).dt.days.clip(lower=0)
    late = rating.is_overdue(out["deadline"], today)  # the status's own Overdue judgement
    status = late.map({True: Status.OVERDUE.value, False: Status.MISSING.value})
    chase = out.assign(status=status, days_overdue=days.astype(int), deadline=deadline.dt.date)
    ordered = chase.sort_values(
        ["days_overdue", "service", "team", "code"], ascending=[False, True, True, True]
    )
    return ordered[CHASE_COLUMNS].reset_index(drop=True)


def _age(stamps: pd.Series, today: date) -> pd.Series:
    days = pd.Timestamp(today) - pd.to_datetime(stamps, utc=True).dt.tz_localize(None)
    return days.dt.days.fillna(0).astype(int)


def awaiting_approval(grid: pd.DataFrame, today: date) -> pd.DataFrame:
    """Submitted values, oldest submission first, with their age in days."""
    waiting = grid[grid["approval"] == ApprovalState.SUBMITTED.value]
    waiting = waiting.assign(age_days=_age(waiting["submitted_at"], today))
    columns = [
        "code",
        "title",
        "service",
        "team",
        "period",
        "actual",
        "entered_by",
        "age_days",
        "outlier",
    ]
    return waiting.sort_values("age_days", ascending=False)[columns].reset_index(drop=True)


def outliers_to_review(grid: pd.DataFrame) -> pd.DataFrame:
    """Values outside their natural process limits that no officer has reviewed yet."""
    flagged = grid[grid["outlier"].fillna(False).astype(bool)]
    flagged = flagged[flagged["outlier_reviewed_by"].fillna("") == ""]
    columns = ["code", "title", "service", "team", "period", "actual", "outlier_note", "entered_by"]
    return flagged[columns].reset_index(drop=True)


def returned(grid: pd.DataFrame) -> pd.DataFrame:
    """Values returned to their service manager and not yet submitted again, with the reason."""
    back = grid[grid["approval"] == ApprovalState.RETURNED.value]
    columns = ["code", "title", "service", "team", "period", "return_reason", "returned_by"]
    return back[columns].reset_index(drop=True)


def _share(part: pd.Series, whole: pd.Series | None = None) -> float | None:
    count = len(part) if whole is None else int(whole.sum())
    return None if count == 0 else float(part.sum()) / count


def dimensions(grid: pd.DataFrame, today: date) -> pd.DataFrame:
    """The six Audit Commission dimensions: what the product measures for each, and the figure
    (a share from 0 to 1, or None when nothing was due)."""
    has_value = grid["actual"].notna()
    sent = grid[entered(grid)]
    deadline = pd.to_datetime(sent["deadline"])
    submitted = pd.to_datetime(sent["submitted_at"], utc=True).dt.tz_localize(None)
    on_time = submitted.notna() & (submitted.dt.normalize() <= deadline)
    approved = grid["approval"] == ApprovalState.APPROVED.value
    second_pair = approved & (grid["approved_by"].fillna("") != grid["entered_by"].fillna(""))
    unreviewed = grid["outlier"].fillna(False).astype(bool) & (
        grid["outlier_reviewed_by"].fillna("") == ""
    )
    past = pd.to_datetime(grid["deadline"]) < pd.Timestamp(today)
    rows = [
        (
            "accuracy",
            "approved values approved by someone other than their enterer",
            _share(second_pair[approved]),
        ),
        (
            "validity",
            "values stored that passed the range and type checks on entry (every value "
            "entered here is checked; imported ones are checked by the import)",
            _share(has_value[has_value]),
        ),
        (
            "reliability",
            "entered values not awaiting an outlier review",
            _share(~unreviewed[has_value]),
        ),
        ("timeliness", "values in that were submitted by their deadline", _share(on_time)),
        (
            "relevance",
            "measures due that have a target (are not data only)",
            _share(grid["data_only"].fillna(False).astype(bool).eq(False)),
        ),
        (
            "completeness",
            "measures due whose deadline has passed that have a value in",
            _share(entered(grid)[past]),
        ),
    ]
    return pd.DataFrame(rows, columns=["dimension", "what is measured", "figure"])


def readable_time(stamp: datetime | None) -> str:
    """`30 Nov 2026 14:05`."""
    return "" if stamp is None or pd.isna(stamp) else f"{pd.Timestamp(stamp):%d %b %Y %H:%M}"


def audit_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Audit rows as people read them: who, when, what changed from what to what, and why."""

    if rows.empty:
        return pd.DataFrame(columns=["who", "when", "what", "change", "why"])
    named = rows["field_name"].fillna("") != ""
    field = rows["field_name"].fillna("").str.replace("_", " ")
    what = (field + " of " + rows["entity_key"]).where(named, rows["entity_key"])
    old, new = rows["old_value"], rows["new_value"]
    change = np.select(
        [old.notna(), new.notna()],
        ["from " + old.astype(str) + " to " + new.astype(str), "set to " + new.astype(str)],
        "cleared",
    )
    return pd.DataFrame(
        {
            "who": rows["actor"],
            "when": rows["at"].map(readable_time),
            "what": what,
            "change": change,
            "why": rows["reason"].fillna(""),
        }
    )


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV for a spreadsheet, every text cell made inert (`metrics.inert`)."""
    return inert_frame(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")
