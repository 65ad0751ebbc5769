"""The answer vocabulary fixed by the clinical contract (shared/spec/triage.md, section 1).

Every other module (engine, NLU, dialogue) names answers with these keys and values, so
this is the one place that says what a valid answer is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

UNKNOWN = "unknown"


@dataclass(frozen=True)
class AnswerSpec:
    key: str
    kind: str  # "cat", "bool", "list", "int", "number"
    values: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    red_flag: bool = False


def _cat(key: str, *values: str) -> AnswerSpec:
    return AnswerSpec(key, "cat", values)


def _flag(key: str) -> AnswerSpec:
    return AnswerSpec(key, "bool", red_flag=True)


ANSWERS: dict[str, AnswerSpec] = {
    spec.key: spec
    for spec in (
        AnswerSpec("age", "int", minimum=5, maximum=100),
        _cat("sex", "female", "male", "other"),
        _cat("pain_location", "front", "below_kneecap", "above_kneecap", "inner", "outer", "back", "whole"),
        _cat("onset", "injury", "gradual"),
        _cat("injury_mechanism", "twisting", "direct_blow", "landing", "fall", "kneecap_shifted", "none"),
        AnswerSpec("heard_pop", "bool"),
        _cat("swelling", "none", "rapid", "delayed", "front_of_kneecap", "back_of_knee", "comes_and_goes"),
        AnswerSpec(
            "triggers",
            "list",
            ("stairs", "downhill", "sitting", "squatting", "kneeling", "running", "jumping", "twisting",
             "cycling", "walking", "rest_or_night"),
        ),
        AnswerSpec("clicking", "bool"),
        AnswerSpec("locking", "bool"),
        AnswerSpec("giving_way", "bool"),
        AnswerSpec("training_change", "bool"),
        _cat("morning_stiffness", "none", "short", "long"),
        AnswerSpec("duration_weeks", "number", minimum=0, maximum=5200),
        AnswerSpec("pain_score", "int", minimum=0, maximum=10),
        AnswerSpec("recent_surgery", "bool"),
        AnswerSpec("anticoagulants", "bool"),
        _flag("cannot_bear_weight"),
        _flag("hot_red_joint"),
        _flag("fever_unwell"),
        _flag("calf_swelling"),
        _flag("numb_cold_foot"),
        _flag("deformity"),
        _flag("cannot_straighten_leg"),
        _flag("night_pain_weight_loss"),
        _flag("limp_hip_pain"),
        # Beyond the contract's keys: the Ottawa knee rule's "cannot bend the knee to 90 degrees"
        # (triage.md section 4 names it in a rule but gives it no key). Asked only after an injury.
        _flag("cannot_bend_knee"),
    )
}

RED_FLAG_KEYS: tuple[str, ...] = tuple(k for k, s in ANSWERS.items() if s.red_flag)
# The grouped red-flag checklist is asked as one question under this name (spec section 5).
RED_FLAG_CHECKLIST = "red_flags"

LEVELS: tuple[str, ...] = ("emergency", "urgent", "soon", "routine", "self_care")  # most urgent first

CONDITIONS: tuple[str, ...] = (
    "patellofemoral_pain", "itb_syndrome", "patellar_tendinopathy", "quadriceps_tendinopathy",
    "meniscal_tear", "acl_injury", "collateral_ligament_sprain", "knee_osteoarthritis",
    "pes_anserine_bursitis", "prepatellar_bursitis", "osgood_schlatter", "sinding_larsen_johansson",
    "patellar_instability", "bakers_cyst", "posterior_tendinopathy", "referred_hip_pain",
    "inflammatory_arthritis",
)
RED_FLAG_CONDITIONS: tuple[str, ...] = (
    "septic_arthritis", "fracture", "knee_dislocation", "extensor_rupture", "dvt", "scfe", "malignancy",
)


class AnswerError(ValueError):
    """An answer key or value outside the vocabulary."""


def more_urgent(a: str, b: str) -> str:
    """The more urgent of two triage levels."""
    return a if LEVELS.index(a) <= LEVELS.index(b) else b


def normalise(answers: dict[str, Any]) -> dict[str, Any]:
    """Check answers against the vocabulary and return them cleaned.

    Absent and null answers are dropped; "unknown" is kept (it is a valid answer and stops the
    question being asked again). Raises AnswerError naming the first bad key or value.
    """
    if not isinstance(answers, dict):
        raise AnswerError("answers must be a JSON object")
    clean: dict[str, Any] = {}
    for key, value in answers.items():
        spec = ANSWERS.get(key)
        if spec is None:
            raise AnswerError(f"unknown answer key: {key!r}")
        if value is None:
            continue
        if value == UNKNOWN:
            clean[key] = UNKNOWN
            continue
        clean[key] = _check(spec, value)
    return clean


def _check(spec: AnswerSpec, value: Any) -> Any:
    bad = AnswerError(f"bad value for {spec.key}: {value!r}")
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise bad
        return value
    if spec.kind == "cat":
        if value not in spec.values:
            raise bad
        return value
    if spec.kind == "list":
        if not isinstance(value, list) or any(v not in spec.values for v in value):
            raise bad
        return sorted(set(value), key=spec.values.index)
    # numbers: bool is an int in Python, and not a number here
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad
    if spec.kind == "int" and not float(value).is_integer():
        raise bad
    if spec.minimum is not None and value < spec.minimum or spec.maximum is not None and value > spec.maximum:
        raise bad
    return int(value) if spec.kind == "int" else float(value)
