"""The demo's Values sheet: every measure's history, nudged to its year-end colour, with
commentary and approval states, the same on every run and every machine."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from metrics import periods
from metrics.demo.source import (
    AMBER_NOTES,
    GENERAL_NOTES,
    NUMBER_COLUMNS,
    RED_NOTES,
    VALUE_COLUMNS,
    commentary_frame,
    metrics_frame,
    profiles_frame,
)
from metrics.demo.story import _ratio_row, _rounded, _Story, rags
from metrics.vocab import Aggregation, ApprovalState, Frequency, Polarity, Unit


def _pin_final(story: _Story, row: dict[str, Any]) -> None:
    """Nudge the year-end value, by the smallest step, into the colour the profile asks for."""
    wanted = {"green": "Green", "amber": "Amber", "red": "Red"}.get(story.outlook)
    target, upper = row["Target"], row["Target upper"]
    if wanted is None or target is None or row["Actual"] is None:
        return

    def first_fit(actuals: list[float]) -> int | None:
        """The first of these values with the wanted colour under the metric's tolerance and
        the default one alike (one rating call)."""
        n = len(actuals)
        colours = rags(
            actuals * 2, [target] * 2 * n, [upper] * 2 * n, story.polarity,
            [story.tolerance] * n + [""] * n,
        )  # fmt: skip
        fits = (np.array(colours[:n]) == wanted) & (np.array(colours[n:]) == wanted)
        found = np.flatnonzero(fits)
        return int(found[0]) if len(found) else None

    # The value itself, then the candidates nearest first; the first that fits is taken.
    if story.has_ratio:
        scale = 100.0 if story.unit == Unit.PERCENT else 1.0
        denominator = row["Denominator"]
        numerators = [row["Numerator"] + step for step in _steps(200)]
        numerators = [
            n for n in numerators if 0 <= n <= (denominator if scale == 100 else math.inf)
        ]
        actuals = [round(scale * n / denominator, story.decimals) for n in numerators]
        found = first_fit([row["Actual"], *actuals])
        if found:
            row.update(Numerator=numerators[found - 1], Actual=actuals[found - 1])
        return
    unit = 10.0**-story.decimals
    actuals = [round(row["Actual"] + step * unit, story.decimals) for step in _steps(400)]
    found = first_fit([row["Actual"], *[actual for actual in actuals if actual >= 0]])
    if found:
        row["Actual"] = [actual for actual in actuals if actual >= 0][found - 1]


def _steps(limit: int) -> list[int]:
    """1, -1, 2, -2, ... up to the limit: the nearest candidates first."""
    return [sign * size for size in range(1, limit + 1) for sign in (1, -1)]


def _calibrate_year(story: _Story, levels: np.ndarray) -> np.ndarray:
    """For a summed measure, scale the last year's other periods so its total lands as planned.

    The year-to-date total is what a summed measure is rated on; the last period is left alone.
    """
    if story.aggregation != Aggregation.SUM or story.data_only or not story.targets[1]:
        return levels
    per_year = periods.per_year(story.frequency)
    year = slice(len(levels) - per_year, len(levels) - 1)
    goal = story.targets[1] * per_year
    goal *= 1 + story.final_gap() if story.polarity == Polarity.HIGHER else 1 - story.final_gap()
    others = levels[year].sum()
    if per_year == 1 or others <= 0:
        return levels
    levels = levels.copy()
    levels[year] *= max(goal - levels[-1], 0.0) / others
    return levels


def _zero_target_levels(story: _Story) -> np.ndarray:
    """Occasional events against a target of none; a green metric has none in its last year."""
    events = story.rng.poisson(story.typical or 0.2, len(story.periods)).astype(float)
    if story.outlook == "green":
        events[-periods.per_year(story.frequency) :] = 0.0
    return events


def _history(story: _Story, adjustments: dict[str, float]) -> list[dict[str, Any]]:
    """The Values rows of one metric, before commentary and approval."""
    zero_target = not story.data_only and story.targets[1] == 0
    levels = _zero_target_levels(story) if zero_target else story.levels()
    levels = _calibrate_year(story, levels)
    rows = []
    for index, (period, level) in enumerate(zip(story.periods, levels, strict=True)):
        level = level * (1 + adjustments.get(period.label, 0.0))
        row: dict[str, Any] = {
            "Code": story.code,
            "Period": period.label,
            "Numerator": None,
            "Denominator": None,
            "Target": story.target(period),
            "Target upper": story.upper(period),
        }
        if story.has_ratio:
            row["Numerator"], row["Denominator"], row["Actual"] = _ratio_row(story, level, index)
        else:
            row["Actual"] = _rounded(story, level)
        rows.append(row)
    _pin_final(story, rows[-1])
    for row in rows:
        if row["Period"] in story.missing:
            row.update(Actual=None, Numerator=None, Denominator=None)
    return rows


# --- Commentary and approval --------------------------------------------------------------------


# What an officer writes against a red, and what they are doing about it, by service.
def _annotate(story: _Story, rows: list[dict[str, Any]], notes: dict[str, tuple[str, str]]) -> None:
    """Commentary on reds (the profile's own words near the year end), approval on every row."""
    latest = len(rows) - 1
    recent = 3 if story.frequency == Frequency.MONTHLY else 1
    pool = RED_NOTES.get(story.service, GENERAL_NOTES)
    cause: tuple[str, str] | None = None  # one cause for a run of reds, as an officer would
    statuses = _statuses(story, rows)
    for index, row in enumerate(rows):
        row["Commentary"], row["Corrective action"] = "", ""
        status = statuses[index]
        if status != "Red":
            cause = None
        if status == "Red" and story.commentary and index > latest - recent:
            row["Commentary"] = story.commentary
            row["Corrective action"] = story.action if index == latest else ""
        elif status == "Red":
            fresh = cause is None
            cause = cause or pool[int(story.rng.integers(len(pool)))]
            row["Commentary"] = cause[0] if fresh else _continued(cause[0])
            row["Corrective action"] = cause[1] if fresh else ""
        elif status == "Amber" and index == latest:
            row["Commentary"] = (
                story.commentary or AMBER_NOTES[int(story.rng.integers(len(AMBER_NOTES)))]
            )
            row["Corrective action"] = story.action
        if row["Period"] in notes:
            row["Commentary"], row["Corrective action"] = notes[row["Period"]]
        row["Approval"] = _approval(story, row, index == latest)


def _continued(note: str) -> str:
    """The note an officer writes when last month's cause is still at work."""
    return f"As last month: {note[0].lower()}{note[1:]}"


def _statuses(story: _Story, rows: list[dict[str, Any]]) -> list[str | None]:
    """Each row's colour against its own target (None without an actual or a target)."""
    rated = [row for row in rows if row["Actual"] is not None and row["Target"] is not None]
    colours = iter(
        rags(
            [row["Actual"] for row in rated],
            [row["Target"] for row in rated],
            [row["Target upper"] for row in rated],
            story.polarity,
            [story.tolerance] * len(rated),
        )
        if rated
        else []
    )
    return [
        next(colours) if row["Actual"] is not None and row["Target"] is not None else None
        for row in rows
    ]


def _approval(story: _Story, row: dict[str, Any], latest: bool) -> str:
    """Approved history; the latest return as its profile says; a missing actual is a draft."""
    if row["Actual"] is None:
        return ApprovalState.DRAFT.value
    return story.latest_approval if latest else ApprovalState.APPROVED.value


def values_frame() -> pd.DataFrame:
    """The Values sheet of the demo: 2015-16 and 2016-17 for every metric, the same every run."""
    profiles = profiles_frame().set_index("Code")
    extra = commentary_frame()
    rows: list[dict[str, Any]] = []
    # One story per measure, stepped month by month (120 templates, the demo only): a loop by
    # nature, not a rule over a council's rows.
    for template in metrics_frame().to_dict("records"):
        mine = extra[extra["Code"] == template["Code"]]
        adjustments = {
            p: float(a.rstrip("%")) / 100
            for p, a in zip(mine["Period"], mine["Adjust actual"], strict=True)
            if a.strip()
        }
        notes = {
            p: (c, a)
            for p, c, a in zip(
                mine["Period"], mine["Commentary"], mine["Corrective action"], strict=True
            )
        }
        story = _Story(template, profiles.loc[template["Code"]])
        history = _history(story, adjustments)
        _annotate(story, history, notes)
        rows.extend(history)
    frame = pd.DataFrame(rows, columns=VALUE_COLUMNS)
    frame[NUMBER_COLUMNS] = frame[NUMBER_COLUMNS].astype(float)
    return frame
