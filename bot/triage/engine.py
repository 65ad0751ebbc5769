"""The triage engine: answers in, ranked conditions, triage level, advice and reasons out.

How the level is decided:
1. the most likely condition's level, after its level rules (conditions.yml);
2. raised to the level of any competing condition at least `competing_ratio` times as
   likely as the top one, if that is more urgent (two close candidates: play safe);
3. raised, never lowered, by every red-flag rule that applies (red_flags.yml).
Red-flag condition ids are listed before the suggestable conditions in the ranking the
dialogue shows. All clinical content lives in the YAML knowledge base; see scoring.py for
the probability model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .knowledge import Condition, KnowledgeBase, RedFlagRule, knowledge
from .redflags import fired, red_flag_ids, rule_states
from .rules import evaluate, keys_of
from .scoring import posterior, ranked, support
from .vocabulary import LEVELS, more_urgent, normalise

PLACEHOLDER = "{emergency_number}"


@dataclass
class Assessment:
    triage_level: str
    conditions: list[tuple[str, float]]  # all 17 suggestable conditions, best first
    red_flags: list[str]  # red-flag condition ids, most urgent first
    advice: list[str]
    reasons: list[str]
    urgent_instruction: str | None = None  # set when a red-flag rule fired
    level_text: str = ""  # what to do and how soon, for the level
    names: dict[str, str] = field(default_factory=dict)  # plain names of every id above
    explanation: str = ""  # one line on the top suggestable condition
    fired_rules: list[str] = field(default_factory=list)  # red-flag rule ids

    @property
    def top_condition(self) -> str:
        return self.conditions[0][0]

    def ranking(self, limit: int | None = None) -> list[str]:
        """Red-flag ids first, then conditions, best first (the dialogue's likely_conditions)."""
        ids = self.red_flags + [cid for cid, _ in self.conditions if cid not in self.red_flags]
        return ids[:limit] if limit else ids

    def to_json(self, decimals: int | None = None) -> dict[str, Any]:
        """Exactly the engine command's JSON shape (shared/spec/triage.md section 5)."""
        places = knowledge().settings.score_decimals if decimals is None else decimals
        return {
            "triage_level": self.triage_level,
            "conditions": [{"id": cid, "score": round(score, places)} for cid, score in self.conditions],
            "red_flags": list(self.red_flags),
            "advice": list(self.advice),
            "reasons": list(self.reasons),
        }


def assess(answers: Mapping[str, Any], *, emergency_number: str | None = None) -> Assessment:
    """Assess a set of answers (section-1 keys). Raises vocabulary.AnswerError on bad input.

    Texts keep the {emergency_number} placeholder unless `emergency_number` is given.
    """
    clean = normalise(dict(answers) if isinstance(answers, Mapping) else answers)
    kb = knowledge()
    conditions = ranked(posterior(clean, kb))
    states = rule_states(clean, kb)
    rules = fired(states)
    level = overall_level(clean, conditions, rules, kb)
    flags = red_flag_ids(rules)
    # Only the rules that set the level speak: a milder rule's instruction ("get seen today") next
    # to an emergency's ("go to A&E now") would give the patient two different routes.
    certain = {state.rule.id for state in states if state.certain}
    instructions = _distinct(rule.instruction for rule in rules if rule.level == level)
    top = kb.condition(conditions[0][0])
    level_text = _level_text(level, rules, top, clean, kb)
    result = Assessment(
        triage_level=level,
        conditions=conditions,
        red_flags=flags,
        advice=_advice(clean, level, rules, flags, instructions, level_text, top, kb),
        reasons=_reasons(clean, [rule for rule in rules if rule.id in certain], top, kb),
        urgent_instruction=instructions[0] if instructions else None,
        level_text=level_text,
        names={cid: kb.name_of(cid) for cid in flags + [cid for cid, _ in conditions]},
        explanation=top.explanation,
        fired_rules=[rule.id for rule in rules],
    )
    return fill_number(result, emergency_number) if emergency_number else result


# --- levels -----------------------------------------------------------------------------


def condition_level(condition: Condition, answers: Mapping[str, Any]) -> str:
    """The condition's usual level, or that of its first level rule that holds."""
    for rule in condition.level_rules:
        if evaluate(rule.when, answers).value is True:
            return rule.level
    return condition.level


def suggested_level(answers: Mapping[str, Any], conditions: list[tuple[str, float]], kb: KnowledgeBase,
                    top_level: str | None = None) -> str:
    """Level from the likely conditions alone: the top one, raised by close, more urgent rivals.

    top_level: use this as the top condition's level instead of working it out (what-if).
    """
    top_id, top_p = conditions[0]
    level = top_level or condition_level(kb.condition(top_id), answers)
    for cid, p in conditions[1:]:
        if p < kb.settings.competing_ratio * top_p:
            break
        level = more_urgent(level, condition_level(kb.condition(cid), answers))
    return level


def overall_level(answers: Mapping[str, Any], conditions: list[tuple[str, float]], rules: list[RedFlagRule],
                  kb: KnowledgeBase, top_level: str | None = None) -> str:
    level = suggested_level(answers, conditions, kb, top_level)
    for rule in rules:
        level = more_urgent(level, rule.level)
    return level


# --- texts ------------------------------------------------------------------------------


def _level_text(level: str, rules: list[RedFlagRule], top: Condition, answers: Mapping[str, Any],
                kb: KnowledgeBase) -> str:
    """How soon: the top condition's own wording when it alone sets the level, else the level's."""
    from_condition = not any(rule.level == level for rule in rules) and condition_level(top, answers) == level
    return top.how_soon if from_condition and top.how_soon else kb.level_texts[level]


def _advice(answers: Mapping[str, Any], level: str, rules: list[RedFlagRule], flags: list[str],
            instructions: list[str], level_text: str, top: Condition, kb: KnowledgeBase) -> list[str]:
    advice: list[str] = []
    if not any(rule.level == level for rule in rules):
        advice.append(level_text)  # the level came from the condition, not a rule
    advice.extend(instructions)
    # Someone sent to care today gets no exercise or loading advice: only "protect it until seen".
    # A red-flag condition (e.g. a cause that needs tests) makes a suggestion's self-care advice wrong too.
    if LEVELS.index(level) <= LEVELS.index("urgent"):
        advice.append(kb.until_seen)
    elif not flags:
        advice.extend(item.text for item in top.advice if _fits(item.when, answers))
    advice.append(kb.safety_nets[level])
    advice.extend(item.text for item in kb.safety_net_extras if _fits(item.when, answers))
    return _distinct(advice)


def _fits(when: Mapping | None, answers: Mapping[str, Any]) -> bool:
    return when is None or evaluate(when, answers).value is True


def _reasons(answers: Mapping[str, Any], certain: list[RedFlagRule], top: Condition, kb: KnowledgeBase) -> list[str]:
    """Why: the red-flag rules that certainly apply (a rule fired out of caution would claim what the
    patient has not said), then the answers pointing most to the top condition, each fact once."""
    settings = kb.settings
    said = {key for rule in certain for key in keys_of(rule.when)}
    strong = [phrase for ratio, key, phrase in support(answers, top.id, kb)
              if ratio >= settings.reason_min_ratio and key not in said]
    return _distinct([rule.reason for rule in certain] + strong[: settings.max_reasons])


def _distinct(texts: Any) -> list[str]:
    out: list[str] = []
    for text in texts:
        if text not in out:
            out.append(text)
    return out


def fill_number(result: Assessment, number: str) -> Assessment:
    """A copy of the assessment with {emergency_number} filled in."""
    def fill(text: str | None) -> str | None:
        return text.replace(PLACEHOLDER, number) if text else text

    return Assessment(
        triage_level=result.triage_level,
        conditions=list(result.conditions),
        red_flags=list(result.red_flags),
        advice=[fill(a) or "" for a in result.advice],
        reasons=list(result.reasons),
        urgent_instruction=fill(result.urgent_instruction),
        level_text=fill(result.level_text) or "",
        names=dict(result.names),
        explanation=fill(result.explanation) or "",
        fired_rules=list(result.fired_rules),
    )
