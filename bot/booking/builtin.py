"""The built-in scheduler: slots from each practitioner's calendar (bot.clinic) minus the bookings table."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.booking import records
from bot.booking.base import BookingError, Confirmation, Patient, Slot
from bot.booking.hours import days_between, local_starts
from bot.booking.records import Stored
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
                taken: dict[str, list[tuple[datetime, datetime]]] = {}
                for who, begins, ends in session.execute(
                        select(Booking.practitioner_id, Booking.starts_at, Booking.ends_at)
                        .where(Booking.active, Booking.starts_at < _naive(end) + length,
                               Booking.ends_at > _naive(start))):
                    taken.setdefault(who, []).append((begins, ends))
        except SQLAlchemyError as exc:
            raise BookingError(f"built-in scheduler: cannot read bookings ({type(exc).__name__})") from exc
        slots = []
        for practitioner in self.clinic.practitioners:
            if not practitioner.gives(self.type.id):
                continue
            busy = taken.get(practitioner.id, [])
            for day in days_between(self.clinic, start, end):
                for begins in local_starts(self.clinic, day, self.type.minutes, practitioner):
                    stored = _naive(begins)
                    if start <= begins < end and not any(b < stored + length and stored < e for b, e in busy):
                        slots.append(Slot(begins, begins + length, practitioner.id, self.type.id))
        return sorted(slots)

    def book(self, slot: Slot, patient: Patient, *, notes: str, conversation_id: str) -> Confirmation:
        stored = records.insert(slot, patient, notes=notes, conversation_id=conversation_id, provider=self.name,
                                database_url=self.database_url)
        return Confirmation(slot, f"B{stored.id}", stored.code)

    def cancel(self, booking: Stored, *, conversation_id: str) -> None:
        records.cancel(booking, conversation_id=conversation_id, database_url=self.database_url)

    def move(self, booking: Stored, slot: Slot, *, conversation_id: str) -> Confirmation:
        moved = records.move(booking, slot, conversation_id=conversation_id, database_url=self.database_url)
        return Confirmation(slot, f"B{moved.id}", moved.code)
