"""Loading the demo council: one transaction, only into an empty database, nothing half-written."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from metrics import demo, store
from metrics.demo import load as demo_load
from metrics.models import AuditLog, Metric, Priority, User


def row_counts(engine: Engine) -> dict[str, int]:
    """How many rows every table holds, and the data version."""
    with Session(engine) as session:
        counts = {
            table.name: session.exec(select(func.count()).select_from(table)).one()
            for table in SQLModel.metadata.sorted_tables
        }
    return {**counts, "data version": store.data_version(engine)}


def count(engine: Engine, model: type[SQLModel]) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_demo_loads_into_an_empty_database(engine: Engine) -> None:
    demo.load_demo(engine)
    assert count(engine, Metric) == 120
    assert count(engine, User) == len(demo.DEMO_USERS)
    assert count(engine, Priority) == 6
    with Session(engine) as session:
        priorities = session.exec(select(Priority).order_by(Priority.sort_order)).all()
        audits = session.exec(select(AuditLog).where(AuditLog.entity == "user")).all()
    assert all(p.description for p in priorities)
    assert [p.name for p in priorities] == list(demo.priorities_frame()["name"])
    created = {a.entity_key: json.loads(a.new_value or "{}") for a in audits}
    for person in demo.DEMO_USERS:
        access = {key: person[key] for key in ("role", "clearance", "services")}
        assert created[person["email"]] == access


def test_a_second_load_is_refused_and_changes_nothing(engine: Engine) -> None:
    demo.load_demo(engine)
    before = row_counts(engine)
    with pytest.raises(demo.DemoError, match="already holds metrics"):
        demo.load_demo(engine)
    assert row_counts(engine) == before


def test_a_database_holding_a_priority_is_refused(engine: Engine) -> None:
    with store.write(engine) as session:
        session.add(Priority(code="ours", name="Our own priority"))
    before = row_counts(engine)
    with pytest.raises(demo.DemoError, match="already holds priorities;"):
        demo.load_demo(engine)
    assert row_counts(engine) == before


def test_a_failure_while_creating_users_leaves_the_database_empty(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = row_counts(engine)

    def fail(*_args: object) -> None:
        raise RuntimeError("injected failure in the user step")

    monkeypatch.setattr(demo_load, "_create_users", fail)
    with pytest.raises(RuntimeError, match="injected"):
        demo.load_demo(engine)
    assert row_counts(engine) == before
    assert count(engine, Metric) == count(engine, AuditLog) == 0
