"""Why this roll-up, why this risk: the sentences beside a level's rolled-up status and beside a
measure's risk score, stating the rule and the numbers behind them (`docs/rating-rules.md`).
Kept beside `explain.py`, which says why a measure has its colour."""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics.config import RatingRules
from metrics.rating import EPSILON, RAG_LIKELIHOOD
from metrics.vocab import Direction, RiskLevel, Status

SHARE_WORDS = {1 / 2: "half", 1 / 3: "a third", 1 / 4: "a quarter", 1 / 5: "a fifth"}
IMPACT_WORDS = {1: "low", 2: "medium", 3: "high"}


def share_words(share: float) -> str:
    """`a third` for 1/3, `a quarter` for 1/4; otherwise the percent (`40 %`)."""
    for fraction, words in SHARE_WORDS.items():
        if abs(share - fraction) < 5e-4:  # config.toml writes a third as 0.3333
            return words
    return f"{share * 100:g} %"


def _n(count: pd.Series, one: str, many: str) -> pd.Series:
    """`1 measure`, `3 measures`: the count with its noun, per row."""
    return count.astype(int).astype(str) + " " + count.eq(1).map({True: one, False: many})


def _verb(count: pd.Series, one: str = "is", many: str = "are") -> pd.Series:
    return count.eq(1).map({True: one, False: many})


def rollup_sentence(counts: pd.DataFrame, *, rules: RatingRules) -> pd.Series:
    """One sentence per rolled-up row (`rating.rollup`: the counts, status and high_red) naming
    the roll-up rule that decided its status and the numbers it compared."""
    red, amber = counts["Red"].astype(int), counts["Amber"].astype(int)
    data_only, missing = counts["Data only"].astype(int), counts["Missing"].astype(int)
    high_red = counts["high_red"].astype(int) if "high_red" in counts else red * 0
    rated = red + amber + counts["Green"].astype(int)
    due = rated + data_only + missing
    red_third, amber_third = (
        share_words(rules.rollup_red_share),
        share_words(rules.rollup_amber_share),
    )
    of_rated = " of " + _n(rated, "rated measure", "rated measures") + " "
    status = counts["status"]
    red_share = red / rated.where(rated > 0, 1) >= rules.rollup_red_share - EPSILON
    cases = [
        (
            status == Status.MISSING.value,
            "Missing: no value has been entered for any of its " + _n(due, "measure", "measures"),
        ),
        (
            status == Status.DATA_ONLY.value,
            "Data only: none of its "
            + _n(due, "measure", "measures")
            + " is rated ("
            + data_only.astype(str)
            + " Data only, "
            + missing.astype(str)
            + " Missing)",
        ),
        (
            (status == Status.RED.value) & red_share,
            "Red: " + red.astype(str) + of_rated + _verb(red) + f" Red, at least {red_third}",
        ),
        (
            status == Status.RED.value,
            "Red: "
            + _n(high_red, "Red measure carries", "Red measures carry")
            + " High risk, and any High-risk Red makes it Red ("
            + red.astype(str)
            + of_rated
            + _verb(red)
            + f" Red, under {red_third})",
        ),
        (
            (status == Status.AMBER.value) & (red > 0),
            "Amber: "
            + red.astype(str)
            + of_rated
            + _verb(red)
            + f" Red, under {red_third} and none with High risk; any Red makes it at least Amber",
        ),
        (
            status == Status.AMBER.value,
            "Amber: "
            + amber.astype(str)
            + of_rated
            + _verb(amber)
            + f" Amber, at least {amber_third}, and none is Red",
        ),
    ]
    green = (
        "Green: none of its "
        + _n(rated, "rated measure", "rated measures")
        + " is Red and "
        + amber.astype(str)
        + " "
        + _verb(amber)
        + f" Amber, under {amber_third}"
    )
    sentence = pd.Series(green, index=counts.index, dtype=object)
    for when, text in reversed(cases):  # the first matching case wins, as in `rollup_status`
        sentence = sentence.where(~when, text)
    unrated = (rated > 0) & (data_only + missing > 0)
    tail = (
        "; "
        + data_only.astype(str)
        + " Data only and "
        + missing.astype(str)
        + " Missing are not counted in the shares"
    )
    return sentence + tail.where(unrated, "")


def risk_sentence(frame: pd.DataFrame, *, rules: RatingRules) -> pd.Series:
    """One sentence per measure (rag, dot_previous, risk_impact, risk_score, risk_level) saying
    how its risk score was made: likelihood from the colour (+1 if Worsening, at most 3) ×
    impact, and where the score falls among Low, Medium and High."""
    base = frame["rag"].map({s.value: n for s, n in RAG_LIKELIHOOD.items()})
    worse = frame["dot_previous"] == Direction.WORSENING.value
    impact = pd.to_numeric(frame["risk_impact"], errors="coerce").fillna(0).astype(int)
    score = frame["risk_score"].fillna(0).astype(int)
    likelihood = (base.fillna(0) + worse).clip(upper=3).astype(int)
    colour = frame["rag"].astype(str) + " " + base.fillna(0).astype(int).astype(str)
    why_likelihood = colour.where(
        ~worse,
        colour
        + (base >= 3).map({True: ", Worsening adds 1 but 3 is the most", False: " +1 Worsening"}),
    )
    low, medium = rules.risk_low_max, rules.risk_medium_max
    band = pd.Series(
        np.select(
            [score <= low, score <= medium],
            [f"scores up to {low} are Low", f"scores {low + 1} to {medium} are Medium"],
            f"scores above {medium} are High",
        ),
        index=frame.index,
    )
    sentence = (
        frame["risk_level"].astype(str)
        + " ("
        + score.astype(str)
        + "): likelihood "
        + likelihood.astype(str)
        + " ("
        + why_likelihood
        + ") × impact "
        + impact.astype(str)
        + " ("
        + impact.map(IMPACT_WORDS).fillna("not set")
        + ") = "
        + score.astype(str)
        + "; "
        + band
    )
    rag = frame["rag"].astype(str)
    article = pd.Series(np.where(rag.str[:1].isin(list("AEIOU")), "an ", "a "), index=rag.index)
    unrated = f"{RiskLevel.NONE.value}: " + article + rag + " measure has no risk score"
    return sentence.where((score > 0) & base.notna(), unrated)
