"""When a part is down the patient still gets a clear answer and nothing they said is lost."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from bot.clinic import clinic
from tests.conftest import RunningBot, server_env, serving


@pytest.fixture(scope="module")
def bot_without_action_server(trained_model: Path, tmp_path_factory: pytest.TempPathFactory):
    """The Rasa server alone: its action endpoint points at a port where nothing listens."""
    workdir = tmp_path_factory.mktemp("no-actions")
    env = server_env(workdir)
    rasa = str(Path(sys.executable).with_name("rasa"))
    command = [rasa, "run", "--model", str(trained_model), "--enable-api", "--auth-token", "test-token",
               "--interface", "127.0.0.1", "--port", env["RASA_PORT"], "--credentials", "credentials.yml",
               "--endpoints", "endpoints.yml"]
    base = f"http://127.0.0.1:{env['RASA_PORT']}"
    with serving(command, env, workdir, [f"{base}/status?token=test-token"]):
        yield RunningBot(base, "test-token", workdir / "rasa.db", console="")


def test_a_down_action_server_gets_an_apology_with_the_phone_number(bot_without_action_server: RunningBot) -> None:
    sender = f"down-{uuid.uuid4().hex[:8]}"
    replies = bot_without_action_server.say(sender, "my kneecap hurts on the stairs")
    text = " ".join(r.get("text", "") for r in replies)
    assert clinic().phone in text and clinic().emergency_number in text
    events = bot_without_action_server.tracker(sender)["events"]
    assert any(e.get("text") == "my kneecap hurts on the stairs" for e in events if e["event"] == "user")


def test_the_working_bot_never_sends_the_apology(running_bot: RunningBot) -> None:
    replies = running_bot.say(f"up-{uuid.uuid4().hex[:8]}", "my kneecap hurts on the stairs")
    assert all("went wrong" not in r.get("text", "") for r in replies)


