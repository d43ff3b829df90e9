"""What the real-browser tests share: the app started on a free port the way the README starts
it (tests/app_server.py), a writable copy of the demo council for the tests that write, and
waiting for Streamlit to finish a rerun. The Chromium launch and the window size are fixtures
in conftest.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from app_server import ROOT, serve
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import Engine

__all__ = ["ROOT", "serve"]  # the server, from app_server, with what the browser tests share

READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
DOMAIN = "demo.melburyvale.gov.uk"
PERSONAS = {  # the persona picker's labels, by e-mail
    f"housing.manager@{DOMAIN}": "Demo Housing Manager (Service manager)",
    f"performance@{DOMAIN}": "Demo Performance Officer (Performance officer)",
}
WAIT_MS = 90_000  # two cores shared with other work: a rerun can take many seconds


def writable_demo(demo_database: str, make_engine: Callable[[], Engine], folder: Path) -> str:
    """The URL of a demo council of the test's own, for a test that writes (conftest's copy)."""
    from conftest import copy_demo

    engine = copy_demo(demo_database, make_engine, folder)
    engine.dispose()
    return engine.url.render_as_string(hide_password=False)


def settle(page: Page) -> None:
    """Wait until the script has finished and the page stopped changing."""
    page.wait_for_selector(READY, timeout=WAIT_MS)
    page.wait_for_load_state("networkidle")
    page.wait_for_selector(READY, timeout=WAIT_MS)


def wait_for_url(page: Page, fragment: str) -> None:
    page.wait_for_function("f => window.location.href.includes(f)", arg=fragment, timeout=30_000)
    settle(page)


def nav_link(page: Page, title: str) -> Locator:
    """The sidebar's link to a page (its accessible name carries the icon's ligature too)."""
    return page.get_by_role("link", name=re.compile(rf"(^|\s){re.escape(title)}$"))


def key_class(key: str) -> str:
    """The CSS class Streamlit gives the element of a widget with this key."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def shows(where: Page | Locator, text: str | re.Pattern[str]) -> None:
    """Wait (as long as a slow rerun takes) until the text is on screen (or in `where`)."""
    expect(where.get_by_text(text).first).to_be_visible(timeout=WAIT_MS)


# After a persona pick: "switched" once the sidebar links the persona's page (and no longer
# `not_sees`), "lost" once the rerun ended with the picker showing someone else.
PICKED = """([label, sees, notSees, ready]) => {
  const links = [...document.querySelectorAll("[data-testid=stSidebarNav] a")]
    .map((a) => a.innerText.trim());
  const has = (title) => links.some((text) => text.endsWith(title));
  if (has(sees) && !(notSees && has(notSees))) return "switched";
  const boxes = [...document.querySelectorAll("input[aria-label='Try the app as']")];
  const idle = document.querySelector(ready) !== null;
  if (idle && boxes.length === 1 && boxes[0].value !== label) return "lost";
  return false;
}"""


class Person:
    """Someone at the page: every click, field typed into (one fill, however many keys) and key
    pressed goes through here and is counted, with the characters typed."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.interactions = 0
        self.characters = 0
        self.lost_picks = 0

    def click(self, target: Locator) -> None:
        target.click()
        self.interactions += 1

    def fill(self, target: Locator, text: str) -> None:
        target.fill(text)
        self.interactions += 1
        self.characters += len(text)

    def become(self, email: str, *, sees: str, not_sees: str | None = None) -> None:
        """Pick the persona in the sidebar's picker (two clicks), then wait until the rerun
        shows the sidebar's link to `sees` (and no longer the one to `not_sees`).

        The first pick of a fresh session can be lost: the app's first run gives the picker
        another widget id than every later run, so the rerun re-creates it at its default
        (the director). A person then picks again; so does this, once, and counts it in
        `lost_picks` and in the interactions. A second loss fails the test."""
        for attempt in range(2):
            self.click(self.page.get_by_label("Try the app as"))
            self.click(self.page.get_by_role("option", name=PERSONAS[email], exact=True))
            outcome = self.page.wait_for_function(
                PICKED, arg=[PERSONAS[email], sees, not_sees or "", READY], timeout=WAIT_MS
            ).json_value()
            if outcome == "switched":
                break
            self.lost_picks += 1
            assert attempt == 0, f"the persona picker twice went back from {email}"
        expect(self.page.get_by_label("Try the app as")).to_have_value(PERSONAS[email])
        if not_sees:
            expect(nav_link(self.page, not_sees)).to_have_count(0, timeout=WAIT_MS)
        expect(nav_link(self.page, sees)).to_be_visible(timeout=WAIT_MS)
        settle(self.page)

    def open(self, title: str, heading: str | None = None) -> None:
        """Follow the sidebar's link to a page and wait for its heading."""
        self.click(nav_link(self.page, title))
        heading_role = self.page.get_by_role("heading", name=heading or title, exact=True)
        expect(heading_role).to_be_visible(timeout=WAIT_MS)
        settle(self.page)
