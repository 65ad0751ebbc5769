"""Conversations in Rasa's own event format, written the way its SQLTrackerStore writes them.

Events are built with Rasa's event classes and stored as SQLTrackerStore.save does (type_name,
timestamp, intent_name from parse_data, action_name from the event's "name", data as JSON), so
the console reads exactly what a real bot leaves behind.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from bot.store.models import events


@dataclass
class Patient:
    """Says something (typed, or a tapped quick reply's payload)."""

    text: str
    intent: str = "describe_symptoms"
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Bot:
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (title, payload)
    action: str = "action_triage_form"


@dataclass
class Slot:
    name: str
    value: Any


Turn = Patient | Bot | Slot

# A typical runner's knee conversation with the assistant, as issue 2's dialogue runs it.
RUNNERS_KNEE: list[Turn] = [
    Patient("hi, my right knee hurts at the front when I go down stairs, started after I upped my mileage",
            entities=[{"entity": "pain_location", "value": "front"}, {"entity": "triggers", "value": "stairs"},
                      {"entity": "training_change", "value": True}]),
    Slot("pain_location", "front"), Slot("triggers", ["stairs"]), Slot("training_change", True),
    Bot("Hello, I'm the Riverside Physiotherapy knee assistant. I can't diagnose you, but I can help you work "
        "out what to do next. In an emergency call 999.", action="action_greet"),
    Bot("Did it start with an injury, or come on gradually?",
        [("An injury", '/inform{"onset":"injury"}'), ("Gradually", '/inform{"onset":"gradual"}'),
         ("Not sure", '/inform{"onset":"unknown"}')]),
    Patient('/inform{"onset":"gradual"}', intent="inform"),
    Slot("onset", "gradual"),
    Bot("Does it hurt after sitting for a long time, for example in the cinema or a car?",
        [("Yes", '/inform{"triggers":"sitting"}'), ("No", "/deny")]),
    Patient("yes, long drives are the worst", intent="affirm"),
    Slot("triggers", ["stairs", "sitting"]),
    Bot("Does the knee ever lock, give way, or swell up?"),
    Patient("no swelling and it doesn't give way", intent="inform",
            entities=[{"entity": "swelling", "value": "none"}, {"entity": "giving_way", "value": False}]),
    Slot("swelling", "none"), Slot("giving_way", False),
    Bot("Before I suggest anything: do any of these apply? A hot red knee, fever, a swollen calf, numbness "
        "or a cold foot, you can't take weight on the leg.",
        [("None of those", '/inform{"red_flags":"none"}')]),
    Patient('/inform{"red_flags":"none"}', intent="inform"),
    Slot("triage_level", "routine"), Slot("likely_conditions", ["patellofemoral_pain", "itb_syndrome"]),
    Bot("Your answers fit best with patellofemoral pain (runner's knee): pain around the kneecap that is worse "
        "on stairs and after sitting. Cut back your running for now and book a physiotherapy assessment.",
        [("Book an appointment", "/book"), ("No thanks", "/deny")], action="action_give_result"),
    Patient("/book", intent="book"),
    Bot("You can book here: http://127.0.0.1:8080/book", action="utter_booking_link"),
]

RUNNERS_KNEE_CASE: dict[str, Any] = dict(
    answers={"pain_location": "front", "triggers": ["stairs", "sitting"], "training_change": True,
             "onset": "gradual", "swelling": "none", "giving_way": False},
    conditions=[("patellofemoral_pain", 0.71), ("itb_syndrome", 0.12), ("patellar_tendinopathy", 0.08)],
    triage_level="routine", red_flags=[],
    advice=["Reduce running to a level that is comfortable.", "Hip and thigh strengthening, most days."],
    reasons=["your pain is at the front and worse on stairs and after sitting"],
)


def rasa_events(turns: Iterable[Turn], *, start: float, channel: str = "rest", gap: float = 20.0,
                new_session: bool = True, intro: str | None = None) -> list[Event]:
    """Rasa events for the turns, as a real tracker holds them (session start, listens, actions).

    `intro`: what the project's action_session_start says, which Rasa stores before the SessionStarted.
    """
    found: list[Event] = []
    clock = start

    def tick() -> float:
        nonlocal clock
        clock += gap
        return clock

    if new_session:
        found.append(ActionExecuted("action_session_start", timestamp=clock))
        if intro:
            found.append(BotUttered(intro, metadata={"utter_action": "utter_intro"}, timestamp=clock))
        found += [SessionStarted(timestamp=clock), ActionExecuted("action_listen", timestamp=clock)]
    for turn in turns:
        if isinstance(turn, Patient):
            message_id = uuid.uuid4().hex
            found.append(UserUttered(turn.text, intent={"name": turn.intent, "confidence": 0.93},
                                     entities=turn.entities, input_channel=channel, message_id=message_id,
                                     timestamp=tick()))
        elif isinstance(turn, Bot):
            if not found or not (isinstance(found[-1], ActionExecuted) and found[-1].action_name == turn.action):
                found.append(ActionExecuted(turn.action, policy="RulePolicy", confidence=1.0, timestamp=tick()))
            data = {"buttons": [{"title": t, "payload": p} for t, p in turn.buttons]} if turn.buttons else {}
            found.append(BotUttered(turn.text, data=data, metadata={"utter_action": turn.action},
                                    timestamp=tick() - gap + 1))
        else:
            found.append(SlotSet(turn.name, turn.value, timestamp=clock))
    found.append(ActionExecuted("action_listen", timestamp=clock + 1))
    return found


def event_rows(sender_id: str, found: Iterable[Event]) -> list[dict[str, Any]]:
    """The events table's rows, built exactly as rasa.core.tracker_store.SQLTrackerStore.save builds them."""
    rows = []
    for event in found:
        data = event.as_dict()
        rows.append({"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                     "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
                     "action_name": data.get("name"), "data": json.dumps(data)})
    return rows


def store(engine: Engine, sender_id: str, turns: Iterable[Turn], *, start: float | None = None,
          channel: str = "rest", new_session: bool = True, intro: str | None = None) -> int:
    """Append a conversation's events to the events table; returns how many."""
    rows = event_rows(sender_id, rasa_events(turns, start=start or time.time() - 600, channel=channel,
                                             new_session=new_session, intro=intro))
    with engine.begin() as connection:
        connection.execute(insert(events), rows)
    return len(rows)


def short(text: str, *, reply: str = "Thanks. Where exactly is the pain?") -> list[Turn]:
    """A two-message conversation: the patient's words and the assistant's first question."""
    return [Patient(text), Bot(reply, [("Front", '/inform{"pain_location":"front"}')])]
