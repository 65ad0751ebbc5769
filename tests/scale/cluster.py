"""Rasa replicas and action servers on this machine, as the scaled deployment runs them.

Each replica is scripts/serve with SERVERS=rasa or SERVERS=action and its own ports; they share one
PostgreSQL schema (conversations and cases), one Redis (REDIS_URL, with a prefix of this run's own)
and one fake Meta/Twilio API. The Rasa replicas reach the action servers through a round-robin
proxy, and the tests reach the Rasa replicas through another.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import redis
import requests

from bot.benchmark.server_usage import pids_listening_on
from tests.conftest import ROOT, RunningBot, free_port, server_env
from tests.scale.proxy import RoundRobinProxy, round_robin

REDIS_URL = os.environ.get("SCALE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TOKEN = "-test-token"  # server_env's


def accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@dataclass
class Replica:
    name: str
    url: str  # its own address, the proxy's backend
    ready: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen([str(ROOT / "scripts" / "serve")], cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, seconds: float = 240) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                tail = self.log.read_text()[-4000:]
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{tail}")
            try:
                if requests.get(self.ready, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready after {seconds} s:\n{self.log.read_text()[-4000:]}")

    def kill(self) -> None:
        """SIGKILL to the whole replica, supervisor and server (a process group of its own): a machine lost,
        no clean shutdown, no restart."""
        port = urlsplit(self.url).port
        servers = pids_listening_on(port) if port else []
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
        for server in servers:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(server), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while port and accepts(port) and time.monotonic() < deadline:
            time.sleep(0.05)  # gone once the kernel has closed its socket (/proc may not show whose it is)

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def wait_stopped(self) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)


@dataclass
class Cluster:
    rasa: list[Replica]
    actions: list[Replica]
    proxy: RoundRobinProxy  # in front of the Rasa replicas
    action_proxy: RoundRobinProxy
    database_url: str
    redis_prefix: str
    fake_api_port: int
    web_origin: str
    extra: list[Replica] = field(default_factory=list)

    def bot(self, replica: int | None = None) -> RunningBot:
        """The proxy (None) or one replica, as the channel test helpers take a bot."""
        base = self.proxy.base if replica is None else self.rasa[replica].url
        return RunningBot(base, TOKEN, Path("/nonexistent"), "", self.web_origin, self.fake_api_port)


def rasa_replicas_env(workdir: Path, database_url: str, prefix: str) -> dict[str, str]:
    env = server_env(workdir)
    env.update(DATABASE_URL=database_url, REDIS_URL=REDIS_URL, REDIS_PREFIX=prefix, TURN_TIMEOUT_SECONDS="20",
               ACTION_SERVER_SANIC_WORKERS="2", TF_CPP_MIN_LOG_LEVEL="3")
    return env


@contextmanager
def cluster(workdir: Path, database_url: str, rasa_count: int = 2, action_count: int = 2,
            rasa_workers: int = 1) -> Iterator[Cluster]:
    """The replicas (each Rasa replica with `rasa_workers` Sanic workers), started together and stopped at
    the end; Redis keys of the run removed afterwards."""
    prefix = f"scale{secrets.token_hex(4)}"
    base_env = rasa_replicas_env(workdir, database_url, prefix)
    with ExitStack() as stack:
        actions = []
        for n in range(action_count):
            port = free_port()
            env = dict(base_env, SERVERS="action", ACTION_PORT=str(port))
            actions.append(Replica(f"actions{n}", f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/health",
                                   env, workdir / f"actions{n}.log"))
        action_proxy = stack.enter_context(round_robin([a.url for a in actions]))
        rasa = []
        for n in range(rasa_count):
            port = free_port()
            env = dict(base_env, SERVERS="rasa", RASA_PORT=str(port), ACTION_SERVER_URL=f"{action_proxy.base}/webhook",
                       SANIC_WORKERS=str(rasa_workers))
            rasa.append(Replica(f"rasa{n}", f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/status?token={TOKEN}",
                                env, workdir / f"rasa{n}.log"))
        proxy = stack.enter_context(round_robin([r.url for r in rasa]))
        everyone = [*actions, *rasa]
        stack.callback(_forget_keys, prefix)
        stack.callback(stop_all, everyone)
        prepare(database_url)
        for replica in everyone:
            replica.start()
        for replica in everyone:
            replica.wait_ready()
        yield Cluster(rasa, actions, proxy, action_proxy, database_url, prefix, int(base_env["FAKE_API_PORT"]),
                      base_env["WIDGET_ORIGINS"])


def prepare(database_url: str) -> None:
    """Rasa's events table, as docker-compose.yml's `prepare` creates it: replicas starting together on a
    new database would race to."""
    from rasa.core.tracker_store import SQLTrackerStore

    SQLTrackerStore(host=database_url).engine.dispose()


def stop_all(replicas: list[Replica]) -> None:
    """SIGTERM to all at once (each may take its grace period), then wait for each."""
    for replica in replicas:
        replica.terminate()
    for replica in replicas:
        replica.wait_stopped()


def _forget_keys(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def main() -> None:
    """Serve a cluster until Ctrl-C, for scripts/benchmark-chat against its proxy:

        .venv/bin/python -m tests.scale.cluster --rasa 2 --actions 2
        scripts/benchmark-chat --base <the proxy it prints> --token=-test-token --users 1,10,20
    """
    import argparse
    import tempfile

    from tests.console.fixtures import fresh_postgresql

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--rasa", type=int, default=2)
    parser.add_argument("--actions", type=int, default=2)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with tempfile.TemporaryDirectory(prefix="knee-scale-") as workdir, fresh_postgresql() as database_url, \
            cluster(Path(workdir), database_url, args.rasa, args.actions) as running:
        print(f"ready: {running.proxy.base} (token {TOKEN}); Rasa replicas {[r.url for r in running.rasa]}",
              flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
