"""Rasa's REST channel, with one addition: a patient never gets silence.

If a message produces no reply at all (the action server is down, or an action failed), the
patient is told so plainly and given the clinic's phone and the emergency number, instead
of an empty answer. The channel keeps the name "rest", so the URL stays
/webhooks/rest/webhook.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint

from bot.clinic import ClinicConfigError, clinic
from bot.log_privacy import install as keep_patient_data_out_of_logs

# The Rasa server loads this channel after setting up its logging: filter it from here on.
keep_patient_data_out_of_logs()


def apology() -> str:
    sorry = "Sorry, something went wrong on our side and I can't answer right now. Please try again in a few minutes"
    try:
        details = clinic()
    except ClinicConfigError:  # the apology must not fail for the same reason the answer did
        return f"{sorry} or call the clinic. In an emergency call your local emergency number."
    return f"{sorry} or call {details.name} on {details.phone}. In an emergency call {details.emergency_number}."


class RestInput(RasaRestInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def never_silent(message: UserMessage) -> None:
            await on_new_message(message)
            channel = message.output_channel
            if isinstance(channel, CollectingOutputChannel) and not channel.messages:
                await channel.send_text_message(message.sender_id, apology())

        return super().blueprint(never_silent)
