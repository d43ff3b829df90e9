"""What every committee paper writes the same way: status labels, arrows, numbers, safe text."""

from __future__ import annotations

import math

from metrics.inert import cell_text, cell_value
from metrics.vocab import Direction, Status, Unit

# Status is never shown by colour alone: a symbol and the word go with every fill.
STATUS_SYMBOLS = {
    Status.RED.value: "✖",
    Status.AMBER.value: "◆",
    Status.GREEN.value: "●",
    Status.DATA_ONLY.value: "■",
    Status.MISSING.value: "○",
    Status.OVERDUE.value: "⊗",
}
# Light tints of the app's colour-blind-safe palette, dark enough to tell apart, light enough
# for black text on paper.
STATUS_FILLS = {
    Status.RED.value: "F3B79B",
    Status.AMBER.value: "F8D98F",
    Status.GREEN.value: "9FD9C5",
    Status.DATA_ONLY.value: "D9D9D9",
    Status.MISSING.value: "C6E4F6",
    Status.OVERDUE.value: "9EC3E0",
}
# Direction of travel, already read with the polarity: up is better.
ARROWS = {
    Direction.IMPROVING.value: "▲ Improving",
    Direction.WORSENING.value: "▼ Worsening",
    Direction.STABLE.value: "► Stable",
    Direction.NO_COMPARISON.value: "– No comparison",
}
EXCEPTION_STATUSES = (Status.RED.value, Status.AMBER.value, Status.OVERDUE.value)
SEVERITY = {Status.RED.value: 0, Status.OVERDUE.value: 1, Status.AMBER.value: 2}


def status_label(status: str) -> str:
    """`✖ Red`: the symbol and the word."""
    symbol = STATUS_SYMBOLS.get(status)
    return f"{symbol} {status}" if symbol else status


def arrow(direction: str) -> str:
    """`▲ Improving`, or the text as given."""
    return ARROWS.get(direction, direction)


def number_format(unit: str, decimals: int) -> str:
    """The Excel number format for a unit: 71.2 %, £1,234 (-£50), 8.5 days, 1,234."""
    places = max(int(decimals), 0)
    digits = "#,##0" + ("." + "0" * places if places else "")
    if unit == Unit.PERCENT.value:
        return f'{digits}" %"'
    if unit == Unit.CURRENCY.value:
        return f'"£"{digits};-"£"{digits}'
    if unit == Unit.DAYS.value:
        return f'{digits}" days"'
    return digits


def format_number(value: float | None, unit: str, decimals: int) -> str:
    """A number as text, the way its cell shows it: 71.2 %, £1,234, -£50, 8.5 days."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no value"
    places = max(int(decimals), 0)
    number = f"{abs(value):,.{places}f}"
    sign = "-" if round(value, places) < 0 else ""
    return {
        Unit.PERCENT.value: f"{sign}{number} %",
        Unit.CURRENCY.value: f"{sign}£{number}",
        Unit.DAYS.value: f"{sign}{number} days",
    }.get(unit, f"{sign}{number}")


safe_text = cell_text  # the names the publishers use
cell = cell_value


def header_text(text: str) -> str:
    """Text for a printed header or footer, where & starts a code."""
    return text.replace("&", "&&")
