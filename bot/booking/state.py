"""The booking conversation's state between messages, as one typed value, and how it is kept in Rasa.

Rasa's form needs each detail it asks for in a slot of its own (it asks the first empty one), so
the state is kept in the slots listed in SLOTS, each holding plain JSON: `BookingState.from_slots`
reads them (a value it cannot read, say from an older version or edited by hand, counts as not
given: the patient is asked again rather than the chat failing) and `to_slots` writes them back.
Everything else works on the attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time
from typing import Any, TypeVar

from bot.booking.base import Slot
from bot.booking.choose import Request
from bot.booking.offer import Preference
from bot.booking.records import Stored
from bot.dialogue import Message

BOOK, CALLBACK, NONE = "book", "callback", "none"
CANCEL_EXISTING, MOVE_EXISTING = "cancel_existing", "move_existing"
MODES = (BOOK, CALLBACK, NONE, CANCEL_EXISTING, MOVE_EXISTING)
MANAGE_MODES = (CANCEL_EXISTING, MOVE_EXISTING)
ASKED = "requested_slot"  # Rasa's own slot: the detail the form is asking for
# The details each mode asks for, in order (Rasa slot names: the form asks the first one not filled).
REQUIRED = {
    BOOK: ("booking_choice", "booking_first_name", "booking_last_name", "booking_contact", "booking_confirmed"),
    CALLBACK: ("booking_first_name", "booking_last_name", "booking_phone", "callback_time"),
    CANCEL_EXISTING: ("manage_code", "booking_contact", "manage_confirmed"),
    MOVE_EXISTING: ("manage_code", "booking_contact", "booking_choice", "manage_confirmed"),
}
MAX_TEXT = 200  # what a patient types is cut to this before it is kept

T = TypeVar("T")


@dataclass(frozen=True)
class BookingState:
    """Where the booking conversation is; the Rasa slot each field is kept in is in SLOTS."""

    mode: str | None = None  # one of MODES; None before a booking starts
    asked: str | None = None  # the slot the form is asking for (Rasa's requested_slot)
    offered: tuple[Slot, ...] = ()  # the times last offered, in the order shown
    request: Request = field(default_factory=Request)  # what to offer next
    choice: Slot | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None  # E.164
    email: str | None = None
    contact_given: bool = False  # a phone number and/or an email address were given
    confirmed: bool = False  # yes at the read-back
    callback_time: str | None = None  # as the patient put it
    cancelled: bool = False  # the patient stopped: nothing is booked or changed
    reason: str | None = None  # why a call back (for the clinic's staff)
    reference: str | None = None  # the provider's reference of the booking just made
    manage_code: str | None = None  # the confirmation code of a booking made earlier
    manage_booking: Stored | None = None  # that booking, once found with the code and the contact
    manage_confirmed: bool = False  # yes to cancelling or moving it
    manage_attempts: int = 0  # look-ups that found nothing

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any]) -> BookingState:
        """The state kept in the tracker's slots; missing or unreadable values are left at their defaults."""
        values = {}
        for name, (slot, read, _) in SLOTS.items():
            if slots.get(slot) is not None:
                values[name] = _tolerant(read, slots[slot], default=getattr(EMPTY, name))
        return cls(**values).consistent()

    def consistent(self) -> BookingState:
        """A yes or a detail that rests on something unreadable is asked again, never taken as given."""
        state = self
        if state.choice is None and state.confirmed:  # a yes to a time that is no longer known
            state = replace(state, confirmed=False)
        if state.contact_given and not (state.phone or state.email):
            state = replace(state, contact_given=False)
        if state.mode in MANAGE_MODES and state.manage_booking is None:
            # the booking is looked up again once the contact is given again (bot.booking.flow.read)
            state = replace(state, contact_given=False, manage_confirmed=False)
        if state.mode == MOVE_EXISTING and state.choice is None and state.manage_confirmed:
            state = replace(state, manage_confirmed=False)
        return state

    def to_slots(self) -> dict[str, Any]:
        """Every slot's value, JSON-serialisable; None for anything not given."""
        state = self.consistent()
        return {slot: write(getattr(state, name)) for name, (slot, _, write) in SLOTS.items()}

    def slot_changes(self, before: Mapping[str, Any], keep: str | None = None) -> dict[str, Any]:
        """The slots whose value differs from `before` (the tracker's), and `keep` whatever its value.

        The form must get a value for the slot it asked about even when it stays empty ("ask again"),
        or Rasa hands the message to the other rules.
        """
        now = self.to_slots()
        return {slot: value for slot, value in now.items() if before.get(slot) != value or slot == keep}

    def required_slots(self) -> list[str]:
        """The slots the form asks for in this mode (all of them filled means it is done)."""
        return [] if self.cancelled else list(REQUIRED.get(self.mode or "", ()))

    def cleared(self) -> BookingState:
        """A booking not started, keeping only what Rasa's form is asking."""
        return BookingState(asked=self.asked)


EMPTY = BookingState()


@dataclass
class Turn:
    """What one step of the conversation leaves: the new state and what to say."""

    state: BookingState
    messages: list[Message] = field(default_factory=list)

    def set(self, **changes: Any) -> Turn:
        """Change some fields of the state (unknown names are a TypeError: a bug)."""
        self.state = replace(self.state, **changes)
        return self

    def say(self, message: Message | str) -> Turn:
        self.messages.append(message if isinstance(message, Message) else Message(message))
        return self


# --- how each field is kept in its slot ---


def slot_to_value(slot: Slot) -> dict[str, str]:
    return {"starts_at": slot.starts_at.isoformat(), "ends_at": slot.ends_at.isoformat(),
            "practitioner_id": slot.practitioner_id, "appointment_type_id": slot.appointment_type_id}


def slot_from_value(value: Mapping[str, Any]) -> Slot:
    return Slot(_aware(value["starts_at"]), _aware(value["ends_at"]), _text(value["practitioner_id"]),
                _text(value["appointment_type_id"]))


def request_to_value(request: Request) -> dict[str, Any] | None:
    """Only what is set (the format of earlier versions, so a conversation under way carries on)."""
    if request == Request():
        return None

    def plain(value: Any) -> Any:
        if isinstance(value, (date, time)):  # datetime is a date too
            return value.isoformat()
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if v is not None and v is not False and v != ()}
        return value

    return plain(asdict(request))


def request_from_value(value: Mapping[str, Any]) -> Request:
    """Each part read on its own: one unreadable part is dropped, the rest kept."""
    wanted = _tolerant(dict, value.get("preference"), default={})
    part = wanted.get("part_of_day")
    weekday = _tolerant(_weekday, wanted.get("weekday"), default=None)
    preference = Preference(
        part if part in ("morning", "afternoon", "evening") else None, weekday,
        _maybe(date.fromisoformat, wanted.get("day")), _maybe(date.fromisoformat, wanted.get("from_day")),
        _maybe(time.fromisoformat, wanted.get("not_before")), _maybe(time.fromisoformat, wanted.get("not_after")))
    clocks = _tolerant(lambda v: tuple(time.fromisoformat(t) for t in v), value.get("clocks") or (), default=())
    between = _tolerant(lambda v: tuple(slot_from_value(s) for s in v), value.get("between") or (), default=())
    return Request(preference, _maybe(_aware, value.get("after")), _maybe(_aware, value.get("other_day_than")),
                   clocks, between, _maybe(date.fromisoformat, value.get("or_day")), value.get("proposed") is True)


def stored_to_value(booking: Stored) -> dict[str, Any]:
    return {"id": booking.id, "code": booking.code, **slot_to_value(booking.slot), "first_name": booking.first_name,
            "status": booking.status, "provider": booking.provider, "external_id": booking.external_id}


def stored_from_value(value: Mapping[str, Any]) -> Stored:
    external = value.get("external_id")
    return Stored(_number(value["id"]), _text(value["code"]), slot_from_value(value), _text(value["first_name"]),
                  _text(value["status"]), _text(value["provider"]), None if external is None else _text(external))


def _slots_from_value(value: list[Any]) -> tuple[Slot, ...]:
    return tuple(slot_from_value(s) for s in value)


def _slots_to_value(value: tuple[Slot, ...]) -> list[dict[str, str]] | None:
    return [slot_to_value(s) for s in value] or None


def _mode(value: Any) -> str:
    if value not in MODES:
        raise ValueError("not a booking mode")
    return str(value)


def _flag(value: Any) -> bool:
    return value is True or value == "given"


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def _short_text(value: Any) -> str:
    return _text(value)[:MAX_TEXT]


def _number(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError("not a number")
    return int(value)


def _count(value: Any) -> int:
    count = _number(value)
    if count < 0:
        raise ValueError("not a count")
    return count


def _weekday(value: Any) -> int:
    day = _number(value)
    if not 0 <= day <= 6:
        raise ValueError("not a weekday")
    return day


def _aware(value: Any) -> datetime:
    moment = datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:  # a naive time cannot be compared with the diary's
        raise ValueError("no time zone")
    return moment


def _tolerant(read: Callable[[Any], T], value: Any, *, default: T) -> T:
    try:
        return read(value)
    except (KeyError, TypeError, ValueError, AttributeError):
        return default


def _maybe(read: Callable[[Any], T], value: Any) -> T | None:
    return None if value is None else _tolerant(read, value, default=None)


def _none_if(empty: Any) -> Callable[[Any], Any]:
    return lambda value: None if value == empty else value


# field -> (its slot, read the slot's value, write it); the slot formats are those of earlier versions.
SLOTS: dict[str, tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = {
    "mode": ("booking_mode", _mode, _none_if(None)),
    "asked": (ASKED, _text, _none_if(None)),
    "offered": ("booking_offered", _slots_from_value, _slots_to_value),
    "request": ("booking_preference", request_from_value, request_to_value),
    "choice": ("booking_choice", slot_from_value, lambda s: slot_to_value(s) if s else None),
    "first_name": ("booking_first_name", _text, _none_if(None)),
    "last_name": ("booking_last_name", _text, _none_if(None)),
    "phone": ("booking_phone", _text, _none_if(None)),
    "email": ("booking_email", _text, _none_if(None)),
    "contact_given": ("booking_contact", _flag, lambda given: "given" if given else None),
    "confirmed": ("booking_confirmed", _flag, _none_if(False)),
    "callback_time": ("callback_time", _short_text, _none_if(None)),
    "cancelled": ("booking_cancelled", _flag, _none_if(False)),
    "reason": ("booking_reason", _text, _none_if(None)),
    "reference": ("booking_reference", _text, _none_if(None)),
    "manage_code": ("manage_code", _text, _none_if(None)),
    "manage_booking": ("manage_booking", stored_from_value, lambda b: stored_to_value(b) if b else None),
    "manage_confirmed": ("manage_confirmed", _flag, _none_if(False)),
    "manage_attempts": ("manage_attempts", _count, _none_if(0)),
}
