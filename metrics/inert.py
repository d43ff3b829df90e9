"""Text made safe for a spreadsheet cell or a CSV field, and the way back on import.

Excel, LibreOffice and Google Sheets run a cell that begins with `=`, `+`, `-` or `@` as a
formula, and tab, carriage return or newline can smuggle one past a naive check (OWASP "CSV
injection"). A leading apostrophe makes the cell plain text. A text that already begins with an
apostrophe gets one more, so that `revert` can always give back exactly what `inert` was given.
"""

from __future__ import annotations

import math
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
QUOTE = "'"


def inert(text: str) -> str:
    """The text with a leading apostrophe if it begins with = + - @ tab CR LF (or an apostrophe)."""
    if text.startswith((*TRIGGERS, QUOTE)):
        return QUOTE + text
    return text


def revert(text: str) -> str:
    """Undo `inert`: drop the one apostrophe it put before a trigger character or an apostrophe."""
    if text.startswith(QUOTE) and text[1:].startswith((*TRIGGERS, QUOTE)):
        return text[1:]
    return text


def cell_text(value: str) -> str:
    """Text no spreadsheet runs, without the control characters XML cannot hold."""
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
