"""Rasa's in-memory lock store (one message per conversation at a time), guarding each message.

Rasa's Agent handles every message, from every channel, inside `lock_store.lock(sender)`, so
this is the one place where a message can be given a deadline and its storage checked:
- a deadline (TURN_TIMEOUT_SECONDS, default 30): a hung action server or a slow booking
  system costs that patient an apology after the deadline, not a five-minute wait (Rasa's own
  action call timeout); other conversations go on meanwhile, since that wait is asynchronous;
- the conversation store is checked before the message is handled, and a store failure during
  it (swallowed by Rasa's FailSafeTrackerStore, see bot.tracker_store) is raised at the end.
Either way the message raises out of Rasa's handling, nothing of it is saved, and the channel
answers with the apology.

endpoints.yml: `lock_store: {type: bot.lock_store.GuardedLockStore}`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import async_timeout
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore

from bot import rasa_speedups, tracker_store
from bot.tracker_store import TrackerStoreUnavailable

logger = logging.getLogger(__name__)

DEFAULT_TURN_TIMEOUT_SECONDS = 30.0


class TurnTimedOut(Exception):
    """A message took longer than the deadline; it is answered with the apology."""


def turn_timeout(env: dict[str, str] | None = None) -> float:
    value = (os.environ if env is None else env).get("TURN_TIMEOUT_SECONDS") or DEFAULT_TURN_TIMEOUT_SECONDS
    seconds = float(value)
    if not 0 < seconds <= 600:
        raise ValueError(f"TURN_TIMEOUT_SECONDS must be between 0 and 600, not {value}")
    return seconds


class GuardedLockStore(InMemoryLockStore):
    def __init__(self, endpoint_config: Any = None) -> None:  # Rasa passes its endpoints.yml entry
        super().__init__()
        self.turn_timeout = turn_timeout()
        rasa_speedups.install()  # this store is built once, in the Rasa server's process

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncIterator[TicketLock]:
        deadline = async_timeout.timeout(self.turn_timeout)
        try:
            # The deadline covers the wait for this conversation's previous message too.
            async with deadline, super().lock(conversation_id, lock_lifetime, wait_time_in_seconds) as ticket_lock:
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
