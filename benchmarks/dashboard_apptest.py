"""How long the ME2E dashboard takes to run headless (AppTest), cold and warm, on the demo council
and on a council ten times its size, as ratios to a floor measured in the same run.

These machines are shared and noisy, so seconds alone mean little: each figure is divided by the
time AppTest takes to run a trivial one-line script (the floor). "Cold" empties Streamlit's caches
first; "warm" is a rerun of the same session after a widget change back to a month already read,
which should touch the database once (the data version).

    .venv/bin/python benchmarks/dashboard_apptest.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from metrics import demo, store  # noqa: E402
from metrics.config import settings  # noqa: E402
from metrics.models import Metric, PeriodValue  # noqa: E402

logging.disable(logging.WARNING)  # bare-mode warnings from every AppTest run bury the figures

APP = str(ROOT / "app.py")
PERIOD, OTHER = "2017-03", "2017-02"
TRIVIAL = "import streamlit as st\nst.write('floor')\n"


def build_demo(path: Path) -> str:
    """The demo council, loaded through the workbook import."""
    url = f"sqlite:///{path}"
    engine = store.make_engine(url)
    store.upgrade(engine)
    demo.load_demo(engine)
    engine.dispose()
    return url


def build_tenfold(demo_path: Path, path: Path) -> str:
    """The demo council with every metric copied nine more times under new codes (`CP03~1`):
    same priorities, initiatives, services and teams; alignments point at the copy's peers."""
    shutil.copy(demo_path, path)
    url = f"sqlite:///{path}"
    engine = store.make_engine(url)
    metric_columns = [c.name for c in Metric.__table__.columns if c.name not in ("id", "code")]
    value_columns = [
        c.name for c in PeriodValue.__table__.columns if c.name not in ("id", "metric_id")
    ]
    with engine.begin() as connection:
        originals = connection.execute(text("SELECT max(id) FROM metric")).scalar()
        for copy in range(1, 10):
            suffix = f"~{copy}"
            columns = ", ".join(metric_columns)
            connection.execute(
                text(
                    f"INSERT INTO metric (code, {columns}) "
                    f"SELECT code || :suffix, {columns} FROM metric WHERE id <= :last"
                ),
                {"suffix": suffix, "last": originals},
            )
            connection.execute(
                text(
                    "UPDATE metric SET aligned_to_id = (SELECT peer.id FROM metric AS original "
                    "JOIN metric AS target ON original.aligned_to_id = target.id "
                    "JOIN metric AS peer ON peer.code = target.code || :suffix "
                    "WHERE original.code || :suffix = metric.code) "
                    "WHERE code LIKE '%' || :suffix"
                ),
                {"suffix": suffix},
            )
            values = ", ".join(value_columns)
            prefixed = ", ".join(f"value.{c}" for c in value_columns)
            connection.execute(
                text(
                    f"INSERT INTO period_value (metric_id, {values}) "
                    f"SELECT copy.id, {prefixed} FROM period_value AS value "
                    "JOIN metric AS original ON value.metric_id = original.id "
                    "JOIN metric AS copy ON copy.code = original.code || :suffix"
                ),
                {"suffix": suffix},
            )
        connection.execute(text("UPDATE data_version SET version = version + 1"))
        metrics = connection.execute(text("SELECT count(*) FROM metric")).scalar()
    engine.dispose()
    print(f"  10x council: {metrics} metrics")
    return url


def use(url: str) -> None:
    """Point the app (and its settings) at a database, with Streamlit's caches emptied."""
    os.environ["SCORECARD_DATABASE_URL"] = url
    settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()


def median_of(repeat: int, action: Callable[[], float]) -> float:
    return statistics.median(action() for _ in range(repeat))


def floor_run(warm: bool) -> float:
    """AppTest running a one-line script (cold: a new session; warm: its rerun)."""
    at = AppTest.from_string(TRIVIAL, default_timeout=60)
    start = time.perf_counter()
    at.run()
    if warm:
        start = time.perf_counter()
        at.run()
    return time.perf_counter() - start


def dashboard_run(url: str, warm: bool, statements: list[int]) -> float:
    """The dashboard in a new session with empty caches, or a warm rerun after a widget change
    (whose SQL statements are counted into `statements`)."""
    use(url)
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["period"] = PERIOD
    start = time.perf_counter()
    at.run()
    assert not at.exception, at.exception
    if not warm:
        return time.perf_counter() - start
    at.sidebar.selectbox(key="period").set_value(OTHER).run()
    from pages import _ui

    engine, seen = _ui.engine(), []
    listener = lambda *_args: seen.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    start = time.perf_counter()
    at.sidebar.selectbox(key="period").set_value(PERIOD).run()  # back to a month already read
    elapsed = time.perf_counter() - start
    event.remove(engine, "before_cursor_execute", listener)
    assert not at.exception, at.exception
    statements.append(len(seen))
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        demo_path = Path(folder) / "demo.db"
        print("building the councils ...")
        councils = {
            "demo council (120 metrics)": build_demo(demo_path),
            "10x (1,200 metrics)": build_tenfold(demo_path, Path(folder) / "tenfold.db"),
        }
        floor_cold = median_of(args.repeat, lambda: floor_run(warm=False))
        floor_warm = median_of(args.repeat, lambda: floor_run(warm=True))
        print(
            f"floor: trivial AppTest script {floor_cold * 1000:.0f} ms cold, "
            f"{floor_warm * 1000:.0f} ms rerun"
        )
        print(f"{'council':>28} {'cold s':>8} {'ratio':>7} {'warm s':>8} {'ratio':>7}")
        for label, url in councils.items():
            statements: list[int] = []
            cold = median_of(
                args.repeat, lambda url=url, seen=statements: dashboard_run(url, False, seen)
            )
            warm = median_of(
                args.repeat, lambda url=url, seen=statements: dashboard_run(url, True, seen)
            )
            print(
                f"{label:>28} {cold:8.2f} {cold / floor_cold:7.0f} "
                f"{warm:8.3f} {warm / floor_warm:7.1f}   "
                f"(warm rerun: {max(statements)} SQL statement(s))"
            )


if __name__ == "__main__":
    main()
