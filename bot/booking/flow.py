"""The booking conversation's entry points (start, read, ask, offer, finish) and the steps that touch the
provider and the store.

A provider failure never loses the patient: listing fails over to a call-back form, a failed
booking (or cancellation, or move) is recorded as a call-back request with everything collected,
and the console shows it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.booking import chat, manage, messages, records
from bot.booking.base import BookingError, BookingProvider, Patient, SlotTaken
from bot.booking.chat import URGENT_CALLBACK, start
from bot.booking.offer import Preference, look_up, next_slots
from bot.booking.state import BOOK, CALLBACK, CANCEL_EXISTING, MANAGE_MODES, NONE, BookingState, Turn
from bot.booking.wording import text as wording
from bot.clinic import Clinic
from bot.dialogue import Message
from bot.store import mark_booking, request_callback, session_scope

logger = logging.getLogger(__name__)
DEFAULT_LEVEL = "routine"  # "book" before any triage: the routine lead time
MANAGE_ASKS = ("manage_code", "booking_contact", "manage_confirmed")
ASAP = "as soon as possible"  # the preferred time of a call back standing in for a failed booking


def read(state: BookingState, text: str, intent: str | None, entities: list[dict[str, Any]], clinic: Clinic,
         now: datetime | None = None) -> Turn:
    """What one patient message changes (see chat.read); for a booking made earlier, once the code and
    the contact are known, the booking itself is looked up."""
    if state.mode not in MANAGE_MODES:
        return chat.read(state, text, intent, entities, clinic, now)
    turn = manage.read(state, text, intent, entities, clinic, now)
    after = turn.state
    if (after.mode in MANAGE_MODES and not after.cancelled and after.manage_code and after.contact_given
            and after.manage_booking is None):
        _identify(turn, clinic, now or datetime.now(timezone.utc))
    return turn


def ask(slot: str, state: BookingState, clinic: Clinic) -> Message:
    """The question for a slot other than booking_choice (which needs the provider: see offer)."""
    if state.mode in MANAGE_MODES and slot in MANAGE_ASKS:
        return messages.manage_question(slot, state, clinic)
    return messages.question(slot, state, clinic)


def _identify(turn: Turn, clinic: Clinic, now: datetime) -> None:
    """The booking with the code and the contact given: found, or ask again, or a call back after MAX_LOOKUPS."""
    state = turn.state
    attempts = state.manage_attempts + 1
    try:
        found = records.find(state.manage_code or "", phone=state.phone, email=state.email)
    except BookingError as error:
        logger.error("cannot look up a booking: %s", error)
        found, attempts = None, manage.MAX_LOOKUPS
    if found is None and attempts >= manage.MAX_LOOKUPS:
        turn.set(mode=CALLBACK, manage_attempts=attempts, asked="booking_first_name",
                 reason=f"could not find a booking to {manage.doing(state)} in the chat")
        turn.say(wording("not_found_last"))
    elif found is None:
        turn.set(manage_code=None, contact_given=False, phone=None, email=None, manage_attempts=attempts)
        turn.say(wording("not_found"))
    elif not found.active or found.slot.starts_at <= now:
        described = messages.describe_booking(found, clinic)
        turn.set(manage_booking=found, mode=NONE)  # nothing to change: the form ends without a word more
        turn.say(wording("already_cancelled" if not found.active else "already_past", appointment=described))
    else:
        turn.set(manage_booking=found)
        if state.mode != CANCEL_EXISTING:
            turn.say(wording("found_move", appointment=messages.describe_booking(found, clinic)))


def offer(state: BookingState, clinic: Clinic, provider: BookingProvider, level: str | None,
          now: datetime) -> Turn:
    """What to offer for the patient's request: a question when their answer could mean two things, the time
    they named (or the nearest free ones), or the next three slots for the level; a call back if listing fails."""
    level = level if level in clinic.lead_times else DEFAULT_LEVEL
    request = state.request
    turn = Turn(state)
    if request.between:
        turn.set(offered=request.between, request=replace(request, between=(), or_day=None))
        return turn.say(messages.which_message(request, clinic))
    if len(request.clocks) > 1:
        return turn.say(messages.morning_or_evening_message(request.clocks))
    try:
        if request.clocks:
            looked = look_up(provider, clinic, level, now=now, clock=request.clocks[0], preference=request.preference)
            if looked and looked.exact:
                turn.set(offered=(looked.exact,), request=replace(request, clocks=(), proposed=True))
                return turn.say(messages.proposal_message(looked.exact, clinic))
            if looked and looked.nearest:
                turn.set(offered=looked.nearest, request=replace(request, clocks=()))
                return turn.say(messages.nearest_message(looked, clinic))
            request = replace(request, clocks=())
            turn.set(request=request)
        options = dict(preference=request.preference, after=request.after, other_day_than=request.other_day_than)
        slots = next_slots(provider, clinic, level, now=now, **options)
        if not slots and (request.after or request.other_day_than or request.preference != Preference()):
            slots = next_slots(provider, clinic, level, now=now, beyond_lead_time=True, **options)
    except BookingError as error:
        logger.error("booking provider %s cannot list slots: %s", provider.name, error)
        turn.set(mode=CALLBACK, reason="online booking was unavailable", asked="booking_first_name")
        return turn.say(wording("diary_unreachable"))
    turn.set(offered=tuple(slots))
    return turn.say(messages.offer_message(slots, request.preference, clinic) if slots
                    else messages.no_slots_message(clinic))


def finish(state: BookingState, clinic: Clinic, provider: BookingProvider | None, *, conversation_id: str,
           summary: str, now: datetime) -> tuple[Turn, bool]:
    """Book, record the call back, cancel or move a booking made earlier, or close a cancelled booking.
    Returns the turn and whether to ask again (the chosen time went to somebody else meanwhile)."""
    if state.mode in MANAGE_MODES:
        return _manage(state, clinic, provider, conversation_id, summary, now)
    if state.cancelled:
        if state.mode == BOOK:
            _mark(conversation_id, "cancelled")
        return Turn(state.cleared()).say(wording("not_booked", phone=clinic.phone)), False
    if state.mode == CALLBACK:
        return _callback(state, clinic, conversation_id, summary, now, reason=state.reason or ""), False
    if state.mode != BOOK or provider is None:
        return Turn(state.cleared()), False
    if state.choice is None or not state.first_name or not state.last_name:  # never asked: nothing to book
        logger.error("booking finished without a time or a name")
        return Turn(state.cleared()).say(wording("went_wrong", phone=clinic.phone)), False
    slot = state.choice
    patient = Patient(state.first_name, state.last_name, state.phone, state.email)
    try:
        booked = provider.book(slot, patient, notes=summary, conversation_id=conversation_id)
    except SlotTaken:
        turn = Turn(state).set(choice=None, confirmed=False, offered=())
        return turn.say(wording("slot_taken")), True
    except BookingError as error:
        logger.error("booking provider %s cannot book: %s", provider.name, error)
        wanted = f"wanted {slot.starts_at.astimezone(clinic.tz):%A %d %B %H:%M}"
        return _callback(replace(state, callback_time=ASAP), clinic, conversation_id, summary, now,
                         reason=f"online booking failed ({wanted}); please book by phone", status="failed",
                         thanks=wording("booking_failed")), False
    _mark(conversation_id, "booked")
    turn = Turn(replace(state.cleared(), reference=booked.reference))
    return turn.say(messages.confirmation(slot, clinic, booked.code)), False


def _manage(state: BookingState, clinic: Clinic, provider: BookingProvider | None, conversation_id: str,
            summary: str, now: datetime) -> tuple[Turn, bool]:
    """Cancel or move the booking found by its code, once the patient has said yes."""
    booking = state.manage_booking
    done = Turn(state.cleared())
    if state.cancelled or booking is None or provider is None:
        said = (wording("unchanged", appointment=messages.describe_booking(booking, clinic)) if booking
                else wording("unchanged_none"))
        return done.say(said), False
    try:
        if state.mode == CANCEL_EXISTING:
            provider.cancel(booking, conversation_id=conversation_id)
            return done.say(wording("cancelled_done", appointment=messages.describe_booking(booking, clinic),
                                    phone=clinic.phone)), False
        if state.choice is None:  # never asked: nothing to move to
            return done.say(wording("unchanged", appointment=messages.describe_booking(booking, clinic))), False
        slot = state.choice
        moved = provider.move(booking, slot, conversation_id=conversation_id)
    except SlotTaken:
        turn = Turn(state).set(choice=None, manage_confirmed=False, offered=())
        return turn.say(wording("slot_taken")), True
    except BookingError as error:
        logger.error("booking provider %s cannot %s a booking: %s", provider.name, manage.doing(state), error)
        details = replace(state, first_name=booking.first_name, callback_time=ASAP)
        return _callback(details, clinic, conversation_id, summary, now, status="failed",
                         reason=f"wanted to {manage.doing(state)} booking {records.shown(booking.code)} "
                                f"({booking.slot.starts_at.astimezone(clinic.tz):%A %d %B %H:%M}) in the chat; "
                                "please do it by phone", thanks=wording("manage_failed")), False
    after = replace(booking, slot=slot)
    return done.say(wording("moved_done", appointment=messages.describe_booking(after, clinic), clinic=clinic.name,
                            address=clinic.address, code=records.shown(moved.code or booking.code))), False


def _callback(state: BookingState, clinic: Clinic, conversation_id: str, summary: str, now: datetime, *,
              reason: str, status: str = "callback", thanks: str = "") -> Turn:
    """Record the call-back request (with the triage summary) and tell the patient who calls and when."""
    name = f"{state.first_name or ''} {state.last_name or ''}".strip()
    phone = state.phone or (f"email: {state.email}" if state.email else "")
    turn = Turn(state.cleared())
    try:
        with session_scope() as session:
            request_callback(session, conversation_id, name=name or "(no name given)", phone=phone or "(none)",
                             preferred_time=state.callback_time or "", reason=f"{reason}\n\n{summary}")
            mark_booking(session, conversation_id, status)
    except (SQLAlchemyError, ValueError) as error:
        logger.error("could not record a call-back request: %s", type(error).__name__)  # no patient data in logs
        return turn.say(wording("went_wrong", phone=clinic.phone))
    return turn.say(messages.callback_done(state, clinic, now, urgent=reason == URGENT_CALLBACK, thanks=thanks))


def _mark(conversation_id: str, status: str) -> None:
    try:
        with session_scope() as session:
            mark_booking(session, conversation_id, status)
    except SQLAlchemyError as error:
        logger.error("could not record the booking status: %s", type(error).__name__)


__all__ = ["ask", "finish", "offer", "read", "start"]
