"""Figures and the palette: every status a colour and a symbol; limits and bands in place."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from metrics import charts
from metrics.config import RatingDefaults
from metrics.rating import spc_signal, xmr
from metrics.vocab import Direction, Signal, Status


def test_every_status_has_its_own_colour_symbol_and_marker() -> None:
    statuses = [s.value for s in Status]
    for table in (charts.STATUS_COLOURS, charts.STATUS_SYMBOLS, charts.STATUS_MARKERS):
        assert set(table) == set(statuses)
        assert len(set(table.values())) == len(statuses)  # no two statuses look alike


@pytest.mark.parametrize(
    ("status", "label"),
    [
        ("Red", "✖ Red"),
        ("Amber", "◆ Amber"),
        ("Green", "● Green"),
        ("Data only", "■ Data only"),
        ("Missing", "○ Missing"),
        ("Overdue", "⊗ Overdue"),
        (None, "–"),
        (float("nan"), "–"),
    ],
)
def test_status_label_carries_symbol_and_word(status: object, label: str) -> None:
    assert charts.status_label(status) == label


@pytest.mark.parametrize(
    ("direction", "label"),
    [
        (Direction.IMPROVING.value, "▲ Improving"),
        (Direction.WORSENING.value, "▼ Worsening"),
        (Direction.STABLE.value, "► Stable"),
        (Direction.NO_COMPARISON.value, "– No comparison"),
        (None, "– No comparison"),
    ],
)
def test_direction_label_reads_with_polarity(direction: object, label: str) -> None:
    assert charts.direction_label(direction) == label


def test_user_text_is_made_inert_for_plotly() -> None:
    assert charts.safe_text('<a href="javascript:x">Homes</a>') == (
        "&lt;a href=&quot;javascript:x&quot;&gt;Homes&lt;/a&gt;"
    )
    assert charts.safe_text(None) == ""


def nodes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["P:a", "P:a|M:CP1", "P:a|M:CP2"],
            "parent": ["", "P:a", "P:a"],
            "label": ["<b>Homes</b>", "CP1", "CP2"],
            "status": ["Red", "Red", "Green"],
            "value": [2, 1, 1],
            "summary": ["1 Red · 1 Green", "1 Red", "1 Green"],
            "title": ["Homes", "CP1: one", "CP2: two"],
        }
    )


def test_line_of_sight_is_a_sunburst_coloured_and_marked_by_status() -> None:
    figure = charts.line_of_sight_figure(nodes())
    (trace,) = figure.data
    assert trace.type == "sunburst"
    assert list(trace.ids) == ["P:a", "P:a|M:CP1", "P:a|M:CP2"]
    assert list(trace.parents) == ["", "P:a", "P:a"]
    assert list(trace.marker.colors) == ["#D55E00", "#D55E00", "#009E73"]
    assert trace.branchvalues == "total"
    # the symbol starts every segment's text, so colour is never the only cue
    assert trace.texttemplate.startswith("%{customdata[3]}")
    assert [row[3] for row in trace.customdata] == ["✖", "✖", "●"]
    assert trace.labels[0] == "&lt;b&gt;Homes&lt;/b&gt;"


def trend(polarity: str = "higher") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": ["2016-01", "2016-02", "2016-03", "2016-04"],
            "value": [80.0, 77.0, 70.0, np.nan],
            "target": [80.0] * 4,
            "target_upper": [90.0 if polarity == "band" else np.nan] * 4,
            "band_low": [76.0] * 4,
            "band_high": [94.5 if polarity == "band" else 80.0] * 4,
            "status": ["Green", "Amber", "Red", "Missing"],
            "last_year": [np.nan, 75.0, 72.0, 71.0],
            "polarity": [polarity] * 4,
        }
    )


def test_trend_shades_the_tolerance_band_between_its_edges() -> None:
    figure = charts.trend_figure(trend(), unit="percent", decimals=1, title="Actual")
    names = [t.name for t in figure.data]
    band = names.index("Tolerance band (Amber)")
    assert figure.data[band].fill == "tonexty"
    assert list(figure.data[band].y) == [80.0] * 4  # filled down to the trace before it
    assert list(figure.data[band - 1].y) == [76.0] * 4
    assert {"Target", "Last year", "Actual"} <= set(names)


def test_trend_marks_each_point_by_status_with_colour_and_shape() -> None:
    figure = charts.trend_figure(trend(), unit="percent", decimals=1, title="Actual")
    points = {t.name: t for t in figure.data if t.mode == "markers"}
    assert set(points) == {"● Green", "◆ Amber", "✖ Red"}  # no point for a missing value
    red = points["✖ Red"]
    assert list(red.x) == ["2016-03"] and list(red.y) == [70.0]
    assert red.marker.symbol == "x" and red.marker.color == "#D55E00"
    assert points["◆ Amber"].marker.symbol == "diamond"
    assert list(red.text) == ["70.0 %"]


def test_band_polarity_draws_both_ends_of_the_target_range() -> None:
    figure = charts.trend_figure(trend("band"), unit="percent", decimals=1, title="Actual")
    names = [t.name for t in figure.data]
    assert {"Target range (lower)", "Target range (upper)"} <= set(names)
    upper = figure.data[names.index("Target range (upper)")]
    assert list(upper.y) == [90.0] * 4


def test_trend_without_values_says_so_instead_of_drawing_an_empty_chart() -> None:
    empty = trend().assign(value=np.nan)
    figure = charts.trend_figure(empty, unit="percent", decimals=1, title="Actual")
    assert not figure.data
    assert "No values" in figure.layout.annotations[0].text


def test_xmr_draws_mean_and_process_limits_and_marks_special_causes() -> None:
    values = pd.Series([10, 11, 10, 12, 11, 10, 11, 12, 10, 11, 30, 11], dtype=float)
    chart = xmr(values)
    figure = charts.xmr_figure(chart, [f"p{i}" for i in range(12)], polarity="higher")
    by_name = {t.name: t for t in figure.data}
    assert list(by_name["Upper process limit"].y) == pytest.approx(chart["upper_limit"].tolist())
    assert list(by_name["Lower process limit"].y) == pytest.approx(chart["lower_limit"].tolist())
    assert list(by_name["Mean"].y) == pytest.approx([values.mean()] * 12)
    improving = by_name["Special cause: improving"]
    assert list(improving.x) == ["p10"] and improving.marker.color == "#0072B2"


def test_xmr_reads_a_high_point_as_concerning_when_lower_is_better() -> None:
    values = pd.Series([10, 11, 10, 12, 11, 10, 11, 12, 10, 11, 30, 11], dtype=float)
    figure = charts.xmr_figure(xmr(values), [f"p{i}" for i in range(12)], polarity="lower")
    by_name = {t.name: t for t in figure.data}
    assert "p10" in list(by_name["Special cause: concerning"].x)
    # the long run under the (outlier-inflated) mean is good news when lower is better
    assert "p10" not in list(by_name["Special cause: improving"].x)
    assert "p3" in list(by_name["Special cause: improving"].x)


def test_xmr_marks_a_rising_trend_below_the_mean_as_the_badge_reads_it() -> None:
    values = pd.Series([50, 52, 49, 51, 50, 53, 48, 50, 51, 49, 52, 50, 44, 45, 46, 47, 48, 49])
    assert spc_signal(values, "higher", rating=RatingDefaults()) == Signal.IMPROVING
    periods = [f"p{i}" for i in range(len(values))]
    figure = charts.xmr_figure(xmr(values), periods, polarity="higher")
    marked = {trace.name: list(trace.x) for trace in figure.data if trace.mode == "markers"}
    assert marked == {Signal.IMPROVING.value: periods[-6:]}
