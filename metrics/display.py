"""Tables for reading: numbers in each measure's unit, statuses with their symbols, the columns
every measure table shares. Pure: frames in, frames of text out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics import periods
from metrics.charts import STATUS_SYMBOLS, direction_label, status_label
from metrics.explain import format_values
from metrics.frames import first_in_order
from metrics.rating import COUNT_COLUMNS
from metrics.vocab import Status


def counts_text(counts: pd.DataFrame) -> pd.Series:
    """'2 Red · 1 Amber · 5 Green · 0 Data only · 1 Missing', status words always spelled out."""
    # Written row by row: twenty column-wide steps of pandas text took 5 ms for XL's 1,800 nodes.
    numbers = zip(
        *(counts[c].to_numpy(dtype=np.int64).tolist() for c in COUNT_COLUMNS), strict=True
    )
    text = [
        " · ".join(f"{n} {c}" for n, c in zip(row, COUNT_COLUMNS, strict=True)) for row in numbers
    ]
    return pd.Series(text, index=counts.index, dtype="str")


def formatted(frame: pd.DataFrame, column: str) -> pd.Series:
    """A number column written in each metric's unit and decimals ('71.2 %', '£1,234'); '–'
    where there is no number."""
    value = frame[column].astype(float)
    text = format_values(value, frame["unit"].to_numpy(), frame["decimals"].to_numpy())
    return pd.Series(np.where(value.isna(), "–", text), index=frame.index, dtype=object)


DISPLAY_COLUMNS = [
    "code",
    "Status",
    "Forecast",
    "Variation",
    "Assurance",
    "Travel",
    "Risk",
    "Measure",
    "Tier",
    "Actual",
    "Target",
    "Year to date",
    "Why",
    "Why this risk",
    "Signal or noise",
    "Commentary",
]


# What a reader needs first, beside the code: why it has its colour, what it is, what its owner
# says. Everything else follows, so on a phone the reason never hides behind a sideways scroll.
READING_FIRST = ["code", "Why", "Measure", "Commentary"]


def reading_order(columns: list[str]) -> list[str]:
    """The columns to show, READING_FIRST (those present) first, the rest in their order."""
    first = [c for c in READING_FIRST if c in columns]
    return first + [c for c in columns if c not in first]


def with_symbol(why: pd.Series) -> pd.Series:
    """'✖ Red: 15 is above ...': each reason led by its status's symbol (the sentence starts
    with the status word), so the reason column carries the status on its own."""
    text = why.fillna("").astype(str)
    symbol = pd.Series("", index=why.index, dtype=object)
    for status, mark in STATUS_SYMBOLS.items():
        symbol = symbol.mask(text.str.startswith(f"{status}:"), mark + " ")
    return symbol + text


def count_bar(counts: pd.DataFrame, width: int = 20) -> pd.Series:
    """The five counts as a strip of status symbols ('✖✖◆●●●●'), one a measure up to `width`
    symbols, else scaled to `width` (a non-zero count keeps at least one): readable in print."""
    frame = counts[COUNT_COLUMNS].fillna(0).astype(int)
    total = frame.sum(axis=1)
    scale = (width / total.where(total > width, width)).to_numpy()[:, None]
    shown = np.where(frame > 0, np.maximum(np.rint(frame.to_numpy() * scale), 1), 0).astype(int)
    symbols = [STATUS_SYMBOLS[c] for c in COUNT_COLUMNS]
    return pd.Series(
        ["".join(s * n for s, n in zip(symbols, row, strict=True)) for row in shown],
        index=counts.index,
        dtype=object,
    )


def spc_text(frame: pd.DataFrame) -> pd.Series:
    """The variation and assurance sentences of each row, one after the other."""
    variation = frame.get("spc_variation_why", pd.Series("", index=frame.index)).fillna("")
    assurance = frame.get("spc_assurance_why", pd.Series("", index=frame.index)).fillna("")
    both = (variation + ". " + assurance).where(assurance != "", variation)
    return both.where(variation != "", assurance)


def display_table(frame: pd.DataFrame, extra: list[str] | None = None) -> pd.DataFrame:
    """The columns every metric table shares, formatted for reading: the status, the year-end
    forecast and the XmR variation and assurance side by side, then travel, risk, the numbers,
    why, and the XmR sentences."""
    if frame.empty:
        return pd.DataFrame(columns=[*DISPLAY_COLUMNS, *(extra or [])])
    risk = (
        frame["risk_level"].astype(str) + " (" + frame["risk_score"].astype(int).astype(str) + ")"
    )
    forecast = formatted(frame, "forecast") + " " + frame["forecast_rag"].map(status_label)
    columns = {
        "code": frame["code"],
        "Status": frame["rag"].map(status_label),
        "Variation": frame.get("spc_variation", pd.Series("", index=frame.index)).fillna(""),
        "Assurance": frame.get("spc_assurance", pd.Series("", index=frame.index)).fillna(""),
        "Forecast": forecast.where(frame["forecast"].notna(), "–"),
        "Travel": frame["dot_previous"].map(direction_label),
        "Risk": risk.where(frame["risk_score"] > 0, "–"),
        "Measure": frame["title"],
        "Tier": frame["tier"],
        "Actual": formatted(frame, "actual"),
        "Target": formatted(frame, "target"),
        "Year to date": formatted(frame, "ytd"),
        "Why": frame["explanation"],
        # a snapshot's frozen rows carry no risk sentence
        "Why this risk": frame.get("risk_why", pd.Series("", index=frame.index)).fillna(""),
        "Signal or noise": spc_text(frame),
        "Commentary": frame.get("latest_commentary", frame["commentary"]).fillna(""),
    }
    return pd.DataFrame(columns)[DISPLAY_COLUMNS].reset_index(drop=True)


def metric_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per metric: status and forecast side by side, travel, risk, the reason and the
    commentary; ordered by risk score, highest first."""
    return display_table(frame) if frame.empty else display_table(_by_risk(frame))


# The order of every metric table: highest risk score first, then by code.
BY_RISK = ["risk_score", "code"]


def _by_risk(frame: pd.DataFrame) -> pd.DataFrame:
    """Highest risk score first, then by code: the order of every metric table."""
    return frame.sort_values(BY_RISK, ascending=[False, True])


def is_exception(status: pd.DataFrame) -> pd.Series:
    """An exception is a measure rated Red or Amber."""
    return status["rag"].isin([Status.RED.value, Status.AMBER.value])


def first_exceptions(status: pd.DataFrame, *, limit: int | None = None) -> pd.DataFrame:
    """The Red and Amber rows, highest risk score first (then Red before Amber, then by code):
    the first `limit` of them if given."""
    wanted = is_exception(status)
    by, ascending = ["risk_score", "rag", "code"], [False, False, True]
    return first_in_order(status, by, ascending, limit=limit, rows=wanted)


def exceptions(status: pd.DataFrame, *, limit: int | None = None) -> pd.DataFrame:
    """Red and Amber measures ordered by risk score (highest first), with travel against the
    previous period and last year, the XmR readings, the reason and the latest commentary;
    the first `limit` of them if given."""
    chosen = first_exceptions(status, limit=limit)
    if chosen.empty:
        return display_table(status.iloc[:0], extra=["Last year", "Action"])
    table = display_table(chosen)
    table["Last year"] = chosen["dot_last_year"].map(direction_label).to_numpy()
    table["Action"] = chosen["corrective_action"].fillna("").to_numpy()
    return table[
        [
            "code",
            "Status",
            "Forecast",
            "Variation",
            "Assurance",
            "Travel",
            "Last year",
            "Risk",
            "Measure",
            "Tier",
            "Actual",
            "Target",
            "Why",
            "Why this risk",
            "Signal or noise",
            "Commentary",
            "Action",
        ]
    ]


def with_alignment(frame: pd.DataFrame, *, limit: int | None = None) -> pd.DataFrame:
    """A metric table with a column saying how each measure is aligned upwards (its first
    `limit` rows, if given)."""
    if frame.empty:
        return metric_table(frame).assign(**{"Aligned to": []})
    if not frame.index.is_unique:  # taken by label (`first_in_order`)
        frame = frame.reset_index(drop=True)
    ordered = first_in_order(frame, BY_RISK, [False, True], limit=limit)
    table = display_table(ordered)
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
            "Period": periods.spoken_each(ordered["period"]),
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
