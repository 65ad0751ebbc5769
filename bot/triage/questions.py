"""Which question to ask next, and how to word it.

`next_question(answers)` returns a section-1 key, "red_flags" (the grouped checklist of every
red flag not yet answered) or None when it is time to give the result. In order:

1. a red-flag rule gives `emergency`: None at once;
2. a red flag is "yes" but a rule needs another answer to decide: ask that answer;
3. a rule gives `urgent`: the checklist if any red flag is unanswered (so an emergency is not
   missed), then any answer an emergency rule still needs (blood thinners after fast
   swelling), else None;
4. the always-asked keys (engine.yml), then the red-flag checklist;
5. answers an undecided red-flag rule needs that could raise the level (e.g. how quickly it
   swelled after an injury);
6. while the top condition is below the stop probability and the question budget allows,
   the unanswered key with the highest expected information gain over the posterior;
7. answers the top condition's level rules need when they would change the level;
8. None.
An answered key (including "unknown") is never asked again; a key is only asked when its
`relevant_when` holds (the injury questions after an injury).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .engine import condition_level, overall_level
from .knowledge import KnowledgeBase, RedFlagRule, knowledge
from .redflags import RuleState, fired, red_flag_ids, rule_states, rules_level
from .rules import evaluate, keys_of
from .scoring import information_gain, posterior, ranked
from .vocabulary import LEVELS, RED_FLAG_CHECKLIST, RED_FLAG_KEYS, normalise


@dataclass(frozen=True)
class Prompt:
    """A question ready for the chat."""

    key: str
    text: str
    buttons: list[tuple[str, Any]]  # (title, answer value)
    multiple: bool
    why: str
    items: list[tuple[str, str]]  # checklist only: (red-flag key, plain words), unanswered ones
    yes_means: bool = True  # what a plain "yes" answers (false for "Can you ...?" questions)


def next_question(answers: Mapping[str, Any]) -> str | None:
    """The next key to ask, "red_flags" for the grouped checklist, or None to give the result."""
    clean = normalise(dict(answers) if isinstance(answers, Mapping) else answers)
    kb = knowledge()
    states = rule_states(clean, kb)
    settled = fired(states, settled_only=True)
    rule_level = rules_level(settled)
    if rule_level == LEVELS[0]:
        return None
    follow_up = _red_flag_follow_up(states, settled, clean, kb)
    if follow_up:
        return follow_up
    checklist_pending = bool(pending_red_flags(clean, kb))
    if rule_level == "urgent":
        return RED_FLAG_CHECKLIST if checklist_pending else _rule_completion(states, rule_level, clean, kb)
    for key in kb.settings.always_ask:
        if key not in clean and _askable(key, clean, kb, strict=True):
            return key
    if checklist_pending:
        return RED_FLAG_CHECKLIST
    post = posterior(clean, kb)
    conditions = ranked(post)
    level = overall_level(clean, conditions, settled, kb)
    return (_rule_completion(states, level, clean, kb)
            or _most_informative(clean, post, conditions, settled, kb)
            or _level_key(clean, conditions, settled, kb))


# --- the steps --------------------------------------------------------------------------


def _red_flag_follow_up(states: list[RuleState], settled: list[RedFlagRule], answers: Mapping[str, Any],
                        kb: KnowledgeBase) -> str | None:
    """A red flag is yes, and a rule that would raise the level or name a new red-flag
    condition needs another answer to decide (e.g. cannot bear weight: was there an injury?)."""
    rule_level = rules_level(settled)
    raised = set(red_flag_ids(settled))
    for state in states:
        rule = state.rule
        if not (state.outcome.value is None and state.outcome.engaged and state.outcome.missing):
            continue
        if _more_urgent(rule.level, rule_level) or (rule.condition and rule.condition not in raised):
            key = _first_missing(rule, state.outcome.missing, answers, kb)
            if key:
                return key
    return None


def _rule_completion(states: list[RuleState], level: str, answers: Mapping[str, Any], kb: KnowledgeBase) -> str | None:
    """An undecided rule that would raise the level: ask what it still needs."""
    for state in states:
        if state.outcome.value is None and state.outcome.missing and _more_urgent(state.rule.level, level):
            key = _first_missing(state.rule, state.outcome.missing, answers, kb)
            if key:
                return key
    return None


def _most_informative(answers: Mapping[str, Any], post: list[float], conditions: list[tuple[str, float]],
                      rules: list[RedFlagRule], kb: KnowledgeBase) -> str | None:
    """The optional question expected to tell most about the condition, if still worth asking."""
    settings = kb.settings
    if conditions[0][1] >= settings.stop_probability:
        return None
    reserved = len(_level_keys(answers, conditions, rules, kb))
    if questions_used(answers) + 1 + reserved > settings.question_budget:
        return None
    best, best_gain = None, settings.min_information_gain
    for key in _candidates(answers, kb):
        gain = information_gain(key, post, kb)
        if gain > best_gain:
            best, best_gain = key, gain
    return best


def _level_key(answers: Mapping[str, Any], conditions: list[tuple[str, float]], rules: list[RedFlagRule],
               kb: KnowledgeBase) -> str | None:
    keys = _level_keys(answers, conditions, rules, kb)
    return keys[0] if keys else None


def _level_keys(answers: Mapping[str, Any], conditions: list[tuple[str, float]], rules: list[RedFlagRule],
                kb: KnowledgeBase) -> list[str]:
    """Missing answers of the top condition's undecided level rules that would change its level.

    Skipped when a red-flag rule already sets a level at least as urgent as either outcome.
    """
    top = kb.condition(conditions[0][0])
    current = condition_level(top, answers)
    floor = rules_level(rules)
    keys: list[str] = []
    for rule in top.level_rules:
        outcome = evaluate(rule.when, answers)
        if outcome.value is True:
            break  # an earlier rule already decides the level
        if outcome.value is None and rule.level != current and not _dominated(floor, rule.level, current):
            keys.extend(k for k in keys_of(rule.when)
                        if k in outcome.missing and k not in keys and _askable(k, answers, kb, strict=False))
    return keys


def _dominated(floor: str | None, *levels: str) -> bool:
    """A red-flag level at least as urgent as all these levels makes the choice between them moot."""
    return floor is not None and all(LEVELS.index(floor) <= LEVELS.index(level) for level in levels)


# --- helpers ----------------------------------------------------------------------------

def pending_red_flags(answers: Mapping[str, Any], kb: KnowledgeBase | None = None) -> list[str]:
    """Red flags the checklist still has to screen: unanswered and possibly relevant (the
    injury-only ones once an injury is known or still possible)."""
    kb = kb or knowledge()
    return [key for key in RED_FLAG_KEYS if _askable(key, answers, kb, strict=False)]


def _more_urgent(level: str, than: str | None) -> bool:
    return than is None or LEVELS.index(level) < LEVELS.index(than)


def _first_missing(rule: RedFlagRule, missing: frozenset[str], answers: Mapping[str, Any],
                   kb: KnowledgeBase) -> str | None:
    """The first answer the rule still needs, in the rule's order; red flags via the checklist.

    Nothing when that answer is not relevant yet: a rule written {recent_surgery: ..., any: [...]}
    asks about an operation only once the knee is known to be swollen or hot, and never asks
    about swelling just to decide itself.
    """
    for key in keys_of(rule.when):
        if key not in missing:
            continue
        if key in RED_FLAG_KEYS:
            return RED_FLAG_CHECKLIST
        return key if _askable(key, answers, kb, strict=True) else None
    return None


def _askable(key: str, answers: Mapping[str, Any], kb: KnowledgeBase, *, strict: bool) -> bool:
    """Not answered yet, and relevant: strict = relevance must be known (not just possible)."""
    if key in answers:
        return False
    when = kb.features[key].relevant_when
    if when is None:
        return True
    value = evaluate(when, answers).value
    return value is True if strict else value is not False


def _candidates(answers: Mapping[str, Any], kb: KnowledgeBase) -> list[str]:
    return [key for key, feature in kb.features.items()
            if key not in RED_FLAG_KEYS and feature.kind != "items" and _askable(key, answers, kb, strict=True)]


def questions_used(answers: Mapping[str, Any]) -> int:
    """Questions the conversation has used: answered keys, the red-flag checklist counting once."""
    plain = sum(1 for k in answers if k not in RED_FLAG_KEYS)
    return plain + (1 if any(k in answers for k in RED_FLAG_KEYS) else 0)


# --- wording ----------------------------------------------------------------------------


def explain_question(key: str) -> str:
    """The answer to "why do you ask?" for a key or "red_flags"."""
    return _question(key).why


def prompt(key: str, answers: Mapping[str, Any] | None = None) -> Prompt:
    """The wording of a question; for the checklist, only the red flags not yet answered."""
    q = _question(key)
    if key != RED_FLAG_CHECKLIST:
        return Prompt(key, q.text, list(q.buttons), q.multiple, q.why, [], q.yes_means)
    pending = pending_red_flags(normalise(dict(answers or {})))
    items = [(k, label) for k, label in q.items.items() if k in pending]
    lines = [q.text] + [f"{n}. {label}" for n, (_, label) in enumerate(items, start=1)] + [q.none_text]
    buttons = [(q.item_buttons[k], k) for k, _ in items] + list(q.buttons)
    return Prompt(key, "\n".join(lines), buttons, True, q.why, items)


def _question(key: str):
    questions = knowledge().questions
    if key not in questions:
        raise KeyError(f"no question for {key!r}")
    return questions[key]
