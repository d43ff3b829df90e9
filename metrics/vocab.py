"""The council's vocabulary: every coded value a template, a rule or a page may use."""

from __future__ import annotations

from enum import StrEnum


class Tier(StrEnum):
    CORPORATE_PLAN = "Corporate Plan"
    ME2E = "ME2E"
    SERVICE_STANDARDS = "Service Standards"


class Polarity(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"
    BAND = "band"


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"


class Aggregation(StrEnum):
    SUM = "sum"
    MEAN = "mean"
    LAST = "last"
    RATIO = "ratio"


class Unit(StrEnum):
    PERCENT = "percent"
    NUMBER = "number"
    CURRENCY = "currency"
    DAYS = "days"
    RATIO = "ratio"


class Marking(StrEnum):
    """Government Security Classifications, in increasing order of sensitivity."""

    NOT_PROTECTIVELY_MARKED = "NOT PROTECTIVELY MARKED"
    OFFICIAL = "OFFICIAL"
    OFFICIAL_SENSITIVE = "OFFICIAL-SENSITIVE"


MARKING_RANK = {
    Marking.NOT_PROTECTIVELY_MARKED: 0,
    Marking.OFFICIAL: 1,
    Marking.OFFICIAL_SENSITIVE: 2,
}


class Role(StrEnum):
    MANAGEMENT_TEAM = "Management Team"
    SERVICE_MANAGER = "Service manager"
    PERFORMANCE_OFFICER = "Performance officer"
    ADMINISTRATOR = "Administrator"
    COUNCILLOR = "Councillor"


class ApprovalState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    RETURNED = "returned"


class Status(StrEnum):
    """The status of one metric for one period; the first three are the RAG colours."""

    RED = "Red"
    AMBER = "Amber"
    GREEN = "Green"
    DATA_ONLY = "Data only"
    MISSING = "Missing"
    OVERDUE = "Overdue"


class Direction(StrEnum):
    IMPROVING = "Improving"
    STABLE = "Stable"
    WORSENING = "Worsening"
    NO_COMPARISON = "No comparison"


class RiskLevel(StrEnum):
    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"
    NONE = "Not rated"


class Signal(StrEnum):
    """NHS Making Data Count variation: the XmR chart's reading of a point."""

    TOO_FEW_POINTS = "Too few points"
    COMMON_CAUSE = "Common cause"
    IMPROVING = "Special cause: improving"
    CONCERNING = "Special cause: concerning"
    NEUTRAL = "Special cause: neutral"


class Assurance(StrEnum):
    """NHS Making Data Count assurance: will the process meet its target?"""

    PASSING = "Consistently passing"
    FAILING = "Consistently failing"
    HIT_AND_MISS = "Hit and miss"
    NONE = ""
