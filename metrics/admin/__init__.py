"""Administration: metric templates, the levels of the line of sight and users, changed by an
administrator (docs/administration.md).

Every service here is keyword-only, takes the engine, the acting `CurrentUser` and the fields,
and: checks the actor is an administrator (here, not only in the page); reads every field
through the template workbook's own cell readers, so a form gets the workbook's messages; takes
the write lock (`store.write`); refuses a stale edit, saying who changed what when and to what;
audits every field it changes with the reason given; bumps the data version. Nothing is ever
deleted: a measure or a level is retired from a month, a user is disabled.
"""

from metrics.admin.common import AdminConflict, AdminRefused
from metrics.admin.levels import create_level, realign_level, rename_level, retire_level
from metrics.admin.measures import create_measure, edit_measure, retire_measure
from metrics.admin.users import add_user, update_user
from metrics.admin.workbook import import_workbook, preview_workbook

__all__ = [
    "AdminConflict",
    "AdminRefused",
    "add_user",
    "create_level",
    "create_measure",
    "edit_measure",
    "import_workbook",
    "preview_workbook",
    "realign_level",
    "rename_level",
    "retire_level",
    "retire_measure",
    "update_user",
]
