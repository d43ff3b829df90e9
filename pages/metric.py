"""One measure: trend against target, signal or noise, every period, its definition and audit."""

import streamlit as st

from pages import _ui as ui

user = ui.require("metric")
committee = not ui.may(user, "metric", "unapproved")  # a councillor: approved values only
period = ui.period()
code = ui.selected("metric", ui.options("metric", user.clearance), "Measure")
if code is None or period is None:
    st.title("Measures")
    ui.index("metric", period, user.clearance, committee)
    st.stop()

view = ui.metric_view(code, period, user.clearance, committee)
ui.breadcrumb(view.path, code)
st.title(f"{ui.plain(code)}: {ui.plain(view.template['title'])}")
ui.metric_summary(view)

audited = ui.may(user, "metric", "audit")  # the raw audit trail is not the committee's
tabs = ["Trend", "Signal or noise", "Periods", "Definition and alignment"]
trend, signal, history, about, *audit = st.tabs([*tabs, "Audit trail"] if audited else tabs)
with trend:
    ui.trend_chart(view)
with signal:
    ui.xmr_chart(view)
with history:
    st.dataframe(view.table, hide_index=True, key="periods")
with about:
    ui.definition(view)
    ui.alignment_links(view)
if audited:
    with audit[0]:
        ui.audit_table(code, user.clearance)
