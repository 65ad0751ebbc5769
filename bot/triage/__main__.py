"""Command line for the triage engine.

    python -m bot.triage assess            < answers.json   -> the assessment as JSON
    python -m bot.triage evaluate FILE...  [--verbose]      -> figures on vignette files
    python -m bot.triage next              < answers.json   -> the next question key (JSON)
    python -m bot.triage check                              -> validate the knowledge base

Input errors exit with status 2 and one line on standard error; a broken knowledge base
exits with status 3.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .engine import assess
from .knowledge import KnowledgeError, knowledge
from .metrics import VignetteError, describe_miss, evaluate_cases, format_summary, load_vignettes, summarize
from .questions import next_question
from .vocabulary import AnswerError


class InputError(Exception):
    """Bad input on the command line or standard input."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except (InputError, AnswerError, VignetteError) as err:
        _fail(str(err))
        return 2
    except KnowledgeError as err:
        _fail(f"knowledge base: {err}")
        return 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot.triage", description="Knee-pain triage engine.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("assess", help="assess one JSON object of answers from standard input")
    p.add_argument("--emergency-number", help="number put into the advice (default: engine.yml)")
    p.set_defaults(run=_assess)
    p = sub.add_parser("evaluate", help="score vignette files (answers = facts)")
    p.add_argument("files", nargs="+", help="vignette YAML files (the format of vignettes-dev.yml)")
    p.add_argument("--verbose", action="store_true", help="list the cases that were not exactly right")
    p.add_argument("--json", action="store_true", help="also print the figures as JSON")
    p.set_defaults(run=_evaluate)
    p = sub.add_parser("next", help="the next question for a JSON object of answers from standard input")
    p.set_defaults(run=_next)
    p = sub.add_parser("check", help="load and validate the knowledge base")
    p.set_defaults(run=_check)
    return parser


def _assess(args: argparse.Namespace) -> int:
    number = args.emergency_number or knowledge().settings.default_emergency_number
    result = assess(_read_answers(), emergency_number=number)
    print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0


def _next(args: argparse.Namespace) -> int:
    print(json.dumps(next_question(_read_answers())))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    cases = [case for path in args.files for case in load_vignettes(path)]
    results = evaluate_cases(cases, assess)
    if args.verbose:
        for r in results:
            if not (r.top1 and r.level_exact and not r.rf_missed):
                print(describe_miss(r))
    summary = summarize(results)
    if args.json:
        print(json.dumps(summary))
    print(format_summary(summary))
    return 0


def _check(args: argparse.Namespace) -> int:
    kb = knowledge()
    print(f"knowledge base OK: {len(kb.conditions)} conditions, {len(kb.rules)} red-flag rules, "
          f"{len(kb.questions)} questions")
    return 0


def _read_answers() -> Any:
    text = sys.stdin.read()
    try:
        answers = json.loads(text, parse_constant=_reject_constant)
    except ValueError as err:
        raise InputError(f"input is not valid JSON: {err}") from None
    if not isinstance(answers, dict):
        raise InputError(f"input must be a JSON object of answers, got {type(answers).__name__}")
    return answers


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON, and would slip past the numeric range checks.
    raise ValueError(f"{name} is not allowed")


def _fail(message: str) -> None:
    print("error: " + " ".join(message.split()), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
