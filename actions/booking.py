"""The booking form: thin adapters between Rasa's tracker and bot.booking (which holds the logic)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue
from bot.booking import flow, provider_for
from bot.booking.base import BookingError
from bot.booking.state import ASKED, BOOK, MANAGE_MODES, BookingState, Turn
from bot.booking.summary import triage_summary
from bot.clinic import ClinicConfigError, clinic

ASKED_HERE = ("booking_first_name", "booking_last_name", "booking_contact", "booking_phone", "callback_time",
              "booking_confirmed", "manage_code", "manage_confirmed")


def _state(tracker: Tracker) -> BookingState:
    return BookingState.from_slots(tracker.current_slot_values())


def _say(dispatcher: CollectingDispatcher, tracker: Tracker, turn: Turn, keep: str | None = None) -> list[EventType]:
    """The turn's messages, and its state as the slots that change (and `keep`, the slot the form asked)."""
    for message in turn.messages:
        dispatcher.utter_message(text=message.text, buttons=message.buttons)
    changes = turn.state.slot_changes(tracker.current_slot_values(), keep=keep)
    return [SlotSet(slot, value) for slot, value in changes.items()]


class ActionStartBooking(Action):
    """"Book" or "talk to a person": sets the mode for the booking form from the triage level."""

    def name(self) -> str:
        return "action_start_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        turn = flow.start(_state(tracker), tracker.get_slot("triage_level"), intent, clinic())
        return _say(dispatcher, tracker, turn)


class ValidateBookingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_booking_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: dict[str, Any]) -> list[str]:
        return _state(tracker).required_slots()

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        events: list[EventType] = []
        if _after_patient_message(tracker):
            message = tracker.latest_message or {}
            turn = flow.read(_state(tracker), message.get("text") or "", (message.get("intent") or {}).get("name"),
                             message.get("entities") or [], clinic())
            # The asked slot is always set (empty to ask again), or Rasa gives the message to the other rules.
            events = _say(dispatcher, tracker, turn, keep=tracker.get_slot(ASKED))
            tracker.add_slots(events)
        return events + await super().run(dispatcher, tracker, domain)


def _after_patient_message(tracker: Tracker) -> bool:
    """True when the form runs on a patient's message, not on its activation or a return to it.

    Rasa hands the validation a copy of the tracker that ends with the form's own ActionExecuted,
    so the action that matters is the one before it: action_listen when the patient just spoke.
    """
    actions = [e.get("name") for e in tracker.events if e.get("event") == "action"]
    return len(actions) >= 2 and actions[-2] == "action_listen"


class ActionAskBookingChoice(Action):
    """Offers the next free slots (asks the provider each time: the diary changes)."""

    def name(self) -> str:
        return "action_ask_booking_choice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        details = clinic()
        try:
            provider = provider_for(details)
        except (BookingError, ClinicConfigError) as error:
            provider = _Unavailable(str(error))
        turn = flow.offer(_state(tracker), details, provider, tracker.get_slot("triage_level"),
                          datetime.now(timezone.utc))
        return _say(dispatcher, tracker, turn)


class AskBookingDetail(Action):
    """Asks for one detail; one subclass per slot gives Rasa its action_ask_<slot>."""

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        message = flow.ask(self.slot, _state(tracker), clinic())
        dispatcher.utter_message(text=message.text, buttons=message.buttons)
        return []


# Kept in a dict: the action server finds subclasses through weak references.
ASKING_ACTIONS = {slot: type(f"AskBooking_{slot}", (AskBookingDetail,), {"slot": slot}) for slot in ASKED_HERE}


class ActionFinishBooking(Action):
    """Books, records the call back, cancels or moves a booking made earlier, or closes a cancelled booking."""

    def name(self) -> str:
        return "action_finish_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        details, state = clinic(), _state(tracker)
        provider = None
        if state.mode in (BOOK, *MANAGE_MODES) and not state.cancelled:
            try:
                provider = provider_for(details)
            except (BookingError, ClinicConfigError) as error:
                provider = _Unavailable(str(error))
        summary = triage_summary(dialogue.answers_from_slots(tracker.current_slot_values()))
        turn, again = flow.finish(state, details, provider, conversation_id=tracker.sender_id, summary=summary,
                                  now=datetime.now(timezone.utc))
        events = _say(dispatcher, tracker, turn)
        return events + [FollowupAction("booking_form")] if again else events


class _Unavailable:
    """A provider that could not even be set up (say, the API key is missing): every call fails over."""

    name = "unavailable"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def available_slots(self, start: datetime, end: datetime) -> list:
        raise BookingError(self.reason)

    def book(self, *args: Any, **kwargs: Any) -> Any:
        raise BookingError(self.reason)

    cancel = move = book
