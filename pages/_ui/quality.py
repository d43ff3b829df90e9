"""The glue of the data quality page (docs/data-entry.md): the due grid of the 12 months to a
month, cached on the data version, and the frames and widgets the page shows."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from metrics import charts, periods, quality
from metrics.config import settings
from metrics.queries import entry as entry_queries
from pages._ui.routing import _version, engine


@st.cache_data(max_entries=32, show_spinner=False)
def _grid(clearance: str, month: str, version: int) -> pd.DataFrame:
    fy_start = settings().financial_year_start_month
    last = periods.month_for(month, fy_start)
    months = [periods.shift(last, -step, fy_start) for step in range(11, -1, -1)]
    return entry_queries.due_grid(engine(), clearance=clearance, months=months, config=settings())


def due_grid(clearance: str, month: str) -> pd.DataFrame:
    """Every measure the clearance may see due in the 12 months up to this one."""
    return _grid(clearance, month, _version())


def completeness_chart(grid: pd.DataFrame) -> None:
    """The share of due values in, per team and month, as a heatmap (drawn in the browser from
    the bundled Plotly: no outside requests)."""
    st.plotly_chart(charts.completeness_figure(quality.completeness(grid)), key="completeness")


def table(frame: pd.DataFrame, empty: str, **columns: object) -> None:
    """A read-only table, or what it means that it is empty."""
    if frame.empty:
        st.info(empty)
    else:
        st.dataframe(frame, hide_index=True, **columns)


def csv_download(frame: pd.DataFrame, name: str, label: str) -> None:
    """The table as a CSV, its text made inert for spreadsheets."""
    st.download_button(label, quality.csv_bytes(frame), file_name=name, mime="text/csv")


def data_quality(clearance: str, month: str) -> dict[str, pd.DataFrame]:
    """The frames of the data quality page for the 12 months up to `month`: its tables as the
    council reads them, the chase list as a spreadsheet sorts it too ("chase_csv")."""
    grid, today = due_grid(clearance, month), date.today()
    chase = quality.chase_list(grid, today)
    return {
        "grid": grid,
        "chase_csv": chase,
        "chase": quality.for_reading(chase),
        "awaiting": quality.for_reading(quality.awaiting_approval(grid, today)),
        "outliers": quality.for_reading(quality.outliers_to_review(grid)),
        "returned": quality.for_reading(quality.returned(grid)),
        "dimensions": quality.dimensions(grid, today),
    }
