"""The committee papers in a real browser on the real server (issue 9): the performance officer
(PMITG) freezes March 2016 on the Committee papers page, builds the papers and downloads the
committee pack through the browser's own download; the file, opened with openpyxl, holds the
snapshot's measures with their statuses, its hash and the protective marking the page promised,
and leaves out the OFFICIAL-SENSITIVE measures until they are asked for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_app import DOMAIN, WAIT_MS, Person, key_class, settle, shows
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from metrics import snapshots, store
from metrics.periods import spoken
from metrics.vocab import Marking

pytestmark = pytest.mark.browser

OFFICER = f"performance@{DOMAIN}"
PERIOD = "2016-03"
TITLE = "Performance Q4 2015-16"
NOT_TABLES = ("Cover", "Summary", "Exceptions", "Restatements")
SENSITIVE = Marking.OFFICIAL_SENSITIVE.value
SYMBOL = re.compile(r"^\W+\s")  # a status cell reads "✖ Red": its symbol, then the word


def _download(page: Page, person: Person, label: str, folder: Path) -> Path:
    """Click the download button whose label starts with `label`; the file as saved."""
    button = page.get_by_role("button", name=re.compile(rf"^{re.escape(label)}"))
    expect(button).to_be_visible(timeout=WAIT_MS)
    name = button.inner_text().rsplit(": ", 1)[1].strip()
    with page.expect_download(timeout=WAIT_MS) as started:
        person.click(button)
    download = started.value
    assert download.suggested_filename == name  # the file is the one the button named
    saved = folder / name
    download.save_as(saved)
    return saved


def _build(page: Page, person: Person) -> None:
    person.click(page.get_by_role("button", name=re.compile(r"Build the papers$")))
    shows(page, "Papers built")
    settle(page)


def _pack(path: Path) -> tuple[dict[str, str], dict[str, str], set[str]]:
    """The cover's label → value, each measure's code → status word from the tier sheets, and
    the marking in the centre of every sheet's printed header and footer."""
    book = load_workbook(path)
    cover = {
        str(row[0].value): str(row[1].value)
        for row in book["Cover"].iter_rows(min_row=3, max_col=2)
        if row[0].value
    }
    statuses: dict[str, str] = {}
    printed: set[str] = set()
    for sheet in book.worksheets:
        printed |= {str(sheet.oddHeader.center.text), str(sheet.oddFooter.center.text)}
        if sheet.title in NOT_TABLES:
            continue
        headings = [cell.value for cell in sheet[1]]
        code, status = headings.index("Code"), headings.index("Status")
        for row in sheet.iter_rows(min_row=2, values_only=True):
            if row[code] and row[code] != "None.":
                statuses[str(row[code])] = SYMBOL.sub("", str(row[status]))
    return cover, statuses, printed


def test_the_officer_freezes_march_and_downloads_the_pack_the_page_promised(
    page: Page, writable_app: tuple[str, str], tmp_path: Path
) -> None:
    url, database = writable_app
    officer = Person(page)
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{url}/?period={PERIOD}")
    shows(page, "DEMO: ")
    settle(page)
    officer.become(OFFICER, sees="Committee papers")
    officer.open("Committee papers")

    # Freeze March 2016 for the committee.
    period = page.locator(f".{key_class('freeze_period')}").get_by_role("combobox")
    expect(period).to_have_value(spoken(PERIOD))
    officer.fill(page.get_by_label("Title", exact=True), TITLE)
    officer.click(page.get_by_role("button", name=re.compile(r"Freeze the snapshot$")))
    shows(page, re.compile(r"Snapshot \d+ frozen\. SHA-256: [0-9a-f]{64}"))
    settle(page)
    frozen = page.get_by_text(re.compile(r"Snapshot \d+ frozen\. SHA-256: ")).inner_text()
    found = re.fullmatch(r"Snapshot (\d+) frozen\. SHA-256: ([0-9a-f]{64})", frozen.strip())
    assert found, frozen
    snapshot_id, digest = found.groups()
    shows(page, f"SHA-256 hash verified: {digest}")
    line = page.get_by_text(re.compile(rf"Snapshot {snapshot_id}: .*, marked ")).inner_text()
    promised = line.rsplit("marked ", 1)[1].strip()

    engine = store.make_engine(database)
    everything = snapshots.show(engine, int(snapshot_id), clearance=SENSITIVE).rows
    engine.dispose()
    assert PERIOD in set(everything["period"]) and everything["code"].is_unique
    hidden = set(everything.loc[everything["marking"] == SENSITIVE, "code"])
    assert promised == (SENSITIVE if hidden else Marking.OFFICIAL.value), promised
    expected = dict(zip(everything["code"], everything["status"], strict=True))

    # The default pack: every measure but the OFFICIAL-SENSITIVE ones, marked as such.
    _build(page, officer)
    pack = _download(page, officer, "Committee pack (Excel)", tmp_path)
    assert pack.name == f"snapshot-{snapshot_id}-pack.xlsx"
    cover, statuses, printed = _pack(pack)
    assert cover["Period"] == PERIOD and cover["Snapshot SHA-256"] == digest
    assert cover["Committee"] == "Governance Committee"
    assert statuses == {c: s for c, s in expected.items() if c not in hidden}
    marking = Marking.OFFICIAL.value if hidden else promised
    assert cover["Protective marking"] == marking and printed == {marking}
    if hidden:
        assert cover["Left out"] == "OFFICIAL-SENSITIVE measures (not in this pack)"

    # Asked for, the pack holds every frozen measure and carries the marking the page showed.
    officer.click(page.get_by_text("Include OFFICIAL-SENSITIVE measures in the pack"))
    # The papers built without them go once the rerun the tick started has drawn the page.
    expect(page.get_by_role("button", name=re.compile(r"^Committee pack"))).to_have_count(0)
    settle(page)
    _build(page, officer)
    full = _download(page, officer, "Committee pack (Excel)", tmp_path)
    cover, statuses, printed = _pack(full)
    assert statuses == expected
    assert cover["Protective marking"] == promised and printed == {promised}
    if promised == SENSITIVE:
        assert full.name == f"snapshot-{snapshot_id}-pack-{SENSITIVE}.xlsx"
