"""Measure answer() on a phrase bank in the format of shared/eval/phrases-dev.yml.

Every phrase is rendered the way the simulated patient (shared/eval/simulate.py) renders it and
scored as correct, missed (None, or "unknown" when a value was meant) or wrong (a different value:
the error that matters). Usage: python -m bot.nlu.evaluate BANK.yml [--verbose]
       python -m bot.nlu.evaluate STORIES.yml... --stories [--verbose]   (opening.py-style cases)
The stories mode is opening.py's measure on extract() alone (no running bot): recall, precision and
whether each story's stated red flags are acted on (triage level urgent/emergency, or every stated
flag read as true).
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.nlu.extractor import answer, extract
from bot.triage import assess
from bot.triage.vocabulary import ANSWERS, RED_FLAG_CHECKLIST, RED_FLAG_KEYS, UNKNOWN

AGES = (8, 14, 35, 71)
SCORES = (0, 3, 7, 10)
WEEKS = (0.0, 1 / 7, 3 / 7, 2.0, 6.0, 13.0, 26.0, 104.0)


@dataclass(frozen=True)
class Case:
    key: str
    text: str
    expected: Any


@dataclass
class Score:
    cases: int = 0
    correct: int = 0
    missed: int = 0
    wrong: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / (self.cases or 1)

    @property
    def wrong_rate(self) -> float:
        return self.wrong / (self.cases or 1)

    def __str__(self) -> str:
        return (f"cases={self.cases} correct={self.accuracy:.1%} wrong={self.wrong_rate:.1%} "
                f"({self.wrong}) missed={self.missed}")


def load_bank(path: str | Path) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def cases(bank: dict[str, Any]) -> list[Case]:
    """All (key, phrase, expected answer) cases a bank can produce."""
    out: list[Case] = []
    for key, spec in ANSWERS.items():
        table = bank.get(key) or {}
        if spec.kind in ("int", "number"):
            out.extend(_numeric_cases(key, table))
        elif spec.kind == "list":
            out.extend(_trigger_cases(key, table))
        else:
            for value, phrases in table.items():
                if not str(value).startswith("_"):
                    out.extend(Case(key, p, value) for p in phrases)
        out.extend(Case(key, p, UNKNOWN) for p in bank.get("unknown", []))
    out.extend(_red_flag_cases(bank))
    return out


def _numeric_cases(key: str, table: dict[str, Any]) -> list[Case]:
    if key == "duration_weeks":
        return [Case(key, text, n) for n in WEEKS for text in _durations(table, n)]
    values = AGES if key == "age" else SCORES
    return [Case(key, t.format(n=n), n) for n in values for t in table.get("_template", [])]


def _durations(table: dict[str, Any], n: float) -> list[str]:
    """Rendered exactly as simulate.py's Patient.duration does."""
    days = round(n * 7)
    if n == 0:
        return list(table.get("_today", []))
    if days == 1:
        return list(table.get("_one_day", []))
    if 2 <= days <= 6:
        return [t.format(d=days) for t in table.get("_template_days", [])]
    if n >= 12:
        return [t.format(m=round(n / 4.345)) for t in table.get("_template_months", [])]
    return [t.format(n=round(n)) for t in table.get("_template", [])]


def _trigger_cases(key: str, table: dict[str, Any]) -> list[Case]:
    values = [v for v in ANSWERS[key].values if v in table]
    out = [Case(key, p, [v]) for v in values for p in table[v]]
    joins = table.get("_join", [])
    for i, (join, a) in enumerate(itertools.product(joins, values)):
        b = values[(values.index(a) + 1 + i % 5) % len(values)]
        pa, pb = table[a][i % len(table[a])], table[b][(i + 1) % len(table[b])]
        out.append(Case(key, join.format(a=pa, b=pb), [a, b]))
        c = values[(values.index(b) + 3) % len(values)]
        if c not in (a, b):
            pc = table[c][i % len(table[c])]
            out.append(Case(key, join.format(a=join.format(a=pa, b=pb), b=pc), [a, b, c]))
    return out


def _red_flag_cases(bank: dict[str, Any]) -> list[Case]:
    out = [Case(RED_FLAG_CHECKLIST, p, dict.fromkeys(RED_FLAG_KEYS, False)) for p in bank.get("red_flags_none", [])]
    present = [(k, p) for k in RED_FLAG_KEYS for p in (bank.get(k) or {}).get(True, [])]
    for key, phrase in present:
        out.append(Case(RED_FLAG_CHECKLIST, phrase, {k: k == key for k in RED_FLAG_KEYS}))
    for (k1, p1), (k2, p2) in zip(present, present[7:] + present[:7], strict=True):
        if k1 != k2:  # simulate.py joins several present flags with ", and "
            out.append(Case(RED_FLAG_CHECKLIST, f"{p1}, and {p2}", {k: k in (k1, k2) for k in RED_FLAG_KEYS}))
    return out


def judge(case: Case, got: Any) -> str:
    """"correct", "missed" or "wrong"."""
    if got is None:
        return "missed"
    expected = case.expected
    if expected == UNKNOWN or case.key == RED_FLAG_CHECKLIST:
        return "correct" if got == expected else "wrong"
    if got == UNKNOWN:
        return "missed"
    if isinstance(expected, list):
        return "correct" if isinstance(got, list) and set(got) == set(expected) else "wrong"
    if isinstance(expected, (bool, str)):
        return "correct" if got == expected else "wrong"
    tolerance = max(1.0, 0.1 * abs(float(expected)))  # as simulate.py's agrees()
    return "correct" if abs(float(got) - float(expected)) <= tolerance else "wrong"


def evaluate(bank: dict[str, Any], verbose: bool = False) -> tuple[Score, dict[str, Score]]:
    total, per_key = Score(), {}
    for case in cases(bank):
        got = answer(case.key, case.text)
        verdict = judge(case, got)
        for score in (total, per_key.setdefault(case.key, Score())):
            score.cases += 1
            setattr(score, verdict, getattr(score, verdict) + 1)
        if verbose and verdict != "correct":
            print(f"{verdict:7} {case.key:22} {case.text!r:70} expected={case.expected!r} got={got!r}")
    return total, per_key


@dataclass
class StoryScore:
    stated: int = 0
    captured: int = 0
    wrong: int = 0
    red_flag_stories: int = 0
    red_flags_acted: int = 0
    missed_flags: list[str] = field(default_factory=list)  # ids of stories whose stated flag was not acted on

    @property
    def recall(self) -> float:
        return self.captured / (self.stated or 1)

    @property
    def precision(self) -> float:
        return 1 - self.wrong / ((self.captured + self.wrong) or 1)

    def __str__(self) -> str:
        return (f"stated={self.stated} recall={self.recall:.1%} precision={self.precision:.1%} wrong={self.wrong} "
                f"red_flags_acted={self.red_flags_acted}/{self.red_flag_stories}")


def agrees(got: Any, fact: Any) -> bool:
    """shared/eval/simulate.py's agrees(): lists may be a subset, numbers within 10% (at least 1)."""
    if isinstance(fact, bool):
        return got is fact
    if isinstance(fact, list):
        return set(got if isinstance(got, list) else [got]) <= set(fact)
    if isinstance(fact, (int, float)):
        try:
            return abs(float(got) - float(fact)) <= max(1.0, 0.1 * abs(float(fact)))
        except (TypeError, ValueError):
            return False
    return str(got) == str(fact) or str(got) == UNKNOWN


def evaluate_stories(stories: list[dict[str, Any]], verbose: bool = False) -> StoryScore:
    """opening.py's figures for extract(): stated answers captured, answers contradicting them, red flags acted on."""
    score = StoryScore()
    for story in stories:
        stated = story.get("stated") or {}
        got = extract(story["story"])
        bad = [k for k in stated if k in got and not agrees(got[k], stated[k])]
        score.stated += len(stated)
        score.captured += sum(1 for k in stated if k in got) - len(bad)
        score.wrong += len(bad)
        flags = [k for k in RED_FLAG_KEYS if stated.get(k) is True]
        if flags:
            score.red_flag_stories += 1
            acted = assess(got).triage_level in ("emergency", "urgent") or all(got.get(k) is True for k in flags)
            score.red_flags_acted += acted
            if not acted:
                score.missed_flags.append(str(story.get("id")))
        missing = [k for k in stated if k not in got]
        extra = {k: v for k, v in got.items() if k not in stated}
        if verbose and (bad or missing or extra):
            print(f"--- {story['id']}: wrong={ {k: (got[k], stated[k]) for k in bad} } missing={missing} extra={extra}")
            print("    ", story["story"])
    return score


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("bank", nargs="+", help="a phrase bank, or with --stories files of {id, story, stated} cases")
    ap.add_argument("--stories", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if args.stories:
        score = evaluate_stories([s for path in args.bank for s in load_bank(path)], args.verbose)
        print(score, *(["missed flags:", *score.missed_flags] if score.missed_flags else []))
        return
    total, per_key = evaluate(load_bank(args.bank[0]), args.verbose)
    for key, score in sorted(per_key.items()):
        print(f"{key:24} {score}")
    print(f"{'TOTAL':24} {total}")


if __name__ == "__main__":
    main()
