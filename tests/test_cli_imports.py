"""The command line imports only what a command uses (issue 12): `--help` answers without the
heavy libraries, and a SQLite council's status never loads PostgreSQL's driver or dialect, nor
the mail library only `remind` needs. Each is checked in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from committee_council import build

from metrics import store

ROOT = Path(__file__).resolve().parent.parent
LOADED = """
import json, sys
from metrics import cli
codes = []
for argv in {commands!r}:
    try:
        codes.append(cli.main(argv))
    except SystemExit as done:  # --help
        codes.append(done.code)
loaded = sorted(name for name in {names!r} if name in sys.modules)
print(json.dumps([codes, loaded]))
"""


def loaded(commands: list[list[str]], names: list[str], database: str = "") -> list[str]:
    """Which of `names` a fresh Python has imported after running the commands, one by one."""
    script = LOADED.format(commands=commands, names=names)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "SCORECARD_DATABASE_URL": database, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    codes, found = json.loads(done.stdout.splitlines()[-1])
    assert codes == [0] * len(commands), done.stdout[-2000:]  # each command ran and succeeded
    return list(found)


def test_help_answers_without_the_heavy_libraries() -> None:
    heavy = ["pandas", "sqlalchemy", "sqlmodel", "openpyxl", "numpy", "streamlit", "smtplib"]
    assert loaded([["--help"]], heavy) == []


COMMANDS = [["status", "--period", "2016-03"], ["quality", "--period", "2016-03"], ["rate"]]


def test_a_sqlite_councils_commands_never_load_postgresql_or_mail(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'council.db'}"
    engine = store.make_engine(database)
    store.upgrade(engine)
    build(engine)
    engine.dispose()
    unwanted = ["psycopg", "sqlalchemy.dialects.postgresql", "smtplib"]
    assert loaded(COMMANDS, [*unwanted, "pandas"], database) == ["pandas"]
