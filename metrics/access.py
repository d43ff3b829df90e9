"""Who may see and do what: roles, service scopes and protective-marking clearance.

Every page and every write asks these functions, on the server; hiding a widget is not a control.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from metrics.models import User
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


def visible_markings(clearance: str) -> list[str]:
    """The markings a clearance may see; an unknown clearance sees only what is unmarked."""
    rank = MARKING_RANK.get(Marking(clearance), 0) if clearance in set(Marking) else 0
    return [marking.value for marking, level in MARKING_RANK.items() if level <= rank]


def effective_marking(marking: str | None) -> str:
    """No marking is OFFICIAL; a marking the app does not know is OFFICIAL-SENSITIVE."""
    if not marking:
        return Marking.OFFICIAL.value
    return marking if marking in set(Marking) else Marking.OFFICIAL_SENSITIVE.value


def may_see(clearance: str, marking: str | None) -> bool:
    """Whether a clearance may see a measure of this marking: the one visibility rule, which
    `queries.visible_to` writes as SQL."""
    return effective_marking(marking) in visible_markings(clearance)


def user_from_row(row: User, services: Iterable[str]) -> CurrentUser | None:
    """The user a row stands for; an inactive one, or a mistyped role or clearance, grants
    nothing rather than crashing."""
    if not row.active or row.role not in set(Role) or row.clearance not in set(Marking):
        return None
    return CurrentUser(
        email=row.email,
        name=row.name,
        role=Role(row.role),
        clearance=Marking(row.clearance),
        services=frozenset(services),
    )


def require_edit(user: CurrentUser, *, service: str | None, marking: str) -> None:
    """A service manager edits only their own services' metrics; nobody edits above clearance."""
    if not may_see(user.clearance, marking):
        raise AccessDenied("You are not cleared to see this measure.")
    if user.role is Role.PERFORMANCE_OFFICER:
        return
    if user.role is not Role.SERVICE_MANAGER:
        raise AccessDenied(f"A {user.role.value} may not change performance data.")
    if service not in user.services:
        own = ", ".join(sorted(user.services)) or "no service yet (ask an administrator)"
        raise AccessDenied(f"You may only enter values for {own}.")


def require_approve(user: CurrentUser, *, marking: str) -> None:
    """Only a performance officer approves or returns values, and only those they may see."""
    if effective_marking(marking) not in visible_markings(user.clearance):
        raise AccessDenied("You are not cleared to see this measure.")
    if user.role is not Role.PERFORMANCE_OFFICER:
        raise AccessDenied(f"A {user.role.value} may not approve or return values.")


def require_targets(user: CurrentUser, *, marking: str) -> None:
    """Targets are set by a performance officer or an administrator, within their clearance."""
    if effective_marking(marking) not in visible_markings(user.clearance):
        raise AccessDenied("You are not cleared to see this measure.")
    if user.role not in (Role.PERFORMANCE_OFFICER, Role.ADMINISTRATOR):
        raise AccessDenied(f"A {user.role.value} may not set targets.")


def require_administer(user: CurrentUser) -> None:
    """Metric templates and closed years are changed by an administrator only."""
    if user.role is not Role.ADMINISTRATOR:
        raise AccessDenied(f"A {user.role.value} may not change metric templates.")


# --- The access table: role x page x action, as data -------------------------------------------

MANAGEMENT, MANAGER, OFFICER, ADMIN, COUNCILLOR = (
    Role.MANAGEMENT_TEAM,
    Role.SERVICE_MANAGER,
    Role.PERFORMANCE_OFFICER,
    Role.ADMINISTRATOR,
    Role.COUNCILLOR,
)
EVERYONE = frozenset(Role)
STAFF = frozenset({MANAGEMENT, MANAGER, OFFICER, ADMIN})  # everyone but councillors


@dataclass(frozen=True)
class Grant:
    """One row of the access table: these roles may do this action on this page."""

    page: str
    action: str
    roles: frozenset[Role]
    why: str = ""


# One row per page and action; a role not named may not. `open` is opening the page at all (the
# navigation lists it); the other actions are what the page offers once open. Pages built
# elsewhere (administration, the public view) add their rows here.
READING = ("dashboard", "priority", "initiative", "service", "team", "metric")
ACCESS: tuple[Grant, ...] = (
    Grant("my_scorecard", "open", frozenset({MANAGER}), "a manager's own services and teams"),
    *(Grant(page, "open", EVERYONE) for page in READING),
    # councillors read the committee's view: statuses from approved values only
    *(Grant(page, "unapproved", STAFF, "the committee sees approved values") for page in READING),
    Grant("metric", "audit", STAFF, "the raw audit trail is for officers, not the committee"),
    Grant("metric", "corrective_action", STAFF, "corrective actions are drafts until published"),
    Grant("my_month", "open", frozenset({MANAGER, OFFICER})),
    Grant("my_month", "enter", frozenset({MANAGER, OFFICER}), "own services only (require_edit)"),
    Grant("approvals", "open", frozenset({OFFICER})),
    Grant("approvals", "approve", frozenset({OFFICER}), "never one's own entry"),
    Grant("data_quality", "open", frozenset({OFFICER, MANAGEMENT})),
    Grant("data_quality", "download", frozenset({OFFICER, MANAGEMENT})),
    Grant("committee", "open", frozenset({OFFICER})),
    Grant("committee", "freeze", frozenset({OFFICER})),
    Grant("committee", "download", frozenset({OFFICER})),
    # administration: every write there is checked again in metrics/admin (require_administer)
    *(
        Grant(page, "open", frozenset({ADMIN}), "templates, the line of sight and users")
        for page in ("admin_measures", "admin_levels", "admin_users", "admin_workbook")
    ),
)
# Where each role lands: the first page of theirs in this order.
LANDING_ORDER = ("my_scorecard", "dashboard")


def allowed(role: Role | str, page: str, action: str = "open") -> bool:
    """Whether the access table lets this role do this action on this page (never for a page or
    action the table does not name)."""
    return any(g.page == page and g.action == action and role in g.roles for g in ACCESS)


def pages_of(role: Role) -> tuple[str, ...]:
    """The pages a role may open, in the table's order (the navigation's order)."""
    return tuple(g.page for g in ACCESS if g.action == "open" and role in g.roles)


def landing(role: Role) -> str:
    """The page a role lands on: a service manager on their own scorecard, everyone else on the
    dashboard."""
    return next(page for page in LANDING_ORDER if allowed(role, page))


def matrix() -> list[tuple[Role, str, str, bool]]:
    """Every cell of the access table: each role against each page and action it names."""
    cells = dict.fromkeys((g.page, g.action) for g in ACCESS)
    return [
        (role, page, action, allowed(role, page, action)) for role in Role for page, action in cells
    ]


def require(user: CurrentUser, page: str, action: str = "open") -> None:
    """AccessDenied unless the access table lets the user's role do this."""
    if not allowed(user.role, page, action):
        raise AccessDenied(f"A {user.role.value} may not {ACTION_WORDS.get(action, action)}.")


ACTION_WORDS = {
    "open": "open this page",
    "audit": "see the audit trail",
    "corrective_action": "see corrective actions",
    "unapproved": "see values not yet approved",
    "enter": "enter values",
    "approve": "approve or return values",
    "download": "download this",
    "freeze": "freeze a committee snapshot",
}


def require_freeze(user: CurrentUser) -> None:
    """Only a performance officer freezes a committee snapshot."""
    if user.role is not Role.PERFORMANCE_OFFICER:
        raise AccessDenied(f"A {user.role.value} may not freeze a committee snapshot.")
