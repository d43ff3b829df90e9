"""The public view: the council's latest published performance, read without signing in."""

import streamlit as st

from metrics.charts import status_label
from metrics.publish.licence import LICENCE_NOTE, OGL_URL
from metrics.rating import COUNT_COLUMNS
from pages import _ui as ui

ui.require_public()
view = ui.public_view()
if view is None:
    st.title("Our performance")
    st.info("The council has not published any performance data yet.")
    st.caption(f"[{LICENCE_NOTE}]({OGL_URL})")
    st.stop()

st.title(f"How {ui.plain(view.council)} is performing")
st.caption(
    f"The measures the council publishes, as reported for {ui.plain(view.period)}. Each status "
    "compares the latest value with its target; the trend shows the value in each month "
    f"published ({ui.plain(', '.join(view.published))})."
)
for column, status in zip(st.columns(len(COUNT_COLUMNS)), COUNT_COLUMNS, strict=True):
    column.metric(status_label(status), view.totals.get(status, 0))

st.subheader("By priority")
st.dataframe(view.counts, hide_index=True)

st.subheader("Each measure")
st.dataframe(
    view.measures,
    hide_index=True,
    column_config={
        "Why": st.column_config.TextColumn(width="large"),
        "Trend": st.column_config.LineChartColumn("Trend", help="The value in each month"),
    },
)
if view.withheld:
    st.caption(f"{view.withheld} measure(s) awaiting approval are not shown yet.")
st.download_button(
    "Download this data (CSV)",
    data=ui.public_csv(),
    file_name=f"performance-{view.period}.csv",
    mime="text/csv",
    icon=":material/download:",
)
st.caption(f"[{LICENCE_NOTE}]({OGL_URL})")
