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


def _n(count: int, one: str, many: str) -> str:
    """`1 measure`, `3 measures`: the count with its noun."""
    return f"{count} {one if count == 1 else many}"


def _verb(count: int, one: str = "is", many: str = "are") -> str:
    return one if count == 1 else many


def rollup_sentence(counts: pd.DataFrame, *, rules: RatingRules) -> pd.Series:
    """One sentence per rolled-up row (`rating.rollup`: the counts, status and high_red) naming
    the roll-up rule that decided its status and the numbers it compared."""
    red, amber = counts["Red"].astype(int), counts["Amber"].astype(int)
    data_only, missing = counts["Data only"].astype(int), counts["Missing"].astype(int)
    high_red = counts["high_red"].astype(int) if "high_red" in counts else red * 0
    rated = red + amber + counts["Green"].astype(int)
    status = counts["status"]
    red_share = red / rated.where(rated > 0, 1) >= rules.rollup_red_share - EPSILON
    # The first matching case wins, as in `rollup_status`; the last is Green.
    case = np.select(
        [
            status == Status.MISSING.value,
            status == Status.DATA_ONLY.value,
            (status == Status.RED.value) & red_share,
            status == Status.RED.value,
            (status == Status.AMBER.value) & (red > 0),
            status == Status.AMBER.value,
        ],
        [0, 1, 2, 3, 4, 5],
        6,
    )
    words = share_words(rules.rollup_red_share), share_words(rules.rollup_amber_share)
    # A handful of rows a page: the sentences are written one by one, the case found above.
    sentences = [
        _sentence(int(c), int(r), int(a), int(n), int(d), int(m), int(h), words)
        for c, r, a, n, d, m, h in zip(
            case, red, amber, rated, data_only, missing, high_red, strict=True
        )
    ]
    return pd.Series(sentences, index=counts.index, dtype=str)


def _sentence(
    case: int,
    red: int,
    amber: int,
    rated: int,
    data_only: int,
    missing: int,
    high_red: int,
    words: tuple[str, str],
) -> str:
    """The sentence of one roll-up `case` (the order of `rollup_sentence`'s conditions)."""
    red_third, amber_third = words
    due = rated + data_only + missing
    of_rated = f" of {_n(rated, 'rated measure', 'rated measures')} "
    if case == 0:
        text = f"Missing: no value has been entered for any of its {_n(due, 'measure', 'measures')}"
    elif case == 1:
        text = (
            f"Data only: none of its {_n(due, 'measure', 'measures')} is rated "
            f"({data_only} Data only, {missing} Missing)"
        )
    elif case == 2:
        text = f"Red: {red}{of_rated}{_verb(red)} Red, at least {red_third}"
    elif case == 3:
        text = (
            f"Red: {_n(high_red, 'Red measure carries', 'Red measures carry')} High risk, and "
            f"any High-risk Red makes it Red ({red}{of_rated}{_verb(red)} Red, under {red_third})"
        )
    elif case == 4:
        text = (
            f"Amber: {red}{of_rated}{_verb(red)} Red, under {red_third} and none with High "
            "risk; any Red makes it at least Amber"
        )
    elif case == 5:
        text = (
            f"Amber: {amber}{of_rated}{_verb(amber)} Amber, at least {amber_third}, and none is Red"
        )
    else:
        text = (
            f"Green: none of its {_n(rated, 'rated measure', 'rated measures')} is Red and "
            f"{amber} {_verb(amber)} Amber, under {amber_third}"
        )
    if rated > 0 and data_only + missing > 0:
        text += f"; {data_only} Data only and {missing} Missing are not counted in the shares"
    return text


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
