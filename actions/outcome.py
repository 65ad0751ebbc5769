"""The assessment and the hand-off that follows it."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from bot import dialogue
from bot.clinic import Clinic, clinic
from bot.store import record_case, session_scope
from bot.triage import Assessment

logger = logging.getLogger(__name__)


class ActionGiveAssessment(Action):
    """Says what the answers fit best, what to do, the advice and the safety net; sets the outcome slots."""

    def name(self) -> str:
        return "action_give_assessment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        answers = dialogue.answers_from_slots(tracker.current_slot_values())
        return give_assessment(dispatcher, tracker, answers, clinic())


def give_assessment(dispatcher: CollectingDispatcher, tracker: Tracker, answers: dict[str, Any],
                    details: Clinic) -> list[EventType]:
    """Says the result, records the case and returns the outcome slots (the triage form's last step too)."""
    outcome = dialogue.outcome(answers, details)
    for message in outcome.messages:
        dispatcher.utter_message(text=message.text, buttons=message.buttons)
    _record_case(tracker, answers, outcome.assessment)
    return [
        SlotSet("triage_level", outcome.triage_level),
        SlotSet("likely_conditions", outcome.likely_conditions),
        SlotSet("assessed", True),
    ]


def _record_case(tracker: Tracker, answers: dict[str, Any], result: Assessment) -> None:
    """Keep the triage for the staff console; a database problem must not break the conversation."""
    try:
        with session_scope() as session:
            record_case(
                session, conversation_id=tracker.sender_id, channel=tracker.get_latest_input_channel() or "unknown",
                answers=answers, conditions=[*((flag, 1.0) for flag in result.red_flags), *result.conditions],
                triage_level=result.triage_level, red_flags=result.red_flags, advice=result.advice,
                reasons=result.reasons,
            )
    except SQLAlchemyError as error:
        logger.error("could not record a case: %s", type(error).__name__)  # no patient data in logs


class ActionOfferBooking(Action):
    """Booking details for routine care; the urgent route instead when the level says so."""

    def name(self) -> str:
        return "action_offer_booking"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        for message in dialogue.booking_offer(tracker.get_slot("triage_level"), clinic()):
            dispatcher.utter_message(text=message.text, buttons=message.buttons)
        return []
