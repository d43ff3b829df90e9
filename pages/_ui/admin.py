"""The glue of the administration pages (docs/administration.md): cached readers of templates,
levels and users, the forms that collect what an administrator types, and what came back.

Every write goes to `metrics.admin`, which checks the role, validates, version-checks and
audits on the server; a refused or stale write leaves what was typed in its inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from metrics import admin
from metrics.access import AccessDenied, CurrentUser
from metrics.plain_words import in_words
from metrics.queries import admin as admin_queries
from metrics.vocab import Marking, Role
from metrics.workbook import WorkbookError
from pages._ui.entry import notice
from pages._ui.routing import _version, engine
from pages._ui.text import plain

KINDS = {
    "priority": "Priorities",
    "initiative": "ME2E initiatives",
    "service": "Services",
    "team": "Teams",
}
SAVED = "saved"  # the first problem of a change that was saved in part says what was saved
WORDS = {
    "priority": "priority",
    "initiative": "ME2E initiative",
    "service": "service",
    "team": "team",
}

# --- Cached reads, keyed on the data version --------------------------------------------------


@st.cache_data(max_entries=8, show_spinner=False)
def _templates(clearance: str, version: int) -> pd.DataFrame:
    return admin_queries.templates_frame(engine(), clearance=clearance)


@st.cache_data(max_entries=16, show_spinner=False)
def _levels(kind: str, version: int) -> pd.DataFrame:
    return admin_queries.levels_frame(engine(), kind=kind)


@st.cache_data(max_entries=4, show_spinner=False)
def _users(version: int) -> pd.DataFrame:
    return admin_queries.users_frame(engine())


def templates(clearance: str) -> pd.DataFrame:
    """Every measure's template the clearance may see."""
    return _templates(clearance, _version())


def levels(kind: str) -> pd.DataFrame:
    """Every priority, initiative, service or team, retired ones too."""
    return _levels(kind, _version())


def users() -> pd.DataFrame:
    """Every user, disabled ones too."""
    return _users(_version())


def live_codes(kind: str) -> dict[str, str]:
    """Code -> "name (code)" of the levels of a kind that are not retired."""
    frame = levels(kind)
    frame = frame[frame["retired_from"].isna()]
    return {str(c): f"{n} ({c})" for c, n in zip(frame["code"], frame["name"], strict=True)}


# --- Acting and telling the administrator what happened ------------------------------------------


def problem_text(error: Exception) -> str:
    """A refusal, a conflict or a denial from the domain, in plain words (Markdown)."""
    if isinstance(error, admin.AdminRefused):
        partly = error.problems[:1] if error.problems[0][0] == SAVED else []
        head = f"Saved: {plain(partly[0][1])}. Not saved:" if partly else "Nothing was saved:"
        return f"{head}\n\n" + "\n".join(
            f"- {plain(field)}: {plain(reason)}" for field, reason in error.problems[len(partly) :]
        )
    if isinstance(error, WorkbookError):
        return "The workbook was not imported:\n\n" + "\n".join(
            f"- {plain(problem)}" for problem in error.problems
        )
    return plain(str(error))


def act(key: str, action: Callable[[], str], forget: tuple[str, ...] = ()) -> None:
    """A button's callback: run the write; leave its message, or why it was refused. On success
    the inputs whose keys start with `forget` are emptied; on a refusal they keep what was typed."""
    try:
        message = action()
    except (admin.AdminRefused, admin.AdminConflict, AccessDenied, WorkbookError) as error:
        st.session_state[f"_problem_{key}"] = problem_text(error)
        return
    st.session_state[f"_notice_{key}"] = message
    forget_typed(forget)


def forget_typed(prefixes: tuple[str, ...]) -> None:
    """Empty the inputs whose keys start with one of the prefixes (they show what is held)."""
    for name in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefixes)]:
        del st.session_state[name]


def typed(prefix: str, names: tuple[str, ...]) -> dict[str, Any]:
    """What was typed into the inputs `prefix|name`."""
    return {name: st.session_state.get(f"{prefix}|{name}") for name in names}


def prefill(prefix: str, values: Mapping[str, Any], version: int) -> int:
    """Held values as the inputs' first values, and the version they were seen at, once: what
    is typed later is kept, through a refusal or a stale edit, until saved or reloaded.
    Returns the version seen."""
    if f"{prefix}|seen" not in st.session_state:
        for name, value in values.items():
            st.session_state[f"{prefix}|{name}"] = value
        st.session_state[f"{prefix}|seen"] = version
    return int(st.session_state[f"{prefix}|seen"])


def save_buttons(key: str, prefix: str, action: Callable[[], str]) -> None:
    """Save (the held values show again once saved) and Reload (forget what was typed)."""
    columns = st.columns(2)
    columns[0].form_submit_button(
        "Save changes", type="primary", on_click=act, args=(key, action, (f"{prefix}|",))
    )
    columns[1].form_submit_button("Reload", on_click=forget_typed, args=((f"{prefix}|",),))


def table(frame: pd.DataFrame, empty: str) -> None:
    """A held table, its months spoken ('March 2017'); codes stay, they are what is typed."""
    if frame.empty:
        st.info(empty)
    else:
        months = ("retired_from", "active_from", "active_to")
        st.dataframe(in_words(frame, period_columns=months), hide_index=True)


# --- Levels ---------------------------------------------------------------------------------


def level_forms(user: CurrentUser, kind: str) -> None:
    """A kind of level: its table, a form to add one, and one to change a held one."""
    key = f"level|{kind}"
    notice(key)
    frame = levels(kind)
    under = "Service" if kind == "team" else "Delivers priorities" if kind == "initiative" else None
    shown = frame.rename(columns={"under": under} if under else {}).drop(
        columns=[] if under else ["under"]
    )
    table(shown, f"No {WORDS[kind]} is held yet.")
    with st.form(f"{key}|new", border=True):
        st.markdown(f"**Add a {WORDS[kind]}**")
        st.text_input("Name", key=f"{key}|new|name")
        st.text_input("Code (blank: made from the name)", key=f"{key}|new|code")
        _parents(kind, f"{key}|new")
        st.text_input("Reason", key=f"{key}|new|reason")
        st.form_submit_button(
            f"Add {WORDS[kind]}",
            type="primary",
            on_click=act,
            args=(key, partial(_create, user, kind), (f"{key}|new|",)),
        )
    if frame.empty:
        return
    names = {str(c): f"{n} ({c})" for c, n in zip(frame["code"], frame["name"], strict=True)}
    code = st.selectbox(
        f"Change a {WORDS[kind]}", list(names), index=None, format_func=names.get, key=f"{key}|pick"
    )
    if code is None:
        return
    row = frame[frame["code"] == code].iloc[0]
    prefix = f"{key}|{code}"
    held = {"name": row["name"], "retired_from": row["retired_from"] or ""}
    seen = prefill(prefix, held, int(row["version"]))
    with st.form(f"{prefix}|form", border=True):
        st.text_input("Name", key=f"{prefix}|name")
        st.text_input(
            "Retired from (a month such as 2017-04; blank: in use)", key=f"{prefix}|retired_from"
        )
        if kind in ("team", "initiative"):
            _parents(kind, prefix, held=row["under"])
        st.text_input("Reason", key=f"{prefix}|reason")
        save_buttons(key, prefix, partial(_change, user, kind, row, prefix, seen))


def _parents(kind: str, prefix: str, held: str = "") -> None:
    """The service of a team, or the priorities an initiative delivers."""
    if kind == "team":
        options = live_codes("service")
        if held and f"{prefix}|service" not in st.session_state:
            st.session_state[f"{prefix}|service"] = held
        st.selectbox(
            "Service", list(options), index=None, format_func=options.get, key=f"{prefix}|service"
        )
    elif kind == "initiative":
        options = live_codes("priority")
        if held and f"{prefix}|priorities" not in st.session_state:
            st.session_state[f"{prefix}|priorities"] = [c for c in held.split(", ") if c in options]
        st.multiselect(
            "Delivers priorities",
            list(options),
            format_func=options.get,
            key=f"{prefix}|priorities",
        )


def _create(user: CurrentUser, kind: str) -> str:
    prefix = f"level|{kind}|new"
    got = typed(prefix, ("name", "code", "service", "priorities", "reason"))
    row = admin.create_level(
        engine(),
        actor=user,
        kind=kind,
        name=str(got["name"] or ""),
        code=str(got["code"] or ""),
        service=str(got["service"] or ""),
        priorities=list(got["priorities"] or []),
        reason=str(got["reason"] or ""),
    )
    return f"Added the {WORDS[kind]} {plain(row.name)} ({plain(row.code)})."


def _change(user: CurrentUser, kind: str, row: pd.Series, prefix: str, seen: int) -> str:
    """Rename, re-align and retire, each only if it changed, in that order, from the version
    the administrator saw. Each step is its own write: if a later one is refused, the message
    says what was saved, and the next Save starts from the version now held."""
    done: list[str] = []
    try:
        return _steps(user, kind, row, prefix, seen, done)
    except admin.AdminRefused as error:
        if not done:
            raise
        raise admin.AdminRefused(
            [(SAVED, f"the {WORDS[kind]} was {' and '.join(done)}"), *error.problems]
        ) from None


def _steps(
    user: CurrentUser, kind: str, row: pd.Series, prefix: str, seen: int, done: list[str]
) -> str:
    got = typed(prefix, ("name", "retired_from", "service", "priorities", "reason"))
    code, version, reason = str(row["code"]), seen, str(got["reason"] or "")
    if (got["name"] or "") != row["name"]:
        version = admin.rename_level(
            engine(),
            actor=user,
            kind=kind,
            code=code,
            seen_version=version,
            name=str(got["name"] or ""),
            reason=reason,
        ).version
        done.append("renamed")
        st.session_state[f"{prefix}|seen"] = version
    moved = (kind == "team" and (got["service"] or "") != row["under"]) or (
        kind == "initiative" and ", ".join(sorted(got["priorities"] or [])) != row["under"]
    )
    if moved:
        version = admin.realign_level(
            engine(),
            actor=user,
            kind=kind,
            code=code,
            seen_version=version,
            service=str(got["service"] or ""),
            priorities=list(got["priorities"] or []),
            reason=reason,
        ).version
        done.append("re-aligned")
        st.session_state[f"{prefix}|seen"] = version
    if (got["retired_from"] or "") != (row["retired_from"] or ""):
        admin.retire_level(
            engine(),
            actor=user,
            kind=kind,
            code=code,
            seen_version=version,
            from_month=got["retired_from"],
            reason=reason,
        )
        done.append("retired" if got["retired_from"] else "reinstated")
    if not done:
        raise admin.AdminRefused([("fields", "nothing was changed")])
    return f"The {WORDS[kind]} {plain(code)} was {' and '.join(done)}."


# --- Users ----------------------------------------------------------------------------------

ROLES = [role.value for role in Role]
MARKINGS = [marking.value for marking in Marking]


def user_forms(user: CurrentUser) -> None:
    """Every user, a form to add one, and one to change or disable a held one."""
    key = "users"
    notice(key)
    frame = users()
    table(frame, "No user is held yet.")
    services = live_codes("service")
    with st.form(f"{key}|new", border=True):
        st.markdown("**Add a user**")
        st.text_input("E-mail", key=f"{key}|new|email")
        st.text_input("Name", key=f"{key}|new|name")
        st.selectbox("Role", ROLES, index=None, key=f"{key}|new|role")
        st.selectbox("Clearance", MARKINGS, index=1, key=f"{key}|new|clearance")
        st.multiselect(
            "Services (whose measures they enter)",
            list(services),
            format_func=services.get,
            key=f"{key}|new|services",
        )
        st.text_input("Reason", key=f"{key}|new|reason")
        st.form_submit_button(
            "Add user",
            type="primary",
            on_click=act,
            args=(key, partial(_add_user, user), (f"{key}|new|",)),
        )
    if frame.empty:
        return
    email = st.selectbox("Change a user", list(frame["email"]), index=None, key=f"{key}|pick")
    if email is None:
        return
    row = frame[frame["email"] == email].iloc[0]
    prefix = f"{key}|{email}"
    held = [c for c in str(row["services"]).split(", ") if c]
    seen = prefill(
        prefix,
        {
            "name": row["name"],
            "role": row["role"],
            "clearance": row["clearance"],
            "services": held,
            "active": bool(row["active"]),
        },
        int(row["version"]),
    )
    with st.form(f"{prefix}|form", border=True):
        st.text_input("Name", key=f"{prefix}|name")
        st.selectbox("Role", ROLES, key=f"{prefix}|role")
        st.selectbox("Clearance", MARKINGS, key=f"{prefix}|clearance")
        st.multiselect(
            "Services",
            sorted({*services, *held}),
            format_func=lambda c: services.get(c, c),
            key=f"{prefix}|services",
        )
        st.checkbox(
            "May sign in (untick to disable; a user is never deleted)", key=f"{prefix}|active"
        )
        st.text_input("Reason", key=f"{prefix}|reason")
        save_buttons(key, prefix, partial(_update_user, user, row, prefix, seen))


def _add_user(user: CurrentUser) -> str:
    got = typed("users|new", ("email", "name", "role", "clearance", "services", "reason"))
    added = admin.add_user(
        engine(),
        actor=user,
        email_address=str(got["email"] or ""),
        name=str(got["name"] or ""),
        role=str(got["role"] or ""),
        clearance=str(got["clearance"] or ""),
        services=list(got["services"] or []),
        reason=str(got["reason"] or ""),
    )
    return f"Added {plain(added.name)} ({plain(added.email)}) as {plain(added.role)}."


def _update_user(user: CurrentUser, row: pd.Series, prefix: str, seen: int) -> str:
    got = typed(prefix, ("name", "role", "clearance", "services", "active", "reason"))
    changed = admin.update_user(
        engine(),
        actor=user,
        email_address=str(row["email"]),
        seen_version=seen,
        name=str(got["name"] or ""),
        role=str(got["role"] or ""),
        clearance=str(got["clearance"] or ""),
        services=list(got["services"] or []),
        active=bool(got["active"]),
        reason=str(got["reason"] or ""),
    )
    state = "" if changed.active else " (disabled)"
    return f"Saved {plain(changed.email)}{state}."
