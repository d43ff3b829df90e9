"""Kept ratings (issue 12): a measure's rating of a period is kept when first rated and read
by the next reader instead of being rated again. A kept rating must always equal rating afresh:
every month of the demo, both bases, two days; after every kind of write, which forgets the
written measure's kept rows and no other's; never kept from values a write has since changed;
never waited for; never used under other rules or across an overdue deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date

import pandas as pd
import pytest
from conftest import copy_demo, sampled
from entry_council import ADMIN, MANAGER, OFFICER, TODAY, build
from sqlalchemy import Engine, text

from metrics import admin, entry, store, targets, templates, views
from metrics.config import settings
from metrics.views import kept, rated

SEES_ALL = "OFFICIAL-SENSITIVE"
DEMO_MONTHS = [  # April 2015 to March 2017
    f"{year}-{month:02d}" for year in (2015, 2016, 2017) for month in range(1, 13)
    if "2015-04" <= f"{year}-{month:02d}" <= "2017-03"
]  # fmt: skip


def afresh(engine: Engine, period: str, *, today: date, approved_only: bool = False):  # type: ignore[no-untyped-def]
    """The month rated by the one pipeline from every value, with each row's latest commentary
    from the same values, nothing kept: what a kept rating must equal."""
    due, values = rated._due_with_values(
        engine,
        period,
        clearance=SEES_ALL,
        settings=settings(),
        years_back=rated.HISTORY_YEARS,
        approved_only=approved_only,
    )
    fresh = rated.rate(due, values, today, settings())
    return rated.with_latest_commentary(fresh, values)


def status(engine: Engine, period: str, *, today: date = TODAY, approved_only: bool = False):  # type: ignore[no-untyped-def]
    return views.status(
        engine, period=period, clearance=SEES_ALL, today=today, approved_only=approved_only
    )


def kept_rows(engine: Engine) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.DataFrame(
            connection.execute(
                text("SELECT m.code, k.period, k.approved_only, k.whole FROM kept_rating k"
                     " JOIN metric m ON m.id = k.metric_id")
            ).all(),
            columns=["code", "period", "approved_only", "whole"],
        )  # fmt: skip


@pytest.fixture
def demo(demo_database: str, make_engine: Callable[[], Engine], tmp_path) -> Engine:  # type: ignore[no-untyped-def]
    return copy_demo(demo_database, make_engine, tmp_path)


@pytest.mark.parametrize("period", sampled(DEMO_MONTHS, 12))
@pytest.mark.parametrize("approved_only", [False, True], ids=["all values", "approved only"])
def test_a_kept_rating_equals_rating_afresh_every_month(
    demo: Engine, period: str, approved_only: bool
) -> None:
    with demo.begin() as connection:
        connection.execute(text("DELETE FROM kept_rating"))
    for today in (date(2016, 5, 20), date(2026, 12, 1)):
        want = afresh(demo, period, today=today, approved_only=approved_only)
        first = status(demo, period, today=today, approved_only=approved_only)  # rates, keeps
        assert len(kept_rows(demo)) >= len(want)
        again = status(demo, period, today=today, approved_only=approved_only)  # reads kept
        pd.testing.assert_frame_equal(first, want)
        pd.testing.assert_frame_equal(again, want)


def test_the_dashboards_earlier_months_from_kept_ratings_equal_rating_afresh(demo: Engine) -> None:
    months = ["2016-02", "2015-12", "2015-03"]
    reading = views.read_month(demo, period="2016-03", clearance=SEES_ALL, today=TODAY,
                               settings=settings())  # fmt: skip
    for attempt in ("rated", "kept"):
        before = rated.rags_before(
            demo, reading.status, months=months, clearance=SEES_ALL, today=TODAY
        )
        for month in months:
            fresh = rated.rag_in(demo, period=month, clearance=SEES_ALL, today=TODAY)
            got = before[month].merge(fresh, on=["code", "period"], suffixes=("", "_fresh"))
            assert len(got) == len(before[month]) > 0, (attempt, month)
            assert (got["rag"] == got["rag_fresh"]).all(), (attempt, month)


def save_march(engine: Engine) -> None:
    entry.save_value(
        engine, user=MANAGER, entry=entry.Entry("HOU02", "2016-03", 1, actual=31), today=TODAY
    )


def set_next_years_targets(engine: Engine) -> None:
    targets.set_targets(engine, user=OFFICER, code="HOU02", fiscal_year="2016-17", kind="even",
                        annual_target=120.0, reason="strategy", seen_version=0)  # fmt: skip


def change_template(engine: Engine) -> None:
    templates.update_template(engine, user=ADMIN, code="HOU02", seen_version=1,
                              changes={"title": "Homes let"}, reason="clearer")  # fmt: skip


def change_polarity(engine: Engine) -> None:
    admin.edit_measure(engine, actor=ADMIN, code="HOU02", seen_version=1,
                       fields={"polarity": "lower"}, reason="fewer is better")  # fmt: skip


def delete_a_value(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(
            "DELETE FROM period_value WHERE period = '2016-04'"
            " AND metric_id = (SELECT id FROM metric WHERE code = 'HOU02')"
        ))  # fmt: skip


def insert_a_value(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO period_value (metric_id, period, fiscal_year, period_end, actual,"
            " commentary, corrective_action, status, entered_by, approved_by, return_reason,"
            " returned_by, outlier, outlier_note, outlier_reviewed_by, version)"
            " SELECT id, '2016-02', '2015-16', '2016-02-29', 7, '', '', 'approved', '', '', '',"
            " '', false, '', '', 1 FROM metric WHERE code = 'HOU02'"
        ))  # fmt: skip


WRITES = {
    "save a value": save_march,
    "set targets": set_next_years_targets,
    "change its template": change_template,
    "change its polarity": change_polarity,
    "delete a value": delete_a_value,
    "insert a value": insert_a_value,
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_every_write_forgets_that_measures_kept_ratings_and_no_others(
    engine: Engine, write: Callable[[Engine], None]
) -> None:
    build(engine)
    for month in ("2016-03", "2016-04"):
        status(engine, month)
    before = kept_rows(engine)
    assert {"HOU02", "HOU01"} <= set(before["code"])
    write(engine)
    after = kept_rows(engine)
    assert "HOU02" not in set(after["code"])
    assert len(after) == len(before[before["code"] != "HOU02"])
    for month in ("2016-03", "2016-04"):
        pd.testing.assert_frame_equal(status(engine, month), afresh(engine, month, today=TODAY))


def test_a_rating_read_before_a_write_is_not_kept_after_it(engine: Engine) -> None:
    build(engine)
    since = store.data_version(engine)
    due_then = afresh(engine, "2016-03", today=TODAY)
    save_march(engine)  # a write lands between reading the values and keeping their rating
    basis = kept.Basis(False, kept.rules_key(settings(), rated.HISTORY_YEARS), TODAY)
    assert not kept.keep(engine, due_then, basis, whole=True, since=since)
    assert kept_rows(engine).empty
    assert status(engine, "2016-03").set_index("code").loc["HOU02", "actual"] == 31


def test_keeping_never_waits_for_a_writer(engine: Engine) -> None:
    build(engine)
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.write(engine):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        start = time.perf_counter()
        got = status(engine, "2016-03")  # rated, not kept: the lock is held
        assert time.perf_counter() - start < 5
        assert kept_rows(engine).empty
        pd.testing.assert_frame_equal(got, afresh(engine, "2016-03", today=TODAY))
    finally:
        release.set()
        thread.join()
    status(engine, "2016-03")
    assert not kept_rows(engine).empty


def test_ratings_kept_under_other_rules_are_not_used(engine: Engine) -> None:
    build(engine)
    status(engine, "2016-03")
    other = replace(settings(), rating=replace(settings().rating, default_tolerance_percent=0.5))
    assert kept.rules_key(other, 4) != kept.rules_key(settings(), 4)
    got = views.status(engine, period="2016-03", clearance=SEES_ALL, today=TODAY, settings=other)
    due, values = rated._due_with_values(engine, "2016-03", clearance=SEES_ALL, settings=other,
                                         years_back=rated.HISTORY_YEARS)  # fmt: skip
    fresh = rated.rate(due, values, TODAY, other)
    pd.testing.assert_frame_equal(got, rated.with_latest_commentary(fresh, values))


@pytest.mark.parametrize(
    ("rated_on", "read_on", "used"),
    [
        (date(2016, 4, 1), date(2016, 4, 2), True),  # both before the deadline
        (date(2016, 4, 1), date(2016, 5, 20), False),  # the deadline passed between
        (date(2016, 5, 20), date(2016, 6, 1), True),  # both after it
        (date(2016, 5, 20), date(2016, 4, 1), False),  # read as of a day before it
    ],
)
def test_a_kept_rating_is_used_only_if_overdue_then_as_on_the_day_read(
    engine: Engine, rated_on: date, read_on: date, used: bool
) -> None:
    build(engine)
    deadline = date(2016, 4, 15)
    due = pd.DataFrame({"metric_id": [1], "period": ["2016-03"], "deadline": [deadline]})
    row = {"metric_id": 1, "period": "2016-03"} | dict.fromkeys(kept.KEPT)
    rules = kept.rules_key(settings(), rated.HISTORY_YEARS)
    rated_row = pd.DataFrame([row | {"risk_score": 0}])
    since = store.data_version(engine)
    assert kept.keep(engine, rated_row, kept.Basis(False, rules, rated_on), whole=True, since=since)
    found = kept.kept_for(engine, due, kept.Basis(False, rules, read_on), whole=True)
    assert len(found) == int(used)


@pytest.mark.parametrize(
    ("kept_period", "due_period", "used"),
    [
        ("2016-03", "2016-03", True),
        ("2015-16 Q4", "2016-03", False),  # kept when the measure was quarterly: not its period
        ("2016-03", "2015-16 Q4", False),
    ],
)
def test_a_kept_rating_is_used_only_for_the_period_due(
    engine: Engine, kept_period: str, due_period: str, used: bool
) -> None:
    build(engine)
    due = pd.DataFrame(
        {
            "metric_id": [1, 2],
            "period": [due_period, "2016-03"],
            "deadline": [date(2016, 4, 15)] * 2,
        }
    )
    rules = kept.rules_key(settings(), rated.HISTORY_YEARS)
    rows = pd.DataFrame(
        [{"metric_id": 1, "period": kept_period} | dict.fromkeys(kept.KEPT) | {"risk_score": 0}]
    )
    basis = kept.Basis(False, rules, date(2016, 4, 1))
    assert kept.keep(engine, rows, basis, whole=True, since=store.data_version(engine))
    found = kept.kept_for(engine, due, basis, whole=True)
    assert found["metric_id"].tolist() == ([1] if used else [])


def test_reading_a_kept_month_does_not_move_the_data_version(demo: Engine) -> None:
    before = store.data_version(demo)
    status(demo, "2016-03")
    status(demo, "2016-03")
    assert store.data_version(demo) == before


def test_the_rating_code_named_in_the_rules_key_exists() -> None:
    """A new release re-rates: the key digests every file a rating comes from."""
    assert all((kept.PACKAGE / name).is_file() for name in kept.RATING_CODE)


@pytest.mark.parametrize("clearance", ["OFFICIAL", SEES_ALL])
def test_rating_ahead_leaves_the_first_reader_of_the_dashboard_nothing_to_rate(
    demo: Engine, clearance: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo.begin() as connection:
        connection.execute(text("DELETE FROM kept_rating"))
    done = views.rate_ahead(demo, today=TODAY, settings=settings())
    officers = views.latest_reported_month(demo, clearance=SEES_ALL)
    committee = views.latest_reported_month(demo, clearance=SEES_ALL, approved_only=True)
    assert done == [(officers, False), (committee, True)]
    rated_now: list[int] = []
    real_rate = rated.pipeline.rate

    def counting(due: pd.DataFrame, *args, **kwargs):  # type: ignore[no-untyped-def]
        rated_now.append(len(due))
        return real_rate(due, *args, **kwargs)

    monkeypatch.setattr(rated.pipeline, "rate", counting)
    for month, approved_only in done:
        board = views.dashboard(demo, period=month, clearance=clearance, today=TODAY,
                                settings=settings(), approved_only=approved_only)  # fmt: skip
        assert len(board.exceptions) > 0 and board.compared_with, (month, approved_only)
    assert sum(rated_now) == 0  # every row, this month's and the earlier months', was kept
    monkeypatch.undo()
    fresh = afresh(demo, officers, today=TODAY)  # and what was kept is what rating gives
    pd.testing.assert_frame_equal(status(demo, officers), fresh)


def same_boards(got: views.DashboardView, want: views.DashboardView) -> None:
    for name in ("headline", "change", "nodes", "priorities", "exceptions", "changes", "rated"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), obj=name)
    assert (got.exceptions_total, got.changes_total, got.compared_with) == (
        want.exceptions_total, want.changes_total, want.compared_with
    )  # fmt: skip


NARROW_CASES = [  # each month, every one and the first 3 listed, both bases
    (period, approved_only, listed)
    for period in ("2016-03", "2016-11", "2017-03")
    for listed in (200, 3)
    for approved_only in (False, True)
]


# Every third case in the everyday suite (each month, each number listed and each basis twice);
# `make faults` runs all twelve.
@pytest.mark.parametrize(
    ("period", "approved_only", "listed"),
    sampled(
        NARROW_CASES,
        every=3,
        ids=[
            f"{'every one' if listed == 200 else 'the first 3'} listed-"
            f"{'approved only' if approved_only else 'all values'}-{period}"
            for period, approved_only, listed in NARROW_CASES
        ],
    ),
)
def test_a_dashboard_counted_from_part_of_each_kept_rating_equals_one_read_whole(
    demo: Engine, period: str, approved_only: bool, listed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted from `board.COUNTED` of each kept rating, with only the rows listed read whole,
    the dashboard is the one a whole month's reading gives: rated afresh, then kept."""
    monkeypatch.setattr(views.board, "LISTED", listed)  # the demo has fewer than 200 to list
    with demo.begin() as connection:
        connection.execute(text("DELETE FROM kept_rating"))
    seen = {"period": period, "clearance": SEES_ALL, "today": TODAY, "settings": settings(),
            "approved_only": approved_only}  # fmt: skip
    first = views.dashboard(demo, **seen)  # nothing kept: rated whole, and kept
    real_read, reads = views.read_month, []

    def noted(engine: Engine, **kwargs):  # type: ignore[no-untyped-def]
        reading = real_read(engine, **kwargs)
        reads.append((len(kwargs.get("codes") or []), len(reading.status.columns)))
        return reading

    monkeypatch.setattr(views, "read_month", noted)
    counted = views.dashboard(demo, **seen)  # read from part of each kept rating
    monkeypatch.setattr(views, "read_month", real_read)
    (_, narrow), (listed_rows, wide) = reads  # every measure, then the rows listed
    assert narrow < wide and 0 < listed_rows <= 2 * listed
    whole = views.dashboard(demo, **seen, reading=views.read_month(demo, **seen))
    assert counted.exceptions_total + counted.changes_total > 0  # some rows are listed
    same_boards(first, whole)
    same_boards(counted, whole)


def test_a_dashboard_counted_after_a_save_forgot_some_ratings_equals_one_read_whole(
    demo: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counted when a save has just forgotten some measures' kept ratings, the dashboard rates
    those from their whole templates and counts the rest from part of each kept rating: the
    same dashboard a whole month's reading gives."""
    monkeypatch.setattr(views.board, "LISTED", 3)
    seen = {"period": "2017-03", "clearance": SEES_ALL, "today": TODAY, "settings": settings()}
    views.dashboard(demo, **seen)  # rates and keeps the month
    saved = "metric_id IN (SELECT id FROM metric ORDER BY id LIMIT 15)"
    with demo.begin() as connection:  # a team's save forgets its measures' ratings
        connection.execute(text(f"DELETE FROM kept_rating WHERE {saved}"))
    counted = views.dashboard(demo, **seen)
    with demo.connect() as connection:  # and keeps them again, rated afresh
        kept = connection.execute(text(f"SELECT COUNT(*) FROM kept_rating WHERE {saved}"))
        assert kept.scalar_one() > 0
    same_boards(counted, views.dashboard(demo, **seen, reading=views.read_month(demo, **seen)))


def a_write_before_the_listed_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`views.read_month` made to let another user's write come first: before the first read of
    some measures (the rows a view lists whole), the first of them is re-rated. Each read's kind
    (counted, listed, whole) is noted in the list returned."""
    real_read, reads = views.read_month, []

    def a_write_first(engine: Engine, **kwargs):  # type: ignore[no-untyped-def]
        if kwargs.get("codes") and "listed" not in reads:  # a listed measure is re-rated
            with engine.begin() as connection:
                connection.execute(text(
                    "UPDATE kept_rating SET risk_score = risk_score + 1 WHERE metric_id ="
                    f" (SELECT id FROM metric WHERE code = '{kwargs['codes'][0]}')"
                ))  # fmt: skip
        reads.append("listed" if kwargs.get("codes") else "counted" if kwargs.get("columns")
                     else "whole")  # fmt: skip
        return real_read(engine, **kwargs)

    monkeypatch.setattr(views, "read_month", a_write_first)
    return reads


def test_a_write_between_counting_and_listing_reads_the_whole_month_again(
    demo: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows listed are read after the counts: if a write changed a listed measure's rating
    in between, the board is read again whole, so its lists never disagree with its counts."""
    seen = {"period": "2017-03", "clearance": SEES_ALL, "today": TODAY, "settings": settings()}
    views.dashboard(demo, **seen)  # rates and keeps the month
    reads = a_write_before_the_listed_read(monkeypatch)
    got = views.dashboard(demo, **seen)
    assert reads == ["counted", "listed", "whole"]
    monkeypatch.undo()
    same_boards(got, views.dashboard(demo, **seen, reading=views.read_month(demo, **seen)))
