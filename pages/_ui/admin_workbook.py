"""The glue of the template workbook page: the blank template and the held measures to
download, and an upload previewed (what the core import would create and change) before it is
imported, all or nothing, as the administrator."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import asdict
from datetime import date
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from metrics import admin, views
from metrics.access import AccessDenied, CurrentUser
from metrics.config import settings
from metrics.workbook import WorkbookError, export_workbook, write_template
from metrics.workbook.writer import ImportResult
from pages._ui.admin import act, problem_text
from pages._ui.entry import notice
from pages._ui.routing import _version, engine
from pages._ui.text import plain

KEY = "workbook"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@st.cache_data(max_entries=1, show_spinner=False)
def _blank() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "template.xlsx"
        write_template(path)
        return path.read_bytes()


@st.cache_data(max_entries=4, show_spinner=False)
def _export(clearance: str, version: int) -> tuple[str, bytes]:
    with tempfile.TemporaryDirectory() as folder:
        path = export_workbook(engine(), Path(folder) / "measures.xlsx", clearance=clearance)
        return path.name, path.read_bytes()


def downloads(user: CurrentUser) -> None:
    """The blank template, and every measure the administrator may see with its values."""
    left, right = st.columns(2)
    left.download_button("Blank template", _blank(), file_name="template.xlsx", mime=XLSX)
    name, data = _export(user.clearance, _version())
    right.download_button("Measures and values held", data, file_name=name, mime=XLSX)


def _saved(data: bytes, name: str) -> Path:
    """The upload in a private temporary file, named as uploaded (the audit names the file)."""
    folder = Path(tempfile.mkdtemp(prefix="upload-"))
    path = folder / (Path(name).name or "upload.xlsx")
    path.write_bytes(data)
    return path


def _counts(result: ImportResult) -> pd.DataFrame:
    counts = {k: v for k, v in asdict(result).items() if isinstance(v, int)}
    rows = [{"what": k.replace("_", " "), "rows": v} for k, v in counts.items()]
    return pd.DataFrame(rows)


def upload(user: CurrentUser) -> None:
    """Upload a filled workbook, see what it would do, then import it."""
    notice(KEY)
    file = st.file_uploader("Filled template workbook (.xlsx)", type=["xlsx"], key=f"{KEY}|file")
    if file is None:
        return
    data = file.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    path = _saved(data, file.name)
    try:
        result = admin.preview_workbook(engine(), actor=user, path=path)
    except (WorkbookError, AccessDenied) as error:
        st.error(problem_text(error), icon=":material/block:")
        return
    finally:
        path.unlink(missing_ok=True)
        path.parent.rmdir()
    st.markdown(f"**If imported now**, {plain(file.name)} would:")
    st.dataframe(_counts(result), hide_index=True)
    for line in result.markings_lowered:
        st.warning(f"Marking lowered: {plain(line)}", icon=":material/lock_open:")
    st.button(
        "Import this workbook",
        type="primary",
        key=f"{KEY}|import|{digest}",
        on_click=act,
        args=(KEY, partial(_import, user, data, file.name)),
    )


def _import(user: CurrentUser, data: bytes, name: str) -> str:
    path = _saved(data, name)
    try:
        result = admin.import_workbook(engine(), actor=user, path=path)
    finally:
        path.unlink(missing_ok=True)
        path.parent.rmdir()
    # the months the dashboard opens on are rated now, not while its first reader waits
    views.rate_ahead(engine(), today=date.today(), settings=settings())
    return f"Imported {plain(name)}: {plain(str(result))}."
