"""A red flag said with doubt is confirmed in one question; one stated clearly is acted on at once (issue 10)."""

from __future__ import annotations

import uuid

from bot import dialogue
from bot.nlu.entities import readings_to_entities
from bot.nlu.extractor import readings
from tests.conftest import RunningBot

BEFORE = {"onset": "gradual", "pain_location": "back", "age": 40}


def read(text: str, current: dict | None = None, requested: str | None = None,
         unclear: list[str] | None = None) -> dict:
    """What one message changes, with the entities the NLU component would give it."""
    return dialogue.read_message(text, readings_to_entities(readings(text)), requested, current or BEFORE,
                                 unclear=unclear)


def test_a_doubtful_calf_is_asked_about_before_anything_else() -> None:
    changes = read("the back of my knee aches and I think my calf might be swollen?")
    assert "calf_swelling" not in changes  # no silent "no", and no "yes" on a maybe
    assert changes[dialogue.UNCLEAR_FLAGS] == ["calf_swelling"]
    answers = dialogue.answers_from_slots({**BEFORE, **changes})
    assert dialogue.next_slot(answers, changes[dialogue.UNCLEAR_FLAGS]) == "calf_swelling"


def test_the_confirmation_sets_the_flag_and_clears_the_question() -> None:
    pending = ["calf_swelling"]
    changes = read("yes it is", BEFORE, "calf_swelling", pending)
    assert changes["calf_swelling"] is True and changes[dialogue.UNCLEAR_FLAGS] == []


def test_a_later_doubt_keeps_the_earlier_one_pending() -> None:
    changes = read("and maybe my foot feels a bit numb?", BEFORE, "pain_location", ["calf_swelling"])
    assert changes[dialogue.UNCLEAR_FLAGS] == ["calf_swelling", "numb_cold_foot"]


def test_a_flag_stated_clearly_is_not_asked_again() -> None:
    changes = read("my calf is swollen and red and really sore")
    assert changes["calf_swelling"] is True
    assert "calf_swelling" not in changes.get(dialogue.UNCLEAR_FLAGS, [])


def test_through_rest_a_doubt_is_asked_and_a_clear_flag_is_acted_on(running_bot: RunningBot) -> None:
    who = f"doubt-{uuid.uuid4().hex[:8]}"
    running_bot.say(who, "My knee hurts at the back and I'm not sure, maybe my calf is a bit swollen?")
    slots = running_bot.slots(who)
    assert slots["requested_slot"] == "calf_swelling" and slots.get("calf_swelling") is None
    replies = running_bot.say(who, "yes")
    assert running_bot.slots(who)["calf_swelling"] is True
    assert any("blood clot" in (m.get("text") or "") for m in replies)  # the urgent route is said at once

    other = f"clear-{uuid.uuid4().hex[:8]}"
    replies = running_bot.say(other, "my knee is really swollen and hot and I can't put any weight on it at all")
    slots = running_bot.slots(other)
    assert slots["cannot_bear_weight"] is True and slots.get("unclear_flags") in (None, [])
    assert any("today" in (m.get("text") or "") or "A&E" in (m.get("text") or "") for m in replies)
