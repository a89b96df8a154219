"""The one rule for text people write: prompts, comments, display names, report reasons, restrictions.

Text is stored as the person meant it to read, with nothing that changes how
other text around it shows: control characters go (a newline stays where the
field allows several lines), and so do the Unicode controls that reorder
what follows them on screen (bidirectional overrides and isolates). Lone
surrogates, which no file or JSON can hold, go too. Text left empty after
that is refused, like text that was empty to begin with.
"""

from __future__ import annotations

import re
import unicodedata

from vocabulary import MAX_TEXT

from .errors import InvalidInput


_REORDERING = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _kept(char: str, multiline: bool) -> bool:
    if char == "\n":
        return multiline
    if char in _REORDERING:
        return False
    return unicodedata.category(char) not in ("Cc", "Cs")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """``value`` without control characters (a newline kept when ``multiline``), trimmed."""
    text = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if not multiline:
        text = re.sub(r"\n+", " ", text)
    text = "".join(c for c in text if _kept(c, multiline))
    if multiline:
        text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def checked_text(value: object, what: str, max_len: int = MAX_TEXT, *, multiline: bool = False,
                 optional: bool = False) -> str:
    """Cleaned text of 1 to ``max_len`` characters (0 allowed when ``optional``), or a refusal naming ``what``."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text.")
    text = clean_text(value, multiline=multiline)
    if not text and value.strip() and not optional:
        raise InvalidInput(f"{what} must have letters or signs in it, not only control characters.")
    if not (0 if optional else 1) <= len(text) <= max_len:
        raise InvalidInput(f"{what} must be 1 to {max_len} characters (it is {len(text)}).")
    return text
