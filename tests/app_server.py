"""The real server for browser tests: `streamlit run app.py` on a free port, as the README
starts it, waited for until healthy (shared by tests/test_browser*.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the app exited early with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"the app did not answer {url}/_stcore/health in {timeout} s")


@contextmanager
def serve(
    database_url: str,
    log_folder: Path,
    env: dict[str, str] | None = None,
    args: list[str] | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """The app's URL (`http://127.0.0.1:<port>`) on this database, stopped on leaving; `env`
    adds to the environment (e.g. SCORECARD_CONFIG) and `args` to Streamlit's command line;
    the server's output goes to log_folder; `port`, when a test must know it beforehand."""
    port = port or _free_port()
    log = (log_folder / "streamlit.log").open("w")
    environment = {**os.environ, "SCORECARD_DATABASE_URL": database_url, **(env or {})}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            *(args or []),
        ],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
