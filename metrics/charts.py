"""Plotly figures and the one palette: every status is a colour *and* a symbol, never colour alone.

The colours follow Okabe and Ito's palette, which readers with the common colour-vision
deficiencies can tell apart; the symbols (text and marker shapes) carry the status on their own.
Text that came from users (titles, names) is escaped before it reaches a figure, because
Plotly reads a small set of HTML tags in labels.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from metrics.rating import format_value
from metrics.vocab import Direction, Polarity, Signal, Status

STATUS_COLOURS: dict[str, str] = {
    Status.RED.value: "#D55E00",  # vermilion
    Status.AMBER.value: "#E69F00",  # orange
    Status.GREEN.value: "#009E73",  # bluish green
    Status.DATA_ONLY.value: "#999999",  # grey
    Status.MISSING.value: "#56B4E9",  # sky blue
    Status.OVERDUE.value: "#0072B2",  # blue
}
# One text symbol per status, and the Plotly marker of the same shape.
STATUS_SYMBOLS: dict[str, str] = {
    Status.RED.value: "✖",
    Status.AMBER.value: "◆",
    Status.GREEN.value: "●",
    Status.DATA_ONLY.value: "■",
    Status.MISSING.value: "○",
    Status.OVERDUE.value: "⊗",
}
STATUS_MARKERS: dict[str, str] = {
    Status.RED.value: "x",
    Status.AMBER.value: "diamond",
    Status.GREEN.value: "circle",
    Status.DATA_ONLY.value: "square",
    Status.MISSING.value: "circle-open",
    Status.OVERDUE.value: "circle-x-open",
}
# Direction of travel, already read with the polarity: up is better, whichever way the number went.
DIRECTION_LABELS: dict[str, str] = {
    Direction.IMPROVING.value: "▲ Improving",
    Direction.WORSENING.value: "▼ Worsening",
    Direction.STABLE.value: "► Stable",
    Direction.NO_COMPARISON.value: "– No comparison",
}
SIGNAL_COLOURS: dict[str, str] = {
    Signal.IMPROVING.value: "#0072B2",  # blue, as NHS Making Data Count
    Signal.CONCERNING.value: "#CC79A7",  # reddish purple, never confused with a RAG colour
    Signal.NEITHER.value: "#000000",
}
LINE_COLOUR = "#333333"
TARGET_COLOUR = "#000000"
LAST_YEAR_COLOUR = "#999999"
BAND_FILL = "rgba(230, 159, 0, 0.22)"  # the Amber colour, light
GREEN_FILL = "rgba(0, 158, 115, 0.12)"


def status_label(status: object) -> str:
    """'✖ Red': the symbol and the word, so no reader depends on the colour."""
    if status is None or (isinstance(status, float) and pd.isna(status)):
        return "–"
    text = str(status)
    symbol = STATUS_SYMBOLS.get(text)
    return f"{symbol} {text}" if symbol else text


def direction_label(direction: object) -> str:
    """'▲ Improving', '▼ Worsening' or '► Stable', read with the polarity."""
    if direction is None or (isinstance(direction, float) and pd.isna(direction)):
        return DIRECTION_LABELS[Direction.NO_COMPARISON.value]
    return DIRECTION_LABELS.get(str(direction), str(direction))


def safe_text(text: object) -> str:
    """User text made inert for Plotly labels (which read <b>, <a href> and friends)."""
    return (
        ""
        if text is None or (isinstance(text, float) and pd.isna(text))
        else html.escape(str(text))
    )


def _empty_figure(message: str) -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(text=safe_text(message), showarrow=False, x=0.5, y=0.5)
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


# --- Line of sight ----------------------------------------------------------------------------


def line_of_sight_figure(nodes: pd.DataFrame) -> go.Figure:
    """Sunburst of the line of sight: priority → initiative or service → team → metric.

    `nodes`: id, parent, label, status, value, summary (counts as text), title (hover text).
    Every segment is coloured by its (rolled-up) status and starts with that status's symbol.
    """
    colours = nodes["status"].map(STATUS_COLOURS).fillna(STATUS_COLOURS[Status.DATA_ONLY.value])
    symbols = nodes["status"].map(STATUS_SYMBOLS).fillna("")
    labels = nodes["label"].map(safe_text)
    customdata = pd.DataFrame(
        {
            "status": nodes["status"].map(status_label),
            "summary": nodes["summary"].map(safe_text),
            "title": nodes["title"].map(safe_text),
            "symbol": symbols,
        }
    )
    figure = go.Figure(
        go.Sunburst(
            ids=nodes["id"],
            parents=nodes["parent"].fillna(""),
            labels=labels,
            values=nodes["value"],
            branchvalues="total",
            marker={"colors": colours, "line": {"color": "#FFFFFF", "width": 1}},
            customdata=customdata.to_numpy(),
            texttemplate="%{customdata[3]} %{label}",
            hovertemplate="<b>%{customdata[2]}</b><br>%{customdata[0]}<br>%{customdata[1]}"
            "<extra></extra>",
            insidetextorientation="radial",
            maxdepth=3,
            sort=False,
        )
    )
    figure.update_layout(margin={"t": 10, "l": 10, "r": 10, "b": 10}, height=480)
    return figure


# --- A metric's trend --------------------------------------------------------------------------


def trend_figure(trend: pd.DataFrame, *, unit: str, decimals: int, title: str) -> go.Figure:
    """Actual (or year to date) against target, the tolerance band shaded, each point marked by
    its status (colour and shape), and last year's values for comparison.

    `trend`: period, value, target, target_upper, band_low, band_high, status, last_year,
    polarity.
    """
    if trend.empty or trend["value"].isna().all():
        return _empty_figure("No values have been entered for this measure yet.")
    figure = go.Figure()
    x = trend["period"]
    polarity = trend["polarity"].iloc[0]
    if trend["band_low"].notna().any():
        figure.add_trace(
            go.Scatter(
                x=x,
                y=trend["band_low"],
                mode="lines",
                line={"width": 0, "shape": "hv"},
                hoverinfo="skip",
                showlegend=False,
                name="band_low",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=x,
                y=trend["band_high"],
                mode="lines",
                line={"width": 0, "shape": "hv"},
                fill="tonexty",
                fillcolor=BAND_FILL,
                name="Tolerance band (Amber)",
                hoverinfo="skip",
            )
        )
    if trend["target"].notna().any():
        figure.add_trace(
            go.Scatter(
                x=x,
                y=trend["target"],
                mode="lines",
                line={"color": TARGET_COLOUR, "dash": "dash", "shape": "hv"},
                name="Target" if polarity != Polarity.BAND.value else "Target range (lower)",
                hovertemplate="Target %{y}<extra></extra>",
            )
        )
    if polarity == Polarity.BAND.value and trend["target_upper"].notna().any():
        figure.add_trace(
            go.Scatter(
                x=x,
                y=trend["target_upper"],
                mode="lines",
                line={"color": TARGET_COLOUR, "dash": "dash", "shape": "hv"},
                name="Target range (upper)",
                fill="tonexty",
                fillcolor=GREEN_FILL,
                hovertemplate="Upper target %{y}<extra></extra>",
            )
        )
    if trend["last_year"].notna().any():
        figure.add_trace(
            go.Scatter(
                x=x,
                y=trend["last_year"],
                mode="lines",
                line={"color": LAST_YEAR_COLOUR, "dash": "dot"},
                name="Last year",
                hovertemplate="Same period last year %{y}<extra></extra>",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=trend["value"],
            mode="lines",
            line={"color": LINE_COLOUR},
            name=title,
            hoverinfo="skip",
        )
    )
    text = [format_value(v, unit, decimals) for v in trend["value"]]
    for status in STATUS_COLOURS:
        chosen = (trend["status"] == status) & trend["value"].notna()
        if not chosen.any():
            continue
        figure.add_trace(
            go.Scatter(
                x=x[chosen],
                y=trend["value"][chosen],
                mode="markers",
                marker={
                    "color": STATUS_COLOURS[status],
                    "symbol": STATUS_MARKERS[status],
                    "size": 11,
                    "line": {"width": 1, "color": STATUS_COLOURS[status]},
                },
                name=status_label(status),
                text=[t for t, c in zip(text, chosen, strict=True) if c],
                hovertemplate="%{x}: %{text} " + status_label(status) + "<extra></extra>",
            )
        )
    figure.update_layout(
        margin={"t": 30, "l": 10, "r": 10, "b": 10},
        height=380,
        legend={"orientation": "h", "y": -0.15},
        xaxis={"type": "category", "title": None},
        yaxis={"title": safe_text(title)},
        hovermode="closest",
    )
    return figure


# --- Signal or noise ----------------------------------------------------------------------------


def xmr_figure(chart: pd.DataFrame, periods: pd.Series, *, polarity: str) -> go.Figure:
    """XmR chart: the values, their mean, the natural process limits (mean ± 2.66 × mean moving
    range) and each special-cause point marked as improving or concerning (read with polarity).

    `chart` is `metrics.rating.xmr(values)`; `periods` labels its rows in the same order.
    """
    if chart.empty:
        return _empty_figure("No values to chart yet.")
    x = list(periods)
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=x, y=chart["value"], mode="lines+markers", name="Value", line={"color": LINE_COLOUR}
        )
    )
    for column, name, dash in (
        ("mean", "Mean", "solid"),
        ("upper_limit", "Upper process limit", "dash"),
        ("lower_limit", "Lower process limit", "dash"),
    ):
        figure.add_trace(
            go.Scatter(
                x=x,
                y=chart[column],
                mode="lines",
                name=name,
                line={"color": "#666666", "dash": dash, "width": 1},
            )
        )
    special = chart["special_cause"].astype(bool)
    if special.any():
        high = chart["high"].astype(bool)  # as the signal badge reads it (rating.xmr)
        good = high if polarity == Polarity.HIGHER.value else ~high
        kinds = pd.Series(Signal.CONCERNING.value, index=chart.index).where(
            ~good, Signal.IMPROVING.value
        )
        if polarity == Polarity.BAND.value:
            kinds[:] = Signal.NEITHER.value
        for kind, symbol in (
            (Signal.IMPROVING.value, "triangle-up"),
            (Signal.CONCERNING.value, "triangle-down"),
            (Signal.NEITHER.value, "star"),
        ):
            chosen = special & (kinds == kind)
            if not chosen.any():
                continue
            figure.add_trace(
                go.Scatter(
                    x=[p for p, c in zip(x, chosen, strict=True) if c],
                    y=chart["value"][chosen],
                    mode="markers",
                    name=kind,
                    marker={"color": SIGNAL_COLOURS[kind], "symbol": symbol, "size": 13},
                )
            )
    figure.update_layout(
        margin={"t": 30, "l": 10, "r": 10, "b": 10},
        height=320,
        legend={"orientation": "h", "y": -0.2},
        xaxis={"type": "category"},
    )
    return figure
