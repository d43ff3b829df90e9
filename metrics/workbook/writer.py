"""Checked rows written: metrics created or changed, values created or changed, all audited.

Runs inside the import's write transaction, after every check has passed; the one refusal left
to it (approving a value one entered) raises, and the caller's rollback undoes everything.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, SQLModel

from metrics import store
from metrics.levels import Levels
from metrics.models import Initiative, Metric, PeriodValue, Priority, Service, Team
from metrics.vocab import ApprovalState, Tier
from metrics.workbook.columns import VALUES
from metrics.workbook.problems import Problem, WorkbookError
from metrics.workbook.validate import Held, MetricRow, blank_metric, default_aggregation
from metrics.workbook.values import BLANK_VALUE, ValueRow


@dataclass
class ImportResult:
    """What an import did, counted by kind of row, and every marking it lowered."""

    metrics_created: int = 0
    metrics_updated: int = 0
    metrics_unchanged: int = 0
    values_created: int = 0
    values_updated: int = 0
    values_unchanged: int = 0
    values_skipped: int = 0  # new rows with nothing in them: nothing to store
    priorities_created: int = 0
    initiatives_created: int = 0
    services_created: int = 0
    teams_created: int = 0
    links_created: int = 0  # initiative delivers priority
    markings_lowered: list[str] = field(default_factory=list)  # "CODE: OLD to NEW"

    def __str__(self) -> str:
        counts = {k: v for k, v in asdict(self).items() if isinstance(v, int)}
        return ", ".join(f"{count} {key.replace('_', ' ')}" for key, count in counts.items())


LINK_MODELS: dict[str, type[SQLModel]] = {
    "priority_id": Priority,
    "initiative_id": Initiative,
    "service_id": Service,
    "team_id": Team,
}


class Writer:
    """Applies checked rows, auditing every field it changes."""

    def __init__(self, session: Session, held: Held, *, actor: str, reason: str) -> None:
        self.session, self.held, self.actor, self.reason = session, held, actor, reason
        self.result = ImportResult()
        self.levels = Levels(session, actor=actor, reason=reason)

    def audit(
        self,
        *,
        action: str,
        entity: str,
        key: str,
        name: str = "",
        old: Any = None,
        new: Any = None,
    ) -> None:
        store.audit(
            self.session,
            actor=self.actor,
            action=action,
            entity=entity,
            entity_key=key,
            field_name=name,
            old_value=old,
            new_value=new,
            reason=self.reason,
        )

    def finished(self) -> ImportResult:
        """The result, with the levels the import created counted in."""
        for kind, count in self.levels.created.items():
            setattr(self.result, f"{kind}_created", count)
        return self.result

    # Metrics

    def metrics(self, rows: list[MetricRow]) -> None:
        """New metrics first (so that alignment can point at them), then every row's fields."""
        created = {
            row.code.casefold() for row in rows if row.code.casefold() not in self.held.metrics
        }
        for row in rows:
            if row.code.casefold() in created:
                fields = {**blank_metric(), **row.fields}
                fields.setdefault("aggregation", default_aggregation(fields["unit"]))
                metric = Metric(code=row.code, **fields)
                self.session.add(metric)
                self.held.metrics[row.code.casefold()] = metric
        self.session.flush()
        for row in rows:
            metric = self.held.metrics[row.code.casefold()]
            wanted = {**row.fields, **self._links(row)}
            if row.code.casefold() in created:
                self._created_metric(metric, wanted)
            else:
                self._updated_metric(metric, wanted)

    def _links(self, row: MetricRow) -> dict[str, int | None]:
        """Ids for the names in the row's link columns, finding or creating each."""
        names = row.links
        found: dict[str, Any] = {}
        for attribute, model in LINK_MODELS.items():
            name = names.get(attribute.removesuffix("_id"))
            if name and model is Team:  # a team is found within its service
                found[attribute] = self.levels.find(Team, name, service_id=found["service_id"].id)
            elif name:
                found[attribute] = self.levels.find(model, name)
            elif attribute.removesuffix("_id") in names:
                found[attribute] = None  # the column is there and blank: no link
        initiative, priority = found.get("initiative_id"), found.get("priority_id")
        if row.fields["tier"] == Tier.ME2E and initiative and priority:
            self.levels.link(initiative, priority)
        ids = {attribute: linked.id if linked else None for attribute, linked in found.items()}
        if "aligned_to" in names:
            target = names["aligned_to"]
            ids["aligned_to_id"] = self.held.metrics[target.casefold()].id if target else None
        return ids

    def _shown(self, attribute: str, value: Any) -> tuple[str, Any]:
        """A field's name and value as the audit shows them: names and codes rather than ids."""
        if attribute in LINK_MODELS:
            return attribute.removesuffix("_id"), self.levels.name_of(LINK_MODELS[attribute], value)
        if attribute == "aligned_to_id":
            code = next((m.code for m in self.held.metrics.values() if m.id == value), None)
            return "aligned_to", code
        return attribute, value

    def _created_metric(self, metric: Metric, wanted: dict[str, Any]) -> None:
        for attribute, value in wanted.items():
            setattr(metric, attribute, value)
        shown = dict(self._shown(attribute, value) for attribute, value in wanted.items())
        self.audit(action="create", entity="metric", key=metric.code, new=_json(shown))
        self.result.metrics_created += 1

    def _updated_metric(self, metric: Metric, wanted: dict[str, Any]) -> None:
        changes = _changes(metric, wanted)
        for attribute, (old, new) in changes.items():
            setattr(metric, attribute, new)
            name, old_shown = self._shown(attribute, old)
            new_shown = self._shown(attribute, new)[1]
            self.audit(
                action="import",
                entity="metric",
                key=metric.code,
                name=name,
                old=old_shown,
                new=new_shown,
            )
        if changes:
            metric.version += 1
            self.result.metrics_updated += 1
        else:
            self.result.metrics_unchanged += 1

    # Values

    def values(self, rows: list[ValueRow]) -> None:
        """New rows inserted and changed rows updated in batches, each audited field by field.

        Batches of BATCH rows keep the statements' parameters (and so memory) small, whatever
        the size of the file; held values are plain rows, updated by id and version seen.
        """
        self.session.flush()  # the metrics' audit rows first, as they were made
        batch = _ValueBatch(self.session)
        for row in rows:
            metric = self.held.metrics[row.code.casefold()]
            existing = self.held.values.get((metric.id or 0, row.period.label))
            if existing is None:
                self._created_value(batch, metric, row)
            else:
                self._updated_value(batch, existing, row)
            if batch.size >= BATCH:
                batch.write()
        batch.write()

    def _audit_row(
        self, *, action: str, key: str, name: str = "", old: Any = None, new: Any = None
    ) -> dict[str, Any]:
        return store.audit_row(
            actor=self.actor,
            action=action,
            entity="period_value",
            entity_key=key,
            field_name=name,
            old_value=old,
            new_value=new,
            reason=self.reason,
        )

    def _created_value(self, batch: _ValueBatch, metric: Metric, row: ValueRow) -> None:
        """The new row to insert (none when the row says nothing), audited as created."""
        if not row.fields and row.status is None:
            self.result.values_skipped += 1  # a code and a period with nothing to say
            return
        status = row.status or ApprovalState.SUBMITTED.value
        new = _json({**row.fields, "status": status})
        batch.audits.append(self._audit_row(action="create", key=_value_key(row), new=new))
        self.result.values_created += 1
        now, approved = store.now(), status == ApprovalState.APPROVED
        batch.inserts.append(
            {
                **BLANK_VALUE,
                **row.fields,
                "metric_id": metric.id,
                "period": row.period.label,
                "fiscal_year": row.period.fiscal_year,
                "period_end": row.period.end,
                "status": status,
                "entered_by": self.actor,
                "entered_at": now,
                "approved_by": self.actor if approved else "",  # the importer approved it
                "approved_at": now if approved else None,
                "version": 1,
            }
        )

    def _updated_value(self, batch: _ValueBatch, value: Any, row: ValueRow) -> None:
        """Only the fields that changed; a change with a blank Approval goes back to submitted."""
        changes = _changes(value, row.fields)
        status = row.status or (ApprovalState.SUBMITTED.value if changes else value.status)
        if status != value.status:
            changes["status"] = (value.status, status)
        if not changes:
            self.result.values_unchanged += 1
            return
        approving = changes.get("status", (None, None))[1] == ApprovalState.APPROVED.value
        entering = bool(set(changes) - {"status"})
        if approving and (entering or value.entered_by == self.actor):
            # Raised inside the write transaction, so the whole import still rolls back.
            raise WorkbookError([_self_approval(row)])
        key = _value_key(row)
        batch.audits += [
            self._audit_row(action="import", key=key, name=attribute, old=old, new=new)
            for attribute, (old, new) in changes.items()
        ]
        wanted = {attribute: new for attribute, (_old, new) in changes.items()}
        wanted.update(_approval_stamp(status, self.actor))
        if entering:  # a change of approval alone leaves who entered the value
            wanted.update(entered_by=self.actor, entered_at=store.now())
        batch.updates.append((value.id, value.version, wanted))
        self.result.values_updated += 1


BATCH = 2000  # value rows written per statement


class _ValueBatch:
    """Value rows to insert and update, and their audit rows, written together."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.inserts: list[dict[str, Any]] = []
        self.updates: list[tuple[int, int, dict[str, Any]]] = []
        self.audits: list[dict[str, Any]] = []

    @property
    def size(self) -> int:
        return len(self.inserts) + len(self.updates)

    def write(self) -> None:
        if self.inserts:
            self.session.connection().execute(insert(PeriodValue), self.inserts)
        if self.updates:  # the write lock is held: every version read is still current
            store.versioned_update_many(self.session, PeriodValue, self.updates)
        store.audit_many(self.session, self.audits)
        self.inserts, self.updates, self.audits = [], [], []


def _self_approval(row: ValueRow) -> Problem:
    return Problem(
        VALUES,
        row.row,
        "Approval",
        "the approver must not be the person who entered the value; "
        "ask another officer to import the approval",
    )


def _value_key(row: ValueRow) -> str:
    return f"{row.code}/{row.period.label}"


def _changes(row: Any, wanted: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        attribute: (getattr(row, attribute), new)
        for attribute, new in wanted.items()
        if getattr(row, attribute) != new
    }


def _approval_stamp(status: str, actor: str) -> dict[str, Any]:
    """Approved through a workbook: the importer approved what it wrote. Other states have none."""
    if status == ApprovalState.APPROVED:
        return {"approved_by": actor, "approved_at": store.now()}
    return {"approved_by": "", "approved_at": None}


def _json(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True, default=str, ensure_ascii=False)
