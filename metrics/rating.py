"""The risk-rating rules of DESIGN.md section 4 as small, pure, vectorised functions.

Every function takes and returns pandas objects: one call rates every metric of a period.
Reading a rule should take seconds; `docs/rating-rules.md` states each in words.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from metrics.config import RatingDefaults
from metrics.vocab import Aggregation, Direction, Polarity, RiskLevel, Signal, Status, Unit

RAG_LIKELIHOOD = {Status.GREEN: 1, Status.AMBER: 2, Status.RED: 3}
UNRATED = (Status.DATA_ONLY, Status.MISSING, Status.OVERDUE)
# Floating-point slack so that a value exactly on a boundary (76.0 against 80 - 4) stays on it.
EPSILON = 1e-9


# --- RAG ------------------------------------------------------------------------------------


def tolerance_below(frame: pd.DataFrame, default_percent: float) -> pd.Series:
    """The amber band under the (lower) target: a percent of |target| or an absolute amount."""
    return _tolerance(frame, frame["target"], default_percent)


def tolerance_above(frame: pd.DataFrame, default_percent: float) -> pd.Series:
    """The amber band over the target (or over the upper target for a band)."""
    bound = frame["target_upper"].where(_is(frame, Polarity.BAND), frame["target"])
    return _tolerance(frame, bound, default_percent)


def _tolerance(frame: pd.DataFrame, bound: pd.Series, default_percent: float) -> pd.Series:
    tolerance = frame["tolerance"].astype(float)
    percent = frame["tolerance_is_percent"].astype(bool) | tolerance.isna()
    amount = tolerance.fillna(default_percent)
    return amount.where(~percent, bound.abs() * amount / 100.0)


def _is(frame: pd.DataFrame, polarity: Polarity) -> pd.Series:
    return frame["polarity"] == polarity.value


def shortfall_below(frame: pd.DataFrame, value: pd.Series) -> pd.Series:
    """How far the value falls under the (lower) target, when under matters; else 0."""
    counts = _is(frame, Polarity.HIGHER) | _is(frame, Polarity.BAND)
    return (frame["target"] - value).clip(lower=0).where(counts, 0.0)


def shortfall_above(frame: pd.DataFrame, value: pd.Series) -> pd.Series:
    """How far the value rises over the target (or the upper target of a band), when over matters."""
    bound = frame["target_upper"].where(_is(frame, Polarity.BAND), frame["target"])
    counts = _is(frame, Polarity.LOWER) | _is(frame, Polarity.BAND)
    return (value - bound).clip(lower=0).where(counts, 0.0)


def rag(
    frame: pd.DataFrame,
    value: pd.Series,
    *,
    rating: RatingDefaults,
    overdue: pd.Series | None = None,
) -> pd.Series:
    """Missing/Overdue without a value, Data only without a target, else Green/Amber/Red.

    Green on or beyond target; Amber when the gap is within the tolerance; Red beyond it.
    """
    value = value.astype(float)
    below = shortfall_below(frame, value)
    above = shortfall_above(frame, value)
    within = (below <= tolerance_below(frame, rating.default_tolerance_percent) + EPSILON) & (
        above <= tolerance_above(frame, rating.default_tolerance_percent) + EPSILON
    )
    no_target = frame["target"].isna() | frame["data_only"].astype(bool)
    no_target |= _is(frame, Polarity.BAND) & frame["target_upper"].isna()
    overdue = pd.Series(False, index=frame.index) if overdue is None else overdue.astype(bool)
    choices = [
        value.isna() & overdue,
        value.isna(),
        no_target,
        (below <= EPSILON) & (above <= EPSILON),
        within,
    ]
    statuses = [Status.OVERDUE, Status.MISSING, Status.DATA_ONLY, Status.GREEN, Status.AMBER]
    return pd.Series(
        np.select(choices, [s.value for s in statuses], Status.RED.value), index=frame.index
    )


# --- Direction of travel --------------------------------------------------------------------


def outside_band(value: pd.Series, lower: pd.Series, upper: pd.Series) -> pd.Series:
    """How far outside [lower, upper] the value lies (0 inside)."""
    return (lower - value).clip(lower=0) + (value - upper).clip(lower=0)


def direction(
    frame: pd.DataFrame, current: pd.Series, earlier: pd.Series, *, rating: RatingDefaults
) -> pd.Series:
    """Improving, Stable (change under the threshold % of the earlier value) or Worsening.

    Read with the polarity: up is better for `higher`, down for `lower`, nearer the range for
    `band`. No comparison when either value is missing.
    """
    current, earlier = current.astype(float), earlier.astype(float)
    change = current - earlier
    threshold = earlier.abs() * rating.stable_threshold_percent / 100.0
    stable = change.abs() <= threshold + EPSILON
    band_gain = outside_band(earlier, frame["target"], frame["target_upper"]) - outside_band(
        current, frame["target"], frame["target_upper"]
    )
    better = np.select(
        [_is(frame, Polarity.HIGHER), _is(frame, Polarity.LOWER)],
        [change > 0, change < 0],
        band_gain > EPSILON,
    )
    worse_band = _is(frame, Polarity.BAND) & (band_gain < -EPSILON)
    verdict = np.select(
        [
            current.isna() | earlier.isna(),
            stable,
            better.astype(bool),
            ~_is(frame, Polarity.BAND) | worse_band,
        ],
        [Direction.NO_COMPARISON, Direction.STABLE, Direction.IMPROVING, Direction.WORSENING],
        Direction.STABLE,  # a band value that moved but stayed as far from the range
    )
    return pd.Series(verdict, index=frame.index).astype(str)


# --- Risk -----------------------------------------------------------------------------------


def risk_score(status: pd.Series, travel: pd.Series, impact: pd.Series) -> pd.Series:
    """likelihood (Green 1, Amber 2, Red 3; +1 if Worsening, at most 3) × impact; 0 if unrated."""
    likelihood = status.map({s.value: n for s, n in RAG_LIKELIHOOD.items()})
    likelihood = (likelihood + (travel == Direction.WORSENING.value)).clip(upper=3)
    return (likelihood * impact.astype(float)).fillna(0).astype(int)


def risk_level(score: pd.Series, *, rating: RatingDefaults) -> pd.Series:
    """Low up to risk_low_max (2), Medium up to risk_medium_max (4), High above; None if 0."""
    levels = np.select(
        [score <= 0, score <= rating.risk_low_max, score <= rating.risk_medium_max],
        [RiskLevel.NONE.value, RiskLevel.LOW.value, RiskLevel.MEDIUM.value],
        RiskLevel.HIGH.value,
    )
    return pd.Series(levels, index=score.index)


# --- Roll-up --------------------------------------------------------------------------------

COUNT_COLUMNS = ["Red", "Amber", "Green", "Data only", "Missing"]


def rollup(frame: pd.DataFrame, by: str | list[str], *, rating: RatingDefaults) -> pd.DataFrame:
    """Counts of each status per group and the group's status.

    Red if any High-risk Red or at least a third Red; Amber if any Red or at least a third
    Amber; else Green. Overdue counts as Missing. A group with nothing rated is `Data only`, or
    `Missing` when no value was entered at all.
    """
    status = frame["rag"].replace(Status.OVERDUE.value, Status.MISSING.value)
    counts = pd.crosstab([frame[c] for c in _as_list(by)], status).reindex(
        columns=COUNT_COLUMNS, fill_value=0
    )
    high_red = (
        ((frame["rag"] == Status.RED.value) & (frame["risk_level"] == RiskLevel.HIGH.value))
        .groupby([frame[c] for c in _as_list(by)])
        .any()
        .reindex(counts.index, fill_value=False)
    )
    counts["status"] = rollup_status(counts, high_red, rating=rating)
    counts.columns.name = None
    return counts.reset_index()


def rollup_status(
    counts: pd.DataFrame, high_red: pd.Series, *, rating: RatingDefaults
) -> pd.Series:
    """The rolled-up status from status counts and whether any Red carries High risk."""
    rated = counts[["Red", "Amber", "Green"]].sum(axis=1)
    share = rated.where(rated > 0, 1)
    red_share, amber_share = counts["Red"] / share, counts["Amber"] / share
    verdict = np.select(
        [
            (rated == 0) & (counts["Data only"] == 0),
            rated == 0,
            high_red | (red_share >= rating.rollup_red_share - EPSILON),
            (counts["Red"] > 0) | (amber_share >= rating.rollup_amber_share - EPSILON),
        ],
        [Status.MISSING.value, Status.DATA_ONLY.value, Status.RED.value, Status.AMBER.value],
        Status.GREEN.value,
    )
    return pd.Series(verdict, index=counts.index)


def _as_list(by: str | list[str]) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


# --- Year to date and forecast ---------------------------------------------------------------


def percent_scale(unit: pd.Series) -> pd.Series:
    """100 for percentages (numerator / denominator × 100), else 1."""
    return pd.Series(np.where(unit == Unit.PERCENT.value, 100.0, 1.0), index=unit.index)


def year_to_date(history: pd.DataFrame) -> pd.DataFrame:
    """Per metric, the YTD value and YTD target from the rows of its year so far.

    `history`: metric_id, aggregation, unit, position, actual, numerator, denominator, target,
    target_upper. sum adds; mean averages; last takes the latest; ratio is the sum of numerators
    over the sum of denominators (the mean of actuals where those are missing).
    """
    ordered = history.sort_values(["metric_id", "position"])
    grouped = ordered.groupby("metric_id", sort=True)
    first = grouped.first()
    has_ratio = grouped["numerator"].count().gt(0) & grouped["denominator"].sum().gt(0)
    ratio = grouped["numerator"].sum() / grouped["denominator"].sum().replace(0, np.nan)
    ratio = ratio * percent_scale(first["unit"])
    aggregations = {
        Aggregation.SUM.value: (
            grouped["actual"].sum(min_count=1),
            grouped["target"].sum(min_count=1),
        ),
        Aggregation.MEAN.value: (grouped["actual"].mean(), grouped["target"].mean()),
        Aggregation.LAST.value: (grouped["actual"].last(), grouped["target"].last()),
        Aggregation.RATIO.value: (
            ratio.where(has_ratio, grouped["actual"].mean()),
            grouped["target"].last(),
        ),
    }
    result = pd.DataFrame(index=first.index)
    result["ytd"] = np.nan
    result["ytd_target"] = np.nan
    for name, (value, target) in aggregations.items():
        chosen = first["aggregation"] == name
        result.loc[chosen, "ytd"] = value[chosen]
        result.loc[chosen, "ytd_target"] = target[chosen]
    result["ytd_target_upper"] = grouped["target_upper"].last()
    return result


def forecast(history: pd.DataFrame, year: pd.DataFrame) -> pd.DataFrame:
    """Per metric, the projected year-end outturn and the annual target it is judged against.

    sum: run rate (YTD ÷ periods with data × periods in the year) against the year's targets
    added up (profiled from the targets so far where later ones are not set). Others: the
    remaining periods projected on the linear trend of the year so far, then aggregated as the
    metric says (ratio weights each projected period by the mean denominator so far), against
    the target of the year's last period.

    `year`, indexed by metric_id: per_year, year_target, year_end_target, year_end_target_upper.
    """
    rows = [
        _forecast_one(metric_id, rows_of_metric, year.loc[metric_id])
        for metric_id, rows_of_metric in history.sort_values("position").groupby("metric_id")
    ]
    columns = ["metric_id", "forecast", "forecast_target", "forecast_target_upper"]
    return pd.DataFrame(rows, columns=columns).set_index("metric_id")


def _forecast_one(metric_id: int, rows: pd.DataFrame, year: pd.Series) -> tuple:
    known = rows.dropna(subset=["actual"])
    per_year = int(year["per_year"])
    upper = year["year_end_target_upper"]
    if known.empty:
        return metric_id, np.nan, np.nan, upper
    if rows["aggregation"].iloc[0] == Aggregation.SUM.value:
        outturn = known["actual"].sum() / len(known) * per_year
        target = year["year_target"]
        if pd.isna(target) and rows["target"].notna().any():
            target = rows["target"].mean() * per_year
        return metric_id, outturn, target, upper
    remaining = np.arange(int(rows["position"].max()) + 1, per_year + 1, dtype=float)
    projected = _linear_projection(
        known["position"].to_numpy(float), known["actual"].to_numpy(float), remaining
    )
    target = year["year_end_target"]
    if pd.isna(target) and rows["target"].notna().any():
        target = rows["target"].dropna().iloc[-1]
    return metric_id, _outturn(known, projected), target, upper


def _linear_projection(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray:
    if len(at) == 0:
        return at
    if len(x) < 2:
        return np.full(len(at), y[-1])
    slope, intercept = np.polyfit(x, y, 1)
    return slope * at + intercept


def _outturn(known: pd.DataFrame, projected: np.ndarray) -> float:
    aggregation = known["aggregation"].iloc[0]
    if aggregation == Aggregation.LAST.value:
        return float(projected[-1]) if len(projected) else float(known["actual"].iloc[-1])
    ratio_known = known[["numerator", "denominator"]].notna().all(axis=None)
    if aggregation == Aggregation.RATIO.value and ratio_known:
        scale = 100.0 if known["unit"].iloc[0] == Unit.PERCENT.value else 1.0
        typical = float(known["denominator"].mean())
        numerator = known["numerator"].sum() + (projected / scale * typical).sum()
        denominator = known["denominator"].sum() + typical * len(projected)
        return float(numerator / denominator * scale) if denominator else np.nan
    return float(np.concatenate([known["actual"].to_numpy(float), projected]).mean())


# --- Signal or noise (XmR) -------------------------------------------------------------------


def xmr(values: pd.Series) -> pd.DataFrame:
    """XmR chart: mean, natural process limits (mean ± 2.66 × mean moving range) and the
    special-cause rules: a point outside the limits, a run of 7 on one side of the mean, a run
    of 6 rising or falling."""
    values = values.astype(float).reset_index(drop=True)
    mean = values.mean()
    moving_range = values.diff().abs()
    spread = 2.66 * moving_range.mean()
    frame = pd.DataFrame({"value": values, "moving_range": moving_range})
    frame["mean"], frame["upper_limit"], frame["lower_limit"] = mean, mean + spread, mean - spread
    frame["outside_limits"] = (values > mean + spread + EPSILON) | (
        values < mean - spread - EPSILON
    )
    side = np.sign(values - mean)
    frame["run_of_7"] = _in_run(side, 7)
    steps = np.sign(values.diff())
    # 6 points rising is 5 rising steps in a row; the run includes the point before them.
    rising = _in_run(steps, 5)
    frame["trend_of_6"] = rising | rising.shift(-1, fill_value=False)
    frame["special_cause"] = frame[["outside_limits", "run_of_7", "trend_of_6"]].any(axis=1)
    return frame


def _in_run(sign: pd.Series, length: int) -> pd.Series:
    """True for each point inside a run of at least `length` equal, non-zero signs."""
    sign = sign.fillna(0)
    block = (sign != sign.shift()).cumsum()
    run_length = sign.groupby(block).transform("size")
    return ((sign != 0) & (run_length >= length)).astype(bool)


def spc_signal(values: pd.Series, polarity: str, *, rating: RatingDefaults) -> Signal:
    """The Making Data Count verdict on the latest point: too few points, common cause, or a
    special cause read with the polarity (improving, concerning, or neither for a band)."""
    values = values.dropna()
    if len(values) < rating.spc_min_points:
        return Signal.TOO_FEW_POINTS
    chart = xmr(values)
    last = chart.iloc[-1]
    if not last["special_cause"]:
        return Signal.COMMON_CAUSE
    high = last["value"] > last["mean"]
    if polarity == Polarity.BAND.value:
        return Signal.NEITHER
    good = high if polarity == Polarity.HIGHER.value else not high
    return Signal.IMPROVING if good else Signal.CONCERNING


# --- Why this colour -------------------------------------------------------------------------


def format_value(value: float | None, unit: str, decimals: int) -> str:
    """A number as a council reader expects it: 71.2 %, £1,234, 8.5 days, 1,234."""
    if value is None or pd.isna(value):
        return "no value"
    number = f"{value:,.{max(int(decimals), 0)}f}"
    return {
        Unit.PERCENT.value: f"{number} %",
        Unit.CURRENCY.value: f"£{number}" if value >= 0 else f"-£{number[1:]}",
        Unit.DAYS.value: f"{number} days",
    }.get(unit, number)


POLARITY_PHRASE = {
    Polarity.HIGHER.value: "higher is better",
    Polarity.LOWER.value: "lower is better",
    Polarity.BAND.value: "inside the target range is best",
}


def explain(
    frame: pd.DataFrame, value: pd.Series, status: pd.Series, *, rating: RatingDefaults
) -> pd.Series:
    """One sentence per row that states the rule and the numbers behind its status."""
    below = tolerance_below(frame, rating.default_tolerance_percent)
    above = tolerance_above(frame, rating.default_tolerance_percent)
    sentences = [
        _sentence(row, v, s, lo, hi, rating.default_tolerance_percent)
        for (_, row), v, s, lo, hi in zip(
            frame.iterrows(), value, status, below, above, strict=True
        )
    ]
    return pd.Series(sentences, index=frame.index)


def _sentence(
    row: pd.Series, value: float, status: str, tol_below: float, tol_above: float, default: float
) -> str:
    unit, decimals = row["unit"], row["decimals"]
    period = row.get("period", "")
    if status in (Status.MISSING.value, Status.OVERDUE.value):
        due = row.get("deadline")
        due_text = (
            f"; {'it was' if status == Status.OVERDUE.value else 'it is'} due by {due}"
            if due
            else ""
        )
        return f"{status}: no actual entered for {period}{due_text}"
    if status == Status.DATA_ONLY.value:
        reason = (
            "a contextual measure with no target"
            if row["data_only"]
            else f"no target is set for {period}"
        )
        return f"Data only: {format_value(value, unit, decimals)} is {reason}; not rated"
    fmt = lambda x: format_value(x, unit, decimals)  # noqa: E731
    subject = f"{fmt(value)}{' year to date' if row.get('rated_on') == 'ytd' else ''}"
    tolerance = _tolerance_phrase(row, tol_below if _low_side(row, value) else tol_above, default)
    polarity = POLARITY_PHRASE[row["polarity"]]
    if row["polarity"] == Polarity.BAND.value:
        target_text = f"the target range {fmt(row['target'])} to {fmt(row['target_upper'])}"
        if status == Status.GREEN.value:
            return f"Green: {subject} is inside {target_text}; {polarity}"
        side = "below" if _low_side(row, value) else "above"
        edge = row["target"] - tol_below if side == "below" else row["target_upper"] + tol_above
    else:
        kind = "year-to-date target" if row.get("rated_on") == "ytd" else "target"
        target_text = f"the {fmt(row['target'])} {kind}"
        if status == Status.GREEN.value:
            verb = (
                "meets or beats" if row["polarity"] == Polarity.HIGHER.value else "is at or under"
            )
            return f"Green: {subject} {verb} {target_text}; {polarity}"
        side = "below" if row["polarity"] == Polarity.HIGHER.value else "above"
        edge = row["target"] - tol_below if side == "below" else row["target"] + tol_above
    if status == Status.AMBER.value:
        return f"Amber: {subject} is {side} {target_text} but within {tolerance} ({fmt(edge)}); {polarity}"
    return (
        f"Red: {subject} is {side} {target_text} by more than {tolerance} ({fmt(edge)}); {polarity}"
    )


def _low_side(row: pd.Series, value: float) -> bool:
    return row["polarity"] != Polarity.LOWER.value and value < row["target"]


def _tolerance_phrase(row: pd.Series, amount: float, default: float) -> str:
    tolerance = row["tolerance"]
    if pd.isna(tolerance) or row["tolerance_is_percent"]:
        percent = default if pd.isna(tolerance) else tolerance
        return f"the {percent:g} % tolerance"
    return f"the tolerance of {format_value(amount, row['unit'], row['decimals'])}"


def is_overdue(deadline: pd.Series, today: date) -> pd.Series:
    """Past the entry deadline (the deadline day itself is still on time)."""
    return pd.to_datetime(deadline).dt.date < today
