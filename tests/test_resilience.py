"""When a part is down the patient still gets a clear answer and nothing they said is lost.

The servers' supervisor (bot.supervise) is tested here on small real processes; the real servers
under faults (database stopped, action call hung, servers killed) in test_fault_postgres.py.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered

from bot.clinic import clinic
from bot.lock_store import GuardedLockStore
from bot.tracker_store import ResilientSQLTrackerStore, TrackerStoreUnavailable
from tests.conftest import ROOT, RunningBot, server_env, serving


@pytest.fixture(scope="module")
def bot_without_action_server(trained_model: Path, tmp_path_factory: pytest.TempPathFactory):
    """The Rasa server alone: its action endpoint points at a port where nothing listens."""
    workdir = tmp_path_factory.mktemp("no-actions")
    env = server_env(workdir)
    env["ACTION_SERVER_URL"] = f"http://127.0.0.1:{env['ACTION_PORT']}/webhook"
    rasa = str(Path(sys.executable).with_name("rasa"))
    command = [rasa, "run", "--model", str(trained_model), "--enable-api", "--auth-token=-test-token",
               "--interface", "127.0.0.1", "--port", env["RASA_PORT"], "--credentials", "credentials.yml",
               "--endpoints", "endpoints.yml"]
    base = f"http://127.0.0.1:{env['RASA_PORT']}"
    with serving(command, env, workdir, [f"{base}/status?token=-test-token"]):
        yield RunningBot(base, "-test-token", workdir / "rasa.db", console="")


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




def test_a_sender_id_the_database_cannot_store_fails_that_message_and_not_the_server(tmp_path: Path) -> None:
    """Rasa's own SQL store calls sys.exit here (a lone surrogate is a ValueError to it)."""
    store = ResilientSQLTrackerStore(Domain.empty(), host=f"sqlite:///{tmp_path / 'rasa.db'}")
    trackers, locks = FailSafeTrackerStore(store), GuardedLockStore()  # as Rasa's Agent wraps and locks them

    async def handle(sender: str, text: str) -> None:  # what Agent.handle_message does with the two stores
        async with locks.lock(sender):
            tracker = await trackers.get_or_create_tracker(sender)
            tracker.update(UserUttered(text))
            await trackers.save(tracker)

    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(handle("x-\ud800", "hi"))
    asyncio.run(handle("x-1", "hello"))
    saved = asyncio.run(store.retrieve("x-1"))
    assert saved is not None and [e.text for e in saved.events if isinstance(e, UserUttered)] == ["hello"]


class Supervised:
    """`python -m bot.supervise` with its log lines collected as they come."""

    def __init__(self, *arguments: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "bot.supervise", *arguments], cwd=ROOT,
                                        stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(iter(self.process.stderr.readline, "")), daemon=True).start()

    def wait_for(self, pattern: str, count: int = 1, seconds: float = 20) -> list[re.Match]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = [m for m in (re.search(pattern, line) for line in list(self.lines)) if m]
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"no {pattern!r} x{count} in {self.lines}")

    def pid(self, name: str, count: int = 1) -> int:
        return int(self.wait_for(rf"started {name} \(pid (\d+)\)", count)[count - 1].group(1))


@contextmanager
def supervised(*arguments: str) -> Iterator[Supervised]:
    supervisor = Supervised(*arguments)
    try:
        yield supervisor
    finally:
        if supervisor.process.poll() is None:
            os.killpg(supervisor.process.pid, signal.SIGKILL)
        supervisor.process.wait(timeout=10)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_gone(pgid: int, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not group_alive(pgid)


def test_a_server_that_dies_is_restarted_alone_and_sigterm_stops_everything() -> None:
    # "flaky" leaves a child of its own behind when it dies, as Sanic's workers do.
    with supervised("steady: exec sleep 300", "flaky: sleep 300 & exec sleep 300") as supervisor:
        steady, flaky = supervisor.pid("steady"), supervisor.pid("flaky")
        os.kill(flaky, signal.SIGKILL)
        supervisor.wait_for(r"flaky was killed by SIGKILL after \d+ s; restarting in 1 s")
        again = supervisor.pid("flaky", count=2)
        assert wait_gone(flaky)  # what it left behind went with it
        assert group_alive(steady) and group_alive(again) and again != flaky

        supervisor.process.send_signal(signal.SIGTERM)
        assert supervisor.process.wait(timeout=30) == 0
        assert wait_gone(steady) and wait_gone(again)


def test_a_crash_loop_stops_everything_with_the_reason() -> None:
    started = time.monotonic()
    with supervised("--max-failures", "3", "broken: exit 3", "steady: exec sleep 300") as supervisor:
        steady = supervisor.pid("steady")
        assert supervisor.process.wait(timeout=30) == 1
        assert time.monotonic() - started >= 3  # paused 1 s, then 2 s: it did not spin
        supervisor.wait_for(r"broken exited with code 3; it failed 3 times in a row without ever starting")
        assert len(supervisor.wait_for(r"started broken")) == 3
        assert wait_gone(steady)


def test_a_server_that_had_started_properly_is_restarted_however_often_it_fails() -> None:
    with supervised("--max-failures", "2", "--stable-after", "1", "faulty: sleep 1.5; exit 3") as supervisor:
        supervisor.wait_for(r"started faulty", count=4, seconds=30)
        assert supervisor.process.poll() is None


@pytest.mark.skipif(sys.platform != "linux", reason="the servers follow the supervisor through Linux's prctl")
def test_the_servers_do_not_outlive_a_killed_supervisor() -> None:
    with supervised("steady: exec sleep 300") as supervisor:
        steady = supervisor.pid("steady")
        supervisor.process.kill()
        supervisor.process.wait(timeout=10)
        assert wait_gone(steady)
