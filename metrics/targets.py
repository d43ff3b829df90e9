"""Targets for a year: an annual target profiled over its periods, versioned and audited.

A performance officer (or administrator) sets next year's targets before any actual exists;
each period's target is written onto its value row (created empty if need be), so the rating
rules read it as they read any target.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from sqlalchemy import Engine

from metrics import access, periods, store
from metrics.config import Settings, settings
from metrics.entry import EntryRefused
from metrics.models import PeriodValue, TargetPlan
from metrics.queries import entry as entry_queries
from metrics.validation import Problem
from metrics.vocab import ApprovalState, Frequency


class Profile(StrEnum):
    FLAT = "flat"  # every period has the annual target (a rate, a percentage)
    EVEN = "even"  # an even share of an annual total (a count that adds up over the year)
    CUSTOM = "custom"  # one target per period, as given


def profile(
    kind: Profile | str,
    annual: float | None,
    count: int,
    *,
    custom: Sequence[float] | None = None,
    decimals: int = 0,
) -> list[float | None]:
    """Each period's target: flat repeats the annual target; even shares it out, rounded to the
    metric's decimals with the last period taking the remainder, so the shares add up to it;
    custom is the list given (one per period)."""
    kind = Profile(kind)
    if kind is Profile.CUSTOM:
        return [None if t is None else float(t) for t in (custom or [])]
    if annual is None:
        return [None] * count
    if kind is Profile.FLAT:
        return [float(annual)] * count
    share = round(annual / count, decimals)
    even: list[float | None] = [share] * (count - 1)
    return [*even, round(annual - share * (count - 1), decimals)]


def year_periods(year: str, frequency: str, fy_start: int = 4) -> list[periods.Period]:
    """The periods of a metric's frequency in a financial year (`2017-18`)."""
    whole = periods.parse_for(year, Frequency.ANNUAL, fy_start)
    start = int(whole.fiscal_year[:4])
    if frequency == Frequency.MONTHLY:
        first = periods.month_period(whole.start.year, whole.start.month, fy_start)
        return [periods.shift(first, step, fy_start) for step in range(12)]
    if frequency == Frequency.QUARTERLY:
        return [periods.quarter_period(start, q, fy_start) for q in range(1, 5)]
    return [whole]


def problems_with(
    code: str,
    year: str,
    kind: str,
    lower: list[float | None],
    upper: list[float | None] | None,
    count: int,
    reason: str,
) -> list[Problem]:
    """What is wrong with a profiled year of targets, one problem per field."""
    found = []
    if kind not in set(Profile):
        found.append(Problem(code, year, "profile", f"'{kind}' is not flat, even or custom"))
    if len(lower) != count or any(t is None for t in lower):
        found.append(Problem(code, year, "target", f"give {count} targets, one per period"))
    if upper is not None and (len(upper) != count or any(t is None for t in upper)):
        found.append(Problem(code, year, "target_upper", f"give {count} upper targets"))
    elif upper is not None and any(u < lo for lo, u in zip(lower, upper, strict=False)):  # type: ignore[operator]
        found.append(Problem(code, year, "target_upper", "an upper target is below its target"))
    if not reason.strip():
        found.append(Problem(code, year, "reason", "say why the targets are set or changed"))
    return found


def set_targets(
    engine: Engine,
    *,
    user: access.CurrentUser,
    code: str,
    fiscal_year: str,
    kind: Profile | str,
    annual_target: float | None,
    reason: str,
    seen_version: int,
    annual_target_upper: float | None = None,
    custom: Sequence[float] | None = None,
    custom_upper: Sequence[float] | None = None,
    config: Settings | None = None,
) -> TargetPlan:
    """Set (or change) a metric's targets for a year from its annual target and profile; the
    plan is version-checked (0: none held) and every changed target is audited with the reason."""
    config = config or settings()
    fy_start = config.financial_year_start_month
    with store.write(engine) as session:
        found = entry_queries.metrics_for_entry(session, codes=[code])
        metric = found.get(code.strip().casefold(), (None, ""))[0]
        if metric is None or access.effective_marking(metric.marking) not in (
            access.visible_markings(user.clearance)
        ):
            raise EntryRefused([Problem(code, fiscal_year, "code", "no such measure")])
        access.require_targets(user, marking=metric.marking)
        try:
            span = year_periods(fiscal_year, metric.frequency, fy_start)
        except periods.PeriodError as error:
            raise EntryRefused([Problem(code, fiscal_year, "fiscal_year", str(error))]) from error
        year = span[0].fiscal_year
        band = metric.polarity == "band"
        safe_kind = kind if kind in set(Profile) else Profile.CUSTOM
        lower = profile(
            safe_kind, annual_target, len(span), custom=custom, decimals=metric.decimals
        )
        upper = (
            profile(
                safe_kind,
                annual_target_upper,
                len(span),
                custom=custom_upper,
                decimals=metric.decimals,
            )
            if band
            else None
        )
        problems = problems_with(metric.code, year, str(kind), lower, upper, len(span), reason)
        if year in entry_queries.closed_years(session):
            problems.append(Problem(metric.code, year, "fiscal_year", f"{year} is closed"))
        if problems:
            raise EntryRefused(problems)
        plan = _plan(
            session,
            user,
            metric.id or 0,
            metric.code,
            year,
            seen_version,
            reason,
            {
                "profile": str(kind),
                "annual_target": annual_target,
                "annual_target_upper": annual_target_upper if band else None,
            },
        )
        values = entry_queries.values_for_update(
            session, keys=[(metric.id or 0, p.label) for p in span]
        )
        for index, period in enumerate(span):
            wanted = {"target": lower[index], "target_upper": upper[index] if upper else None}
            held = values.get((metric.id or 0, period.label))
            _period_targets(
                session,
                user,
                metric.id or 0,
                f"{metric.code}/{period.label}",
                period,
                held,
                wanted,
                reason,
            )
        store.bump_data_version(session)
    return plan


def _plan(session, user, metric_id, code, year, seen_version, reason, fields) -> TargetPlan:  # type: ignore[no-untyped-def]
    """Create or version-check-update the year's plan, auditing what changed."""
    plan = entry_queries.target_plan(session, metric_id=metric_id, fiscal_year=year)
    held_version = plan.version if plan else 0
    if held_version != seen_version:
        last = entry_queries.last_change(session, entity="target_plan", entity_key=f"{code}/{year}")
        who = f" by {last.actor} at {last.at:%d %b %Y %H:%M}" if last else ""
        raise store.ConflictError(f"the {year} targets of {code} were changed{who}; reload them")
    stamp = {**fields, "reason": reason.strip(), "set_by": user.email, "set_at": store.now()}
    if plan is None:
        plan = TargetPlan(metric_id=metric_id, fiscal_year=year, version=1, **stamp)
        session.add(plan)
        old: dict[str, object] = {}
    else:
        old = {k: getattr(plan, k) for k in fields}
        session.expunge(plan)  # the UPDATE is the write; this object is just our copy
        store.versioned_update(session, TargetPlan, plan.id or 0, plan.version, **stamp)
        for k, v in stamp.items():
            setattr(plan, k, v)
        plan.version += 1
    for name, new in fields.items():
        if old.get(name) != new:
            store.audit(
                session,
                actor=user.email,
                action="target",
                entity="target_plan",
                entity_key=f"{code}/{year}",
                field_name=name,
                old_value=old.get(name),
                new_value=new,
                reason=reason.strip(),
            )
    return plan


def _period_targets(session, user, metric_id, key, period, held, wanted, reason) -> None:  # type: ignore[no-untyped-def]
    """One period's targets onto its value row (created empty if none), audited."""
    if held is None:
        session.add(
            PeriodValue(
                metric_id=metric_id,
                period=period.label,
                fiscal_year=period.fiscal_year,
                period_end=period.end,
                status=ApprovalState.DRAFT.value,
                **wanted,
            )
        )
        changes = {k: (None, v) for k, v in wanted.items() if v is not None}
    else:
        changes = {k: (getattr(held, k), v) for k, v in wanted.items() if getattr(held, k) != v}
        if changes:
            store.versioned_update(session, PeriodValue, held.id, held.version, **wanted)
    for name, (old, new) in changes.items():
        store.audit(
            session,
            actor=user.email,
            action="target",
            entity="period_value",
            entity_key=key,
            field_name=name,
            old_value=old,
            new_value=new,
            reason=reason.strip(),
        )
