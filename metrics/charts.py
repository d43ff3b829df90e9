"""Plotly figures and the one palette: every status is a colour *and* a symbol, never colour alone.

The colours follow Okabe and Ito's palette, which readers with the common colour-vision
deficiencies can tell apart, with Red, Green and Amber set dark, middling and light so the three
also part in greyscale print; the symbols (text and marker shapes) carry the status on their own.
Text that came from users (titles, names) is escaped before it reaches a figure, because
Plotly reads a small set of HTML tags in labels.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

from metrics.explain import format_value
from metrics.periods import spoken
from metrics.vocab import Direction, Polarity, Signal, Status

STATUS_COLOURS: dict[str, str] = {
    # Okabe and Ito's vermilion sat too close to their orange, and to their green in greyscale:
    # Red is a dark red (CIE lightness about 35), Amber a light amber (about 82).
    Status.RED.value: "#A50F15",  # dark red
    Status.AMBER.value: "#F5C710",  # amber
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
    Signal.NEUTRAL.value: "#000000",
}
LINE_COLOUR = "#333333"
TARGET_COLOUR = "#000000"
LAST_YEAR_COLOUR = "#999999"
BAND_FILL = "rgba(245, 199, 16, 0.25)"  # the Amber colour, light
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


# --- A metric's trend --------------------------------------------------------------------------


def year_breaks(trend: pd.DataFrame) -> pd.Series:
    """True where a year-to-date line must break: the first period of each financial year after
    the first, because the yearly reset to zero is not a collapse."""
    if "fiscal_year" not in trend or "cumulative" not in trend:
        return pd.Series(False, index=trend.index)
    new_year = trend["fiscal_year"].ne(trend["fiscal_year"].shift()) & (
        pd.RangeIndex(len(trend)) > 0
    )
    return new_year & trend["cumulative"].fillna(False).astype(bool)


def broken_line(values: pd.Series, breaks: pd.Series) -> tuple[list[float], list[float | None]]:
    """A line's x positions and y with a gap (None) before each break, so no segment joins two
    financial years."""
    xs: list[float] = []
    ys: list[float | None] = []
    for position, (value, gap) in enumerate(zip(values, breaks, strict=True)):
        if gap:
            xs.append(position - 0.5)
            ys.append(None)
        xs.append(position)
        ys.append(None if pd.isna(value) else float(value))
    return xs, ys


def step_line(values: pd.Series) -> tuple[list[float], list[float | None]]:
    """A target as steps a whole period wide, centred on each period: the last step is as wide
    as the others instead of collapsing to a vertical line at the chart's edge."""
    xs: list[float] = []
    ys: list[float | None] = []
    for position, value in enumerate(values):
        level = None if pd.isna(value) else float(value)
        xs += [position - 0.5, position + 0.5]
        ys += [level, level]
    return xs, ys


def _ticks(labels: list[str], most: int = 12) -> tuple[list[int], list[str]]:
    """At most `most` period labels along the axis, evenly spaced, the latest always shown."""
    every = max(1, -(-len(labels) // most))
    chosen = list(range(len(labels) - 1, -1, -every))[::-1]
    return chosen, [labels[i] for i in chosen]


# Above the plot, where wrapping on a phone pushes the plot down instead of covering the axis.
LEGEND_ABOVE = {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0}


def trend_figure(trend: pd.DataFrame, *, unit: str, decimals: int, title: str) -> go.Figure:
    """Actual (or year to date) against target, the tolerance band shaded, each point marked by
    its status (colour and shape), and last year's values for comparison. Targets are steps a
    period wide; a year-to-date line breaks at each financial year (`year_breaks`).

    `trend`: period, value, target, target_upper, band_low, band_high, status, last_year,
    polarity, and optionally fiscal_year and cumulative (`views.measure.trend_frame`).
    """
    if trend.empty or trend["value"].isna().all():
        return _empty_figure("No values have been entered for this measure yet.")
    trend = trend.reset_index(drop=True)
    figure = go.Figure()
    labels = [spoken(p) for p in trend["period"]]
    breaks = year_breaks(trend)
    polarity = trend["polarity"].iloc[0]
    if trend["band_low"].notna().any():
        x, y = step_line(trend["band_low"])
        figure.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                name="band_low",
            )
        )
        x, y = step_line(trend["band_high"])
        figure.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=BAND_FILL,
                name="Tolerance band (Amber)",
                hoverinfo="skip",
            )
        )
    if trend["target"].notna().any():
        x, y = step_line(trend["target"])
        figure.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                line={"color": TARGET_COLOUR, "dash": "dash"},
                name="Target" if polarity != Polarity.BAND.value else "Target range (lower)",
                hovertemplate="Target %{y}<extra></extra>",
            )
        )
    if polarity == Polarity.BAND.value and trend["target_upper"].notna().any():
        x, y = step_line(trend["target_upper"])
        figure.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                line={"color": TARGET_COLOUR, "dash": "dash"},
                name="Target range (upper)",
                fill="tonexty",
                fillcolor=GREEN_FILL,
                hovertemplate="Upper target %{y}<extra></extra>",
            )
        )
    if trend["last_year"].notna().any():
        x, y = broken_line(trend["last_year"], breaks)
        figure.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                line={"color": LAST_YEAR_COLOUR, "dash": "dot"},
                name="Last year",
                hovertemplate="Same period last year %{y}<extra></extra>",
            )
        )
    x, y = broken_line(trend["value"], breaks)
    figure.add_trace(
        go.Scatter(
            x=x, y=y, mode="lines", line={"color": LINE_COLOUR}, name=title, hoverinfo="skip"
        )
    )
    text = [
        f"{label}: {format_value(v, unit, decimals)}"
        for label, v in zip(labels, trend["value"], strict=True)
    ]
    for status in STATUS_COLOURS:
        chosen = (trend["status"] == status) & trend["value"].notna()
        if not chosen.any():
            continue
        figure.add_trace(
            go.Scatter(
                x=list(trend.index[chosen]),
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
                hovertemplate="%{text} " + status_label(status) + "<extra></extra>",
            )
        )
    tickvals, ticktext = _ticks(labels)
    figure.update_layout(
        margin={"t": 30, "l": 10, "r": 10, "b": 10},
        height=380,
        legend=LEGEND_ABOVE,
        xaxis={
            "title": None,
            "range": [-0.5, len(trend) - 0.5],
            "tickmode": "array",
            "tickvals": tickvals,
            "ticktext": ticktext,
            "zeroline": False,
        },
        yaxis={"title": safe_text(title)},
        hovermode="closest",
    )
    return figure


# --- Signal or noise ----------------------------------------------------------------------------


def xmr_figure(chart: pd.DataFrame, periods: pd.Series) -> go.Figure:
    """XmR chart: the values, their mean, the natural process limits (mean ± 2.66 × mean moving
    range), the target where there is one, and each special-cause point marked by its
    `variation` (improving, concerning or neutral), as the badges read the latest point.

    `chart` is `metrics.spc.xmr(values, polarity)`; `periods` labels its rows in the same order.
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
    lines = [
        ("mean", "Mean", "solid"),
        ("upper_limit", "Upper process limit", "dash"),
        ("lower_limit", "Lower process limit", "dash"),
    ]
    if "target" in chart and chart["target"].notna().any():
        lines.append(("target", "Target", "dot"))
    for column, name, dash in lines:
        figure.add_trace(
            go.Scatter(
                x=x,
                y=chart[column],
                mode="lines",
                name=name,
                line={"color": "#666666", "dash": dash, "width": 1},
            )
        )
    for kind, symbol in (
        (Signal.IMPROVING.value, "triangle-up"),
        (Signal.CONCERNING.value, "triangle-down"),
        (Signal.NEUTRAL.value, "star"),
    ):
        chosen = chart["variation"] == kind
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
        legend=LEGEND_ABOVE,
        xaxis={"type": "category"},
    )
    return figure


# --- Data quality ---------------------------------------------------------------------------


def completeness_figure(shares: pd.DataFrame) -> go.Figure:
    """The share of due values in (`quality.completeness`) per team and month, as a heatmap:
    one row per service and team, one column per month, 0 % to 100 %."""
    if shares.empty:
        return _empty_figure("Nothing was due in these months.")
    rows = shares.assign(row=shares["service"] + " · " + shares["team"])
    grid = rows.pivot_table(index="row", columns="month", values="share") * 100
    counts = rows.pivot_table(index="row", columns="month", values="due", aggfunc="sum")
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[spoken(month) for month in grid.columns],  # in month order: "2016-04" sorts
            y=[safe_text(name) for name in grid.index],
            zmin=0,
            zmax=100,
            colorscale="Blues",
            customdata=counts.reindex_like(grid).to_numpy(),
            hovertemplate="%{y}<br>%{x}: %{z:.0f} % of %{customdata} due<extra></extra>",
            colorbar={"title": "% in"},
        )
    )
    figure.update_layout(
        height=max(240, 26 * len(grid) + 120),
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        yaxis={"autorange": "reversed"},
    )
    return figure
