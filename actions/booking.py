"""The booking dialogue: a thin adapter between Rasa's tracker and bot.booking (which holds the logic)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue
from bot.booking import flow, provider_for
from bot.booking.base import BookingError
from bot.booking.state import BOOK, MANAGE_MODES, BookingState
from bot.booking.summary import triage_summary
from bot.clinic import Clinic, ClinicConfigError, clinic
from bot.dialogue import Message

NAME = "booking_form"
MAX_STEPS = 3  # finish, then (the time was taken meanwhile) offer again: never more than two passes


def _say(dispatcher: CollectingDispatcher, messages: list[Message]) -> None:
    for message in messages:
        dispatcher.utter_message(text=message.text, buttons=message.buttons)


class BookingForm(Action):
    """The booking dialogue, as the action standing in for the form of the same name (like triage_form).

    Entered by the rules ("book", "talk to a person" outside opening hours, yes to the offer, a booking
    made earlier), it sets the mode from the triage level; then it reads every message while active, asks
    the next detail the mode needs (or offers times), and books, records the call back, cancels or moves
    when nothing is missing. One action call per message.
    """

    def name(self) -> str:
        return NAME

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        details, before = clinic(), tracker.current_slot_values()
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        level = tracker.get_slot("triage_level")
        entering = tracker.active_loop_name != NAME
        if entering:
            turn = flow.start(BookingState.from_slots(before), level, intent, details)
        else:
            turn = flow.read(BookingState.from_slots(before), message.get("text") or "", intent,
                             message.get("entities") or [], details)
        said, state = list(turn.messages), turn.state
        for _ in range(MAX_STEPS):
            missing = [slot for slot in state.required_slots() if state.to_slots().get(slot) is None]
            if missing:
                state = replace(state, asked=missing[0])
                if missing[0] == "booking_choice":
                    turn = flow.offer(state, details, _provider(details), level, datetime.now(timezone.utc))
                    said, state = said + turn.messages, turn.state
                else:
                    said.append(flow.ask(missing[0], state, details))
                break
            summary = triage_summary(dialogue.answers_from_slots(before))
            provider = _provider(details) if state.mode in (BOOK, *MANAGE_MODES) and not state.cancelled else None
            turn, again = flow.finish(state, details, provider, conversation_id=tracker.sender_id, summary=summary,
                                      now=datetime.now(timezone.utc))
            said, state = said + turn.messages, turn.state
            if not again:
                state = replace(state, asked=None)
                break
        _say(dispatcher, said)
        changes = [SlotSet(slot, value) for slot, value in state.slot_changes(before).items()]
        if state.asked is None:
            return [*changes, ActiveLoop(None)]
        return [ActiveLoop(NAME), *changes] if entering else changes


def _provider(details: Clinic) -> Any:
    try:
        return provider_for(details)
    except (BookingError, ClinicConfigError) as error:
        return _Unavailable(str(error))


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
