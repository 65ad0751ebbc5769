"""Making any text storable and showable, whatever a patient (or a broken client) typed.

Rasa keeps a message's text inside JSON, whose \\u escapes can hold what UTF-8 cannot encode (a lone
UTF-16 surrogate) and what PostgreSQL's text type refuses (NUL). Decoded, such text breaks an
INSERT on either database and the encoding of a page. Everything read from the events table is
cleaned here before it is stored in our tables or shown, and clipped to its column.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
# Lone surrogates, NUL and the other C0 controls except tab, newline and carriage return, and DEL.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean(value: str, limit: int | None = None) -> str:
    """The text with every unsafe character replaced by U+FFFD, clipped to `limit` characters."""
    if limit is not None:
        value = value[:limit]
    return _UNSAFE.sub(REPLACEMENT, value)


def is_clean(value: str) -> bool:
    return _UNSAFE.search(value) is None


def clean_data(value: Any) -> Any:
    """JSON-like data (dicts, lists, strings, numbers) with every string cleaned, keys included."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(str(k)): clean_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_data(v) for v in value]
    return value
