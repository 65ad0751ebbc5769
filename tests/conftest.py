"""Shared fixtures: one trained model per test run, and the real servers when a test needs them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
SHARED_EVAL = ROOT.parent / "shared" / "eval"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def trained_model() -> Path:
    from bot.training import ensure_model

    return ensure_model()


@dataclass(frozen=True)
class RunningBot:
    base: str
    token: str
    database: Path

    def say(self, sender: str, text: str) -> list[dict]:
        response = requests.post(f"{self.base}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                 timeout=60)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict:
        response = requests.get(f"{self.base}/conversations/{sender}/tracker", params={"token": self.token},
                                timeout=30)
        response.raise_for_status()
        return response.json()

    def slots(self, sender: str) -> dict:
        return self.tracker(sender).get("slots") or {}


def _wait_for(url: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the servers exited early with code {process.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {seconds} s")


@pytest.fixture(scope="session")
def running_bot(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """The real action server and Rasa server (scripts/serve), on free ports with a fresh SQLite file."""
    workdir = tmp_path_factory.mktemp("bot")
    database = workdir / "rasa.db"
    env = dict(
        os.environ,
        RASA_PORT=str(free_port()),
        ACTION_PORT=str(free_port()),
        RASA_AUTH_TOKEN="test-token",
        DATABASE_URL=f"sqlite:///{database}",
        RASA_TELEMETRY_ENABLED="false",
    )
    log = (workdir / "serve.log").open("w")
    process = subprocess.Popen([str(ROOT / "scripts" / "serve")], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{env['RASA_PORT']}"
    try:
        _wait_for(f"{base}/status?token=test-token", process, 240)
        _wait_for(f"http://127.0.0.1:{env['ACTION_PORT']}/health", process, 60)
        yield RunningBot(base, "test-token", database)
    except RuntimeError:
        log.flush()
        sys.stderr.write((workdir / "serve.log").read_text()[-5000:])
        raise
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
