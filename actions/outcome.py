"""The assessment and the hand-off that follows it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue
from bot.clinic import clinic


class ActionGiveAssessment(Action):
    """Says what the answers fit best, what to do, the advice and the safety net; sets the outcome slots."""

    def name(self) -> str:
        return "action_give_assessment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        outcome = dialogue.outcome(dialogue.answers_from_slots(tracker.current_slot_values()), clinic())
        for message in outcome.messages:
            dispatcher.utter_message(text=message.text, buttons=message.buttons)
        return [
            SlotSet("triage_level", outcome.triage_level),
            SlotSet("likely_conditions", outcome.likely_conditions),
            SlotSet("assessed", True),
        ]


class ActionOfferBooking(Action):
    """Booking details for routine care; the urgent route instead when the level says so."""

    def name(self) -> str:
        return "action_offer_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        for message in dialogue.booking_offer(tracker.get_slot("triage_level"), clinic()):
            dispatcher.utter_message(text=message.text, buttons=message.buttons)
        return []
