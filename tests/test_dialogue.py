"""What the assistant says and stores, without the servers: bot/dialogue.py."""

from __future__ import annotations

from bot import dialogue
from bot.clinic import load_clinic
from bot.triage import prompt
from bot.triage.vocabulary import RED_FLAG_KEYS

CLINIC = load_clinic()
NO_FLAGS = {key: False for key in RED_FLAG_KEYS}
PFP = {"age": 24, "sex": "female", "pain_location": "front", "onset": "gradual", "injury_mechanism": "none",
       "swelling": "none", "triggers": ["stairs", "sitting", "running"], "clicking": True, "locking": False,
       "giving_way": False, "training_change": True, "duration_weeks": 10, "pain_score": 5, **NO_FLAGS}


def tap(slot: str, value: object) -> list[dict]:
    """The entities Rasa makes from a quick-reply payload (no extractor)."""
    return [{"entity": slot, "value": value, "start": 0, "end": 1, "extractor": "RegexMessageHandler"}]


def test_a_tapped_quick_reply_is_an_answer() -> None:
    assert dialogue.read_message("/inform", tap("clicking", True), "clicking", {}) == {"clicking": True}


def test_a_forged_quick_reply_value_is_ignored() -> None:
    assert dialogue.read_message("/inform", tap("pain_location", "moon"), None, {}) == {}
    assert dialogue.read_message("/inform", tap("requested_slot", "age"), None, {}) == {}


def test_none_of_these_clears_every_unanswered_red_flag() -> None:
    updates = dialogue.read_message("/inform", tap("red_flags", "none"), "red_flags", {"calf_swelling": True})
    assert updates["red_flags"] == ["calf_swelling"]
    assert "calf_swelling" not in updates  # already raised, stays raised
    assert all(updates[k] is False for k in RED_FLAG_KEYS if k != "calf_swelling")


def test_triggers_accumulate_and_raised_red_flags_stay_raised() -> None:
    updates = dialogue.read_message("/inform", tap("triggers", ["kneeling"]) + tap("calf_swelling", False),
                                    None, {"triggers": ["stairs"], "calf_swelling": True})
    assert updates == {"triggers": ["kneeling", "stairs"]}


def test_a_later_answer_replaces_an_earlier_one() -> None:
    assert dialogue.read_message("/inform", tap("pain_location", "outer"), None,
                                 {"pain_location": "inner"}) == {"pain_location": "outer"}


def test_question_buttons_carry_their_answer() -> None:
    [q] = dialogue.ask("pain_location", {}, CLINIC)
    assert q.text.endswith("?")
    payloads = [b["payload"] for b in q.buttons]
    assert '/inform{"pain_location":"front"}' in payloads


def test_outcome_suggests_without_diagnosing_and_always_carries_safety_advice() -> None:
    outcome = dialogue.outcome(PFP, CLINIC)
    text = "\n".join(m.text for m in outcome.messages)
    assert outcome.likely_conditions[0] == "patellofemoral_pain"
    assert outcome.triage_level in ("routine", "self_care")
    assert "fit best with" in text and "you have" not in text.lower()
    assert "A&E" in text or CLINIC.emergency_number in text  # the safety net
    assert CLINIC.booking_url in text


def test_emergency_outcome_gives_the_emergency_route_and_no_booking() -> None:
    outcome = dialogue.outcome({**PFP, "hot_red_joint": True, "fever_unwell": True}, CLINIC)
    text = "\n".join(m.text for m in outcome.messages)
    assert outcome.triage_level == "emergency"
    assert outcome.likely_conditions[0] == "septic_arthritis"
    assert CLINIC.emergency_number in outcome.messages[0].text
    assert CLINIC.booking_url not in text


def test_urgent_outcome_offers_the_urgent_route_not_a_routine_booking() -> None:
    outcome = dialogue.outcome({**PFP, "calf_swelling": True}, CLINIC)
    text = "\n".join(m.text for m in outcome.messages)
    assert outcome.triage_level == "urgent"
    assert "dvt" in outcome.likely_conditions[:1]
    assert CLINIC.urgent_care in text and CLINIC.booking_url not in text


def test_fallback_replies_say_what_is_needed() -> None:
    assert "English" in dialogue.fallback_reply("Me duele la rodilla cuando corro", None, None, CLINIC)
    assert "didn't get any text" in dialogue.fallback_reply("  ", None, None, CLINIC)
    assert CLINIC.emergency_number in dialogue.fallback_reply("help", "emergency", None, CLINIC)
    assert "none" in dialogue.fallback_reply("hmm", "dont_know", "red_flags", CLINIC)
    assert "catch" in dialogue.fallback_reply("hmm", "nlu_fallback", "age", CLINIC)


def test_why_explains_the_question_being_asked() -> None:
    assert dialogue.why("age") != dialogue.why(None)
    assert len(dialogue.why("red_flags")) > 20


def test_an_urgent_red_flag_is_acted_on_before_the_safety_check() -> None:
    instruction, checklist = dialogue.ask("red_flags", {"calf_swelling": True, "onset": "gradual"}, CLINIC)
    assert "today" in instruction.text.lower() or "hours" in instruction.text.lower()
    assert checklist.buttons and "none" in checklist.buttons[-1]["payload"]
    assert len(dialogue.ask("red_flags", {"onset": "gradual"}, CLINIC)) == 1  # no flag, no instruction


def test_the_urgent_instruction_comes_with_the_next_question_whatever_it_is_and_only_once() -> None:
    answers = {"calf_swelling": True}  # a painful calf volunteered: next, was there an injury?
    first = dialogue.ask("onset", answers, CLINIC)
    assert len(first) == 2 and "today" in first[0].text and first[1].text == prompt("onset").text
    again = dialogue.ask("red_flags", {**answers, "onset": "gradual"}, CLINIC, said=[first[0].text])
    assert len(again) == 1  # said once is enough


DONE = {"onset": "gradual", "pain_location": "front", "age": 30, "triggers": ["stairs", "sitting"], "clicking": False,
        "training_change": True, "duration_weeks": 6, "swelling": "none", "locking": False, "pain_score": 5,
        **dict.fromkeys(RED_FLAG_KEYS, False)}


def test_the_read_back_comes_before_the_result_with_the_facts_it_will_use() -> None:
    assert dialogue.next_slot(DONE) == dialogue.READ_BACK
    [summary] = dialogue.ask(dialogue.READ_BACK, DONE, CLINIC)
    for fact in ("at the front", "worse on stairs", "after sitting", "gradually", "2 to 6 weeks", "no swelling",
                 "none of the warning signs"):
        assert fact in summary.text
    assert [b["title"] for b in summary.buttons] == ["Yes, that's right", "Something's wrong"]
    assert dialogue.next_slot(DONE, read_back=dialogue.CONFIRMED) is None  # then the result


def test_a_correction_at_the_read_back_replaces_the_fact() -> None:
    entities = [{"entity": "pain_location", "value": "inner", "extractor": "KneeSymptomExtractor"}]
    changes = dialogue.read_message("no, it's on the inner side", entities, dialogue.READ_BACK, DONE, intent="deny")
    assert changes["pain_location"] == "inner" and changes[dialogue.READ_BACK] == dialogue.CONFIRMED


def test_something_is_wrong_asks_what_once() -> None:
    changes = dialogue.read_message("no", [], dialogue.READ_BACK, DONE, intent="deny")
    assert changes[dialogue.READ_BACK] == dialogue.CORRECTING
    [question] = dialogue.ask(dialogue.READ_BACK, DONE, CLINIC, read_back=dialogue.CORRECTING)
    assert "What should I change?" in question.text
    again = dialogue.read_message("no", [], dialogue.READ_BACK, DONE, intent="deny", read_back=dialogue.CORRECTING)
    assert again[dialogue.READ_BACK] == dialogue.CONFIRMED  # never a loop


def test_an_emergency_is_not_held_back_by_the_read_back() -> None:
    assert dialogue.next_slot({**DONE, "hot_red_joint": True, "fever_unwell": True}) is None
