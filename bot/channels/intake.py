"""The one place that decides what a patient's message may be, for every channel.

Every connector passes what it received through here before anything reaches Rasa or a
database (both the SQL tracker store and PostgreSQL refuse lone surrogates and NUL):

- sender ids: 1 to 128 of the characters in phone numbers, platform ids and session ids
  (letters, digits, `. _ : @ + -`). REST refuses any other id with a 400; a webhook event
  from such an id is skipped, as there is nobody to answer.
- texts: valid Unicode without control characters other than newline, carriage return and
  tab. REST refuses any other text with a 400 (its client can fix it); in what a platform or
  the widget sent, lone surrogates become U+FFFD and control characters are dropped, so the
  patient still gets an answer.
- length: at most MAX_TEXT characters. A longer text never reaches Rasa; the patient is asked
  for a shorter message, and the conversation goes on with the next one.
- anything that is not text (images, stickers, voice notes, locations, contacts, a blank
  message) is answered with ONLY_TEXT; a caption is read as the text.
- size: a request body or socket.io packet over MAX_BODY bytes is refused with 413 before it
  is parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_TEXT = 2000  # characters in one patient message: the longest real answers are a few hundred
MAX_SENDER = 128
MAX_BODY = 1_000_000  # bytes in one request or socket.io packet: far above MAX_TEXT's worst case (escaped emoji)

TOO_LONG = (f"Sorry, that message is too long for me to read: the limit is {MAX_TEXT:,} characters. "
            "Could you send it again in a shorter message?")
ONLY_TEXT = ("Sorry, I can only read text messages, not pictures, voice notes, stickers, locations or files. "
             "Please tell me in words what is happening with your knee.")

_SENDER = re.compile(rf"[A-Za-z0-9._:@+-]{{1,{MAX_SENDER}}}")
# C0 and C1 controls except tab, newline and carriage return, and UTF-16 surrogates (never valid alone in a str).
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATES = re.compile("[\\ud800-\\udfff]")


@dataclass(frozen=True)
class Intake:
    """What to do with one incoming message: give `text` to Rasa, or answer `reply` without it."""

    text: str | None = None
    reply: str | None = None


NOT_TEXT = Intake(reply=ONLY_TEXT)


def valid_sender(value: object) -> str | None:
    """The sender id when it is acceptable, else None."""
    return value if isinstance(value, str) and _SENDER.fullmatch(value) else None


def has_invalid_characters(text: str) -> bool:
    """Lone surrogates or control characters other than tab, newline and carriage return."""
    return bool(_SURROGATES.search(text) or _CONTROLS.search(text))


def cleaned(text: str) -> str:
    """Lone surrogates replaced with U+FFFD and control characters (but tab and newlines) removed."""
    return _CONTROLS.sub("", _SURROGATES.sub("\ufffd", text))


def read_text(value: object) -> Intake:
    """A platform's or the widget's text: cleaned and length-checked; anything but words gets ONLY_TEXT."""
    if not isinstance(value, str):
        return NOT_TEXT
    if len(value) > MAX_TEXT:  # before cleaning: no work on a huge text
        return Intake(reply=TOO_LONG)
    text = cleaned(value)
    return Intake(text=text) if text.strip() else NOT_TEXT
