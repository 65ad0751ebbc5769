"""Conversation housekeeping: the opening, and messages nothing else understood."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, FollowupAction, SessionStarted
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue
from bot.clinic import clinic


class ActionSessionStart(Action):
    """Every new conversation opens with who the assistant is and what to do in an emergency."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        details = clinic()
        dispatcher.utter_message(response="utter_intro", clinic_name=details.name,
                                 emergency_number=details.emergency_number)
        return [SessionStarted(), ActionExecuted("action_listen")]


class ActionTriageFallback(Action):
    """A message the assistant could not use: say why plainly and say what it needs."""

    def name(self) -> str:
        return "action_triage_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        message = tracker.latest_message or {}
        answers = dialogue.answers_from_slots(tracker.current_slot_values())
        if answers and not tracker.active_loop_name and not tracker.get_slot("assessed"):
            # The intent was unclear but the message told us about the knee: start the questions.
            return [FollowupAction("triage_form")]
        reply = dialogue.fallback_reply(
            text=message.get("text") or "",
            intent=(message.get("intent") or {}).get("name"),
            requested=tracker.get_slot("requested_slot"),
            clinic=clinic(),
        )
        dispatcher.utter_message(text=reply)
        return []


class ActionOtherBodyPart(Action):
    def name(self) -> str:
        return "action_other_body_part"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=dialogue.other_body_part_reply(clinic()))
        return []
