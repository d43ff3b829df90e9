"""Streamlit's server settings for a council network (docs/security.md): each one as shipped,
each one a setting Streamlit knows, and the upload cap matched to the workbook limit."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from streamlit import config as streamlit_config

from metrics.config import load_settings

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
MEGABYTE = 1024 * 1024  # Streamlit's maxUploadSize is in MiB


def _options(table: dict, prefix: str = "") -> dict[str, object]:
    found: dict[str, object] = {}
    for name, value in table.items():
        if isinstance(value, dict):
            found |= _options(value, f"{prefix}{name}.")
        else:
            found[f"{prefix}{name}"] = value
    return found


OPTIONS = _options(SHIPPED)


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("server.enableXsrfProtection", True),  # a post must carry the session's token
        ("server.enableCORS", True),  # only the app's own origin
        ("server.enableStaticServing", False),
        ("server.headless", True),
        ("client.toolbarMode", "viewer"),  # no rerun, clear cache or deploy for readers
        ("client.showErrorDetails", "none"),  # tracebacks to the log, never to the reader
        ("browser.gatherUsageStats", False),
    ],
)
def test_each_hardened_setting_is_shipped(option: str, expected: object) -> None:
    assert OPTIONS[option] == expected


def test_every_shipped_setting_is_one_streamlit_knows() -> None:
    unknown = [name for name in OPTIONS if name not in streamlit_config._config_options_template]
    assert not unknown, unknown


def test_the_upload_cap_is_the_smallest_that_takes_the_largest_workbook() -> None:
    limit = load_settings(ROOT / "config.toml", environ={}).upload.max_file_bytes
    cap = OPTIONS["server.maxUploadSize"]
    assert isinstance(cap, int)
    assert cap * MEGABYTE >= limit > (cap - 1) * MEGABYTE


def test_the_page_icon_is_a_file_the_app_serves() -> None:
    from pages._ui.routing import ICON

    assert ICON.read_bytes().startswith(b"\x89PNG")
    for path in [ROOT / "app.py", *sorted((ROOT / "pages").rglob("*.py"))]:
        source = path.read_text(encoding="utf-8")
        assert 'page_icon=":' not in source, path  # Streamlit fetches those from a font host
