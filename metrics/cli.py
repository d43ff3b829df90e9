"""`python -m metrics`: create or upgrade the database, load the demo, move workbooks, rate."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from metrics import demo, queries, store, workbook
from metrics.config import settings
from metrics.inert import inert
from metrics.vocab import Marking, Tier

NUMBER_COLUMNS = ["actual", "target", "ytd", "forecast"]


class NotInitialised(RuntimeError):
    """The database has no schema yet; `init` creates it."""


# Refused input: reported in one message with exit code 1, never as a traceback.
REFUSALS = (
    queries.UnknownPeriod,
    workbook.WorkbookError,
    demo.DemoError,
    store.ConflictError,
    NotInitialised,
    OSError,  # a missing file, a folder given as a file, a full disk
)


def main(argv: list[str] | None = None) -> int:
    """Run one command; exit code 0 on success, 1 on any refused input."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except REFUSALS as error:
        print(f"error: {_message(error)}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m metrics", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    init = commands.add_parser("init", help="create or upgrade the database")
    init.add_argument("--demo", action="store_true", help="then load the demo council")
    init.set_defaults(run=_init)

    upgrade = commands.add_parser("upgrade", help="apply schema migrations, keeping all data")
    upgrade.set_defaults(run=_upgrade)

    template = commands.add_parser("template", help="write a blank template workbook")
    template.add_argument("file", type=Path)
    template.set_defaults(run=_template)

    load = commands.add_parser("import", help="validate a workbook, then import all or nothing")
    load.add_argument("file", type=Path)
    load.add_argument("--actor", default=f"cli:{getpass.getuser()}", help="who the audit names")
    load.set_defaults(run=_import)

    export = commands.add_parser("export-workbook", help="write the database as a workbook")
    export.add_argument("file", type=Path)
    export.set_defaults(run=_export)

    status = commands.add_parser("status", help="rate every metric due in a period")
    status.add_argument("--period", required=True, help="a month (2016-03), quarter or year")
    status.add_argument("--tier", choices=[t.value for t in Tier])
    status.add_argument("--format", choices=["table", "csv"], default="table")
    status.add_argument("--include-sensitive", action="store_true")
    status.add_argument("--today", type=date.fromisoformat, help="judge Overdue as of this day")
    status.set_defaults(run=_status)
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
    result = workbook.import_workbook(engine, args.file, actor=args.actor)
    print(f"Imported {args.file}: {result}")
    return 0


def _export(args: argparse.Namespace) -> int:
    workbook.export_workbook(_initialised(), args.file)
    print(f"Database written to {args.file}.")
    return 0


def _status(args: argparse.Namespace) -> int:
    clearance = Marking.OFFICIAL_SENSITIVE if args.include_sensitive else Marking.OFFICIAL
    frame = queries.status(
        _initialised(),
        period=args.period,
        clearance=clearance.value,
        tier=args.tier,
        today=args.today,
    )
    table = status_table(frame)
    if args.format == "csv":
        text = table.select_dtypes(include=["object", "str"]).columns
        table[text] = table[text].map(lambda v: inert(v) if isinstance(v, str) else v)
        table.to_csv(sys.stdout, index=False, lineterminator="\n")
    else:
        with pd.option_context("display.max_colwidth", 120, "display.width", 400):
            print(
                table.to_string(index=False)
                if len(table)
                else f"No metric is due in {args.period}."
            )
    return 0


def status_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The status columns, numbers rounded to each metric's decimals."""
    if frame.empty:
        return pd.DataFrame(columns=queries.STATUS_COLUMNS)
    table = frame[queries.STATUS_COLUMNS].copy()
    for column in NUMBER_COLUMNS:
        table[column] = [
            None if pd.isna(value) else round(float(value), int(decimals))
            for value, decimals in zip(frame[column], frame["decimals"], strict=True)
        ]
    return table


def _message(error: BaseException) -> str:
    problems = getattr(error, "problems", None)
    if problems:
        return f"{len(problems)} problem(s), nothing was changed:\n" + "\n".join(
            f"  {problem}" for problem in problems
        )
    return str(error)
