"""Committee snapshots: frozen content, a stable hash, immutability, restatements, comparison."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from committee_council import CANARY, RATED_ON, build, restate
from sqlalchemy import Engine, exc, text

from metrics import restatements, snapshot_compare, snapshots, store, views
from metrics.snapshots import SnapshotRefused

FROZEN_TABLES = ["snapshot", "snapshot_row", "snapshot_rollup", "snapshot_restatement"]


def freeze(engine: Engine, period: str = "2016-03", **extra: object):  # type: ignore[no-untyped-def]
    return snapshots.freeze(
        engine,
        period=period,
        title="Performance for March",
        actor="pmitg@council",
        meeting_date=date(2016, 4, 7),
        today=RATED_ON,
        **extra,
    )


@pytest.fixture
def council(engine: Engine) -> Engine:
    build(engine)
    return engine


def test_a_snapshot_stores_every_row_as_the_committee_sees_it(council: Engine) -> None:
    header = freeze(council)
    frozen = snapshots.show(council, header.id, clearance="OFFICIAL-SENSITIVE")
    assert header.committee == "Governance Committee"
    assert (header.period, header.meeting_date, header.rated_on) == (
        "2016-03",
        date(2016, 4, 7),
        RATED_ON,
    )
    assert header.marking == "OFFICIAL-SENSITIVE" and len(header.sha256) == 64
    rows = frozen.rows.set_index("code")
    assert rows.loc["CP01", ["actual", "target", "status"]].tolist() == [40.0, 46.0, "Red"]
    assert rows.loc["CP01", "commentary"] == "Crews were diverted to the floods."
    assert rows.loc["CP01", "dot_previous"] == "Worsening"
    assert rows.loc["CP01", "risk_level"] == "High"
    live = views.status(council, period="2016-03", clearance="OFFICIAL-SENSITIVE", today=RATED_ON)
    assert rows["risk_why"].to_dict() == live.set_index("code")["risk_why"].fillna("").to_dict()
    assert rows.loc["CP01", "risk_why"].startswith("High (9): likelihood 3 (Red 3, Worsening")
    assert rows.loc["SS01", "status"] == "Amber"  # exactly on the 5 % tolerance edge
    assert rows.loc["CP02", "actual"] == -1500.0
    assert not rows["unapproved"].any() and set(rows["approval"]) == {"approved"}
    assert snapshots.verify(council, header.id).ok


def test_the_default_view_and_its_rollups_leave_the_sensitive_measure_out(council: Engine) -> None:
    header = freeze(council)
    frozen = snapshots.show(council, header.id, clearance="OFFICIAL")
    assert CANARY not in frozen.rows["title"].tolist() and frozen.marking == "OFFICIAL"
    tiers = frozen.rollups[frozen.rollups["level"] == "tier"].set_index("name")
    assert tiers.loc["Service Standards", ["red", "amber"]].tolist() == [0, 1]
    cleared = snapshots.show(council, header.id, clearance="OFFICIAL-SENSITIVE")
    tiers = cleared.rollups[cleared.rollups["level"] == "tier"].set_index("name")
    assert tiers.loc["Service Standards", ["red", "amber"]].tolist() == [1, 1]


def test_the_hash_is_the_same_across_runs_and_databases(
    council: Engine, make_engine: Callable[[], Engine], tmp_path
) -> None:
    first = freeze(council)
    assert freeze(council).sha256 == first.sha256
    sqlite = store.make_engine(f"sqlite:///{tmp_path}/other.db")
    store.upgrade(sqlite)
    build(sqlite)
    assert freeze(sqlite).sha256 == first.sha256  # PostgreSQL and SQLite when the suite runs on PG
    sqlite.dispose()


@pytest.mark.parametrize("table", FROZEN_TABLES)
@pytest.mark.parametrize("statement", ["UPDATE {table} SET position = 7", "DELETE FROM {table}"])
def test_snapshot_tables_refuse_update_and_delete(
    council: Engine, table: str, statement: str
) -> None:
    freeze(council)
    restate(council, "CP01", "2016-03", actual=41.0, reason="re-weighed")
    freeze(council)  # carries a restatement, so every table holds a row
    if table == "snapshot":
        statement = statement.replace("position = 7", "title = 'changed'")
    with pytest.raises(exc.DatabaseError, match="frozen"), council.begin() as connection:
        connection.execute(text(statement.format(table=table)))
    assert all(snapshots.verify(council, s.id).ok for s in snapshots.list_snapshots(council))


def test_a_snapshot_shown_after_values_change_is_unchanged(council: Engine) -> None:
    header = freeze(council)
    before = snapshots.show(council, header.id, clearance="OFFICIAL-SENSITIVE")
    restate(council, "CP01", "2016-03", actual=44.5, reason="late tonnage from the depot")
    after = snapshots.show(council, header.id, clearance="OFFICIAL-SENSITIVE")
    assert after.rows.equals(before.rows) and after.rollups.equals(before.rollups)
    assert snapshots.verify(council, header.id).ok


def test_a_changed_published_value_is_restated_by_the_next_snapshot(council: Engine) -> None:
    first = freeze(council)
    assert restatements.pending_restatements(council) == []
    restate(council, "CP01", "2016-02", actual=45.0, reason="late tonnage from the depot")
    pending = restatements.pending_restatements(council)
    assert pending == []  # February was never published: the March snapshot holds March only
    restate(council, "CP01", "2016-03", actual=44.5, reason="late tonnage from the depot")
    [pending] = restatements.pending_restatements(council)
    assert (pending.code, pending.period, pending.field_name) == ("CP01", "2016-03", "actual")
    assert (pending.old_value, pending.new_value) == (40.0, 44.5)
    assert (pending.changed_by, pending.reason) == (
        "analyst@council",
        "late tonnage from the depot",
    )
    assert pending.changed_at is not None and pending.published_in == first.id
    second = freeze(council)
    carried = snapshots.show(council, second.id, clearance="OFFICIAL").restatements
    assert carried[["code", "old_value", "new_value"]].values.tolist() == [["CP01", 40.0, 44.5]]
    assert restatements.pending_restatements(council) == []  # published now at its new value


def test_a_restated_sensitive_value_is_only_shown_to_the_cleared(council: Engine) -> None:
    freeze(council)
    restate(council, "SS09", "2016-03", actual=12.0, reason="recount")
    second = freeze(council)
    assert snapshots.show(council, second.id, clearance="OFFICIAL").restatements.empty
    cleared = snapshots.show(council, second.id, clearance="OFFICIAL-SENSITIVE")
    assert cleared.restatements["title"].tolist() == [CANARY]


def test_unapproved_values_are_frozen_only_when_asked_and_are_recorded(engine: Engine) -> None:
    build(engine, status="submitted")
    with pytest.raises(SnapshotRefused, match=r"5 value.* not approved .*choose to include"):
        freeze(engine)
    assert snapshots.list_snapshots(engine) == []
    header = freeze(engine, include_unapproved=True)
    assert (header.include_unapproved, header.unapproved_count) == (True, 5)
    rows = snapshots.show(engine, header.id, clearance="OFFICIAL-SENSITIVE").rows
    assert rows["unapproved"].all()


@pytest.mark.parametrize(
    ("period", "message"),
    [("2016-13", "2016-13"), ("2010-03", "no measure is due in March 2010")],
)
def test_a_refused_snapshot_writes_nothing(council: Engine, period: str, message: str) -> None:
    with pytest.raises(SnapshotRefused, match=message):
        freeze(council, period=period)
    assert snapshots.list_snapshots(council) == []


def test_an_unknown_snapshot_is_refused(council: Engine) -> None:
    for call in (
        lambda: snapshots.show(council, 9, clearance="OFFICIAL"),
        lambda: snapshots.verify(council, 9),
    ):
        with pytest.raises(SnapshotRefused, match="no snapshot 9"):
            call()


def test_compare_finds_movements_new_and_recovered_reds_added_and_retired(council: Engine) -> None:
    february = freeze(council, period="2016-02")
    march = freeze(council, period="2016-03")
    moved = snapshot_compare.compare_snapshots(council, february.id, march.id, clearance="OFFICIAL")
    assert moved.movements[["code", "before", "after"]].values.tolist() == [
        ["CP01", "Green", "Red"],
        ["CP02", "Amber", "Green"],  # 200 over a zero target, inside the £500 tolerance
        ["ME01", "Red", "Green"],
        ["SS01", "Green", "Amber"],
    ]
    assert moved.new_reds["code"].tolist() == ["CP01"]
    assert moved.recovered["code"].tolist() == ["ME01"]
    assert moved.added.empty and moved.retired.empty
    reverse = snapshot_compare.compare_snapshots(
        council, march.id, february.id, clearance="OFFICIAL"
    )
    assert reverse.recovered["code"].tolist() == ["CP01"]
