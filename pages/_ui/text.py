"""Text from users, the database or the URL, made plain for Streamlit's Markdown."""

from __future__ import annotations

import re

# Invisible and zero-width. Streamlit's Markdown runs some transforms on the text after the
# escapes are resolved: autolinks (`https://`, `www.`, e-mail addresses), shortcodes (`:smile:`,
# `:material/warning:`, `:streamlit:`) and arrows (`->`, `<=`, ...). A word joiner where each
# would match (between two punctuation characters, after `:` or `@` before a word character,
# between `www` and `.`) stops them without changing what the reader sees.
WORD_JOINER = "\u2060"
_PUNCT = r"[!-/:-@\[-`{-~]"  # every ASCII punctuation character: all may be escaped
_JOINS = re.compile(rf"(?<={_PUNCT})(?={_PUNCT})|(?<=[:@])(?=\w)|(?<=[wW][wW][wW])(?=\.)")
_PUNCTUATION = re.compile(rf"({_PUNCT})")


def plain(text: object) -> str:
    """Text from users, the database or the URL, for any element that renders Markdown (text,
    captions, titles, labels, badges): shown literally, never as markup, HTML, a link, an
    icon, an emoji or a colour. Whitespace runs (newlines included) read as one space."""
    words = " ".join(("" if text is None else str(text)).split())
    return _PUNCTUATION.sub(r"\\\1", _JOINS.sub(WORD_JOINER, words))
