"""`python -m metrics`: create or upgrade the database, load the demo, move workbooks, rate."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from metrics import cli_committee, cli_ops
from metrics.config import settings
from metrics.later import Later
from metrics.vocab import Marking, Tier

if TYPE_CHECKING:
    import smtplib

    import pandas as pd
    from sqlalchemy import Engine

    from metrics import (
        backup,
        demo,
        periods,
        pipeline,
        quality,
        queries,
        remind,
        snapshots,
        store,
        views,
        workbook,
    )
    from metrics import inert as inert_text
    from metrics.queries import entry as entry_queries
else:  # imported when a command runs, not for `--help` (docs/performance.md)
    pd, smtplib = Later("pandas"), Later("smtplib")
    backup, demo, pipeline, quality, queries = (
        Later(f"metrics.{name}") for name in ("backup", "demo", "pipeline", "quality", "queries")
    )
    remind, snapshots, store, views, workbook = (
        Later(f"metrics.{name}") for name in ("remind", "snapshots", "store", "views", "workbook")
    )
    periods = Later("metrics.periods")
    inert_text = Later("metrics.inert")
    entry_queries = Later("metrics.queries.entry")

NUMBER_COLUMNS = ["actual", "target", "ytd", "forecast"]


class NotInitialised(RuntimeError):
    """The database has no schema yet; `init` creates it."""


def refusals() -> tuple[type[BaseException], ...]:
    """Refused input: reported in one message with exit code 1, never as a traceback."""
    return (
        queries.UnknownPeriod,
        workbook.WorkbookError,
        demo.DemoError,
        store.ConflictError,
        NotInitialised,
        backup.BackupError,
        snapshots.SnapshotRefused,
        smtplib.SMTPException,
        OSError,  # a missing file, a folder given as a file, a full disk
    )


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit code 0 on success, 1 on any refused input."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # whoever read the output stopped (`| head`): nothing to report
        _quiet_stdout()
        return 1
    except refusals() as error:  # evaluated only once something is raised
        print(f"error: {_message(error)}", file=sys.stderr)
        return 1


def _quiet_stdout() -> None:
    """Point standard output at the null device, so that the flush at exit does not raise the
    closed pipe again (the recipe of Python's `signal` documentation)."""
    with contextlib.suppress(AttributeError, OSError, ValueError):  # not a file: a capture
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m metrics", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create or upgrade the database")
    init.add_argument("--demo", action="store_true", help="then load the demo council")
    init.set_defaults(run=_init)

    upgrade = commands.add_parser("upgrade", help="apply schema migrations, keeping all data")
    upgrade.set_defaults(run=_upgrade)

    cli_ops.add_commands(commands, engine=_engine, initialised=_initialised)

    template = commands.add_parser("template", help="write a blank template workbook")
    template.add_argument("file", type=Path)
    template.set_defaults(run=_template)

    load = commands.add_parser("import", help="validate a workbook, then import all or nothing")
    load.add_argument("file", type=Path)
    load.add_argument("--actor", default=f"cli:{getpass.getuser()}", help="who the audit names")
    load.add_argument(
        "--allow-lower-marking",
        action="store_true",
        help="as an administrator: let the workbook lower a measure's protective marking",
    )
    load.set_defaults(run=_import)

    export = commands.add_parser(
        "export-workbook",
        help="write the database as a workbook (OFFICIAL-SENSITIVE measures only if asked)",
    )
    export.add_argument("file", type=Path)
    export.add_argument(
        "--include-sensitive",
        action="store_true",
        help="include OFFICIAL-SENSITIVE measures; the file name and every page say so",
    )
    export.set_defaults(run=_export)

    status = commands.add_parser("status", help="rate every metric due in a period")
    status.add_argument("--period", required=True, help="a month (2016-03), quarter or year")
    status.add_argument("--tier", choices=[t.value for t in Tier])
    status.add_argument("--format", choices=["table", "csv"], default="table")
    status.add_argument("--include-sensitive", action="store_true")
    status.add_argument("--today", type=date.fromisoformat, help="judge Overdue as of this day")
    status.set_defaults(run=_status)
    rate = commands.add_parser(
        "rate",
        help="rate and keep the months the dashboard opens on (after an upgrade or new rules)",
    )
    rate.set_defaults(run=lambda _args: _rate_ahead(_initialised(), said_if_none=True))
    cli_committee.add_commands(commands, initialised=_initialised)

    quality = commands.add_parser("quality", help="the chase list: values missing or overdue")
    quality.add_argument("--period", required=True, help="a month (2016-03), quarter or year")
    quality.add_argument("--format", choices=["table", "csv"], default="table")
    quality.add_argument("--include-sensitive", action="store_true")
    quality.add_argument("--today", type=date.fromisoformat, help="judge Overdue as of this day")
    quality.set_defaults(run=_quality)

    remind = commands.add_parser(
        "remind", help="e-mail each responsible officer their overdue measures"
    )
    remind.add_argument("--dry-run", action="store_true", help="print the messages, send none")
    remind.add_argument("--period", help="one month; default: the last 12 months that ended")
    remind.add_argument("--today", type=date.fromisoformat, help="judge Overdue as of this day")
    remind.set_defaults(run=_remind)
    return parser


def _engine() -> Engine:
    return store.make_engine(settings().database_url)


def _initialised() -> Engine:
    """The engine, if its database has a schema; a mistyped URL must not become a new database."""
    engine = _engine()
    if store.schema_revision(engine) is None:
        raise NotInitialised(
            f"the database at {engine.url.render_as_string(hide_password=True)} has no schema: "
            "run `python -m metrics init` first"
        )
    return engine


def _init(args: argparse.Namespace) -> int:
    engine = _engine()
    store.upgrade(engine)
    print(f"Database ready at revision {store.schema_revision(engine)}.")
    if args.demo:
        demo.load_demo(engine)
        print("Demo council loaded.")
        _rate_ahead(engine)
    return 0


def _upgrade(_args: argparse.Namespace) -> int:
    engine = _engine()
    before = store.schema_revision(engine)
    store.upgrade(engine)
    print(f"Schema at revision {store.schema_revision(engine)} (was {before or 'empty'}).")
    return 0


def _template(args: argparse.Namespace) -> int:
    workbook.write_template(args.file)
    print(f"Blank template written to {args.file}.")
    return 0


def _import(args: argparse.Namespace) -> int:
    engine = _initialised()
    result = workbook.import_workbook(
        engine, args.file, actor=args.actor, may_lower_markings=args.allow_lower_marking
    )
    print(f"Imported {args.file}: {result}")
    for line in result.markings_lowered:
        print(f"  marking lowered: {line}")
    _rate_ahead(engine)
    return 0


def _rate_ahead(engine: Engine, *, said_if_none: bool = False) -> int:
    """Rate the months the dashboard opens on now, not while its first reader waits."""
    rated = views.rate_ahead(engine, today=date.today(), settings=settings())
    for month, approved_only in rated:
        basis = "approved values (the committee's view)" if approved_only else "submitted values"
        print(f"Rated {periods.spoken(month)} from {basis}, ready for the dashboard.")
    if said_if_none and not rated:
        print("No values have been submitted yet, so there is nothing to rate.")
    return 0


def _export(args: argparse.Namespace) -> int:
    clearance = Marking.OFFICIAL_SENSITIVE if args.include_sensitive else Marking.OFFICIAL
    written = workbook.export_workbook(_initialised(), args.file, clearance=clearance.value)
    left_out = "" if args.include_sensitive else " (OFFICIAL-SENSITIVE measures left out)"
    print(f"Database written to {written}{left_out}.")
    return 0


def _status(args: argparse.Namespace) -> int:
    clearance = Marking.OFFICIAL_SENSITIVE if args.include_sensitive else Marking.OFFICIAL
    frame = views.status(
        _initialised(),
        period=args.period,
        clearance=clearance.value,
        tier=args.tier,
        today=args.today,
    )
    table = status_table(frame)
    if args.format == "csv":
        inert_text.inert_frame(table).to_csv(sys.stdout, index=False, lineterminator="\n")
    else:
        print(
            text_table(table, widest=120) if len(table) else f"No metric is due in {args.period}."
        )
    return 0


CHASE_COLUMNS = ["code", "team", "responsible_officer", "status", "days_overdue"]


def _chase(period: str | None, clearance: str, today: date) -> pd.DataFrame:
    config = settings()
    fy_start = config.financial_year_start_month
    months = (
        [queries.month_for(period, fy_start)]
        if period
        else entry_queries.ended_months(today, 12, fy_start)
    )
    grid = entry_queries.due_grid(_initialised(), clearance=clearance, months=months, config=config)
    return quality.chase_list(grid, today)


def _quality(args: argparse.Namespace) -> int:
    clearance = Marking.OFFICIAL_SENSITIVE if args.include_sensitive else Marking.OFFICIAL
    chase = _chase(args.period, clearance.value, args.today or date.today())
    table = chase.assign(measure=chase["code"] + " " + chase["title"])
    table = table[["measure", "team", "responsible_officer", "status", "days_overdue"]]
    if args.format == "csv":
        inert_text.inert_frame(table).to_csv(sys.stdout, index=False, lineterminator="\n")
    elif table.empty:
        print(f"Nothing is missing or overdue for {args.period}.")
    else:
        print(text_table(table, widest=80))
    return 0


def _remind(args: argparse.Namespace) -> int:
    config = settings()
    chase = _chase(args.period, Marking.OFFICIAL_SENSITIVE.value, args.today or date.today())
    messages = remind.compose(chase, sender=config.smtp.sender, council=config.council_name)
    for row in remind.without_email(chase).itertuples():
        print(f"no e-mail for the responsible officer of {row.code} ({row.period}): skipped")
    if args.dry_run or not config.smtp.host:
        why = "dry run" if args.dry_run else "no [smtp] host in config.toml"
        print(f"{len(messages)} reminder(s) composed, none sent ({why}).")
        for message in messages:
            print(f"--- To: {message['To']}\nSubject: {message['Subject']}\n")
            print(message.get_content())
        return 0
    sent = remind.send(messages, config.smtp)
    print(f"{sent} reminder(s) sent through {config.smtp.host}:{config.smtp.port}.")
    return 0


def status_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The status columns, numbers rounded to each metric's decimals; the approval state is
    empty where no value is held (a row holding only a target has no value to approve)."""
    if frame.empty:
        return pd.DataFrame(columns=pipeline.STATUS_COLUMNS)
    table = frame[pipeline.STATUS_COLUMNS].copy()
    table["approval"] = frame["approval"].where(frame["actual"].notna()).fillna("")
    places = frame["decimals"].astype(int).tolist()
    for column in NUMBER_COLUMNS:
        rounded = map(round, frame[column].astype(float).tolist(), places)
        table[column] = [None if value != value else value for value in rounded]  # NaN: a gap
    return table


def text_table(table: pd.DataFrame, *, widest: int) -> str:
    """The table as aligned plain text, a column to each heading, a gap shown as nothing, text
    longer than `widest` cut with "..." (pandas' `to_string` took a third of the status
    command's own time at L, formatting cell by cell)."""
    columns = []
    for name in table.columns:
        # Plain Python over each column's values: pandas' string methods, one call per cell
        # each, took twice as long.
        gap = table[name].isna().tolist()
        cells = ["" if blank else str(value) for value, blank in zip(table[name], gap, strict=True)]
        cells = [c if len(c) <= widest else c[: widest - 3] + "..." for c in cells]
        width = max([len(str(name)), *map(len, cells)])
        columns.append([str(name).rjust(width), *(cell.rjust(width) for cell in cells)])
    return "\n".join(" ".join(row) for row in zip(*columns, strict=True))


def _message(error: BaseException) -> str:
    if isinstance(error, workbook.WorkbookError):
        count = f"{error.total:,} problem{'s' if error.total != 1 else ''}"
        listed = (
            ""
            if error.total <= workbook.MAX_PROBLEMS
            else f" (the first {workbook.MAX_PROBLEMS} listed)"
        )
        return f"{count}{listed}, nothing was changed:\n" + "\n".join(
            f"  {problem}" for problem in error.problems
        )
    return str(error)
