"""The catalogue (`queries.metric_frame`) names each measure's place and the measure it is
aligned to as joining the tables would: its codes and names are looked up by id apart from the
templates (docs/performance.md), for every clearance, tier and list of codes of the demo, and
in a council where nothing is aligned and no measure has a team."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import Engine, and_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import col

from metrics import queries
from metrics.models import Initiative, Metric, Priority, Service, Team
from metrics.vocab import Marking, Tier

PLACED = [
    "priority_code",
    "priority",
    "initiative_code",
    "initiative",
    "service_code",
    "service",
    "team_code",
    "team",
    "aligned_to",
]


def joined(engine: Engine, clearance: str, **where: object) -> pd.DataFrame:
    """What each measure's place reads as, joined in SQL: the catalogue's query before."""
    above = aliased(Metric)
    query = (
        select(
            col(Metric.code),
            col(Priority.code).label("priority_code"),
            col(Priority.name).label("priority"),
            col(Initiative.code).label("initiative_code"),
            col(Initiative.name).label("initiative"),
            col(Service.code).label("service_code"),
            col(Service.name).label("service"),
            col(Team.code).label("team_code"),
            col(Team.name).label("team"),
            above.code.label("aligned_to"),
        )
        .outerjoin(Priority, col(Metric.priority_id) == col(Priority.id))
        .outerjoin(Initiative, col(Metric.initiative_id) == col(Initiative.id))
        .outerjoin(Service, col(Metric.service_id) == col(Service.id))
        .outerjoin(Team, col(Metric.team_id) == col(Team.id))
        .outerjoin(
            above,
            and_(
                col(Metric.aligned_to_id) == above.id,
                queries.visible_to(clearance, above),  # type: ignore[arg-type]
            ),
        )
        .where(queries.visible_to(clearance))
    )
    if where.get("tier"):
        query = query.where(col(Metric.tier) == where["tier"])
    if where.get("codes") is not None:
        query = query.where(col(Metric.code).in_(where["codes"]))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    frame = pd.DataFrame([tuple(row) for row in rows], columns=["code", *PLACED], dtype=object)
    return frame.sort_values("code", ignore_index=True)


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Values only, missing as None: the two ways differ in dtype by driver, not in value."""
    return frame.astype(object).where(frame.notna(), None).reset_index(drop=True)


@pytest.mark.parametrize("clearance", [m.value for m in Marking])
@pytest.mark.parametrize(
    "where",
    [
        {},
        {"tier": Tier.SERVICE_STANDARDS.value},
        {"tier": Tier.ME2E.value},
        {"codes": "some"},
        {"codes": []},
    ],
    ids=["every measure", "service standards", "ME2E", "some codes", "no codes"],
)
def test_each_place_and_alignment_reads_as_joined(
    demo_engine: Engine, clearance: str, where: dict
) -> None:
    if where.get("codes") == "some":  # every third measure: some are aligned to one not read
        every = queries.metric_frame(demo_engine, clearance=Marking.OFFICIAL_SENSITIVE.value)
        where = {"codes": every["code"].tolist()[::3]}
    got = queries.metric_frame(demo_engine, clearance=clearance, **where)
    want = joined(demo_engine, clearance, **where)
    assert got.columns[-len(PLACED) :].tolist() == PLACED
    pd.testing.assert_frame_equal(plain(got[["code", *PLACED]]), plain(want))
    if clearance != Marking.NOT_PROTECTIVELY_MARKED.value and not where:
        assert got["aligned_to"].notna().any() and got["team"].notna().any()  # not all blank


def test_with_nothing_aligned_the_column_is_of_none_as_the_driver_gives_it(engine: Engine) -> None:
    """No measure aligned to another (and no measure with a team): those columns are None, as
    the driver gives a column of NULLs only, and every other place still reads as joined."""
    from metrics import demo

    demo.load_demo(engine)
    with engine.begin() as connection:
        connection.execute(update(Metric).values(aligned_to_id=None, team_id=None))
    got = queries.metric_frame(engine, clearance=Marking.OFFICIAL_SENSITIVE.value)
    for column in ("aligned_to", "team_code", "team"):
        assert got[column].dtype == object and got[column].isna().all(), column
    want = joined(engine, Marking.OFFICIAL_SENSITIVE.value)
    pd.testing.assert_frame_equal(plain(got[["code", *PLACED]]), plain(want))
