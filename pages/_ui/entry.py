"""The glue of the monthly cycle (docs/data-entry.md): cached readers of "My month" and the
approvals, and the widgets that enter a team's month, change an approved value or act on
submitted values. Every write goes to the domain (`metrics.entry`, `metrics.approval`), which
checks the user's scope on the server; these widgets only collect what was typed and show what
came back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from functools import partial

import pandas as pd
import streamlit as st

from metrics import entry, views
from metrics.access import AccessDenied, CurrentUser
from metrics.config import settings
from metrics.explain import format_value
from metrics.periods import day_text, spoken
from metrics.queries import entry as entry_queries
from metrics.vocab import Aggregation, ApprovalState
from pages._ui.routing import _version, engine
from pages._ui.text import plain

EDITABLE = ("not entered", ApprovalState.DRAFT.value, ApprovalState.RETURNED.value)
TEXT_FIELDS = {
    "commentary": "Commentary",
    "corrective_action": "Corrective action",
    "outlier_note": "Outlier note (only if the value is outside its usual range)",
}

# --- Cached reads, keyed on the data version ----------------------------------------------------


@st.cache_data(max_entries=64, show_spinner=False)
def _my_month(user: CurrentUser, month: str, version: int, today: date) -> pd.DataFrame:
    return entry_queries.my_month(engine(), user=user, month=month, today=today)[1]


@st.cache_data(max_entries=64, show_spinner=False)
def _default_month(user: CurrentUser, version: int, today: date) -> str:
    return entry_queries.default_entry_month(engine(), user=user, today=today, config=settings())


@st.cache_data(max_entries=16, show_spinner=False)
def _months(clearance: str, version: int) -> list[str]:
    return views.period_options(
        engine(), settings().financial_year_start_month, clearance=clearance
    )


def my_month(user: CurrentUser, month: str) -> pd.DataFrame:
    """The user's measures due in the month (a performance officer's: every service's)."""
    return _my_month(user, month, _version(), date.today())


def to_approve(user: CurrentUser, month: str) -> pd.DataFrame:
    """The submitted values due in the month, by service and team."""
    rows = my_month(user, month)
    return rows[rows["approval"] == ApprovalState.SUBMITTED.value].sort_values(
        ["service", "team", "code"]
    )


def by_team(rows: pd.DataFrame) -> Iterator[tuple[str, str, pd.DataFrame]]:
    """(service, team, rows) for each team, in order."""
    for (service, team), group in rows.groupby(["service", "team"], sort=True, dropna=False):
        yield str(service), str(team), group


def month_picker(user: CurrentUser) -> str:
    """The month to enter: the domain's default (the earliest still due), or one picked."""
    today = date.today()
    default = _default_month(user, _version(), today)
    held = _months(user.clearance, _version())
    fy_start = settings().financial_year_start_month
    options = entry_queries.entry_months(held, default, today, fy_start)
    if st.session_state.get("entry_month") not in options:
        st.session_state["entry_month"] = default
    return str(st.selectbox("Month", options, format_func=spoken, key="entry_month"))


# --- Showing a measure -------------------------------------------------------------------------


def number(row: pd.Series, column: str) -> str:
    return format_value(row[column], str(row["unit"]), int(row["decimals"]))


def measure_line(row: pd.Series) -> None:
    """Code, title, last period, same period last year, target, unit and approval state."""
    st.markdown(f"**{plain(row['code'])}** {plain(row['title'])} · _{spoken(row['period'])}_")
    st.caption(
        f"Last period: {number(row, 'previous')} · Same period last year: "
        f"{number(row, 'last_year')} · Target: {number(row, 'target')} · Unit: "
        f"{plain(row['unit'])} · State: **{plain(row['approval'])}**"
    )
    if row["return_reason"]:
        st.warning(f"Returned: {plain(row['return_reason'])}", icon=":material/undo:")


def problem_text(error: Exception) -> str:
    """A refusal, a conflict or a denial from the domain, in plain words (Markdown)."""
    if isinstance(error, entry.EntryRefused):
        return "Nothing was saved:\n\n" + "\n".join(
            f"- {plain(p.code)} {spoken(p.period)}, {plain(p.field.replace('_', ' '))}: "
            f"{plain(p.message)}"
            for p in error.problems
        )
    if isinstance(error, entry.ValueConflict):
        when = day_text(error.changed_at) if error.changed_at else "an unknown time"
        return (
            f"{plain(error.changed_by or 'Someone else')} changed {plain(error.code)} "
            f"{spoken(error.period)} at {when} to {plain(error.changed_to.get('actual'))} "
            f"({plain(error.changed_to.get('status'))}). Nothing was saved and your typed values "
            "are kept: Reload the team to see their change, then type and save again."
        )
    return plain(str(error))


def notice(key: str) -> None:
    """What the last action on this part of the page did, or why it was refused."""
    message = st.session_state.pop(f"_notice_{key}", None)
    if message:
        st.success(message, icon=":material/check_circle:")
    problem = st.session_state.pop(f"_problem_{key}", None)
    if problem:
        st.error(problem, icon=":material/block:")


def act(key: str, action: Callable[[], str], rows: pd.DataFrame | None = None) -> None:
    """A button's callback: run a write (before the page reruns, so a click is never lost);
    leave its message, or why it was refused; on success forget what was typed for `rows`."""
    try:
        message = action()
    except (entry.EntryRefused, entry.ValueConflict, AccessDenied) as error:
        st.session_state[f"_problem_{key}"] = problem_text(error)
        return
    st.session_state[f"_notice_{key}"] = message
    if rows is not None:
        _forget(rows)


# --- Entering a team's month -------------------------------------------------------------------


def _key(row: pd.Series, name: str) -> str:
    return f"entry|{row['code']}|{row['period']}|{name}"


def _is_ratio(row: pd.Series) -> bool:
    return row["aggregation"] == Aggregation.RATIO.value


def _number_or_none(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _start(rows: pd.DataFrame) -> None:
    """The held values as the inputs' first values, and the version each was seen at."""
    for _, row in rows.iterrows():
        if _key(row, "seen") in st.session_state:
            continue
        st.session_state[_key(row, "seen")] = int(row["version"])
        for name in ("actual", "numerator", "denominator"):
            st.session_state[_key(row, name)] = _number_or_none(row[name])
        for name in TEXT_FIELDS:  # a measure with no value yet holds NaN, not text
            held = row.get(name)
            st.session_state[_key(row, name)] = "" if pd.isna(held) else str(held or "")


def _forget(rows: pd.DataFrame) -> None:
    """Drop what was typed, so the inputs show the values held now."""
    for _, row in rows.iterrows():
        for name in ("seen", "actual", "numerator", "denominator", "reason", *TEXT_FIELDS):
            st.session_state.pop(_key(row, name), None)


def _typed(rows: pd.DataFrame, name: str) -> pd.Series:
    return pd.Series([st.session_state.get(_key(r, name)) for _, r in rows.iterrows()], rows.index)


def _entries(rows: pd.DataFrame) -> list[entry.Entry]:
    """What the user typed for each editable measure with something in it, at the version seen."""
    found = []
    for _, row in rows.iterrows():
        typed = {
            n: st.session_state.get(_key(row, n)) for n in ("actual", "numerator", *TEXT_FIELDS)
        }
        typed["denominator"] = st.session_state.get(_key(row, "denominator"))
        if _is_ratio(row):
            typed["actual"] = None
        else:
            typed["numerator"] = typed["denominator"] = None
        if all(v in (None, "") for v in typed.values()) and row["version"] == 0:
            continue
        found.append(
            entry.Entry(
                code=str(row["code"]),
                period=str(row["period"]),
                seen_version=int(st.session_state[_key(row, "seen")]),
                **{k: ("" if v is None and k in TEXT_FIELDS else v) for k, v in typed.items()},
            )
        )
    return found


def _previews(rows: pd.DataFrame) -> pd.DataFrame:
    """The status each typed value would get, through the one rating pipeline."""
    return entry.preview_typed(
        rows,
        actual=_typed(rows, "actual").where(~rows["aggregation"].eq("ratio")),
        numerator=_typed(rows, "numerator"),
        denominator=_typed(rows, "denominator"),
        config=settings(),
    ).join(rows[["unit", "decimals"]])


def _inputs(row: pd.Series, preview: pd.Series, *, heading: bool = True) -> None:
    """The inputs of one measure, with the status the typed value would get under them."""
    if heading:
        measure_line(row)
    numbers = st.columns(3)
    if _is_ratio(row):
        numbers[0].number_input("Numerator", value=None, key=_key(row, "numerator"))
        numbers[1].number_input("Denominator", value=None, key=_key(row, "denominator"))
        numbers[2].markdown(f"Actual (worked out): **{number(preview, 'value')}**")
    else:
        numbers[0].number_input(
            f"Actual ({plain(row['unit'])})", value=None, key=_key(row, "actual")
        )
    texts = st.columns(3)
    for column, (name, label) in zip(texts, TEXT_FIELDS.items(), strict=True):
        column.text_area(label, key=_key(row, name), height=68)
    st.caption(f"If saved as typed: {plain(preview['explanation'])}")


def team_form(user: CurrentUser, service: str, team: str, rows: pd.DataFrame) -> None:
    """A team's month: the held values, an input per measure still to enter, the live status,
    and Check, Save draft and Submit team."""
    key = f"{service}|{team}"
    notice(key)
    fixed = rows[~rows["approval"].isin(EDITABLE)]
    for index, row in fixed.iterrows():
        measure_line(row)
        st.caption(f"Value: {number(row, 'actual')} · {plain(row['explanation'])}")
        if row["approval"] == ApprovalState.APPROVED.value:
            change_approved(user, key, fixed.loc[[index]])
    open_rows = rows[rows["approval"].isin(EDITABLE)]
    if open_rows.empty:
        st.info("Every measure of this team is submitted or approved.")
        return
    _start(open_rows)
    shown = _previews(open_rows)
    with st.form(f"team|{key}", border=False):
        for index, row in open_rows.iterrows():
            st.divider()
            _inputs(row, shown.loc[index])
        buttons = st.columns(4)
        # Check only reruns the page, so the statuses above follow what was typed.
        buttons[0].form_submit_button("Check", icon=":material/rule:")
        buttons[1].form_submit_button(
            "Save draft",
            icon=":material/save:",
            on_click=act,
            args=(key, partial(_save, user, open_rows), open_rows),
        )
        buttons[2].form_submit_button(
            "Submit team",
            type="primary",
            icon=":material/send:",
            on_click=act,
            args=(key, partial(_submit, user, open_rows), open_rows),
        )
        buttons[3].form_submit_button(
            "Reload", icon=":material/refresh:", on_click=_forget, args=(open_rows,)
        )


def change_approved(user: CurrentUser, key: str, one: pd.DataFrame) -> None:
    """An approved value changed, only with a reason (the domain refuses one without); it goes
    back to submitted for approval. Behind a toggle, so an approved month reads quietly."""
    row = one.iloc[0]
    if not st.toggle("Change this approved value", key=_key(row, "change")):
        return
    _start(one)
    with st.form(f"change|{row['code']}|{row['period']}", border=False):
        _inputs(row, _previews(one).iloc[0], heading=False)
        st.text_input(
            "Reason for the change (required; the value goes back to submitted)",
            key=_key(row, "reason"),
        )
        buttons = st.columns(2)
        buttons[0].form_submit_button("Check", icon=":material/rule:")
        buttons[1].form_submit_button(
            "Save change",
            type="primary",
            icon=":material/save:",
            on_click=act,
            args=(key, partial(_change, user, one), one),
        )


def _change(user: CurrentUser, one: pd.DataFrame) -> str:
    reason = str(st.session_state.get(_key(one.iloc[0], "reason")) or "")
    [typed] = [replace(e, reason=reason) for e in _entries(one)]
    saved = entry.save_value(engine(), user=user, entry=typed)
    if saved.status == ApprovalState.APPROVED.value:
        return f"Nothing changed in {typed.code} {spoken(typed.period)}: it stays approved."
    return f"Changed {typed.code} {spoken(typed.period)}: it goes back to submitted for approval."


def _save(user: CurrentUser, rows: pd.DataFrame) -> str:
    saved = entry.save_month(engine(), user=user, entries=_entries(rows))
    return f"Saved {len(saved)} draft value(s)."


MONTH_KEY = "month"  # where the whole month's submit leaves its message


def month_submit(user: CurrentUser, rows: pd.DataFrame) -> None:
    """Submit the whole month at once: every saved draft or returned value of every team."""
    notice(MONTH_KEY)
    ready = rows[rows["approval"].isin(EDITABLE[1:]) & rows["actual"].notna()]
    st.button(
        f"Submit the month ({len(ready)} saved value(s) of {rows['team'].nunique()} teams)",
        key="submit_month",
        type="primary",
        icon=":material/send:",
        disabled=ready.empty,
        help="Save each team's values as drafts first; this submits every saved one at once.",
        on_click=act,
        args=(MONTH_KEY, partial(_submit_saved, user, ready)),
    )


def _submit_saved(user: CurrentUser, rows: pd.DataFrame) -> str:
    seen = {
        (str(code), str(period)): int(version)
        for code, period, version in zip(rows["code"], rows["period"], rows["version"], strict=True)
    }
    count = entry.submit(engine(), user=user, seen=seen)
    return f"Submitted {count} value(s) for approval."


def _submit(user: CurrentUser, rows: pd.DataFrame) -> str:
    """Save what was typed, then submit every measure of the team that holds a value."""
    entries = _entries(rows)
    saved = entry.save_month(engine(), user=user, entries=entries)
    seen = {
        (e.code, e.period): v.version
        for e, v in zip(entries, saved, strict=True)
        if v.actual is not None
    }
    if not seen:
        return "Nothing to submit: enter a value first."
    count = entry.submit(engine(), user=user, seen=seen)
    return f"Submitted {count} value(s) for approval."
