"""A measure's settings, its audit trail and any table's periods and dates in plain words: the
council's language ("March 2017", "Q4 2016-17", "18 April 2017") instead of stored codes. Pure:
values in, text out; `display.py` holds the tables for reading that use them.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping

import numpy as np
import pandas as pd

from metrics import periods
from metrics.explain import POLARITY_PHRASE

UNIT_WORDS = {
    "percent": "Percentage",
    "number": "Number",
    "currency": "Money (£)",
    "days": "Days",
    "ratio": "Ratio",
}
AGGREGATION_WORDS = {
    "sum": "added up over the year so far",
    "mean": "the average of the year's periods so far",
    "last": "the latest period's value",
    "ratio": "the year's numerators added up, divided by its denominators added up",
}
RISK_IMPACT_WORDS = {1: "1 (low)", 2: "2 (medium)", 3: "3 (high)"}
# The words a reader sees for a measure's fields (and an audit row's); others are capitalised.
FIELD_WORDS = {
    "decimals": "Shown to",
    "aggregation": "Year to date",
    "aligned_to": "Aligned to",
    "data_only": "Data only (no target)",
    "tolerance_is_percent": "Tolerance as a percentage of the target",
    "marking": "Protective marking",
    "team": "Owning team",
    "ytd": "Year to date",
    "status": "Approval",
    "sort_order": "Order in the plan",
}
DEFINITION_FIELDS = [
    "definition",
    "tier",
    "team",
    "service",
    "responsible_officer",
    "unit",
    "decimals",
    "polarity",
    "frequency",
    "aggregation",
    "tolerance",
    "risk_impact",
    "marking",
    "data_only",
    "active_from",
    "active_to",
]


def field_word(name: object) -> str:
    """A field as the reader says it: 'aligned_to' is 'Aligned to'; none is '–'."""
    if _blank(name):
        return "–"
    text = str(name)
    return FIELD_WORDS.get(text, text.replace("_", " ").capitalize())


def _blank(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, float) and np.isnan(value))


def in_words(
    frame: pd.DataFrame,
    *,
    period_columns: Collection[str] = ("period",),
    day_columns: Collection[str] = (),
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """A table as the council reads it, its rows in the order given (sort first: 'April 2016'
    sorts after 'August 2016'): periods spoken ('Q4 2016-17'), dates as days ('12 August
    2016'), an empty text cell as '–', the columns renamed to `names`."""
    out = frame.copy()
    for column in out.select_dtypes(include=["object", "string"]).columns:
        out[column] = out[column].where(out[column].notna(), "–")
    for column in set(period_columns) & set(out.columns):
        out[column] = periods.spoken_each(out[column])
    for column in set(day_columns) & set(out.columns):
        out[column] = out[column].map(periods.day_text)
    return out.rename(columns=dict(names or {}))


def setting_text(name: str, value: object) -> str:
    """One setting of a measure in plain words: 'higher is better', '1 decimal place', 'Yes'."""
    if _blank(value):
        return "–"
    if isinstance(value, bool | np.bool_):
        return "Yes" if value else "No"
    words: dict[str, dict] = {
        "unit": UNIT_WORDS,
        "aggregation": AGGREGATION_WORDS,
        "polarity": POLARITY_PHRASE,
        "risk_impact": RISK_IMPACT_WORDS,
    }
    if name in words:
        key = int(value) if name == "risk_impact" else str(value)  # type: ignore[call-overload]
        said = words[name].get(key, str(value))
        return said[:1].upper() + said[1:]
    if name == "decimals":
        places = int(value)  # type: ignore[call-overload]
        return "whole numbers" if places == 0 else f"{places} decimal place{'s' * (places != 1)}"
    if name == "frequency":
        return str(value).capitalize()
    if name in ("active_from", "active_to", "period"):
        return periods.spoken(value)
    return str(value)


def definition_table(template: dict[str, object], default_tolerance: float) -> pd.DataFrame:
    """A measure's template as Field and Value rows, every setting in plain words."""
    tolerance = template.get("tolerance")
    shown = {name: setting_text(name, template.get(name)) for name in DEFINITION_FIELDS}
    if _blank(tolerance):
        shown["tolerance"] = f"{default_tolerance:g} % of the target (the council's default)"
    elif template.get("tolerance_is_percent"):
        shown["tolerance"] = f"{float(tolerance):g} % of the target"  # type: ignore[arg-type]
    return pd.DataFrame(
        {"Field": [field_word(n) for n in DEFINITION_FIELDS], "Value": list(shown.values())}
    )


ACTION_WORDS = {
    "create": "Created",
    "update": "Changed",
    "enter": "Entered",
    "submit": "Submitted",
    "approve": "Approved",
    "return": "Returned",
    "realign": "Realigned",
    "retire": "Retired",
    "target": "Target set",
    "template": "Definition changed",
}


def audit_value(field: object, value: object) -> str:
    """An audit row's old or new value in plain words; a record of many fields (a "create")
    as 'Actual: 76.4; Target: 92.0', its empty fields left out."""
    if _blank(value):
        return "–"
    text = str(value)
    if text.startswith("{"):
        try:
            record = json.loads(text)
        except ValueError:
            return text
        if isinstance(record, dict):
            return "; ".join(
                f"{field_word(k)}: {setting_text(k, v)}"
                for k, v in sorted(record.items())
                if not _blank(v)
            )
    return setting_text(str(field), value) if not _blank(field) else text


def audit_table(trail: pd.DataFrame) -> pd.DataFrame:
    """An audit trail (at, actor, action, period, field_name, old_value, new_value, reason) for
    reading: dates as '30 November 2026, 17:35', periods as 'March 2017', fields and values in
    words, and '–' where there is nothing."""
    frame = trail.reset_index(drop=True)
    return pd.DataFrame(
        {
            "When": [periods.day_text(at) for at in frame["at"]],
            "Who": frame["actor"].map(lambda v: "–" if _blank(v) else str(v)),
            "Action": frame["action"].map(lambda a: ACTION_WORDS.get(str(a), field_word(a))),
            "Period": frame["period"].map(
                lambda p: "Definition" if _blank(p) else periods.spoken(p)
            ),
            "Field": frame["field_name"].map(field_word),
            "Old value": [
                audit_value(f, v)
                for f, v in zip(frame["field_name"], frame["old_value"], strict=True)
            ],
            "New value": [
                audit_value(f, v)
                for f, v in zip(frame["field_name"], frame["new_value"], strict=True)
            ],
            "Why": frame["reason"].map(lambda v: "–" if _blank(v) else str(v)),
        },
        index=frame.index,
    )
