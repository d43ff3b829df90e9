"""The risk-rating rules of `docs/rating-rules.md` as small, pure, vectorised functions.

Every function takes and returns pandas objects: one call rates every metric of a period.
Reading a rule should take seconds; `docs/rating-rules.md` states each in words. Signal or
noise (XmR) is in `metrics.spc`, the sentence that says why in `metrics.explain`, and the one
pipeline that applies them all in `metrics.pipeline`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from metrics.config import RatingRules
from metrics.frames import looked_up
from metrics.vocab import Aggregation, Direction, Polarity, RiskLevel, Status, Unit

RAG_LIKELIHOOD = {Status.GREEN: 1, Status.AMBER: 2, Status.RED: 3}
# Floating-point slack, relative to the size of the numbers compared, so that a value exactly
# on a boundary (76.0 against 80 - 5 %) stays on it.
EPSILON = 1e-9


def _slack(*scales: pd.Series) -> pd.Series:
    """EPSILON times the largest magnitude in play (at least 1): rounding noise, not a gap."""
    size = pd.concat([s.astype(float).abs() for s in scales], axis=1).max(axis=1)
    return EPSILON * size.fillna(0).clip(lower=1.0)


# --- RAG ------------------------------------------------------------------------------------


def tolerance_below(frame: pd.DataFrame, default_percent: float) -> pd.Series:
    """The amber band under the (lower) target: a percent of |target| or an absolute amount."""
    return _tolerance(frame, frame["target"].astype(float), default_percent)


def tolerance_above(frame: pd.DataFrame, default_percent: float) -> pd.Series:
    """The amber band over the target (or over the upper target for a band)."""
    return _tolerance(frame, _upper_bound(frame), default_percent)


def _tolerance(frame: pd.DataFrame, bound: pd.Series, default_percent: float) -> pd.Series:
    """A blank tolerance is the default percent; a percent tolerance is a share of |bound|."""
    tolerance = frame["tolerance"].astype(float)
    percent = frame["tolerance_is_percent"].astype(bool) | tolerance.isna()
    amount = tolerance.fillna(default_percent)
    return amount.where(~percent, bound.abs() * amount / 100.0)


def _is(frame: pd.DataFrame, polarity: Polarity) -> pd.Series:
    return frame["polarity"] == polarity.value


def _upper_bound(frame: pd.DataFrame) -> pd.Series:
    """The bound a value must not rise over: the upper target of a band, else the target."""
    return frame["target_upper"].where(_is(frame, Polarity.BAND), frame["target"]).astype(float)


def shortfall_below(frame: pd.DataFrame, value: pd.Series) -> pd.Series:
    """How far the value falls under the (lower) target, when under matters; else 0."""
    counts = _is(frame, Polarity.HIGHER) | _is(frame, Polarity.BAND)
    return (frame["target"].astype(float) - value).clip(lower=0).where(counts, 0.0)


def shortfall_above(frame: pd.DataFrame, value: pd.Series) -> pd.Series:
    """How far the value rises over the target (or a band's upper target), when over matters."""
    counts = _is(frame, Polarity.LOWER) | _is(frame, Polarity.BAND)
    return (value - _upper_bound(frame)).clip(lower=0).where(counts, 0.0)


def has_no_target(frame: pd.DataFrame) -> pd.Series:
    """Data only: no target, the `data only` flag, or a band without its upper target."""
    no_target = frame["target"].isna() | frame["data_only"].astype(bool)
    return no_target | (_is(frame, Polarity.BAND) & frame["target_upper"].isna())


def is_cumulative(frame: pd.DataFrame) -> pd.Series:
    """A summed (`sum`) measure is rated on its year to date; every other on its period."""
    return frame["aggregation"] == Aggregation.SUM.value


def judged(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows with the targets the rating compares with: year-to-date ones when cumulative."""
    cumulative = is_cumulative(frame)
    return frame.assign(
        target=frame["ytd_target"].where(cumulative, frame["target"]),
        target_upper=frame["ytd_target_upper"].where(cumulative, frame["target_upper"]),
    )


def rated_value(frame: pd.DataFrame) -> pd.Series:
    """The number the status judges: year to date when cumulative; none without an actual."""
    return frame["ytd"].where(is_cumulative(frame), frame["actual"]).where(frame["actual"].notna())


def rag(
    frame: pd.DataFrame,
    value: pd.Series,
    *,
    rules: RatingRules,
    overdue: pd.Series | None = None,
) -> pd.Series:
    """Missing (Overdue once late) without a value, Data only without a target, else a colour.

    Green on or beyond target (inside the range for a band); Amber when the gap is at most the
    tolerance; Red beyond it.
    """
    value = value.astype(float)
    below, above = shortfall_below(frame, value), shortfall_above(frame, value)
    slack = _slack(frame["target"], frame["target_upper"], value)
    percent = rules.default_tolerance_percent
    within = (below <= tolerance_below(frame, percent) + slack) & (
        above <= tolerance_above(frame, percent) + slack
    )
    late = pd.Series(False, index=frame.index) if overdue is None else overdue.astype(bool)
    cases = [
        (value.isna() & late, Status.OVERDUE),
        (value.isna(), Status.MISSING),
        (has_no_target(frame), Status.DATA_ONLY),
        ((below <= slack) & (above <= slack), Status.GREEN),
        (within, Status.AMBER),
    ]
    verdict = np.select([when for when, _ in cases], [s.value for _, s in cases], Status.RED.value)
    return pd.Series(verdict, index=frame.index)


# --- Direction of travel --------------------------------------------------------------------


def outside_band(value: pd.Series, lower: pd.Series, upper: pd.Series) -> pd.Series:
    """How far outside [lower, upper] the value lies (0 inside)."""
    return (lower - value).clip(lower=0) + (value - upper).clip(lower=0)


def direction(
    frame: pd.DataFrame, current: pd.Series, earlier: pd.Series, *, rules: RatingRules
) -> pd.Series:
    """Improving, Stable (change under the threshold % of the earlier value) or Worsening.

    Read with the polarity: up is better for `higher`, down for `lower`, nearer the target range
    for `band` (a band value that moves but stays as far from the range is Stable). No
    comparison when either value is missing, or for a band without both of its targets.
    """
    current, earlier = current.astype(float), earlier.astype(float)
    change = current - earlier
    slack = _slack(current, earlier)
    threshold = earlier.abs() * rules.stable_threshold_percent / 100.0
    stable = (change.abs() <= slack) | (change.abs() < threshold - slack)
    lower, upper = frame["target"].astype(float), frame["target_upper"].astype(float)
    band = _is(frame, Polarity.BAND)
    gain = pd.Series(  # how much better the current value is; > 0 is better
        np.select(
            [_is(frame, Polarity.HIGHER), _is(frame, Polarity.LOWER)],
            [change, -change],
            outside_band(earlier, lower, upper) - outside_band(current, lower, upper),
        ),
        index=frame.index,
    )
    no_range = band & (lower.isna() | upper.isna())
    cases = [
        (current.isna() | earlier.isna() | no_range, Direction.NO_COMPARISON),
        (stable, Direction.STABLE),
        (gain > slack, Direction.IMPROVING),
        (gain < -slack, Direction.WORSENING),
    ]
    verdict = np.select(
        [when for when, _ in cases], [d.value for _, d in cases], Direction.STABLE.value
    )
    return pd.Series(verdict, index=frame.index)


# --- Risk -----------------------------------------------------------------------------------


def risk_score(status: pd.Series, travel: pd.Series, impact: pd.Series) -> pd.Series:
    """likelihood (Green 1, Amber 2, Red 3; +1 if Worsening, at most 3) × impact; 0 if unrated."""
    likelihood = status.map({s.value: n for s, n in RAG_LIKELIHOOD.items()})
    likelihood = (likelihood + (travel == Direction.WORSENING.value)).clip(upper=3)
    return (likelihood * impact.astype(float)).fillna(0).astype(int)


def risk_level(score: pd.Series, *, rules: RatingRules) -> pd.Series:
    """Low up to risk_low_max (2), Medium up to risk_medium_max (4), High above; None if 0."""
    levels = np.select(
        [score <= 0, score <= rules.risk_low_max, score <= rules.risk_medium_max],
        [RiskLevel.NONE.value, RiskLevel.LOW.value, RiskLevel.MEDIUM.value],
        RiskLevel.HIGH.value,
    )
    return pd.Series(levels, index=score.index)


# --- Roll-up --------------------------------------------------------------------------------

COUNT_COLUMNS = ["Red", "Amber", "Green", "Data only", "Missing"]
# Which column of the counts each status is counted in: Overdue counts as Missing.
COUNTED_AS = {name: at for at, name in enumerate(COUNT_COLUMNS)}
COUNTED_AS[Status.OVERDUE.value] = COUNTED_AS[Status.MISSING.value]
ROLLUP_READS = ["rag", "risk_level"]  # what `rollup` reads of each row, besides its keys


def rollup(frame: pd.DataFrame, by: str | list[str], *, rules: RatingRules) -> pd.DataFrame:
    """Counts of each status per group, how many Reds carry High risk (`high_red`) and the
    group's status.

    Red if any High-risk Red or at least a third Red; Amber if any Red or at least a third
    Amber; else Green. Overdue counts as Missing. A group with nothing rated is `Data only`, or
    `Missing` when no value was entered at all.
    """
    keys = [by] if isinstance(by, str) else list(by)
    # One column per status counted (a one-hot sum is far quicker than crosstab on small groups),
    # from each row's column number: five text comparisons of XL's 38,000 tree rows took 11 ms.
    at = looked_up(frame["rag"], COUNTED_AS, -1).to_numpy(dtype=np.int64)
    flags = pd.DataFrame(
        at[:, None] == np.arange(len(COUNT_COLUMNS)), columns=COUNT_COLUMNS, index=frame.index
    )
    high = frame["risk_level"].to_numpy(dtype=object) == RiskLevel.HIGH.value
    flags["high_red"] = (at == COUNTED_AS[Status.RED.value]) & high  # for the sentence: why
    counts = flags.groupby([frame[c] for c in keys], sort=True).sum().astype(int)
    counts["status"] = rollup_status(counts, counts["high_red"] > 0, rules=rules)
    return counts.reset_index()


def rollup_status(counts: pd.DataFrame, high_red: pd.Series, *, rules: RatingRules) -> pd.Series:
    """The rolled-up status from status counts and whether any Red carries High risk."""
    rated = counts[["Red", "Amber", "Green"]].sum(axis=1)
    share = rated.where(rated > 0, 1)
    red_share, amber_share = counts["Red"] / share, counts["Amber"] / share
    verdict = np.select(
        [
            (rated == 0) & (counts["Data only"] == 0),
            rated == 0,
            high_red | (red_share >= rules.rollup_red_share - EPSILON),
            (counts["Red"] > 0) | (amber_share >= rules.rollup_amber_share - EPSILON),
        ],
        [Status.MISSING.value, Status.DATA_ONLY.value, Status.RED.value, Status.AMBER.value],
        Status.GREEN.value,
    )
    return pd.Series(verdict, index=counts.index)


# --- Year to date and forecast ---------------------------------------------------------------


def percent_scale(unit: pd.Series) -> pd.Series:
    """100 for percentages (numerator / denominator × 100), else 1."""
    return pd.Series(np.where(unit == Unit.PERCENT.value, 100.0, 1.0), index=unit.index)


def year_to_date(history: pd.DataFrame) -> pd.DataFrame:
    """Per metric, the YTD value and YTD targets from the rows of its year so far.

    `history`: metric_id, aggregation, unit, position, actual, numerator, denominator, target,
    target_upper. sum adds; mean averages; last takes the latest period's row; ratio is the sum
    of numerators over the sum of denominators, both from periods that have both (the mean of
    actuals where none has). The targets follow the same rule, except that a ratio's targets
    are the latest period's.
    """
    ordered = history.sort_values(["metric_id", "position"])
    grouped = ordered.groupby("metric_id", sort=True)
    latest = grouped.tail(1).set_index("metric_id").sort_index()
    paired = ordered[["numerator", "denominator"]].notna().all(axis=1)
    numerators = ordered["numerator"].where(paired).groupby(ordered["metric_id"]).sum()
    denominators = ordered["denominator"].where(paired).groupby(ordered["metric_id"]).sum()
    ratio = numerators / denominators.where(denominators > 0) * percent_scale(latest["unit"])
    columns = ("actual", "target", "target_upper")
    by_rule = {
        Aggregation.SUM.value: [grouped[c].sum(min_count=1) for c in columns],
        Aggregation.MEAN.value: [grouped[c].mean() for c in columns],
        Aggregation.LAST.value: [latest[c] for c in columns],
        Aggregation.RATIO.value: [
            ratio.fillna(grouped["actual"].mean()),
            latest["target"],
            latest["target_upper"],
        ],
    }
    aggregation = latest["aggregation"]
    result = pd.DataFrame(index=latest.index)
    for place, name in enumerate(("ytd", "ytd_target", "ytd_target_upper")):
        result[name] = np.select(
            [aggregation == rule for rule in by_rule],
            [values[place].reindex(latest.index).astype(float) for values in by_rule.values()],
            np.nan,
        )
    return result


def forecast(history: pd.DataFrame, year: pd.DataFrame) -> pd.DataFrame:
    """Per metric, the projected year-end outturn and the annual target it is judged against.

    sum: run rate (YTD ÷ periods with data × periods in the year) against the year's targets
    added up (profiled from the targets so far where later ones are not set). Others: every
    period after the first with data that has no value yet is projected on the linear trend of
    the values so far, then the year is aggregated as the metric says (ratio weights each
    projected period by the mean denominator so far; last takes the year's last period),
    against the target of the year's last period.

    `year`, indexed by metric_id: per_year, year_target, year_end_target, year_end_target_upper
    and, optionally, year_target_upper (the upper targets added up, for a sum band).
    """
    # In period order: the database returns rows in no order, and `last` reads the latest.
    known = history.dropna(subset=["actual"]).sort_values(["metric_id", "position"])
    frame = year.join(_year_so_far(history)).join(_known_sums(known))
    frame["n"] = frame["n"].fillna(0)
    cumulative = frame["aggregation"] == Aggregation.SUM.value
    profiled = frame["target_mean"] * frame["per_year"]
    profiled_upper = frame["target_upper_mean"] * frame["per_year"]
    target = (
        frame["year_target"]
        .fillna(profiled)
        .where(cumulative, frame["year_end_target"].fillna(frame["target_last"]))
    )
    upper = frame.get("year_target_upper", pd.Series(np.nan, index=frame.index))
    upper = upper.fillna(profiled_upper).where(
        cumulative, frame["year_end_target_upper"].fillna(frame["target_upper_last"])
    )
    return pd.DataFrame(
        {"forecast": _outturn(frame), "forecast_target": target, "forecast_target_upper": upper},
        index=frame.index,
    ).rename_axis("metric_id")


def _year_so_far(history: pd.DataFrame) -> pd.DataFrame:
    """Per metric: its aggregation and unit, and the mean and latest targets set so far."""
    grouped = history.sort_values("position").groupby("metric_id")
    return pd.DataFrame(
        {
            "aggregation": grouped["aggregation"].first(),
            "unit": grouped["unit"].first(),
            "target_mean": grouped["target"].mean(),
            "target_last": grouped["target"].last(),
            "target_upper_mean": grouped["target_upper"].mean(),
            "target_upper_last": grouped["target_upper"].last(),
        }
    )


def _known_sums(known: pd.DataFrame) -> pd.DataFrame:
    """Per metric, the sums a least-squares line and a ratio of sums need, over known values."""
    x, y = known["position"].astype(float), known["actual"].astype(float)
    parts = pd.DataFrame({"sx": x, "sy": y, "sxx": x * x, "sxy": x * y})
    grouped = parts.groupby(known["metric_id"])
    paired = known[["numerator", "denominator"]].notna().all(axis=1)
    by_metric = known.groupby("metric_id")
    return grouped.sum().assign(
        n=grouped.size(),
        first=x.groupby(known["metric_id"]).min(),
        at_end=by_metric["position"].max(),
        last_actual=by_metric["actual"].last(),
        numerators=by_metric["numerator"].sum(),
        denominators=by_metric["denominator"].sum(),
        ratio_complete=paired.groupby(known["metric_id"]).all(),
    )


def _outturn(frame: pd.DataFrame) -> pd.Series:
    """The year's value: run rate for sum; otherwise each period from the first value on with no
    value yet projected on the least-squares line (flat for one point), aggregated as it says."""
    n, per_year = frame["n"], frame["per_year"]
    spread = n * frame["sxx"] - frame["sx"] ** 2
    slope = ((n * frame["sxy"] - frame["sx"] * frame["sy"]) / spread.where(spread > 0)).fillna(0)
    intercept = (frame["sy"] - slope * frame["sx"]) / n.where(n > 0)
    missing = (per_year - frame["first"] + 1) - n
    # Positions first..per_year added up, less the known ones: where the projections are read.
    positions = (per_year * (per_year + 1) - (frame["first"] - 1) * frame["first"]) / 2
    projected = slope * (positions - frame["sx"]) + intercept * missing
    scale = percent_scale(frame["unit"].fillna(""))
    typical = frame["denominators"] / n.where(n > 0)
    ratio = (frame["numerators"] + projected / scale * typical) / (
        frame["denominators"] + typical * missing
    ).where(lambda d: d > 0)
    aggregation = frame["aggregation"]
    outturn = np.select(
        [
            n == 0,
            aggregation == Aggregation.SUM.value,
            (aggregation == Aggregation.LAST.value) & (frame["at_end"] == per_year),
            aggregation == Aggregation.LAST.value,
            (aggregation == Aggregation.RATIO.value) & frame["ratio_complete"].eq(True),
        ],
        [
            np.nan,
            frame["sy"] / n.where(n > 0) * per_year,
            frame["last_actual"],
            slope * per_year + intercept,
            ratio * scale,
        ],
        (frame["sy"] + projected) / (n + missing),
    )
    return pd.Series(outturn, index=frame.index, dtype=float)


def is_overdue(deadline: pd.Series, today: date | pd.Series) -> pd.Series:
    """Past the entry deadline (the deadline day itself is still on time); `today` one day, or
    one for each row (a kept rating's day)."""
    # Compared as timestamps, not as 20,000 date objects each.
    days = pd.to_datetime(today) if isinstance(today, pd.Series) else pd.Timestamp(today)
    return pd.to_datetime(deadline).dt.normalize() < days
