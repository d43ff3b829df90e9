"""Walk the demo council's reading pages in Debian's Chromium at a desk size and a phone size,
and keep a full-page screenshot of each (issue 11's before-and-after pictures).

    .venv/bin/python tests/walk_screens.py docs/screenshots/after [--prefix after]

Not a test: `make walk` runs it. The app is started the way the README starts it, on a fresh
demo council in a temporary folder, and each page is opened by its link as a reader would paste it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app_server import CHROMIUM, ROOT, serve
from playwright.sync_api import sync_playwright

SIZES = {"desk": (1400, 1000), "phone": (390, 844)}
PAGES = {  # name: the link a reader would open, in the demo's latest month
    "dashboard": "/?period=2017-03",
    "priority": "/priority?priority=homes-good-homes-for-everyone&period=2017-03",
    "service": "/service?service=housing&period=2017-03",
    "team": "/team?team=housing/housing-options&period=2017-03",
    "metric": "/metric?metric=CP05&period=2017-03",
}
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"


def walk(folder: Path, prefix: str) -> list[tuple[str, str, float]]:
    """Every page at every size: (page, size, seconds until the script finished)."""
    folder.mkdir(parents=True, exist_ok=True)
    timings = []
    with tempfile.TemporaryDirectory() as work:
        database = f"sqlite:///{work}/demo.db"
        subprocess.run(
            [sys.executable, "-m", "metrics", "init", "--demo"],
            cwd=ROOT,
            env={"SCORECARD_DATABASE_URL": database, "PATH": "/usr/bin:/bin"},
            check=True,
            capture_output=True,
        )
        with serve(database, Path(work)) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
            )
            for size, (width, height) in SIZES.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                for name, link in PAGES.items():
                    start = time.perf_counter()
                    page.goto(url + link)
                    page.wait_for_selector(READY, timeout=120_000)
                    page.wait_for_load_state("networkidle")
                    page.wait_for_selector(READY, timeout=120_000)
                    timings.append((name, size, time.perf_counter() - start))
                    page.screenshot(path=str(folder / f"{prefix}-{name}-{size}.png"))
                page.close()
            browser.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--prefix", default="after")
    options = parser.parse_args()
    for name, size, seconds in walk(options.folder, options.prefix):
        print(f"{name:10} {size:6} {seconds:5.1f} s")


if __name__ == "__main__":
    main()
