"""A service's or a team's page rates only its own measures (`views.level_reading`): every
table, count, note and link is what rating the whole council gave, for every service and team
of the demo, whole and in each part its links open, for every clearance and for the
committee's view."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from itertools import product

import pandas as pd
import pytest
from sqlalchemy import Engine

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
def test_each_service_and_team_reads_as_rating_the_whole_council(
    demo_engine: Engine, period: str, clearance: str, approved_only: bool
) -> None:
    args = dict(period=period, clearance=clearance, today=TODAY, settings=Settings())
    scope = views.read_scope(demo_engine, clearance=clearance)
    whole = views.read_month(demo_engine, **args, scope=scope, approved_only=approved_only)
    compared = 0
    everyday = (period, clearance, approved_only) == EVERYDAY
    for kind in views.OWN_MEASURES:
        codes = list(scope.structure.options(kind))
        for code in codes[::3] if everyday and kind == "team" else codes:  # a third everyday
            own = views.level_reading(
                demo_engine, kind=kind, code=code, **args, scope=scope,
                approved_only=approved_only,
            )  # fmt: skip
            assert len(own.status) <= len(whole.status)
            view = views.level(demo_engine, kind=kind, code=code, **args, reading=whole)
            parts = [views.Within()]
            if view is not None:  # and each priority it serves, as its "way back up" opens
                parts += [views.Within(serving=str(p)) for p in view.aligned["code"]]
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
