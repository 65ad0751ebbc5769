"""Clinical quality on vignettes (answers = facts), with the thresholds the project commits to."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.triage import assess, next_question  # noqa: E402
from bot.triage.metrics import describe_miss, evaluate_cases, load_vignettes, score_case, summarize  # noqa: E402

DATA = Path(__file__).with_name("data")


@pytest.mark.parametrize("name", ["vignettes-dev.yml", "vignettes-own.yml"])
def test_vignette_thresholds(name):
    results = evaluate_cases(load_vignettes(DATA / name), assess)
    s = summarize(results)
    misses = "\n".join(describe_miss(r) for r in results if not (r.top1 and r.safe))
    assert s["top1"] >= 0.85, misses
    assert s["top3"] >= 0.95, misses
    assert s["safe"] == 1.0, misses
    assert s["emerg_miss"] == 0, misses
    assert s["rf_recall"] == 1.0, misses


def test_own_set_covers_every_condition_and_red_flag():
    from bot.triage.vocabulary import CONDITIONS, RED_FLAG_CONDITIONS

    golds = {v["expected"]["condition"] for v in load_vignettes(DATA / "vignettes-own.yml")}
    missing = (set(CONDITIONS) | set(RED_FLAG_CONDITIONS)) - golds
    assert not missing


def test_metrics_match_the_evaluation_kit():
    case = {"id": "x", "expected": {"condition": "acl_injury", "acceptable": ["acl_injury", "patellar_instability"],
                                    "triage_level": "urgent", "red_flags": []}}
    r = score_case(case, "soon", ["meniscal_tear", "patellar_instability"])
    assert not r.top1 and r.top3 and not r.level_exact and r.safe and r.under and not r.emerg_miss
    r = score_case(case, "routine", ["acl_injury"])
    assert r.top1 and not r.safe
    emergency = {"id": "y", "expected": {"condition": "dvt", "triage_level": "emergency", "red_flags": ["dvt"]}}
    r = score_case(emergency, "urgent", ["fracture"])
    assert r.emerg_miss and not r.safe and r.rf_missed == ["dvt"]


def test_fast_enough():
    facts = [v["facts"] for v in yaml.safe_load((DATA / "vignettes-dev.yml").read_text())]
    partial = [{k: f[k] for k in list(f)[:5]} for f in facts]
    assess(facts[0])  # load the knowledge base once
    for fn, data in ((assess, facts), (next_question, partial)):
        start = time.perf_counter()
        for answers in data * 5:
            fn(answers)
        per_call = (time.perf_counter() - start) / (len(data) * 5)
        assert per_call < 0.010, f"{fn.__name__}: {per_call * 1000:.1f} ms per call"
