"""A scripted patient for end-to-end tests: answers whatever slot the bot asks, in plain words.

The wording here is the tests' own (the shared phrase bank is for the evaluation tool).
"""

from __future__ import annotations

from typing import Any

from bot.triage import prompt

WORDS: dict[str, dict[Any, str]] = {
    "sex": {"female": "I'm a woman", "male": "I'm a man", "other": "neither really"},
    "pain_location": {
        "front": "at the front, around the kneecap", "below_kneecap": "just below the kneecap",
        "above_kneecap": "just above the kneecap", "inner": "on the inner side", "outer": "on the outer side",
        "back": "at the back of the knee", "whole": "all over the knee",
    },
    "onset": {"injury": "I injured it", "gradual": "it came on gradually"},
    "injury_mechanism": {
        "twisting": "I twisted it", "direct_blow": "something hit it hard", "landing": "I landed badly",
        "fall": "I fell over", "kneecap_shifted": "my kneecap slipped out of place", "none": "there was no injury",
    },
    "swelling": {
        "none": "no swelling", "rapid": "it swelled up straight away", "delayed": "it swelled up the next day",
        "front_of_kneecap": "there's a soft swelling on the kneecap", "back_of_knee": "swelling at the back",
        "comes_and_goes": "the swelling comes and goes",
    },
    "triggers": {
        "stairs": "stairs", "downhill": "going downhill", "sitting": "sitting for a long time",
        "squatting": "squatting", "kneeling": "kneeling", "running": "running", "jumping": "jumping",
        "twisting": "twisting", "cycling": "cycling", "walking": "walking", "rest_or_night": "at night",
    },
    "morning_stiffness": {"none": "not stiff in the morning", "short": "stiff for a few minutes",
                          "long": "stiff for over an hour"},
}


def reply(slot: str, facts: dict[str, Any]) -> str:
    if slot == "read_back":  # the summary before the result: the scripted patient's facts are what it said
        return "yes that's right"
    if slot == "red_flags":
        present = [k for k, v in facts.items() if v is True and k in RED_FLAG_WORDS]
        return " and ".join(RED_FLAG_WORDS[k] for k in present) if present else "none of those"
    value = facts.get(slot)
    if value is None:
        return "not sure"
    if isinstance(value, bool):  # answered as the question is worded ("Can you walk 4 steps?" - "no")
        return "yes" if value == prompt(slot).yes_means else "no"
    if slot == "triggers":
        return " and ".join(WORDS["triggers"][t] for t in value) or "nothing in particular"
    if slot == "age":
        return f"I'm {value}"
    if slot == "pain_score":
        return f"{value} out of 10"
    if slot == "duration_weeks":
        return f"{round(value * 7)} days" if value < 2 else f"{round(value)} weeks"
    return WORDS[slot][value]


RED_FLAG_WORDS = {
    "cannot_bear_weight": "I can't put weight on it",
    "hot_red_joint": "it's hot and red",
    "fever_unwell": "I have a fever",
    "calf_swelling": "my calf is swollen",
    "numb_cold_foot": "my foot is numb",
    "deformity": "it looks deformed",
    "cannot_straighten_leg": "I can't lift my leg straight",
    "night_pain_weight_loss": "it hurts all night and I've lost weight",
    "limp_hip_pain": "I'm limping",
    "cannot_bend_knee": "I can't bend it",
}
