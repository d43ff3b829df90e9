"""The committee page's glue: snapshots, their comparison, pending restatements and the papers,
each cached on the data version (and the clearance where the result depends on it)."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

import pandas as pd
import streamlit as st

from metrics import restatements, snapshot_compare, snapshots
from metrics.access import AccessDenied, CurrentUser, may_see
from metrics.display import formatted
from metrics.plain_words import in_words
from metrics.publish import papers as publish_papers
from metrics.publish.pack import MEASURE_COLUMNS
from metrics.vocab import Marking
from pages._ui.identity import current_user
from pages._ui.routing import _period_options, _version, engine
from pages._ui.text import plain
from pages._ui.widgets import _selection

SNAPSHOT_COLUMNS = {
    "id": "Snapshot",
    "period": "Period",
    "committee": "Committee",
    "title": "Title",
    "meeting_date": "Meeting",
    "marking": "Marking",
    "unapproved_count": "Unapproved",
    "taken_at": "Taken at",
    "taken_by": "Taken by",
    "sha256": "SHA-256",
}

# A frozen row's fields under the headings the committee pack gives them (`pack.MEASURE_COLUMNS`),
# the rest in the same plain words.
FROZEN_COLUMNS = {
    "position": "Order",
    **{column.field: column.heading for column in MEASURE_COLUMNS},
    "tier": "Tier",
    "initiative": "ME2E initiative",
    "team": "Team",
    "responsible_officer": "Responsible officer",
    "marking": "Marking",
    "unit": "Unit",
    "decimals": "Decimals",
    "polarity": "Polarity",
    "frequency": "Frequency",
    "target_upper": "Target (upper)",
    "ytd_target": "YTD target",
    "forecast_target": "Forecast target",
    "unapproved": "Unapproved",
    "last_updated": "Last updated",
}


@st.cache_data(max_entries=8, show_spinner=False)
def _snapshots(version: int) -> pd.DataFrame:
    headers = snapshots.list_snapshots(engine())
    table = pd.DataFrame(
        [{name: getattr(h, name) for name in SNAPSHOT_COLUMNS} for h in reversed(headers)],
        columns=list(SNAPSHOT_COLUMNS),
    )
    return in_words(table, day_columns=("meeting_date", "taken_at"), names=SNAPSHOT_COLUMNS)


@st.cache_data(max_entries=32, show_spinner=False)
def _frozen(snapshot_id: int, clearance: str, version: int) -> snapshots.Frozen:
    return snapshots.show(engine(), snapshot_id, clearance=clearance)


def frozen_table(rows: pd.DataFrame) -> pd.DataFrame:
    """A snapshot's rows as frozen, for reading: numbers in their unit ('–' for none), periods
    as 'March 2017', dates as '18 April 2017', each column under the pack's plain heading."""
    numbers = {c: formatted(rows, c) for c in snapshots.NUMBER_FIELDS if c in rows.columns}
    return in_words(rows.assign(**numbers), day_columns=("last_updated",), names=FROZEN_COLUMNS)


@st.cache_data(max_entries=32, show_spinner=False)
def _comparison(
    before: int, after: int, clearance: str, version: int
) -> snapshot_compare.Comparison:
    return snapshot_compare.compare_snapshots(engine(), before, after, clearance=clearance)


@st.cache_data(max_entries=16, show_spinner=False)
def _pending(clearance: str, version: int) -> pd.DataFrame:
    table = restatements.pending_table(engine(), clearance=clearance)
    return in_words(table, period_columns=("Period",), day_columns=("When",))


@st.cache_data(max_entries=16, show_spinner=False)
def _unapproved(period: str, version: int, today: date) -> int:
    return snapshots.unapproved_count(engine(), period=period, today=today)


def snapshot_list() -> pd.DataFrame:
    """Every snapshot's header, newest first, as the council reads it ('March 2017')."""
    return _snapshots(_version())


def frozen(snapshot_id: int, clearance: str) -> snapshots.Frozen:
    """A snapshot exactly as stored, the rows the clearance may see."""
    return _frozen(snapshot_id, clearance, _version())


def verify(snapshot_id: int) -> snapshots.Verification:
    """The stored hash beside one recomputed now (never cached: that is the point)."""
    return snapshots.verify(engine(), snapshot_id)


def comparison(before: int, after: int, clearance: str) -> snapshot_compare.Comparison:
    """What moved between two snapshots, both seen at the clearance, for reading."""
    moved = _comparison(before, after, clearance, _version())
    return snapshot_compare.Comparison(
        **{f.name: in_words(getattr(moved, f.name)) for f in fields(moved)}
    )


def pending_restatements(clearance: str) -> pd.DataFrame:
    """Published values changed since, that the clearance may see."""
    return _pending(clearance, _version())


def unapproved(period: str) -> int:
    """How many values of the period are not approved yet."""
    return _unapproved(period, _version(), date.today())


def freeze_periods(user: CurrentUser) -> list[str]:
    """The months the user may pick to freeze (those the period picker offers)."""
    return _period_options(user.clearance, _version())


def may_include_sensitive(user: CurrentUser) -> bool:
    """Whether the user is cleared to take a pack holding OFFICIAL-SENSITIVE measures."""
    return may_see(user.clearance, Marking.OFFICIAL_SENSITIVE.value)


def papers(
    snapshot_id: int, user: CurrentUser, include_sensitive: bool
) -> list[publish_papers.Paper]:
    """The snapshot's papers, built now (the domain refuses a sensitive pack to the uncleared)."""
    return publish_papers.build_papers(
        engine(), snapshot_id, clearance=user.clearance, include_sensitive=include_sensitive
    )


def snapshot_picker(table: pd.DataFrame) -> int | None:
    """The snapshots as a table; the id of the selected one (the newest until one is chosen)."""
    event = st.dataframe(
        table,
        hide_index=True,
        on_select="rerun",
        selection_mode="single-row",
        key="snapshots",
    )
    rows = _selection(event, "rows")
    if table.empty:
        return None
    return int(table["Snapshot"].iloc[rows[0] if rows else 0])


def snapshot_label(table: pd.DataFrame) -> dict[int, str]:
    """Snapshot id → a label for pickers: number, period and title."""
    return {
        int(r["Snapshot"]): f"#{r['Snapshot']} · {r['Period']} · {r['Title']}"
        for r in table.to_dict("records")
    }


# --- Writes and builds, as callbacks: they run before the script, so a rerun keeps their result


def freeze_snapshot() -> None:
    """The freeze form's submit: freeze the period as the signed-in officer (re-checked here)
    from the fields as they are at the click; the outcome waits in the session for
    `freeze_outcome`."""
    user = current_user()
    if user is None:
        st.session_state["freeze_outcome"] = ("error", "You may not freeze a snapshot.")
        return
    state = st.session_state
    try:
        taken = snapshots.freeze(
            engine(),
            user=user,
            # read at the click, not bound when the form was drawn: a period changed just
            # before the click is the one the officer sees and means
            period=state.get("freeze_period", ""),
            title=state.get("freeze_title", ""),
            actor=user.email,
            committee=state.get("freeze_committee") or None,
            meeting_date=state.get("freeze_meeting"),
            include_unapproved=bool(state.get("freeze_unapproved")),
        )
    except (snapshots.SnapshotRefused, AccessDenied) as refused:
        state["freeze_outcome"] = ("error", f"Not frozen: {plain(refused)}")
    else:
        state["freeze_outcome"] = (
            "success",
            f"Snapshot {taken.id} frozen. SHA-256: {taken.sha256}",
        )


def freeze_outcome() -> None:
    """What the last freeze did, said once."""
    outcome = st.session_state.pop("freeze_outcome", None)
    if outcome is None:
        return
    kind, message = outcome
    if kind == "success":
        st.success(message, icon=":material/lock:")
    else:
        st.error(message, icon=":material/block:")


def ask_for_papers() -> None:
    """The build button's callback: papers are wanted (a flag, so it outlives a rerun)."""
    st.session_state["papers_wanted"] = True


def paper_downloads(snapshot_id: int, user: CurrentUser, include_sensitive: bool) -> None:
    """A button that builds the snapshot's papers on demand, then a download button each."""
    key = (snapshot_id, include_sensitive, user.email)
    # The callback takes no arguments: ones bound when the button was drawn would be the run's
    # before the click, so a click straight after ticking "Include OFFICIAL-SENSITIVE" would
    # build the papers without them. The run a click starts has every widget's current value,
    # so it builds what the reader sees.
    st.button("Build the papers", icon=":material/description:", on_click=ask_for_papers)
    if st.session_state.pop("papers_wanted", False):
        with st.status("Building the pack...") as status:
            try:
                st.session_state["papers"] = (key, papers(snapshot_id, user, include_sensitive))
            except (AccessDenied, snapshots.SnapshotRefused) as refused:
                status.update(label="Not built", state="error")
                st.error(plain(refused))
            else:
                status.update(label="Papers built", state="complete")
    built_key, built = st.session_state.get("papers", (None, []))
    for paper in built if built_key == key else []:
        st.download_button(
            f"{paper.label}: {paper.file_name}",
            paper.data,
            paper.file_name,
            paper.mime,
            on_click="ignore",
        )
