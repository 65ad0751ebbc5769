"""The built-in scheduler: slots from the clinic's opening hours minus the bookings table."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.booking.base import BookingError, Confirmation, Patient, Slot, SlotTaken
from bot.booking.hours import days_between, local_starts
from bot.clinic import Clinic
from bot.store.db import session_scope
from bot.store.models import Booking

UTC = timezone.utc


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


class BuiltinScheduler:
    name = "builtin"

    def __init__(self, clinic: Clinic, database_url: str | None = None) -> None:
        self.clinic, self.database_url = clinic, database_url
        self.type = clinic.bookable_type

    def available_slots(self, start: datetime, end: datetime) -> list[Slot]:
        length = timedelta(minutes=self.type.minutes)
        try:
            with session_scope(self.database_url) as session:
                taken = set(session.execute(
                    select(Booking.practitioner_id, Booking.starts_at)
                    .where(Booking.starts_at >= _naive(start) - length, Booking.starts_at < _naive(end))).all())
        except SQLAlchemyError as exc:
            raise BookingError(f"built-in scheduler: cannot read bookings ({type(exc).__name__})") from exc
        slots = []
        for day in days_between(self.clinic, start, end):
            for begins in local_starts(self.clinic, day, self.type.minutes):
                if not start <= begins < end:
                    continue
                for practitioner in self.clinic.practitioners:
                    if (practitioner.id, _naive(begins)) not in taken:
                        slots.append(Slot(begins, begins + length, practitioner.id, self.type.id))
        return sorted(slots)

    def book(self, slot: Slot, patient: Patient, *, notes: str, conversation_id: str) -> Confirmation:
        try:
            with session_scope(self.database_url) as session:
                booking = Booking(
                    conversation_id=conversation_id, practitioner_id=slot.practitioner_id,
                    appointment_type_id=slot.appointment_type_id, starts_at=_naive(slot.starts_at),
                    ends_at=_naive(slot.ends_at), first_name=patient.first_name, last_name=patient.last_name,
                    phone=patient.phone, email=patient.email, notes=notes)
                session.add(booking)
                session.flush()  # the unique constraint decides here who got the slot
                reference = f"B{booking.id}"
        except IntegrityError as exc:
            raise SlotTaken("that slot has just been booked by somebody else") from exc
        except SQLAlchemyError as exc:
            raise BookingError(f"built-in scheduler: cannot book ({type(exc).__name__})") from exc
        return Confirmation(slot, reference)

    def cancel(self, reference: str) -> None:
        """Frees the slot (the row goes, so the unique constraint lets somebody else take it)."""
        with session_scope(self.database_url) as session:
            booking = session.get(Booking, int(reference.lstrip("B")))
            if booking is not None:
                session.delete(booking)
