"""Reporting periods on the financial year: reading labels, moving between periods, deadlines."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from metrics.config import DEFAULT_CONFIG, load_settings
from metrics.periods import (
    Deadline,
    PeriodError,
    day_text,
    due_in_month,
    entry_deadline,
    fiscal_start_year,
    month_period,
    months,
    parse,
    parse_for,
    per_year,
    position_in_year,
    quarter_of,
    quarter_period,
    same_period_last_year,
    shift,
    spoken,
    spoken_each,
    year_period,
    year_to_date,
)
from metrics.vocab import Frequency

M, Q, A = Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.ANNUAL


@pytest.mark.parametrize(
    ("text", "label", "frequency", "start", "end", "fiscal_year"),
    [
        ("2015-04", "2015-04", M, "2015-04-01", "2015-04-30", "2015-16"),  # first month
        ("2016-03", "2016-03", M, "2016-03-01", "2016-03-31", "2015-16"),  # Jan–Mar: year before
        ("2016-02", "2016-02", M, "2016-02-01", "2016-02-29", "2015-16"),  # leap February
        (" 2015-04 ", "2015-04", M, "2015-04-01", "2015-04-30", "2015-16"),  # spaces trimmed
        ("2015-16 Q1", "2015-16 Q1", Q, "2015-04-01", "2015-06-30", "2015-16"),  # Apr–Jun
        ("2015-16 Q4", "2015-16 Q4", Q, "2016-01-01", "2016-03-31", "2015-16"),  # next cal. year
        ("2018-19;Q1", "2018-19 Q1", Q, "2018-04-01", "2018-06-30", "2018-19"),  # LGBF form
        ("2018-19 q2", "2018-19 Q2", Q, "2018-07-01", "2018-09-30", "2018-19"),  # lower-case q
        ("2015-16", "2015-16", A, "2015-04-01", "2016-03-31", "2015-16"),  # a year: 16 > 12
        ("1999-00", "1999-00", A, "1999-04-01", "2000-03-31", "1999-00"),  # century turn
        ("2011-12", "2011-12", M, "2011-12-01", "2011-12-31", "2011-12"),  # ambiguous: a month
        ("2015-04-15", "2015-04", M, "2015-04-01", "2015-04-30", "2015-16"),  # ISO date
        ("2016-01-31T09:30", "2016-01", M, "2016-01-01", "2016-01-31", "2015-16"),  # ISO datetime
        (date(2016, 3, 31), "2016-03", M, "2016-03-01", "2016-03-31", "2015-16"),  # a date
        (datetime(2015, 4, 1, 8), "2015-04", M, "2015-04-01", "2015-04-30", "2015-16"),  # datetime
    ],
)
def test_parse_reads_every_label_form(text, label, frequency, start, end, fiscal_year) -> None:
    period = parse(text)
    assert (period.label, period.frequency, period.fiscal_year) == (label, frequency, fiscal_year)
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2015-13", "months 01 to 12"),  # month 13 and 13 does not follow 15
        ("2015-00", "months 01 to 12"),  # month 0
        ("2015-17", "neither a month"),  # 17 does not follow 2015
        ("2015-16 Q5", "quarters run Q1 to Q4"),  # no fifth quarter
        ("2015-16 Q0", "quarters run Q1 to Q4"),  # no quarter 0
        ("2015-17 Q1", "17 should follow 2015"),  # quarter of a year that is not a year
        ("", "blank"),  # empty
        ("   ", "blank"),  # only spaces
        (None, "blank"),  # nothing at all
        ("abc", "use a month like 2015-04"),  # not a period
        ("April 2015", "use a month like 2015-04"),  # words are not read
        ("2015-02-30", "not a real date"),  # an ISO date that does not exist
        ("0000-01", "outside the years 1900 to 9998"),  # year 0 would overflow a date
        ("9999-12", "outside the years 1900 to 9998"),  # its month end is in year 10000
        ("9999-00 Q4", "outside the years 1900 to 9998"),  # a quarter out there too
        ("1899-12-31", "outside the years 1900 to 9998"),  # an ISO date before the range
    ],
)
def test_parse_refuses_bad_labels_with_a_clear_message(text, message) -> None:
    with pytest.raises(PeriodError, match=message):
        parse(text)


def test_period_error_is_a_value_error() -> None:
    assert issubclass(PeriodError, ValueError)


@pytest.mark.parametrize(
    ("text", "frequency", "label", "expected_frequency"),
    [
        ("2011-12", A, "2011-12", A),  # ambiguous label is the year for an annual metric
        ("2011-12", M, "2011-12", M),  # ...and December for a monthly one
        ("2015-16", A, "2015-16", A),  # unambiguous year
        ("2015-16 Q2", Q, "2015-16 Q2", Q),  # a quarter for a quarterly metric
        ("2015-04", "monthly", "2015-04", M),  # frequency as a plain string
    ],
)
def test_parse_for_reads_a_label_for_the_metric_frequency(
    text, frequency, label, expected_frequency
) -> None:
    period = parse_for(text, frequency)
    assert (period.label, period.frequency) == (label, expected_frequency)


def test_parse_for_annual_2011_12_spans_april_to_march() -> None:
    period = parse_for("2011-12", A)
    assert (period.start, period.end) == (date(2011, 4, 1), date(2012, 3, 31))


@pytest.mark.parametrize(
    ("text", "frequency"),
    [
        ("2015-04", A),  # a month (April cannot be a year) for an annual metric
        ("2015-16", M),  # a year for a monthly metric
        ("2015-16 Q1", M),  # a quarter for a monthly metric
        ("2015-06", Q),  # a month for a quarterly metric
        (date(2015, 6, 30), A),  # a date is always a month
    ],
)
def test_parse_for_refuses_a_period_of_another_frequency(text, frequency) -> None:
    with pytest.raises(PeriodError, match="period but the metric is"):
        parse_for(text, frequency)


# --- The financial year ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "fy_start", "expected"),
    [
        (2016, 3, 4, 2015),  # March is the last month of the year that began the April before
        (2016, 4, 4, 2016),  # April starts a new year
        (2016, 1, 4, 2015),  # January still belongs to the year that began in April
        (2015, 12, 4, 2015),  # December: same calendar year as the start
        (2016, 1, 1, 2016),  # January start: the financial year is the calendar year
        (2015, 12, 1, 2015),  # ...December ends it
        (2016, 6, 7, 2015),  # July start: June is the last month of the year before
        (2016, 7, 7, 2016),  # ...July starts a new one
    ],
)
def test_fiscal_start_year_across_the_year_boundary(year, month, fy_start, expected) -> None:
    assert fiscal_start_year(year, month, fy_start) == expected


@pytest.mark.parametrize(
    ("label", "fy_start", "fiscal_year", "position"),
    [
        ("2016-03", 4, "2015-16", 12),  # last month of an April year
        ("2016-04", 4, "2016-17", 1),  # first month of the next
        ("2016-01", 1, "2016-17", 1),  # January year: January is first
        ("2016-12", 1, "2016-17", 12),  # ...December last
        ("2016-07", 7, "2016-17", 1),  # July year: July is first
        ("2016-06", 7, "2015-16", 12),  # ...June is the last month of the year before
    ],
)
def test_month_belongs_to_its_financial_year(label, fy_start, fiscal_year, position) -> None:
    period = parse(label, fy_start)
    assert (period.fiscal_year, position_in_year(period, fy_start)) == (fiscal_year, position)


@pytest.mark.parametrize(
    ("start_year", "quarter", "fy_start", "start", "end"),
    [
        (2015, 1, 4, "2015-04-01", "2015-06-30"),  # April year, Q1 reported in June
        (2015, 4, 4, "2016-01-01", "2016-03-31"),  # April year, Q4 in the next calendar year
        (2015, 1, 1, "2015-01-01", "2015-03-31"),  # January year: calendar quarters
        (2015, 4, 1, "2015-10-01", "2015-12-31"),  # ...Q4 ends in December
        (2015, 1, 7, "2015-07-01", "2015-09-30"),  # July year, Q1 July to September
        (2015, 3, 7, "2016-01-01", "2016-03-31"),  # July year, Q3 crosses the calendar year
        (2015, 4, 7, "2016-04-01", "2016-06-30"),  # ...Q4 ends in June
    ],
)
def test_quarters_follow_the_financial_year_start(
    start_year, quarter, fy_start, start, end
) -> None:
    period = quarter_period(start_year, quarter, fy_start)
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


@pytest.mark.parametrize(
    ("start_year", "fy_start", "start", "end"),
    [
        (2015, 4, date(2015, 4, 1), date(2016, 3, 31)),  # April to March
        (2015, 1, date(2015, 1, 1), date(2015, 12, 31)),  # January: the calendar year
        (2015, 7, date(2015, 7, 1), date(2016, 6, 30)),  # July to June
    ],
)
def test_year_period_spans_twelve_months(start_year, fy_start, start, end) -> None:
    period = year_period(start_year, fy_start)
    assert (period.start, period.end, period.label) == (start, end, "2015-16")


def test_parse_a_year_with_a_july_start() -> None:
    period = parse("2015-16", fy_start=7)
    assert (period.start, period.end) == (date(2015, 7, 1), date(2016, 6, 30))


@pytest.mark.parametrize(
    ("month", "fy_start", "quarter"),
    [
        ("2015-04", 4, "2015-16 Q1"),  # first month of Q1
        ("2015-06", 4, "2015-16 Q1"),  # last month of Q1
        ("2015-07", 4, "2015-16 Q2"),  # first month of Q2
        ("2015-12", 4, "2015-16 Q3"),  # December is Q3
        ("2016-01", 4, "2015-16 Q4"),  # January: Q4 of the year before
        ("2016-03", 4, "2015-16 Q4"),  # March: last month of Q4
        ("2016-01", 1, "2016-17 Q1"),  # January year: January is Q1
        ("2016-06", 7, "2015-16 Q4"),  # July year: June is Q4 of the year before
        ("2016-07", 7, "2016-17 Q1"),  # ...July is Q1
    ],
)
def test_quarter_of_a_month(month, fy_start, quarter) -> None:
    assert quarter_of(parse(month, fy_start), fy_start).label == quarter


@pytest.mark.parametrize(
    ("month", "frequency", "fy_start", "expected"),
    [
        ("2015-05", M, 4, "2015-05"),  # a monthly metric reports every month
        ("2015-06", Q, 4, "2015-16 Q1"),  # quarter's last month: the quarter reports
        ("2015-05", Q, 4, None),  # middle of a quarter: nothing due
        ("2015-04", Q, 4, None),  # first month of a quarter: nothing due
        ("2016-03", Q, 4, "2015-16 Q4"),  # March: Q4
        ("2016-03", A, 4, "2015-16"),  # the year's last month: the year reports
        ("2015-12", A, 4, None),  # December is not the end of an April year
        ("2015-06", A, 4, None),  # a quarter end is not a year end
        ("2015-12", A, 1, "2015-16"),  # January year: December closes it
        ("2016-06", A, 7, "2015-16"),  # July year: June closes it
        ("2015-09", Q, 7, "2015-16 Q1"),  # July year: September closes Q1
        ("2015-06", Q, 7, "2014-15 Q4"),  # July year: June closes Q4 of the year before
    ],
)
def test_due_in_month(month, frequency, fy_start, expected) -> None:
    due = due_in_month(parse(month, fy_start), frequency, fy_start)
    assert (due.label if due else None) == expected


@pytest.mark.parametrize(
    ("label", "steps", "expected"),
    [
        ("2015-04", -1, "2015-03"),  # April's previous month is March of the year before
        ("2015-12", 1, "2016-01"),  # December to January
        ("2016-01", -1, "2015-12"),  # January back to December
        ("2015-04", 12, "2016-04"),  # a year of months
        ("2015-04", -25, "2013-03"),  # more than two years back
        ("2015-16 Q1", -1, "2014-15 Q4"),  # Q1's previous quarter is Q4 of the year before
        ("2015-16 Q4", 1, "2016-17 Q1"),  # Q4 to the next year's Q1
        ("2015-16 Q2", 5, "2016-17 Q3"),  # over a year boundary
        ("2015-16", -1, "2014-15"),  # previous year
        ("1999-00", 1, "2000-01"),  # century turn
    ],
)
def test_shift_across_year_boundaries(label, steps, expected) -> None:
    assert shift(parse(label), steps).label == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("2016-03", "2015-03"),  # month
        ("2015-04", "2014-04"),  # first month of a year
        ("2015-16 Q3", "2014-15 Q3"),  # quarter
        ("2015-16", "2014-15"),  # year
    ],
)
def test_same_period_last_year(label, expected) -> None:
    assert same_period_last_year(parse(label)).label == expected


def test_same_period_last_year_of_an_annual_label_read_as_a_year() -> None:
    assert same_period_last_year(parse_for("2011-12", A)).label == "2010-11"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("2015-04", 1),  # first month
        ("2015-12", 9),  # December is month 9
        ("2016-03", 12),  # last month
        ("2015-16 Q1", 1),  # first quarter
        ("2015-16 Q4", 4),  # last quarter
        ("2015-16", 1),  # a year is the only period of its year
    ],
)
def test_position_in_year(label, expected) -> None:
    assert position_in_year(parse(label)) == expected


APRIL_TO_DECEMBER_2015 = [f"2015-{month:02d}" for month in range(4, 13)]


@pytest.mark.parametrize(
    ("label", "fy_start", "expected"),
    [
        ("2015-04", 4, ["2015-04"]),  # first month: itself only
        ("2015-06", 4, ["2015-04", "2015-05", "2015-06"]),  # three months
        ("2016-02", 4, [*APRIL_TO_DECEMBER_2015, "2016-01", "2016-02"]),  # over January
        ("2015-16 Q3", 4, ["2015-16 Q1", "2015-16 Q2", "2015-16 Q3"]),  # quarters
        ("2015-16", 4, ["2015-16"]),  # a year
        ("2015-08", 7, ["2015-07", "2015-08"]),  # July year
        ("2016-01", 1, ["2016-01"]),  # January year restarts in January
    ],
)
def test_year_to_date_periods(label, fy_start, expected) -> None:
    period = parse(label, fy_start)
    assert [p.label for p in year_to_date(period, fy_start)] == expected


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [(M, 12), (Q, 4), (A, 1), ("quarterly", 4)],
)
def test_per_year(frequency, expected) -> None:
    assert per_year(frequency) == expected


def test_months_lists_every_month_between_both_included() -> None:
    labels = [p.label for p in months(parse("2015-11"), parse("2016-02"))]
    assert labels == ["2015-11", "2015-12", "2016-01", "2016-02"]


def test_periods_order_by_end() -> None:
    ordered = sorted([parse("2015-16"), parse("2015-05"), parse("2015-16 Q1"), parse("2015-04")])
    assert [p.label for p in ordered] == ["2015-04", "2015-05", "2015-16 Q1", "2015-16"]


# --- Entry deadline -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "working_days", "expected"),
    [
        (month_period(2015, 4), 10, date(2015, 5, 14)),  # ends Thursday: Fri + 2 weeks less a day
        (month_period(2015, 7), 10, date(2015, 8, 14)),  # ends Friday: the weekend is skipped
        (month_period(2015, 10), 10, date(2015, 11, 13)),  # ends Saturday: Monday is day 1
        (month_period(2015, 5), 10, date(2015, 6, 12)),  # ends Sunday: Monday is day 1
        (month_period(2015, 7), 1, date(2015, 8, 3)),  # one working day after a Friday: Monday
        (month_period(2015, 4), 1, date(2015, 5, 1)),  # one working day after a Thursday: Friday
        (month_period(2015, 4), 0, date(2015, 4, 30)),  # no working days: the period end
        (quarter_period(2015, 1), 10, date(2015, 7, 14)),  # quarter ends Tuesday 30 June
        (year_period(2015), 10, date(2016, 4, 14)),  # year ends Thursday 31 March 2016
    ],
)
def test_entry_deadline_counts_working_days(period, working_days, expected) -> None:
    assert entry_deadline(period, working_days, ()) == expected
    assert expected.weekday() < 5 or working_days == 0


ENGLAND_AND_WALES = load_settings(DEFAULT_CONFIG, environ={}).deadline  # the shipped holidays


@pytest.mark.parametrize(
    ("period", "without_holidays", "expected"),
    [
        # a bank holiday inside the window moves the deadline a working day later
        (month_period(2015, 4), date(2015, 5, 14), date(2015, 5, 15)),  # Mon 4 May 2015
        (month_period(2016, 4), date(2016, 5, 13), date(2016, 5, 16)),  # Mon 2 May; ends on a Sat
        (month_period(2017, 4), date(2017, 5, 12), date(2017, 5, 15)),  # Mon 1 May; ends on a Sun
        (month_period(2015, 12), date(2016, 1, 14), date(2016, 1, 15)),  # Fri 1 Jan 2016
        (month_period(2016, 12), date(2017, 1, 13), date(2017, 1, 16)),  # Mon 2 Jan (substitute)
        (month_period(2015, 5), date(2015, 6, 12), date(2015, 6, 12)),  # 25 May is in the month
        (month_period(2016, 3), date(2016, 4, 14), date(2016, 4, 14)),  # Easter is in the month
        (year_period(2015), date(2016, 4, 14), date(2016, 4, 14)),  # the year ends 31 March
        (quarter_period(2016, 2), date(2016, 10, 14), date(2016, 10, 14)),  # no holiday near
    ],
)
def test_the_deadline_skips_bank_holidays(period, without_holidays, expected) -> None:
    assert Deadline(10).of(period) == without_holidays
    assert ENGLAND_AND_WALES.of(period) == expected
    assert expected.weekday() < 5 and expected not in ENGLAND_AND_WALES.holidays


def test_a_bank_holiday_on_a_weekend_moves_nothing() -> None:
    saturday = date(2015, 5, 2)
    assert Deadline(10, frozenset({saturday})).of(month_period(2015, 4)) == date(2015, 5, 14)


@pytest.mark.parametrize(
    ("label", "said"),
    [
        ("2017-03", "March 2017"),
        ("2015-04", "April 2015"),
        ("2016-17 Q4", "Q4 2016-17"),  # the quarter first, as the council writes it
        ("2015-16 Q1", "Q1 2015-16"),
        ("2016-17", "2016-17"),  # a financial year is already in words
        ("2017-04-18", "18 April 2017"),  # a date is a day, not its month
        ("1999-13", "1999-13"),  # not a period: shown as typed, so a bad link says what it was
        ("<b>x</b>", "<b>x</b>"),
        (None, ""),
    ],
)
def test_a_period_reads_as_the_council_says_it(label: object, said: str) -> None:
    assert spoken(label) == said


def test_a_column_of_periods_reads_as_each_label_does_and_missing_stays_missing() -> None:
    import numpy as np
    import pandas as pd

    labels = ["2017-03", "2016-17 Q4", "2017-03", "1999-13", "2016-17", "<b>x</b>", "2017-04-18"]
    for column in (pd.Series(labels), pd.Series(labels, dtype=object)):
        assert spoken_each(column).tolist() == [spoken(label) for label in labels]
    gaps = spoken_each(pd.Series(["2017-03", None, np.nan], dtype=object))
    assert gaps.iloc[0] == "March 2017" and gaps.iloc[1:].isna().all()
    assert spoken_each(pd.Series([], dtype=str)).empty


@pytest.mark.parametrize(
    ("day", "said"),
    [
        (date(2017, 4, 18), "18 April 2017"),
        (datetime(2017, 4, 18, 9, 5), "18 April 2017, 09:05"),
        (datetime(2016, 7, 30, 16, 35, tzinfo=UTC), "30 July 2016, 17:35"),  # UTC to UK summer time
        (datetime(2016, 12, 30, 16, 35, tzinfo=UTC), "30 December 2016, 16:35"),
        ("2017-04-18", "18 April 2017"),
        (None, "–"),
        (float("nan"), "–"),
    ],
)
def test_a_date_reads_as_a_day_month_and_year(day: object, said: str) -> None:
    assert day_text(day) == said
