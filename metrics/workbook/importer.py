"""A filled workbook imported all or nothing: read, checked against what is held, written.

The file is read and its cells checked before the database is touched, so no connection is
held while openpyxl parses. Then one write transaction takes the write lock before it reads
what it compares against (the metrics and values held), so two imports at once queue rather
than overwrite each other, and every audit row's old value is the value it replaced. Only a
workbook without a single problem is written.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session

from metrics import store
from metrics.config import UploadLimits, settings
from metrics.queries import workbook as reads
from metrics.workbook import files, sheets, validate, values
from metrics.workbook.columns import METRICS, VALUES
from metrics.workbook.problems import Problems
from metrics.workbook.sheets import Sheet
from metrics.workbook.validate import Held
from metrics.workbook.writer import ImportResult, Writer

ATTEMPTS = 3  # a write that meets a lock timeout or a racing writer is tried again


def import_workbook(
    engine: Engine,
    path: Path,
    *,
    actor: str,
    limits: UploadLimits | None = None,
    may_lower_markings: bool = False,
) -> ImportResult:
    """Check the whole workbook, then write all of it in one transaction, or nothing at all.

    `may_lower_markings` is for an administrator: without it, a marking written lower than
    the one held is a problem.
    """
    files.require_defusedxml()
    path = Path(path)
    read = sheets.read(path, limits or settings().upload)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with store.write(engine) as session:
                return apply(
                    session,
                    read,
                    actor=actor,
                    source=path.name,
                    may_lower_markings=may_lower_markings,
                )
        except (IntegrityError, OperationalError) as error:
            if attempt == ATTEMPTS:
                raise store.ConflictError(
                    f"{path.name} was not imported: the database stayed busy with other "
                    f"changes ({type(error.orig).__name__}); nothing was changed, try again"
                ) from None
    raise AssertionError("unreachable")  # the loop returns or raises


def import_workbook_in(
    session: Session,
    path: Path,
    *,
    actor: str,
    limits: UploadLimits | None = None,
    may_lower_markings: bool = False,
) -> ImportResult:
    """As `import_workbook`, in the caller's write transaction (`store.write`); it commits."""
    files.require_defusedxml()
    path = Path(path)
    read = sheets.read(path, limits or settings().upload)
    return apply(
        session, read, actor=actor, source=path.name, may_lower_markings=may_lower_markings
    )


def apply(
    session: Session,
    read: tuple[dict[str, Sheet], Problems],
    *,
    actor: str,
    source: str,
    may_lower_markings: bool,
) -> ImportResult:
    """Check the read sheets against what the session holds, then write them, or raise."""
    found, problems = read
    metrics_sheet, values_sheet = found[METRICS], found[VALUES]
    held = Held(reads.metrics_by_code(session))
    metric_rows, broken = validate.check_metrics(metrics_sheet, held, problems)
    validate.check_template_changes(
        metrics_sheet,
        metric_rows,
        held,
        problems,
        holding_values=lambda ids: reads.metric_ids_with_values(session, ids=ids),
    )
    lowered = validate.check_markings(
        metrics_sheet, metric_rows, held, problems, may_lower=may_lower_markings
    )
    profiles = values.profiles(metric_rows, broken, held)
    value_rows = values.check_values(values_sheet, profiles, problems)
    keys = {
        (m.id, r.period.label)
        for r in value_rows
        if (m := held.metrics.get(r.code.casefold())) and m.id
    }
    held.values = reads.values_at(session, keys=keys)  # only what the file touches
    values.check_bands(values_sheet, value_rows, held, problems)
    problems.raise_if_any()
    writer = Writer(session, held, actor=actor, reason=f"workbook import {source}")
    writer.metrics(metric_rows)
    writer.values(value_rows)
    store.bump_data_version(session)
    result = writer.finished()
    result.markings_lowered = lowered
    return result
