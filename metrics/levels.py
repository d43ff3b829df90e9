"""Priorities, initiatives, services and teams found by name, and created when new.

The workbook import and the demo council both name the levels of the line of sight in words
("Housing", "Housing Options"); this is the one place that turns a name into a row, inside the
caller's write transaction, auditing each row it creates.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlmodel import Session, SQLModel

from metrics import store
from metrics.models import Initiative, InitiativePriority, Priority, Service, Team
from metrics.names import CODE_LIMIT, fold, slug
from metrics.queries import workbook as reads

# Each kind of level, and the word an import's summary counts it by.
KINDS: dict[type[SQLModel], str] = {
    Priority: "priorities",
    Initiative: "initiatives",
    Service: "services",
    Team: "teams",
}
TEAM_CODE_LIMIT = 80  # a team's code is its service's code, "/", then its own


class Levels:
    """The levels held, by name; `find` creates a missing one, `link` records a delivery."""

    def __init__(self, session: Session, *, actor: str, reason: str) -> None:
        self.session, self.actor, self.reason = session, actor, reason
        self.rows: dict[type[SQLModel], list[Any]] = {
            model: reads.rows_of(session, model=model) for model in KINDS
        }
        self.links = reads.delivery_links(session)
        self.created: Counter[str] = Counter()  # "priorities", ..., "links" -> rows created

    def find(self, model: type[SQLModel], name: str, **scope: Any) -> Any:
        """The row with this name (in any case and spacing) within the scope; created if new."""
        for row in self.rows[model]:
            in_scope = all(getattr(row, key) == value for key, value in scope.items())
            if in_scope and fold(row.name) == fold(name):
                return row
        code = self._code(model, name, scope)
        row = model(code=code, name=name, **scope)
        self.session.add(row)
        self.session.flush()  # the new id is needed by the metric that names it
        self.rows[model].append(row)
        self.created[KINDS[model]] += 1
        self._audit(entity=str(model.__tablename__), key=code, new=name)
        return row

    def code_for(self, model: type[SQLModel], name: str, **scope: Any) -> str:
        """The code a new row of this name would get (an administrator's form uses it too)."""
        return self._code(model, name, scope)

    def _code(self, model: type[SQLModel], name: str, scope: dict[str, Any]) -> str:
        """The slug of the name (a team's behind its service's), unique among its kind.

        Two names with one slug ("Customer Services", "Customer-Services") are two rows: the
        second gets "-2", rather than being merged silently with the first.
        """
        code = slug(name)
        if model is Team:
            service = next(s for s in self.rows[Service] if s.id == scope["service_id"])
            code = f"{service.code}/{code}"
        taken = {row.code for row in self.rows[model]}
        limit = TEAM_CODE_LIMIT if model is Team else CODE_LIMIT
        unique, number = code[:limit], 1
        while unique in taken:
            number += 1
            unique = f"{code[: limit - len(str(number)) - 1]}-{number}"
        return unique

    def link(self, initiative: Initiative, priority: Priority) -> None:
        """Record, once, that the initiative delivers the priority."""
        assert initiative.id is not None and priority.id is not None  # both flushed when found
        if (initiative.id, priority.id) in self.links:
            return
        self.session.add(InitiativePriority(initiative_id=initiative.id, priority_id=priority.id))
        self.links.add((initiative.id, priority.id))
        self.created["links"] += 1
        self._audit(entity="initiative_priority", key=f"{initiative.code}/{priority.code}")

    def name_of(self, model: type[SQLModel], row_id: int | None) -> str | None:
        """The name of the row with this id, or None."""
        return next((row.name for row in self.rows[model] if row.id == row_id), None)

    def _audit(self, *, entity: str, key: str, new: str | None = None) -> None:
        store.audit(
            self.session,
            actor=self.actor,
            action="create",
            entity=entity,
            entity_key=key,
            new_value=new,
            reason=self.reason,
        )
