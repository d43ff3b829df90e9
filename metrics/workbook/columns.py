"""The template workbook's sheets and columns, as data: what each column means and allows.

`docs/template-workbook.md` describes the same columns for the people who fill them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from metrics.names import CODE_LIMIT
from metrics.vocab import Aggregation, ApprovalState, Frequency, Marking, Polarity, Tier, Unit

INSTRUCTIONS, METRICS, VALUES = "Instructions", "Metrics", "Values"
LIMITS = {
    "code": CODE_LIMIT,
    "title": 300,
    "name": 200,
    "source": 500,
    "long": 4000,
    "email": 320,  # RFC 5321: 64 for the mailbox, 255 for the domain, and the @
}


@dataclass(frozen=True)
class Column:
    """One recognised column: its header, whether it must be filled, and what it means."""

    name: str
    meaning: str
    required: bool = False
    choices: tuple[str, ...] = ()
    width: int = 16


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


METRIC_COLUMNS = (
    Column("Code", "Unique code, e.g. CP03, ME12, SS-HOU-04: letters, digits, . _ -", True),
    Column("Title", "What the measure is called.", True, width=40),
    Column("Definition", "How it is counted: what is in and what is out.", width=50),
    Column("Tier", "Its place in the line of sight.", True, _values(Tier), 18),
    Column(
        "Priority", "The Corporate Plan priority it serves, by name (created if new).", width=28
    ),
    Column(
        "Initiative",
        "The ME2E initiative, by name (created if new). On an ME2E row that also names a "
        "Priority, records that the initiative delivers that priority.",
        width=28,
    ),
    Column("Service", "The owning service, by name (created if new).", width=24),
    Column("Team", "The owning team, by name, within the Service on the same row.", width=24),
    Column("Aligned to", "Code of the metric this one is aligned to (here or already held)."),
    Column("Unit", "What a value counts.", True, _values(Unit)),
    Column("Decimals", "Decimal places shown; blank = {decimals}.", width=10),
    Column(
        "Polarity", "higher or lower is better, or band: inside a range.", True, _values(Polarity)
    ),
    Column("Frequency", "How often it is reported.", True, _values(Frequency)),
    Column(
        "Aggregation",
        "Year to date: sum, mean, last, or ratio of summed numerators and denominators; "
        "blank = {aggregation_percent} for a percent, else {aggregation_number}.",
        choices=_values(Aggregation),
    ),
    Column(
        "Tolerance",
        "The amber band: 5% is a percent of the target, 2.5 an absolute amount; blank = "
        "{default_tolerance_percent:g}% of the target.",
        width=12,
    ),
    Column("Risk impact", "1 low, 2 medium, 3 high; blank = {risk_impact}.", width=12),
    Column(
        "Marking",
        "Protective marking; blank = {marking} for a new measure, and no change for one "
        "already held. Only an administrator may lower a marking, by writing the new one.",
        choices=_values(Marking),
        width=26,
    ),
    Column(
        "Data only",
        "yes for a contextual measure with no target; blank = no.",
        choices=("yes", "no"),
        width=11,
    ),
    Column("Responsible officer", "Who answers for it (a role, not a name).", width=24),
    Column("Data source", "Where the figures come from.", width=24),
    Column("Baseline", "The starting value, for context.", width=12),
    Column(
        "Active from",
        "The first month it is reported, e.g. 2015-04 (or a quarter or year).",
        width=13,
    ),
    Column(
        "Active to",
        "The last month it is reported (a quarter or year means its last month).",
        width=13,
    ),
    Column("Definition version", "Raise it when the definition changes; blank = 1.", width=12),
    Column(
        "Responsible e-mail",
        "Where reminders of its overdue values go: a person or a team mailbox.",
        width=30,
    ),
)

VALUE_COLUMNS = (
    Column("Code", "The metric's code, as in the Metrics sheet or already held.", True),
    Column(
        "Period",
        "A month 2015-04, a quarter 2015-16 Q1 (or 2015-16;Q1) or a year 2015-16, matching "
        "the metric's frequency; a date stands for its month.",
        True,
        width=14,
    ),
    Column(
        "Actual", "The value for the period; blank with Numerator and Denominator = their ratio."
    ),
    Column("Numerator", "For a ratio measure: the count on top."),
    Column("Denominator", "For a ratio measure: the count below (never 0)."),
    Column("Target", "The target for the period (the lower end of a band)."),
    Column("Target upper", "The upper end of the target range, for band polarity only."),
    Column("Commentary", "What lies behind the figure.", width=50),
    Column("Corrective action", "What is being done about it.", width=40),
    Column(
        "Approval",
        "draft, submitted, approved or returned; blank = submitted.",
        choices=_values(ApprovalState),
        width=12,
    ),
)

SHEETS = {METRICS: METRIC_COLUMNS, VALUES: VALUE_COLUMNS}

NUMBER_COLUMNS = {
    "Actual": "actual",
    "Numerator": "numerator",
    "Denominator": "denominator",
    "Target": "target",
    "Target upper": "target_upper",
}
TEXT_COLUMNS = {"Commentary": "commentary", "Corrective action": "corrective_action"}
