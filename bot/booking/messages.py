"""What the booking conversation says: each message built from the catalogue (bot.booking.wording),
with its quick-reply buttons. Nothing here decides anything; the state says what to put in."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from bot.booking.base import Slot
from bot.booking.choose import Request
from bot.booking.offer import PARTS_OF_DAY, Looked, Preference
from bot.booking.records import Stored, shown
from bot.booking.state import CANCEL_EXISTING, BookingState
from bot.booking.wording import text
from bot.clinic import WEEKDAYS, Clinic
from bot.dialogue import Message, urgent_escalation

Buttons = list[dict[str, str]]
# Button titles by part of the day: to ask for more of them, and for a call back's time.
PARTS_BUTTONS = {"morning": "button_mornings", "afternoon": "button_afternoons", "evening": "button_evenings"}
PART_BUTTONS = {"morning": "button_morning", "afternoon": "button_afternoon", "evening": "button_evening"}
ORDINALS = ("ordinal_first", "ordinal_second", "ordinal_third")


# --- days and times ---


def describe_day(day: date) -> str:
    """'Tuesday 1 December'."""
    return text("date", weekday=f"{day:%A}", day=str(day.day), month=f"{day:%B}")


def describe_slot(slot: Slot, clinic: Clinic) -> str:
    """'Tuesday 1 December at 09:45' in the clinic's time."""
    local = slot.starts_at.astimezone(clinic.tz)
    return text("slot_time", date=describe_day(local.date()), time=f"{local:%H:%M}")


def describe_slot_with(slot: Slot, clinic: Clinic) -> str:
    """The time and, when the clinic file names them, the practitioner."""
    practitioner = clinic.practitioner(slot.practitioner_id)
    described = describe_slot(slot, clinic)
    return text("with_practitioner", slot=described, practitioner=practitioner.name) if practitioner else described


def describe_wish(preference: Preference) -> str:
    """' on Friday afternoon', ' on Tuesday 1 December after 16:00', or '' with no preference."""
    part = preference.part_of_day
    day = (describe_day(preference.day) if preference.day
           else WEEKDAYS[preference.weekday].capitalize() if preference.weekday is not None else None)
    phrases = []
    if day:
        phrases.append(text("wish_on_day_part", day=day, part_of_day=part) if part else text("wish_on_day", day=day))
    elif part:
        phrases.append(text("wish_in_part", part_of_day=part))
    if preference.from_day:
        phrases.append(text("wish_from_day", day=describe_day(preference.from_day)))
    if preference.not_before:
        phrases.append(text("wish_from_time", time=f"{preference.not_before:%H:%M}"))
    if preference.not_after:
        phrases.append(text("wish_before_time", time=f"{preference.not_after:%H:%M}"))
    return "".join(f" {phrase}" for phrase in phrases)


def describe_booking(booking: Stored, clinic: Clinic) -> str:
    """'initial assessment on Tuesday 1 December at 09:30 with Anna Okafor'."""
    kind = next((t.name.lower() for t in clinic.appointment_types if t.id == booking.slot.appointment_type_id),
                None) or text("appointment_type_unknown")
    return text("appointment", appointment_type=kind, slot=describe_slot_with(booking.slot, clinic))


def _either(options: list[str]) -> str:
    return text("either", others=", ".join(options[:-1]), last=options[-1]) if len(options) > 1 else options[0]


def _numbered(slots: list[Slot] | tuple[Slot, ...], clinic: Clinic) -> str:
    return "\n".join(text("offered_time", number=str(i + 1), slot=describe_slot(s, clinic))
                     for i, s in enumerate(slots))


# --- buttons ---


def _pick_button(title: str, index: int) -> dict[str, str]:
    return {"title": title, "payload": f'/inform{{"booking_pick":"{index}"}}'}


def _when_button(title: str, when: str) -> dict[str, str]:
    return {"title": title, "payload": f'/inform{{"booking_when":"{when}"}}'}


def _person_button() -> dict[str, str]:
    return {"title": text("button_person"), "payload": "/human"}


def _choice_buttons(slots: list[Slot] | tuple[Slot, ...], part_of_day: str | None, clinic: Clinic) -> Buttons:
    buttons = [_pick_button(describe_slot(s, clinic), i) for i, s in enumerate(slots)]
    buttons += [_when_button(text("button_later"), "later"), _when_button(text("button_another_day"), "other_day")]
    buttons += [_when_button(text(PARTS_BUTTONS[part]), part) for part in PARTS_OF_DAY if part != part_of_day]
    buttons.append(_person_button())
    return buttons


# --- the questions ---


def question(slot: str, state: BookingState, clinic: Clinic) -> Message:
    """The question for a detail other than the time (which needs the provider: see flow.offer)."""
    if slot == "booking_first_name":
        return Message(text("ask_first_name"))
    if slot == "booking_last_name":
        return Message(text("ask_last_name_named", first_name=state.first_name) if state.first_name
                       else text("ask_last_name"))
    if slot == "booking_contact":
        return Message(text("ask_contact"))
    if slot == "booking_phone":
        return Message(text("ask_phone"))
    if slot == "callback_time":
        titles = [text("button_as_soon_as_possible"), text(PART_BUTTONS["morning"]), text(PART_BUTTONS["afternoon"])]
        return Message(text("ask_callback_time"), [{"title": t, "payload": t} for t in titles])
    if slot == "booking_confirmed":
        return read_back(state, clinic)
    raise ValueError(f"no question for {slot}")


def manage_question(slot: str, state: BookingState, clinic: Clinic) -> Message:
    """The questions of the cancel and move conversations (the new time is offered by flow.offer)."""
    cancelling = state.mode == CANCEL_EXISTING
    if slot == "manage_code":
        return Message(text("ask_code_cancel" if cancelling else "ask_code_move"),
                       [{"title": text("button_never_mind"), "payload": "/cancel"}])
    if slot == "booking_contact":
        return Message(text("ask_booked_contact"))
    if state.manage_booking is None or (not cancelling and state.choice is None):
        raise ValueError(f"no question for {slot} before the booking is found")
    if cancelling:
        return Message(text("found_cancel", appointment=describe_booking(state.manage_booking, clinic)),
                       [{"title": text("button_yes_cancel"), "payload": "/affirm"},
                        {"title": text("button_no_keep"), "payload": "/deny"}])
    return Message(text("confirm_move", old=describe_slot(state.manage_booking.slot, clinic),
                        new=describe_slot_with(state.choice, clinic)),
                   [{"title": text("button_yes_move"), "payload": "/affirm"},
                    {"title": text("button_another_time"), "payload": '/change_booking{"booking_change":"time"}'},
                    {"title": text("button_keep"), "payload": "/cancel"}])


def read_back(state: BookingState, clinic: Clinic) -> Message:
    if state.choice is None:
        raise ValueError("no read-back before a time is chosen")
    contact = [x for x in (state.phone, state.email) if x]
    return Message(
        text("read_back", appointment_type=clinic.bookable_type.name.lower(),
             slot=describe_slot_with(state.choice, clinic), first_name=state.first_name or "",
             last_name=state.last_name or "",
             contact=text("both", first=contact[0], second=contact[1]) if len(contact) > 1 else "".join(contact)),
        [{"title": text("button_book_it"), "payload": "/affirm"},
         {"title": text("button_change_time"), "payload": '/change_booking{"booking_change":"time"}'},
         {"title": text("button_change_details"), "payload": '/change_booking{"booking_change":"details"}'},
         {"title": text("button_cancel"), "payload": "/cancel"}])


# --- the times offered ---


def offer_message(slots: list[Slot], preference: Preference, clinic: Clinic) -> Message:
    return Message(text("offer", appointment_type=clinic.bookable_type.name.lower(),
                        minutes=str(clinic.bookable_type.minutes), wanted=describe_wish(preference),
                        times=_numbered(slots, clinic)),
                   _choice_buttons(slots, preference.part_of_day, clinic))


def proposal_message(slot: Slot, clinic: Clinic) -> Message:
    """A free time the patient named that was not on the list: say so and ask."""
    described = describe_slot(slot, clinic)
    return Message(text("proposal", slot=described),
                   [_pick_button(text("proposal_yes", slot=described), 0),
                    _when_button(text("other_times"), "later"), _person_button()])


def nearest_message(looked: Looked, clinic: Clinic) -> Message:
    """The time named is not free (or the clinic is closed then): the nearest free times."""
    local = looked.wanted.astimezone(clinic.tz)
    wanted = text("time_on_date", time=f"{local:%H:%M}", date=describe_day(local.date()))
    opening = text("none_at", wanted=wanted) if looked.open_then else text("closed", wanted=wanted)
    return Message(f"{opening} {text('nearest', times=_numbered(looked.nearest, clinic))}",
                   _choice_buttons(looked.nearest, None, clinic))


def which_message(request: Request, clinic: Clinic) -> Message:
    """An answer that could mean two times: ask which, never guess."""
    described = [describe_slot(s, clinic) for s in request.between]
    buttons = [_pick_button(d, i) for i, d in enumerate(described)]
    if request.or_day:
        day = describe_day(request.or_day)
        buttons.append(_when_button(day, day))
        ordinal = text(ORDINALS[min(len(ORDINALS), request.or_day.day) - 1])
        return Message(text("pick_or_day", ordinal=ordinal, slot=described[0], day=day), buttons)
    return Message(text("which_of", options=_either(described)), buttons)


def morning_or_evening_message(clocks: tuple[time, ...]) -> Message:
    first, second = (f"{t:%H:%M}" for t in clocks[:2])
    return Message(text("morning_or_evening", first=first, second=second),
                   [_when_button(first, first), _when_button(second, second)])


def no_slots_message(clinic: Clinic) -> Message:
    return Message(text("no_slots", phone=clinic.phone),
                   [_when_button(text(PART_BUTTONS[part]), part) for part in PARTS_OF_DAY] + [_person_button()])


# --- the outcome ---


def confirmation(slot: Slot, clinic: Clinic, code: str = "") -> str:
    how_to_change = (text("confirmation_code", code=shown(code), phone=clinic.phone) if code
                     else text("change_by_phone", phone=clinic.phone))
    return text("booked", appointment_type=clinic.bookable_type.name.lower(), slot=describe_slot_with(slot, clinic),
                clinic=clinic.name, address=clinic.address, what_to_bring=clinic.what_to_bring,
                how_to_change=how_to_change)


def callback_done(state: BookingState, clinic: Clinic, now: datetime, *, urgent: bool, thanks: str = "") -> str:
    """The call back is recorded: who calls, how and when, and what to do meanwhile.

    `thanks` replaces the thanks with an apology when the call back stands in for a failed booking.
    """
    thanks = thanks or (text("thanks_named", first_name=state.first_name) if state.first_name else text("thanks"))
    how = text("call_on", phone=state.phone) if state.phone else text("call_using_details")
    # An urgent patient's call back is on top of the urgent route, never instead of it (it may be tomorrow).
    after = (text("after_urgent", urgent_care=clinic.urgent_care, escalation=urgent_escalation(clinic)) if urgent
             else text("after_routine", emergency_number=clinic.emergency_number))
    return text("callback_done", thanks=thanks, clinic=clinic.name, how=how, when=callback_promise(clinic, now),
                after=after)


def callback_promise(clinic: Clinic, now: datetime) -> str:
    """When the clinic will call: within two hours while open, else at the next opening."""
    local = now.astimezone(clinic.tz)
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        for opens, closes in clinic.hours_on(day):
            start, end = datetime.combine(day, opens, clinic.tz), datetime.combine(day, closes, clinic.tz)
            if offset == 0 and start <= local < end - timedelta(minutes=30):
                return text("within_two_hours")
            if local < start:
                when = (text("today") if offset == 0 else text("tomorrow") if offset == 1
                        else text("on_weekday", weekday=f"{day:%A}"))
                return text("after_opening", day=when, time=f"{opens:%H:%M}")
    return text("as_soon_as_we_can")
