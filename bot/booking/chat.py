"""The booking conversation after the triage: offer slots, take details, read back, book; or a call back.

Everything here works on a plain dict of the booking slots, so it is tested without Rasa; the
form's actions (actions/booking.py) only pass the tracker's slots in and the updates out.

Modes: "book" (a slot, name, phone and/or email, read-back, booking), "callback" (name, phone
and a preferred time; for "talk to a person", urgent cases, and whenever booking fails),
"none" (an emergency: never booked), and "cancel_existing" / "move_existing" (a booking made
earlier, found by its confirmation code: bot.booking.manage). A cancelled booking ends the form
with nothing booked or changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.booking.base import Slot
from bot.booking.choose import Pick, Request, choose
from bot.booking.contact import clean_email, clean_name, find_phone, split_full_name
from bot.booking.offer import PARTS_OF_DAY, Looked, Preference, describe_slot
from bot.booking.records import shown
from bot.booking.when import parse_when
from bot.booking.wording import text as wording
from bot.clinic import Clinic
from bot.dialogue import Message

BOOK, CALLBACK, NONE = "book", "callback", "none"
CANCEL_EXISTING, MOVE_EXISTING = "cancel_existing", "move_existing"
MANAGE_MODES = (CANCEL_EXISTING, MOVE_EXISTING)
MANAGE_INTENTS = {"cancel_appointment": CANCEL_EXISTING, "move_appointment": MOVE_EXISTING}
BOOKING_SLOTS: tuple[str, ...] = (
    "booking_mode", "booking_choice", "booking_offered", "booking_preference", "booking_first_name",
    "booking_last_name", "booking_phone", "booking_email", "booking_contact", "booking_confirmed", "callback_time",
    "booking_cancelled", "booking_reason", "booking_reference", "manage_code", "manage_booking", "manage_confirmed",
    "manage_attempts",
)
REQUIRED = {
    BOOK: ("booking_choice", "booking_first_name", "booking_last_name", "booking_contact", "booking_confirmed"),
    CALLBACK: ("booking_first_name", "booking_last_name", "booking_phone", "callback_time"),
    CANCEL_EXISTING: ("manage_code", "booking_contact", "manage_confirmed"),
    MOVE_EXISTING: ("manage_code", "booking_contact", "booking_choice", "manage_confirmed"),
}
# The intents that take the patient somewhere whatever was asked ("cancel my appointment" mid-booking too).
CANCEL_INTENTS = ("cancel", "goodbye", "cancel_appointment")
CHANGE_TIME = re.compile(r"\b(time|day|date|slot|appointment|when)\b", re.I)
CHANGE_DETAILS = re.compile(r"\b(name|phone|number|email|e-mail|mobile|details|contact)\b", re.I)
MAX_TEXT = 200


@dataclass
class Turn:
    """Slot changes and what to say."""

    updates: dict[str, Any] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)

    def say(self, text: str, buttons: list[dict[str, str]] | None = None) -> Turn:
        self.messages.append(Message(text, buttons or []))
        return self


# The reason recorded for a call back after an urgent triage; its confirmation repeats the urgent route.
URGENT_CALLBACK = "urgent triage: same-day care advised, call back requested"


def cleared() -> dict[str, Any]:
    return {slot: None for slot in BOOKING_SLOTS}


def start(level: str | None, intent: str | None, clinic: Clinic) -> Turn:
    """What a request to book or to talk to a person starts, given the triage level."""
    turn = Turn(cleared())
    if intent in MANAGE_INTENTS:  # an appointment booked earlier: whatever today's triage says
        turn.updates["booking_mode"] = MANAGE_INTENTS[intent]
        return turn
    if level == "emergency":
        turn.updates["booking_mode"] = NONE
        return turn.say(f"I can't book an appointment for this: please call {clinic.emergency_number} "
                        "or go to A&E now.")
    if level == "urgent":
        turn.updates.update(booking_mode=CALLBACK, booking_reason=URGENT_CALLBACK)
        return turn.say("I'll ask the clinic to call you. This needs to be seen today, so please don't wait for our "
                        f"call: {clinic.urgent_care}.")
    if intent == "human":
        turn.updates.update(booking_mode=CALLBACK, booking_reason="asked to talk to a person")
        return turn.say("Of course, I'll ask someone from the clinic to call you.")
    turn.updates["booking_mode"] = BOOK
    return turn


def required_slots(state: dict[str, Any]) -> list[str]:
    if state.get("booking_cancelled"):
        return []
    return list(REQUIRED.get(state.get("booking_mode") or "", ()))


def read(state: dict[str, Any], text: str, intent: str | None, entities: list[dict[str, Any]],
         clinic: Clinic, now: datetime | None = None) -> Turn:
    """The slot changes one patient message makes while the form asks `state['requested_slot']`.

    Always returns at least one change for the asked slot (None to ask again), so the form keeps
    the conversation instead of handing it to the general rules.
    """
    asked = state.get("requested_slot")
    turn = Turn()
    text = " ".join((text or "").split())[:1000]
    payload = {e.get("entity"): e.get("value") for e in entities or []}
    if asked is None:
        return turn
    if asked in ("booking_contact", "booking_phone"):
        # A typed number can look like "what's the phone number" to the intent classifier: the value wins.
        attempt = (read_contact(Turn(), text, clinic) if asked == "booking_contact"
                   else Turn({"booking_phone": find_phone(text, clinic.country)}))
        if attempt.updates.get(asked):
            return attempt
    today = (now or datetime.now(clinic.tz)).astimezone(clinic.tz).date()
    if intent in CANCEL_INTENTS and asked == "booking_choice" and not payload:
        said = parse_when(text, today, len(state.get("booking_offered") or []))
        if said.clock or said.pick is not None or said.about_day:  # "half six" is a time, not a goodbye
            intent = "inform"
    if intent in CANCEL_INTENTS or payload.get("booking_change") == "cancel":
        turn.updates["booking_cancelled"] = True
        return turn
    if intent == "emergency":  # something new and worrying: stop booking, give the emergency route
        turn.updates["booking_cancelled"] = True
        return turn.say(f"If you think this is an emergency, please call {clinic.emergency_number} now or go to "
                        "A&E.")
    if intent == "human" and state.get("booking_mode") == BOOK:
        turn.updates.update(booking_mode=CALLBACK, booking_reason="asked to talk to a person while booking",
                            booking_choice=None, booking_confirmed=None)
        return turn.say("Of course, I'll ask someone from the clinic to call you.")
    # "No" only means "change something" at the read-back; elsewhere it is just a reply to read.
    wants_change = (intent in ("change_booking", "move_appointment")
                    or (intent == "deny" and asked == "booking_confirmed"))
    change = payload.get("booking_change") or (_change_asked(text) if wants_change else None)
    if asked == "booking_confirmed" and intent != "affirm" and not payload.get("booking_change"):
        said = parse_when(text, today)
        if said.clock or said.about_day or said.about_time_of_day:
            # "no, I wanted 6.30pm" at the read-back: that time (read back again), or look it up first
            moved = _read_choice(Turn(), {**state, "booking_preference": None}, text, None, {}, clinic, today)
            moved.updates["booking_confirmed"] = None
            return moved
    if change and asked != "booking_choice":
        return _change(turn, change)
    if asked == "booking_choice":
        return _read_choice(turn, state, text, intent, payload, clinic, today)
    if asked == "booking_first_name":
        full = split_full_name(text)
        if full:
            turn.updates.update(booking_first_name=full[0], booking_last_name=full[1])
            return turn
        name = clean_name(text)
        turn.updates["booking_first_name"] = name
        return turn if name else turn.say("Sorry, I need your first name in letters, like \"Sam\".")
    if asked == "booking_last_name":
        name = clean_name(text)
        turn.updates["booking_last_name"] = name
        return turn if name else turn.say("Sorry, I need your last name in letters, like \"Taylor\".")
    if asked == "booking_contact":
        return read_contact(turn, text, clinic)
    if asked == "booking_phone":
        phone = find_phone(text, clinic.country)
        turn.updates["booking_phone"] = phone
        return turn if phone else turn.say("That doesn't look like a phone number. Please type the number to "
                                           "call, like 07700 900123.")
    if asked == "callback_time":
        when = text[:MAX_TEXT].strip() or None
        turn.updates["callback_time"] = when
        return turn
    if asked == "booking_confirmed":
        if intent == "affirm" or payload.get("booking_confirm"):
            turn.updates["booking_confirmed"] = True
            return turn
        turn.updates["booking_confirmed"] = None
        return turn.say("What would you like to change: the time or your details? Or say \"cancel\".")
    return turn


def _change_asked(text: str) -> str | None:
    if CHANGE_TIME.search(text):
        return "time"
    if CHANGE_DETAILS.search(text):
        return "details"
    return None


def _change(turn: Turn, what: str) -> Turn:
    if what == "time":
        turn.updates.update(booking_choice=None, booking_confirmed=None, booking_offered=None,
                            booking_preference=None)
        return turn.say("No problem, let's find another time.")
    turn.updates.update(booking_first_name=None, booking_last_name=None, booking_phone=None, booking_email=None,
                        booking_contact=None, booking_confirmed=None)
    return turn.say("No problem, let's take your details again.")


def _read_choice(turn: Turn, state: dict[str, Any], text: str, intent: str | None, payload: dict[str, Any],
                 clinic: Clinic, today: date) -> Turn:
    offered = [slot_from_state(s) for s in state.get("booking_offered") or []]
    request = Request.from_state(state.get("booking_preference"))
    pick = _index(payload.get("booking_pick"))
    if pick is None and request.proposed and len(offered) == 1 and intent == "affirm":
        pick = 0  # "yes" to "Wednesday 2 December at 18:30 is free. Shall I book it?"
    if pick is None:
        words = str(payload["booking_when"]).replace("_", " ") if payload.get("booking_when") else text
        choice = choose(parse_when(words, today, len(offered)), offered, clinic, request)
        if isinstance(choice, Pick):
            pick = choice.index
        elif isinstance(choice, Request):
            turn.updates.update(booking_choice=None, booking_preference=choice.to_state())
            return turn
    if pick is not None and 0 <= pick < len(offered):
        turn.updates.update(booking_choice=slot_to_state(offered[pick]), booking_preference=None)
        return turn
    if intent == "deny" and request.proposed:  # "no" to the one time proposed: the usual offer again
        turn.updates.update(booking_choice=None, booking_preference=None)
        return turn
    if intent == "deny":
        turn.updates["booking_cancelled"] = True
        return turn
    turn.updates["booking_choice"] = None
    return turn.say("Sorry, which time would you like? Pick one of the buttons, say \"the second one\" or a time "
                    "like \"half six\", or tell me a day or \"mornings\".")


def _index(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read_contact(turn: Turn, text: str, clinic: Clinic) -> Turn:
    """A phone number and/or an email address in one message (booking_contact "given"), or ask again."""
    emails = [clean_email(w) for w in re.findall(r"\S+@\S+", text)]
    email = next((e for e in emails if e), None)
    without_email = re.sub(r"\S+@\S+", " ", text)
    phone = find_phone(without_email, clinic.country)
    if email or phone:
        turn.updates.update(booking_email=email, booking_phone=phone, booking_contact="given")
        return turn
    turn.updates["booking_contact"] = None
    if "@" in text:
        return turn.say("That email address doesn't look right. Please check it, or give a phone number instead.")
    return turn.say("That doesn't look like a phone number or an email address. Please type one, "
                    "like 07700 900123 or sam@example.com.")


# --- questions ---


def ask(slot: str, state: dict[str, Any], clinic: Clinic) -> Message:
    """The question for a slot other than booking_choice (which needs the provider: see offer_message)."""
    if slot == "booking_first_name":
        return Message("What's your first name?")
    if slot == "booking_last_name":
        return Message(f"Thanks{', ' + state['booking_first_name'] if state.get('booking_first_name') else ''}. "
                       "And your last name?")
    if slot == "booking_contact":
        return Message("What's the best phone number or email address to reach you? You can give both.")
    if slot == "booking_phone":
        return Message("What number should we call?")
    if slot == "callback_time":
        return Message("When is a good time for the call?",
                       [{"title": t, "payload": t} for t in ("As soon as possible", "Morning", "Afternoon")])
    if slot == "booking_confirmed":
        return read_back(state, clinic)
    raise ValueError(f"no question for {slot}")


def offer_message(slots: list[Slot], preference: Preference, clinic: Clinic) -> Message:
    wanted = preference.describe()
    times = "\n".join(f"{i + 1}. {describe_slot(s, clinic)}" for i, s in enumerate(slots))
    return Message(f"Here are the next free times for an {clinic.bookable_type.name.lower()} "
                   f"({clinic.bookable_type.minutes} minutes){wanted}:\n{times}\n"
                   "Which suits you? Or is there a time of day or a day of the week that suits you better "
                   "(mornings, afternoons, evenings, or say a day)? You can also say \"later\" or \"another day\".",
                   _choice_buttons(slots, preference.part_of_day, clinic))


def _choice_buttons(slots: list[Slot] | tuple[Slot, ...], part_of_day: str | None,
                    clinic: Clinic) -> list[dict[str, str]]:
    buttons = [_pick_button(describe_slot(s, clinic), i) for i, s in enumerate(slots)]
    buttons += [{"title": "Later", "payload": '/inform{"booking_when":"later"}'},
                {"title": "Another day", "payload": '/inform{"booking_when":"other_day"}'}]
    buttons += [{"title": f"{part.capitalize()}s", "payload": f'/inform{{"booking_when":"{part}"}}'}
                for part in PARTS_OF_DAY if part != part_of_day]
    buttons.append({"title": "Talk to a person", "payload": "/human"})
    return buttons


def _pick_button(title: str, index: int) -> dict[str, str]:
    return {"title": title, "payload": f'/inform{{"booking_pick":"{index}"}}'}


def _when_button(title: str, when: str) -> dict[str, str]:
    return {"title": title, "payload": f'/inform{{"booking_when":"{when}"}}'}


def proposal_message(slot: Slot, clinic: Clinic) -> Message:
    """A free time the patient named that was not on the list: say so and ask."""
    described = describe_slot(slot, clinic)
    return Message(wording("proposal", slot=described),
                   [_pick_button(wording("proposal_yes", slot=described), 0),
                    _when_button(wording("other_times"), "later"), {"title": "Talk to a person", "payload": "/human"}])


def nearest_message(looked: Looked, clinic: Clinic) -> Message:
    """The time named is not free (or the clinic is closed then): the nearest free times."""
    local = looked.wanted.astimezone(clinic.tz)
    wanted = f"{local:%H:%M} on {local:%A} {local.day} {local:%B}"
    opening = wording("none_at" if looked.open_then else "closed", wanted=wanted)
    times = "\n".join(f"{i + 1}. {describe_slot(s, clinic)}" for i, s in enumerate(looked.nearest))
    return Message(f"{opening} {wording('nearest', times=times)}", _choice_buttons(looked.nearest, None, clinic))


def which_message(request: Request, clinic: Clinic) -> Message:
    """An answer that could mean two times: ask which, never guess."""
    described = [describe_slot(s, clinic) for s in request.between]
    buttons = [_pick_button(d, i) for i, d in enumerate(described)]
    if request.or_day:
        day = f"{request.or_day:%A} {request.or_day.day} {request.or_day:%B}"
        buttons.append(_when_button(day, day))
        return Message(wording("pick_or_day", ordinal=_ORDINALS[min(len(_ORDINALS) - 1, request.or_day.day - 1)],
                               slot=described[0], day=day), buttons)
    return Message(wording("which_of", options=", ".join(described[:-1]) + " or " + described[-1]), buttons)


_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")


def morning_or_evening_message(clocks: tuple[time, ...]) -> Message:
    first, second = (f"{t:%H:%M}" for t in clocks[:2])
    return Message(wording("morning_or_evening", first=first, second=second),
                   [_when_button(first, first), _when_button(second, second)])


def no_slots_message(state: dict[str, Any], clinic: Clinic) -> Message:
    return Message("I can't find a free time that matches. Would another day or time of day suit you? "
                   f"You can also call us on {clinic.phone}.",
                   [{"title": t.capitalize(), "payload": f'/inform{{"booking_when":"{t}"}}'}
                    for t in ("morning", "afternoon", "evening")] + [{"title": "Talk to a person",
                                                                       "payload": "/human"}])


def slot_to_state(slot: Slot) -> dict[str, str]:
    return {"starts_at": slot.starts_at.isoformat(), "ends_at": slot.ends_at.isoformat(),
            "practitioner_id": slot.practitioner_id, "appointment_type_id": slot.appointment_type_id}


def slot_from_state(value: dict[str, str]) -> Slot:
    return Slot(datetime.fromisoformat(value["starts_at"]), datetime.fromisoformat(value["ends_at"]),
                value["practitioner_id"], value["appointment_type_id"])


def read_back(state: dict[str, Any], clinic: Clinic) -> Message:
    slot = slot_from_state(state["booking_choice"])
    practitioner = clinic.practitioner(slot.practitioner_id)
    contact = " and ".join(x for x in (state.get("booking_phone"), state.get("booking_email")) if x)
    return Message(
        f"Let me check: {clinic.bookable_type.name.lower()} on {describe_slot(slot, clinic)}"
        f"{' with ' + practitioner.name if practitioner else ''}, for {state['booking_first_name']} "
        f"{state['booking_last_name']}, contact {contact}. Shall I book it?",
        [{"title": "Yes, book it", "payload": "/affirm"},
         {"title": "Change the time", "payload": '/change_booking{"booking_change":"time"}'},
         {"title": "Change my details", "payload": '/change_booking{"booking_change":"details"}'},
         {"title": "Cancel", "payload": "/cancel"}])


def confirmation(slot: Slot, state: dict[str, Any], clinic: Clinic, code: str = "") -> str:
    practitioner = clinic.practitioner(slot.practitioner_id)
    change = (wording("confirmation_code", code=shown(code)) + f" Or call us on {clinic.phone}."
              if code else f"If you need to change it, call us on {clinic.phone}.")
    return (f"You're booked in: {clinic.bookable_type.name.lower()} on {describe_slot(slot, clinic)}"
            f"{' with ' + practitioner.name if practitioner else ''} at {clinic.name}, {clinic.address}. "
            f"{clinic.what_to_bring} {change}")


def callback_promise(clinic: Clinic, now: datetime) -> str:
    """When the clinic will call: within two hours while open, else at the next opening."""
    local = now.astimezone(clinic.tz)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        for opens, closes in clinic.hours_on(day):
            start, end = datetime.combine(day, opens, clinic.tz), datetime.combine(day, closes, clinic.tz)
            if offset == 0 and start <= local < end - timedelta(minutes=30):
                return "within the next two hours"
            if local < start:
                when = "today" if offset == 0 else "tomorrow" if offset == 1 else f"on {day:%A}"
                return f"{when} soon after we open at {opens:%H:%M}"
    return "as soon as we can"
