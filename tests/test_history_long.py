"""A measure's history over ten years (issue 12): each period rated from the values the status
query reads for its month, not every value for every period, so the work grows with the length
of the history, and every period still reads as `status()` reads it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from metrics import due_rows, periods, pipeline, queries, store, views
from metrics.config import Settings
from metrics.models import Metric, PeriodValue
from metrics.views import rated
from metrics.views.rated import HISTORY_YEARS

CLEARED = "OFFICIAL-SENSITIVE"
TODAY = date(2030, 1, 1)
SETTINGS = Settings()
COMPARED = ["actual", "target", "ytd", "rag", "dot_previous", "dot_last_year", "risk_score"]
COMPARED += ["forecast", "forecast_rag", "explanation", "spc_variation", "spc_assurance"]
COMPARED += ["spc_variation_why", "spc_assurance_why"]
MEASURES = [  # code, frequency, polarity, aggregation, unit
    ("MON", "monthly", "higher", "ratio", "percent"),
    ("QTR", "quarterly", "lower", "sum", "number"),
    ("ANN", "annual", "band", "mean", "days"),
]


def ten_years(engine: Engine, years: int = 10) -> None:
    """Three measures of each frequency with `years` years of values from April 2007, a trend
    and a shift in them so that the XmR readings change over the years."""
    rng = np.random.default_rng(12)
    with store.write(engine) as session:
        for code, frequency, polarity, aggregation, unit in MEASURES:
            metric = Metric(code=code, title=code, tier="ME2E", frequency=frequency, unit=unit,
                            polarity=polarity, aggregation=aggregation, decimals=1)  # fmt: skip
            session.add(metric)
            session.flush()
            count = periods.per_year(frequency) * years
            start = {"monthly": periods.month_period(2007, 4),
                     "quarterly": periods.quarter_period(2007, 1),
                     "annual": periods.year_period(2007)}[frequency]  # fmt: skip
            for step in range(count):
                period = periods.shift(start, step)
                level = 70 + 8 * (step > count // 2) + rng.normal(0, 3)
                den = float(rng.integers(80, 121))
                session.add(
                    PeriodValue(
                        metric_id=metric.id, period=period.label, fiscal_year=period.fiscal_year,
                        period_end=period.end, actual=round(level, 2),
                        numerator=round(level * den / 100, 2), denominator=den,
                        target=75.0 if step % 7 else None,
                        target_upper=85.0 if polarity == "band" else None,
                        commentary=f"note {step}" if step % 5 == 0 else "", status="approved",
                    )
                )  # fmt: skip
        store.bump_data_version(session)


def every_period_and_every_value(engine: Engine, code: str) -> pd.DataFrame:
    """The history as it was built before issue 12: every period crossed with every value."""
    settings = SETTINGS
    metric = queries.metric_frame(engine, clearance=CLEARED, codes=[code])
    values = queries.value_frame(
        engine,
        metric_ids=[int(metric["metric_id"].iloc[0])],
        first_end=date(1, 1, 1),
        last_end=date(9999, 12, 31),
    )
    span = views.metric_history(
        engine, code=code, clearance=CLEARED, today=TODAY, settings=SETTINGS
    )["period"]
    due = due_rows.history_due(
        metric,
        [periods.parse_for(label, metric["frequency"].iloc[0]) for label in span],
        settings.financial_year_start_month,
        settings.deadline,
    )
    crossed = values.drop(columns="metric_id").merge(due[["metric_id"]], how="cross")
    rated = pipeline.rate(due, crossed, today=TODAY, rules=settings.rating)
    rated["metric_id"] = int(metric["metric_id"].iloc[0])
    rated = rated.sort_values("period_end").reset_index(drop=True)
    return views.rated.with_latest_commentary(rated, values)


@pytest.mark.parametrize("code", [code for code, *_ in MEASURES])
def test_each_period_of_ten_years_reads_as_the_status_of_its_month(
    engine: Engine, code: str
) -> None:
    ten_years(engine)
    history = views.metric_history(
        engine, code=code, clearance=CLEARED, today=TODAY, settings=SETTINGS
    )
    frequency = dict((c, f) for c, f, *_ in MEASURES)[code]
    assert len(history) == periods.per_year(frequency) * 10
    assert history["period"].is_unique and history["period_end"].is_monotonic_increasing
    # a sample of months across the ten years: the first, some in each year, the last
    months = [month for month in history["period_end"]][:: max(1, len(history) // 6)]
    months += [history["period_end"].iloc[-1]]
    for end in months:
        label = periods.month_of(end).label
        status = views.status(
            engine, period=label, clearance=CLEARED, today=TODAY, settings=SETTINGS
        )
        expected = status.set_index("code").loc[code]
        rated = history.set_index("period").loc[expected["period"]]
        for column in COMPARED:
            assert rated[column] == pytest.approx(expected[column], nan_ok=True) or (
                pd.isna(rated[column]) and pd.isna(expected[column])
            ), (label, column)


def test_a_history_within_the_status_window_is_the_one_every_value_gave(engine: Engine) -> None:
    """Up to HISTORY_YEARS years on from the first value every period saw every value before
    issue 12 too: the two builds agree on every column of every period."""
    ten_years(engine, years=HISTORY_YEARS + 1)
    for code, *_ in MEASURES:
        new = views.metric_history(
            engine, code=code, clearance=CLEARED, today=TODAY, settings=SETTINGS
        )
        old = every_period_and_every_value(engine, code)
        pd.testing.assert_frame_equal(new, old[new.columns], check_dtype=False)


def test_ten_years_differ_from_every_value_only_in_the_xmr_of_later_years(engine: Engine) -> None:
    """Later, the old build read every value into each period's XmR chart where the status
    query reads HISTORY_YEARS years before the period's year: only the XmR columns differ."""
    ten_years(engine)
    new = views.metric_history(
        engine, code="MON", clearance=CLEARED, today=TODAY, settings=SETTINGS
    )
    old = every_period_and_every_value(engine, "MON")
    xmr = ["spc_variation", "spc_assurance", "spc_variation_why", "spc_assurance_why"]
    same = [c for c in new.columns if c not in xmr]
    pd.testing.assert_frame_equal(new[same], old[same], check_dtype=False)
    early = new["period_end"] < date(2007 + HISTORY_YEARS + 1, 4, 1)
    pd.testing.assert_frame_equal(new.loc[early, xmr], old.loc[early, xmr])
    assert (new.loc[~early, "spc_variation_why"] != old.loc[~early, "spc_variation_why"]).any()


@pytest.mark.parametrize("month", ["2010-06", "2013-03", "2016-12"])
def test_a_status_reading_only_actuals_of_earlier_years_is_the_whole_rows_status(
    engine: Engine, month: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A status reads whole rows for this year and last and only the actuals before (all the
    XmR history needs): every column is what whole rows of every year gave."""
    ten_years(engine)
    split = views.status(engine, period=month, clearance=CLEARED, today=TODAY, settings=SETTINGS)

    def whole(engine: Engine, metric_ids: list[int], fiscal_year: str, fy_start: int,
              years_back: int, approved_only: bool) -> pd.DataFrame:  # fmt: skip
        first_end, last_end = rated.value_window(fiscal_year, fy_start, years_back)
        return queries.value_frame(
            engine, metric_ids=metric_ids, first_end=first_end, last_end=last_end,
            approved_only=approved_only,
        )  # fmt: skip

    monkeypatch.setattr(rated, "_values", whole)
    read_whole = views.status(
        engine, period=month, clearance=CLEARED, today=TODAY, settings=SETTINGS
    )
    assert len(split) == len(MEASURES) - (month[5:] != "03")  # the annual one is due in March
    pd.testing.assert_frame_equal(split, read_whole)
