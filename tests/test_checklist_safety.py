"""The red-flag checklist: only a clear "none" is none; numbers pick; unclear words lead to a question."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

from bot import dialogue
from bot.nlu.extractor import answer, checklist_hints
from bot.nlu.numbers import choice_numbers
from bot.triage import prompt
from bot.triage.vocabulary import RED_FLAG_CHECKLIST, RED_FLAG_KEYS
from tests.patient import reply

REPLIES = yaml.safe_load((Path(__file__).parent / "data" / "checklist-replies.yml").read_text())
# Asked after a gradual onset: the checklist the replies file describes.
BEFORE = {"onset": "gradual", "pain_location": "front", "age": 30, "triggers": ["stairs"], "clicking": False,
          "training_change": False}


@pytest.mark.parametrize("case", REPLIES["flags"], ids=[c["text"] for c in REPLIES["flags"]])
def test_a_reply_that_states_or_hints_at_a_sign_is_never_none(case: dict) -> None:
    changes = dialogue.read_message(case["text"], [], RED_FLAG_CHECKLIST, BEFORE)
    for flag in case["flags"]:
        # acted on at once, or asked about next: never silently "no"
        assert changes.get(flag) is True or flag in changes.get(dialogue.UNCLEAR_FLAGS, []), (flag, changes)
        assert changes.get(flag) is not False
    if not all(changes.get(flag) is True for flag in case["flags"]):
        after = dialogue.answers_from_slots({**BEFORE, **changes})
        assert dialogue.next_slot(after, changes.get(dialogue.UNCLEAR_FLAGS, [])) in case["flags"]


@pytest.mark.parametrize("text", REPLIES["none"])
def test_a_clear_none_is_none(text: str) -> None:
    changes = dialogue.read_message(text, [], RED_FLAG_CHECKLIST, BEFORE)
    assert all(changes.get(flag) is False for flag in RED_FLAG_KEYS if flag != "cannot_bend_knee"), changes
    assert changes.get(dialogue.UNCLEAR_FLAGS, []) == []


@pytest.mark.parametrize("text,flag", [("calfs all swole n sore", "calf_swelling"),
                                       ("pins n needles in me foot", "numb_cold_foot"),
                                       ("leg wont kick out", "cannot_straighten_leg")])
def test_the_issues_examples_are_not_read_as_none(text: str, flag: str) -> None:
    """Seen in the review: each was read as "none of these" and the flag set to false. Now each is
    read as the sign (misspellings and lay words are understood) or asked about, yes or no."""
    read = answer(RED_FLAG_CHECKLIST, text)
    assert (read is not None and read[flag] is True) or (read is None and flag in checklist_hints(text))


def test_the_follow_up_question_is_answered_yes_or_no() -> None:
    changes = dialogue.read_message("leg wont kick out", [], RED_FLAG_CHECKLIST, BEFORE)
    after = dialogue.answers_from_slots({**BEFORE, **changes})
    asked = dialogue.next_slot(after, changes.get(dialogue.UNCLEAR_FLAGS, []))
    assert asked == "cannot_straighten_leg"
    assert dialogue.read_message("no", [], asked, BEFORE)[asked] is True  # "Can you lift ...?" "no"
    assert dialogue.read_message("yes I can", [], asked, BEFORE)[asked] is False


def test_an_unclear_sign_does_not_delay_an_emergency() -> None:
    emergency = {**BEFORE, "hot_red_joint": True, "fever_unwell": True}
    assert dialogue.next_slot(emergency, ["calf_swelling"]) is None


@pytest.mark.parametrize("text,expected", [("4", [4]), ("number 4", [4]), ("the 4th one", [4]),
                                           ("the fourth one", [4]), ("1 and 3", [1, 3]), ("the last one", [9]),
                                           ("#2", [2]), ("4 weeks ago", None), ("I have 3 kids", None),
                                           ("number 12", None), ("one", None)])
def test_choice_numbers(text: str, expected: list[int] | None) -> None:
    assert choice_numbers(text, 9) == expected


def test_the_checklist_is_numbered_with_one_quick_reply_per_sign() -> None:
    question = prompt(RED_FLAG_CHECKLIST, BEFORE)
    keys = [key for key, _ in question.items]
    assert [value for _, value in question.buttons] == [*keys, "none"]
    for n, (_, label) in enumerate(question.items, start=1):
        assert f"{n}. {label}" in question.text
    assert all(len(title) <= 20 for title, _ in question.buttons)  # Messenger's quick-reply limit


def test_tapping_one_sign_sets_it_and_keeps_the_checklist_open() -> None:
    payload = dialogue.button_payload(RED_FLAG_CHECKLIST, "calf_swelling")
    tapped = [{"entity": RED_FLAG_CHECKLIST, "value": "calf_swelling", "extractor": dialogue.PAYLOAD_EXTRACTOR}]
    changes = dialogue.read_message(payload, tapped, RED_FLAG_CHECKLIST, BEFORE)
    assert changes["calf_swelling"] is True and "fever_unwell" not in changes
    # the other signs are still asked
    assert dialogue.next_slot(dialogue.answers_from_slots({**BEFORE, **changes})) == RED_FLAG_CHECKLIST


# --- through the REST channel -----------------------------------------------------------------

def _to_checklist(bot, sender: str) -> None:
    facts = {"age": 30, "onset": "gradual", "pain_location": "front", "triggers": ["stairs"], "clicking": False,
             "training_change": False}
    text = "the front of my knee hurts on stairs, it came on gradually"
    for _ in range(8):
        bot.say(sender, text)
        requested = bot.slots(sender).get("requested_slot")
        if requested == RED_FLAG_CHECKLIST:
            return
        text = reply(requested, facts)
    raise AssertionError("the checklist was never asked")


def test_a_messy_checklist_reply_gets_a_follow_up_question_not_a_silent_no(running_bot) -> None:
    sender = f"checklist-{uuid.uuid4().hex[:8]}"
    _to_checklist(running_bot, sender)
    texts = [m.get("text", "") for m in running_bot.say(sender, "pins n needles in me foot")]
    slots = running_bot.slots(sender)
    assert slots["numb_cold_foot"] is None and slots["requested_slot"] == "numb_cold_foot", texts
    assert prompt("numb_cold_foot").text in texts
    running_bot.say(sender, "yes")
    assert running_bot.slots(sender)["numb_cold_foot"] is True


def test_a_misspelt_sign_is_acted_on_at_once(running_bot) -> None:
    """ "calfs all swole n sore": the calf is read through the misspelling and the slang; the urgent
    route comes straight away, before the read-back and the result."""
    sender = f"checklist-{uuid.uuid4().hex[:8]}"
    _to_checklist(running_bot, sender)
    texts = [m.get("text", "") for m in running_bot.say(sender, "calfs all swole n sore")]
    slots = running_bot.slots(sender)
    assert slots["calf_swelling"] is True
    assert any("blood clot" in t for t in texts), texts


def test_the_4th_one_picks_the_4th_sign(running_bot) -> None:
    sender = f"checklist-{uuid.uuid4().hex[:8]}"
    _to_checklist(running_bot, sender)
    shown = [key for key, _ in prompt(RED_FLAG_CHECKLIST, dialogue.answers_from_slots(running_bot.slots(sender))).items]
    running_bot.say(sender, "the 4th one")
    assert running_bot.slots(sender)[shown[3]] is True


def test_a_correction_in_words_at_the_read_back_changes_the_result(running_bot) -> None:
    """The read-back before the result: a fact said wrongly is corrected in words, not restarted."""
    sender = f"readback-{uuid.uuid4().hex[:8]}"
    facts = {"age": 30, "onset": "gradual", "pain_location": "front", "triggers": ["stairs", "sitting"],
             "clicking": True, "training_change": True, "swelling": "none", "pain_score": 5, "duration_weeks": 8}
    text = "the front of my knee aches on stairs and after sitting"
    for _ in range(12):
        running_bot.say(sender, text)
        requested = running_bot.slots(sender).get("requested_slot")
        if requested == dialogue.READ_BACK:
            break
        text = reply(requested, facts)
    else:
        raise AssertionError("no read-back before the result")
    assert running_bot.slots(sender).get("triage_level") is None  # nothing suggested before the check
    running_bot.say(sender, "no, the pain is actually on the outer side")
    slots = running_bot.slots(sender)
    for _ in range(4):  # the engine may want one more answer after the correction
        if slots.get("triage_level"):
            break
        running_bot.say(sender, reply(slots["requested_slot"], {**facts, "pain_location": "outer"}))
        slots = running_bot.slots(sender)
    assert slots["pain_location"] == "outer" and slots["triage_level"]
