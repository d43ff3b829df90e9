"""A small council for the committee tests: a Red that is new, a Red that recovered, an Amber
on its tolerance edge, a negative currency value and an OFFICIAL-SENSITIVE canary."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from metrics import periods, store
from metrics.models import Metric, PeriodValue, Priority, Service

CANARY = "Canary quokka zebra measure"
CANARY_NOTE = "canary commentary xyzzy"
RATED_ON = date(2016, 4, 20)
# When the officer entered the values: fixed, because a snapshot keeps each value's last-updated
# day and a test pins the hash of one (a build stamped with the clock changed it at midnight).
ENTERED_AT = datetime(2016, 4, 4, 9, 30, tzinfo=UTC)

# code -> template fields; values: code -> {period: (actual, target)}
METRICS: dict[str, dict[str, object]] = {
    "CP01": {
        "title": "Household waste recycled",
        "tier": "Corporate Plan",
        "unit": "percent",
        "decimals": 1,
        "aggregation": "mean",
        "risk_impact": 3,
        "marking": "NOT PROTECTIVELY MARKED",
    },
    "CP02": {
        "title": "Net budget variance",
        "tier": "Corporate Plan",
        "unit": "currency",
        "polarity": "lower",
        "aggregation": "last",
        "tolerance": 500.0,
        "tolerance_is_percent": False,
        "marking": "OFFICIAL",
    },
    "ME01": {
        "title": "Days to process a benefit claim",
        "tier": "ME2E",
        "unit": "days",
        "decimals": 1,
        "polarity": "lower",
        "aggregation": "mean",
        "marking": "NOT PROTECTIVELY MARKED",
    },
    "SS01": {
        "title": "Complaints answered on time",
        "tier": "Service Standards",
        "aggregation": "last",
        "marking": "NOT PROTECTIVELY MARKED",
    },
    "SS09": {
        "title": CANARY,
        "tier": "Service Standards",
        "aggregation": "last",
        "marking": "OFFICIAL-SENSITIVE",
    },
}
VALUES: dict[str, dict[str, tuple[float | None, float | None]]] = {
    "CP01": {"2016-02": (47.0, 46.0), "2016-03": (40.0, 46.0)},  # Green, then Red
    "CP02": {"2016-02": (200.0, 0.0), "2016-03": (-1500.0, 0.0)},  # Green both months
    "ME01": {"2016-02": (13.0, 10.0), "2016-03": (8.0, 10.0)},  # Red, then Green
    "SS01": {"2016-02": (100.0, 100.0), "2016-03": (95.0, 100.0)},  # Green, then Amber edge
    "SS09": {"2016-02": (10.0, 100.0), "2016-03": (10.0, 100.0)},  # Red both
}
COMMENTARY = {
    "CP01": "Crews were diverted to the floods.",
    "SS09": CANARY_NOTE,
}


def build(
    engine: Engine, *, text: str | None = None, status: str = "approved", hostile: str = "SS01"
) -> None:
    """The council; `text` (a hostile string) becomes one measure's title, commentary and
    corrective action (SS01's unless `hostile` names another)."""
    with store.write(engine) as session:
        priority = Priority(code="places", name="Places: a clean borough")
        service = Service(code="env", name="Environment")
        session.add_all([priority, service])
        session.flush()
        for code, fields in METRICS.items():
            extra = {"title": text} if text is not None and code == hostile else {}
            metric = Metric(
                code=code,
                priority_id=priority.id if code != "SS01" else None,
                service_id=service.id,
                **{**fields, **extra},
            )
            session.add(metric)
            session.flush()
            for label, (actual, target) in VALUES[code].items():
                period = periods.parse(label)
                note = text if text is not None and code == hostile else COMMENTARY.get(code, "")
                session.add(
                    PeriodValue(
                        metric_id=metric.id,
                        period=label,
                        fiscal_year=period.fiscal_year,
                        period_end=period.end,
                        actual=actual,
                        target=target,
                        commentary=note if label == "2016-03" else "",
                        corrective_action=note if label == "2016-03" else "",
                        status=status,
                        entered_by="officer@council",
                        entered_at=ENTERED_AT,
                    )
                )


def restate(engine: Engine, code: str, period: str, *, actual: float, reason: str) -> None:
    """Change a held actual as data entry does: versioned, audited, data version bumped."""
    with store.write(engine) as session:
        value = session.exec(
            select(PeriodValue)
            .join(Metric, Metric.id == PeriodValue.metric_id)
            .where(Metric.code == code, PeriodValue.period == period)
        ).one()
        store.versioned_update(session, PeriodValue, value.id, value.version, actual=actual)
        store.audit(
            session,
            actor="analyst@council",
            action="update",
            entity="period_value",
            entity_key=f"{code}/{period}",
            field_name="actual",
            old_value=value.actual,
            new_value=actual,
            reason=reason,
        )
        store.bump_data_version(session)


def held_actual(engine: Engine, code: str, period: str) -> float | None:
    with Session(engine) as session:
        return session.exec(
            select(PeriodValue.actual)
            .join(Metric, Metric.id == PeriodValue.metric_id)
            .where(Metric.code == code, PeriodValue.period == period)
        ).one()
