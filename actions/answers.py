"""Slot filling: every user message is read for answers, whatever state the chat is in."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue


class ActionExtractAnswers(Action):
    """Runs after each user message (the answer slots' custom mapping names it)."""

    def name(self) -> str:
        return "action_extract_answers"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        message = tracker.latest_message or {}
        updates = dialogue.read_message(
            text=message.get("text") or "",
            entities=message.get("entities") or [],
            requested=tracker.get_slot("requested_slot"),
            current=dialogue.answers_from_slots(tracker.current_slot_values()),
        )
        return [SlotSet(key, value) for key, value in updates.items()]
