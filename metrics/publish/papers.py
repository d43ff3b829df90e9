"""A snapshot's committee papers as files to hand over: the pack, the cover report and the
transparency file (CSV and JSON), each built into a temporary folder and read back as bytes.

The pack includes OFFICIAL-SENSITIVE measures only when asked by someone cleared to see them;
anyone else asking is refused (`AccessDenied`), whatever the page offered.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from metrics import access
from metrics.publish import pack, report, transparency
from metrics.vocab import Marking

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON = "application/json"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class Paper:
    """One file: what it is, its name, its MIME type and its bytes."""

    label: str
    file_name: str
    mime: str
    data: bytes


def file_stem(snapshot_id: int) -> str:
    """The common start of every file name of a snapshot's papers."""
    return f"snapshot-{snapshot_id}"


def build_papers(
    engine: Engine, snapshot_id: int, *, clearance: str, include_sensitive: bool = False
) -> list[Paper]:
    """The pack (xlsx), the cover report (docx) and the transparency file (CSV and JSON).

    Refused (`AccessDenied`) when a pack with OFFICIAL-SENSITIVE measures is asked for by a
    reader not cleared to see them; `SnapshotRefused` for an unknown snapshot.
    """
    sensitive = Marking.OFFICIAL_SENSITIVE.value
    if include_sensitive and not access.may_see(clearance, sensitive):
        raise access.AccessDenied(f"only a reader cleared {sensitive} may include those measures")
    stem = file_stem(snapshot_id)
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        written = pack.write_pack(
            engine, snapshot_id, here / f"{stem}-pack.xlsx", include_sensitive=include_sensitive
        )
        cover = report.write_report(engine, snapshot_id, here / f"{stem}-report.docx")
        csv_path, json_path = here / f"{stem}-transparency.csv", here / f"{stem}-transparency.json"
        transparency.publish(engine, snapshot_id, csv_path, json_path=json_path)
        return [
            Paper("Committee pack (Excel)", written.name, XLSX, written.read_bytes()),
            Paper("Cover report (Word)", cover.name, DOCX, cover.read_bytes()),
            Paper("Transparency file (CSV)", csv_path.name, "text/csv", csv_path.read_bytes()),
            Paper("Transparency file (JSON)", json_path.name, JSON, json_path.read_bytes()),
        ]
