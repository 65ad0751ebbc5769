"""Shared fixtures: one trained model per test run, and the real servers when a test needs them."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
SHARED_EVAL = ROOT.parent / "shared" / "eval"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # screenshots for a person to look at (git-ignored)
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Playwright drives Debian's Chromium: it never downloads a browser of its own.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")  # Playwright's event loop must not outlive the module: others use asyncio
def browser() -> Iterator[Browser]:
    """Headless Chromium from Debian's package (scripts/setup installs it; CI must have it)."""
    if not shutil.which(CHROMIUM):
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing: the project's setup installs Debian's chromium package")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def trained_model() -> Path:
    from bot.training import ensure_model

    return ensure_model()


@dataclass(frozen=True)
class RunningBot:
    base: str
    token: str
    database: Path
    console: str  # the staff console that scripts/serve starts beside the bot
    web: str = ""  # the demo clinic page with the chat widget (bot.web)
    fake_api_port: int = 0  # where the Messenger, WhatsApp and Twilio connectors send replies

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

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


# The messaging channels' secrets in the tests (credentials.yml reads them from the environment).
CHANNEL_SECRETS = {
    "MESSENGER_APP_SECRET": "messenger-app-secret", "MESSENGER_VERIFY_TOKEN": "messenger-verify",
    "MESSENGER_PAGE_ACCESS_TOKEN": "page-token", "WHATSAPP_APP_SECRET": "whatsapp-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "whatsapp-verify", "WHATSAPP_ACCESS_TOKEN": "wa-token",
    "WHATSAPP_PHONE_NUMBER_ID": "106540352242922", "TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
    "TWILIO_AUTH_TOKEN": "twilio-auth-token", "TWILIO_WHATSAPP_NUMBER": "whatsapp:+14155238886",
    "TWILIO_WEBHOOK_URL": "",
}


def server_env(workdir: Path) -> dict[str, str]:
    """Environment for a bot on free ports with a fresh SQLite file in workdir.

    The connectors send to a fake API on FAKE_API_PORT (tests/channels/fake_api.py starts it).
    """
    web_port, fake_api = free_port(), f"http://127.0.0.1:{free_port()}"
    return dict(
        os.environ,
        RASA_PORT=str(free_port()),
        ACTION_PORT=str(free_port()),
        CONSOLE_PORT=str(free_port()),
        WEB_PORT=str(web_port),
        WIDGET_ORIGINS=f"http://127.0.0.1:{web_port}",
        RASA_AUTH_TOKEN="-test-token",  # a leading dash, as secrets.token_urlsafe sometimes gives
        DATABASE_URL=f"sqlite:///{workdir / 'rasa.db'}",
        RASA_TELEMETRY_ENABLED="false",
        META_API_BASE=fake_api,
        TWILIO_API_BASE=fake_api,
        FAKE_API_PORT=fake_api.rsplit(":", 1)[1],
        CHANNEL_RETRY_DELAY="0.2",
        **CHANNEL_SECRETS,
    )


@contextmanager
def serving(command: list[str], env: dict[str, str], workdir: Path, ready: list[str]) -> Iterator[None]:
    """Run a server command in its own process group until the block ends; wait for the ready URLs."""
    log_path = workdir / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            for url in ready:
                _wait_for(url, process, 240)
            yield
        except RuntimeError:
            sys.stderr.write(log_path.read_text()[-5000:])
            raise
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def running_bot(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBot]:
    """The real action server and Rasa server (scripts/serve), on free ports with a fresh SQLite file."""
    workdir = tmp_path_factory.mktemp("bot")
    env = server_env(workdir)
    base = f"http://127.0.0.1:{env['RASA_PORT']}"
    console = f"http://127.0.0.1:{env['CONSOLE_PORT']}"
    web = f"http://127.0.0.1:{env['WEB_PORT']}"
    ready = [f"{base}/status?token=-test-token", f"http://127.0.0.1:{env['ACTION_PORT']}/health", f"{console}/login",
             f"{web}/health"]
    with serving([str(ROOT / "scripts" / "serve")], env, workdir, ready):
        yield RunningBot(base, "-test-token", workdir / "rasa.db", console, web, int(env["FAKE_API_PORT"]))
