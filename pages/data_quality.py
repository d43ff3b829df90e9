"""Data quality: how complete, timely and checked the last 12 months' values are, who to chase,
and the six Audit Commission dimensions."""

import streamlit as st

from metrics.periods import spoken
from pages import _ui as ui

user = ui.require("data_quality")
month = ui.period()
st.title(f"Data quality: 12 months to {spoken(month)}" if month else "Data quality")
if month is None:
    st.info("No values have been entered yet.")
    st.stop()
view = ui.data_quality(user.clearance, month)

st.subheader("Completeness: share of due values submitted or approved")
ui.completeness_chart(view["grid"])

st.subheader("Chase list: values not in")
ui.table(view["chase"], "Every value due is in.")
ui.csv_download(view["chase_csv"], f"chase-list-{month}.csv", "Download the chase list (CSV)")

st.subheader("Awaiting approval, oldest first")
ui.table(view["awaiting"], "Nothing is waiting for approval.")

st.subheader("Outliers to review")
ui.table(view["outliers"], "No outlier is waiting for a review.")

st.subheader("Returned and not yet submitted again")
ui.table(view["returned"], "No value is waiting to be submitted again.")

st.subheader("The six Audit Commission dimensions")
ui.table(
    view["dimensions"],
    "Nothing was due.",
    column_config={"figure": st.column_config.NumberColumn("Figure", format="percent")},
)
