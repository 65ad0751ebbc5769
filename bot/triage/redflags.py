"""Which red-flag rules apply to a set of answers.

A rule is *certain* when its condition holds. It is *cautious* when it is undecided, one of
its red-flag answers is "yes", no other red-flag answer it needs is simply missing (a red flag
nobody mentioned is not presumed present; the dialogue screens them all before concluding)
and the rule says `if_unsure: fire`: the safe choice is to act on it. A cautious rule is
*settled* when nothing more can be asked to decide it (what is undecided was answered "not
sure"); while answers are still missing the dialogue asks them first. A rule that certainly
applies removes the rules it `overrides` (the more specific rule wins).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .knowledge import KnowledgeBase, RedFlagRule, knowledge
from .rules import Outcome, evaluate
from .vocabulary import LEVELS, RED_FLAG_KEYS


@dataclass(frozen=True)
class RuleState:
    rule: RedFlagRule
    outcome: Outcome

    @property
    def certain(self) -> bool:
        return self.outcome.value is True

    @property
    def cautious(self) -> bool:
        outcome = self.outcome
        return (outcome.value is None and outcome.engaged and self.rule.if_unsure == "fire"
                and not any(key in RED_FLAG_KEYS for key in outcome.missing))


def rule_states(answers: Mapping[str, Any], kb: KnowledgeBase | None = None) -> list[RuleState]:
    kb = kb or knowledge()
    return [RuleState(rule, evaluate(rule.when, answers)) for rule in kb.rules]


def fired(states: list[RuleState], *, settled_only: bool = False) -> list[RedFlagRule]:
    """The rules that apply, most urgent first (file order within a level).

    settled_only: ignore cautious rules that could still be decided by asking a missing answer.
    """
    overridden = {other for s in states if s.certain for other in s.rule.overrides}
    chosen = [
        s.rule for s in states
        if s.rule.id not in overridden
        and (s.certain or (s.cautious and not (settled_only and s.outcome.missing)))
    ]
    return sorted(chosen, key=lambda rule: LEVELS.index(rule.level))


def rules_level(rules: list[RedFlagRule]) -> str | None:
    """The most urgent level among fired rules, or None."""
    return rules[0].level if rules else None


def red_flag_ids(rules: list[RedFlagRule]) -> list[str]:
    """Distinct red-flag condition ids of fired rules, most urgent first."""
    ids: list[str] = []
    for rule in rules:
        if rule.condition and rule.condition not in ids:
            ids.append(rule.condition)
    return ids
