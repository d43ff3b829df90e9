"""The glue of the approvals page (docs/data-entry.md): a team's submitted values as the
performance officer judges them, with Approve, Approve team, Reviewed and Return. Every write
goes to `metrics.approval`, which checks who is approving on the server."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from metrics import approval
from metrics.access import CurrentUser
from metrics.periods import spoken
from pages._ui.entry import act, measure_line, notice, number
from pages._ui.routing import engine
from pages._ui.text import plain

# Said once at the top of the page: approving a team's last value removes the team's table.
APPROVALS = "approvals"


def approval_notice() -> None:
    """What the last approve, return or review did, or why it was refused."""
    notice(APPROVALS)


def _seen(row: pd.Series) -> dict[tuple[str, str], int]:
    return {(str(row["code"]), str(row["period"])): int(row["version"])}


def _approve(user: CurrentUser, seen: dict[tuple[str, str], int]) -> str:
    return f"Approved {approval.approve(engine(), user=user, seen=seen)} value(s)."


def _return(user: CurrentUser, row: pd.Series, reason_key: str) -> str:
    reason = str(st.session_state.get(reason_key) or "")
    approval.return_value(
        engine(),
        user=user,
        code=str(row["code"]),
        period=str(row["period"]),
        seen_version=int(row["version"]),
        reason=reason,
    )
    return f"Returned {row['code']} {spoken(row['period'])} to its service manager."


def _review(user: CurrentUser, row: pd.Series) -> str:
    approval.review_outlier(
        engine(),
        user=user,
        code=str(row["code"]),
        period=str(row["period"]),
        seen_version=int(row["version"]),
    )
    return f"Marked the outlier {row['code']} {spoken(row['period'])} as reviewed."


def _submitted_value(row: pd.Series) -> None:
    """One submitted value as the officer judges it."""
    measure_line(row)
    st.markdown(
        f"Value: **{number(row, 'actual')}** · **{plain(row['rag'])}**: {plain(row['explanation'])}"
    )
    if row["commentary"]:
        st.caption(f"Commentary: {plain(row['commentary'])}")
    if row["corrective_action"]:
        st.caption(f"Corrective action: {plain(row['corrective_action'])}")
    if row["outlier"]:
        st.warning(
            f"Outlier: outside its natural process limits. Note: {plain(row['outlier_note'])}",
            icon=":material/warning:",
        )


def approval_table(user: CurrentUser, service: str, team: str, rows: pd.DataFrame) -> None:
    """A team's submitted values: approve one, approve the team, or return one with a reason."""
    key = f"approve|{service}|{team}"
    seen = {k: v for _, row in rows.iterrows() for k, v in _seen(row).items()}
    st.button(
        f"Approve team ({len(rows)})",
        key=f"{key}|all",
        type="primary",
        on_click=act,
        args=(APPROVALS, partial(_approve, user, seen)),
    )
    for _, row in rows.iterrows():
        st.divider()
        _submitted_value(row)
        one = f"{key}|{row['code']}|{row['period']}|{row['version']}"
        buttons = st.columns([1, 1, 3, 1], vertical_alignment="bottom")
        buttons[0].button(
            "Approve",
            key=f"{one}|approve",
            icon=":material/check:",
            on_click=act,
            args=(APPROVALS, partial(_approve, user, _seen(row))),
        )
        if row["outlier"]:
            buttons[1].button(
                "Reviewed",
                key=f"{one}|review",
                on_click=act,
                args=(APPROVALS, partial(_review, user, row)),
            )
        buttons[2].text_input("Reason to return it", key=f"{one}|reason")
        buttons[3].button(
            "Return",
            key=f"{one}|return",
            icon=":material/undo:",
            on_click=act,
            args=(APPROVALS, partial(_return, user, row, f"{one}|reason")),
        )
