"""The triage dialogue: one action reads each message, asks the next question or gives the result.

`triage_form` is a form in the domain and an action here: Rasa lets an action with the form's
name stand in for the form (a custom loop). Rasa then runs it on every message while it is the
active loop, and the action does in one call what the form, its validation and an asking action
did in three: read the answers, answer an interruption, ask what the engine needs next.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

from actions.answers import read_answers
from actions.outcome import give_assessment
from bot import dialogue
from bot.clinic import Clinic, clinic
from bot.log_privacy import EXPECTED_REJECTION

NAME = "triage_form"


class TriageForm(Action):
    """One step of the triage per patient message (see the module's docstring and data/rules/triage.yml)."""

    def name(self) -> str:
        return NAME

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        message = tracker.latest_message or {}
        intent = (message.get("intent") or {}).get("name")
        slots = dict(tracker.current_slot_values())
        events: list[EventType] = []
        said: list[str] = []
        details = clinic()
        if tracker.active_loop_name == NAME:
            # Outside the loop the answer slots' mapping has read the message already (domain/answers.yml).
            changes = read_answers(tracker)
            events += [SlotSet(key, value) for key, value in changes.items()]
            slots.update(changes)
            if not any(key in dialogue.FORM_SLOTS for key in changes):
                step = dialogue.interruption(intent)
                if step == dialogue.LEAVE:
                    # The rules take it from here (a person, or a booking made earlier); nothing was read.
                    raise ActionExecutionRejection(NAME, f"{EXPECTED_REJECTION}a {intent} message is left to the rules")
                if step == dialogue.GOODBYE:
                    dispatcher.utter_message(response="utter_goodbye")
                    return [*events, ActiveLoop(None), SlotSet("requested_slot", None)]
                said += _reply(dispatcher, step, message, tracker.get_slot("requested_slot"), slots, details)
        else:
            answers = dialogue.answers_from_slots(slots)
            if intent not in dialogue.STARTS_TRIAGE and not answers:
                # Nothing about the knee yet: say what is needed; the triage starts with the first answer.
                dispatcher.utter_message(text=dialogue.fallback_reply(
                    message.get("text") or "", intent, tracker.get_slot("requested_slot"), details))
                return []
            events.append(ActiveLoop(NAME))
        answers = dialogue.answers_from_slots(slots)
        key = dialogue.next_slot(answers, slots.get(dialogue.UNCLEAR_FLAGS), slots.get(dialogue.READ_BACK))
        if key is None:
            assessed = give_assessment(dispatcher, tracker, answers, details)
            return [*events, ActiveLoop(None), SlotSet("requested_slot", None), *assessed]
        earlier = [event.get("text") or "" for event in tracker.events if event.get("event") == "bot"]
        for question in dialogue.ask(key, answers, details, [*earlier, *said], slots.get(dialogue.READ_BACK)):
            dispatcher.utter_message(text=question.text, buttons=question.buttons)
        return [*events, SlotSet("requested_slot", key)]


def _reply(dispatcher: CollectingDispatcher, step: str, message: dict[str, Any], requested: str | None,
           slots: dict[str, Any], details: Clinic) -> list[str]:
    """The short answer to a message that answered nothing (the question follows); the texts said."""
    if step.startswith("utter_"):
        dispatcher.utter_message(response=step)
        return []
    intent = (message.get("intent") or {}).get("name")
    texts = dialogue.interruption_reply(step, message.get("text") or "", intent, requested,
                                        slots.get("triage_level"), details)
    for text in texts:
        dispatcher.utter_message(text=text.text, buttons=text.buttons)
    return [text.text for text in texts]


class ActionExplainQuestion(Action):
    """Answers "why do you ask?" outside the questions."""

    def name(self) -> str:
        return "action_explain_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=dialogue.why(tracker.get_slot("requested_slot")))
        return []
