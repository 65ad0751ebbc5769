"""Booking appointments from the chat, behind one small interface.

A provider lists free slots and books one. Two exist: the built-in scheduler (our own table,
the default) and Cliniko (a practice-management system with a public API). Everything else
(which slots to offer, the patient's details, the conversation) is provider-independent.

    provider = provider_for(clinic())
    slots = offer.next_slots(provider, clinic(), "routine", now=datetime.now(timezone.utc))
    confirmation = provider.book(slots[0], patient, notes="triage summary", conversation_id="abc")
"""

from __future__ import annotations

from bot.booking.base import BookingError, BookingProvider, Confirmation, Patient, Slot, SlotTaken
from bot.clinic import Clinic


def provider_for(clinic: Clinic, database_url: str | None = None) -> BookingProvider:
    """The clinic's configured provider (booking.provider in the clinic file)."""
    if clinic.provider == "cliniko":
        from bot.booking.cliniko import ClinikoProvider

        return ClinikoProvider.from_clinic(clinic)
    from bot.booking.builtin import BuiltinScheduler

    return BuiltinScheduler(clinic, database_url)


__all__ = ["BookingError", "BookingProvider", "Confirmation", "Patient", "Slot", "SlotTaken", "provider_for"]
