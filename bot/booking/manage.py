"""Cancelling or moving a booking made earlier, as a receptionist would on the phone.

"I need to cancel" / "can I move my appointment": the confirmation code from the booking
confirmation, then the phone number or email it was booked with (bot.booking.flow looks the
booking up with both); a cancellation is confirmed before it is made; a move offers new times
with the usual offer and choice (bot.booking.chat) and is confirmed the same way. Anything else
the patient says here (a goodbye, "never mind", "no") leaves the booking as it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.booking import chat
from bot.booking.base import Slot
from bot.booking.chat import CALLBACK, CANCEL_EXISTING, MOVE_EXISTING, Turn
from bot.booking.offer import describe_slot
from bot.booking.records import CODE, Stored, find_code, shown
from bot.booking.wording import text as wording
from bot.clinic import Clinic
from bot.dialogue import Message

MAX_LOOKUPS = 3  # wrong code or contact this many times: the clinic calls instead (and guessing stops)


def read(state: dict[str, Any], text: str, intent: str | None, entities: list[dict[str, Any]], clinic: Clinic,
         now: datetime | None = None) -> Turn:
    """The slot changes one message makes while an existing booking is being cancelled or moved."""
    asked = state.get("requested_slot")
    if asked is None:
        return Turn()
    if asked == "booking_choice":  # the move's new time: read like any booking's choice
        return chat.read(state, text, intent, entities, clinic, now)
    text = " ".join((text or "").split())[:1000]
    payload = {e.get("entity"): e.get("value") for e in entities or []}
    turn = Turn()
    if asked == "manage_code":
        code = find_code(text)
        if code:
            turn.updates["manage_code"] = code
            rest = Turn()
            chat.read_contact(rest, CODE.sub(" ", text, count=1), clinic)
            if rest.updates.get("booking_contact"):  # the code and the number in one message
                turn.updates.update(rest.updates)
            return turn
    if asked == "booking_contact":
        attempt = chat.read_contact(Turn(), text, clinic)
        if attempt.updates.get("booking_contact"):
            return attempt
    if intent in chat.CANCEL_INTENTS or payload.get("booking_change") == "cancel":
        turn.updates["booking_cancelled"] = True
        return turn
    if intent == "emergency":
        turn.updates["booking_cancelled"] = True
        return turn.say(f"If you think this is an emergency, please call {clinic.emergency_number} now or go to "
                        "A&E.")
    if intent == "human":
        turn.updates.update(booking_mode=CALLBACK, booking_reason=_reason(state, "asked to talk to a person"))
        return turn.say("Of course, I'll ask someone from the clinic to call you.")
    if asked == "manage_code":
        turn.updates["manage_code"] = None
        return turn.say(wording("not_a_code"))
    if asked == "booking_contact":
        return chat.read_contact(turn, text, clinic)
    if asked == "manage_confirmed":
        if intent == "affirm" or payload.get("booking_confirm"):
            turn.updates["manage_confirmed"] = True
            return turn
        if state.get("booking_mode") == MOVE_EXISTING and (intent in ("deny", "change_booking", "move_appointment")
                                                           or payload.get("booking_change") == "time"):
            turn.updates.update(booking_choice=None, booking_offered=None, booking_preference=None,
                                manage_confirmed=None)
            return turn.say("No problem, let's find another time.")
        if intent == "deny":
            turn.updates["booking_cancelled"] = True
            return turn
        turn.updates["manage_confirmed"] = None
        return turn
    return turn


def _reason(state: dict[str, Any], why: str) -> str:
    booking = state.get("manage_booking")
    code = f" {shown(booking['code'])}" if booking and booking.get("code") else ""
    doing = "cancel" if state.get("booking_mode") == CANCEL_EXISTING else "move"
    return f"{why}: wants to {doing} booking{code}"


def describe(booking: Stored, clinic: Clinic) -> str:
    """'initial assessment on Tuesday 1 December at 09:30 with Anna Okafor'."""
    kind = next((t.name.lower() for t in clinic.appointment_types if t.id == booking.slot.appointment_type_id),
                "appointment")
    return f"{kind} on {_when_with(booking.slot, clinic)}"


def _when_with(slot: Slot, clinic: Clinic) -> str:
    practitioner = clinic.practitioner(slot.practitioner_id)
    return f"{describe_slot(slot, clinic)}{' with ' + practitioner.name if practitioner else ''}"


def ask(slot: str, state: dict[str, Any], clinic: Clinic) -> Message:
    """The questions of the cancel and move conversations (the new time is asked by flow.offer)."""
    mode = state.get("booking_mode")
    if slot == "manage_code":
        return Message(wording("ask_code_cancel" if mode == CANCEL_EXISTING else "ask_code_move"),
                       [{"title": "Never mind", "payload": "/cancel"}])
    if slot == "booking_contact":
        return Message(wording("ask_booked_contact"))
    booking = Stored.from_state(state["manage_booking"])
    if mode == CANCEL_EXISTING:
        return Message(wording("found_cancel", appointment=describe(booking, clinic)),
                       [{"title": "Yes, cancel it", "payload": "/affirm"},
                        {"title": "No, keep it", "payload": "/deny"}])
    new = chat.slot_from_state(state["booking_choice"])
    return Message(wording("confirm_move", old=describe_slot(booking.slot, clinic), new=_when_with(new, clinic)),
                   [{"title": "Yes, move it", "payload": "/affirm"},
                    {"title": "Another time", "payload": '/change_booking{"booking_change":"time"}'},
                    {"title": "Keep it as it is", "payload": "/cancel"}])
