"""Values from outside (an address, a query string, a form) turned into what the database can hold.

The one place that parses record ids, dates and paging positions, with the ranges both databases
accept: an id beyond 64 bits overflows SQLite's INTEGER and a year-9999 date overflows the time
arithmetic. Anything malformed or out of range raises InputError (a ValueError) naming the
parameter, never echoing the value; the console answers it with 400 (404 for ids in the path).
An empty value means "not given", as an empty form field does.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, datetime

from bot.store.safe_text import clean, is_clean

MAX_ID = 2**63 - 1  # signed 64-bit: the widest integer key either database has
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)  # Rasa's times are Unix times
_DIGITS = re.compile(r"[0-9]{1,19}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What the store's own cursors and timestamps look like: datetime.isoformat() of a naive time.
_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?")


class InputError(ValueError):
    """A malformed or out-of-range value; `name` says which parameter, for a message to the user."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the value of {name!r} is malformed or out of range")
        self.name = name


def record_id(value: str, name: str = "id") -> int:
    """A database id: 0 to 2^63-1, in ASCII digits. Also the console's path pattern for ids."""
    if not _DIGITS.fullmatch(value or "") or int(value) > MAX_ID:
        raise InputError(name)
    return int(value)


def optional_id(value: str | None, name: str) -> int | None:
    return record_id(value, name) if value else None


def day(value: str | None, name: str) -> date | None:
    """A YYYY-MM-DD date from 1970-01-01 to 2999-12-31, or None when empty."""
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value) if _DAY.fullmatch(value) else None
    except ValueError:
        parsed = None
    if parsed is None or not FIRST_DAY <= parsed <= LAST_DAY:
        raise InputError(name)
    return parsed


def moment(value: str, name: str) -> datetime:
    """A naive ISO time (how the store writes times into cursors) within the dates above."""
    try:
        parsed = datetime.fromisoformat(value) if _MOMENT.fullmatch(value) else None
    except ValueError:
        parsed = None
    if parsed is None or not FIRST_DAY <= parsed.date() <= LAST_DAY:
        raise InputError(name)
    return parsed


def small_number(value: str, name: str, maximum: int) -> int:
    number = record_id(value, name)
    if number > maximum:
        raise InputError(name)
    return number


def word(value: str | None, name: str, max_length: int = 64) -> str | None:
    """A short identifier-like value (a condition, a channel), or None when empty."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > max_length or not is_clean(value):
        raise InputError(name)
    return value


def choice(value: str | None, name: str, options: Collection[str]) -> str | None:
    """One of `options`, or None when empty."""
    if not value:
        return None
    if value not in options:
        raise InputError(name)
    return value


def free_text(value: str | None, max_length: int) -> str:
    """Typed text (a search box): never refused, only cleaned and clipped."""
    return clean((value or "").strip(), max_length)
