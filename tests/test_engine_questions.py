"""next_question: what to ask, when to stop, and the question wording."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.triage import assess, explain_question, next_question, prompt  # noqa: E402
from bot.triage.knowledge import knowledge  # noqa: E402
from bot.triage.questions import questions_used  # noqa: E402
from bot.triage.vocabulary import ANSWERS, RED_FLAG_CHECKLIST, RED_FLAG_KEYS, AnswerError  # noqa: E402

DATA = Path(__file__).with_name("data")
NO_FLAGS = {k: False for k in RED_FLAG_KEYS}
ALWAYS = knowledge().settings.always_ask


def vignettes() -> list[dict]:
    return [v for name in ("vignettes-own.yml", "vignettes-dev.yml") for v in yaml.safe_load((DATA / name).read_text())]


def simulate(facts: dict, opening: tuple[str, ...] = ()) -> tuple[dict, list[str]]:
    """A patient who answers every question from the facts ("unknown" when not in them)."""
    answers = {k: facts[k] for k in opening}
    asked: list[str] = []
    for _ in range(40):
        key = next_question(answers)
        if key is None:
            return answers, asked
        assert key not in asked, f"asked {key} twice"
        asked.append(key)
        if key == RED_FLAG_CHECKLIST:
            for flag in RED_FLAG_KEYS:
                answers.setdefault(flag, facts.get(flag, "unknown"))
        else:
            assert key not in answers, f"{key} was already answered"
            answers[key] = facts.get(key, "unknown")
    raise AssertionError("the conversation did not end")


CASES = vignettes()
IDS = [v["id"] for v in CASES]


def test_starts_with_the_always_asked_keys():
    assert next_question({}) == ALWAYS[0]
    assert next_question({ALWAYS[0]: "gradual"}) == ALWAYS[1]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_simulated_conversation(case):
    facts = case["facts"]
    answers, asked = simulate(facts)
    result = assess(answers)
    if result.triage_level != "emergency":
        assert all(flag in answers for flag in RED_FLAG_KEYS), "the red-flag checklist comes before the result"
    if result.triage_level not in ("emergency", "urgent"):
        assert set(ALWAYS) <= set(answers), "the always-asked keys are covered"
    # The budget (10) covers the optional questions; the safety ones a rule needs (a knee locked
    # now, an operation, blood thinners) are asked past it.
    assert len(asked) <= 12, asked
    if facts["onset"] == "gradual":
        assert "injury_mechanism" not in asked and "heard_pop" not in asked
    # the short conversation reaches the same level as the whole truth
    assert result.triage_level == assess(facts).triage_level


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conversation_with_an_opening_message(case):
    facts = case["facts"]
    opening = tuple(k for k in ("pain_location", "onset", "triggers") if k in facts)
    answers, asked = simulate(facts, opening)
    assert not set(asked) & set(opening)
    assert questions_used(answers) <= 12  # the budget of 10, plus the safety questions a rule needs


def test_never_asks_an_unknown_answer_again():
    answers: dict = {}
    for _ in range(40):
        key = next_question(answers)
        if key is None:
            break
        if key == RED_FLAG_CHECKLIST:
            answers.update(NO_FLAGS)
        else:
            assert key not in answers
            answers[key] = "unknown"
    else:
        raise AssertionError("did not finish")
    assert all(flag in answers for flag in RED_FLAG_KEYS)


def test_red_flag_checklist_comes_before_the_result():
    answers = {"pain_location": "front", "onset": "gradual", "age": 20, "triggers": ["stairs", "sitting"],
               "clicking": False, "training_change": True, "pain_score": 6, "duration_weeks": 10}
    assert next_question(answers) == RED_FLAG_CHECKLIST
    # a knee locked now is urgent with or without an injury, so it is always screened
    assert next_question({**answers, **NO_FLAGS}) == "locking"
    assert next_question({**answers, **NO_FLAGS, "locking": False}) is None


@pytest.mark.parametrize("answers", [
    {"numb_cold_foot": True},
    {"onset": "injury", "cannot_bear_weight": True},
    {"onset": "injury", "deformity": True},
    {"hot_red_joint": True, "fever_unwell": True},
    {"cannot_bear_weight": True, "onset": "unknown"},
])
def test_emergency_ends_the_questions_at_once(answers):
    assert next_question(answers) is None


def test_urgent_rule_asks_the_checklist_then_only_what_could_make_it_an_emergency():
    # a painful calf: after an injury it could be compartment syndrome, so that comes first
    assert next_question({"calf_swelling": True}) == "onset"
    assert next_question({"calf_swelling": True, "onset": "gradual"}) == RED_FLAG_CHECKLIST
    calf = {**NO_FLAGS, "calf_swelling": True}
    assert next_question(calf) == "onset"  # after an injury a tense, painful calf is an emergency
    assert next_question({**calf, "onset": "gradual", "swelling": "none"}) is None
    assert next_question({**calf, "onset": "injury", "swelling": "none"}) == "pain_score"
    assert next_question({"onset": "injury", "swelling": "rapid"}) == RED_FLAG_CHECKLIST
    bleed = {**NO_FLAGS, "onset": "injury", "swelling": "rapid", "age": 25}
    assert next_question(bleed) in ("recent_surgery", "anticoagulants")
    assert next_question({**bleed, "recent_surgery": False}) == "anticoagulants"
    assert next_question({**bleed, "recent_surgery": False, "anticoagulants": False}) is None


def test_a_yes_red_flag_asks_what_its_rule_needs():
    assert next_question({"cannot_bear_weight": True}) == "onset"
    assert next_question({"deformity": True}) == "onset"
    # hot knee: the other red flags first (fever?), then injury?, then where it is swollen
    assert next_question({"hot_red_joint": True}) == RED_FLAG_CHECKLIST
    hot = {**NO_FLAGS, "hot_red_joint": True}
    assert next_question(hot) == "onset"
    assert next_question({**hot, "onset": "gradual"}) == "swelling"
    assert next_question({**hot, "onset": "gradual", "swelling": "none"}) is None  # emergency
    # a limping child: the age decides the slipped-hip rule before anything else
    assert next_question({"limp_hip_pain": True, "onset": "gradual"}) == "age"


def test_injury_questions_only_after_an_injury():
    answers = {**NO_FLAGS, "onset": "injury", "pain_location": "inner", "age": 30, "triggers": ["twisting"],
               "clicking": True, "training_change": False}
    seen = []
    for _ in range(10):
        key = next_question(answers)
        if key is None:
            break
        seen.append(key)
        answers[key] = {"swelling": "delayed", "locking": False, "injury_mechanism": "twisting"}.get(key, "unknown")
    assert "swelling" in seen and "locking" in seen  # the haemarthrosis and locked-knee rules need them


def test_stops_once_the_top_condition_is_clear():
    answers = {**NO_FLAGS, "pain_location": "front", "onset": "gradual", "age": 20,
               "triggers": ["stairs", "sitting", "squatting"], "clicking": True, "training_change": True,
               "pain_score": 7, "locking": False}
    assert next_question(answers) is None  # PFP is clear and severe pain settles the level


def test_asks_what_the_level_rule_needs():
    answers = {**NO_FLAGS, "pain_location": "front", "onset": "gradual", "age": 20,
               "triggers": ["stairs", "sitting", "squatting"], "clicking": True, "training_change": True,
               "locking": False}
    assert next_question(answers) in ("pain_score", "duration_weeks")
    assert next_question({**answers, "pain_score": 3}) == "duration_weeks"
    assert next_question({**answers, "pain_score": 3, "duration_weeks": 2}) is None


def test_budget_limits_optional_questions():
    budget = knowledge().settings.question_budget
    answers = {**NO_FLAGS, "onset": "gradual", "pain_location": "whole", "age": 40, "triggers": ["walking"],
               "clicking": False, "training_change": False, "sex": "female", "swelling": "none",
               "morning_stiffness": "none", "locking": False, "giving_way": False}
    assert questions_used(answers) >= budget - 1
    key = next_question(answers)
    assert key is None or key in ("pain_score", "duration_weeks")  # only what the level needs


def test_bad_answers_raise():
    with pytest.raises(AnswerError):
        next_question({"onset": "sudden"})


class TestWording:
    @pytest.mark.parametrize("key", [*ANSWERS, RED_FLAG_CHECKLIST])
    def test_every_question_has_wording_and_a_reason(self, key):
        p = prompt(key)
        assert p.text and p.why == explain_question(key)

    def test_checklist_lists_only_unanswered_flags(self):
        p = prompt(RED_FLAG_CHECKLIST, {"hot_red_joint": False, "calf_swelling": True})
        keys = [k for k, _ in p.items]
        assert "hot_red_joint" not in keys and "calf_swelling" not in keys and "fever_unwell" in keys
        assert p.text.endswith("or none of these") and "a fever" in p.text

    def test_checklist_asks_the_injury_only_flag_only_after_an_injury(self):
        def keys(answers: dict) -> list[str]:
            return [k for k, _ in prompt(RED_FLAG_CHECKLIST, answers).items]

        assert "cannot_bend_knee" not in keys({"onset": "gradual"})
        assert "cannot_bend_knee" in keys({"onset": "injury"})

    def test_buttons_hold_valid_answers(self):
        p = prompt("swelling")
        assert ("No swelling", "none") in p.buttons

    def test_unknown_key(self):
        with pytest.raises(KeyError):
            explain_question("favourite_colour")
