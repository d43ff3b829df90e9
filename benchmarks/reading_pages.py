"""How long the reading pages take headless (AppTest), cold and warm, on councils of the sizes
issue 12 names (benchmarks/councils.py), as ratios to floors measured in the same run.

These machines are shared and noisy, so seconds alone mean little:
- cold: a fresh Python process opening the page once, caches empty, libraries not yet imported;
  its floor is the same process running a trivial page that imports the same libraries (the
  database's driver among them: psycopg for XL), and the page's own work is cold minus that
  floor;
- warm: the same session's rerun (the reader changed a widget and came back), which should touch
  the database once (the data version); its floor is the trivial page's rerun.
Beside the cold open's own wall time, its own CPU time (the page's process, less the floor's):
steadier than the wall time when the machine is loaded, but blind to the database server's
work, which the wall time includes. And the own work measured in one process ("own 1 proc"):
the page opened again there (the median of three opens), its caches emptied but its libraries
imported, which subtracts no other process's imports (those vary by 0.3 s on a loaded machine,
as much as a page's own work at L); measured for the kept state only, the one a second open
sees as the first did.
Each cold open is measured in three states of the kept ratings (`views.kept`, `STATES`): nothing
kept (the first open after the council's values were loaded), every rating a previous open kept,
and those but for 50 measures a team's save has just changed. The status CLI, as a whole
process, is set against a bare Python importing its libraries and against its own `--help`.

    .venv/bin/python benchmarks/reading_pages.py [--sizes S,L] [--repeat 3] [--postgres URL]

`--postgres URL` adds XL (20,000 measures) on that PostgreSQL database (in a schema of its own,
dropped afterwards), and then each page opened on L and on XL in turn in one process (`paired`),
kept: issue 12's "XL within 2x L" with both sides measured under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PERIOD, OTHER = "2017-03", "2017-02"
TRIVIAL = (  # the app's own modules and every library they import, and one line of output
    "import os\n"
    "import streamlit as st\n"
    "from metrics import charts, store, views\n"
    "from pages import _ui\n"
    # the database's driver too (psycopg is 0.2 s to import), connecting to nothing
    "store.make_engine(os.environ['SCORECARD_DATABASE_URL'])\n"
    "st.write('floor')\n"
)
PAGES = ["dashboard", "priority", "service", "team", "metric"]
# Opens of a page in one process (`own_again`), of which the median is shown: one open varied by
# a third between runs on these shared machines.
AGAIN = 3
# Opens of a page on L and on XL in turn in one process (`paired`), of which each median is
# shown: issue 12's ratio (XL within 2x L) with both sides measured under the same load, where
# two child processes minutes apart saw different machines (one run's ratio moved by a third).
PAIRS = 5


# --- In the child: one page, one fresh process --------------------------------------------------


def child(page: str, url: str, state: str) -> None:
    """Open one page cold, then rerun it warm; print the seconds and the warm SQL count."""
    os.environ["SCORECARD_DATABASE_URL"] = url
    import logging

    from streamlit.testing.v1 import AppTest

    logging.disable(logging.WARNING)  # bare-mode warnings from every AppTest run
    if page == "floor":
        sys.path.insert(0, str(ROOT))  # where a page's script finds `metrics` and `pages`
        at = AppTest.from_string(TRIVIAL, default_timeout=300)
    else:
        at = _app(page, url)
    start, used = time.perf_counter(), time.process_time()
    at.run()
    cold, cpu = time.perf_counter() - start, time.process_time() - used
    assert not at.exception, at.exception
    statements: list[int] = []
    if page != "floor":
        from sqlalchemy import event

        from pages import _ui

        listener = lambda *_args: statements.append(1)  # noqa: E731
        event.listen(_ui.engine(), "before_cursor_execute", listener)
    start = time.perf_counter()
    at.run()
    warm = time.perf_counter() - start
    assert not at.exception, at.exception
    shown = at.title[0].value if len(at.title) else "(no title)"
    print(f"  {page}: {shown}", file=sys.stderr)  # which page was measured, for the curious
    again = own_again(page, url) if page != "floor" and state == "kept" else 0.0
    print(json.dumps({"cold": cold, "cpu": cpu, "warm": warm, "statements": len(statements),
                      "again": again}))  # fmt: skip


def own_again(page: str, url: str, opens: int = AGAIN) -> float:
    """The page opened again in the same process, its caches emptied (the engine too) but its
    libraries imported, the median of `opens`: its own work measured in one process, where
    cold less the floor subtracts two processes' imports, which vary by 0.3 s on a loaded
    machine. Only a kept state is the same the second time (the first open kept what it
    rated), so only it is measured."""
    return statistics.median(open_again(page, url) for _ in range(opens))


def open_again(page: str, url: str) -> float:
    """One open of the page on the council at `url`, in this process, every cache emptied
    first (the data, the engine and the settings, which name the database)."""
    import streamlit as st

    from metrics import config

    os.environ["SCORECARD_DATABASE_URL"] = url
    st.cache_data.clear()
    st.cache_resource.clear()
    config.settings.cache_clear()
    at = _app(page, url)
    start = time.perf_counter()
    at.run()
    assert not at.exception, at.exception
    return time.perf_counter() - start


def paired(page: str, small: str, large: str) -> None:
    """In the child: the page opened on the two councils in turn, `PAIRS` times, after one
    open of each (which keeps what it rates); print the median of each council's opens."""
    import logging

    logging.disable(logging.WARNING)
    took: dict[str, list[float]] = {small: [], large: []}
    for turn in range(PAIRS + 1):
        for url in (small, large):
            seconds = open_again(page, url)
            if turn:
                took[url].append(seconds)
    print(json.dumps({"small": statistics.median(took[small]),
                      "large": statistics.median(took[large])}))  # fmt: skip


def _app(page: str, url: str):  # type: ignore[no-untyped-def]
    """The app about to open the page on its subject (`_codes`) in the benchmark's month,
    directly, as a pasted link opens it."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.query_params["period"] = PERIOD
    for name, value in _codes(url, page).items():
        at.query_params[name] = value
    if page != "dashboard":
        at.switch_page(f"pages/{page}.py")
    return at


def _codes(url: str, page: str) -> dict[str, str]:
    """The page's subject: the first priority, service and team, and the first Red measure."""
    if page == "dashboard":
        return {}
    from sqlalchemy import create_engine, text

    table = {"priority": "priority", "service": "service", "team": "team", "metric": "metric"}
    with create_engine(url).connect() as connection:
        code = connection.execute(text(f"SELECT code FROM {table[page]} ORDER BY id")).first()
    assert code is not None, f"no {page} in the council"
    return {page: code[0]}


# --- In the parent --------------------------------------------------------------------------------


def run_child(page: str, url: str, state: str) -> dict[str, float]:
    return _run([sys.executable, __file__, "--child", page, url, state], page)


def run_pair(page: str, small: str, large: str) -> dict[str, float]:
    for url in (small, large):
        forget(url, STATES["kept"])
    return _run([sys.executable, __file__, "--pair", page, small, large], page)


def _run(command: list[str], page: str) -> dict[str, float]:
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"{page} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# What the database keeps before each cold open (views.kept): nothing (the first open after the
# council's values were loaded), every rating a previous open kept, or those kept but for the
# 50 measures a team's save has just changed.
STATES = {
    "nothing kept": "DELETE FROM kept_rating",
    "kept": "",
    "after a save": f"UPDATE period_value SET version = version WHERE period = '{PERIOD}'"
    " AND metric_id IN (SELECT id FROM metric ORDER BY id LIMIT 50)",
}


def median_run(repeat: int, page: str, url: str, state: str = "nothing kept") -> dict[str, float]:
    runs = []
    for _ in range(repeat):
        forget(url, STATES[state])
        runs.append(run_child(page, url, state))
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def forget(url: str, statement: str) -> None:
    """Run one statement on the council (the kept ratings it forgets are what the state says).
    On PostgreSQL, then bring the kept ratings' statistics up to date, as autovacuum does a
    minute after a first open keeps 20,000 ratings: analysed while still empty (the council was
    just built), the planner took a priority's kept ratings by month, not by measure, and read
    all 20,000 to return 2,234 (at XL, for the dashboard's 400 listed rows, 9.7 ms against
    1.2 ms; docs/performance.md). Autovacuum may be off where this runs, as it is here."""
    from sqlalchemy import create_engine, text

    statements = [statement] if statement else []
    if url.startswith("postgresql"):
        statements.append("ANALYZE kept_rating")
    if not statements:
        return
    engine = create_engine(url)
    with engine.begin() as connection:
        for each in statements:
            connection.execute(text(each))
    engine.dispose()


def whole_process(repeat: int, args: list[str], url: str, state: str = "kept") -> float:
    """The median wall time of `python -m metrics ARGS` on the council."""
    samples = []
    for _ in range(repeat):
        forget(url, STATES[state])
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "metrics", *args],
            cwd=ROOT,
            env={**os.environ, "SCORECARD_DATABASE_URL": url},
            capture_output=True,
            check=True,
        )
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def python_importing(repeat: int, modules: str) -> float:
    """The median wall time of a Python process that only imports `modules`."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {modules}"], check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def councils(sizes: list[str], folder: Path, postgres: str | None) -> dict[str, str]:
    """Database URLs by size, each built once."""
    import councils as synthetic

    built = {}
    for size in sizes:
        start = time.perf_counter()
        url = f"sqlite:///{folder}/{size}.db"
        engine, values = synthetic.new_council(url, size)
        engine.dispose()
        built[size] = url
        print(f"  {size}: {values:,} values, built in {time.perf_counter() - start:.0f} s")
    if postgres:
        built["XL"] = _postgres_council(postgres, synthetic)
    return built


def _postgres_council(url: str, synthetic) -> str:  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine, make_url, text

    schema = f"bench_{uuid4().hex[:12]}"
    with create_engine(url).begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = (
        make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    start = time.perf_counter()
    engine, values = synthetic.new_council(scoped, "XL")
    with engine.begin() as connection:  # the planner's statistics, as autovacuum keeps them
        for table in ("metric", "period_value", "kept_rating", "team", "service"):
            connection.execute(text(f"ANALYZE {table}"))
    engine.dispose()
    print(f"  XL on PostgreSQL: {values:,} values, built in {time.perf_counter() - start:.0f} s")
    return scoped


def drop_schema(url: str) -> None:
    from sqlalchemy import create_engine, make_url, text

    schema = make_url(url).query["options"].split("=", 1)[1]
    base = make_url(url).difference_update_query(["options"])
    with create_engine(base).begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,L")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL URL: adds XL there")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--pair", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.pair:
        paired(*args.pair)
        return
    sys.path.insert(0, str(ROOT / "benchmarks"))
    with tempfile.TemporaryDirectory() as folder:
        print("building the councils ...")
        built = councils(args.sizes.split(","), Path(folder), args.postgres)
        try:
            report(built, args.repeat)
        finally:
            if "XL" in built:
                drop_schema(built["XL"])


def again(got: dict[str, float], state: str) -> str:
    """The own work measured in one process (`own_again`), where it means the same state."""
    return f"{got['again']:.2f}" if state == "kept" else "–"


def report(built: dict[str, str], repeat: int) -> None:
    # The floor is measured again before each page of each size: on a shared machine (and after
    # building XL, while PostgreSQL analyses it) one floor for the whole run drifted by a third.
    print(
        f"{'size':>4} {'page':>10} {'kept':>13} {'cold s':>7} {'floor s':>8} {'x floor':>8} "
        f"{'own s':>6} {'own CPU s':>9} {'own 1 proc':>10} {'warm s':>7} {'x floor':>8} "
        f"{'SQL':>4}"
    )
    for size, url in built.items():
        for page in PAGES:
            floor = median_run(repeat, "floor", url, "kept")
            for state in STATES:
                got = median_run(repeat, page, url, state)
                print(
                    f"{size:>4} {page:>10} {state:>13} {got['cold']:7.2f} "
                    f"{floor['cold']:8.2f} {got['cold'] / floor['cold']:8.1f} "
                    f"{got['cold'] - floor['cold']:6.2f} {got['cpu'] - floor['cpu']:9.2f} "
                    f"{again(got, state):>10} "
                    f"{got['warm']:7.3f} {got['warm'] / floor['warm']:8.1f} "
                    f"{got['statements']:4.0f}"
                )
        helped = whole_process(repeat, ["--help"], url)
        bare = python_importing(repeat, "pandas, sqlalchemy, sqlmodel, numpy")
        for state in STATES:
            status = whole_process(repeat, ["status", "--period", PERIOD], url, state)
            print(
                f"{size:>4} status CLI, {state}: {status:.2f} s, {status / bare:.1f}x a bare "
                f"Python importing its libraries ({bare:.2f} s), {status / helped:.1f}x its "
                f"--help ({helped:.2f} s)"
            )
    if "L" in built and "XL" in built:
        print(f"XL over L, opened in turn in one process (median of {PAIRS} each, kept):")
        print(f"{'page':>10} {'L s':>6} {'XL s':>6} {'XL / L':>7}")
        for page in PAGES:
            got = run_pair(page, built["L"], built["XL"])
            print(f"{page:>10} {got['small']:6.2f} {got['large']:6.2f} "
                  f"{got['large'] / got['small']:6.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
