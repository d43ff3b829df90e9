"""The status query end to end: a small council in a real database, rated for one month.

The `engine` fixture (tests/conftest.py) is a fresh migrated database: temp-file SQLite, or a
private schema on PostgreSQL when SCORECARD_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from metrics import periods, store
from metrics.config import Settings
from metrics.models import Metric, PeriodValue, Priority, Service, Team
from metrics.pipeline import STATUS_COLUMNS
from metrics.queries import UnknownPeriod, metric_frame
from metrics.views import metric_history, status

CONFIG = Settings()  # the defaults: April year, 10 working days, 5 % tolerance
BEFORE_ANY_DEADLINE = date(2014, 4, 1)

# Metric templates: code -> fields that differ from a monthly, higher-is-better count.
METRICS: dict[str, dict[str, object]] = {
    # Corporate Plan: a monthly percentage rated on its own month
    "CP01": {"tier": "Corporate Plan", "unit": "percent", "decimals": 1, "aggregation": "mean"},
    # ME2E: quarterly, lower is better, rated in the quarter's last month on the quarter's value
    "ME01": {
        "tier": "ME2E",
        "unit": "days",
        "decimals": 1,
        "polarity": "lower",
        "frequency": "quarterly",
        "aggregation": "mean",
    },
    # a cumulative count rated year to date; High impact
    "SS01": {"aggregation": "sum", "risk_impact": 3},
    # annual, a snapshot, High impact
    "SS02": {"frequency": "annual", "aggregation": "last", "risk_impact": 3},
    # a month whose value has not come in
    "SS03": {"aggregation": "mean"},
    # a contextual measure with no target
    "SS04": {"data_only": True},
    # protectively marked
    "SS05": {"marking": "OFFICIAL-SENSITIVE"},
    # starts reporting in July 2014
    "SS06": {"active_from": "2014-07"},
    # a cumulative count that should stay inside a range
    "SS07": {"polarity": "band", "aggregation": "sum"},
}

# Values: code -> {period label: (actual, target)}
CP01_HISTORY = [80.0, 76.0, *[74.0, 76.0] * 4, 74.0, 75.0]  # April 2013 to March 2014
VALUES: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "CP01": {
        **{
            periods.shift(periods.parse("2013-04"), step).label: (value, 80.0)
            for step, value in enumerate(CP01_HISTORY)
        },
        "2014-04": (78.0, 80.0),
        "2014-05": (82.0, 80.0),
        "2014-06": (81.0, 80.0),
    },
    "ME01": {
        "2013-14 Q1": (8.0, 8.0),
        "2013-14 Q4": (8.5, 8.0),
        "2014-15 Q1": (8.2, 8.0),
    },
    "SS01": {
        "2014-04": (10.0, 10.0),
        "2014-05": (12.0, 10.0),
        "2014-06": (9.0, 10.0),
        # the rest of the year: targets set, actuals still to come
        **{f"2014-{m:02d}": (None, 10.0) for m in range(7, 13)},
        **{f"2015-{m:02d}": (None, 10.0) for m in range(1, 4)},
    },
    "SS02": {"2013-14": (95.0, 100.0), "2014-15": (90.0, 100.0)},
    "SS03": {"2014-04": (48.0, 50.0), "2014-05": (52.0, 50.0), "2014-06": (None, 50.0)},
    "SS04": {"2014-05": (40.0, None), "2014-06": (42.0, None)},
    "SS05": {"2014-06": (5.0, 5.0)},
    "SS06": {"2014-06": (1.0, 1.0)},
    "SS07": {f"2014-{m:02d}": (10.0, 8.0) for m in (4, 5, 6)},  # upper targets: 12 a month
}


@pytest.fixture
def council(engine: Engine) -> Engine:
    """The small council above, written straight into the tables."""
    with Session(engine) as session:
        priority = Priority(code="P1", name="A thriving borough")
        service = Service(code="REV", name="Revenues and Benefits")
        session.add_all([priority, service])
        session.flush()
        team = Team(code="REV-BEN", name="Benefits", service_id=service.id)
        session.add(team)
        session.flush()
        for code, fields in METRICS.items():
            template = {
                "tier": "Service Standards",
                "polarity": "higher",
                "frequency": "monthly",
                "unit": "number",
                "decimals": 0,
                "risk_impact": 2,
                **fields,
            }
            metric = Metric(
                code=code,
                title=f"Measure {code}",
                priority_id=priority.id,
                service_id=service.id,
                team_id=team.id,
                **template,
            )
            session.add(metric)
            session.flush()
            for label, (actual, target) in VALUES[code].items():
                period = periods.parse_for(label, str(template["frequency"]))
                session.add(
                    PeriodValue(
                        metric_id=metric.id,
                        period=period.label,
                        fiscal_year=period.fiscal_year,
                        period_end=period.end,
                        actual=actual,
                        target=target,
                        target_upper=12.0 if code == "SS07" else None,
                        status="approved",
                    )
                )
        session.commit()
    return engine


def rated(
    engine: Engine,
    period: str,
    clearance: str = "OFFICIAL",
    today: date = BEFORE_ANY_DEADLINE,
    settings: Settings = CONFIG,
) -> pd.DataFrame:
    frame = status(engine, period=period, clearance=clearance, today=today, settings=settings)
    return frame.set_index("code", drop=False)


# --- Which metrics a month includes ---------------------------------------------------------

MONTHLY = ["SS01", "SS03", "SS04", "SS07"]  # Service Standards reporting every month


@pytest.mark.parametrize(
    ("period", "codes"),
    [
        ("2014-04", ["CP01", *MONTHLY]),  # monthly only; SS06 not yet active
        ("2014-05", ["CP01", *MONTHLY]),  # middle of a quarter: no quarterly
        ("2014-06", ["CP01", "ME01", *MONTHLY]),  # quarter's last month
        ("2014-07", ["CP01", "SS01", "SS03", "SS04", "SS06", "SS07"]),  # SS06 from July
        ("2015-03", ["CP01", "ME01", "SS01", "SS02", "SS03", "SS04", "SS06", "SS07"]),  # year end
    ],
)
def test_a_month_includes_what_reports_in_it(council, period, codes) -> None:
    assert rated(council, period)["code"].tolist() == codes


@pytest.mark.parametrize(
    ("period", "code", "expected"),
    [
        ("2014-06", "CP01", "2014-06"),  # a monthly metric reports its month
        ("2014-06", "ME01", "2014-15 Q1"),  # a quarterly one its quarter
        ("2015-03", "ME01", "2014-15 Q4"),
        ("2015-03", "SS02", "2014-15"),  # an annual one its year
    ],
)
def test_each_metric_is_rated_on_its_own_period(council, period, code, expected) -> None:
    assert rated(council, period).loc[code, "period"] == expected


@pytest.mark.parametrize(
    ("label", "month"),
    [
        ("2014-15 Q1", "2014-06"),  # a quarter label is its last month
        ("2014-15;Q1", "2014-06"),  # in LGBF's form too
        ("2014-15", "2015-03"),  # a year label is its last month
        ("2014-06-17", "2014-06"),  # a date is its month
    ],
)
def test_a_quarter_or_year_label_maps_to_its_last_month(council, label, month) -> None:
    pd.testing.assert_frame_equal(rated(council, label), rated(council, month))


def test_an_unknown_period_is_refused(council) -> None:
    with pytest.raises(UnknownPeriod, match="2014-13"):
        status(council, period="2014-13", clearance="OFFICIAL", settings=CONFIG)


def test_a_month_with_nothing_due_is_an_empty_frame_with_the_columns(engine) -> None:
    frame = status(engine, period="2014-06", clearance="OFFICIAL", settings=CONFIG)
    assert frame.empty
    assert set(STATUS_COLUMNS) <= set(frame.columns)


def test_an_empty_status_has_the_same_columns_as_a_full_one(council) -> None:
    full = rated(council, "2014-06", clearance="OFFICIAL-SENSITIVE")
    # someone without clearance sees nothing at all (every measure here is OFFICIAL or above)
    empty = rated(council, "2014-05", clearance="NOT PROTECTIVELY MARKED")
    assert not full.empty and empty.empty
    assert list(empty.columns) == list(full.columns)


# --- Protective marking ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clearance", "sees_sensitive"),
    [
        ("NOT PROTECTIVELY MARKED", False),
        ("OFFICIAL", False),
        ("OFFICIAL-SENSITIVE", True),
    ],
)
def test_sensitive_metrics_only_for_cleared_users(council, clearance, sees_sensitive) -> None:
    frame = rated(council, "2014-06", clearance=clearance)
    assert ("SS05" in frame.index) is sees_sensitive
    anywhere = frame.astype(str).apply(lambda column: column.str.contains("SS05")).to_numpy()
    assert bool(anywhere.any()) is sees_sensitive  # not in a title, a sentence, anywhere


def test_unmarked_clearance_sees_only_unmarked_measures(council) -> None:
    # every measure here is OFFICIAL or above, so someone without clearance sees none of them
    assert rated(council, "2014-06", clearance="NOT PROTECTIVELY MARKED").empty


# --- The rules, end to end ------------------------------------------------------------------


def test_every_status_column_is_there(council) -> None:
    frame = rated(council, "2014-06")
    assert set(STATUS_COLUMNS) <= set(frame.columns)
    rated_rows = frame[frame["rag"].isin(["Red", "Amber", "Green"])]
    for column in ("code", "title", "tier", "period", "rag", "dot_previous", "dot_last_year"):
        assert frame[column].notna().all(), column
    for column in ("risk_score", "risk_level", "explanation"):
        assert frame[column].notna().all(), column
    for column in ("actual", "target", "ytd", "forecast", "forecast_rag"):
        assert rated_rows[column].notna().all(), column


def test_a_sum_metric_is_rated_year_to_date_against_the_ytd_target(council) -> None:
    row = rated(council, "2014-06").loc["SS01"]
    # June alone (9 against 10) would be Red; the year so far (31 against 30) is Green
    assert (row["actual"], row["target"], row["ytd"]) == (9.0, 10.0, 31.0)
    assert row["rag"] == "Green"
    assert row["explanation"] == (
        "Green: 31 year to date meets or beats the 30 year-to-date target; higher is better"
    )
    assert row["dot_previous"] == "Worsening"  # 12 in May, 9 in June
    assert row["dot_last_year"] == "No comparison"  # nothing in June 2013
    assert (row["risk_score"], row["risk_level"]) == (6, "High")  # (1 + 1 Worsening) × 3
    assert row["forecast"] == pytest.approx(124.0)  # run rate 31 / 3 × 12
    assert row["forecast_rag"] == "Green"  # against the year's targets added up, 120


def test_a_monthly_metric_is_rated_on_its_month(council) -> None:
    row = rated(council, "2014-06").loc["CP01"]
    assert (row["actual"], row["target"], row["rag"]) == (81.0, 80.0, "Green")
    assert row["ytd"] == pytest.approx((78 + 82 + 81) / 3)  # mean of the year so far
    assert row["dot_previous"] == "Worsening"  # 82 -> 81 is more than 1 % down
    assert row["dot_last_year"] == "Improving"  # 74 in June 2013
    assert (row["risk_score"], row["risk_level"]) == (4, "Medium")  # (1 + 1) × 2
    # the trend of 78, 82, 81 (1.5 a month) over the rest of the year, averaged with them
    trend = 77 + 1 / 3 + 1.5 * np.arange(4, 13)
    assert row["forecast"] == pytest.approx((78 + 82 + 81 + trend.sum()) / 12)
    assert row["forecast_rag"] == "Green"


def test_previous_period_crosses_the_year_boundary(council) -> None:
    row = rated(council, "2014-04").loc["CP01"]
    assert row["rag"] == "Amber"  # 78 against 80, within 5 % (76)
    assert row["dot_previous"] == "Improving"  # March 2014 (the year before) was 75
    assert row["dot_last_year"] == "Worsening"  # April 2013 was 80
    assert (row["risk_score"], row["risk_level"]) == (4, "Medium")  # Amber 2 × impact 2
    assert row["explanation"] == (
        "Amber: 78.0 % is below the 80.0 % target but within the 5 % tolerance (76.0 %); "
        "higher is better"
    )


def test_a_quarterly_metric_is_rated_on_the_quarter(council) -> None:
    row = rated(council, "2014-06").loc["ME01"]
    assert (row["period"], row["actual"], row["target"], row["rag"]) == (
        "2014-15 Q1",
        8.2,
        8.0,
        "Amber",
    )
    assert row["dot_previous"] == "Improving"  # 2013-14 Q4 was 8.5; lower is better
    assert row["dot_last_year"] == "Worsening"  # 2013-14 Q1 was 8.0
    assert row["explanation"] == (
        "Amber: 8.2 days is above the 8.0 days target but within the 5 % tolerance (8.4 days); "
        "lower is better"
    )


def test_an_annual_metric_is_rated_in_the_years_last_month(council) -> None:
    row = rated(council, "2015-03").loc["SS02"]
    assert (row["period"], row["actual"], row["target"], row["rag"]) == (
        "2014-15",
        90.0,
        100.0,
        "Red",
    )
    assert row["dot_previous"] == row["dot_last_year"] == "Worsening"  # 2013-14 was 95
    assert (row["risk_score"], row["risk_level"]) == (9, "High")  # Red 3 (capped) × 3
    assert (row["forecast"], row["forecast_rag"]) == (90.0, "Red")  # the year is over


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2014, 7, 1), "Missing"),  # before the deadline
        (date(2014, 7, 14), "Missing"),  # the deadline: 10 working days after Monday 30 June
        (date(2014, 7, 15), "Overdue"),  # the day after
    ],
)
def test_missing_becomes_overdue_after_the_deadline(council, today, expected) -> None:
    row = rated(council, "2014-06", today=today).loc["SS03"]
    assert row["rag"] == expected
    assert (row["risk_score"], row["risk_level"]) == (0, "Not rated")
    assert row["dot_previous"] == "No comparison"
    tense = "it was" if expected == "Overdue" else "it is"
    assert row["explanation"] == (
        f"{expected}: no actual entered for June 2014; {tense} due by 14 July 2014"
    )


def test_a_missing_month_is_projected_in_the_forecast(council) -> None:
    row = rated(council, "2014-06").loc["SS03"]
    # 48, 52 and a trend of +4 a month from June: 56 ... 92; the mean of the twelve is 70
    assert row["forecast"] == pytest.approx(70.0)
    assert row["forecast_rag"] == "Green"


def test_a_data_only_metric_is_not_rated(council) -> None:
    row = rated(council, "2014-06").loc["SS04"]
    assert (row["actual"], row["rag"]) == (42.0, "Data only")
    assert np.isnan(row["target"])
    assert row["dot_previous"] == "Improving"  # travel is still shown: 40 -> 42
    assert (row["risk_score"], row["risk_level"]) == (0, "Not rated")
    assert row["ytd"] == 82.0  # a count: the year so far, 40 + 42
    assert row["explanation"] == (
        "Data only: 82 year to date is not rated; this is a contextual measure with no target"
    )


def test_a_sum_band_is_rated_year_to_date_against_the_ytd_range(council) -> None:
    row = rated(council, "2014-06").loc["SS07"]
    # 30 so far against a range of 3 × 8 to 3 × 12
    assert (row["ytd"], row["rag"]) == (30.0, "Green")
    assert row["explanation"] == (
        "Green: 30 year to date is inside the target range 24 to 36; "
        "inside the target range is best"
    )
    # run rate 120 against the year's range profiled from the targets so far: 96 to 144
    assert (row["forecast"], row["forecast_rag"]) == (120.0, "Green")


def test_a_metric_with_nothing_entered_this_year_is_missing(engine) -> None:
    with Session(engine) as session:
        session.add(Metric(code="NEW1", title="New", tier="ME2E", aggregation="mean"))
        session.add(Metric(code="NEW2", title="New count", tier="ME2E", aggregation="sum"))
        session.commit()
    frame = status(
        engine, period="2014-06", clearance="OFFICIAL", today=date(2014, 8, 1), settings=CONFIG
    )
    assert frame["rag"].tolist() == ["Overdue", "Overdue"]
    assert frame["ytd"].isna().all()
    assert frame["forecast"].isna().all()


def test_an_inactive_metric_is_left_out(council) -> None:
    assert "SS06" not in rated(council, "2014-06").index
    july = rated(council, "2014-07").loc["SS06"]
    assert july["rag"] == "Missing"  # active, but no July value yet


def test_rows_are_ordered_by_tier_then_code(council) -> None:
    frame = rated(council, "2015-03", clearance="OFFICIAL-SENSITIVE")
    assert frame["tier"].tolist()[:2] == ["Corporate Plan", "ME2E"]
    assert frame["code"].tolist()[2:] == sorted(frame["code"].tolist()[2:])


def test_the_tier_filter(council) -> None:
    frame = status(council, period="2014-06", clearance="OFFICIAL", tier="ME2E", settings=CONFIG)
    assert frame["code"].tolist() == ["ME01"]


def test_the_xmr_badge_reads_the_history_up_to_the_month(council) -> None:
    frame = rated(council, "2014-06")
    assert frame.loc["SS01", "spc_variation"] == "Too few points"  # three months of data
    assert frame.loc["SS01", "spc_assurance"] == ""  # no limits to compare the target with
    # fifteen months, mean 76.4, upper limit 82.29: 82 and 81 are beyond two thirds of the way
    # to it and 78 is above the mean too, so two of the last three are close: improving
    cp01 = frame.loc["CP01"]
    assert (cp01["spc_variation"], cp01["spc_assurance"]) == (
        "Special cause: improving",
        "Hit and miss",  # the target 80 is between the limits
    )
    assert cp01["spc_variation_why"] == (
        "Special cause, improving: 2 of the last 3 months are more than two thirds of the way "
        "from the average 76.40 % to the upper process limit 82.29 %"
    )
    earlier = rated(council, "2014-04").loc["CP01"]  # thirteen months: 78 is not close
    assert earlier["spc_variation"] == "Common cause"


def test_the_settings_change_the_ratings(council) -> None:
    strict = replace(CONFIG, rating=replace(CONFIG.rating, default_tolerance_percent=1.0))
    row = rated(council, "2014-04", settings=strict).loc["CP01"]
    assert row["rag"] == "Red"  # 78 is more than 1 % under 80
    assert "the 1 % tolerance (79.2 %)" in row["explanation"]


def test_a_measure_with_a_blank_marking_is_treated_as_official(engine) -> None:
    with store.write(engine) as session:
        session.add(Metric(code="CP99", title="Unmarked", tier="Corporate Plan", marking=""))
    official = metric_frame(engine, clearance="OFFICIAL")
    public = metric_frame(engine, clearance="NOT PROTECTIVELY MARKED")
    assert "CP99" in official["code"].tolist()
    assert "CP99" not in public["code"].tolist()


def test_an_alignment_to_a_sensitive_measure_is_not_named_to_an_official_reader(engine) -> None:
    with store.write(engine) as session:
        secret = Metric(
            code="SS-X", title="Secret", tier="Corporate Plan", marking="OFFICIAL-SENSITIVE"
        )
        session.add(secret)
        session.flush()
        session.add(
            Metric(code="SS-Y", title="Open", tier="Service Standards", aligned_to_id=secret.id)
        )
    official = metric_frame(engine, clearance="OFFICIAL").set_index("code")
    cleared = metric_frame(engine, clearance="OFFICIAL-SENSITIVE").set_index("code")
    assert pd.isna(official.loc["SS-Y", "aligned_to"])
    assert "SS-X" not in official.index
    assert cleared.loc["SS-Y", "aligned_to"] == "SS-X"


# --- One metric's history -------------------------------------------------------------------

AFTER_THE_YEAR = date(2015, 6, 1)


def test_a_history_runs_to_the_latest_reported_month_through_missing_months(council) -> None:
    # SS03's last value is for June 2014; SS02's 2014-15 value makes March 2015 the latest month
    history = metric_history(
        council, code="SS03", clearance="OFFICIAL", today=AFTER_THE_YEAR, settings=CONFIG
    ).set_index("period")
    assert history.index[0] == "2014-04" and history.index[-1] == "2015-03"
    for month in ("2014-06", "2014-09", "2015-03"):
        expected = rated(council, month, today=AFTER_THE_YEAR).loc["SS03"]
        assert expected["rag"] == history.loc[month, "rag"] == "Overdue"
    # up to the month being viewed, and never past it
    until = metric_history(council, code="SS03", clearance="OFFICIAL", until="2014-08")
    assert until["period"].tolist() == ["2014-04", "2014-05", "2014-06", "2014-07", "2014-08"]


def test_a_history_starts_at_active_from_even_with_no_values(council) -> None:
    with Session(council) as session:
        session.add(Metric(code="NEW1", title="New", tier="ME2E", active_from="2014-10"))
        session.add(Metric(code="NEW2", title="Old", tier="ME2E", active_to="2014-05"))
        session.commit()
    history = metric_history(
        council, code="NEW1", clearance="OFFICIAL", today=AFTER_THE_YEAR, settings=CONFIG
    )
    assert history["period"].iloc[0] == "2014-10" and history["period"].iloc[-1] == "2015-03"
    assert set(history["rag"]) == {"Overdue"}
    assert list(history.columns) == list(rated(council, "2014-06").columns)
    # no active_from and no value: from the first month anything was reported, to active_to
    old = metric_history(council, code="NEW2", clearance="OFFICIAL", settings=CONFIG)
    assert old["period"].tolist()[:2] == ["2013-04", "2013-05"]
    assert old["period"].iloc[-1] == "2014-05"
