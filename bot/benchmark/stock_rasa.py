"""The stock Rasa bot to compare with: `rasa init --no-prompt` (the moodbot), built once and cached.

The project and its model live outside the repository (`$XDG_CACHE_HOME/knee-triage/`, by default
~/.cache/knee-triage/), one per Rasa version, built with this environment's `rasa` and reused on
later runs. It is served with its own files: the REST channel, no action server and Rasa's
in-memory tracker and lock stores, on a free loopback port, and always stopped afterwards.
"""

from __future__ import annotations

import fcntl
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import rasa
import requests
import yaml

from bot.benchmark.load import Conversation, ConversationFactory

RASA = Path(sys.executable).parent / "rasa"
BUILD_SECONDS = 1200  # scaffold and train, on a busy 2-core machine
READY_SECONDS = 180
# A conversation as long as a triage, through the moodbot's three stories and its two rules.
INTENTS = ["greet", "mood_unhappy", "deny", "greet", "mood_great", "bot_challenge", "goodbye"]


def cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "knee-triage" / f"baseline-rasa-{rasa.__version__}"


def server_env() -> dict[str, str]:
    return dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")


def ensure_project(log: Callable[[str], None] = print) -> Path:
    """The cached moodbot project with a trained model, building it the first time."""
    project = cache_dir()
    project.parent.mkdir(parents=True, exist_ok=True)
    with (project.parent / f"{project.name}.lock").open("w") as lock:  # one builder at a time
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not any((project / "models").glob("*.tar.gz")):
            building = project.with_name(f"{project.name}.building")
            shutil.rmtree(building, ignore_errors=True)
            building.mkdir()
            build_log = project.parent / f"{project.name}.build.log"
            log(f"building the stock Rasa bot once (rasa init --no-prompt, training takes a few minutes) in "
                f"{project}; log: {build_log}")
            with build_log.open("w") as out:
                subprocess.run([str(RASA), "init", "--no-prompt", "--init-dir", str(building)], cwd=building,
                               env=server_env(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               timeout=BUILD_SECONDS, check=True)
            if not any((building / "models").glob("*.tar.gz")):
                raise RuntimeError(f"rasa init trained no model; see {build_log}")
            shutil.rmtree(project, ignore_errors=True)
            building.rename(project)  # whole or not at all: an interrupted build is started again next time
    return project


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class StockBot:
    base: str
    token: str
    pid: int
    lines: dict[str, list[str]]  # the moodbot's own training examples, by intent

    def conversations(self) -> ConversationFactory:
        def conversation(user: int, number: int) -> Conversation:
            pick = random.Random(f"{user}-{number}").choice
            for intent in INTENTS:
                yield pick(self.lines[intent])  # the moodbot asks nothing that needs its slots
            return True

        return conversation


def training_lines(project: Path) -> dict[str, list[str]]:
    nlu = yaml.safe_load((project / "data" / "nlu.yml").read_text())["nlu"]
    return {item["intent"]: [line[2:].strip() for line in item["examples"].splitlines() if line.startswith("- ")]
            for item in nlu if "intent" in item}


@contextmanager
def serving(project: Path) -> Iterator[StockBot]:
    """Runs `rasa run` on the cached project until the block ends (also on Ctrl-C or an error)."""
    port, token = free_port(), secrets.token_urlsafe(16)
    base = f"http://127.0.0.1:{port}"
    with (project / "server.log").open("w") as out:
        process = subprocess.Popen(
            [str(RASA), "run", "--enable-api", f"--auth-token={token}", "--interface", "127.0.0.1", "--port", str(port),
             "--model", "models", "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"],
            cwd=project, env=server_env(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)  # its own group: Ctrl-C reaches this script, which stops it below
        try:
            wait_until_ready(base, token, process)
            yield StockBot(base, token, process.pid, training_lines(project))
        finally:
            stop(process)


def wait_until_ready(base: str, token: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the stock Rasa bot exited with code {process.returncode}; see its server.log")
        try:
            if requests.get(f"{base}/status", params={"token": token}, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the stock Rasa bot was not ready after {READY_SECONDS} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
