"""Template rows change only by an administrator, version-checked and audited."""

from __future__ import annotations

import pytest
from entry_council import ADMIN, MANAGER, OFFICER, build
from sqlalchemy import Engine, select
from sqlmodel import Session

from metrics import store, templates
from metrics.access import AccessDenied
from metrics.models import AuditLog, Metric


@pytest.mark.parametrize("who", [MANAGER, OFFICER])
def test_a_template_row_is_refused_to_anyone_but_an_administrator(engine: Engine, who) -> None:
    build(engine)
    with pytest.raises(AccessDenied, match="may not change metric templates"):
        templates.update_template(
            engine,
            user=who,
            code="HOU02",
            seen_version=1,
            changes={"responsible_email": "me@x.gov.uk"},
            reason="mine",
        )


def test_an_administrator_changes_a_template_with_a_version_check_and_audit(engine) -> None:
    build(engine)
    changes = {"responsible_email": "lettings@x.gov.uk"}
    metric = templates.update_template(
        engine, user=ADMIN, code="HOU02", seen_version=1, changes=changes, reason="new mailbox"
    )
    assert (metric.responsible_email, metric.version) == ("lettings@x.gov.uk", 2)
    with pytest.raises(store.ConflictError):
        templates.update_template(
            engine, user=ADMIN, code="HOU02", seen_version=1, changes=changes, reason="stale"
        )
    with pytest.raises(templates.TemplateRefused, match="marking: not changed here"):
        templates.update_template(
            engine,
            user=ADMIN,
            code="HOU02",
            seen_version=2,
            changes={"marking": "OFFICIAL"},
            reason="lower it",
        )
    with Session(engine) as session:
        held = session.exec(select(Metric).where(Metric.code == "HOU02")).scalars().one()
        audit = session.exec(select(AuditLog).where(AuditLog.entity == "metric")).scalars().one()
    assert held.responsible_email == "lettings@x.gov.uk"
    assert (audit.old_value, audit.new_value, audit.reason) == (
        "allocations@x.gov.uk",
        "lettings@x.gov.uk",
        "new mailbox",
    )
