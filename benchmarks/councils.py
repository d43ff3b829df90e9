"""Synthetic councils at the sizes issue 12 names, written in bulk for the benchmarks.

- S: the demo council (`metrics.demo`), 120 measures over two years.
- L: 2,000 measures x 10 years monthly (about 240,000 values).
- XL: 20,000 measures x 10 years (about 2.4 million values), meant for PostgreSQL.

The mix follows the demo's: about 5 % Corporate Plan measures (each serving a priority), 6 %
ME2E measures (each under an initiative), the rest service standards run by teams, two thirds of
them aligned to a measure above; 80 % monthly, 15 % quarterly, 5 % annual; higher, lower and band
polarities; ratio, sum, mean and last aggregations; 5 % data only. Every value is approved, and
the values wander around their targets, so every status occurs; most values off target carry
commentary, as the entry rules ask, and one in twenty of the others.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import islice

from sqlalchemy import Engine, insert, text

from metrics import demo, periods, store
from metrics.models import (
    Initiative,
    InitiativePriority,
    Metric,
    PeriodValue,
    Priority,
    Service,
    Team,
    User,
)

SIZES = {"S": 120, "L": 2_000, "XL": 20_000}  # measures; S is the demo council itself
YEARS = 10
LAST_YEAR = 2016  # the demo's last financial year, 2016-17: the benchmarks rate March 2017
FREQUENCIES = ["monthly"] * 16 + ["quarterly"] * 3 + ["annual"]
SHAPES = [  # polarity, unit, aggregation
    ("higher", "percent", "ratio"),
    ("lower", "days", "mean"),
    ("higher", "number", "sum"),
    ("band", "percent", "last"),
    ("lower", "currency", "sum"),
    ("higher", "percent", "last"),
]
DIRECTOR = "director@demo.melburyvale.gov.uk"
REASONS = [
    "Staff vacancies in the team; two posts filled from next month.",
    "Seasonal demand over the winter, as in earlier years.",
    "System migration delayed recording; figures will be restated.",
    "New contract bedding in; the supplier has a recovery plan.",
    "Higher than expected demand after the policy change.",
]
CHUNK = 20_000  # rows an INSERT carries: bounded memory, few round trips


def build(engine: Engine, size: str, *, seed: int = 12) -> int:
    """Fill an empty, migrated database with a council of `size` (S, L or XL); its value count."""
    if size == "S":
        demo.load_demo(engine)
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM period_value")).scalar_one())
    rng = random.Random(seed)
    measures = SIZES[size]
    with engine.begin() as connection:
        structure = _structure(connection, measures)
        metric_rows = list(_metrics(measures, structure, rng))
        for chunk in _chunks(iter(metric_rows)):
            connection.execute(insert(Metric), chunk)
        ids = dict(connection.execute(text("SELECT code, id FROM metric")).tuples().all())
        _align(connection, metric_rows, ids, rng)
        written = 0
        for chunk in _chunks(_values(metric_rows, ids, rng)):
            connection.execute(insert(PeriodValue), chunk)
            written += len(chunk)
        # The demo's director, so that the app's demo persona can read the council.
        connection.execute(
            insert(User),
            [
                {
                    "email": DIRECTOR,
                    "name": "Demo Director",
                    "role": "Management Team",
                    "clearance": "OFFICIAL-SENSITIVE",
                }
            ],
        )
        connection.execute(text("UPDATE data_version SET version = version + 1"))
    return written


def _structure(connection, measures: int) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    """Priorities, initiatives (each serving two priorities), services and their teams."""
    scale = max(1, measures // 2_000)
    counts = {"priority": 6, "initiative": 20 * scale, "service": 15 * scale}
    connection.execute(
        insert(Priority),
        [{"code": f"p{n}", "name": f"Priority {n}", "sort_order": n} for n in range(6)],
    )
    connection.execute(
        insert(Initiative),
        [{"code": f"i{n}", "name": f"Initiative {n}"} for n in range(counts["initiative"])],
    )
    connection.execute(
        insert(Service),
        [{"code": f"s{n}", "name": f"Service {n}"} for n in range(counts["service"])],
    )
    ids = {
        kind: [row[0] for row in connection.execute(text(f"SELECT id FROM {kind} ORDER BY id"))]
        for kind in ("priority", "initiative", "service")
    }
    connection.execute(
        insert(InitiativePriority),
        [
            {"initiative_id": initiative, "priority_id": ids["priority"][(n + step) % 6]}
            for n, initiative in enumerate(ids["initiative"])
            for step in (0, 1)
        ],
    )
    connection.execute(
        insert(Team),
        [
            {"code": f"s{n}/t{t}", "name": f"Team {t} of service {n}", "service_id": service}
            for n, service in enumerate(ids["service"])
            for t in range(4)
        ],
    )
    ids["team"] = [row[0] for row in connection.execute(text("SELECT id FROM team ORDER BY id"))]
    return ids


def _metrics(measures: int, ids: dict[str, list[int]], rng: random.Random) -> Iterator[dict]:
    """One row per measure: tier, line of sight, shape, frequency."""
    for number in range(measures):
        share = number / measures
        tier = "Corporate Plan" if share < 0.05 else "ME2E" if share < 0.11 else "Service Standards"
        polarity, unit, aggregation = SHAPES[number % len(SHAPES)]
        team = rng.choice(ids["team"])
        yield {
            "code": f"{'CP' if tier == 'Corporate Plan' else 'ME' if tier == 'ME2E' else 'SS'}"
            f"{number:05d}",
            "title": f"Synthetic measure {number}",
            # As long as a real council's definition is (what is counted, from where, and what is
            # not), so a page that read every one would pay for it here too. Built from the
            # number alone: the generator's random sequence, and so the council, is unchanged.
            "definition": (
                f"Cases of kind {number % 97} closed by the owning team in the period, counted"
                " from the case management system on the last working day of the period; the"
                " denominator is every case of that kind opened in it. Excludes cases withdrawn"
                " by the customer and cases passed to another service before the deadline."
            ),
            "tier": tier,
            "priority_id": rng.choice(ids["priority"]) if tier != "Service Standards" else None,
            "initiative_id": rng.choice(ids["initiative"]) if tier == "ME2E" else None,
            "service_id": ids["service"][(team - ids["team"][0]) // 4],
            "team_id": team,
            "polarity": polarity,
            "unit": unit,
            "decimals": 1,
            "aggregation": aggregation,
            "frequency": rng.choice(FREQUENCIES),
            "risk_impact": rng.randint(1, 3),
            "data_only": rng.random() < 0.05 and tier == "Service Standards",
            "marking": "OFFICIAL-SENSITIVE" if rng.random() < 0.03 else "OFFICIAL",
        }


def _align(connection, rows: list[dict], ids: dict[str, int], rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    """Two thirds of the service standards align to a Corporate Plan or ME2E measure."""
    above = [ids[row["code"]] for row in rows if row["tier"] != "Service Standards"]
    pairs = [
        {"aligned": rng.choice(above), "id": ids[row["code"]]}
        for row in rows
        if row["tier"] == "Service Standards" and rng.random() < 2 / 3
    ]
    if pairs:
        connection.execute(text("UPDATE metric SET aligned_to_id = :aligned WHERE id = :id"), pairs)


def _values(rows: list[dict], ids: dict[str, int], rng: random.Random) -> Iterator[dict]:
    """Ten financial years of approved values per measure, wandering around a steady target."""
    stamp = datetime(2017, 4, 10, 9, 0, tzinfo=UTC)
    for row in rows:
        frequency = row["frequency"]
        first = {
            "monthly": periods.month_period(LAST_YEAR - YEARS + 1, 4),
            "quarterly": periods.quarter_period(LAST_YEAR - YEARS + 1, 1),
            "annual": periods.year_period(LAST_YEAR - YEARS + 1),
        }[frequency]
        target = 80.0 if row["unit"] == "percent" else float(rng.randint(20, 500))
        level = target * rng.uniform(0.85, 1.1)
        for step in range(periods.per_year(frequency) * YEARS):
            period = periods.shift(first, step)
            # Mean-reverting, so a decade of values stays near its target as real ones do.
            level = max(target + 0.8 * (level - target) + rng.gauss(0, target * 0.06), 0.0)
            denominator = float(rng.randint(200, 400))
            ratio = row["aggregation"] == "ratio"
            # Most values off target carry a reason, as the entry rules ask; a few others do.
            said = rng.random() < (0.8 if _off_target(row["polarity"], level, target) else 0.05)
            yield {
                "metric_id": ids[row["code"]],
                "period": period.label,
                "fiscal_year": period.fiscal_year,
                "period_end": period.end,
                "actual": round(min(level, 100.0) if ratio else level, 1),
                "numerator": round(min(level, 100.0) * denominator / 100) if ratio else None,
                "denominator": denominator if ratio else None,
                "target": None if row["data_only"] else target,
                "target_upper": target * 1.1 if row["polarity"] == "band" else None,
                "commentary": rng.choice(REASONS) if said else "",
                "status": "approved",
                "entered_by": "benchmark",
                "entered_at": stamp,
                "approved_by": "benchmark",
                "approved_at": stamp,
            }


def _off_target(polarity: str, level: float, target: float) -> bool:
    """Worse than the target by more than 5 %, roughly what the rules rate Red or Amber."""
    if polarity == "higher":
        return level < target * 0.95
    if polarity == "lower":
        return level > target * 1.05
    return not target * 0.95 <= level <= target * 1.1 * 1.05


def _chunks(rows: Iterator[dict]) -> Iterator[list[dict]]:
    while chunk := list(islice(rows, CHUNK)):
        yield chunk


def new_council(url: str, size: str) -> tuple[Engine, int]:
    """A migrated database at `url` holding a council of `size`, and its value count."""
    engine = store.make_engine(url)
    store.upgrade(engine)
    return engine, build(engine, size)
