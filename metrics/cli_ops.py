"""`python -m metrics backup | restore | copy-to`: the operator's commands (docs/operations.md),
registered by metrics/cli.py, which reports their refusals (BackupError) in one line."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metrics.later import Later

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from metrics import backup, store
else:  # imported when a command runs, not for `--help`
    backup, store = Later("metrics.backup"), Later("metrics.store")


def add_commands(
    commands: Any, *, engine: Callable[[], Engine], initialised: Callable[[], Engine]
) -> None:
    """Add the three commands; `engine` opens the configured database, `initialised` only one
    that has a schema."""
    copy = commands.add_parser("backup", help="copy the whole database to a file, safely live")
    copy.add_argument("file", type=Path)
    copy.set_defaults(run=lambda args: _backup(initialised(), args))

    back = commands.add_parser("restore", help="replace the database with a backup file")
    back.add_argument("file", type=Path)
    back.add_argument("--force", action="store_true", help="even over a database that holds data")
    back.set_defaults(run=lambda args: _restore(engine(), args))

    move = commands.add_parser("copy-to", help="copy every row to another, empty database")
    move.add_argument("url", help="e.g. postgresql+psycopg://user@host/scorecard")
    move.set_defaults(run=lambda args: _copy_to(initialised(), args))


def _backup(source: Engine, args: argparse.Namespace) -> int:
    copied = backup.backup(source, args.file)
    print(f"Backed up to {copied.path} (schema revision {copied.revision}).")
    return 0


def _restore(target: Engine, args: argparse.Namespace) -> int:
    restored = backup.restore(target, args.file, force=args.force)
    upgraded = f", upgraded to {restored.upgraded_to}" if restored.upgraded_to else ""
    print(f"Restored {restored.path} (schema revision {restored.revision}{upgraded}).")
    return 0


def _copy_to(source: Engine, args: argparse.Namespace) -> int:
    target = store.make_engine(args.url)
    copied = backup.copy_to(source, target)
    where = target.url.render_as_string(hide_password=True)
    print(f"Copied {sum(copied.values()):,} rows in {len(copied)} tables to {where}.")
    return 0
