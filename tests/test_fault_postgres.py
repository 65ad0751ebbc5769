"""Faults from outside, with the real servers (scripts/serve) on a PostgreSQL of their own.

The database is stopped and started again in the middle of conversations; an action call is
held up or never answered; the action server and the Rasa server are killed with SIGKILL. The
patient always gets an answer (the apology while something is down), the service comes back by
itself, and every message that was answered normally is in the conversation afterwards.

PostgreSQL runs from initdb/pg_ctl on a spare port in a temporary directory, as an unprivileged
user when the tests run as root (PostgreSQL refuses root): the shared instance is never touched.
Without initdb the module is skipped locally and fails in CI (CI=true).
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.clinic import clinic
from tests.conftest import IN_CI, ROOT, RunningBot, free_port, server_env, serving
from tests.patient import reply
from tests.test_conversation_e2e import BY_ID

TURN_TIMEOUT = 8.0  # seconds (TURN_TIMEOUT_SECONDS for these servers): short, to keep the test fast
FACTS = BY_ID["d04"]["facts"]  # the patient's answers, whatever the bot asks
STORY = BY_ID["d04"]["story"]
INTRO = "virtual assistant"  # in the opening message only: a conversation that starts over shows it again


class OwnPostgres:
    """A throwaway PostgreSQL cluster: initdb, pg_ctl start/stop, removed afterwards."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="knee-pg-"))  # under /tmp: reachable by the server's user
        self.data, self.port = self.dir / "data", free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.user = _unprivileged_user() if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.dir, self.user)
        self._run(pg_tool("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")

    def _run(self, *command: str) -> None:
        done = subprocess.run(command, user=self.user, capture_output=True, text=True, timeout=120, cwd=self.dir)
        assert done.returncode == 0, f"{command[0]} failed: {done.stdout}{done.stderr}"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"
        self._run(pg_tool("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "server.log"),
                  "-w", "-t", "60", "start")

    def stop(self) -> None:
        """As in a crash: no clean shutdown, open connections broken."""
        self._run(pg_tool("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "-t", "60", "stop")

    def remove(self) -> None:
        subprocess.run([pg_tool("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"], user=self.user,
                       capture_output=True, timeout=60, cwd=self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)


def pg_tool(name: str) -> str:
    """On PATH, or where Debian and Ubuntu install it (/usr/lib/postgresql/<version>/bin)."""
    installed = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    newest = max(installed, key=lambda path: [int(n) for n in Path(path).parents[1].name.split(".") if n.isdigit()],
                 default="")
    return shutil.which(name) or newest


def _unprivileged_user() -> str:
    try:
        return pwd.getpwnam("nobody").pw_name
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "knee-pg"], check=True, timeout=30)
        return "knee-pg"


@pytest.fixture(scope="module")
def postgres() -> Iterator[OwnPostgres]:
    missing = [tool for tool in ("initdb", "pg_ctl") if not pg_tool(tool)]
    if missing:
        message = f"{', '.join(missing)} not found: the fault test runs a PostgreSQL of its own"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    server = OwnPostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@dataclass
class ActionStandIn:
    """Sits between Rasa and the real action server and forwards every call, except that a call
    for a sender in `hold` waits that many seconds first (until the module ends, at most)."""

    target: str
    hold: dict[str, float] = field(default_factory=dict)
    url: str = ""
    released: threading.Event = field(default_factory=threading.Event)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                seconds = stand_in.hold.pop(json.loads(body).get("sender_id"), 0)
                if seconds:
                    stand_in.released.wait(seconds)
                try:
                    answer = requests.post(stand_in.target, data=body, timeout=60,
                                           headers={"Content-Type": "application/json"})
                    self.send_response(answer.status_code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer.content)))
                    self.end_headers()
                    self.wfile.write(answer.content)
                except (requests.RequestException, OSError):  # the action server is down, or Rasa gave up
                    self.close_connection = True

        return Handler


@dataclass
class Servers:
    bot: RunningBot
    postgres: OwnPostgres
    stand_in: ActionStandIn
    action_health: str
    log: Path

    def post(self, sender: str, text: str) -> tuple[int, list[dict], float]:
        started = time.monotonic()
        response = requests.post(f"{self.bot.base}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                 timeout=60)
        elapsed = time.monotonic() - started
        return response.status_code, response.json() if response.status_code == 200 else [], elapsed

    def answered(self, sender: str, text: str) -> str:
        """Say `text`; it must be answered normally. Returns the reply."""
        status, replies, _ = self.post(sender, text)
        said = " ".join(r.get("text", "") for r in replies)
        assert status == 200 and replies and not is_apology(said), f"{text!r} got {status}: {said[:200]}"
        return said

    def next_answer(self, sender: str) -> str:
        return reply(self.bot.slots(sender)["requested_slot"], FACTS)

    def user_messages(self, sender: str) -> list[str]:
        return [e["text"] for e in self.bot.tracker(sender)["events"] if e["event"] == "user"]

    def pids(self, name: str) -> list[int]:
        """Process ids the supervisor logged for a server, oldest first."""
        return [int(pid) for pid in re.findall(rf"serve: started {name} \(pid (\d+)\)", self.log.read_text())]


def is_apology(text: str) -> bool:
    return "went wrong" in text


def assert_apology(text: str) -> None:
    assert is_apology(text) and clinic().phone in text and clinic().emergency_number in text, text


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {seconds:g} s")


def ok(url: str) -> bool:
    return requests.get(url, timeout=5).status_code == 200


def down(url: str) -> bool:
    try:
        return not ok(url)
    except requests.RequestException:
        return True


@pytest.fixture(scope="module")
def servers(trained_model: Path, postgres: OwnPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    workdir = tmp_path_factory.mktemp("fault")
    env = server_env(workdir)
    stand_in = ActionStandIn(target=f"http://127.0.0.1:{env['ACTION_PORT']}/webhook")
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), stand_in.handler())
    proxy.daemon_threads = True
    stand_in.url = f"http://127.0.0.1:{proxy.server_address[1]}/webhook"
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    env.update(DATABASE_URL=postgres.url, ACTION_SERVER_URL=stand_in.url, TURN_TIMEOUT_SECONDS=str(TURN_TIMEOUT))
    base, console = f"http://127.0.0.1:{env['RASA_PORT']}", f"http://127.0.0.1:{env['CONSOLE_PORT']}"
    action_health = f"http://127.0.0.1:{env['ACTION_PORT']}/health"
    ready = [f"{base}/status?token=-test-token", action_health, f"{console}/login"]
    try:
        with serving([str(ROOT / "scripts" / "serve")], env, workdir, ready):
            bot = RunningBot(base, "-test-token", workdir / "unused.db", console)
            yield Servers(bot, postgres, stand_in, action_health, workdir / "serve.log")
    finally:
        stand_in.released.set()
        proxy.shutdown()
        proxy.server_close()


def test_the_database_stopping_mid_conversation_costs_one_apology_and_no_answered_message(servers: Servers) -> None:
    sender, other = f"pg-{uuid.uuid4().hex[:8]}", f"pg-{uuid.uuid4().hex[:8]}"
    servers.answered(sender, STORY)
    answered = [STORY, servers.next_answer(sender)]
    servers.answered(sender, answered[1])

    servers.postgres.stop()
    try:
        status, replies, _ = servers.post(sender, "about three weeks")
        assert status == 200
        assert_apology(" ".join(r.get("text", "") for r in replies))
        status, replies, _ = servers.post(other, "hello")  # a new patient is not greeted as if all were well
        assert status == 200
        assert_apology(" ".join(r.get("text", "") for r in replies))
        assert ok(f"{servers.bot.base}/status?token=-test-token")  # the server is still up
    finally:
        servers.postgres.start()

    answered.append(servers.next_answer(sender))
    assert INTRO not in servers.answered(sender, answered[-1])  # the conversation went on where it was
    assert servers.user_messages(sender) == answered  # the apologised-for message is the only one missing
    assert INTRO in servers.answered(other, "hello")


def test_the_database_stopping_during_a_message_fails_that_message_only(servers: Servers) -> None:
    sender = f"mid-{uuid.uuid4().hex[:8]}"
    servers.answered(sender, STORY)
    answered = [STORY]
    result: dict[str, Any] = {}
    text = servers.next_answer(sender)
    servers.stand_in.hold[sender] = 5.0  # the conversation is read, then its action call waits
    worker = threading.Thread(target=lambda: result.update(reply=servers.post(sender, text)))
    worker.start()
    time.sleep(1.0)
    servers.postgres.stop()
    try:
        worker.join(timeout=30)
        status, replies, _ = result["reply"]
        assert status == 200
        assert_apology(" ".join(r.get("text", "") for r in replies))  # its answer could not be saved
    finally:
        servers.postgres.start()

    answered.append(servers.next_answer(sender))
    servers.answered(sender, answered[-1])
    assert servers.user_messages(sender) == answered


def test_a_hung_action_call_costs_that_patient_an_apology_and_no_one_else_a_wait(servers: Servers) -> None:
    hung, other = f"hung-{uuid.uuid4().hex[:8]}", f"other-{uuid.uuid4().hex[:8]}"
    servers.stand_in.hold[hung] = 120.0  # never answered, as far as the deadline is concerned
    result: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: result.update(reply=servers.post(hung, "hello")))
    worker.start()
    time.sleep(1.0)
    waits = []
    for text in (STORY, None, None):  # a whole exchange while the first patient waits
        status, replies, elapsed = servers.post(other, text or servers.next_answer(other))
        assert status == 200 and not is_apology(" ".join(r.get("text", "") for r in replies))
        waits.append(elapsed)
    worker.join(timeout=TURN_TIMEOUT + 30)
    status, replies, elapsed = result["reply"]
    assert status == 200
    assert_apology(" ".join(r.get("text", "") for r in replies))
    assert TURN_TIMEOUT - 1 <= elapsed <= TURN_TIMEOUT + 5
    assert max(waits) < 5, waits
    assert INTRO in servers.answered(hung, "hello")  # and the next message is answered again


@pytest.mark.parametrize("name", ["action server", "rasa"])
def test_a_killed_server_is_restarted_and_the_conversation_goes_on(servers: Servers, name: str) -> None:
    sender = f"kill-{uuid.uuid4().hex[:8]}"
    servers.answered(sender, STORY)
    answered = [STORY]
    health = {"action server": servers.action_health, "rasa": f"{servers.bot.base}/status?token=-test-token"}[name]
    console = f"{servers.bot.console}/login"

    before = servers.pids(name)
    os.kill(before[-1], signal.SIGKILL)
    wait_until(lambda: down(health), 10, f"{name} stops answering after SIGKILL")
    assert ok(console)  # the others are not taken down with it
    wait_until(lambda: len(servers.pids(name)) > len(before) and ok(health), 180, f"{name} is restarted")
    assert ok(console)

    answered.append(servers.next_answer(sender))
    assert INTRO not in servers.answered(sender, answered[-1])  # where it was: the conversation was saved
    assert servers.user_messages(sender) == answered
