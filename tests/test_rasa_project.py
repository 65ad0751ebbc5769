"""The Rasa project itself: the data validates, the dialogue follows the test stories, the
domain and the action server agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = str(Path(sys.executable).with_name("rasa"))


def run_rasa(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([RASA, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={"RASA_TELEMETRY_ENABLED": "false", "PATH": "/usr/bin:/bin",
                               "HOME": str(Path.home())})


def _domain() -> dict:
    """The domain as Rasa merges it from the domain/ folder."""
    from rasa.shared.core.domain import Domain

    return Domain.load(ROOT / "domain").as_dict()


def test_training_data_validates() -> None:
    result = run_rasa("data", "validate", "--domain", "domain", "--data", "data", "--config", "config.yml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_dialogue_follows_the_test_stories(trained_model: Path, tmp_path: Path) -> None:
    result = run_rasa("test", "core", "--model", str(trained_model), "--stories", "tests/test_stories.yml",
                      "--fail-on-prediction-errors", "--out", str(tmp_path))
    failed = (tmp_path / "failed_test_stories.yml")
    detail = failed.read_text()[-4000:] if failed.exists() else result.stdout[-3000:] + result.stderr[-3000:]
    assert result.returncode == 0, detail


def test_every_domain_action_is_served_by_the_action_server() -> None:
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    domain = _domain()
    custom = [a for a in domain["actions"] if not a.startswith("utter_")]
    assert sorted(set(custom) - set(executor.actions)) == []


def test_every_question_slot_is_read_outside_the_form_and_asked_by_it() -> None:
    from bot.dialogue import FORM_SLOTS

    domain = _domain()
    for slot in FORM_SLOTS:
        # triage_form reads the message itself while it runs; the mapping reads it everywhere else
        [mapping] = domain["slots"][slot]["mappings"]
        assert mapping == {"type": "custom", "action": "action_extract_answers",
                           "conditions": [{"active_loop": None}]}, slot
        assert slot in domain["forms"]["triage_form"]["required_slots"], slot
