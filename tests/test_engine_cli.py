"""The `python -m bot.triage` command: the engine contract of shared/spec/triage.md section 5."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).with_name("data")


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.triage", *args], input=stdin, capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_assess_prints_the_contract_json():
    answers = {"age": 24, "sex": "female", "pain_location": "front", "onset": "gradual",
               "triggers": ["stairs", "sitting"], "clicking": True, "hot_red_joint": False, "heard_pop": None}
    p = run("assess", stdin=json.dumps(answers))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert list(out) == ["triage_level", "conditions", "red_flags", "advice", "reasons"]
    assert out["conditions"][0] == {"id": "patellofemoral_pain", "score": out["conditions"][0]["score"]}
    assert len(out["conditions"]) >= 3 and out["red_flags"] == []
    assert not any("{emergency_number}" in a for a in out["advice"])
    assert p.stdout.count("\n") == 1  # one JSON object


def test_assess_red_flags():
    p = run("assess", stdin=json.dumps({"onset": "injury", "cannot_bear_weight": True}))
    out = json.loads(p.stdout)
    assert out["triage_level"] == "emergency" and out["red_flags"] == ["fracture"]


def test_assess_empty_object():
    assert run("assess", stdin="{}").returncode == 0


@pytest.mark.parametrize("stdin", [
    "not json", "", "[1, 2]", '"text"', "42", "null", '{"colour": "red"}', '{"onset": "sudden"}',
    '{"age": 300}', '{"age": "thirty"}', '{"locking": "yes"}', '{"triggers": ["flying"]}', '{"age": NaN}',
    '{"age": 40.5}', '{"triggers": "stairs"}', '{"pain_score": 6.5}',
])
def test_assess_rejects_bad_input_with_one_line(stdin):
    p = run("assess", stdin=stdin)
    assert p.returncode != 0
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in p.stderr and lines[0].startswith("error:")


def test_evaluate_dev_set():
    p = run("evaluate", str(DATA / "vignettes-dev.yml"), "--json")
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout.splitlines()[0])
    assert summary["n"] == 20
    assert "top1=" in p.stdout and "safe=" in p.stdout and "emerg_miss=" in p.stdout


def test_evaluate_verbose_lists_misses(tmp_path):
    wrong = tmp_path / "wrong.yml"
    wrong.write_text("""
- id: w1
  facts: {pain_location: front, onset: gradual, triggers: [stairs, sitting], age: 20}
  expected: {condition: bakers_cyst, triage_level: emergency}
""")
    p = run("evaluate", str(wrong), "--verbose")
    assert p.returncode == 0
    assert p.stdout.startswith("w1: gold bakers_cyst/emergency") and "EMERGENCY MISSED" in p.stdout


@pytest.mark.parametrize("content", [
    None, "a: [unclosed", "{}", "- id: x",
    "- {id: x, facts: {colour: red}, expected: {condition: dvt, triage_level: urgent}}",
    "- {id: x, facts: {}, expected: {condition: flu, triage_level: urgent}}",
    "- {id: x, facts: {}, expected: {condition: dvt, triage_level: later}}",
])
def test_evaluate_bad_file(tmp_path, content):
    path = tmp_path / "bad.yml"
    if content is not None:
        path.write_text(content)
    p = run("evaluate", str(path))
    assert p.returncode != 0
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_next():
    assert json.loads(run("next", stdin="{}").stdout) == "onset"
    assert json.loads(run("next", stdin='{"numb_cold_foot": true}').stdout) is None
    assert run("next", stdin="[]").returncode == 2


def test_check():
    p = run("check")
    assert p.returncode == 0 and "17 conditions" in p.stdout


def test_usage_error():
    assert run().returncode != 0
    assert run("frobnicate").returncode != 0
