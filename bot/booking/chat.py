"""The booking conversation after the triage: what each patient message does to the booking.

Works on a BookingState (bot.booking.state) and returns a Turn, so it is tested without Rasa; the
form's actions (actions/booking.py) only read the state from the tracker's slots and write it back.
What the words mean is read elsewhere (bot.booking.when and .choose for times, .contact for
details); what is said comes from bot.booking.messages.

Modes: "book" (a slot, name, phone and/or email, read-back, booking), "callback" (name, phone
and a preferred time; for "talk to a person", urgent cases, and whenever booking fails),
"none" (an emergency: never booked), and "cancel_existing" / "move_existing" (a booking made
earlier, found by its confirmation code: bot.booking.manage). A cancelled booking ends the form
with nothing booked or changed.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from bot.booking.choose import Pick, Request, choose
from bot.booking.contact import clean_name, find_contact, find_phone, split_full_name
from bot.booking.state import BOOK, CALLBACK, CANCEL_EXISTING, MAX_TEXT, MOVE_EXISTING, NONE, BookingState, Turn
from bot.booking.when import parse_when
from bot.booking.wording import text as wording
from bot.clinic import Clinic

MANAGE_INTENTS = {"cancel_appointment": CANCEL_EXISTING, "move_appointment": MOVE_EXISTING}
# The intents that take the patient somewhere whatever was asked ("cancel my appointment" mid-booking too).
CANCEL_INTENTS = ("cancel", "goodbye", "cancel_appointment")
CHANGE_TIME = re.compile(r"\b(time|day|date|slot|appointment|when)\b", re.I)
CHANGE_DETAILS = re.compile(r"\b(name|phone|number|email|e-mail|mobile|details|contact)\b", re.I)
MAX_MESSAGE = 1000
# The reason recorded for a call back after an urgent triage; its confirmation repeats the urgent route.
URGENT_CALLBACK = "urgent triage: same-day care advised, call back requested"


def start(state: BookingState, level: str | None, intent: str | None, clinic: Clinic) -> Turn:
    """What a request to book or to talk to a person starts, given the triage level."""
    turn = Turn(state.cleared())
    if intent in MANAGE_INTENTS:  # an appointment booked earlier: whatever today's triage says
        return turn.set(mode=MANAGE_INTENTS[intent])
    if level == "emergency":
        return turn.set(mode=NONE).say(wording("no_booking_emergency", emergency_number=clinic.emergency_number))
    if level == "urgent":
        return turn.set(mode=CALLBACK, reason=URGENT_CALLBACK).say(
            wording("callback_urgent", urgent_care=clinic.urgent_care))
    if intent == "human":
        return turn.set(mode=CALLBACK, reason="asked to talk to a person").say(wording("callback_person"))
    return turn.set(mode=BOOK)


def entity_values(entities: list[dict[str, Any]] | None) -> dict[str, Any]:
    """The quick replies' values (booking_pick, booking_when, booking_change, booking_confirm) by entity."""
    return {e.get("entity"): e.get("value") for e in entities or [] if isinstance(e, dict)}


def tidy(text: str | None) -> str:
    return " ".join((text or "").split())[:MAX_MESSAGE]


def read(state: BookingState, text: str, intent: str | None, entities: list[dict[str, Any]],
         clinic: Clinic, now: datetime | None = None) -> Turn:
    """What one patient message changes while the form asks `state.asked`."""
    asked = state.asked
    turn = Turn(state)
    text = tidy(text)
    payload = entity_values(entities)
    if asked is None:
        return turn
    if asked in ("booking_contact", "booking_phone"):
        # A typed number can look like "what's the phone number" to the intent classifier: the value wins.
        if asked == "booking_contact" and take_contact(turn, text, clinic):
            return turn
        phone = find_phone(text, clinic.country) if asked == "booking_phone" else None
        if phone:
            return turn.set(phone=phone)
    today = (now or datetime.now(clinic.tz)).astimezone(clinic.tz).date()
    if intent in CANCEL_INTENTS and asked == "booking_choice" and not payload:
        said = parse_when(text, today, len(state.offered))
        if said.clock or said.pick is not None or said.about_day:  # "half six" is a time, not a goodbye
            intent = "inform"
    if intent in CANCEL_INTENTS or payload.get("booking_change") == "cancel":
        return turn.set(cancelled=True)
    if intent == "emergency":  # something new and worrying: stop booking, give the emergency route
        return turn.set(cancelled=True).say(wording("stop_emergency", emergency_number=clinic.emergency_number))
    if intent == "human" and state.mode == BOOK:
        return turn.set(mode=CALLBACK, reason="asked to talk to a person while booking", choice=None,
                        confirmed=False).say(wording("callback_person"))
    # "No" only means "change something" at the read-back; elsewhere it is just a reply to read.
    wants_change = (intent in ("change_booking", "move_appointment")
                    or (intent == "deny" and asked == "booking_confirmed"))
    change = payload.get("booking_change") or (_change_asked(text) if wants_change else None)
    if asked == "booking_confirmed" and intent != "affirm" and not payload.get("booking_change"):
        said = parse_when(text, today)
        if said.clock or said.about_day or said.about_time_of_day:
            # "no, I wanted 6.30pm" at the read-back: that time (read back again), or look it up first
            moved = _read_choice(Turn(state).set(request=Request()), text, None, {}, clinic, today)
            return moved.set(confirmed=False)
    if change and asked != "booking_choice":
        return change_time(turn) if change == "time" else _change_details(turn)
    if asked == "booking_choice":
        return _read_choice(turn, text, intent, payload, clinic, today)
    if asked == "booking_first_name":
        full = split_full_name(text)
        if full:
            return turn.set(first_name=full[0], last_name=full[1])
        name = clean_name(text)
        return turn.set(first_name=name) if name else turn.say(wording("first_name_again"))
    if asked == "booking_last_name":
        name = clean_name(text)
        return turn.set(last_name=name) if name else turn.say(wording("last_name_again"))
    if asked == "booking_contact":  # nothing to take (tried above)
        return ask_contact_again(turn, text)
    if asked == "booking_phone":
        return turn.say(wording("phone_again"))
    if asked == "callback_time":
        return turn.set(callback_time=text[:MAX_TEXT].strip() or None)
    if asked == "booking_confirmed":
        if intent == "affirm" or payload.get("booking_confirm"):
            return turn.set(confirmed=True)
        return turn.set(confirmed=False).say(wording("what_to_change"))
    return turn


def _change_asked(text: str) -> str | None:
    if CHANGE_TIME.search(text):
        return "time"
    if CHANGE_DETAILS.search(text):
        return "details"
    return None


def change_time(turn: Turn) -> Turn:
    """Forget the time chosen (and what was offered): the next offer starts afresh."""
    return turn.set(choice=None, confirmed=False, offered=(), request=Request(),
                    manage_confirmed=False).say(wording("change_time"))


def _change_details(turn: Turn) -> Turn:
    return turn.set(first_name=None, last_name=None, phone=None, email=None, contact_given=False,
                    confirmed=False).say(wording("change_details"))


def _read_choice(turn: Turn, text: str, intent: str | None, payload: dict[str, Any], clinic: Clinic,
                 today: date) -> Turn:
    offered, request = list(turn.state.offered), turn.state.request
    pick = _index(payload.get("booking_pick"))
    if pick is None and request.proposed and len(offered) == 1 and intent == "affirm":
        pick = 0  # "yes" to "Wednesday 2 December at 18:30 is free. Shall I book it?"
    if pick is None:
        words = str(payload["booking_when"]).replace("_", " ") if payload.get("booking_when") else text
        choice = choose(parse_when(words, today, len(offered)), offered, clinic, request)
        if isinstance(choice, Pick):
            pick = choice.index
        elif isinstance(choice, Request):
            return turn.set(choice=None, request=choice)
    if pick is not None and 0 <= pick < len(offered):
        return turn.set(choice=offered[pick], request=Request())
    if intent == "deny" and request.proposed:  # "no" to the one time proposed: the usual offer again
        return turn.set(choice=None, request=Request())
    if intent == "deny":
        return turn.set(cancelled=True)
    return turn.set(choice=None).say(wording("choice_again"))


def _index(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def take_contact(turn: Turn, text: str, clinic: Clinic) -> bool:
    """A phone number and/or an email address in one message, taken into the turn; False when there is none."""
    phone, email = find_contact(text, clinic.country)
    if phone or email:
        turn.set(phone=phone, email=email, contact_given=True)
    return bool(phone or email)


def ask_contact_again(turn: Turn, text: str) -> Turn:
    return turn.set(contact_given=False).say(wording("email_again" if "@" in text else "contact_again"))
