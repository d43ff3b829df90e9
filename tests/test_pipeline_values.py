"""How the pipeline finds each due row's values (issue 12): by its measure's place among the
due rows and by integer period keys (`pipeline._placed`, `_attach_values`), not by merging text.
What a row reads must not depend on the order the values come in, on other measures' values,
or on how the period ends are typed; and each row reads its own period, the one before and
last year's, and nothing of another measure's."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine

from metrics import periods, pipeline
from metrics.config import Settings
from metrics.views import rated

TODAY = date(2030, 1, 1)
SETTINGS = Settings()


def march_2017(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The demo's due rows of March 2017 and the values the status reads for them."""
    return rated._due_with_values(
        engine,
        "2017-03",
        clearance="OFFICIAL-SENSITIVE",
        settings=SETTINGS,
        years_back=rated.HISTORY_YEARS,
        approved_only=False,
    )


def rate(due: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    return rated.rate(due, values, TODAY, SETTINGS)


def test_the_order_of_the_values_and_other_measures_values_change_nothing(
    demo_engine: Engine,
) -> None:
    due, values = march_2017(demo_engine)
    expected = rate(due, values)
    others = values.assign(metric_id=values["metric_id"] + 100_000)  # measures not due
    shuffled = pd.concat([values, others]).sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(rate(due, shuffled), expected)
    pd.testing.assert_frame_equal(rate(due.sample(frac=1.0, random_state=4), values), expected)


def test_period_ends_read_alike_as_dates_and_as_timestamps(demo_engine: Engine) -> None:
    due, values = march_2017(demo_engine)
    as_timestamps = values.assign(period_end=pd.to_datetime(values["period_end"]))
    pd.testing.assert_frame_equal(rate(due, as_timestamps), rate(due, values))


def test_no_values_rates_every_due_row_without_them(demo_engine: Engine) -> None:
    due, values = march_2017(demo_engine)
    got = rate(due, values.iloc[:0])
    assert len(got) == len(due)
    assert got["actual"].isna().all() and got["previous"].isna().all()


def test_a_measure_is_due_once(demo_engine: Engine) -> None:
    due, values = march_2017(demo_engine)
    with pytest.raises(ValueError, match="one due row per metric"):
        rate(pd.concat([due, due.iloc[:1]]), values)


MONTHS = {"2017-03": 1.0, "2017-02": 2.0, "2016-03": 3.0}


@pytest.mark.parametrize(
    ("held", "expected"),
    [  # the periods measure 1 has values for -> its actual, previous and last year's
        (["2017-03", "2017-02", "2016-03"], (1.0, 2.0, 3.0)),
        (["2017-03"], (1.0, np.nan, np.nan)),
        (["2017-02", "2016-03"], (np.nan, 2.0, 3.0)),
        (["2016-03"], (np.nan, np.nan, 3.0)),
        ([], (np.nan, np.nan, np.nan)),
    ],
)
def test_each_row_reads_its_own_period_the_one_before_and_last_years(
    held: list[str], expected: tuple[float, float, float]
) -> None:
    month = periods.month_for("2017-03", 4)
    due = pd.DataFrame(
        {
            "metric_id": [1, 2],
            "period": "2017-03",
            "period_end": month.end,
            "previous_period": "2017-02",
            "last_year_period": "2016-03",
        }
    )
    # Measure 2 has every month, with other numbers: none of them may reach measure 1's row.
    rows = [(1, label, value) for label, value in MONTHS.items() if label in held]
    rows += [(2, label, value * 10) for label, value in MONTHS.items()]
    values = pd.DataFrame(
        {
            "metric_id": [r[0] for r in rows],
            "period": [r[1] for r in rows],
            "period_end": [periods.month_for(r[1], 4).end for r in rows],
            "fiscal_year": [periods.month_for(r[1], 4).fiscal_year for r in rows],
            "actual": [r[2] for r in rows],
        }
    )
    placed = pipeline._placed(due.assign(frequency="monthly", fiscal_year="2016-17"), values, 4)
    frame = pipeline._attach_values(due, placed)
    got = tuple(frame.loc[0, ["actual", "previous", "last_year"]].astype(float))
    np.testing.assert_array_equal(got, expected)
    assert tuple(frame.loc[1, ["actual", "previous", "last_year"]]) == (10.0, 20.0, 30.0)


@pytest.mark.parametrize("fy_start", [1, 4, 7])
@pytest.mark.parametrize("frequency", ["monthly", "quarterly", "annual"])
def test_a_values_place_in_its_year_is_the_periods_own(frequency: str, fy_start: int) -> None:
    year = periods.year_period(2016, fy_start)
    first = {
        "monthly": periods.month_period(2016, fy_start, fy_start),
        "quarterly": periods.quarter_period(2016, 1, fy_start),
        "annual": year,
    }[frequency]
    span = [periods.shift(first, step, fy_start) for step in range(periods.per_year(frequency))]
    due = pd.DataFrame(
        {
            "metric_id": [7],
            "frequency": frequency,
            "fiscal_year": year.fiscal_year,
            "period_end": year.end,
        }
    )
    values = pd.DataFrame(
        {
            "metric_id": 7,
            "period": [p.label for p in span],
            "fiscal_year": [p.fiscal_year for p in span],
            "period_end": [p.end for p in span],
        }
    )
    placed = pipeline._placed(due, values, fy_start)
    assert placed["position"].tolist() == [periods.position_in_year(p, fy_start) for p in span]
    assert placed["this_year"].all()
