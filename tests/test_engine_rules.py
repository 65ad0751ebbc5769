"""The `when` rule language and every red-flag rule (shared/spec/triage.md section 4)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.triage.engine import assess, suggested_level  # noqa: E402
from bot.triage.knowledge import knowledge  # noqa: E402
from bot.triage.rules import RuleError, check_when, evaluate, keys_of  # noqa: E402
from bot.triage.scoring import posterior, ranked  # noqa: E402
from bot.triage.vocabulary import LEVELS, RED_FLAG_KEYS, normalise  # noqa: E402

NO_FLAGS = {k: False for k in RED_FLAG_KEYS}

# A benign adult knee with every red flag answered "no"; each test changes what it needs.
INJURY = {**NO_FLAGS, "age": 30, "sex": "male", "pain_location": "inner", "onset": "injury",
          "injury_mechanism": "twisting", "heard_pop": False, "swelling": "delayed", "triggers": ["twisting"],
          "clicking": False, "locking": False, "giving_way": False, "training_change": False,
          "morning_stiffness": "none", "duration_weeks": 1, "pain_score": 5}
GRADUAL = {**NO_FLAGS, "age": 40, "sex": "female", "pain_location": "front", "onset": "gradual",
           "injury_mechanism": "none", "heard_pop": False, "swelling": "none", "triggers": ["stairs"],
           "clicking": False, "locking": False, "giving_way": False, "training_change": False,
           "morning_stiffness": "none", "duration_weeks": 8, "pain_score": 5}


def with_(base: dict, **changes) -> dict:
    return {**base, **changes}


def more_urgent_or_same(a: str, b: str) -> bool:
    return LEVELS.index(a) <= LEVELS.index(b)


# --- the rule language ------------------------------------------------------------------


class TestWhenLanguage:
    def test_equals_and_three_valued_logic(self):
        assert evaluate({"onset": "injury"}, {"onset": "injury"}).value is True
        assert evaluate({"onset": "injury"}, {"onset": "gradual"}).value is False
        absent = evaluate({"onset": "injury"}, {})
        assert absent.value is None and absent.missing == {"onset"}
        unsure = evaluate({"onset": "injury"}, {"onset": "unknown"})
        assert unsure.value is None and not unsure.missing  # "unknown" cannot be asked again

    def test_tests(self):
        answers = normalise({"swelling": "rapid", "age": 12, "triggers": ["stairs", "running"]})
        assert evaluate({"swelling": {"one_of": ["rapid", "delayed"]}}, answers).value is True
        assert evaluate({"swelling": {"not": "rapid"}}, answers).value is False
        assert evaluate({"swelling": {"not_one_of": ["none", "delayed"]}}, answers).value is True
        assert evaluate({"age": {"min": 8, "max": 16}}, answers).value is True
        assert evaluate({"age": {"min": 13}}, answers).value is False
        assert evaluate({"triggers": "running"}, answers).value is True  # list: is listed
        assert evaluate({"triggers": {"not": "kneeling"}}, answers).value is True

    def test_combinators(self):
        answers = {"onset": "injury", "locking": True}
        assert evaluate({"all": [{"onset": "injury"}, {"locking": True}]}, answers).value is True
        assert evaluate({"any": [{"onset": "gradual"}, {"locking": True}]}, answers).value is True
        assert evaluate({"not": {"onset": "injury"}}, answers).value is False
        # False beats undecided in all; True beats undecided in any
        assert evaluate({"onset": "gradual", "age": {"min": 55}}, answers).value is False
        assert evaluate({"any": [{"locking": True}, {"age": {"min": 55}}]}, answers).value is True
        partial = evaluate({"any": [{"onset": "gradual"}, {"age": {"min": 55}}]}, answers)
        assert partial.value is None and partial.missing == {"age"}

    def test_bool_never_equals_number(self):
        assert evaluate({"locking": True}, {"locking": 1}).value is False

    def test_engaged_only_by_a_true_red_flag(self):
        assert evaluate({"hot_red_joint": True, "fever_unwell": True}, {"hot_red_joint": True}).engaged
        assert not evaluate({"onset": "injury", "swelling": "rapid"}, {"onset": "injury"}).engaged

    def test_keys_of(self):
        when = {"onset": "injury", "any": [{"age": {"min": 55}}, {"cannot_bear_weight": True}]}
        assert keys_of(when) == ["onset", "age", "cannot_bear_weight"]

    @pytest.mark.parametrize("when", [
        {}, {"colour": "red"}, {"onset": "sudden"}, {"age": {"min": "old"}}, {"onset": {"min": 3}},
        {"locking": "yes"}, {"swelling": {"one_of": []}}, {"any": []}, {"all": "onset"}, {"age": {"between": 3}},
        "onset",
    ])
    def test_invalid_conditions_are_rejected(self, when):
        with pytest.raises(RuleError):
            check_when(when)


# --- each red-flag rule -----------------------------------------------------------------


def fired(answers: dict) -> list[str]:
    return assess(answers).fired_rules


class TestRedFlagRules:
    def test_septic_hot_and_fever(self):
        r = assess(with_(INJURY, hot_red_joint=True, fever_unwell=True))
        assert r.triage_level == "emergency" and "septic_arthritis" in r.red_flags
        assert "septic_hot_fever" in r.fired_rules
        assert "septic_hot_fever" not in fired(with_(INJURY, hot_red_joint=True))  # no fever

    def test_septic_hot_without_injury_needs_no_fever(self):
        r = assess(with_(GRADUAL, hot_red_joint=True, swelling="delayed"))
        assert r.triage_level == "emergency" and r.red_flags[0] == "septic_arthritis"
        # after an injury this rule does not apply (the same-day extra rule does)
        after_injury = assess(with_(INJURY, hot_red_joint=True))
        assert "septic_hot_no_injury" not in after_injury.fired_rules
        assert after_injury.triage_level == "urgent"

    def test_prepatellar_hot_beats_septic(self):
        r = assess(with_(GRADUAL, hot_red_joint=True, swelling="front_of_kneecap", triggers=["kneeling"]))
        assert r.triage_level == "urgent"
        assert "septic_arthritis" not in r.red_flags
        assert "prepatellar_hot" in r.fired_rules and "septic_hot_no_injury" not in r.fired_rules
        assert r.top_condition == "prepatellar_bursitis"

    def test_prepatellar_hot_with_fever_is_septic(self):
        r = assess(with_(GRADUAL, hot_red_joint=True, fever_unwell=True, swelling="front_of_kneecap"))
        assert r.triage_level == "emergency" and "septic_arthritis" in r.red_flags
        assert "prepatellar_hot" not in r.fired_rules

    def test_knee_dislocation_deformity_after_injury(self):
        r = assess(with_(INJURY, deformity=True))
        assert r.triage_level == "emergency" and r.red_flags == ["knee_dislocation"]
        gradual = assess(with_(GRADUAL, deformity=True))
        assert "knee_dislocation" not in gradual.red_flags and gradual.triage_level != "emergency"

    def test_numb_cold_foot_is_an_emergency(self):
        for base in (INJURY, GRADUAL):
            r = assess(with_(base, numb_cold_foot=True))
            assert r.triage_level == "emergency" and "knee_dislocation" in r.red_flags

    def test_extensor_rupture_after_injury(self):
        r = assess(with_(INJURY, cannot_straighten_leg=True))
        assert r.triage_level == "emergency" and "extensor_rupture" in r.red_flags
        gradual = assess(with_(GRADUAL, cannot_straighten_leg=True))
        assert "extensor_rupture" not in gradual.red_flags and gradual.triage_level == "urgent"

    def test_fracture_cannot_bear_weight_after_injury(self):
        r = assess(with_(INJURY, cannot_bear_weight=True))
        assert r.triage_level == "emergency" and "fracture" in r.red_flags
        gradual = assess(with_(GRADUAL, cannot_bear_weight=True))
        assert "fracture" not in gradual.red_flags

    # Ottawa knee rule: any injury at 55 or over, not only a fall or a blow
    @pytest.mark.parametrize("age,mechanism,onset,fires", [
        (55, "fall", "injury", True), (80, "direct_blow", "injury", True), (54, "fall", "injury", False),
        (60, "twisting", "injury", True), (70, "landing", "injury", True), (60, "fall", "gradual", False),
    ])
    def test_fracture_ottawa_age(self, age, mechanism, onset, fires):
        r = assess(with_(INJURY, age=age, injury_mechanism=mechanism, onset=onset))
        assert ("fracture" in r.red_flags) is fires
        if fires:
            assert r.triage_level == "urgent"

    def test_dvt(self):
        r = assess(with_(GRADUAL, calf_swelling=True))
        assert r.triage_level == "urgent" and r.red_flags == ["dvt"]

    @pytest.mark.parametrize("age,fires", [(8, True), (12, True), (16, True), (7, False), (17, False)])
    def test_scfe_limp_in_8_to_16(self, age, fires):
        r = assess(with_(GRADUAL, age=age, limp_hip_pain=True))
        assert ("scfe" in r.red_flags) is fires
        if fires:
            assert r.triage_level == "urgent"

    def test_scfe_cannot_bear_weight_is_an_emergency(self):
        r = assess(with_(GRADUAL, age=13, limp_hip_pain=True, cannot_bear_weight=True))
        assert r.triage_level == "emergency" and "scfe" in r.red_flags

    def test_haemarthrosis(self):
        r = assess(with_(INJURY, swelling="rapid", heard_pop=True, giving_way=True, pain_location="whole"))
        assert r.triage_level == "urgent" and r.red_flags == []
        assert "haemarthrosis" in r.fired_rules and r.top_condition == "acl_injury"
        assert "haemarthrosis" not in fired(with_(INJURY, swelling="delayed"))

    def test_a_knee_locked_now_is_urgent_with_or_without_injury(self):
        r = assess(with_(INJURY, locking=True))
        assert r.triage_level == "urgent" and "locked_knee" in r.fired_rules
        assert r.top_condition == "meniscal_tear"
        gradual = assess(with_(GRADUAL, locking=True))
        assert gradual.triage_level == "urgent" and "locked_knee" in gradual.fired_rules

    def test_malignancy(self):
        adult = assess(with_(GRADUAL, night_pain_weight_loss=True))
        assert adult.red_flags == ["malignancy"] and more_urgent_or_same(adult.triage_level, "soon")
        child = assess(with_(GRADUAL, age=15, night_pain_weight_loss=True))
        assert child.red_flags == ["malignancy"] and child.triage_level == "urgent"
        assert assess(with_(GRADUAL, age=19, night_pain_weight_loss=True)).triage_level == "soon"

    def test_no_red_flags_no_rules(self):
        assert assess(GRADUAL).fired_rules == [] and assess(INJURY).fired_rules == []

    def test_every_rule_is_exercised(self):
        """Guard: a rule added to red_flags.yml should get a test here too."""
        covered = {"septic_hot_fever", "septic_hot_no_injury", "prepatellar_hot", "dislocation_deformity",
                   "dislocation_foot", "extensor_rupture", "fracture_cannot_bear_weight", "fracture_ottawa_age",
                   "dvt_calf", "scfe_limp", "scfe_cannot_bear_weight", "haemarthrosis", "locked_knee",
                   "malignancy", "malignancy_young", "hot_joint_after_injury", "fever_swollen_knee",
                   "fever_kneecap_lump", "cannot_bear_weight_no_injury", "cannot_straighten_no_injury",
                   "young_child_limp", "deformity_no_injury",
                   # tests/test_clinical_safety.py
                   "fracture_ottawa_flexion", "infection_after_surgery", "bleeding_on_blood_thinners",
                   "compartment_syndrome", "kneecap_went_back", "child_fever_will_not_use_leg"}
        assert {r.id for r in knowledge().rules} == covered


class TestExtraRules:
    def test_fever_with_a_swollen_knee(self):
        r = assess(with_(GRADUAL, fever_unwell=True, swelling="comes_and_goes"))
        assert r.triage_level == "urgent" and "septic_arthritis" in r.red_flags
        assert "fever_kneecap_lump" in fired(with_(GRADUAL, fever_unwell=True, swelling="front_of_kneecap"))

    def test_cannot_bear_weight_without_injury(self):
        assert assess(with_(GRADUAL, cannot_bear_weight=True)).triage_level == "urgent"

    def test_young_child_with_a_limp(self):
        r = assess(with_(GRADUAL, age=6, limp_hip_pain=True))
        assert r.triage_level == "urgent" and "scfe" not in r.red_flags

    def test_deformity_without_injury(self):
        assert assess(with_(GRADUAL, deformity=True)).triage_level == "soon"


class TestSafety:
    def test_red_flags_never_lower_a_level(self):
        # An acute ACL-type injury is urgent on its own; a "soon" red flag must not lower it.
        acl = with_(INJURY, heard_pop=True, giving_way=True, pain_location="whole", injury_mechanism="landing")
        assert assess(acl).triage_level == "urgent"
        assert assess(with_(acl, night_pain_weight_loss=True)).triage_level == "urgent"

    @pytest.mark.parametrize("flag", RED_FLAG_KEYS)
    @pytest.mark.parametrize("base", [INJURY, GRADUAL], ids=["injury", "gradual"])
    def test_level_is_at_least_the_conditions_and_every_fired_rule(self, flag, base):
        answers = with_(base, **{flag: True})
        r = assess(answers)
        clean = normalise(answers)
        assert more_urgent_or_same(r.triage_level, suggested_level(clean, ranked(posterior(clean)), knowledge()))
        for rule in knowledge().rules:
            if rule.id in r.fired_rules:
                assert more_urgent_or_same(r.triage_level, rule.level)

    def test_unsure_answers_fire_red_flag_rules(self):
        # cannot bear weight, not sure about an injury: act as if there was one
        r = assess({"cannot_bear_weight": True, "onset": "unknown"})
        assert r.triage_level == "emergency" and "fracture" in r.red_flags
        r = assess({**NO_FLAGS, "hot_red_joint": True, "onset": "unknown", "swelling": "unknown"})
        assert r.triage_level == "emergency" and "septic_arthritis" in r.red_flags

    def test_no_red_flag_answers_fire_nothing(self):
        assert assess({"pain_location": "front"}).fired_rules == []

    def test_emergency_gives_no_self_care_advice(self):
        r = assess(with_(INJURY, numb_cold_foot=True), emergency_number="999")
        top_advice = knowledge().condition(r.top_condition).advice
        assert not set(top_advice) & set(r.advice)
        assert r.urgent_instruction and "999" in r.urgent_instruction and r.advice[0] == r.urgent_instruction
