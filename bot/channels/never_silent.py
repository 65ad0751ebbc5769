"""Every message a channel accepts gets an answer.

`respond` is the last step of every connector: an intake reply (too long, not text) is sent
without Rasa; a text goes to Rasa, and when Rasa sends nothing back (the action server is
down, an action failed) or raises (a database error), the patient is told so plainly and
given the clinic's phone and the emergency number. Only the exception's type is logged,
never the message or the sender. While a person has the chat (bot.handoff), a text is recorded for
the console instead and the assistant stays silent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage

from bot.channels.intake import ONLY_TEXT, Intake
from bot.clinic import ClinicConfigError, clinic
from bot.handoff import unstaffed
from bot.handoff.availability import LIVE_CHANNELS, wait_seconds
from bot.store.db import session_scope

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def apology() -> str:
    sorry = "Sorry, something went wrong on our side and I can't answer right now. Please try again in a few minutes"
    try:
        details = clinic()
    except ClinicConfigError:  # the apology must not fail for the same reason the answer did
        return f"{sorry} or call the clinic. In an emergency call your local emergency number."
    return f"{sorry} or call {details.name} on {details.phone}. In an emergency call {details.emergency_number}."


class Counted:
    """Mixed into an output channel before the platform's class: counts the bot's responses sent."""

    responses = 0

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.responses += 1
        await super().send_response(recipient_id, message)  # type: ignore[misc]


async def respond(on_new_message: OnNewMessage, intake: Intake, output: OutputChannel, sender: str,
                  channel: str, metadata: dict[str, Any] | None = None) -> None:
    """Answer one accepted message: the intake's reply, or Rasa's answer, or else the apology."""
    if intake.text is None:
        await output.send_text_message(sender, intake.reply or ONLY_TEXT)
        return
    if channel in LIVE_CHANNELS and await held_for_staff(sender, intake.text, channel):
        return  # a person has the chat: the console shows the message, the assistant says nothing
    try:
        await on_new_message(UserMessage(intake.text, output, sender, input_channel=channel, metadata=metadata))
    except Exception as error:  # whatever broke, the patient must hear something
        logger.error("%s: handling a message failed with %s", channel, type(error).__name__)
        if isinstance(output, CollectingOutputChannel):
            output.messages.clear()  # an answer from a turn that was not saved would mislead
        await output.send_text_message(sender, apology())
        return
    if not getattr(output, "responses", 0):
        await output.send_text_message(sender, apology())


def _hold(sender: str, text: str) -> bool:
    with session_scope() as session:  # also: "start over" ends the chat, a wait that ran out is timed out
        return unstaffed.hold(session, sender, text, clinic(), wait_seconds())


async def held_for_staff(sender: str, text: str, channel: str) -> bool:
    """True when the conversation is handed off to a person and the message was recorded for them."""
    try:
        return await asyncio.to_thread(_hold, sender, text)
    except Exception as error:  # the database is down: the assistant answers (or apologises) as usual
        logger.error("%s: checking for a hand-off failed with %s", channel, type(error).__name__)
        return False
