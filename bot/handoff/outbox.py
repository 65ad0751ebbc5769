"""In the Rasa server: send staff replies and hand-off notices on the patient's channel.

The console writes them to the database (bot.handoff.queue); each connector registers how it
sends on its platform (`attach`), and one task per server polls for what is waiting and sends it.
The console never needs the channels' secrets or the Rasa server's address: the database is the
only thing they share. Logs hold the channel and an exception's type, never text or recipients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable

from sanic import Blueprint

from bot.handoff.queue import claim_outgoing
from bot.store.db import session_scope

logger = logging.getLogger(__name__)

# (recipient, text, sender name or None for a notice from the clinic) -> sent on the platform
Deliver = Callable[[str, str, "str | None"], Awaitable[None]]
POLL_SECONDS = float(os.environ.get("HANDOFF_POLL_SECONDS", "0.3"))

_senders: dict[str, Deliver] = {}
_task: asyncio.Task | None = None


def attach(blueprint: Blueprint, channel: str, deliver: Deliver) -> None:
    """Called by a connector when Rasa builds its routes: the server then sends this channel's hand-off messages."""
    _senders[channel] = deliver
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


def _claim() -> list[tuple[str, str, str, str | None]]:
    with session_scope() as session:
        return claim_outgoing(session, tuple(_senders))


async def send_waiting() -> int:
    """Send what is waiting now; returns how many messages went."""
    try:
        waiting = await asyncio.to_thread(_claim)
    except Exception as error:  # the database is down: try again on the next round
        logger.warning("hand-off outbox: reading failed with %s", type(error).__name__)
        return 0
    for channel, recipient, text, sender_name in waiting:
        try:
            await _senders[channel](recipient, text, sender_name)
        except Exception as error:
            logger.error("hand-off outbox: %s: sending failed with %s", channel, type(error).__name__)
    return len(waiting)


async def _run() -> None:
    while True:
        await send_waiting()
        await asyncio.sleep(POLL_SECONDS)
