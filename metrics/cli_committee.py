"""`python -m metrics snapshot | pack | report | publish | verify`: committee papers from a
frozen snapshot (docs/committee.md), registered by metrics/cli.py, which reports their refusals
(SnapshotRefused) in one line."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metrics.later import Later

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from metrics import snapshots
else:  # imported when a command runs, not for `--help`
    snapshots = Later("metrics.snapshots")


def add_commands(commands: Any, *, initialised: Callable[[], Engine]) -> None:
    """Add the five commands; `initialised` opens the configured database once it has a schema."""
    snapshot = commands.add_parser("snapshot", help="freeze a period for a committee meeting")
    snapshot.add_argument("--period", required=True, help="the month to freeze, e.g. 2016-03")
    snapshot.add_argument("--title", required=True, help="the agenda item, e.g. Performance Q4")
    snapshot.add_argument("--meeting-date", type=_day, help="the meeting's date, YYYY-MM-DD")
    snapshot.add_argument("--committee", help="the committee (config.toml's by default)")
    snapshot.add_argument(
        "--include-unapproved",
        action="store_true",
        help="freeze values not yet approved (the snapshot records which)",
    )
    snapshot.add_argument("--actor", default=f"cli:{getpass.getuser()}", help="who the audit names")
    snapshot.add_argument("--today", type=_day, help="judge Overdue as of this day")
    snapshot.set_defaults(run=lambda args: _snapshot(initialised(), args))

    pack = commands.add_parser("pack", help="write a snapshot's committee pack (Excel)")
    pack.add_argument("id", type=int)
    pack.add_argument("file", type=Path)
    pack.add_argument(
        "--include-sensitive",
        action="store_true",
        help="include OFFICIAL-SENSITIVE measures; the file name and every sheet say so",
    )
    pack.set_defaults(run=lambda args: _pack(initialised(), args))

    report = commands.add_parser("report", help="draft a snapshot's committee cover report")
    report.add_argument("id", type=int)
    report.add_argument("file", type=Path)
    report.set_defaults(run=lambda args: _report(initialised(), args))

    publish = commands.add_parser("publish", help="write a snapshot's transparency file (CSV)")
    publish.add_argument("id", type=int)
    publish.add_argument("file", type=Path)
    publish.add_argument("--json", type=Path, help="the same content as JSON")
    publish.set_defaults(run=lambda args: _publish(initialised(), args))

    verify = commands.add_parser("verify", help="recompute a snapshot's SHA-256")
    verify.add_argument("id", type=int)
    verify.set_defaults(run=lambda args: _verify(initialised(), args))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from error


def _snapshot(engine: Engine, args: argparse.Namespace) -> int:
    try:
        header = snapshots.freeze(
            engine,
            period=args.period,
            title=args.title,
            actor=args.actor,
            committee=args.committee,
            meeting_date=args.meeting_date,
            include_unapproved=args.include_unapproved,
            today=args.today,
        )
    except snapshots.UnapprovedValues as refused:  # the page says "choose"; here, the flag
        raise snapshots.UnapprovedValues(f"{refused} with --include-unapproved") from None
    print(f"Snapshot {header.id} sha256 {header.sha256}")
    if header.unapproved_count:
        print(f"  {header.unapproved_count} unapproved value(s) included, each marked")
    return 0


def _pack(engine: Engine, args: argparse.Namespace) -> int:
    from metrics.publish import pack

    written = pack.write_pack(engine, args.id, args.file, include_sensitive=args.include_sensitive)
    left_out = "" if args.include_sensitive else " (OFFICIAL-SENSITIVE measures left out)"
    print(f"Committee pack written to {written}{left_out}.")
    return 0


def _report(engine: Engine, args: argparse.Namespace) -> int:
    from metrics.publish import report

    written = report.write_report(engine, args.id, args.file)
    print(f"Cover report written to {written}.")
    return 0


def _publish(engine: Engine, args: argparse.Namespace) -> int:
    from metrics.publish import transparency

    count = transparency.publish(engine, args.id, args.file, json_path=args.json)
    also = f" and {args.json}" if args.json else ""
    print(f"Transparency file written to {args.file}{also}: {count} measures.")
    return 0


def _verify(engine: Engine, args: argparse.Namespace) -> int:
    check = snapshots.verify(engine, args.id)
    if not check.ok:
        print(
            f"error: snapshot {args.id} does not match its hash: stored {check.stored}, "
            f"computed {check.computed}",
            file=sys.stderr,
        )
        return 1
    print(f"Snapshot {args.id} verified: sha256 {check.computed}")
    return 0
