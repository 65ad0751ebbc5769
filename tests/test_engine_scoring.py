"""Condition ranking: every condition reachable, sane responses to evidence, the Assessment shape."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.triage import assess  # noqa: E402
from bot.triage.engine import condition_level  # noqa: E402
from bot.triage.knowledge import knowledge  # noqa: E402
from bot.triage.vocabulary import CONDITIONS, LEVELS, RED_FLAG_KEYS, AnswerError, normalise  # noqa: E402

DATA = Path(__file__).with_name("data")
NO_FLAGS = {k: False for k in RED_FLAG_KEYS}
TYPICAL: dict[str, dict] = yaml.safe_load((DATA / "typical-cases.yml").read_text())


def typical(cid: str, **changes) -> dict:
    return {**NO_FLAGS, **TYPICAL[cid], **changes}


def score(answers: dict, cid: str) -> float:
    return dict(assess(answers).conditions)[cid]


def test_typical_cases_cover_every_condition():
    assert set(TYPICAL) == set(CONDITIONS)


@pytest.mark.parametrize("cid", CONDITIONS)
def test_every_condition_is_reachable_as_top_1(cid):
    result = assess(typical(cid))
    assert result.top_condition == cid, result.conditions[:3]
    assert result.ranking()[0] == cid  # no red flag in a typical case


class TestRankingSanity:
    def test_all_conditions_ranked_best_first_summing_to_one(self):
        result = assess(typical("knee_osteoarthritis"))
        ids = [cid for cid, _ in result.conditions]
        scores = [s for _, s in result.conditions]
        assert sorted(ids) == sorted(CONDITIONS)
        assert scores == sorted(scores, reverse=True)
        assert sum(scores) == pytest.approx(1.0)

    def test_no_answers_gives_the_base_rates(self):
        result = assess({})
        rates = {c.id: c.base_rate for c in knowledge().conditions}
        assert result.top_condition == max(rates, key=rates.get)
        assert result.triage_level in LEVELS

    @pytest.mark.parametrize("cid,key,value", [
        ("prepatellar_bursitis", "swelling", "front_of_kneecap"),
        ("acl_injury", "heard_pop", True),
        ("acl_injury", "giving_way", True),
        ("meniscal_tear", "locking", True),
        ("referred_hip_pain", "limp_hip_pain", True),
        ("inflammatory_arthritis", "morning_stiffness", "long"),
        ("itb_syndrome", "pain_location", "outer"),
        ("bakers_cyst", "swelling", "back_of_knee"),
        ("osgood_schlatter", "age", 13),
        ("knee_osteoarthritis", "age", 70),
        ("patellar_instability", "injury_mechanism", "kneecap_shifted"),
    ])
    def test_a_typical_feature_raises_its_condition(self, cid, key, value):
        base = {"onset": "injury"} if key == "injury_mechanism" else {}
        assert score({**base, key: value}, cid) > score(base, cid)

    @pytest.mark.parametrize("trigger,cid", [
        ("kneeling", "prepatellar_bursitis"), ("jumping", "patellar_tendinopathy"), ("downhill", "itb_syndrome"),
        ("sitting", "patellofemoral_pain"), ("rest_or_night", "inflammatory_arthritis"),
    ])
    def test_listing_a_trigger_raises_its_conditions(self, trigger, cid):
        base = {"triggers": ["stairs"]}
        assert score({"triggers": ["stairs", trigger]}, cid) > score(base, cid)

    def test_an_unlisted_trigger_counts_only_weakly_against(self):
        # Listing "running" helps ITB syndrome more than leaving it out hurts it.
        neutral = score({}, "itb_syndrome")
        listed = score({"triggers": ["running"]}, "itb_syndrome")
        unlisted = score({"triggers": ["stairs"]}, "itb_syndrome")
        assert listed / neutral > neutral / unlisted > 1

    def test_unknown_is_the_same_as_absent(self):
        answers = typical("meniscal_tear")
        with_unknown = {**answers, "heard_pop": "unknown", "morning_stiffness": "unknown", "age": "unknown"}
        without = {k: v for k, v in answers.items() if k not in ("heard_pop", "morning_stiffness", "age")}
        assert assess(with_unknown).conditions == assess(without).conditions

    def test_injury_details_do_not_count_without_an_injury(self):
        answers = typical("patellofemoral_pain")
        assert assess({**answers, "injury_mechanism": "twisting", "heard_pop": True}).conditions == \
            assess(answers).conditions

    def test_red_flag_answers_are_evidence_too(self):
        assert score({"calf_swelling": True}, "bakers_cyst") > score({}, "bakers_cyst")


class TestLevels:
    def test_mild_brief_overuse_is_self_care(self):
        answers = typical("patellofemoral_pain", pain_score=3, duration_weeks=3)
        assert assess(answers).triage_level == "self_care"
        assert assess({**answers, "pain_score": 6}).triage_level == "routine"
        assert assess({**answers, "duration_weeks": 10}).triage_level == "routine"

    def test_missing_answers_keep_the_usual_level(self):
        assert assess(typical("patellofemoral_pain", pain_score=3)).triage_level == "routine"

    def test_meniscal_tear_soon_after_injury_routine_if_gradual(self):
        assert assess(typical("meniscal_tear")).triage_level == "soon"
        meniscus = knowledge().condition("meniscal_tear")
        degenerative = normalise(typical("meniscal_tear", onset="gradual", age=58, swelling="comes_and_goes"))
        assert condition_level(meniscus, degenerative) == "soon"  # locking not yet known: keep the usual level
        assert condition_level(meniscus, {**degenerative, "locking": False}) == "routine"

    def test_old_acl_injury_is_not_same_day(self):
        assert assess(typical("acl_injury", swelling="delayed")).triage_level == "urgent"
        assert assess(typical("acl_injury", swelling="delayed", duration_weeks=20)).triage_level == "soon"

    def test_referred_hip_pain_in_a_child_is_urgent(self):
        hip = knowledge().condition("referred_hip_pain")
        assert condition_level(hip, {"age": 10}) == "urgent"
        assert condition_level(hip, {"age": 62}) == "routine"

    def test_a_close_more_urgent_rival_raises_the_level(self):
        kb = knowledge()
        answers = {"pain_location": "inner", "onset": "injury"}  # meniscus vs side ligament vs ACL
        result = assess(answers)
        (top, p1), (second, p2) = result.conditions[:2]
        assert p2 >= kb.settings.competing_ratio * p1
        levels = [kb.condition(cid).level for cid, p in result.conditions if p >= kb.settings.competing_ratio * p1]
        assert result.triage_level == min(levels, key=LEVELS.index)


class TestAssessment:
    def test_json_shape(self):
        out = assess(typical("itb_syndrome")).to_json()
        assert list(out) == ["triage_level", "conditions", "red_flags", "advice", "reasons"]
        assert out["triage_level"] in LEVELS
        assert len(out["conditions"]) == 17 and all(set(c) == {"id", "score"} for c in out["conditions"])
        assert all(isinstance(c["score"], float) for c in out["conditions"])
        assert out["red_flags"] == []
        assert all(isinstance(a, str) and a for a in out["advice"] + out["reasons"])

    def test_advice_has_level_text_condition_advice_and_safety_net(self):
        kb = knowledge()
        result = assess(typical("itb_syndrome"))
        assert result.advice[0] == kb.level_texts[result.triage_level] == result.level_text
        assert {item.text for item in kb.condition("itb_syndrome").advice} <= set(result.advice)
        assert result.advice[-1] == kb.safety_nets[result.triage_level]
        assert result.urgent_instruction is None

    def test_emergency_number_placeholder(self):
        assert any("{emergency_number}" in a for a in assess({}).advice)
        filled = assess({}, emergency_number="112")
        assert not any("{emergency_number}" in a for a in filled.advice)
        assert any("112" in a for a in filled.advice)

    def test_reasons_explain_the_top_condition(self):
        result = assess(typical("patellofemoral_pain"))
        assert "your pain is at the front of the knee, around or behind the kneecap" in result.reasons
        assert len(result.reasons) <= knowledge().settings.max_reasons

    def test_red_flag_reasons_come_first(self):
        result = assess({**typical("knee_osteoarthritis"), "calf_swelling": True})
        assert result.red_flags == ["dvt"] and result.reasons[0] == "your calf is painful, swollen, warm or red"
        assert result.ranking()[:1] == ["dvt"] and result.names["dvt"]

    def test_names_and_explanation(self):
        result = assess(typical("patellofemoral_pain"))
        assert result.names["patellofemoral_pain"] == "runner's knee (patellofemoral pain)"
        assert set(result.names) == set(CONDITIONS)
        assert result.explanation

    @pytest.mark.parametrize("answers", [[], "x", {"colour": "red"}, {"onset": "sudden"}, {"age": 3},
                                         {"triggers": ["flying"]}, {"locking": "yes"}])
    def test_bad_answers_raise(self, answers):
        with pytest.raises(AnswerError):
            assess(answers)
