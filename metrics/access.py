"""Who may see and do what: roles, service scopes and protective-marking clearance.

Every page and every write asks these functions, on the server; hiding a widget is not a control.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session, select

from metrics.models import Service, User, UserService
from metrics.vocab import MARKING_RANK, Marking, Role


class AccessDenied(PermissionError):
    """The current user may not do this; the message says what and why."""


@dataclass(frozen=True)
class CurrentUser:
    """The person using the app, as the identity seam resolved them."""

    email: str
    name: str
    role: Role
    clearance: Marking
    services: frozenset[str] = field(default_factory=frozenset)

    @property
    def can_edit_values(self) -> bool:
        return self.role in (Role.SERVICE_MANAGER, Role.PERFORMANCE_OFFICER)

    @property
    def can_approve(self) -> bool:
        return self.role is Role.PERFORMANCE_OFFICER

    @property
    def can_administer(self) -> bool:
        return self.role is Role.ADMINISTRATOR


PUBLIC = CurrentUser(
    email="", name="Public", role=Role.COUNCILLOR, clearance=Marking.NOT_PROTECTIVELY_MARKED
)


def visible_markings(clearance: str) -> list[str]:
    """The markings a clearance may see; an unknown clearance sees only what is unmarked."""
    rank = MARKING_RANK.get(Marking(clearance), 0) if clearance in set(Marking) else 0
    return [marking.value for marking, level in MARKING_RANK.items() if level <= rank]


def effective_marking(marking: str | None) -> str:
    """No marking is OFFICIAL; a marking the app does not know is OFFICIAL-SENSITIVE."""
    if not marking:
        return Marking.OFFICIAL.value
    return marking if marking in set(Marking) else Marking.OFFICIAL_SENSITIVE.value


def load_user(engine: Engine, email: str) -> CurrentUser | None:
    """The active user with this e-mail (case-insensitive), with their service scope."""
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == email.strip().lower())).first()
        if user is None or not user.active:
            return None
        if user.role not in set(Role) or user.clearance not in set(Marking):
            return None  # a mistyped role or clearance grants nothing rather than crashing
        services = session.exec(
            select(Service.name)
            .join(UserService, UserService.service_id == Service.id)
            .where(UserService.user_id == user.id)
        ).all()
    return CurrentUser(
        email=user.email,
        name=user.name,
        role=Role(user.role),
        clearance=Marking(user.clearance),
        services=frozenset(services),
    )


def list_users(engine: Engine) -> list[CurrentUser]:
    """Every active user, for the demo persona picker."""
    with Session(engine) as session:
        emails = session.exec(select(User.email).where(User.active).order_by(User.id)).all()
    return [user for email in emails if (user := load_user(engine, email))]


def require_edit(user: CurrentUser, *, service: str | None, marking: str) -> None:
    """A service manager edits only their own services' metrics; nobody edits above clearance."""
    if effective_marking(marking) not in visible_markings(user.clearance):
        raise AccessDenied("You are not cleared to see this measure.")
    if user.role is Role.PERFORMANCE_OFFICER:
        return
    if user.role is not Role.SERVICE_MANAGER:
        raise AccessDenied(f"A {user.role.value} may not change performance data.")
    if service not in user.services:
        own = ", ".join(sorted(user.services)) or "no service yet (ask an administrator)"
        raise AccessDenied(f"You may only enter values for {own}.")
