"""A module imported on its first use, so that `python -m metrics --help` (and a mistyped
command) answers at once instead of importing pandas, SQLAlchemy and openpyxl first."""

from __future__ import annotations

from importlib import import_module
from typing import Any


class Later:
    """Stands for the module `name`; the first attribute read imports it."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(import_module(self._name), attribute)
