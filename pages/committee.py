"""Committee papers: freeze a period for the committee, show a snapshot exactly as frozen and
verify its hash, compare two, list pending restatements, and download the papers."""

import streamlit as st

from metrics.config import settings
from metrics.periods import day_text, spoken
from pages import _ui as ui

user = ui.require("committee")
committee = ui.committee
st.title("Committee papers")

st.subheader("Freeze a snapshot")
periods = committee.freeze_periods(user)
if not periods:
    st.info("No values have been entered yet, so there is nothing to freeze.")
    st.stop()
chosen = ui.period() if ui.period() in periods else periods[0]
period = st.selectbox(
    "Period", periods, index=periods.index(chosen), format_func=spoken, key="freeze_period"
)
waiting = committee.unapproved(period)
with st.form("freeze"):
    st.text_input("Committee", value=settings().committee.name, key="freeze_committee")
    st.text_input("Title", placeholder="The agenda item, e.g. Performance Q4", key="freeze_title")
    st.date_input("Meeting date", value=None, format="DD/MM/YYYY", key="freeze_meeting")
    st.checkbox(
        f"Include unapproved values ({waiting} in {spoken(period)} not approved yet)",
        disabled=not waiting,
        key="freeze_unapproved",
        help="Each frozen row then says whether its value was approved.",
    )
    st.form_submit_button("Freeze the snapshot", type="primary", on_click=committee.freeze_snapshot)
committee.freeze_outcome()

st.subheader("Snapshots")
listed = committee.snapshot_list()
if listed.empty:
    st.info("No snapshot has been frozen yet.")
    st.stop()
st.caption("Select a snapshot to see it exactly as frozen; the newest is shown until you do.")
shown = committee.snapshot_picker(listed)
frozen = committee.frozen(shown, user.clearance)
check = committee.verify(shown)
header = frozen.snapshot
st.markdown(
    f"**Snapshot {header.id}: {ui.plain(header.title)}**, {ui.plain(header.committee)}, "
    f"{spoken(header.period)}, rated on {day_text(header.rated_on)}, marked {header.marking}"
)
if check.ok:
    st.success(f"SHA-256 hash verified: {check.stored}", icon=":material/verified:")
else:
    st.error(
        f"The stored rows do not match the hash: stored {check.stored}, computed {check.computed}",
        icon=":material/gpp_bad:",
    )
st.dataframe(committee.frozen_table(frozen.rows), hide_index=True, key="frozen_rows")

st.subheader("Papers")
cleared = committee.may_include_sensitive(user)
sensitive = cleared and st.checkbox("Include OFFICIAL-SENSITIVE measures in the pack")
committee.paper_downloads(shown, user, sensitive)

st.subheader("Compare two snapshots")
labels = committee.snapshot_label(listed)
if len(labels) < 2:
    st.info("Freeze a second snapshot to compare it with this one.")
else:
    ids = list(labels)
    left, right = st.columns(2)
    before = left.selectbox("Before", ids, index=1, format_func=labels.get, key="before")
    after = right.selectbox("After", ids, index=0, format_func=labels.get, key="after")
    moved = committee.comparison(before, after, user.clearance)
    for name, table in [
        ("Status movements", moved.movements),
        ("New reds", moved.new_reds),
        ("Recovered reds", moved.recovered),
        ("Added", moved.added),
        ("Retired", moved.retired),
    ]:
        st.markdown(f"**{name}** ({len(table)})")
        st.dataframe(table, hide_index=True, key=f"compare_{name}")

st.subheader("Pending restatements")
st.caption("Published values or targets changed since the snapshot that last published them.")
pending = committee.pending_restatements(user.clearance)
if pending.empty:
    st.info("Nothing published has changed since.")
else:
    st.dataframe(pending, hide_index=True, key="restatements")
