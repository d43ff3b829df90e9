"""The transparency file (Local Government Transparency Code): tidy CSV, and the same as JSON.

Built from a snapshot. It holds only NOT PROTECTIVELY MARKED measures; OFFICIAL ones too when
config.toml says the council publishes them ([publication] publish_official); OFFICIAL-SENSITIVE
never, whatever the setting. Text is made inert as in every other file the app writes.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from metrics import snapshots
from metrics.config import Settings, settings
from metrics.publish.cells import safe_text
from metrics.publish.licence import LICENCE
from metrics.snapshots import Frozen
from metrics.vocab import Marking

COLUMNS = [
    "council",
    "measure_code",
    "title",
    "tier",
    "priority",
    "period",
    "actual",
    "target",
    "status",
    "direction",
    "unit",
    "last_updated",
    "licence",
]
NUMBERS = ("actual", "target")


def published_markings(config: Settings) -> list[str]:
    """The markings the council publishes: never OFFICIAL-SENSITIVE."""
    markings = [Marking.NOT_PROTECTIVELY_MARKED.value]
    if config.publication.publish_official:
        markings.append(Marking.OFFICIAL.value)
    return markings


def transparency_table(frozen: Frozen, *, council: str, markings: list[str]) -> pd.DataFrame:
    """One tidy row per published measure; actual and target to the measure's decimals."""
    return table_of(frozen.rows, council=council, markings=markings)


def table_of(frozen_rows: pd.DataFrame, *, council: str, markings: list[str]) -> pd.DataFrame:
    """`transparency_table` of snapshot rows (as `snapshots.show` or the public view holds them)."""
    allowed = set(markings) - {Marking.OFFICIAL_SENSITIVE.value}
    rows = frozen_rows[frozen_rows["marking"].isin(allowed)]
    records = [
        {
            "council": council,
            "measure_code": row["code"],
            "title": row["title"],
            "tier": row["tier"],
            "priority": row["priority"],
            "period": row["period"],
            "actual": _rounded(row["actual"], row["decimals"]),
            "target": _rounded(row["target"], row["decimals"]),
            "status": row["status"],
            "direction": row["dot_previous"],
            "unit": row["unit"],
            "last_updated": row["last_updated"].isoformat() if row["last_updated"] else "",
            "licence": LICENCE,
        }
        for row in rows.to_dict("records")
    ]
    return pd.DataFrame(records, columns=COLUMNS)


def _rounded(value: Any, decimals: int) -> float | None:
    if value is None or pd.isna(value):
        return None
    return round(float(value), max(int(decimals), 0))


def safe_record(record: dict[str, Any]) -> dict[str, Any]:
    """Text made inert, numbers left numbers, blanks as None."""
    return {
        name: safe_text(value) if isinstance(value, str) else _plain(value)
        for name, value in record.items()
    }


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """UTF-8 CSV (RFC 4180, CRLF) with a header row; numbers unquoted, blanks empty, text inert.

    CRLF line ends make the writer quote a field holding a lone CR as well as one holding LF.
    """
    Path(path).write_bytes(csv_bytes(table))


def csv_bytes(table: pd.DataFrame) -> bytes:
    """The CSV `write_csv` writes, as bytes (for a download)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for record in table.to_dict("records"):
        safe = safe_record(record)
        writer.writerow(["" if safe[c] is None else safe[c] for c in COLUMNS])
    return text.getvalue().encode("utf-8")


def public_csv(rows: pd.DataFrame, *, council: str) -> bytes:
    """The transparency CSV of the public view's rows: NOT PROTECTIVELY MARKED only, whatever
    [publication] says, since the public view never shows OFFICIAL measures."""
    public = [Marking.NOT_PROTECTIVELY_MARKED.value]
    return csv_bytes(table_of(rows, council=council, markings=public))


def json_document(table: pd.DataFrame, frozen: Frozen, *, council: str) -> dict[str, Any]:
    """The same rows as the CSV, with the council, licence and snapshot they come from."""
    header = frozen.snapshot
    return {
        "council": safe_text(council),
        "licence": LICENCE,
        "snapshot": {"id": header.id, "period": header.period, "sha256": header.sha256},
        "columns": COLUMNS,
        "rows": [safe_record(record) for record in table.to_dict("records")],
    }


def publish(
    engine: Engine, snapshot_id: int, csv_path: Path, *, json_path: Path | None = None
) -> int:
    """Write the transparency CSV (and JSON if asked) of a snapshot; returns the row count."""
    config = settings()
    markings = published_markings(config)
    clearance = markings[-1]  # the most sensitive marking published
    frozen = snapshots.show(engine, snapshot_id, clearance=clearance)
    table = transparency_table(frozen, council=config.council_name, markings=markings)
    write_csv(table, csv_path)
    if json_path is not None:
        document = json_document(table, frozen, council=config.council_name)
        text = json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False)
        Path(json_path).write_text(text + "\n", encoding="utf-8")
    return len(table)
