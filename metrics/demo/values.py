"""The demo's Values sheet: every measure's history, nudged to its year-end colour, with
commentary and approval states, the same on every run and every machine."""

from __future__ import annotations

import math
from collections.abc import Callable
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


def _candidates(story: _Story, row: dict[str, Any]) -> tuple[list[float], Callable[[int], None]]:
    """The year-end value then its alternatives, nearest first, and how to take the k-th."""
    if story.has_ratio:
        scale = 100.0 if story.unit == Unit.PERCENT else 1.0
        denominator = row["Denominator"]
        numerators = [row["Numerator"] + step for step in _steps(200)]
        numerators = [
            n for n in numerators if 0 <= n <= (denominator if scale == 100 else math.inf)
        ]
        actuals = [round(scale * n / denominator, story.decimals) for n in numerators]
        return [row["Actual"], *actuals], lambda k: row.update(
            Numerator=numerators[k - 1], Actual=actuals[k - 1]
        )
    unit = 10.0**-story.decimals
    steps = [round(row["Actual"] + step * unit, story.decimals) for step in _steps(400)]
    actuals = [actual for actual in steps if actual >= 0]
    return [row["Actual"], *actuals], lambda k: row.update(Actual=actuals[k - 1])


def _pin_finals(finals: list[tuple[_Story, dict[str, Any]]]) -> None:
    """Nudge each year-end value, by the smallest step, into the colour its profile asks for:
    the nearest candidate with that colour under the metric's tolerance and the default one
    alike (one rating call for every measure's candidates)."""
    pinned = []
    for story, row in finals:
        wanted = {"green": "Green", "amber": "Amber", "red": "Red"}.get(story.outlook)
        if wanted is not None and row["Target"] is not None and row["Actual"] is not None:
            pinned.append((story, row, wanted, *_candidates(story, row)))
    actuals, targets, uppers, polarities, tolerances = [], [], [], [], []
    for story, row, _, candidates, _ in pinned:
        for tolerance in (story.tolerance, ""):
            n = len(candidates)
            actuals += candidates
            targets += [row["Target"]] * n
            uppers += [row["Target upper"]] * n
            polarities += [story.polarity] * n
            tolerances += [tolerance] * n
    colours = np.array(rags(actuals, targets, uppers, polarities, tolerances) if pinned else [])
    start = 0
    for _, _, wanted, candidates, take in pinned:
        n = len(candidates)
        own, default = colours[start : start + n], colours[start + n : start + 2 * n]
        fits = (own == wanted) & (default == wanted)
        start += 2 * n
        found = np.flatnonzero(fits)
        if len(found) and found[0]:  # the first that fits, unless the value itself does
            take(int(found[0]))


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
    """The Values rows of one metric, before its year end is pinned to its colour."""
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
    return rows


def _drop_missing(story: _Story, rows: list[dict[str, Any]]) -> None:
    """Blank the actuals the profile says were never sent."""
    for row in rows:
        if row["Period"] in story.missing:
            row.update(Actual=None, Numerator=None, Denominator=None)


# --- Commentary and approval --------------------------------------------------------------------


# What an officer writes against a red, and what they are doing about it, by service.
def _annotate(
    story: _Story,
    rows: list[dict[str, Any]],
    statuses: list[str | None],
    notes: dict[str, tuple[str, str]],
) -> None:
    """Commentary on reds (the profile's own words near the year end), approval on every row."""
    latest = len(rows) - 1
    recent = 3 if story.frequency == Frequency.MONTHLY else 1
    pool = RED_NOTES.get(story.service, GENERAL_NOTES)
    cause: tuple[str, str] | None = None  # one cause for a run of reds, as an officer would
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


def _statuses(histories: list[tuple[_Story, list[dict[str, Any]]]]) -> list[list[str | None]]:
    """Each row's colour against its own target (None without an actual or a target), for every
    measure's rows in one rating call."""
    rated = [
        (story, row)
        for story, rows in histories
        for row in rows
        if row["Actual"] is not None and row["Target"] is not None
    ]
    colours = iter(
        rags(
            [row["Actual"] for _, row in rated],
            [row["Target"] for _, row in rated],
            [row["Target upper"] for _, row in rated],
            [story.polarity for story, _ in rated],
            [story.tolerance for story, _ in rated],
        )
        if rated
        else []
    )
    return [
        [
            next(colours) if row["Actual"] is not None and row["Target"] is not None else None
            for row in rows
        ]
        for _, rows in histories
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
    # One story per measure, stepped month by month (120 templates, the demo only): a loop by
    # nature, not a rule over a council's rows. Each story draws from its own generator, so
    # rating every measure's year end, then every row, in one call each changes no draw.
    stories, notes = [], []
    for template in metrics_frame().to_dict("records"):
        mine = extra[extra["Code"] == template["Code"]]
        story = _Story(template, profiles.loc[template["Code"]])
        adjustments = {
            p: float(a.rstrip("%")) / 100
            for p, a in zip(mine["Period"], mine["Adjust actual"], strict=True)
            if a.strip()
        }
        stories.append((story, _history(story, adjustments)))
        notes.append(
            {
                p: (c, a)
                for p, c, a in zip(
                    mine["Period"], mine["Commentary"], mine["Corrective action"], strict=True
                )
            }
        )
    _pin_finals([(story, rows[-1]) for story, rows in stories])
    for story, rows in stories:
        _drop_missing(story, rows)
    for (story, rows), statuses, own in zip(stories, _statuses(stories), notes, strict=True):
        _annotate(story, rows, statuses, own)
    frame = pd.DataFrame([row for _, rows in stories for row in rows], columns=VALUE_COLUMNS)
    frame[NUMBER_COLUMNS] = frame[NUMBER_COLUMNS].astype(float)
    return frame
