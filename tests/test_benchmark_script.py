"""scripts/benchmark-chat against the real servers: one simulated patient for a few seconds (the smoke run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, RunningBot


def test_one_simulated_patient_for_five_seconds_gives_a_full_report(running_bot: RunningBot, tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "benchmark-chat"), "--base", running_bot.base,
                          f"--token={running_bot.token}", "--users", "1", "--seconds", "5", "--warmup", "3",
                          "--json", str(report)], capture_output=True, text=True, timeout=90, check=True)
    [level] = json.loads(report.read_text())["results"]
    assert (level["bot"], level["users"]) == ("knee-triage", 1)
    assert level["msg_per_s"] > 0 and level["messages"] == round(level["msg_per_s"] * 5)
    assert (level["errors"], level["transport"], level["silent"], level["stuck"]) == (0, 0, 0, 0)
    assert 0 < level["p50_ms"] <= level["p95_ms"] <= level["p99_ms"]
    # The fixture's Rasa server is a local process: found by its port, so its CPU and memory are reported.
    assert level["server_cpu_percent"] > 0 and level["server_rss_mb"] > 100
    assert any(line.split()[:2] == ["1", "knee-triage"] for line in run.stdout.splitlines()), run.stdout
