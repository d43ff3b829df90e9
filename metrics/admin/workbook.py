"""The template workbook as an administrator uploads it: a preview of what the core import
would do (run in a transaction that is rolled back), then the import itself, all or nothing.

Only an administrator changes template rows this way, and only for measures within their
clearance; markings may be lowered (the import's `may_lower_markings`).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from metrics import store
from metrics.access import CurrentUser, may_see
from metrics.admin.common import require_admin
from metrics.config import settings
from metrics.queries import workbook as reads
from metrics.workbook import files, importer, sheets
from metrics.workbook.cells import as_text
from metrics.workbook.columns import METRICS, VALUES
from metrics.workbook.problems import Problems
from metrics.workbook.sheets import Sheet
from metrics.workbook.writer import ImportResult

WHAT = "metric templates through the workbook"


class _Preview(Exception):
    """Not an error: carries a dry run's result out of the transaction, which rolls back."""

    def __init__(self, result: ImportResult) -> None:
        self.result = result


def preview_workbook(engine: Engine, *, actor: CurrentUser, path: Path) -> ImportResult:
    """What importing the workbook would create and change, or its problems (WorkbookError);
    nothing is written: the import runs in a transaction that is then rolled back."""
    require_admin(actor, WHAT)
    try:
        _run(engine, actor, Path(path), dry_run=True)
    except _Preview as preview:
        return preview.result
    raise AssertionError("unreachable")  # a dry run always ends in _Preview or a refusal


def import_workbook(engine: Engine, *, actor: CurrentUser, path: Path) -> ImportResult:
    """Import the workbook all or nothing, as the administrator (audited under their e-mail)."""
    require_admin(actor, WHAT)
    return _run(engine, actor, Path(path), dry_run=False)


def _run(engine: Engine, actor: CurrentUser, path: Path, *, dry_run: bool) -> ImportResult:
    files.require_defusedxml()
    read = sheets.read(path, settings().upload)
    with store.write(engine) as session:
        _within_clearance(session, actor, read)
        result = importer.apply(
            session, read, actor=actor.email, source=path.name, may_lower_markings=True
        )
        if dry_run:
            raise _Preview(result)  # store.write rolls the whole import back
    return result


def _within_clearance(
    session: Session, actor: CurrentUser, read: tuple[dict[str, Sheet], Problems]
) -> None:
    """A row naming a held measure above the administrator's clearance is a problem."""
    found, problems = read
    held = reads.metrics_by_code(session)
    for title in (METRICS, VALUES):
        sheet = found[title]
        for row in sheet.rows:
            cell = row.cells.get("Code")
            metric = held.get(as_text(cell.value).strip().casefold()) if cell else None
            if metric is not None and not may_see(actor.clearance, metric.marking):
                reason = "you are not cleared to change the measure with this code"
                problems.add(sheet.problem(row.number, "Code", reason))
