"""The booking conversation's entry points (read, ask, offer, finish) and the steps that touch the
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

from bot.booking import chat, manage, records
from bot.booking.base import BookingError, BookingProvider, Patient, SlotTaken
from bot.booking.chat import (
    BOOK,
    CALLBACK,
    CANCEL_EXISTING,
    MANAGE_MODES,
    NONE,
    URGENT_CALLBACK,
    Turn,
    callback_promise,
    cleared,
    confirmation,
    morning_or_evening_message,
    nearest_message,
    no_slots_message,
    offer_message,
    proposal_message,
    slot_from_state,
    slot_to_state,
    which_message,
)
from bot.booking.choose import Request
from bot.booking.offer import Preference, look_up, next_slots
from bot.booking.wording import text as wording
from bot.clinic import Clinic
from bot.dialogue import Message, urgent_escalation
from bot.store import mark_booking, request_callback, session_scope

logger = logging.getLogger(__name__)
DEFAULT_LEVEL = "routine"  # "book" before any triage: the routine lead time
MANAGE_ASKS = ("manage_code", "booking_contact", "manage_confirmed")


def read(state: dict[str, Any], text: str, intent: str | None, entities: list[dict[str, Any]], clinic: Clinic,
         now: datetime | None = None) -> Turn:
    """The slot changes one patient message makes (see chat.read); for a booking made earlier, once the
    code and the contact are known, the booking itself is looked up."""
    if state.get("booking_mode") not in MANAGE_MODES:
        return chat.read(state, text, intent, entities, clinic, now)
    turn = manage.read(state, text, intent, entities, clinic, now)
    merged = {**state, **turn.updates}
    if (merged.get("booking_mode") in MANAGE_MODES and not merged.get("booking_cancelled")
            and merged.get("manage_code") and merged.get("booking_contact") and not merged.get("manage_booking")):
        _identify(turn, merged, clinic, now or datetime.now(timezone.utc))
    return turn


def ask(slot: str, state: dict[str, Any], clinic: Clinic) -> Message:
    """The question for a slot other than booking_choice (which needs the provider: see offer)."""
    if state.get("booking_mode") in MANAGE_MODES and slot in MANAGE_ASKS:
        return manage.ask(slot, state, clinic)
    return chat.ask(slot, state, clinic)


def _identify(turn: Turn, state: dict[str, Any], clinic: Clinic, now: datetime) -> None:
    """The booking with the code and the contact given: found, or ask again, or a call back after MAX_LOOKUPS."""
    try:
        found = records.find(state["manage_code"], phone=state.get("booking_phone"), email=state.get("booking_email"))
    except BookingError as error:
        logger.error("cannot look up a booking: %s", error)
        found, state = None, {**state, "manage_attempts": manage.MAX_LOOKUPS}
    if found is None:
        attempts = int(state.get("manage_attempts") or 0) + 1
        if attempts >= manage.MAX_LOOKUPS:
            turn.updates.update(booking_mode=CALLBACK, manage_attempts=attempts, requested_slot="booking_first_name",
                                booking_reason=f"could not find a booking to {_doing(state)} in the chat")
            turn.say(wording("not_found_last"))
            return
        turn.updates.update(manage_code=None, booking_contact=None, booking_phone=None, booking_email=None,
                            manage_attempts=attempts)
        turn.say(wording("not_found"))
        return
    turn.updates["manage_booking"] = found.to_state()
    described = manage.describe(found, clinic)
    if not found.active or found.slot.starts_at <= now:
        turn.updates["booking_mode"] = NONE  # nothing to change: the form ends without a word more
        turn.say(wording("already_cancelled" if not found.active else "already_past", appointment=described))
    elif state.get("booking_mode") != CANCEL_EXISTING:
        turn.say(wording("found_move", appointment=described))


def offer(state: dict[str, Any], clinic: Clinic, provider: BookingProvider, level: str | None,
          now: datetime) -> Turn:
    """What to offer for the patient's request: a question when their answer could mean two things, the time
    they named (or the nearest free ones), or the next three slots for the level; a call back if listing fails."""
    level = level if level in clinic.lead_times else DEFAULT_LEVEL
    request = Request.from_state(state.get("booking_preference"))
    turn = Turn()
    if request.between:
        turn.updates.update(booking_offered=[slot_to_state(s) for s in request.between],
                            booking_preference=replace(request, between=(), or_day=None).to_state())
        turn.messages.append(which_message(request, clinic))
        return turn
    if len(request.clocks) > 1:
        turn.messages.append(morning_or_evening_message(request.clocks))
        return turn
    try:
        if request.clocks:
            looked = look_up(provider, clinic, level, now=now, clock=request.clocks[0], preference=request.preference)
            if looked and looked.exact:
                turn.updates.update(booking_offered=[slot_to_state(looked.exact)],
                                    booking_preference=replace(request, clocks=(), proposed=True).to_state())
                turn.messages.append(proposal_message(looked.exact, clinic))
                return turn
            if looked and looked.nearest:
                turn.updates.update(booking_offered=[slot_to_state(s) for s in looked.nearest],
                                    booking_preference=replace(request, clocks=()).to_state())
                turn.messages.append(nearest_message(looked, clinic))
                return turn
            request = replace(request, clocks=())
            turn.updates["booking_preference"] = request.to_state()
        options = dict(preference=request.preference, after=request.after, other_day_than=request.other_day_than)
        slots = next_slots(provider, clinic, level, now=now, **options)
        if not slots and (request.after or request.other_day_than or request.preference != Preference()):
            slots = next_slots(provider, clinic, level, now=now, beyond_lead_time=True, **options)
    except BookingError as error:
        logger.error("booking provider %s cannot list slots: %s", provider.name, error)
        turn.updates.update(booking_mode=CALLBACK, booking_reason="online booking was unavailable",
                            requested_slot="booking_first_name")
        return turn.say("Sorry, I can't reach our booking diary right now. I'll ask the clinic to call you "
                        "to book instead. What's your first name?")
    turn.updates["booking_offered"] = [slot_to_state(s) for s in slots]
    turn.messages.append(offer_message(slots, request.preference, clinic) if slots
                         else no_slots_message(state, clinic))
    return turn


def finish(state: dict[str, Any], clinic: Clinic, provider: BookingProvider | None, *, conversation_id: str,
           summary: str, now: datetime) -> tuple[Turn, bool]:
    """Book, record the call back, cancel or move a booking made earlier, or close a cancelled booking.
    Returns the turn and whether to ask again (the chosen time went to somebody else meanwhile)."""
    mode = state.get("booking_mode")
    if mode in MANAGE_MODES:
        return _manage(state, clinic, provider, conversation_id, summary, now)
    if state.get("booking_cancelled"):
        if mode == BOOK:
            _mark(conversation_id, "cancelled")
        return Turn(cleared()).say(f"No problem, nothing has been booked. If you change your mind, say \"book\" "
                                   f"or call us on {clinic.phone}."), False
    if mode == CALLBACK:
        return _callback(state, clinic, conversation_id, summary, now, reason=state.get("booking_reason") or "")
    if mode != BOOK or provider is None:
        return Turn(cleared()), False
    slot = slot_from_state(state["booking_choice"])
    patient = Patient(state["booking_first_name"], state["booking_last_name"], state.get("booking_phone"),
                      state.get("booking_email"))
    try:
        booked = provider.book(slot, patient, notes=summary, conversation_id=conversation_id)
    except SlotTaken:
        turn = Turn({"booking_choice": None, "booking_confirmed": None, "booking_offered": None})
        return turn.say("Sorry, somebody has just taken that time. Here are the next free ones."), True
    except BookingError as error:
        logger.error("booking provider %s cannot book: %s", provider.name, error)
        wanted = f"wanted {slot.starts_at.astimezone(clinic.tz):%A %d %B %H:%M}"
        turn, _ = _callback({**state, "callback_time": "as soon as possible"}, clinic, conversation_id, summary, now,
                            reason=f"online booking failed ({wanted}); please book by phone", status="failed",
                            apology="Sorry, I couldn't complete the booking because our booking system didn't "
                                    "respond. I've passed your details to the clinic")
        return turn, False
    _mark(conversation_id, "booked")
    turn = Turn({**cleared(), "booking_reference": booked.reference})
    return turn.say(confirmation(slot, state, clinic, booked.code)), False


def _manage(state: dict[str, Any], clinic: Clinic, provider: BookingProvider | None, conversation_id: str,
            summary: str, now: datetime) -> tuple[Turn, bool]:
    """Cancel or move the booking found by its code, once the patient has said yes."""
    booking = records.Stored.from_state(state["manage_booking"]) if state.get("manage_booking") else None
    if state.get("booking_cancelled") or booking is None or provider is None:
        said = (wording("unchanged", appointment=manage.describe(booking, clinic)) if booking
                else wording("unchanged_none"))
        return Turn(cleared()).say(said), False
    try:
        if state["booking_mode"] == CANCEL_EXISTING:
            provider.cancel(booking, conversation_id=conversation_id)
            return Turn(cleared()).say(wording("cancelled_done", appointment=manage.describe(booking, clinic),
                                               phone=clinic.phone)), False
        slot = slot_from_state(state["booking_choice"])
        moved = provider.move(booking, slot, conversation_id=conversation_id)
    except SlotTaken:
        turn = Turn({"booking_choice": None, "manage_confirmed": None, "booking_offered": None})
        return turn.say("Sorry, somebody has just taken that time. Here are the next free ones."), True
    except BookingError as error:
        logger.error("booking provider %s cannot %s a booking: %s", provider.name, _doing(state), error)
        details = {**state, "booking_first_name": booking.first_name, "callback_time": "as soon as possible"}
        return _callback(details, clinic, conversation_id, summary, now, status="failed",
                         reason=f"wanted to {_doing(state)} booking {records.shown(booking.code)} "
                                f"({booking.slot.starts_at.astimezone(clinic.tz):%A %d %B %H:%M}) in the chat; "
                                "please do it by phone", apology=wording("manage_failed"))
    after = replace(booking, slot=slot)
    return Turn(cleared()).say(wording("moved_done", appointment=manage.describe(after, clinic), clinic=clinic.name,
                                       address=clinic.address, code=records.shown(moved.code or booking.code))), False


def _doing(state: dict[str, Any]) -> str:
    return "cancel" if state.get("booking_mode") == CANCEL_EXISTING else "move"


def _callback(state: dict[str, Any], clinic: Clinic, conversation_id: str, summary: str, now: datetime, *,
              reason: str, status: str = "callback", apology: str = "Thanks") -> tuple[Turn, bool]:
    name = f"{state.get('booking_first_name') or ''} {state.get('booking_last_name') or ''}".strip()
    phone = state.get("booking_phone") or (f"email: {state['booking_email']}" if state.get("booking_email") else "")
    promise = callback_promise(clinic, now)
    turn = Turn(cleared())
    try:
        with session_scope() as session:
            request_callback(session, conversation_id, name=name or "(no name given)", phone=phone or "(none)",
                             preferred_time=state.get("callback_time") or "", reason=f"{reason}\n\n{summary}")
            mark_booking(session, conversation_id, status)
    except (SQLAlchemyError, ValueError) as error:
        logger.error("could not record a call-back request: %s", type(error).__name__)  # no patient data in logs
        return turn.say(f"Sorry, something went wrong on our side. Please call us on {clinic.phone}."), False
    how = f"on {state['booking_phone']}" if state.get("booking_phone") else "using the details you gave"
    first = state.get("booking_first_name")
    # An urgent patient's call back is on top of the urgent route, never instead of it (it may be tomorrow).
    after = (f"Please don't wait for our call: this needs to be seen today, so {clinic.urgent_care}. "
             f"{urgent_escalation(clinic)}" if reason == URGENT_CALLBACK
             else f"If it gets worse, call {clinic.emergency_number}.")
    return turn.say(f"{apology}{', ' + first if first and apology == 'Thanks' else ''}. Someone from "
                    f"{clinic.name} will call you {how} {promise}. {after}"), False


def _mark(conversation_id: str, status: str) -> None:
    try:
        with session_scope() as session:
            mark_booking(session, conversation_id, status)
    except SQLAlchemyError as error:
        logger.error("could not record the booking status: %s", type(error).__name__)

