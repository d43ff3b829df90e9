"""The glue of the measures page: the template table and the forms that add, change and retire
a measure. The fields are read in the domain (`metrics.admin`) by the workbook's own checks."""

from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from metrics import admin
from metrics.access import CurrentUser
from metrics.periods import spoken
from metrics.vocab import Aggregation, Frequency, Marking, Polarity, Tier, Unit
from pages._ui.admin import act, live_codes, prefill, save_buttons, table, templates, typed
from pages._ui.entry import notice
from pages._ui.routing import engine
from pages._ui.text import plain

KEY = "measures"
LINKS = {
    "priority": "Priority",
    "initiative": "ME2E initiative",
    "service": "Service",
    "team": "Team",
}
CHOICES: dict[str, tuple[str, list[Any]]] = {
    "tier": ("Tier", [t.value for t in Tier]),
    "unit": ("Unit", [u.value for u in Unit]),
    "polarity": ("Polarity: which way is better", [p.value for p in Polarity]),
    "frequency": ("Frequency", [f.value for f in Frequency]),
    "aggregation": (
        "Year to date (blank: the unit's default)",
        ["", *[a.value for a in Aggregation]],
    ),
    "risk_impact": ("Risk impact (1 low, 3 high)", [1, 2, 3]),
    "marking": ("Protective marking", [m.value for m in Marking]),
}
TEXTS = {
    "title": "Title",
    "responsible_officer": "Responsible officer (a role, not a name)",
    "responsible_email": "Responsible e-mail (reminders go here)",
    "data_source": "Data source",
    "decimals": "Decimals shown",
    "tolerance": "Tolerance: 5% of the target, or 2.5 absolute (blank: the default)",
    "baseline": "Baseline",
    "active_from": "Active from (a month such as 2017-04)",
    "active_to": "Active to",
    "aligned_to": "Aligned to (the code of a measure)",
}
SHOWN = [
    "code",
    "title",
    "tier",
    "service",
    "team",
    "unit",
    "frequency",
    "marking",
    "active_from",
    "active_to",
    "definition_version",
    "values_held",
]


def measures_table(user: CurrentUser) -> pd.DataFrame:
    """Every measure's template the administrator may see."""
    frame = templates(user.clearance)
    table(frame[SHOWN], "No measure is held yet.")
    return frame


def _fields(prefix: str) -> None:
    """The inputs of one template."""
    left, right = st.columns(2)
    left.text_input(TEXTS["title"], key=f"{prefix}|title")
    right.selectbox(CHOICES["tier"][0], CHOICES["tier"][1], index=None, key=f"{prefix}|tier")
    st.text_area("Definition: what is counted, and what is not", key=f"{prefix}|definition")
    columns = st.columns(4)
    for column, (name, label) in zip(columns, LINKS.items(), strict=True):
        options = live_codes(name)
        held = st.session_state.get(f"{prefix}|{name}")
        codes = [*options, *([held] if held and held not in options else [])]
        column.selectbox(
            label,
            codes,
            index=None,
            format_func=lambda c, o=options: o.get(c, c),
            key=f"{prefix}|{name}",
        )
    columns = st.columns(4)
    for column, name in zip(columns, ("unit", "polarity", "frequency", "aggregation"), strict=True):
        label, options = CHOICES[name]
        column.selectbox(
            label, options, index=None if name != "aggregation" else 0, key=f"{prefix}|{name}"
        )
    columns = st.columns(4)
    for column, name in zip(
        columns, ("decimals", "tolerance", "baseline", "aligned_to"), strict=True
    ):
        column.text_input(TEXTS[name], key=f"{prefix}|{name}")
    columns = st.columns(4)
    columns[0].selectbox(
        CHOICES["risk_impact"][0], CHOICES["risk_impact"][1], index=1, key=f"{prefix}|risk_impact"
    )
    columns[1].selectbox(
        CHOICES["marking"][0], CHOICES["marking"][1], index=1, key=f"{prefix}|marking"
    )
    columns[2].text_input(TEXTS["active_from"], key=f"{prefix}|active_from")
    columns[3].text_input(TEXTS["active_to"], key=f"{prefix}|active_to")
    columns = st.columns(3)
    for column, name in zip(
        columns, ("responsible_officer", "responsible_email", "data_source"), strict=True
    ):
        column.text_input(TEXTS[name], key=f"{prefix}|{name}")
    st.checkbox("Data only: a contextual measure with no target", key=f"{prefix}|data_only")
    st.text_input("Reason for the change", key=f"{prefix}|reason")


FIELDS = (*TEXTS, *LINKS, *CHOICES, "definition", "data_only")


def _typed_fields(prefix: str) -> dict[str, Any]:
    got = typed(prefix, FIELDS)
    return {k: ("" if v is None else v) for k, v in got.items()}


def new_measure(user: CurrentUser) -> None:
    """Add a measure: every field of the template, its links chosen from what is held."""
    notice(f"{KEY}|new")
    prefix = f"{KEY}|new"
    with st.form(prefix, border=False):
        st.text_input("Code, e.g. SS-HOU-04", key=f"{prefix}|code")
        _fields(prefix)
        st.form_submit_button(
            "Add measure",
            type="primary",
            on_click=act,
            args=(f"{KEY}|new", partial(_create, user), (f"{prefix}|",)),
        )


def _create(user: CurrentUser) -> str:
    prefix = f"{KEY}|new"
    fields = _typed_fields(prefix)
    reason = str(st.session_state.get(f"{prefix}|reason") or "")
    made = admin.create_measure(
        engine(),
        actor=user,
        code=str(st.session_state.get(f"{prefix}|code") or ""),
        fields=fields,
        reason=reason,
    )
    return f"Added the measure {plain(made.code)}: {plain(made.title)}."


def _held(row: pd.Series) -> dict[str, Any]:
    """A held template as its inputs show it."""

    def text(value: Any) -> str:
        return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)

    tolerance = row["tolerance"]
    shown = (
        "" if pd.isna(tolerance) else f"{tolerance:g}{'%' if row['tolerance_is_percent'] else ''}"
    )
    baseline = "" if pd.isna(row["baseline"]) else f"{row['baseline']:g}"
    values: dict[str, Any] = {name: text(row[name]) for name in (*TEXTS, "definition")}
    values.update({name: (text(row[name]) or None) for name in LINKS})
    values.update({name: row[name] for name in CHOICES})
    values.update(tolerance=shown, baseline=baseline, data_only=bool(row["data_only"]), reason="")
    values["aggregation"] = row["aggregation"]
    values["decimals"] = str(int(row["decimals"]))
    values["risk_impact"] = int(row["risk_impact"])
    return values


def edit_measure(user: CurrentUser, frame: pd.DataFrame) -> None:
    """Change a measure's template: its definition version goes up by one."""
    notice(f"{KEY}|edit")
    if frame.empty:
        return
    names = {str(c): f"{c}: {t}" for c, t in zip(frame["code"], frame["title"], strict=True)}
    code = st.selectbox(
        "Measure", list(names), index=None, format_func=names.get, key=f"{KEY}|edit|pick"
    )
    if code is None:
        return
    row = frame[frame["code"] == code].iloc[0]
    prefix = f"{KEY}|edit|{code}"
    seen = prefill(prefix, _held(row), int(row["version"]))
    version = int(row["definition_version"])
    st.caption(f"Definition version {version}; saving a change makes it {version + 1}.")
    with st.form(prefix, border=False):
        _fields(prefix)
        save_buttons(f"{KEY}|edit", prefix, partial(_edit, user, code, prefix, seen))


def _edit(user: CurrentUser, code: str, prefix: str, seen: int) -> str:
    fields = _typed_fields(prefix)
    edited = admin.edit_measure(
        engine(),
        actor=user,
        code=code,
        seen_version=seen,
        fields=fields,
        reason=str(st.session_state.get(f"{prefix}|reason") or ""),
    )
    return f"Saved {plain(edited.code)}: definition version {edited.definition_version}."


def retire_measure(user: CurrentUser, frame: pd.DataFrame) -> None:
    """Retire a measure from a month: it is not reported from then on; nothing is deleted."""
    key = f"{KEY}|retire"
    notice(key)
    live = frame[frame["active_to"].isna()]
    if live.empty:
        st.info("Every measure is retired already.")
        return
    names = {str(c): f"{c}: {t}" for c, t in zip(live["code"], live["title"], strict=True)}
    with st.form(key, border=False):
        st.selectbox("Measure", list(names), index=None, format_func=names.get, key=f"{key}|code")
        st.text_input(
            "Retire from (the first month it is no longer reported, e.g. 2017-04)",
            key=f"{key}|from",
        )
        st.text_input("Reason", key=f"{key}|reason")
        st.form_submit_button(
            "Retire measure",
            type="primary",
            on_click=act,
            args=(key, partial(_retire, user, frame), (f"{key}|",)),
        )


def _retire(user: CurrentUser, frame: pd.DataFrame) -> str:
    key = f"{KEY}|retire"
    code = st.session_state.get(f"{key}|code")
    held = frame[frame["code"] == code]
    if code is None or held.empty:
        raise admin.AdminRefused([("Code", "choose a measure")])
    retired = admin.retire_measure(
        engine(),
        actor=user,
        code=str(code),
        seen_version=int(held.iloc[0]["version"]),
        from_month=str(st.session_state.get(f"{key}|from") or ""),
        reason=str(st.session_state.get(f"{key}|reason") or ""),
    )
    return f"Retired {plain(retired.code)}: last reported in {spoken(retired.active_to)}."
