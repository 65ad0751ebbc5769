"""The provider interface and the values that cross it. Times are timezone-aware UTC."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.booking.records import Stored


class BookingError(RuntimeError):
    """The provider could not list or book; the message is for logs and staff, not patients."""


class SlotTaken(BookingError):
    """Somebody else booked the slot first: offer others."""


@dataclass(frozen=True, order=True)
class Slot:
    starts_at: datetime  # aware, UTC
    ends_at: datetime
    practitioner_id: str  # ours, from the clinic file
    appointment_type_id: str


@dataclass(frozen=True)
class Patient:
    first_name: str
    last_name: str
    phone: str | None = None  # E.164-ish, from bot.booking.contact
    email: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class Confirmation:
    slot: Slot
    reference: str  # our booking id or the provider's appointment id
    code: str = ""  # the patient's confirmation code (bot.booking.records), to cancel or move it later


class BookingProvider(Protocol):
    name: str

    def available_slots(self, start: datetime, end: datetime) -> list[Slot]:
        """Free slots of the bookable appointment type starting in [start, end), earliest first."""
        ...

    def book(self, slot: Slot, patient: Patient, *, notes: str, conversation_id: str) -> Confirmation:
        """Book the slot and record it with a confirmation code; SlotTaken when it has gone, BookingError
        for anything else."""
        ...

    def cancel(self, booking: Stored, *, conversation_id: str) -> None:
        """Cancel a booking found by its code (the slot becomes free); BookingError when it cannot."""
        ...

    def move(self, booking: Stored, slot: Slot, *, conversation_id: str) -> Confirmation:
        """Move a booking to another free slot, keeping its code; SlotTaken when that slot has gone."""
        ...
