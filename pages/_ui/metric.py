"""The metric page's widgets: status and forecast, the trend and XmR charts, the definition,
the alignment links and the audit trail."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics import charts, views
from metrics.config import settings
from metrics.explain import POLARITY_PHRASE, format_value
from metrics.periods import spoken
from metrics.plain_words import definition_table
from pages._ui.readers import audit
from pages._ui.routing import KIND_WORDS, PAGE_FILES, link_query, period
from pages._ui.text import plain
from pages._ui.widgets import metric_table, status_badge

# --- The metric page --------------------------------------------------------------------------


def metric_summary(view: views.MetricView) -> None:
    """Status and year-end forecast side by side, the signal, and the sentence that says why."""
    current = view.current
    if current is None:
        st.info(f"No period of {plain(view.code)} ends on or before {period()}.")
        return
    unit, decimals = str(view.template["unit"]), int(view.template["decimals"])
    now, forecast, signal = st.columns(3, border=True)
    with now:
        st.caption(f"Status for {spoken(current['period'])}")
        status_badge(str(current["rag"]))
        st.metric(
            "Year to date" if current.get("rated_on") == "ytd" else "Actual",
            value_text(
                current, "ytd" if current.get("rated_on") == "ytd" else "actual", unit, decimals
            ),
        )
        st.caption(
            f"Travel: {charts.direction_label(current['dot_previous'])} on the previous "
            f"period, {charts.direction_label(current['dot_last_year'])} on last year"
        )
    with forecast:
        st.caption("Year-end forecast")
        status_badge(str(current["forecast_rag"]))
        st.metric("Projected outturn", value_text(current, "forecast", unit, decimals))
        st.caption(f"Against {target_text(current, 'forecast_target', unit, decimals)}")
    with signal:
        st.caption("Signal or noise (XmR)")
        spc_badges(current)
        st.metric(
            "Risk",
            f"{current['risk_level']} ({int(current['risk_score'])})",
            help=plain(str(current.get("risk_why") or "")) or None,
        )
    st.markdown(f"**Why:** {plain(current['explanation'])}")
    if current.get("risk_why"):
        st.markdown(f"**Risk:** {plain(current['risk_why'])}")
    st.markdown(f"**Variation:** {plain(current['spc_variation_why'])}")
    st.markdown(f"**Assurance:** {plain(current['spc_assurance_why'])}")
    if current.get("commentary"):
        st.markdown(f"**Commentary:** {plain(current['commentary'])}")
    if current.get("corrective_action"):
        st.markdown(f"**Corrective action:** {plain(current['corrective_action'])}")


def spc_badges(current: dict[str, object]) -> None:
    """The XmR variation badge and, where there is one, the assurance badge."""
    with st.container(horizontal=True, gap="small"):
        # each badge carries its sentence, so "Common cause" is never left unexplained
        st.badge(
            str(current["spc_variation"]),
            color="violet",
            help=plain(str(current.get("spc_variation_why") or "")) or None,
        )
        if current.get("spc_assurance"):
            st.badge(
                str(current["spc_assurance"]),
                color="blue",
                help=plain(str(current.get("spc_assurance_why") or "")) or None,
            )


def value_text(row: dict[str, object], column: str, unit: str, decimals: int) -> str:
    """A number from a row in the metric's unit ('–' when there is none)."""
    value = row.get(column)
    return "–" if value is None or pd.isna(value) else format_value(float(value), unit, decimals)


def target_text(row: dict[str, object], column: str, unit: str, decimals: int) -> str:
    """A target in the metric's unit; a band's as its range ('1.80 % to 2.40 %')."""
    lower = value_text(row, column, unit, decimals)
    upper = value_text(row, f"{column}_upper", unit, decimals)
    return f"{lower} to {upper}" if row.get("polarity") == "band" and upper != "–" else lower


def trend_chart(view: views.MetricView) -> None:
    """Actual against target with the tolerance band, or a message saying what is missing."""
    if view.trend.empty or view.trend["value"].isna().all():
        st.info(f"No actual has been entered for {plain(view.code)} up to {spoken(period())}.")
        return
    cumulative = bool((view.history["rated_on"] == "ytd").any())
    st.plotly_chart(
        charts.trend_figure(
            view.trend,
            unit=str(view.template["unit"]),
            decimals=int(view.template["decimals"]),
            title="Year to date" if cumulative else "Actual",
        ),
        key="trend",
    )


def xmr_chart(view: views.MetricView) -> None:
    """The XmR chart with its two readings' sentences, or how many more values it needs."""
    needed = settings().rating.spc_min_points
    if view.xmr.empty:
        have = int(view.history["actual"].notna().sum()) if len(view.history) else 0
        st.info(
            f"An XmR chart needs at least {needed} values; {plain(view.code)} has {have} so far."
        )
        return
    st.plotly_chart(charts.xmr_figure(view.xmr, view.xmr["period"].map(spoken)), key="xmr")
    if view.current is not None:
        st.caption(plain(view.current["spc_variation_why"]))
        st.caption(plain(view.current["spc_assurance_why"]))


def definition(view: views.MetricView) -> None:
    """The measure's template as a two-column table, every setting in plain words."""
    rows = definition_table(view.template, settings().rating.default_tolerance_percent)
    st.dataframe(rows, hide_index=True, key="definition")


def polarity_text(polarity: str) -> str:
    """'higher is better', 'lower is better' or 'inside the target range is best'."""
    return POLARITY_PHRASE.get(polarity, polarity)


def _links(label: str, crumbs: list[views.Crumb]) -> None:
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.markdown(label)
        for crumb in crumbs:
            st.page_link(
                PAGE_FILES[crumb.kind],
                label=f"{KIND_WORDS[crumb.kind]} {plain(crumb.label)}",
                query_params=link_query(crumb.kind, crumb.code),
            )


def alignment_links(view: views.MetricView) -> None:
    """Who owns the measure, what it is aligned to (up) and what is aligned to it (down)."""
    if view.owners:
        _links("Owned by:", view.owners)
    if view.aligned_up:
        _links("Aligned to:", view.aligned_up)
    st.markdown(f"**Measures aligned to {plain(view.code)}**")
    metric_table(
        view.aligned_below,
        key="aligned_below",
        empty=f"No measure is aligned to {plain(view.code)}.",
    )


def audit_table(code: str, clearance: str) -> None:
    """Who changed the measure's template and values, newest first."""
    trail = audit(code, clearance)
    if trail is None or trail.empty:
        st.info(f"No change to {plain(code)} has been recorded.")
        return
    st.dataframe(trail, hide_index=True, key="audit")
