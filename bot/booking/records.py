"""The bookings table: every appointment booked in the chat, whichever provider holds the diary.

A booking is found again by its confirmation code and the phone or email it was booked with;
cancelling keeps the row (status "cancelled", for the console; the case that booked it is marked
cancelled too) and frees the slot; moving changes
the time in place (status "moved", the old time kept) so the code stays the same.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.booking.base import BookingError, Patient, Slot, SlotTaken
from bot.store.cases import mark_booking
from bot.store.db import session_scope, utcnow
from bot.store.models import BOOKED, CANCELLED, MOVED, Booking

UTC = timezone.utc
# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read out over the phone or typed from a text can't be misread.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
CODE = re.compile(rf"\b([{CODE_ALPHABET}]{{3}})[\s-]?([{CODE_ALPHABET}]{{3}})\b", re.I)


@dataclass(frozen=True)
class Stored:
    """One booking as the conversation needs it (kept between messages: bot.booking.state)."""

    id: int
    code: str
    slot: Slot
    first_name: str
    status: str
    provider: str
    external_id: str | None

    @property
    def active(self) -> bool:
        return self.status != CANCELLED


def new_code() -> str:
    """Six characters with a letter and a digit (so no word and no number is ever mistaken for one)."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not code.isalpha() and not code.isdigit():
            return code


def shown(code: str) -> str:
    """'K7PQ4X' as the patient sees it: 'K7P-Q4X'."""
    return f"{code[:3]}-{code[3:]}"


def find_code(text: str) -> str | None:
    """The confirmation code in what the patient typed ("it's k7p-q4x"), or None."""
    for match in CODE.finditer(text):
        code = (match[1] + match[2]).upper()
        if not code.isalpha() and not code.isdigit():
            return code
    return None


def insert(slot: Slot, patient: Patient, *, notes: str, conversation_id: str, provider: str,
           external_id: str | None = None, database_url: str | None = None) -> Stored:
    """Record a booking; for the built-in scheduler this INSERT is what takes the slot (SlotTaken if gone)."""
    code = new_code()  # a clash with an existing code (1 in 244 million) is reported as the slot taken
    try:
        with session_scope(database_url) as session:
            row = Booking(
                conversation_id=conversation_id, practitioner_id=slot.practitioner_id,
                appointment_type_id=slot.appointment_type_id, starts_at=_naive(slot.starts_at),
                ends_at=_naive(slot.ends_at), first_name=patient.first_name, last_name=patient.last_name,
                phone=patient.phone, email=patient.email, notes=notes, confirmation_code=code, status=BOOKED,
                provider=provider, external_id=external_id)
            session.add(row)
            session.flush()  # the unique index decides here who got the slot
            return _stored(row)
    except IntegrityError as exc:
        raise SlotTaken("that slot has just been booked by somebody else") from exc
    except SQLAlchemyError as exc:
        raise BookingError(f"bookings table: cannot record the booking ({type(exc).__name__})") from exc


def find(code: str, *, phone: str | None, email: str | None, database_url: str | None = None) -> Stored | None:
    """The booking with this code, when the phone or email it was booked with matches; else None."""
    try:
        with session_scope(database_url) as session:
            row = session.execute(select(Booking).where(Booking.confirmation_code == code)).scalar_one_or_none()
            if row is None:
                return None
            same_phone = bool(phone) and row.phone == phone
            same_email = bool(email) and (row.email or "").casefold() == (email or "").casefold()
            return _stored(row) if same_phone or same_email else None
    except SQLAlchemyError as exc:
        raise BookingError(f"bookings table: cannot look up a booking ({type(exc).__name__})") from exc


def cancel(booking: Stored, *, conversation_id: str, database_url: str | None = None) -> Stored:
    try:
        with session_scope(database_url) as session:
            row = session.get(Booking, booking.id)
            if row is None:
                raise BookingError("the booking is no longer in the bookings table")
            row.status, row.changed_at, row.changed_in = CANCELLED, utcnow(), conversation_id
            mark_booking(session, row.conversation_id, CANCELLED)  # the conversation that booked it, in the console
            session.flush()
            return _stored(row)
    except SQLAlchemyError as exc:
        raise BookingError(f"bookings table: cannot cancel ({type(exc).__name__})") from exc


def move(booking: Stored, slot: Slot, *, conversation_id: str, database_url: str | None = None) -> Stored:
    """The same booking at a new time; for the built-in scheduler the unique index refuses a taken slot."""
    try:
        with session_scope(database_url) as session:
            row = session.get(Booking, booking.id)
            if row is None:
                raise BookingError("the booking is no longer in the bookings table")
            row.previous_starts_at = row.starts_at
            row.starts_at, row.ends_at = _naive(slot.starts_at), _naive(slot.ends_at)
            row.practitioner_id, row.appointment_type_id = slot.practitioner_id, slot.appointment_type_id
            row.status, row.changed_at, row.changed_in = MOVED, utcnow(), conversation_id
            session.flush()
            return _stored(row)
    except IntegrityError as exc:
        raise SlotTaken("that slot has just been booked by somebody else") from exc
    except SQLAlchemyError as exc:
        raise BookingError(f"bookings table: cannot move ({type(exc).__name__})") from exc


def _stored(row: Booking) -> Stored:
    slot = Slot(row.starts_at.replace(tzinfo=UTC), row.ends_at.replace(tzinfo=UTC), row.practitioner_id,
                row.appointment_type_id)
    return Stored(row.id, row.confirmation_code or "", slot, row.first_name, row.status, row.provider,
                  row.external_id)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
