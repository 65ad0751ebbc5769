"""Whole conversations with simulated patients (shared/eval/simulate.py) against the real servers.

The simulated patient tells its story, then answers whatever `requested_slot` names in natural
words from a phrase bank. Run on the dev set with the dev bank, and on the project's own cases
with its own bank (different wording), with the issue's targets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED_EVAL, RunningBot

DATA = Path(__file__).parent / "data"
SIMULATE = SHARED_EVAL / "simulate.py"


def simulate(bot: RunningBot, vignettes: Path, phrases: Path) -> dict:
    result = subprocess.run([sys.executable, str(SIMULATE), str(vignettes), str(phrases), "--base", bot.base,
                             f"--token={bot.token}", "--workers", "2"],
                            capture_output=True, text=True, timeout=600, check=True)
    return json.loads(result.stdout.strip().splitlines()[-2])


NO_SHARED = not SIMULATE.exists() and os.environ.get("CI") != "true"  # CI always has shared/ beside the repo


@pytest.mark.skipif(NO_SHARED, reason="shared/eval is not beside the repo")
@pytest.mark.parametrize("vignettes,phrases", [
    (DATA / "vignettes-dev.yml", SHARED_EVAL / "phrases-dev.yml"),
    (DATA / "vignettes-own.yml", DATA / "phrases-own.yml"),
], ids=["dev", "own"])
def test_simulated_conversations_meet_the_targets(running_bot: RunningBot, vignettes: Path, phrases: Path) -> None:
    s = simulate(running_bot, vignettes, phrases)
    assert s["completed"] == 1.0
    assert s["top3"] >= 0.90
    assert s["safe"] >= 0.97
    assert s["emerg_miss"] == 0
    assert s["mean_turns"] <= 10
    assert s["slot_precision"] >= 0.97
