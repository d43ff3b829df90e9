"""Figures and the palette: every status a colour and a symbol; limits and bands in place."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from metrics import charts
from metrics.config import RatingRules
from metrics.spc import spc_signal, xmr
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


def lightness(colour: str) -> float:
    """CIE L* (0 black to 100 white) of a '#RRGGBB' colour: what survives greyscale print."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    y = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 116 * y ** (1 / 3) - 16 if y > 216 / 24389 else y * 24389 / 27


@pytest.mark.parametrize(
    ("colour", "expected"),
    [("#000000", 0.0), ("#FFFFFF", 100.0), ("#777777", 50.0)],  # pins the formula
)
def test_lightness_is_cie_l_star(colour: str, expected: float) -> None:
    assert lightness(colour) == pytest.approx(expected, abs=0.2)


@pytest.mark.parametrize(
    ("darker", "lighter"),
    [
        ("Red", "Green"),  # the old vermilion and green were 6 apart: one grey in print
        ("Green", "Amber"),
        ("Red", "Amber"),
    ],
)
def test_red_amber_and_green_part_in_greyscale(darker: str, lighter: str) -> None:
    gap = lightness(charts.STATUS_COLOURS[lighter]) - lightness(charts.STATUS_COLOURS[darker])
    assert gap >= 20  # CIE L* units: a step a reader tells apart on a grey print


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
    assert list(figure.data[band].y) == [80.0] * 8  # filled down to the trace before it
    assert list(figure.data[band - 1].y) == [76.0] * 8  # each step a period wide
    assert {"Target", "Last year", "Actual"} <= set(names)


def test_trend_marks_each_point_by_status_with_colour_and_shape() -> None:
    figure = charts.trend_figure(trend(), unit="percent", decimals=1, title="Actual")
    points = {t.name: t for t in figure.data if t.mode == "markers"}
    assert set(points) == {"● Green", "◆ Amber", "✖ Red"}  # no point for a missing value
    red = points["✖ Red"]
    assert list(red.x) == [2] and list(red.y) == [70.0]  # the third period
    assert red.marker.symbol == "x" and red.marker.color == charts.STATUS_COLOURS["Red"]
    assert points["◆ Amber"].marker.symbol == "diamond"
    assert list(red.text) == ["March 2016: 70.0 %"]
    assert list(figure.layout.xaxis.ticktext) == [
        "January 2016",
        "February 2016",
        "March 2016",
        "April 2016",
    ]


def test_band_polarity_draws_both_ends_of_the_target_range() -> None:
    figure = charts.trend_figure(trend("band"), unit="percent", decimals=1, title="Actual")
    names = [t.name for t in figure.data]
    assert {"Target range (lower)", "Target range (upper)"} <= set(names)
    upper = figure.data[names.index("Target range (upper)")]
    assert list(upper.y) == [90.0] * 8


def test_trend_without_values_says_so_instead_of_drawing_an_empty_chart() -> None:
    empty = trend().assign(value=np.nan)
    figure = charts.trend_figure(empty, unit="percent", decimals=1, title="Actual")
    assert not figure.data
    assert "No values" in figure.layout.annotations[0].text


def ytd(periods: list[str], years: list[str], values: list[float], cumulative: bool = True):
    return pd.DataFrame(
        {
            "period": periods,
            "value": values,
            "target": [np.nan] * len(values),
            "target_upper": [np.nan] * len(values),
            "band_low": [np.nan] * len(values),
            "band_high": [np.nan] * len(values),
            "status": ["Data only"] * len(values),
            "last_year": [np.nan] * len(values),
            "polarity": ["higher"] * len(values),
            "fiscal_year": years,
            "cumulative": [cumulative] * len(values),
        }
    )


@pytest.mark.parametrize(
    ("periods", "years", "cumulative", "breaks"),
    [
        # Q3, Q4 then the next year's Q1: the line breaks before Q1 only
        (
            ["2015-16 Q3", "2015-16 Q4", "2016-17 Q1"],
            ["2015-16", "2015-16", "2016-17"],
            True,
            [False, False, True],
        ),
        # February, March, April, May: one break, at April
        (
            ["2016-02", "2016-03", "2016-04", "2016-05"],
            ["2015-16", "2015-16", "2016-17", "2016-17"],
            True,
            [False, False, True, False],
        ),
        # two year ends in one chart: a break at each
        (
            ["2015-03", "2015-04", "2016-03", "2016-04"],
            ["2014-15", "2015-16", "2015-16", "2016-17"],
            True,
            [False, True, False, True],
        ),
        # the chart starts in April: nothing to break from
        (["2016-04", "2016-05"], ["2016-17", "2016-17"], True, [False, False]),
        # a measure rated period by period does not reset, so its line runs on
        (["2016-03", "2016-04"], ["2015-16", "2016-17"], False, [False, False]),
    ],
)
def test_a_year_to_date_line_breaks_at_each_financial_year(periods, years, cumulative, breaks):
    frame = ytd(periods, years, [float(i + 1) for i in range(len(periods))], cumulative)
    assert charts.year_breaks(frame).tolist() == breaks
    figure = charts.trend_figure(frame, unit="number", decimals=0, title="Year to date")
    (line,) = [t for t in figure.data if t.name == "Year to date"]
    # one segment per financial year: a gap (None) just before each year's first period
    segments = [len(part) for part in _split(list(line.y))]
    per_year = [len(list(group)) for _, group in itertools.groupby(years)]
    assert segments == (per_year if cumulative else [len(periods)])


def _split(values: list) -> list[list]:
    """The runs of a line between its gaps."""
    runs: list[list] = [[]]
    for value in values:
        if value is None:
            runs.append([])
        else:
            runs[-1].append(value)
    return [run for run in runs if run]


def test_the_reset_from_march_to_april_is_never_drawn_as_a_fall() -> None:
    frame = ytd(["2016-02", "2016-03", "2016-04"], ["2015-16", "2015-16", "2016-17"], [110, 120, 9])
    figure = charts.trend_figure(frame, unit="number", decimals=0, title="Year to date")
    (line,) = [t for t in figure.data if t.name == "Year to date"]
    assert list(line.x) == [0, 1, 1.5, 2] and list(line.y) == [110, 120, None, 9]


@pytest.mark.parametrize(
    ("targets", "last_from", "last_to", "last_level"),
    [
        ([80.0, 80.0, 90.0], 1.5, 2.5, 90.0),  # a new target in the last period: a full step
        ([80.0], -0.5, 0.5, 80.0),  # a single period still has a visible target
        ([80.0, np.nan, 85.0], 1.5, 2.5, 85.0),  # after a gap
    ],
)
def test_the_last_target_step_is_as_wide_as_the_others(targets, last_from, last_to, last_level):
    x, y = charts.step_line(pd.Series(targets))
    assert (x[-2], x[-1]) == (last_from, last_to)  # a whole period wide, not a vertical line
    assert y[-2] == y[-1] == last_level
    assert len(x) == 2 * len(targets)


def test_the_legend_sits_above_the_plot_so_it_never_covers_the_axis() -> None:
    figure = charts.trend_figure(trend(), unit="percent", decimals=1, title="Actual")
    assert figure.layout.legend.yanchor == "bottom" and figure.layout.legend.y >= 1
    values = pd.Series([10, 11, 10, 12, 11, 10, 11, 12, 10, 11, 30, 11], dtype=float)
    chart = charts.xmr_figure(xmr(values, "higher"), [f"p{i}" for i in range(12)])
    assert chart.layout.legend.yanchor == "bottom" and chart.layout.legend.y >= 1


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (4, [0, 1, 2, 3]),
        (12, list(range(12))),
        (24, list(range(1, 24, 2))),  # every other month, the latest always labelled
    ],
)
def test_at_most_twelve_period_labels_along_the_axis(count: int, shown: list[int]) -> None:
    positions, _ = charts._ticks([f"p{i}" for i in range(count)])
    assert positions == shown


def test_xmr_draws_mean_and_process_limits_and_marks_special_causes() -> None:
    values = pd.Series([10, 11, 10, 12, 11, 10, 11, 12, 10, 11, 30, 11], dtype=float)
    chart = xmr(values, "higher")
    figure = charts.xmr_figure(chart, [f"p{i}" for i in range(12)])
    by_name = {t.name: t for t in figure.data}
    assert list(by_name["Upper process limit"].y) == pytest.approx(chart["upper_limit"].tolist())
    assert list(by_name["Lower process limit"].y) == pytest.approx(chart["lower_limit"].tolist())
    assert list(by_name["Mean"].y) == pytest.approx([values.mean()] * 12)
    improving = by_name["Special cause: improving"]
    assert list(improving.x) == ["p10"] and improving.marker.color == "#0072B2"


def test_xmr_reads_a_high_point_as_concerning_when_lower_is_better() -> None:
    values = pd.Series([10, 11, 10, 12, 11, 10, 11, 12, 10, 11, 30, 11], dtype=float)
    figure = charts.xmr_figure(xmr(values, "lower"), [f"p{i}" for i in range(12)])
    by_name = {t.name: t for t in figure.data}
    assert "p10" in list(by_name["Special cause: concerning"].x)
    # the long run under the (outlier-inflated) mean is good news when lower is better
    assert "p10" not in list(by_name["Special cause: improving"].x)
    assert "p3" in list(by_name["Special cause: improving"].x)


def test_xmr_marks_a_rising_trend_below_the_mean_as_the_badge_reads_it() -> None:
    values = pd.Series([50, 52, 49, 51, 50, 53, 48, 50, 51, 49, 52, 50, 43, 44, 45, 46, 47, 48, 49])
    assert spc_signal(values, "higher", rules=RatingRules()) == Signal.IMPROVING
    periods = [f"p{i}" for i in range(len(values))]
    figure = charts.xmr_figure(xmr(values, "higher"), periods)
    marked = {trace.name: list(trace.x) for trace in figure.data if trace.mode == "markers"}
    # 7 rising below the mean; the first, 43, is below the lower limit: outside beats the trend
    assert marked == {
        Signal.CONCERNING.value: periods[-7:-6],
        Signal.IMPROVING.value: periods[-6:],
    }


def test_xmr_draws_the_target_only_where_there_is_one() -> None:
    chart = xmr(pd.Series([10.0, 12.0] * 6), "higher").assign(target=15.0)
    periods = [f"p{i}" for i in range(12)]
    assert "Target" in {t.name for t in charts.xmr_figure(chart, periods).data}
    chart["target"] = np.nan
    assert "Target" not in {t.name for t in charts.xmr_figure(chart, periods).data}
