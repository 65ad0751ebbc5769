"""Two Rasa replicas and two action servers on this machine, sharing PostgreSQL and Redis.

The replicas are scripts/serve with SERVERS=rasa or SERVERS=action (as docker-compose.yml's
"scaled" profile runs them), behind round-robin proxies (tests/scale/proxy.py): each
conversation's REST messages alternate between the Rasa replicas. Conversations at once, two
messages of one conversation at once, a webhook redelivered to the other replica, the widget in
two tabs on two replicas, a numbered reply reaching the other replica, and, last, a replica
killed in the middle of a conversation. After each, the conversation is read back from the
database: every message once, in order, each turn finished before the next began.
Before them, without servers: the Redis lock store across processes' connections, and the
scaled deployment's files (docker-compose.yml's profile, deploy/haproxy.cfg).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import yaml
from sqlalchemy import text

from bot.benchmark import server_usage
from bot.benchmark.server_usage import pids_listening_on
from bot.lock_store import (
    AtomicRedisLockStore,
    GuardedLockStore,
    InMemoryGuardedLockStore,
    RedisGuardedLockStore,
    TurnTimedOut,
)
from bot.store.db import get_engine
from tests.channels.fake_api import FakeApi
from tests.channels.webhooks import (
    fake_api_on,
    messenger_batch,
    messenger_text,
    post_meta,
    post_twilio,
    psid,
    wa_number,
    wa_text,
    whatsapp_webhook,
)
from tests.channels.widget_client import widget_client
from tests.conftest import CHANNEL_SECRETS, IN_CI, ROOT, RunningBot
from tests.console.fixtures import fresh_postgresql
from tests.patient import reply
from tests.scale.cluster import REDIS_URL, Cluster, cluster, redis_reachable

VIGNETTES = yaml.safe_load((Path(__file__).parent / "data" / "vignettes-dev.yml").read_text())
CASES = [v for v in VIGNETTES if v["id"] in ("d01", "d04", "d05", "d08", "d09", "d13")]
MAX_TURNS = 20


COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
HAPROXY = (ROOT / "deploy" / "haproxy.cfg").read_text()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    if not redis_reachable():
        if IN_CI:
            pytest.fail("Redis must be reachable at 127.0.0.1:6379 in CI")
        pytest.skip("no Redis at 127.0.0.1:6379")
    prefix = f"locktest{uuid.uuid4().hex[:8]}"
    yield prefix
    client = AtomicRedisLockStore(REDIS_URL, prefix).red
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def test_replicas_taking_tickets_at_once_each_get_their_own(redis_prefix: str) -> None:
    """Rasa's RedisLockStore reads, changes and writes a lock in separate calls: two replicas could
    both be first in the queue. Each thread here takes a connection of its own, as a replica has."""
    stores = [AtomicRedisLockStore(REDIS_URL, redis_prefix) for _ in range(4)]
    start = threading.Barrier(len(stores))

    def take(store: AtomicRedisLockStore) -> list[int]:
        start.wait()
        return [store.issue_ticket("one-conversation", 30) for _ in range(50)]

    with ThreadPoolExecutor(len(stores)) as pool:
        tickets = [n for taken in pool.map(take, stores) for n in taken]
    assert sorted(tickets) == list(range(len(stores) * 50))
    lock = stores[0].get_lock("one-conversation")
    assert lock is not None and len(lock.tickets) == len(tickets)
    for number in tickets:
        stores[number % len(stores)].cleanup("one-conversation", number)
    assert stores[0].get_lock("one-conversation") is None  # deleted with its last ticket


def test_a_dead_replicas_ticket_expires_in_redis_too(redis_prefix: str) -> None:
    store = AtomicRedisLockStore(REDIS_URL, redis_prefix)
    store.issue_ticket("abandoned", 0.3)  # taken, never given back: the replica died
    assert 0 < store.red.pttl(store.key_prefix + "abandoned") <= 301
    time.sleep(0.5)
    assert store.red.get(store.key_prefix + "abandoned") is None
    assert store.issue_ticket("abandoned", 30) == 0  # the next message is first in the queue


def test_endpoints_yml_store_is_in_redis_with_redis_url_and_keeps_its_deadline(
        redis_prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(GuardedLockStore(), InMemoryGuardedLockStore)  # `make run`: no Redis needed
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("REDIS_PREFIX", redis_prefix)
    first = GuardedLockStore()  # two replicas; the second with a short deadline
    monkeypatch.setenv("TURN_TIMEOUT_SECONDS", "0.5")
    second = GuardedLockStore()
    assert isinstance(first, RedisGuardedLockStore) and isinstance(first, GuardedLockStore)

    async def overlap() -> None:
        async with first.lock("busy"):
            with pytest.raises(TurnTimedOut):  # waiting for the other replica's message counts against the deadline
                async with second.lock("busy"):
                    pass
        started = time.monotonic()
        async with second.lock("busy"):
            assert time.monotonic() - started < 0.3  # free as soon as the first message ended

    asyncio.run(overlap())
    assert first.get_lock("busy") is None


def test_the_scaled_profile_runs_replicas_behind_the_load_balancer_on_shared_stores() -> None:
    services = COMPOSE["services"]
    scaled = {name for name, service in services.items() if "scaled" in service.get("profiles", [])}
    assert scaled == {"redis", "prepare", "rasa", "actions", "console", "lb"}
    assert not services["db"].get("profiles") and not services["bot"].get("profiles")  # `docker compose up` as before
    for name in ("rasa", "actions", "console"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"] == services["bot"]["environment"]["DATABASE_URL"]
        assert services[name]["depends_on"]["prepare"]["condition"] == "service_completed_successfully"
        assert "ports" not in services[name] or name == "console"  # replicas are reached through the balancer
        assert set(env["SERVERS"].split()) <= {"rasa", "action", "console"}
    rasa = services["rasa"]["environment"]
    assert rasa["SERVERS"] == "rasa" and rasa["REDIS_URL"].startswith("redis://redis:")
    assert rasa["ACTION_SERVER_URL"] == "http://lb:5055/webhook"
    assert services["actions"]["environment"]["SERVERS"] == "action"
    for secret in ("MESSENGER_APP_SECRET", "WHATSAPP_APP_SECRET", "TWILIO_AUTH_TOKEN", "RASA_AUTH_TOKEN"):
        assert secret in rasa and "${" + secret in rasa[secret]
    assert services["rasa"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["lb"]["image"].startswith("haproxy:")
    assert "./deploy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in services["lb"]["volumes"]
    assert services["lb"]["ports"] == ["127.0.0.1:5005:5005"]
    assert len({s.get("image") for s in (services[n] for n in ("prepare", "rasa", "actions", "console"))}) == 1
    # scripts/serve starts what SERVERS names, each kind on the port the balancer expects
    serve = (ROOT / "scripts" / "serve").read_text()
    assert 'SERVERS="${SERVERS:-action rasa console website}"' in serve
    assert rasa["RASA_PORT"] == "5005" and services["actions"]["environment"]["ACTION_PORT"] == "5055"


def test_several_rasa_workers_are_refused_without_the_lock_store_they_share() -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    done = subprocess.run([str(ROOT / "scripts" / "serve")], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=dict(env, SANIC_WORKERS="2", SERVERS="rasa"))
    assert done.returncode == 2 and "SANIC_WORKERS=2 needs REDIS_URL" in done.stderr
    assert COMPOSE["x-rasa-env"]["SANIC_WORKERS"].startswith("${RASA_WORKERS_PER_REPLICA")


def test_the_load_balancer_knows_the_replicas_and_keeps_socketio_on_one() -> None:
    templates = dict(re.findall(r"server-template (\w+) \d+ (\S+)", HAPROXY))
    assert templates == {"rasa": "rasa:5005", "actions": "actions:5055"}
    backends = dict(re.findall(r"^backend (\w+)\n((?:    .*\n|#.*\n)+)", HAPROXY, re.MULTILINE))
    assert "balance roundrobin" in backends["rasa"] and "balance roundrobin" in backends["actions"]
    assert "balance source" in backends["rasa_socketio"]  # engine.io polling needs its own replica
    assert "use_backend rasa_socketio if socketio" in HAPROXY and "path_beg /socket.io/" in HAPROXY
    assert "retry-on conn-failure" in HAPROXY and "option redispatch" in HAPROXY
    assert "%r" not in HAPROXY and "%HU" not in HAPROXY and "%ci" not in HAPROXY  # no paths, no addresses in logs
    if shutil.which("haproxy"):  # Debian's haproxy package: the file as HAProxy reads it
        checked = subprocess.run(["haproxy", "-c", "-f", str(ROOT / "deploy" / "haproxy.cfg")],
                                 capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def require_redis() -> None:
    if not redis_reachable():
        if IN_CI:
            pytest.fail("Redis must be reachable at 127.0.0.1:6379 in CI")
        pytest.skip("no Redis at 127.0.0.1:6379")


@pytest.fixture(scope="module")
def replicas(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require_redis()
    with fresh_postgresql() as database_url, cluster(tmp_path_factory.mktemp("scale"), database_url) as running:
        yield running


@pytest.fixture(scope="module")
def api(replicas: Cluster) -> Iterator[FakeApi]:
    with fake_api_on(replicas.fake_api_port) as fake:
        yield fake


def say(bot: RunningBot, sender: str, message: str) -> list[dict[str, Any]]:
    answer = requests.post(f"{bot.base}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                           timeout=90)
    assert answer.status_code == 200, answer.text
    assert answer.json(), f"no answer to message {message!r}"
    return answer.json()


def triage(bot: RunningBot, case: dict[str, Any], sender: str,
           before_turn: Callable[[int], None] = lambda turn: None) -> list[str]:
    """A whole triage conversation through `bot`; returns the patient's messages in the order sent."""
    message, sent = case["story"], []
    for turn in range(MAX_TURNS):
        before_turn(turn)
        say(bot, sender, message)
        sent.append(message)
        slots = bot.slots(sender)
        if slots.get("triage_level"):
            return sent
        assert slots.get("requested_slot"), f"{sender}: no question and no result"
        message = reply(slots["requested_slot"], case["facts"])
    raise AssertionError(f"{sender}: no result after {MAX_TURNS} messages")


def stored_events(cluster_: Cluster, sender: str) -> list[dict[str, Any]]:
    """The conversation as the database has it, in the order it was written."""
    with get_engine(cluster_.database_url).connect() as connection:
        rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :sender ORDER BY id"),
                                  {"sender": sender}).scalars().all()
    return [json.loads(row) for row in rows]


def assert_whole_and_in_order(cluster_: Cluster, sender: str, sent: list[str]) -> None:
    """Each patient message once, in order; each turn ended (action_listen) before the next message;
    no event written twice; the HTTP API's conversation is the database's."""
    events = stored_events(cluster_, sender)
    users = [e for e in events if e["event"] == "user"]
    assert [u["text"] for u in users] == sent, sender
    for before, event in zip(events, events[1:], strict=False):
        if event["event"] == "user":
            assert (before["event"], before.get("name")) == ("action", "action_listen"), (sender, before)
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps), f"{sender}: events out of order"
    keys = [json.dumps(e, sort_keys=True) for e in events]
    assert len(keys) == len(set(keys)), f"{sender}: an event was written twice"
    tracker = cluster_.bot().tracker(sender)["events"]
    assert [e["event"] for e in tracker] == [e["event"] for e in events]


def test_concurrent_conversations_alternating_between_replicas_lose_nothing(replicas: Cluster) -> None:
    senders = [f"scale-{n}-{uuid.uuid4().hex[:8]}" for n in range(len(CASES))]
    with ThreadPoolExecutor(len(CASES)) as pool:
        sent = list(pool.map(lambda pair: triage(replicas.bot(), *pair), zip(CASES, senders, strict=True)))
    for sender, messages in zip(senders, sent, strict=True):
        served = replicas.proxy.backends_for(sender)
        assert len(served) == len(messages)
        assert all(a != b for a, b in zip(served, served[1:], strict=False)), served  # each on the other replica
        assert_whole_and_in_order(replicas, sender, messages)
    assert sum(len(m) for m in sent) >= 5 * len(CASES)  # whole triages, not just openings


def test_two_messages_of_one_conversation_at_once_are_handled_one_after_the_other(replicas: Cluster) -> None:
    """A patient who sends twice in quick succession, each message reaching another replica."""
    case = CASES[1]
    senders = [f"double-{n}-{uuid.uuid4().hex[:8]}" for n in range(4)]
    for sender in senders:
        say(replicas.bot(0), sender, case["story"])
    start = threading.Barrier(2 * len(senders))
    asked = {s: replicas.bot().slots(s)["requested_slot"] for s in senders}

    def send(sender: str, replica: int, message: str) -> float:
        start.wait()
        say(replicas.bot(replica), sender, message)
        return time.monotonic()

    with ThreadPoolExecutor(2 * len(senders)) as pool:
        jobs = {(s, r): pool.submit(send, s, r, f"{reply(asked[s], case['facts'])} {'and' * r}".strip())
                for s in senders for r in (0, 1)}
        [job.result() for job in jobs.values()]
    for sender in senders:
        events = stored_events(replicas, sender)
        texts = [e["text"] for e in events if e["event"] == "user"]
        assert texts[0] == case["story"] and len(texts) == 3, texts
        assert sorted(texts[1:], key=len) == [f"{reply(asked[sender], case['facts'])}",
                                              f"{reply(asked[sender], case['facts'])} and"]
        assert_whole_and_in_order(replicas, sender, texts)


def test_a_webhook_redelivered_to_another_replica_is_answered_once(replicas: Cluster, api: FakeApi) -> None:
    def deliver_twice(post: Callable[[RunningBot], requests.Response]) -> None:
        with ThreadPoolExecutor(2) as pool:  # the platform retries while the first delivery is being handled
            answers = list(pool.map(post, [replicas.bot(0), replicas.bot(1)]))
        answers.append(post(replicas.bot(1)))  # and once more after it was answered
        assert [a.status_code for a in answers] == [200, 200, 200]

    once, twice = psid(), psid()
    post_meta(replicas.bot(0), "messenger", messenger_batch(messenger_text(once, "hi")))
    payload = messenger_batch(messenger_text(twice, "hi"))
    deliver_twice(lambda bot: post_meta(bot, "messenger", payload))

    wa_once, wa_twice = wa_number(), wa_number()
    post_meta(replicas.bot(0), "whatsapp", whatsapp_webhook(messages=[wa_text(wa_once, "hi")]))
    wa_payload = whatsapp_webhook(messages=[wa_text(wa_twice, "hi")])
    deliver_twice(lambda bot: post_meta(bot, "whatsapp", wa_payload))

    time.sleep(1)  # anything a second delivery would have sent
    for single, double in ((once, twice), (wa_once, wa_twice)):
        assert api.to(single), "no reply at all"
        assert len(api.to(double)) == len(api.to(single))
        assert [e["text"] for e in stored_events(replicas, double) if e["event"] == "user"] == ["hi"]


def test_a_numbered_choice_is_understood_by_the_other_replica(replicas: Cluster, api: FakeApi) -> None:
    sender = f"whatsapp:+{wa_number()}"
    params = {"AccountSid": CHANNEL_SECRETS["TWILIO_ACCOUNT_SID"], "From": sender, "NumMedia": "0",
              "To": CHANNEL_SECRETS["TWILIO_WHATSAPP_NUMBER"]}
    post_twilio(replicas.bot(0), {**params, "MessageSid": f"SM{uuid.uuid4().hex}", "Body": CASES[1]["story"]})
    question = api.wait_for(sender)[-1].body["Body"]
    assert "\n1. " in question and "\n2. " in question, question
    post_twilio(replicas.bot(1), {**params, "MessageSid": f"SM{uuid.uuid4().hex}", "Body": "2"})
    answer = [e["text"] for e in stored_events(replicas, sender) if e["event"] == "user"][-1]
    assert answer.startswith("/inform{"), answer  # the second choice's payload, not "2"


def test_the_widget_open_in_two_tabs_on_two_replicas_gets_every_reply_in_both(replicas: Cluster) -> None:
    session = uuid.uuid4().hex
    with widget_client(replicas.bot(0)) as first, widget_client(replicas.bot(1)) as second:
        assert first.request_session(session) == session
        assert second.request_session(session) == session
        replies = first.say("hi", session)
        assert replies
        deadline = time.monotonic() + 10
        while len(second.replies) < len(replies) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [r.get("text") for r in second.replies] == replies  # through Redis, from the other replica


def test_a_replica_killed_mid_conversation_leaves_the_next_message_to_the_other(replicas: Cluster) -> None:
    """Last in this module: one Rasa replica is gone afterwards."""
    sender = f"killed-{uuid.uuid4().hex[:8]}"
    killed: list[int] = []

    def kill_before_third(turn: int) -> None:
        if turn == 2:
            victim = replicas.proxy.backends_for(sender)[-1] ^ 1  # the replica due to take the next message
            replicas.rasa[victim].kill()
            killed.append(victim)

    sent = triage(replicas.bot(), CASES[0], sender, kill_before_third)
    served = replicas.proxy.backends_for(sender)
    assert killed and served[2] != killed[0] and set(served[2:]) == {killed[0] ^ 1}
    assert_whole_and_in_order(replicas, sender, sent)


def test_one_replica_with_two_rasa_workers_serves_conversations_whole_and_in_order(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """SANIC_WORKERS=2: two processes on one port (and Sanic's idle parent), each taking new connections."""
    require_redis()
    with fresh_postgresql() as database_url, \
            cluster(tmp_path_factory.mktemp("workers"), database_url, 1, 1, rasa_workers=2) as one:
        processes = pids_listening_on(urlsplit(one.rasa[0].url).port or 0)
        assert len(processes) == 3, processes
        before = [server_usage.cpu_seconds([pid]) for pid in processes]
        senders = [f"workers-{n}-{uuid.uuid4().hex[:8]}" for n in range(len(CASES))]
        with ThreadPoolExecutor(len(CASES)) as pool:
            sent = list(pool.map(lambda pair: triage(one.bot(), *pair), zip(CASES, senders, strict=True)))
        for sender, messages in zip(senders, sent, strict=True):
            assert_whole_and_in_order(one, sender, messages)
        grew = [server_usage.cpu_seconds([pid]) - start for pid, start in zip(processes, before, strict=True)]
        assert sum(seconds > 0.2 for seconds in grew) == 2, grew  # both workers handled messages
