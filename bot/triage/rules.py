"""The tiny declarative `when` language used by red-flag rules, level rules and relevance tests.

A condition is a mapping; every entry must hold (AND). An entry is either a combinator
(`all: [...]`, `any: [...]`, `not: {...}`) or an answer key with a test:

    {onset: injury}                       equals (for the list key `triggers`: is listed)
    {swelling: {one_of: [rapid, delayed]}}
    {swelling: {not: front_of_kneecap}}   the answer is given and differs
    {swelling: {not_one_of: [a, b]}}
    {age: {min: 8, max: 16}}              numeric, both ends inclusive

Evaluation is three-valued: an answer that is absent or "unknown" makes its test undecided
(None), and the combinators propagate that (Kleene logic). The outcome also reports which
absent answers could decide it (so the dialogue can ask them) and whether a red-flag answer
in it is true (so an undecided rule can still be acted on for safety).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .vocabulary import ANSWERS, UNKNOWN, AnswerSpec

COMBINATORS = ("all", "any", "not")
TESTS = ("one_of", "not", "not_one_of", "min", "max")


class RuleError(ValueError):
    """A `when` condition that is not valid in the rule language."""


@dataclass(frozen=True)
class Outcome:
    value: bool | None  # None = undecided
    missing: frozenset[str] = frozenset()  # absent answers (not "unknown") that could decide it
    engaged: bool = False  # a red-flag answer tested in it is true

    @property
    def decidable(self) -> bool:
        """Undecided, but asking the missing answers could decide it."""
        return self.value is None and bool(self.missing)


# --- validation -------------------------------------------------------------------------


def check_when(when: Any) -> None:
    """Raise RuleError if `when` is not a valid condition."""
    if not isinstance(when, Mapping) or not when:
        raise RuleError(f"a condition must be a non-empty mapping, got {when!r}")
    for name, body in when.items():
        if name in ("all", "any"):
            if not isinstance(body, list) or not body:
                raise RuleError(f"'{name}' needs a non-empty list of conditions")
            for part in body:
                check_when(part)
        elif name == "not" and isinstance(body, Mapping) and _is_condition(body):
            check_when(body)
        elif name in ANSWERS:
            _check_test(ANSWERS[name], body)
        else:
            raise RuleError(f"unknown answer key or combinator {name!r}")


def _is_condition(body: Mapping) -> bool:
    return all(k in ANSWERS or k in COMBINATORS for k in body)


def _check_test(spec: AnswerSpec, test: Any) -> None:
    if isinstance(test, Mapping):
        if not test or any(op not in TESTS for op in test):
            raise RuleError(f"{spec.key}: tests are {', '.join(TESTS)}; got {dict(test)!r}")
        for op, arg in test.items():
            if op in ("min", "max"):
                if spec.kind not in ("int", "number") or isinstance(arg, bool) or not isinstance(arg, (int, float)):
                    raise RuleError(f"{spec.key}: '{op}' needs a number answer and a number, got {arg!r}")
            elif op in ("one_of", "not_one_of"):
                if not isinstance(arg, list) or not arg:
                    raise RuleError(f"{spec.key}: '{op}' needs a non-empty list")
                for value in arg:
                    _check_value(spec, value)
            else:
                _check_value(spec, arg)
    else:
        _check_value(spec, test)


def _check_value(spec: AnswerSpec, value: Any) -> None:
    if spec.kind == "bool":
        ok = isinstance(value, bool)
    elif spec.kind in ("cat", "list"):
        ok = value in spec.values
    else:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok:
        expected = "true or false" if spec.kind == "bool" else ", ".join(spec.values) or "a number"
        raise RuleError(f"{spec.key}: bad value {value!r} (expected {expected})")


def keys_of(when: Mapping) -> list[str]:
    """The answer keys a condition mentions, in order of appearance."""
    keys: list[str] = []
    for name, body in when.items():
        if name in ("all", "any"):
            parts = [k for part in body for k in keys_of(part)]
        elif name == "not" and isinstance(body, Mapping) and _is_condition(body):
            parts = keys_of(body)
        else:
            parts = [name]
        keys.extend(k for k in parts if k not in keys)
    return keys


# --- evaluation -------------------------------------------------------------------------


def evaluate(when: Mapping, answers: Mapping[str, Any]) -> Outcome:
    """Evaluate a (validated) condition against normalised answers."""
    return _all([_entry(name, body, answers) for name, body in when.items()])


def _entry(name: str, body: Any, answers: Mapping[str, Any]) -> Outcome:
    if name == "all":
        return _all([evaluate(part, answers) for part in body])
    if name == "any":
        return _any([evaluate(part, answers) for part in body])
    if name == "not" and isinstance(body, Mapping) and _is_condition(body):
        inner = evaluate(body, answers)
        value = None if inner.value is None else not inner.value
        return Outcome(value, inner.missing, inner.engaged)
    return _leaf(name, body, answers)


def _leaf(key: str, test: Any, answers: Mapping[str, Any]) -> Outcome:
    answer = answers.get(key)
    if answer is None:
        return Outcome(None, frozenset([key]))
    if answer == UNKNOWN:
        return Outcome(None)
    value = _test(answer, test)
    engaged = value and ANSWERS[key].red_flag and answer is True
    return Outcome(value, engaged=bool(engaged))


def _test(answer: Any, test: Any) -> bool:
    if not isinstance(test, Mapping):
        return _equals(answer, test)
    result = True
    for op, arg in test.items():
        if op == "one_of":
            result &= any(_equals(answer, v) for v in arg)
        elif op == "not_one_of":
            result &= not any(_equals(answer, v) for v in arg)
        elif op == "not":
            result &= not _equals(answer, arg)
        elif op == "min":
            result &= answer >= arg
        elif op == "max":
            result &= answer <= arg
    return result


def _equals(answer: Any, value: Any) -> bool:
    if isinstance(answer, list):
        return value in answer
    # True == 1 in Python: compare types too so a bool never equals a number.
    return type(answer) is type(value) and answer == value if isinstance(value, bool) else answer == value


def _all(parts: list[Outcome]) -> Outcome:
    engaged = any(p.engaged for p in parts)
    if any(p.value is False for p in parts):
        return Outcome(False, engaged=engaged)
    if all(p.value is True for p in parts):
        return Outcome(True, engaged=engaged)
    return Outcome(None, frozenset().union(*(p.missing for p in parts if p.value is None)), engaged)


def _any(parts: list[Outcome]) -> Outcome:
    engaged = any(p.engaged for p in parts)
    if any(p.value is True for p in parts):
        return Outcome(True, engaged=engaged)
    if all(p.value is False for p in parts):
        return Outcome(False, engaged=engaged)
    return Outcome(None, frozenset().union(*(p.missing for p in parts if p.value is None)), engaged)
