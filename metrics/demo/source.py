"""The demo council's source: the CSV files in `data/demo/`, read as strings, and the users
and stock notes they hold."""

from __future__ import annotations

from typing import Any

import pandas as pd

from metrics import workbook
from metrics.config import PROJECT_ROOT, RatingRules

DEMO_SOURCE = PROJECT_ROOT / "data" / "demo"
DEMO_SEED = 20160407  # the date of the Governance Committee report the framework comes from
FIRST_YEAR, YEARS = 2015, 2
EMAIL_DOMAIN = "demo.melburyvale.gov.uk"
# The shipped rating rules: the demo is shaped against them, whatever config.toml says.
RATING_RULES = RatingRules()

# The Values sheet's headers and numeric columns, as the template import reads them.
VALUE_COLUMNS = [column.name for column in workbook.VALUE_COLUMNS]
NUMBER_COLUMNS = list(workbook.NUMBER_COLUMNS)
METRIC_NUMBER_COLUMNS = ["Decimals", "Risk impact", "Baseline"]


class DemoError(RuntimeError):
    """The demo council cannot be loaded here; the message says why."""


# --- The source -----------------------------------------------------------------------------


def _read(name: str) -> pd.DataFrame:
    """One CSV of the source, every cell a string and blanks as ''."""
    return pd.read_csv(DEMO_SOURCE / name, dtype=str, keep_default_na=False, encoding="utf-8")


def metrics_frame() -> pd.DataFrame:
    """The metric templates, as written in metrics.csv (all strings, blanks as '')."""
    return _read("metrics.csv")


def priorities_frame() -> pd.DataFrame:
    """The Corporate Plan priorities: name and description, in plan order."""
    return _read("priorities.csv")


def initiatives_frame() -> pd.DataFrame:
    """The ME2E initiatives: name, description and the priorities they deliver (`;` between)."""
    return _read("initiatives.csv")


def profiles_frame() -> pd.DataFrame:
    """How each metric's demo history looks: targets, outlook, trend, season, signal, notes."""
    return _read("profiles.csv")


def commentary_frame() -> pd.DataFrame:
    """Commentary written for particular periods, and any adjustment to those actuals."""
    return _read("commentary.csv")


def users() -> list[dict[str, Any]]:
    """One demo user per role (users.csv): e-mail at the demo domain, name, role, clearance and
    the services they enter values for (separated by `;`)."""
    return [
        {
            "email": f"{row['Email']}@{EMAIL_DOMAIN}",
            "name": row["Name"],
            "role": row["Role"],
            "clearance": row["Clearance"],
            "services": [s.strip() for s in row["Services"].split(";") if s.strip()],
        }
        for row in _read("users.csv").to_dict("records")
    ]


def stock_notes() -> tuple[dict[str, list[tuple[str, str]]], list[tuple[str, str]], list[str]]:
    """The officers' stock notes (notes.csv): causes and actions for a Red, by service (a blank
    service: any service without its own), and the remarks on an Amber."""
    rows = _read("notes.csv")
    red = rows[rows["Kind"] == "red"]
    by_service: dict[str, list[tuple[str, str]]] = {}
    for service, commentary, action in red[["Service", "Commentary", "Corrective action"]].values:
        if service:
            by_service.setdefault(service, []).append((commentary, action))
    general = [
        (commentary, action)
        for commentary, action in red.loc[
            red["Service"] == "", ["Commentary", "Corrective action"]
        ].values
    ]
    return by_service, general, rows.loc[rows["Kind"] == "amber", "Commentary"].tolist()


DEMO_USERS = users()
RED_NOTES, GENERAL_NOTES, AMBER_NOTES = stock_notes()


def initiative_priorities(cell: str) -> list[str]:
    """The priority names in an initiatives.csv `priorities` cell."""
    return [name.strip() for name in cell.split(";") if name.strip()]
