"""Service managers enter their month: save drafts, see the status a value would get, submit.

Every write checks who is writing, takes the write lock, compares the version the user saw,
validates on the server and audits each changed field (STYLE.md, "A write checks who, locks,
compares, audits"). Refused input changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session

from metrics import access, entry_writes, periods, store, validation
from metrics.config import Settings, settings
from metrics.entry_checks import checked_frame
from metrics.entry_checks import preview as preview  # the pages call entry.preview
from metrics.entry_checks import preview_typed as preview_typed
from metrics.entry_writes import update_values
from metrics.models import Metric, PeriodValue
from metrics.queries import entry as entry_queries
from metrics.vocab import Aggregation, ApprovalState

VALUE_FIELDS = ("actual", "numerator", "denominator", "commentary", "corrective_action")


class EntryRefused(ValueError):
    """Some entries broke a rule; each problem names the measure, period and field."""

    def __init__(self, problems: Sequence[validation.Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class ValueConflict(store.ConflictError):
    """Somebody changed the value since the user opened it: who, when and to what."""

    def __init__(
        self,
        *,
        code: str,
        period: str,
        changed_by: str,
        changed_at: datetime | None,
        changed_to: dict[str, object],
        version: int,
    ) -> None:
        self.code, self.period, self.version = code, period, version
        self.changed_by, self.changed_at, self.changed_to = changed_by, changed_at, changed_to
        when = f" at {changed_at:%d %b %Y %H:%M}" if changed_at else ""
        super().__init__(
            f"{code} {periods.spoken(period)} was changed by {changed_by or 'someone else'}{when} "
            f"(actual now {changed_to.get('actual')}); your typed value is kept: "
            "reload to see their change, then save again"
        )


@dataclass(frozen=True)
class Entry:
    """What a user typed for one measure and period, and the version they saw (0: none held)."""

    code: str
    period: str
    seen_version: int
    actual: object = None
    numerator: object = None
    denominator: object = None
    commentary: str = ""
    corrective_action: str = ""
    outlier_note: str = ""
    reason: str = ""  # needed to change an approved value


@dataclass
class Held:
    """One entry with what the database holds for it, read under the write lock."""

    entry: Entry
    metric: Metric
    period: periods.Period
    value: PeriodValue | None
    checks: dict[str, object] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.metric.code}/{self.period.label}"


def save_value(
    engine: Engine,
    *,
    user: access.CurrentUser,
    entry: Entry,
    today: date | None = None,
    config: Settings | None = None,
) -> PeriodValue:
    """Save one draft value the user may enter; refuse a stale edit instead of overwriting."""
    return save_month(engine, user=user, entries=[entry], today=today, config=config)[0]


def save_month(
    engine: Engine,
    *,
    user: access.CurrentUser,
    entries: Sequence[Entry],
    today: date | None = None,
    config: Settings | None = None,
) -> list[PeriodValue]:
    """Save many entries (a team's month) all or nothing: scope, versions, then every rule.

    The rules are checked first, on a plain read, so the write lock is held only to check the
    scope and the versions again, then write: a value still at the version the user saw is the
    value the rules were checked on (only a year closed in between is looked at again).
    """
    config, today = config or settings(), today or date.today()
    with Session(engine) as session:
        held = hold(session, user, entries, config)
        frame = checked_frame(session, held, today, config)
    problems = validation.check(frame, rules=config.entry) + _reasons_missing(held)
    if problems:
        raise EntryRefused(problems)
    return commit_checked(engine, user=user, checked=checked_values(entries, frame), config=config)


@dataclass(frozen=True)
class Checked:
    """An entry that passed every rule, with the numbers to store."""

    entry: Entry
    actual: float | None
    numerator: float | None
    denominator: float | None
    outlier: bool


def checked_values(entries: Sequence[Entry], frame: pd.DataFrame) -> list[Checked]:
    """What to store for each entry, from its checked row."""
    outside = (frame["value"] < frame["lower_limit"]) | (frame["value"] > frame["upper_limit"])
    columns = zip(frame["value"], frame["numerator"], frame["denominator"], outside, strict=True)
    return [
        Checked(e, _float(value), _float(numerator), _float(denominator), bool(o))
        for e, (value, numerator, denominator, o) in zip(entries, columns, strict=True)
    ]


def commit_checked(
    engine: Engine, *, user: access.CurrentUser, checked: Sequence[Checked], config: Settings
) -> list[PeriodValue]:
    """The write of a save, for entries `save_month` has checked: under the write lock, the
    scope and every version again, the year still open, a reason for an approved value; then
    each changed field written and audited. All or nothing."""
    entries = [c.entry for c in checked]
    with store.write(engine) as session:
        held = hold(session, user, entries, config)
        problems = _still_open(session, held) + _reasons_missing(held)
        if problems:
            raise EntryRefused(problems)
        saved = entry_writes.write_checked(session, user, held, checked)
        store.bump_data_version(session)
    return saved


def _reasons_missing(held: list[Held]) -> list[validation.Problem]:
    """An approved value changes only with a reason (checked before and under the lock)."""
    return [
        _problem(h, "reason", "an approved value changes only with a reason; say why")
        for h in held
        if h.value and h.value.status == ApprovalState.APPROVED and not h.entry.reason.strip()
    ]


def submit(
    engine: Engine,
    *,
    user: access.CurrentUser,
    seen: Mapping[tuple[str, str], int],
    today: date | None = None,
    config: Settings | None = None,
) -> int:
    """Submit the held values (code, period) -> seen version for approval: a team or a month
    at once, all or nothing, each checked by the same rules as a save. Returns how many."""
    config, today = config or settings(), today or date.today()
    stored = [Entry(code, period, version) for (code, period), version in seen.items()]
    with Session(engine) as session:  # checked on a plain read, as a save is
        held = [replace(h, entry=_as_typed(h)) for h in hold(session, user, stored, config)]
        frame = checked_frame(session, held, today, config)
    with store.write(engine) as session:
        held = hold(session, user, stored, config)
        problems = validation.check(frame, rules=config.entry) + _still_open(session, held)
        for h in held:
            state = h.value.status if h.value else ApprovalState.DRAFT.value
            if h.value is None or h.value.actual is None:
                problems.append(_problem(h, "actual", "enter a value before submitting it"))
            elif state not in (ApprovalState.DRAFT, ApprovalState.RETURNED):
                problems.append(_problem(h, "approval", f"is already {state}"))
        if problems:
            raise EntryRefused(problems)
        submitted = {"status": ApprovalState.SUBMITTED.value, "submitted_at": store.now()}
        cleared = {"return_reason": ""}  # a returned value's reason goes once it is resubmitted
        changes = [
            (h, submitted | (cleared if h.value and h.value.return_reason else {})) for h in held
        ]
        update_values(
            session,
            user,
            changes,
            reason="submitted for approval",
            action="submit",
        )
        store.bump_data_version(session)
    return len(held)


def _still_open(session: Session, held: list[Held]) -> list[validation.Problem]:
    """The closed-year rule again, under the write lock."""
    closed = entry_queries.closed_years(session)
    return [
        _problem(h, "period", f"the year {h.period.fiscal_year} is closed")
        for h in held
        if h.period.fiscal_year in closed
    ]


def _problem(h: Held, name: str, message: str) -> validation.Problem:
    return validation.Problem(h.metric.code, h.period.label, name, message)


def _as_typed(h: Held) -> Entry:
    """A held value as if typed again, so a submission is checked exactly as a save is."""
    value = h.value
    if value is None:
        return h.entry
    ratio = h.metric.aggregation == Aggregation.RATIO.value
    return replace(
        h.entry,
        actual=None if ratio else value.actual,
        numerator=value.numerator,
        denominator=value.denominator,
        commentary=value.commentary,
        corrective_action=value.corrective_action,
        outlier_note=value.outlier_note,
    )


def may_edit(user: access.CurrentUser, service: str | None, marking: str) -> None:
    """The scope check of a save or a submission."""
    access.require_edit(user, service=service, marking=marking)


def hold(
    session: Session,
    user: access.CurrentUser,
    entries: Sequence[Entry],
    config: Settings,
    require: Callable[[access.CurrentUser, str | None, str], None] = may_edit,
) -> list[Held]:
    """Each entry's metric, period and held value; unknown codes and periods are refused, a
    measure outside the user's scope is denied (`require`), and a stale version conflicts."""
    fy_start = config.financial_year_start_month
    metrics = entry_queries.metrics_for_entry(session, codes=[e.code for e in entries])
    problems, found = [], []
    for e in entries:
        metric, service = metrics.get(e.code.strip().casefold(), (None, ""))
        visible = metric and access.effective_marking(metric.marking) in access.visible_markings(
            user.clearance
        )
        if not metric or not visible:  # a measure the user may not see reads as unknown
            problems.append(validation.Problem(e.code, e.period, "code", "no such measure"))
            continue
        require(user, service or None, metric.marking)
        try:
            period = periods.parse_for(e.period, metric.frequency, fy_start)
        except periods.PeriodError as error:
            problems.append(validation.Problem(metric.code, e.period, "period", str(error)))
            continue
        found.append((e, metric, period))
    if problems:
        raise EntryRefused(problems)
    values = entry_queries.values_for_update(
        session, keys=[(m.id or 0, p.label) for _, m, p in found]
    )
    held = [Held(e, m, p, values.get((m.id or 0, p.label))) for e, m, p in found]
    for h in held:
        _check_version(session, h)
    return held


def _check_version(session: Session, h: Held) -> None:
    """The version the user saw must be the one held; else say who changed it, when, to what."""
    held_version = h.value.version if h.value else 0
    if h.entry.seen_version == held_version:
        return
    last = entry_queries.last_change(session, entity="period_value", entity_key=h.key)
    value = h.value
    raise ValueConflict(
        code=h.metric.code,
        period=h.period.label,
        changed_by=last.actor if last else (value.entered_by if value else ""),
        changed_at=last.at if last else (value.entered_at if value else None),
        changed_to={f: getattr(value, f) for f in (*VALUE_FIELDS, "status")} if value else {},
        version=held_version,
    )


def _float(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]
