"""Server-side checks on entered values, as rules in a table: each names a field and says what
is wrong. Pure and vectorised: one call checks a whole month of entries.

The input frame has one row per entry: what was typed (`actual_raw`, `numerator_raw`,
`denominator_raw`, `commentary`, `corrective_action`, `outlier_note`) and what the server knows
(`code`, `period`, `period_end`, `fiscal_year`, `unit`, `aggregation`, `today`, `closed`,
`active`, and from the rating preview `rag`, `lower_limit`, `upper_limit`). `numbers()` adds
the numeric columns the rules read.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metrics import periods
from metrics.config import EntryRules
from metrics.rating import percent_scale
from metrics.vocab import Aggregation, Unit


@dataclass(frozen=True)
class Problem:
    """One refused field of one entry, in words a service manager can act on."""

    code: str
    period: str
    field: str
    message: str

    def __str__(self) -> str:
        when = periods.spoken(self.period)  # 'March 2017', as the council says it
        return f"{self.code} {when}, {self.field.replace('_', ' ')}: {self.message}"


@dataclass(frozen=True)
class Rule:
    """A check: `broken` is True on each row that fails it; `message` is formatted per row."""

    field: str
    broken: Callable[[pd.DataFrame, EntryRules], pd.Series]
    message: str


def to_number(raw: pd.Series) -> pd.Series:
    """Typed text or numbers as floats; blank is NaN, and so is anything that is not a number."""
    text = raw.map(lambda v: v.strip().replace(",", "") if isinstance(v, str) else v)
    text = text.map(lambda v: None if v == "" else v)
    number = pd.to_numeric(text, errors="coerce").astype(float)
    return number.where(np.isfinite(number))


def typed(raw: pd.Series) -> pd.Series:
    """Something was typed: not None, NaN or blank text."""
    return raw.map(
        lambda v: (
            v is not None
            and not (isinstance(v, float) and math.isnan(v))
            and not (isinstance(v, str) and v.strip() == "")
        )
    ).astype(bool)


def not_a_number(raw: pd.Series) -> pd.Series:
    """Something was typed, and it is not a finite number."""
    return typed(raw) & to_number(raw).isna()


def is_ratio(frame: pd.DataFrame) -> pd.Series:
    """A ratio measure: its actual is worked out from a numerator and a denominator."""
    return frame["aggregation"] == Aggregation.RATIO.value


def is_count(frame: pd.DataFrame) -> pd.Series:
    """A count: a number that adds up over the year."""
    return (frame["unit"] == Unit.NUMBER.value) & (frame["aggregation"] == Aggregation.SUM.value)


def numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """The typed numbers as floats, and `value`: the actual typed, or worked out for a ratio."""
    frame = frame.assign(
        actual=to_number(frame["actual_raw"]),
        numerator=to_number(frame["numerator_raw"]),
        denominator=to_number(frame["denominator_raw"]),
    )
    computed = (
        frame["numerator"]
        / frame["denominator"].where(frame["denominator"] > 0)
        * percent_scale(frame["unit"])
    )
    return frame.assign(value=computed.where(is_ratio(frame), frame["actual"]))


def _blank(column: pd.Series) -> pd.Series:
    return column.fillna("").astype(str).str.strip() == ""


def _outside(frame: pd.DataFrame) -> pd.Series:
    return (frame["value"] < frame["lower_limit"]) | (frame["value"] > frame["upper_limit"])


RULES: list[Rule] = [
    Rule("period", lambda f, _: f["period_end"] > f["today"], "has not ended yet"),
    Rule("period", lambda f, _: f["closed"], "the year {fiscal_year} is closed"),
    Rule("period", lambda f, _: ~f["active"], "the measure is not active in {period}"),
    Rule("actual", lambda f, _: not_a_number(f["actual_raw"]), "'{actual_raw}' is not a number"),
    Rule(
        "numerator",
        lambda f, _: not_a_number(f["numerator_raw"]),
        "'{numerator_raw}' is not a number",
    ),
    Rule(
        "denominator",
        lambda f, _: not_a_number(f["denominator_raw"]),
        "'{denominator_raw}' is not a number",
    ),
    Rule(
        "actual",
        lambda f, _: is_ratio(f) & f["actual"].notna(),
        "is worked out from the numerator and denominator; enter those instead",
    ),
    Rule(
        "numerator",
        lambda f, _: is_ratio(f) & (typed(f["numerator_raw"]) != typed(f["denominator_raw"])),
        "enter both the numerator and the denominator, or neither",
    ),
    Rule("numerator", lambda f, _: f["numerator"] < 0, "{numerator:g} cannot be negative"),
    Rule("denominator", lambda f, _: f["denominator"] <= 0, "{denominator:g} must be above 0"),
    Rule(
        "numerator",
        lambda f, _: (f["unit"] == Unit.PERCENT.value) & (f["numerator"] > f["denominator"]),
        "{numerator:g} is more than the denominator {denominator:g}; a percent cannot pass 100",
    ),
    Rule(
        "actual",
        lambda f, _: (
            (f["unit"] == Unit.PERCENT.value)
            & ~is_ratio(f)
            & ((f["value"] < 0) | (f["value"] > 100))
        ),
        "{value:g} % is outside 0 to 100",
    ),
    Rule(
        "actual",
        lambda f, _: is_count(f) & f["value"].notna() & ((f["value"] < 0) | (f["value"] % 1 != 0)),
        "{value:g} is not a count: use a whole number, 0 or more",
    ),
    Rule(
        "actual",
        lambda f, _: (f["unit"] == Unit.DAYS.value) & (f["value"] < 0),
        "{value:g} days cannot be negative",
    ),
    Rule(
        "commentary",
        lambda f, r: f["rag"].isin(r.commentary_required_for) & _blank(f["commentary"]),
        "a value rated {rag} needs commentary saying why",
    ),
    Rule(
        "corrective_action",
        lambda f, r: (
            f["rag"].isin(r.corrective_action_required_for) & _blank(f["corrective_action"])
        ),
        "a value rated {rag} needs a corrective action",
    ),
    Rule(
        "outlier_note",
        lambda f, _: _outside(f) & _blank(f["outlier_note"]),
        "{value:g} is outside this measure's natural process limits "
        "({lower_limit:.4g} to {upper_limit:.4g}); check it and confirm it with a note",
    ),
]


def check(frame: pd.DataFrame, *, rules: EntryRules) -> list[Problem]:
    """Every rule broken by every row, in row order then rule order; empty when all is well."""
    broken = pd.DataFrame(
        {n: RULES[n].broken(frame, rules).fillna(False).astype(bool) for n in range(len(RULES))},
        index=frame.index,
    )
    found = broken.to_numpy()
    problems = []
    for position in np.flatnonzero(found.any(axis=1)):  # only the rows that broke a rule
        row = frame.iloc[position]
        for n in np.flatnonzero(found[position]):
            rule = RULES[n]
            problems.append(
                Problem(
                    str(row["code"]), str(row["period"]), rule.field, rule.message.format(**row)
                )
            )
    return problems


def process_limits(
    history: pd.DataFrame, *, rules: EntryRules, spc_min_points: int
) -> pd.DataFrame:
    """Per key, the natural process limits of its earlier actuals: XmR (mean ± 2.66 × mean
    moving range) with at least `spc_min_points`, mean ± `outlier_sigma` standard deviations
    with at least `outlier_min_points`, else none (NaN)."""
    grouped = history.dropna(subset=["actual"]).groupby("key")["actual"]
    count, mean = grouped.count(), grouped.mean()
    moving = history.dropna(subset=["actual"]).groupby("key")["actual"].diff().abs()
    spread_xmr = 2.66 * moving.groupby(history.dropna(subset=["actual"])["key"]).mean()
    spread_sd = rules.outlier_sigma * grouped.std()
    spread = spread_xmr.where(count >= spc_min_points, spread_sd)
    spread = spread.where(count >= min(rules.outlier_min_points, spc_min_points))
    return pd.DataFrame({"lower_limit": mean - spread, "upper_limit": mean + spread})
