"""The clinical safety review's findings (issue 8), one test each, and a content check over many results.

Each finding was seen by running the engine on a case; these run the same kind of case. Wording and
flow findings are also checked through the REST channel in tests/test_clinical_safety_chat.py.
"""

from __future__ import annotations

import random
import re

import pytest
import textstat

from bot.dialogue import read_message
from bot.nlu.extractor import answer, extract
from bot.triage import assess, next_question, prompt
from bot.triage.knowledge import knowledge
from bot.triage.vocabulary import ANSWERS, LEVELS, RED_FLAG_CHECKLIST, RED_FLAG_KEYS

NO_FLAGS = dict.fromkeys(RED_FLAG_KEYS, False)
GRADUAL = {**NO_FLAGS, "age": 40, "onset": "gradual", "pain_location": "front", "swelling": "none",
           "triggers": ["stairs"], "locking": False}
INJURY = {**NO_FLAGS, "age": 30, "onset": "injury", "injury_mechanism": "twisting", "pain_location": "inner",
          "swelling": "delayed", "triggers": ["twisting"], "locking": False}
ALL_CONDITION_ADVICE = {item.text for c in knowledge().conditions for item in c.advice}
# Exercise or loading advice ("no exercise or sport" in the protect-it text is the opposite).
LOADING = re.compile(r"(?<!no )\b(exercis\w*|strengthen\w*|squats?|wall sits?|jump\w*|load\w*|build (it )?(back )?up|"
                     r"return to|keep (gently )?active|stretch\w*|keep moving)\b", re.I)


def fill(result) -> list[str]:
    return [text.replace("{emergency_number}", "999") for text in result.advice]


# --- 1. the inverted question ---------------------------------------------------------------

@pytest.mark.parametrize("reply,cannot", [("no", True), ("No, I can't", True), ("nope", True), ("yes", False),
                                          ("yes I can", False), ("I can lift it fine", False)])
def test_a_plain_no_to_can_you_lift_your_leg_is_the_red_flag(reply: str, cannot: bool) -> None:
    assert answer("cannot_straighten_leg", reply) is cannot
    assert read_message(reply, [], "cannot_straighten_leg", {})["cannot_straighten_leg"] is cannot


@pytest.mark.parametrize("key", ["cannot_bear_weight", "cannot_straighten_leg", "cannot_bend_knee"])
def test_can_you_questions_store_the_red_flag_on_no(key: str) -> None:
    question = prompt(key)
    assert question.text.startswith(("Can you", "Sitting down, can you", "Since the injury, can you"))
    assert question.yes_means is False
    titles = dict(question.buttons)
    assert titles["Yes, I can"] is False and titles["No, I can't"] is True


# --- 2. onset: a sudden hot swollen knee without an injury ------------------------------------

def test_onset_question_asks_about_an_injury_not_a_moment() -> None:
    question = prompt("onset")
    assert "injury" in question.text and "moment" not in question.text
    assert dict(question.buttons)["No, there was no injury"] == "gradual"
    assert answer("onset", "no") == "gradual"
    assert answer("onset", "suddenly, but I did not hurt it") != "injury"


def test_a_sudden_hot_swollen_knee_without_injury_is_an_emergency() -> None:
    result = assess({**GRADUAL, "hot_red_joint": True, "swelling": "delayed"})
    assert result.triage_level == "emergency" and "septic_arthritis" in result.red_flags


# --- 3. the safety net matches the levels (two tiers) -----------------------------------------

@pytest.mark.parametrize("level", ["soon", "routine", "self_care"])
def test_same_day_problems_are_not_sent_to_999(level: str) -> None:
    net = knowledge().safety_nets[level]
    emergency_part, same_day_part = net.split("Get seen the same day", 1)
    assert "A&E now" in emergency_part and "fever" in emergency_part and "out of shape" in emergency_part
    for sign in ("swells up fast", "stuck", "weight on it", "calf"):
        assert sign in same_day_part and sign not in emergency_part
    assert "6 weeks" in same_day_part


def test_a_locked_knee_gets_one_route() -> None:
    result = assess({**GRADUAL, "locking": True}, emergency_number="999")
    assert result.triage_level == "urgent"
    text = " ".join(result.advice)
    assert "today" in text and "Call 999 or go to A&E" not in text


# --- 4. no exercise advice next to an urgent or emergency rule --------------------------------

@pytest.mark.parametrize("answers", [
    {**INJURY, "cannot_straighten_leg": True},                       # extensor rupture
    {**GRADUAL, "cannot_straighten_leg": True, "pain_location": "above_kneecap"},
    {**GRADUAL, "age": 5, "fever_unwell": True, "cannot_bear_weight": True},
    {**INJURY, "swelling": "rapid", "injury_mechanism": "landing", "heard_pop": True},
    {**GRADUAL, "age": 12, "limp_hip_pain": True, "pain_location": "below_kneecap", "triggers": ["jumping"]},
])
def test_urgent_and_emergency_results_give_no_loading_advice(answers: dict) -> None:
    result = assess(answers, emergency_number="999")
    assert result.triage_level in ("urgent", "emergency")
    advice = fill(result)
    assert not set(advice) & ALL_CONDITION_ADVICE
    assert not [a for a in advice if LOADING.search(a)], advice
    assert knowledge().until_seen in result.advice


def test_a_five_year_old_with_fever_who_cannot_walk_goes_to_a_and_e() -> None:
    result = assess({**GRADUAL, "age": 5, "fever_unwell": True, "cannot_bear_weight": True})
    assert result.triage_level == "emergency"
    assert result.urgent_instruction.startswith("Take your child to A&E now")


# --- 6. the missing screens -------------------------------------------------------------------

@pytest.mark.parametrize("answers,level,rule", [
    ({**GRADUAL, "swelling": "delayed", "recent_surgery": True}, "emergency", "infection_after_surgery"),
    ({**GRADUAL, "hot_red_joint": True, "swelling": "front_of_kneecap", "recent_surgery": True}, "emergency",
     "infection_after_surgery"),
    ({**INJURY, "swelling": "rapid", "anticoagulants": True}, "emergency", "bleeding_on_blood_thinners"),
    ({**INJURY, "calf_swelling": True, "pain_score": 9}, "emergency", "compartment_syndrome"),
    ({**INJURY, "injury_mechanism": "kneecap_shifted", "duration_weeks": 0.3}, "urgent", "kneecap_went_back"),
])
def test_missing_screens_are_rules(answers: dict, level: str, rule: str) -> None:
    result = assess(answers)
    assert result.triage_level == level and rule in result.fired_rules


def test_screens_stay_quiet_without_their_answer() -> None:
    no_operation = assess({**GRADUAL, "swelling": "delayed", "recent_surgery": False})
    assert "infection_after_surgery" not in no_operation.fired_rules
    assert assess({**INJURY, "swelling": "rapid", "anticoagulants": False}).triage_level == "urgent"
    assert assess({**INJURY, "calf_swelling": True, "pain_score": 4}).triage_level == "urgent"


def test_surgery_and_blood_thinners_are_asked_only_when_relevant() -> None:
    assert next_question({**GRADUAL, "clicking": False, "training_change": False}) not in (
        "recent_surgery", "anticoagulants")
    swollen = {**GRADUAL, "clicking": False, "training_change": False, "swelling": "delayed"}
    assert next_question(swollen) == "recent_surgery"
    bleed = {**INJURY, "clicking": False, "training_change": False, "swelling": "rapid", "recent_surgery": False}
    assert next_question(bleed) == "anticoagulants"


# --- 7. "hot" without "red" ------------------------------------------------------------------

def test_a_hot_knee_that_is_not_visibly_red_counts() -> None:
    assert "darker" in prompt("hot_red_joint").text and "hot" in prompt("hot_red_joint").text
    for text in ("my knee is hot", "it feels warm to the touch", "the knee looks darker than usual"):
        assert extract(text).get("hot_red_joint") is True, text
    assert answer("hot_red_joint", "it feels warmer than the other knee") is True


# --- medium findings ---------------------------------------------------------------------------

@pytest.mark.parametrize("mechanism", ["twisting", "landing", "none"])
def test_ottawa_counts_any_injury_at_55_and_over(mechanism: str) -> None:
    result = assess({**INJURY, "age": 60, "injury_mechanism": mechanism})
    assert result.triage_level == "urgent" and "fracture" in result.red_flags


def test_ottawa_counts_a_knee_that_cannot_bend_to_90_degrees() -> None:
    assert "fracture" in assess({**INJURY, "cannot_bend_knee": True}).red_flags
    checklist = prompt(RED_FLAG_CHECKLIST, {"onset": "injury"}).text
    assert "you cannot bend the knee to a right angle" in checklist and "even with a limp" in checklist


def test_locking_asks_about_now_not_catching() -> None:
    text = prompt("locking").text
    assert "now" in text and "ever" not in text
    assert "catch" in prompt("clicking").text


def test_inflammatory_arthritis_sees_a_gp_within_3_working_days() -> None:
    result = assess({**GRADUAL, "pain_location": "whole", "morning_stiffness": "long", "swelling": "comes_and_goes",
                     "triggers": ["rest_or_night"]})
    assert result.top_condition == "inflammatory_arthritis" and result.triage_level == "soon"
    assert "3 working days" in result.level_text and "2 weeks" not in result.level_text


def test_growing_children_are_told_knee_pain_can_come_from_the_hip() -> None:
    child = assess({**GRADUAL, "age": 13, "triggers": ["jumping", "kneeling"], "pain_location": "below_kneecap"})
    assert any("come from the hip" in a for a in child.advice)
    assert not any("come from the hip" in a for a in assess(GRADUAL).advice)


def test_self_limiting_advice_does_not_read_as_a_diagnosis() -> None:
    texts = [*ALL_CONDITION_ADVICE, *knowledge().level_texts.values()]
    assert not [t for t in texts if re.search(r"^(this|it) (is|usually)\b|settles by itself", t, re.I)]


def test_the_long_wait_advice_has_no_blanket_do_not_eat() -> None:
    assert not any("eat or drink" in text for text in knowledge().level_texts.values())


def test_long_standing_tingling_is_not_asked_as_an_emergency_sign() -> None:
    assert "since this started" in prompt("numb_cold_foot").text.lower()
    assert "since this started" in knowledge().questions[RED_FLAG_CHECKLIST].items["numb_cold_foot"]


def test_meniscal_advice_fits_the_kind_of_tear() -> None:
    young = assess({**INJURY, "age": 24, "clicking": True, "pain_score": 5, "duration_weeks": 1})
    old = assess({**GRADUAL, "age": 45, "pain_location": "inner", "triggers": ["squatting", "twisting"],
                  "clicking": True, "swelling": "delayed", "giving_way": True, "recent_surgery": False})
    assert young.top_condition == old.top_condition == "meniscal_tear"
    assert any("repaired" in a for a in young.advice) and not any("normal wear" in a for a in young.advice)
    assert any("normal wear" in a for a in old.advice) and not any("repaired" in a for a in old.advice)


def test_osteoarthritis_advice_says_no_x_ray_or_washout_needed() -> None:
    oa = [item.text for item in knowledge().condition("knee_osteoarthritis").advice]
    assert any("X-ray" in t and "keyhole" in t for t in oa)


def test_dvt_advice_names_breathlessness_and_coughing_blood() -> None:
    result = assess({**GRADUAL, "calf_swelling": True}, emergency_number="999")
    assert "cough up blood" in result.urgent_instruction and "999" in result.urgent_instruction


# --- plain words ------------------------------------------------------------------------------

@pytest.mark.parametrize("key", [*ANSWERS, RED_FLAG_CHECKLIST])
def test_questions_are_plain_words(key: str) -> None:
    """Reading age about 9 to 11 (Flesch-Kincaid grade 6 or below); names in brackets left out."""
    text = re.sub(r"\([^)]*\)", "", knowledge().questions[key].text)
    assert textstat.flesch_kincaid_grade(text) <= 6, text


@pytest.mark.parametrize("key", ["age", "sex", "fever_unwell", "night_pain_weight_loss", "limp_hip_pain",
                                 "recent_surgery", RED_FLAG_CHECKLIST])
def test_questions_a_parent_may_answer_say_or_your_child(key: str) -> None:
    assert "your child" in knowledge().questions[key].text


# --- the clinical-content check over many results -----------------------------------------------

def random_answers(rng: random.Random) -> dict:
    answers: dict = {}
    for key, spec in ANSWERS.items():
        if rng.random() < 0.4:
            continue
        if spec.kind == "bool":
            answers[key] = rng.random() < (0.15 if spec.red_flag else 0.5)
        elif spec.kind == "cat":
            answers[key] = rng.choice(spec.values)
        elif spec.kind == "list":
            answers[key] = rng.sample(spec.values, rng.randint(0, 3))
        elif key == "age":
            answers[key] = rng.choice([5, 9, 13, 16, 25, 45, 55, 70, 90])
        elif key == "pain_score":
            answers[key] = rng.randint(0, 10)
        else:
            answers[key] = rng.choice([0.1, 1, 4, 8, 26, 400])
    return answers


SENTENCE = re.compile(r"[^.!?]+[.!?]?")


def content_problems(result) -> list[str]:
    """What a clinical safety officer would reject in one result's texts."""
    problems = []
    level = result.triage_level
    advice = fill(result)
    if LEVELS.index(level) <= LEVELS.index("urgent"):
        problems += [f"loading advice at {level}: {a}" for a in advice
                     if LOADING.search(a) or a in ALL_CONDITION_ADVICE]
    for text in advice:
        for sentence in SENTENCE.findall(text):
            if level != "emergency" and "999" in sentence and " if " not in f" {sentence.lower()} ":
                problems.append(f"unconditional 999 at {level}: {sentence}")
            if level != "emergency" and sentence.strip().startswith("Go to A&E now") and " if " not in sentence:
                problems.append(f"unconditional A&E at {level}: {sentence}")
            if "999" in sentence and re.search(r"swells up fast|stuck|put weight|calf", sentence) \
                    and "breath" not in sentence:
                problems.append(f"a same-day sign sent to 999: {sentence}")
    if level == "emergency" and "A&E" not in advice[0] and "999" not in advice[0]:
        problems.append("an emergency result that does not start with the emergency route")
    if not any("6 weeks" in a or "A&E" in a for a in advice[-2:]):
        problems.append("no safety net")
    return problems


def test_clinical_content_check_catches_a_bad_result() -> None:
    """The check itself can fail: an urgent result with exercise advice and a bare 999 is caught."""
    result = assess({**GRADUAL, "locking": True})
    result.advice = [*result.advice, "Start wall sits now.", "Call {emergency_number} or go to A&E now."]
    assert len(content_problems(result)) >= 2


def test_clinical_content_of_many_results() -> None:
    rng = random.Random(8)
    checked = {level: 0 for level in LEVELS}
    for _ in range(3000):
        result = assess(random_answers(rng))
        checked[result.triage_level] += 1
        assert not content_problems(result), (result.fired_rules, content_problems(result))
    assert all(checked.values()), checked  # every level was produced and checked
