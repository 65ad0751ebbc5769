"""Personal details out of a patient's words, for text that leaves the clinic (vignette exports).

What is removed: email addresses and links; the strings the conversation is known to hold about
the patient (their name, phone and email from a call-back, a booking or the booking questions;
the sender id, which can be a phone number); then dates with a year (birthdays), phone numbers
(phonenumbers' PhoneNumberMatcher, which finds numbers as people write them, in the clinic's
country or in international form), any other run of seven or more digits (NHS and other record
numbers), UK postcodes, and the name after "my name is" or "I'm called" (its
next word too unless that is an ordinary English word, by spaCy's stop-word list). Names said
any other way cannot be found without a trained name recogniser, which the project does not
download; the known names cover a patient who gave theirs in the chat.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from phonenumbers import Leniency, PhoneNumberMatcher

DEFAULT_REGION = "GB"  # when no clinic file says the country: how numbers without a country code are read
MIN_PHONE_DIGITS = 7  # "since 2019" is a possible short number; nobody's phone is that short
NAME, PHONE, EMAIL, LINK, NUMBER, POSTCODE, DATE = ("[name]", "[phone]", "[email]", "[link]", "[number]",
                                                   "[postcode]", "[date]")

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(\.[\w-]+)+", re.UNICODE)
_LINK = re.compile(r"\b(https?://|www\.)\S+", re.IGNORECASE)
_DIGIT_RUN = re.compile(r"\+?\d(?:[\s().-]{0,2}\d){6,}")
_POSTCODE = re.compile(r"\b[A-Z]{1,2}[0-9][A-Z0-9]?\s*[0-9][A-Z]{2}\b", re.IGNORECASE)
_DATE = re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-](\d{4}|\d{2})\b")
# The name a patient introduces themselves with, and the word after it (a surname, or not: see _introduction).
_INTRODUCTION = re.compile(r"\b(my name is|my name's|i am called|i'm called|im called)\s+([^\W\d_][\w'-]*)"
                           r"(\s+([^\W\d_][\w'-]*))?", re.IGNORECASE | re.UNICODE)


def redact(text: str, known: Iterable[str] = (), region: str = DEFAULT_REGION) -> str:
    """`text` with the known strings and every pattern above replaced by a [placeholder]."""
    text = _EMAIL.sub(EMAIL, text)  # whole, before a known name inside one is replaced
    text = _LINK.sub(LINK, text)
    text = _known(text, known)
    text = _DATE.sub(DATE, text)  # before the numbers: "14/02/1987" is a birthday, not a phone number
    text = _phones(text, region)
    text = _DIGIT_RUN.sub(NUMBER, text)
    text = _POSTCODE.sub(POSTCODE, text)
    return _INTRODUCTION.sub(_introduction, text)


def _introduction(match: re.Match) -> str:
    following = match.group(4)
    if following is None or following.lower() in _stop_words():
        return f"{match.group(1)} {NAME}{match.group(3) or ''}"
    return f"{match.group(1)} {NAME} {NAME}"


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS  # here: spaCy takes a second to import

    return frozenset(STOP_WORDS)


def _known(text: str, known: Iterable[str]) -> str:
    """Each known string, and each word of at least two letters in it, wherever it occurs (any case)."""
    pieces = set()
    for value in known:
        value = " ".join(str(value).split())
        if len(value) >= 2:
            pieces.add(value)
            pieces.update(word for word in re.split(r"[\s,]+", value) if len(word) >= 2)
    for piece in sorted(pieces, key=len, reverse=True):  # the full name before its parts
        placeholder = PHONE if sum(ch.isdigit() for ch in piece) >= MIN_PHONE_DIGITS else (
            EMAIL if "@" in piece else NAME)
        text = re.sub(rf"(?<!\w){re.escape(piece)}(?!\w)", placeholder, text, flags=re.IGNORECASE)
    return text


def _phones(text: str, region: str) -> str:
    found = [m for m in PhoneNumberMatcher(text, region, leniency=Leniency.POSSIBLE)
             if sum(ch.isdigit() for ch in m.raw_string) >= MIN_PHONE_DIGITS]
    for match in reversed(found):  # from the end, so earlier offsets stay right
        text = text[:match.start] + PHONE + text[match.end:]
    return text
