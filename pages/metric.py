"""One measure: trend against target, signal or noise, every period, its definition and audit."""

import streamlit as st

from pages import _ui as ui

user = ui.require("metric")
period = ui.period()
code = ui.selected("metric", ui.options("metric", user.clearance), "Measure")
if code is None or period is None:
    st.title("Measures")
    ui.index("metric", period, user.clearance)
    st.stop()

view = ui.metric_view(code, period, user.clearance)
ui.breadcrumb(view.path, code)
st.title(f"{ui.plain(code)}: {ui.plain(view.template['title'])}")
ui.metric_summary(view)

trend, signal, history, about, audit = st.tabs(
    ["Trend", "Signal or noise", "Periods", "Definition and alignment", "Audit trail"]
)
with trend:
    ui.trend_chart(view)
with signal:
    ui.xmr_chart(view)
with history:
    st.dataframe(view.table, hide_index=True, key="periods")
with about:
    ui.definition(view)
    ui.alignment(view)
with audit:
    ui.audit_table(code, user.clearance)
