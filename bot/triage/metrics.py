"""Scoring the engine on clinical vignettes (the format of shared/eval/vignettes-dev.yml).

Metrics, as the evaluation kit defines them: top1 / top3 = an acceptable condition first /
in the first three of the ranking (red-flag ids first, then conditions); level = exact
triage level; safe = the right level, more urgent, or at most one level less urgent, and
exactly `emergency` for emergencies; emerg_miss = emergencies given any other level;
rf_recall = required red flags raised.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .vocabulary import CONDITIONS, LEVELS, RED_FLAG_CONDITIONS, AnswerError, normalise

ALL_IDS = set(CONDITIONS) | set(RED_FLAG_CONDITIONS)


class VignetteError(ValueError):
    """A vignette file that cannot be scored."""


@dataclass(frozen=True)
class CaseResult:
    id: str
    gold_condition: str
    gold_level: str
    level: str
    ranking: list[str]
    top1: bool
    top3: bool
    level_exact: bool
    safe: bool
    under: bool
    emerg_miss: bool
    rf_missed: list[str]
    rf_expected: int


def load_vignettes(path: Path | str) -> list[dict[str, Any]]:
    """Read and check a vignette file; raises VignetteError with the case and the problem."""
    path = Path(path)
    try:
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise VignetteError(f"{path}: cannot read: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        raise VignetteError(f"{path}: not valid YAML: {' '.join(str(err).split())}") from None
    if not isinstance(cases, list) or not cases:
        raise VignetteError(f"{path}: expected a non-empty list of vignettes")
    for i, case in enumerate(cases):
        _check_case(case, f"{path.name}: vignette {i + 1}")
    return cases


def _check_case(case: Any, where: str) -> None:
    if not isinstance(case, dict) or "id" not in case:
        raise VignetteError(f"{where}: needs an id")
    where = f"{where} ({case['id']})"
    if not isinstance(case.get("facts"), dict):
        raise VignetteError(f"{where}: 'facts' must be a mapping of answers")
    try:
        normalise(case["facts"])
    except AnswerError as err:
        raise VignetteError(f"{where}: facts: {err}") from None
    expected = case.get("expected")
    if not isinstance(expected, dict):
        raise VignetteError(f"{where}: 'expected' must be a mapping")
    if expected.get("condition") not in ALL_IDS:
        raise VignetteError(f"{where}: expected.condition {expected.get('condition')!r} is not a condition id")
    if expected.get("triage_level") not in LEVELS:
        raise VignetteError(f"{where}: expected.triage_level {expected.get('triage_level')!r} is not a level")
    for key in ("acceptable", "red_flags"):
        ids = expected.get(key) or []
        if not isinstance(ids, list) or any(x not in ALL_IDS for x in ids):
            raise VignetteError(f"{where}: expected.{key} must list condition ids")


def score_case(case: dict[str, Any], level: str, ranking: list[str]) -> CaseResult:
    expected = case["expected"]
    acceptable = expected.get("acceptable") or [expected["condition"]]
    gold = expected["triage_level"]
    gi, pi = LEVELS.index(gold), LEVELS.index(level)
    required = expected.get("red_flags") or []
    return CaseResult(
        id=str(case["id"]),
        gold_condition=expected["condition"],
        gold_level=gold,
        level=level,
        ranking=ranking,
        top1=bool(ranking) and ranking[0] in acceptable,
        top3=any(c in acceptable for c in ranking[:3]),
        level_exact=level == gold,
        safe=pi == 0 if gi == 0 else pi <= gi + 1,
        under=pi > gi,
        emerg_miss=gi == 0 and pi != 0,
        rf_missed=[r for r in required if r not in ranking],
        rf_expected=len(required),
    )


def evaluate_cases(cases: list[dict[str, Any]], assess: Callable[[dict[str, Any]], Any]) -> list[CaseResult]:
    """Score each case's facts with `assess` (returns an Assessment)."""
    results = []
    for case in cases:
        result = assess(case["facts"])
        results.append(score_case(case, result.triage_level, result.ranking()))
    return results


def summarize(results: list[CaseResult]) -> dict[str, Any]:
    n = len(results) or 1
    rf_expected = sum(r.rf_expected for r in results)
    rf_missed = sum(len(r.rf_missed) for r in results)
    return {
        "n": len(results),
        "top1": sum(r.top1 for r in results) / n,
        "top3": sum(r.top3 for r in results) / n,
        "level_exact": sum(r.level_exact for r in results) / n,
        "safe": sum(r.safe for r in results) / n,
        "under": sum(r.under for r in results) / n,
        "emerg_miss": sum(r.emerg_miss for r in results),
        "rf_recall": 1.0 if rf_expected == 0 else (rf_expected - rf_missed) / rf_expected,
    }


def format_summary(s: dict[str, Any]) -> str:
    return ("n={n} top1={top1:.2f} top3={top3:.2f} level={level_exact:.2f} safe={safe:.2f} "
            "under={under:.2f} emerg_miss={emerg_miss} rf_recall={rf_recall:.2f}").format(**s)


def describe_miss(r: CaseResult) -> str:
    marks = [m for m, bad in (("top1", not r.top1), ("top3", not r.top3), ("level", not r.level_exact),
                              ("UNSAFE", not r.safe), ("EMERGENCY MISSED", r.emerg_miss),
                              ("red flags missed: " + ", ".join(r.rf_missed), bool(r.rf_missed))) if bad]
    return (f"{r.id}: gold {r.gold_condition}/{r.gold_level} got {r.ranking[:3]}/{r.level} "
            f"[{'; '.join(marks)}]")
