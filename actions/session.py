"""Conversation housekeeping: the opening, and messages nothing else understood."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted
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
    """A message the assistant could not use after the assessment, or that no rule covers: say why plainly
    and say what it needs (before the assessment, triage_form itself answers such messages)."""

    def name(self) -> str:
        return "action_triage_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        message = tracker.latest_message or {}
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
