"""What the result says: reasons only from what the patient said, and advice that fits the level."""

from __future__ import annotations

import pytest

from bot.triage import assess


@pytest.mark.parametrize("answers,not_claimed", [
    ({"hot_red_joint": True}, "without an injury"),
    ({"limp_hip_pain": True}, "8 to 16"),
    ({"night_pain_weight_loss": True}, "under 19"),
    ({"cannot_bear_weight": True}, "after an injury"),
])
def test_a_rule_fired_out_of_caution_claims_nothing_unsaid(answers: dict, not_claimed: str) -> None:
    assert not any(not_claimed in reason for reason in assess(answers).reasons)


def test_each_fact_is_given_as_a_reason_once() -> None:
    result = assess({"onset": "injury", "swelling": "rapid", "injury_mechanism": "twisting", "heard_pop": True})
    assert sum("swelled" in reason for reason in result.reasons) == 1


@pytest.mark.parametrize("answers", [
    {"onset": "injury", "swelling": "rapid", "injury_mechanism": "twisting"},
    {"calf_swelling": True, "onset": "gradual"},
    {"hot_red_joint": True, "fever_unwell": True, "onset": "gradual"},
    {"numb_cold_foot": True},
])
def test_urgent_and_emergency_advice_sends_to_care_not_to_self_care(answers: dict) -> None:
    result = assess(answers, emergency_number="999")
    assert result.triage_level in ("urgent", "emergency")
    text = " ".join(result.advice).lower()
    assert "self-care" not in text and "6 weeks" not in text
    assert "999" in text


def test_routine_advice_ends_with_the_full_safety_net() -> None:
    result = assess({"pain_location": "front", "onset": "gradual", "triggers": ["stairs", "sitting"], "age": 25})
    assert result.triage_level in ("routine", "self_care")
    assert "6 weeks" in result.advice[-1] and "A&E" in result.advice[-1]
