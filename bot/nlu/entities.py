"""Answers <-> Rasa entities, in one place so the NLU component and the dialogue agree.

Entity format (one entity per answer; the triggers list gives one entity per trigger):
    {"entity": <answer key>, "value": <string>, "start": int, "end": int,
     "extractor": "KneeSymptomExtractor", "confidence_entity": 1.0}
A red flag the message mentions without stating it (hedged, hypothetical, gone: extractor.doubtful)
is one `doubtful_flag` entity, `value` the red-flag key, `confidence_entity` 0.5, for the dialogue to
confirm in one question (`doubtful_flags(entities)`); it answers nothing.
Values are strings so that Rasa can store and compare them consistently:
    bool    -> "true" / "false"
    int     -> "14"          (age, pain_score)
    number  -> "13.0"        (duration_weeks: str(float))
    cat     -> the vocabulary value ("below_kneecap", "unknown")
This module imports no Rasa code, so the action server can use it cheaply.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.nlu.extractor import Finding, doubtful_readings
from bot.triage.vocabulary import ANSWERS, RED_FLAG_KEYS, UNKNOWN

EXTRACTOR_NAME = "KneeSymptomExtractor"
DOUBTFUL_FLAG = "doubtful_flag"


def to_entity_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(float(value))
    return str(value)


def findings_to_entities(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [
        {
            "entity": f.key,
            "value": to_entity_value(f.value),
            "start": f.start,
            "end": f.end,
            "extractor": EXTRACTOR_NAME,
            "confidence_entity": 1.0,
        }
        for f in findings
    ]


def readings_to_entities(readings: list[Finding]) -> list[dict[str, Any]]:
    """Entities for what a message states now, plus one `doubtful_flag` per red flag it only mentions."""
    stated = findings_to_entities(f for f in readings if not f.context)
    doubtful = [{"entity": DOUBTFUL_FLAG, "value": f.key, "start": f.start, "end": f.end,
                 "extractor": EXTRACTOR_NAME, "confidence_entity": 0.5} for f in doubtful_readings(readings)]
    return stated + doubtful


def doubtful_flags(entities: Iterable[dict[str, Any]] | None) -> list[str]:
    """The red flags `doubtful_flag` entities name, in checklist order (to confirm, one question each)."""
    named = {e.get("value") for e in entities or [] if isinstance(e, dict) and e.get("entity") == DOUBTFUL_FLAG}
    return [key for key in RED_FLAG_KEYS if key in named]


def entities_to_answers(entities: Iterable[dict[str, Any]] | None) -> dict[str, Any]:
    """Typed answers from entities named after answer keys (whichever extractor produced them).

    Values that do not fit the vocabulary are dropped. For the same key, a later entity replaces an
    earlier one, except for triggers, which are collected into a list.
    """
    answers: dict[str, Any] = {}
    for entity in entities or []:
        if not isinstance(entity, dict):
            continue
        key = entity.get("entity")
        spec = ANSWERS.get(key) if isinstance(key, str) else None
        if spec is None:
            continue
        value = _typed(spec.kind, spec.values, entity.get("value"))
        if value is None:
            continue
        if spec.kind == "list":
            items = answers.setdefault(key, [])
            if value != UNKNOWN and value not in items:
                items.append(value)
        else:
            answers[key] = value
    return answers


def _typed(kind: str, values: tuple[str, ...], raw: Any) -> Any | None:
    text = str(raw).strip().lower() if raw is not None else ""
    if text == UNKNOWN:
        return UNKNOWN
    if kind == "bool":
        return {"true": True, "false": False}.get(text)
    if kind in ("cat", "list"):
        return text if text in values else None
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if kind == "int" and number.is_integer() else (number if kind == "number" else None)
