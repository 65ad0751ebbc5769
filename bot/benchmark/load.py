"""N simulated users holding whole conversations with a Rasa bot over the REST channel, for a fixed time.

Each user, in turn: posts a message to /webhooks/rest/webhook, reads the conversation's slots
(GET /conversations/<id>/tracker?include_events=NONE, which a scripted patient needs to know what was
asked), and sends the next message its conversation gives; when the conversation ends it starts a new
one under a new sender id. Only the posted messages are timed. Every request has a timeout, every
conversation a turn limit, and every level ends after its warm-up plus its measured seconds.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field
from math import ceil
from typing import Any

import aiohttp

from bot.benchmark import server_usage

# A conversation yields the user's messages and is sent the tracker's slots after each reply; it returns
# when it has nothing more to say: True when it got where it was going (a triage result), False when stuck.
Conversation = Generator[str, dict[str, Any], bool]
ConversationFactory = Callable[[int, int], Conversation]  # (user number, conversation number) -> conversation

MAX_TURNS = 30  # a conversation that has not ended by then is abandoned
ERROR_PAUSE = 0.5  # after a failed request: a new conversation, but not in a tight loop against a failing server
USAGE_INTERVAL = 0.5  # seconds between memory samples


@dataclass
class Tally:
    """What one level measured; only messages that finished inside the measured window count."""

    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0  # an answer other than 200, to a message or a tracker read
    transport: int = 0  # no answer: refused connection, reset, timeout
    silent: int = 0  # 200 with an empty list of bot messages
    conversations: int = 0  # conversations that got where they were going
    stuck: int = 0  # conversations that ended elsewhere, or ran out of turns


@dataclass(frozen=True)
class LevelResult:
    bot: str
    users: int
    seconds: float
    messages: int
    msg_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    errors: int
    transport: int
    silent: int
    conversations: int
    stuck: int
    server_cpu_percent: float | None  # of one core; None when the server's process is not visible
    server_rss_mb: float | None  # the peak over the window
    machine_cpu_percent: float  # all cores together, whoever used them
    client_cpu_percent: float  # this benchmark's own share of them (of one core)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ordered list."""
    return ordered[max(0, ceil(q * len(ordered)) - 1)] if ordered else None


class Window:
    """The measured part of a level: after the warm-up, for the given seconds."""

    def __init__(self, warmup: float, seconds: float) -> None:
        now = asyncio.get_running_loop().time()
        self.start, self.end = now + warmup, now + warmup + seconds

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def over(self) -> bool:
        return self.now() >= self.end

    def counts(self, finished: float) -> bool:
        return self.start <= finished < self.end


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str, token: str, tally: Tally, window: Window) -> None:
        self.session, self.base, self.token, self.tally, self.window = session, base.rstrip("/"), token, tally, window

    def failed(self, status: int | None) -> None:
        if self.window.counts(self.window.now()):
            if status is None:
                self.tally.transport += 1
            else:
                self.tally.errors += 1

    async def say(self, sender: str, text: str) -> bool:
        started = self.window.now()
        try:
            async with self.session.post(f"{self.base}/webhooks/rest/webhook",
                                         json={"sender": sender, "message": text}) as answer:
                status = answer.status
                replies = await answer.json(content_type=None) if status == 200 else None
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            self.failed(None)
            return False
        finished = self.window.now()
        if status != 200:
            self.failed(status)
            return False
        if self.window.counts(finished):
            self.tally.latencies_ms.append((finished - started) * 1000)
            if not replies:
                self.tally.silent += 1
        return True

    async def slots(self, sender: str) -> dict[str, Any] | None:
        try:
            async with self.session.get(f"{self.base}/conversations/{sender}/tracker",
                                        params={"token": self.token, "include_events": "NONE"}) as answer:
                if answer.status != 200:
                    self.failed(answer.status)
                    return None
                return (await answer.json(content_type=None)).get("slots") or {}
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            self.failed(None)
            return None


async def simulated_user(client: Client, user: int, conversations: ConversationFactory, run: str) -> None:
    number = 0
    while not client.window.over():
        number += 1
        sender, conversation = f"bench-{run}-u{user}-c{number}", conversations(user, number)
        text, outcome = next(conversation), "stuck"  # also when it runs out of turns
        for _ in range(MAX_TURNS):
            slots = await client.slots(sender) if await client.say(sender, text) else None
            if slots is None:  # counted as an error already
                outcome = "failed"
                await asyncio.sleep(ERROR_PAUSE)
                break
            try:
                text = conversation.send(slots)
            except StopIteration as end:
                outcome = "arrived" if end.value else "stuck"
                break
            if client.window.over():  # cut short: counted neither way
                break
        if client.window.counts(client.window.now()):
            client.tally.conversations += outcome == "arrived"
            client.tally.stuck += outcome == "stuck"


@dataclass(frozen=True)
class Usage:
    server_cpu_percent: float | None
    server_rss_mb: float | None
    machine_cpu_percent: float
    client_cpu_percent: float


def sample(read: Callable[[list[int]], float], pids: list[int]) -> float | None:
    try:
        return read(pids) if pids else None
    except OSError:  # the server has ended
        return None


async def watch(pids: list[int], window: Window) -> Usage:
    """CPU (percent of one core) and peak memory of the server's processes over the window, the machine's and
    our own CPU."""
    await asyncio.sleep(max(0.0, window.start - window.now()))
    machine_start, started, client_start = server_usage.machine_times(), window.now(), time.process_time()
    cpu_start, rss = sample(server_usage.cpu_seconds, pids), []
    while not window.over():
        rss.append(sample(server_usage.rss_mb, pids))
        await asyncio.sleep(min(USAGE_INTERVAL, max(0.0, window.end - window.now())))
    cpu_end, elapsed = sample(server_usage.cpu_seconds, pids), max(1e-9, window.now() - started)
    seen = [mb for mb in rss if mb is not None]
    return Usage(server_cpu_percent=None if cpu_start is None or cpu_end is None else
                 100 * (cpu_end - cpu_start) / elapsed,
                 server_rss_mb=max(seen) if seen else None,
                 machine_cpu_percent=server_usage.machine_busy_percent(machine_start, server_usage.machine_times()),
                 client_cpu_percent=100 * (time.process_time() - client_start) / elapsed)


async def run_level(bot: str, base: str, token: str, users: int, seconds: float, warmup: float,
                    conversations: ConversationFactory, timeout: float, pids: list[int]) -> LevelResult:
    """Runs one level: `users` simulated users for warm-up plus `seconds`, then waits for their last requests."""
    tally, window, run = Tally(), Window(warmup, seconds), uuid.uuid4().hex[:8]
    connector = aiohttp.TCPConnector(limit=users + 1)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        client = Client(session, base, token, tally, window)
        tasks = [asyncio.create_task(simulated_user(client, user, conversations, run)) for user in range(users)]
        usage = await watch(pids, window)
        # The users stop after the request they are in; a level never starts while the last one's are running.
        _, late = await asyncio.wait(tasks, timeout=2 * timeout + 5)
        for task in late:
            task.cancel()
    ordered = sorted(tally.latencies_ms)
    return LevelResult(
        bot=bot, users=users, seconds=seconds, messages=len(ordered), msg_per_s=len(ordered) / seconds,
        p50_ms=percentile(ordered, 0.50), p95_ms=percentile(ordered, 0.95), p99_ms=percentile(ordered, 0.99),
        errors=tally.errors, transport=tally.transport, silent=tally.silent, conversations=tally.conversations,
        stuck=tally.stuck, server_cpu_percent=usage.server_cpu_percent, server_rss_mb=usage.server_rss_mb,
        machine_cpu_percent=usage.machine_cpu_percent, client_cpu_percent=usage.client_cpu_percent)
