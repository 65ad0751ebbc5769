"""In the Rasa server: send staff replies and hand-off notices on the patient's channel.

The console writes them to the database (bot.handoff.queue); each connector registers how it
sends on its platform (`attach`), and one task per server polls for what is waiting and sends it.
The console never needs the channels' secrets or the Rasa server's address: the database is the
only thing they share. Logs hold the channel and an exception's type, never text or recipients.

The same task times out chats nobody took (HANDOFF_WAIT_SECONDS): it runs wherever the notices are sent,
so the patient is told even if they type nothing and no console page is open.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sanic import Blueprint

from bot.clinic import clinic
from bot.handoff.availability import wait_seconds
from bot.handoff.queue import Outgoing, claim_outgoing, sent_after
from bot.handoff.unstaffed import expire_waiting, restarted
from bot.store.db import session_scope, utcnow

logger = logging.getLogger(__name__)

# (recipient, text, sender name or None for a notice from the clinic) -> sent on the platform
Deliver = Callable[[str, str, "str | None"], Awaitable[None]]
# The same with the message's number last: the widget keeps it, to ask for what it missed while away.
NumberedDeliver = Callable[[str, str, "str | None", int], Awaitable[None]]
POLL_SECONDS = float(os.environ.get("HANDOFF_POLL_SECONDS", "0.3"))
SWEEP_SECONDS = 1.0  # how often waiting chats are checked for the time-out
MISSED_FOR = timedelta(days=1)  # how far back a widget that was away gets the hand-off messages it missed

_senders: dict[str, tuple[Callable[..., Awaitable[None]], bool]] = {}  # channel -> (sender, numbered)
_task: asyncio.Task | None = None
_swept = 0.0


def attach(blueprint: Blueprint, channel: str, deliver: Deliver | NumberedDeliver, *, numbered: bool = False) -> None:
    """Called by a connector when Rasa builds its routes: the server then sends this channel's hand-off messages."""
    _senders[channel] = (deliver, numbered)
    blueprint.listener("after_server_start")(_start)
    blueprint.listener("before_server_stop")(_stop)


async def _start(*_: object) -> None:
    global _task
    if _task is None or _task.done():
        _task = asyncio.get_running_loop().create_task(_run())


async def _stop(*_: object) -> None:
    global _task
    if _task is not None:
        _task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await _task
        _task = None


def _claim() -> list[Outgoing]:
    with session_scope() as session:
        return claim_outgoing(session, tuple(_senders))


def _sweep() -> int:
    with session_scope() as session:
        return expire_waiting(session, clinic(), wait_seconds())


async def send_waiting() -> int:
    """Time out overdue chats (at most every SWEEP_SECONDS), then send what is waiting; how many messages went."""
    global _swept
    if time.monotonic() - _swept >= SWEEP_SECONDS:
        _swept = time.monotonic()
        try:
            await asyncio.to_thread(_sweep)
        except Exception as error:  # the replies still go; the next round checks again
            logger.warning("hand-off outbox: the time-out check failed with %s", type(error).__name__)
    try:
        waiting = await asyncio.to_thread(_claim)
    except Exception as error:  # the database is down: try again on the next round
        logger.warning("hand-off outbox: reading failed with %s", type(error).__name__)
        return 0
    for message in waiting:
        deliver, numbered = _senders[message.channel]
        said = (message.recipient, message.text, message.sender_name)
        try:
            await (deliver(*said, message.id) if numbered else deliver(*said))
        except Exception as error:
            logger.error("hand-off outbox: %s: sending failed with %s", message.channel, type(error).__name__)
    return len(waiting)


async def _run() -> None:
    while True:
        await send_waiting()
        await asyncio.sleep(POLL_SECONDS)


def _missed(conversation_id: str, seen: int) -> list[Outgoing]:
    with session_scope() as session:
        return sent_after(session, conversation_id, seen, utcnow() - MISSED_FOR)


async def missed(conversation_id: str, seen: object) -> list[Outgoing]:
    """The hand-off messages sent to a conversation after `seen`, the last one its widget showed: for a widget that
    was away (a closed tab, a lost connection) while they went. Nothing for a widget that does not say."""
    if not isinstance(seen, int) or isinstance(seen, bool) or not 0 <= seen < 2**53:
        return []
    try:
        return await asyncio.to_thread(_missed, conversation_id, seen)
    except Exception as error:
        logger.error("hand-off outbox: reading missed messages failed with %s", type(error).__name__)
        return []


def _started_over(conversation_id: str) -> None:
    with session_scope() as session:
        restarted(session, conversation_id)


async def started_over(conversation_id: str) -> None:
    """The patient started over in a new conversation (the widget's "Start over"): a live chat of the old one ends."""
    try:
        await asyncio.to_thread(_started_over, conversation_id)
    except Exception as error:  # the database is down: the chat times out or staff close it
        logger.error("hand-off outbox: ending a chat failed with %s", type(error).__name__)
