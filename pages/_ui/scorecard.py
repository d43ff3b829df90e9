"""The service manager's landing page, "My scorecard": the services they own, what of theirs
is due this cycle and what was returned to them. Read through the cached readers; the scope
(the user's services) is part of every cache key, as the user is."""

from __future__ import annotations

from datetime import date

import pandas as pd

from metrics.access import CurrentUser
from metrics.plain_words import in_words
from metrics.vocab import ApprovalState
from pages._ui.entry import _default_month, my_month
from pages._ui.readers import _scope
from pages._ui.routing import _version

DUE = ("not entered", ApprovalState.DRAFT.value)
COLUMNS = {
    "service": "Service",
    "team": "Team",
    "code": "Code",
    "title": "Measure",
    "period": "Period",
    "approval": "State",
    "return_reason": "Returned because",
}


def my_services(user: CurrentUser) -> dict[str, str]:
    """Code → name of the services the user owns, in display order."""
    services = _scope(user.clearance, _version()).structure.options("service")
    return {code: name for code, name in services.items() if name in user.services}


def cycle(user: CurrentUser) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """The month being entered (its label), the user's measures still due in it and those
    returned, as the council reads them."""
    month = _default_month(user, _version(), date.today())
    rows = my_month(user, month)
    due = rows[rows["approval"].isin(DUE)]
    returned = rows[rows["approval"] == ApprovalState.RETURNED.value]
    shown = list(COLUMNS)
    return month, in_words(due[shown[:-1]], names=COLUMNS), in_words(returned[shown], names=COLUMNS)
