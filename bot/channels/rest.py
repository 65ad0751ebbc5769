"""The REST channel (POST /webhooks/rest/webhook), hardened, and never silent.

The body must be a JSON object with `sender` (an id bot.channels.intake accepts) and
`message` (a string of valid text); anything else is a 400 with a JSON error saying what is
wrong, and nothing reaches Rasa. There is no shared "default" conversation, and the fields
a client cannot be trusted with (`input_channel`, `metadata`) are ignored: the conversation is
always recorded as "rest". A text over the length limit is answered, with 200 in Rasa's reply
format, by a request for a shorter message. Every accepted message gets an answer (see
bot.channels.never_silent). Streaming (`?stream=true`) is not offered: replies come as one list.
The channel keeps Rasa's name "rest", so the URL stays /webhooks/rest/webhook.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.intake import MAX_BODY, MAX_SENDER, MAX_TEXT, TOO_LONG, Intake, has_invalid_characters, valid_sender
from bot.channels.never_silent import Counted, OnNewMessage, respond
from bot.channels.webhook import webhook_blueprint
from bot.log_privacy import install as keep_patient_data_out_of_logs

# The Rasa server loads this channel after setting up its logging: filter it from here on.
keep_patient_data_out_of_logs()

SENDER_RULE = (f"`sender` is required: a string of 1 to {MAX_SENDER} letters, digits or . _ : @ + - "
               "that names the conversation")


class RestOutput(Counted, CollectingOutputChannel):
    """Rasa's collecting channel, counting what Rasa sent."""


def error(status: int, message: str) -> HTTPResponse:
    reason = "BadRequest" if status == 400 else "PayloadTooLarge"
    return response.json({"status": "failure", "code": status, "reason": reason, "message": message},
                         status=status)


def read_request(body: bytes) -> tuple[str, Intake] | HTTPResponse:
    """The sender and what to do with the message, or the 4xx answer for a body that is not acceptable."""
    if len(body) > MAX_BODY:
        return error(413, f"The request body is over {MAX_BODY:,} bytes.")
    try:
        payload: Any = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        return error(400, "The body must be a JSON object with `sender` and `message`.")
    if not isinstance(payload, dict):
        return error(400, "The body must be a JSON object with `sender` and `message`.")
    sender = valid_sender(payload.get("sender"))
    if sender is None:
        return error(400, SENDER_RULE + ".")
    text = payload.get("message")
    if not isinstance(text, str):
        return error(400, "`message` is required and must be a string.")
    if has_invalid_characters(text):
        return error(400, "`message` holds characters that are not text (a lone UTF-16 surrogate or a control "
                          "character other than tab or newline).")
    if len(text) > MAX_TEXT:
        return sender, Intake(reply=TOO_LONG)
    return sender, Intake(text=text)


class RestInput(RasaRestInput):
    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = webhook_blueprint(self.name())

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            read = read_request(request.body)
            if isinstance(read, HTTPResponse):
                return read
            sender, intake = read
            output = RestOutput()
            await respond(on_new_message, intake, output, sender, self.name())
            return response.json(output.messages)

        return hook
