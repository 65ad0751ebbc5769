""""Talk to a person": the console's live queue in opening hours, the call-back route otherwise (and when
nobody took the patient's last chat in time, within the hour: bot.handoff.unstaffed.nobody_free_lately)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.clinic import clinic
from bot.handoff import queue, unstaffed
from bot.handoff.availability import live_hand_off
from bot.handoff.wording import say
from bot.store.db import session_scope

logger = logging.getLogger(__name__)


class ActionHandOff(Action):
    """Sets handoff_route, which the rules follow: "live" (queued; the assistant is silent until staff hand
    the chat back) or "callback" (booking_form takes a call-back request)."""

    def name(self) -> str:
        return "action_hand_off"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        details = clinic()
        channel = tracker.get_latest_input_channel()
        if live_hand_off(details, channel):
            try:
                with session_scope() as session:
                    # Nobody was free a moment ago ("call me back" after the time-out): the call-back route.
                    queued = not unstaffed.nobody_free_lately(session, tracker.sender_id)
                    if queued:
                        queue.request(session, tracker.sender_id, channel or "")
            except Exception as error:  # no queue to join: the call-back route still reaches the team
                logger.error("hand-off: queueing failed with %s", type(error).__name__)
            else:
                if queued:
                    dispatcher.utter_message(text=say("waiting", details))
                    return [SlotSet("handoff_route", "live"), *_leave_the_questions(tracker)]
        return [SlotSet("handoff_route", "callback"), *_leave_the_questions(tracker)]


def _leave_the_questions(tracker: Tracker) -> list[EventType]:
    """A person, or the call-back form, takes over from the triage questions (the answers so far are kept)."""
    return [ActiveLoop(None), SlotSet("requested_slot", None)] if tracker.active_loop_name else []
