"""Slot filling: every user message is read for answers, whatever state the chat is in (here outside the
triage form, by the form itself while it runs)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue

logger = logging.getLogger(__name__)


class ActionExtractAnswers(Action):
    """Runs after each user message outside the triage form (the answer slots' custom mapping names it)."""

    def name(self) -> str:
        return "action_extract_answers"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        return [SlotSet(key, value) for key, value in read_answers(tracker).items()]


def read_answers(tracker: Tracker) -> dict[str, Any]:
    """The slot changes the latest message makes (the triage form calls this itself while it runs)."""
    message = tracker.latest_message or {}
    try:
        return dialogue.read_message(
            text=message.get("text") or "",
            entities=message.get("entities") or [],
            requested=tracker.get_slot("requested_slot"),
            current=dialogue.answers_from_slots(tracker.current_slot_values()),
            intent=(message.get("intent") or {}).get("name"),
            read_back=tracker.get_slot(dialogue.READ_BACK),
            unclear=tracker.get_slot(dialogue.UNCLEAR_FLAGS),
        )
    except Exception as error:  # a fault reads the message as no answer: the question is asked again
        logger.error("reading a message failed: %s", type(error).__name__)  # no patient text in logs
        return {}
