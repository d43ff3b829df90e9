"""Names as people type them: compared without case or spacing, and turned into codes."""

from __future__ import annotations

import re
import unicodedata

CODE_LIMIT = 40  # the longest code of a measure, priority, initiative or service


def fold(text: str) -> str:
    """A name as compared: Unicode-normalised, case and runs of spacing ignored."""
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def slug(name: str) -> str:
    """The code made from a name: lower case ASCII letters and digits joined by '-'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:CODE_LIMIT].strip("-")
