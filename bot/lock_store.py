"""Rasa's lock store (one message per conversation at a time), guarding each message.

Rasa's Agent handles every message, from every channel, inside `lock_store.lock(sender)`, so
this is the one place where a message can be given a deadline and its storage checked:
- a deadline (TURN_TIMEOUT_SECONDS, default 30): a hung action server or a slow booking
  system costs that patient an apology after the deadline, not a five-minute wait (Rasa's own
  action call timeout); other conversations go on meanwhile, since that wait is asynchronous;
- the conversation store is checked before the message is handled, and a store failure during
  it (swallowed by Rasa's FailSafeTrackerStore, see bot.tracker_store) is raised at the end.
Either way the message raises out of Rasa's handling, nothing of it is saved, and the channel
answers with the apology.

Where the locks live: in this process (the default, one Rasa server), or, with REDIS_URL set,
in Redis, so that the messages of one conversation are handled one at a time and in order
whichever replica each reaches (Rasa's RedisLockStore, each change of a lock made atomic here).

endpoints.yml: `lock_store: {type: bot.lock_store.GuardedLockStore}`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any, TypeVar

import async_timeout
import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore

from bot import rasa_speedups, tracker_store
from bot.tracker_store import TrackerStoreUnavailable

logger = logging.getLogger(__name__)

DEFAULT_TURN_TIMEOUT_SECONDS = 30.0
# A conversation's ticket outlives its message's deadline by this much; after that it is void,
# so a replica killed in the middle of a message holds that conversation for this long at most.
TICKET_MARGIN_SECONDS = 5.0
# How often a message waiting for its conversation's previous one looks again (Rasa: 1 s).
POLL_SECONDS = 0.05
# Redis answers in well under a millisecond; its client calls block the server while they wait.
REDIS_TIMEOUT_SECONDS = 2.0

T = TypeVar("T")


class TurnTimedOut(Exception):
    """A message took longer than the deadline; it is answered with the apology."""


def turn_timeout(env: Mapping[str, str] | None = None) -> float:
    value = (os.environ if env is None else env).get("TURN_TIMEOUT_SECONDS") or DEFAULT_TURN_TIMEOUT_SECONDS
    seconds = float(value)
    if not 0 < seconds <= 600:
        raise ValueError(f"TURN_TIMEOUT_SECONDS must be between 0 and 600, not {value}")
    return seconds


def redis_url(env: Mapping[str, str] | None = None) -> str | None:
    """REDIS_URL (redis://[:password@]host:port/db, rediss:// for TLS): the replicas' shared state, or None."""
    return (os.environ if env is None else env).get("REDIS_URL") or None


def redis_prefix(env: Mapping[str, str] | None = None) -> str:
    """REDIS_PREFIX (default "knee"): starts every key and channel name, so deployments can share a Redis."""
    prefix = (os.environ if env is None else env).get("REDIS_PREFIX") or "knee"
    if not prefix.isalnum():  # Rasa's lock store takes letters and digits only
        raise ValueError(f"REDIS_PREFIX must be letters and digits only, not {prefix!r}")
    return prefix


@lru_cache(maxsize=4)
def redis_client(url: str) -> redis.Redis:
    """One client (one connection pool) per URL for the life of the process."""
    return redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                socket_connect_timeout=REDIS_TIMEOUT_SECONDS, health_check_interval=30)


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's Redis lock store, except that each change of a lock is one Redis transaction.

    Rasa's reads a lock, changes it and writes it back in separate calls: two replicas taking a
    ticket for one conversation at the same moment can both get the first, and one replica's
    clean-up can delete the ticket another has just taken. Here each change runs under WATCH and
    is retried if the lock changed meanwhile; a lock is deleted with its last ticket and expires
    with its last ticket in Redis too, so a killed replica leaves nothing behind.
    """

    def __init__(self, url: str, prefix: str) -> None:
        super().__init__(key_prefix=prefix)
        self.red = redis_client(url)  # a URL carries what Rasa's keyword arguments do: host, port, db, password, TLS

    def _change(self, conversation_id: str, change: Callable[[TicketLock], T]) -> T:
        key = self.key_prefix + conversation_id

        def attempt(pipe: Any) -> T:
            stored = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(stored)) if stored else TicketLock(conversation_id)
            result = change(lock)
            lock.remove_expired_tickets()
            pipe.multi()
            if lock.tickets:
                pipe.set(key, lock.dumps(), px=_milliseconds_left(lock))
            else:
                pipe.delete(key)
            return result

        return self.red.transaction(attempt, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._change(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime))
        except redis.RedisError as error:
            raise LockError(f"Error while acquiring lock: {type(error).__name__}") from error

    def update_lock(self, conversation_id: str) -> None:
        self._change(conversation_id, lambda lock: None)  # expired tickets go

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self.finish_serving(conversation_id, ticket_number)  # the lock goes with its last ticket

    def save_lock(self, lock: TicketLock) -> None:
        self.red.set(self.key_prefix + lock.conversation_id, lock.dumps(), px=_milliseconds_left(lock))


def _milliseconds_left(lock: TicketLock) -> int:
    return max(1, int((max(ticket.expires for ticket in lock.tickets) - time.time()) * 1000) + 1)


class GuardedLockStore(LockStore):
    """What endpoints.yml names: the in-memory store, or the Redis one when REDIS_URL is set."""

    turn_timeout = DEFAULT_TURN_TIMEOUT_SECONDS

    def __new__(cls, endpoint_config: Any = None) -> GuardedLockStore:  # Rasa passes its endpoints.yml entry
        if cls is GuardedLockStore:
            cls = RedisGuardedLockStore if redis_url() else InMemoryGuardedLockStore
        return super().__new__(cls)

    def _guard(self) -> None:
        self.turn_timeout = turn_timeout()
        rasa_speedups.install()  # this store is built once, in the Rasa server's process

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncIterator[TicketLock]:
        deadline = async_timeout.timeout(self.turn_timeout)
        # Rasa's lifetime (TICKET_LOCK_LIFETIME, 60 s) is not tied to the deadline. No message holds its
        # ticket past its deadline, so a longer one would only keep a conversation locked after a replica
        # died with the ticket, and a shorter one would let a second message in while the first still runs.
        lifetime = self.turn_timeout + TICKET_MARGIN_SECONDS
        try:
            # The deadline covers the wait for this conversation's previous message too.
            async with deadline, super().lock(conversation_id, lifetime,
                                              min(wait_time_in_seconds, POLL_SECONDS)) as ticket_lock:
                with tracker_store.turn() as turn:
                    store = tracker_store.active_store()
                    if store is not None:
                        store.check()  # the database is down: stop before anything runs
                    yield ticket_lock
                    if turn.failure:
                        raise TrackerStoreUnavailable(f"the conversation store failed ({turn.failure})")
        except asyncio.TimeoutError as error:
            if not deadline.expired:  # a timeout inside the handling, already dealt with there
                raise
            logger.error("a message took longer than %g s and was stopped", self.turn_timeout)
            raise TurnTimedOut(f"no answer within {self.turn_timeout:g} s") from error


class InMemoryGuardedLockStore(GuardedLockStore, InMemoryLockStore):
    def __init__(self, endpoint_config: Any = None) -> None:
        InMemoryLockStore.__init__(self)
        self._guard()


class RedisGuardedLockStore(GuardedLockStore, AtomicRedisLockStore):
    def __init__(self, endpoint_config: Any = None) -> None:
        url = redis_url()
        assert url, "GuardedLockStore picks this store only when REDIS_URL is set"
        AtomicRedisLockStore.__init__(self, url, redis_prefix())
        self._guard()
        try:
            self.red.ping()
        except redis.RedisError as error:  # each message gets the apology until Redis answers
            logger.error("lock store: Redis does not answer (%s)", type(error).__name__)
