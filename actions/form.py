"""The triage form: the engine picks each next question; one action asks any of them."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue
from bot.clinic import clinic


class ValidateTriageForm(FormValidationAction):
    def name(self) -> str:
        return "validate_triage_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[str]:
        # One slot at a time, chosen by the engine; an empty list ends the form.
        slots = tracker.current_slot_values()
        key = dialogue.next_slot(dialogue.answers_from_slots(slots), slots.get(dialogue.UNCLEAR_FLAGS),
                                 slots.get(dialogue.READ_BACK))
        return [key] if key else []


class AskQuestion(Action):
    """Asks the question for one slot; one subclass per slot gives Rasa its action_ask_<slot>."""

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        answers = dialogue.answers_from_slots(tracker.current_slot_values())
        said = [event.get("text") or "" for event in tracker.events if event.get("event") == "bot"]
        for message in dialogue.ask(self.slot, answers, clinic(), said, tracker.get_slot(dialogue.READ_BACK)):
            dispatcher.utter_message(text=message.text, buttons=message.buttons)
        return []


# Rasa looks an asking action up by name, so each question slot gets its own small class
# (kept in this dict: the action server finds subclasses through weak references).
ASKING_ACTIONS = {slot: type(f"Ask_{slot}", (AskQuestion,), {"slot": slot})
                  for slot in (*dialogue.QUESTION_SLOTS, dialogue.READ_BACK)}


class ActionExplainQuestion(Action):
    """Answers "why do you ask?"; the form then asks its question again."""

    def name(self) -> str:
        return "action_explain_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=dialogue.why(tracker.get_slot("requested_slot")))
        return []
