"""Checking what the patient types for their name, phone and email; None means ask again."""

from __future__ import annotations

import re

# Letters from any alphabet, with the joiners real names use (O'Neill, Smith-Jones, St. John).
NAME = re.compile(r"^[^\W\d_]+(?:[ '’.-][^\W\d_]+)*\.?$")
EMAIL = re.compile(r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,}$")
# Everyday words that make a reply a sentence, not a name ("I don't know", "talk to a person").
NOT_NAMES = frozenset("""i me my you your it a an the to of and or not no yes yeah nope don't dont know why what who
how is are am do does can could would will want need talk speak person human someone somebody call phone book
cancel stop please thanks thank hello hi hey sorry later again change time""".split())
MAX_NAME_WORDS = 4
NAME_PREFIX = re.compile(r"^(?:(?:my )?(?:first |last |sur)?name(?: is|'s)?|i'?m|i am|it'?s|call me)\s+", re.I)


def clean_name(text: str) -> str | None:
    """One name (first or last), trimmed and capitalised when typed all in one case."""
    text = NAME_PREFIX.sub("", " ".join(text.split())).strip(" .,!")
    if not 1 <= len(text) <= 100 or not NAME.match(text):
        return None
    words = text.lower().replace("’", "'").split()
    if len(words) > MAX_NAME_WORDS or any(w in NOT_NAMES for w in words):
        return None
    return text.title() if text.islower() or text.isupper() else text


def split_full_name(text: str) -> tuple[str, str] | None:
    """'Sam Taylor' -> ('Sam', 'Taylor'); None unless there are at least two names."""
    cleaned = clean_name(text)
    if not cleaned or " " not in cleaned:
        return None
    first, last = cleaned.split(" ", 1)
    return first, last


def clean_phone(text: str, country_code: str = "44") -> str | None:
    """A phone number in international form (+447700900123); None if it cannot be a phone number."""
    raw = text.strip().replace("(0)", "")  # "+44 (0)20 ..." : the national 0 written beside the country code
    if not raw or re.search(r"[^\d\s()+.-]", raw) or raw.count("+") > 1 or ("+" in raw and not raw.startswith("+")):
        return None
    digits = re.sub(r"\D", "", raw)
    if raw.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    elif digits.startswith("0"):
        number = country_code + digits[1:]
    else:
        return None
    return "+" + number if 10 <= len(number) <= 15 and not number.startswith("0") else None


def clean_email(text: str) -> str | None:
    text = text.strip().strip("<>.,").strip()
    if len(text) > 254 or ".." in text or not EMAIL.match(text):
        return None
    local, domain = text.rsplit("@", 1)
    return f"{local}@{domain.lower()}"
