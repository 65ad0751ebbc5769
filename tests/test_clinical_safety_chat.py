"""The clinical safety findings (issue 8) that are about wording or flow, through the REST channel."""

from __future__ import annotations

import uuid

import pytest

from bot.clinic import clinic
from tests.conftest import RunningBot
from tests.patient import reply
from tests.test_clinical_safety import LOADING
from tests.test_conversation_e2e import converse


def sender() -> str:
    return f"safety-{uuid.uuid4().hex[:10]}"


def texts(replies: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in replies)


def test_a_plain_no_to_the_injury_question_screens_a_hot_knee_for_infection(running_bot: RunningBot) -> None:
    """Finding 2: a knee that turned hot and swollen suddenly, with no injury, is not stored as an injury."""
    who = sender()
    running_bot.say(who, "my knee swelled up overnight and feels hot")
    slots = running_bot.slots(who)
    assert slots["hot_red_joint"] is True and slots.get("onset") is None
    if slots["requested_slot"] == "red_flags":  # a fever would make it an emergency whatever the onset
        running_bot.say(who, "none of those")
    assert running_bot.slots(who)["requested_slot"] == "onset"
    answer = texts(running_bot.say(who, "No"))
    slots = running_bot.slots(who)
    assert slots["onset"] == "gradual"
    assert slots["triage_level"] == "emergency" and slots["likely_conditions"][0] == "septic_arthritis"
    assert "Go to A&E now" in answer


def test_cannot_lift_the_leg_after_a_fall_gets_a_and_e_and_no_exercises(running_bot: RunningBot) -> None:
    """Finding 4: "can't lift the leg" used to get wall sits and jumping next to the urgent route."""
    who = sender()
    reply = texts(running_bot.say(who, "I fell down the stairs and now I can't lift my leg straight at all"))
    slots = running_bot.slots(who)
    assert slots["triage_level"] == "emergency" and "extensor_rupture" in slots["likely_conditions"]
    assert "A&E" in reply and not LOADING.search(reply.replace("no exercise", ""))


def test_a_young_child_with_a_fever_who_will_not_walk_is_sent_to_a_and_e(running_bot: RunningBot) -> None:
    """Findings 4 and 7: a 5-year-old with a fever who cannot bear weight: A&E, and no hip exercises."""
    facts = {"age": 5, "onset": "gradual", "fever_unwell": True, "cannot_bear_weight": True,
             "pain_location": "whole", "swelling": "none"}
    slots, transcript, _ = converse(running_bot, "my 5 year old has a temperature and won't walk on her leg", facts)
    text = "\n".join(transcript)
    assert slots["triage_level"] == "emergency"
    assert "Take your child to A&E now" in text
    assert not LOADING.search(text.split("Take your child to A&E now", 1)[1].replace("no exercise", ""))


def test_urgent_result_states_the_route_and_the_call_back_repeats_it(running_bot: RunningBot) -> None:
    """Finding 5: an urgent patient is told where to go today; a call back never replaces it."""
    facts = {"age": 35, "onset": "gradual", "locking": True, "pain_location": "inner", "swelling": "none",
             "triggers": ["squatting"], "clicking": True, "training_change": False}
    details = clinic()
    who = sender()
    slots, transcript, _ = converse(running_bot, "my knee is stuck bent and I can't straighten it", facts, sender=who)
    assert slots["triage_level"] == "urgent"
    hand_off = transcript[-1]
    assert details.urgent_care in hand_off and "don't wait" in hand_off
    reply = texts(running_bot.say(who, "/human"))
    assert "don't wait for our call" in reply and details.urgent_care in reply


@pytest.mark.parametrize("message", ["Me duele mucho la rodilla desde ayer", "my shoulder hurts when I lift my arm"])
def test_replies_that_cannot_triage_still_give_the_emergency_route(running_bot: RunningBot, message: str) -> None:
    """Medium finding: other languages and other body parts got no 999 or same-day route."""
    reply = texts(running_bot.say(sender(), message))
    details = clinic()
    assert details.emergency_number in reply and details.urgent_care in reply


def test_the_checklist_says_hot_or_darker_and_asks_about_new_numbness(running_bot: RunningBot) -> None:
    """Finding 7 and the neuropathy finding: the checklist's wording, as the patient sees it."""
    facts = {"age": 30, "onset": "gradual", "pain_location": "front", "triggers": ["stairs"], "clicking": False,
             "training_change": False}
    who = sender()
    asked = ""
    text = "my knee hurts at the front on stairs"
    for _ in range(8):
        asked = texts(running_bot.say(who, text))
        requested = running_bot.slots(who).get("requested_slot")
        if requested == "red_flags":
            break
        text = reply(requested, facts)
    assert "hot, or looks red or darker than usual" in asked
    assert "numb, tingly, cold or pale since this started" in asked
    assert "bend the knee to a right angle" not in asked  # the Ottawa item only after an injury
