"""Metric templates changed by an administrator: version-checked and audited field by field."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Engine

from metrics import access, store
from metrics.models import Metric
from metrics.queries import entry as entry_queries

# What an administrator may change here; codes, links and markings go through the workbook.
EDITABLE = frozenset(
    {
        "title",
        "definition",
        "responsible_officer",
        "responsible_email",
        "tolerance",
        "tolerance_is_percent",
        "risk_impact",
        "data_source",
        "active_from",
        "active_to",
    }
)


class TemplateRefused(ValueError):
    """A field that may not be changed here; nothing was written."""


def update_template(
    engine: Engine,
    *,
    user: access.CurrentUser,
    code: str,
    seen_version: int,
    changes: Mapping[str, object],
    reason: str,
) -> Metric:
    """Change fields of one metric template as an administrator, refusing a stale version."""
    access.require_administer(user)
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise TemplateRefused(f"{', '.join(unknown)}: not changed here; use the template workbook")
    if not reason.strip():
        raise TemplateRefused("reason: say why the template changes")
    with store.write(engine) as session:
        found = entry_queries.metrics_for_entry(session, codes=[code])
        metric = found.get(code.strip().casefold(), (None, ""))[0]
        if metric is None or not access.may_see(user.clearance, metric.marking):
            raise TemplateRefused(f"code: no measure {code}")  # above clearance reads as unknown
        changed = {k: v for k, v in changes.items() if getattr(metric, k) != v}
        old = {k: getattr(metric, k) for k in changed}
        session.expunge(metric)
        store.versioned_update(session, Metric, metric.id or 0, seen_version, **changed)
        for name, new in changed.items():
            store.audit(
                session,
                actor=user.email,
                action="template",
                entity="metric",
                entity_key=metric.code,
                field_name=name,
                old_value=old[name],
                new_value=new,
                reason=reason.strip(),
            )
        for name, new in changed.items():
            setattr(metric, name, new)
        metric.version = seen_version + 1
        store.bump_data_version(session)
    return metric
