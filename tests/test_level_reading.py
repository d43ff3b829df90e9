"""A level reads only what it shows (`views.level_reading`): a service's or a team's page rates
only its own measures; a large council's priority or initiative reads its own and aligned
measures, and counts every other measure due from where it sits, rating none of them. Every
table, count, note and link is what reading the whole month gave, for every level of the demo,
whole and in each part its links open, for every clearance and for the committee's view."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from datetime import date
from itertools import product
from pathlib import Path

import pandas as pd
import pytest
from conftest import copy_demo
from sqlalchemy import Engine, text

from metrics import views
from metrics.config import Settings
from metrics.vocab import Marking

TODAY = date(2017, 4, 20)


def same(left: views.LevelView | None, right: views.LevelView | None) -> None:
    assert (left is None) == (right is None)
    if left is None or right is None:
        return
    for field in fields(views.LevelView):
        a, b = getattr(left, field.name), getattr(right, field.name)
        if isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
        else:
            assert a == b, field.name


EVERYDAY = ("2017-03", Marking.OFFICIAL.value, False)  # the rest run in `make faults`
CASES = [
    pytest.param(*case, marks=() if case == EVERYDAY else pytest.mark.slow)
    for case in product(["2016-06", "2017-03"], [m.value for m in Marking], [False, True])
]


@pytest.mark.parametrize(("period", "clearance", "approved_only"), CASES)
def test_each_level_reads_as_rating_the_whole_council(
    demo_engine: Engine,
    period: str,
    clearance: str,
    approved_only: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "READ_IN_PARTS_ABOVE", 0)  # the demo is read in parts too
    args = dict(period=period, clearance=clearance, today=TODAY, settings=Settings())
    scope = views.read_scope(demo_engine, clearance=clearance)
    whole = views.read_month(demo_engine, **args, scope=scope, approved_only=approved_only)
    compared = 0
    everyday = (period, clearance, approved_only) == EVERYDAY
    for kind in ("priority", "initiative", *views.OWN_MEASURES):
        codes = list(scope.structure.options(kind))
        for code in codes[::3] if everyday and kind == "team" else codes:  # a third everyday
            own = views.level_reading(
                demo_engine, kind=kind, code=code, **args, scope=scope,
                approved_only=approved_only,
            )  # fmt: skip
            assert len(own.status) < len(whole.status)  # its own measures only
            if kind not in views.OWN_MEASURES:  # and every measure due, where it sits
                assert own.due is not None
                assert sorted(set(own.due["code"])) == sorted(whole.status["code"])
                assert set(own.status["code"]) <= set(own.due["code"])
            view = views.level(demo_engine, kind=kind, code=code, **args, reading=whole)
            parts = [views.Within()]
            if view is not None and kind in views.OWN_MEASURES:
                # and each priority it serves, as its "way back up" opens
                parts += [views.Within(serving=str(p)) for p in view.aligned["code"]]
            elif view is not None:  # and each tier of it
                parts += [views.Within(tier=str(t)) for t in own.status["tier"].unique()]
            for part in parts:
                same(
                    views.level(
                        demo_engine, kind=kind, code=code, **args, reading=own, within=part
                    ),
                    views.level(
                        demo_engine, kind=kind, code=code, **args, reading=whole, within=part
                    ),
                )
                compared += 1
    assert compared > len(scope.structure.options("service"))  # every level, and some parts


def test_a_large_councils_priority_rates_only_what_it_lists(
    demo_database: str,
    make_engine: Callable[[], Engine],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    demo = copy_demo(demo_database, make_engine, tmp_path)  # the test writes what it rates
    monkeypatch.setattr(views, "READ_IN_PARTS_ABOVE", 0)
    args = dict(period="2017-03", clearance=Marking.OFFICIAL.value, today=TODAY,
                settings=Settings())  # fmt: skip
    scope = views.read_scope(demo, clearance=args["clearance"])
    code = next(iter(scope.structure.options("priority")))
    with demo.begin() as connection:  # nothing kept: every rating is made afresh
        connection.execute(text("DELETE FROM kept_rating"))
    got = views.level_reading(demo, kind="priority", code=code, **args, scope=scope)
    with demo.connect() as connection:
        kept = connection.execute(text("SELECT COUNT(*) FROM kept_rating")).scalar_one()
    assert got.due is not None
    assert 0 < kept == got.status["code"].nunique() < got.due["code"].nunique()


@pytest.mark.parametrize(
    ("kind", "measures", "part"),
    [
        ("service", 120, True),
        ("team", 20_000, True),
        ("priority", 120, False),
        ("initiative", 5_000, False),
        ("priority", 5_001, True),
        ("initiative", 20_000, True),
    ],
)
def test_which_levels_read_a_month_of_their_own(kind: str, measures: int, part: bool) -> None:
    catalogue = pd.DataFrame({"code": [f"M{i}" for i in range(measures)]})
    scope = views.Scope("OFFICIAL", None, catalogue, pd.DataFrame())  # type: ignore[arg-type]
    assert views.reads_part(kind, scope) is part
