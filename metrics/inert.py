"""Text made safe for a spreadsheet cell or a CSV field, and the way back on import.

Excel, LibreOffice and Google Sheets run a cell that begins with `=`, `+`, `-` or `@` as a
formula, and tab, carriage return or newline can smuggle one past a naive check (OWASP "CSV
injection"). A leading apostrophe makes the cell plain text. A text that already begins with an
apostrophe gets one more, so that `revert` can always give back exactly what `inert` was given.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
QUOTE = "'"


def inert(text: str) -> str:
    """The text with a leading apostrophe if it begins with = + - @ tab CR LF (or an apostrophe)."""
    if text.startswith((*TRIGGERS, QUOTE)):
        return QUOTE + text
    return text


def inert_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text cell of the table made inert as `inert` makes it, column by column (a CSV of
    thousands of rows would otherwise call it once a cell)."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if values.dtype.kind in "biufcmM":  # numbers, flags and dates hold no text
            continue
        texts = values.astype(object)  # categories and string dtypes alike
        try:
            starts = texts.str.startswith((*TRIGGERS, QUOTE), na=False).astype(bool)
        except AttributeError:  # a column of no text at all
            continue
        if starts.any():
            safe[column] = texts.where(~starts, QUOTE + texts[starts])
    return safe


def revert(text: str) -> str:
    """Undo `inert`: drop the one apostrophe it put before a trigger character or an apostrophe."""
    if text.startswith(QUOTE) and text[1:].startswith((*TRIGGERS, QUOTE)):
        return text[1:]
    return text


def cell_text(value: str) -> str:
    """Text no spreadsheet runs, without the control characters XML cannot hold."""
    # imported here: the command line's CSV needs `inert` alone, not openpyxl's import time
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return inert(ILLEGAL_CHARACTERS_RE.sub("", value))


def cell_value(value: Any) -> Any:
    """What goes into a spreadsheet cell: numbers as numbers, NaN blank, yes/no for flags,
    text made inert (and blank text as no value)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return cell_text(value) or None
    return value
