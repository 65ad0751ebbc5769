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
from bot.booking.records import CODE, find_code, shown
from bot.booking.state import CALLBACK, CANCEL_EXISTING, MOVE_EXISTING, BookingState, Turn
from bot.booking.wording import text as wording
from bot.clinic import Clinic

MAX_LOOKUPS = 3  # wrong code or contact this many times: the clinic calls instead (and guessing stops)


def read(state: BookingState, text: str, intent: str | None, entities: list[dict[str, Any]], clinic: Clinic,
         now: datetime | None = None) -> Turn:
    """What one message changes while an existing booking is being cancelled or moved."""
    asked = state.asked
    if asked == "booking_choice":  # the move's new time: read like any booking's choice
        return chat.read(state, text, intent, entities, clinic, now)
    turn = Turn(state)
    if asked is None:
        return turn
    text = chat.tidy(text)
    payload = chat.entity_values(entities)
    if asked == "manage_code":
        code = find_code(text)
        if code:
            chat.take_contact(turn, CODE.sub(" ", text, count=1), clinic)  # the code and the number in one message
            return turn.set(manage_code=code)
    if asked == "booking_contact" and chat.take_contact(turn, text, clinic):
        return turn
    if intent in chat.CANCEL_INTENTS or payload.get("booking_change") == "cancel":
        return turn.set(cancelled=True)
    if intent == "emergency":
        return turn.set(cancelled=True).say(wording("stop_emergency", emergency_number=clinic.emergency_number))
    if intent == "human":
        return turn.set(mode=CALLBACK, reason=_reason(state, "asked to talk to a person")).say(
            wording("callback_person"))
    if asked == "manage_code":
        return turn.say(wording("not_a_code"))
    if asked == "booking_contact":
        return chat.ask_contact_again(turn, text)
    if asked == "manage_confirmed":
        if intent == "affirm" or payload.get("booking_confirm"):
            return turn.set(manage_confirmed=True)
        if state.mode == MOVE_EXISTING and (intent in ("deny", "change_booking", "move_appointment")
                                            or payload.get("booking_change") == "time"):
            return chat.change_time(turn)
        if intent == "deny":
            return turn.set(cancelled=True)
    return turn


def doing(state: BookingState) -> str:
    """What the patient wants done to the booking, for the clinic's staff."""
    return "cancel" if state.mode == CANCEL_EXISTING else "move"


def _reason(state: BookingState, why: str) -> str:
    code = f" {shown(state.manage_booking.code)}" if state.manage_booking and state.manage_booking.code else ""
    return f"{why}: wants to {doing(state)} booking{code}"
