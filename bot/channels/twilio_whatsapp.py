"""WhatsApp through Twilio (channel name "twilio_whatsapp").

Rasa's Twilio connector does not check X-Twilio-Signature; this one does (Twilio's
RequestValidator: HMAC-SHA1 of the webhook URL and all the sorted form parameters, blank ones
included, keyed with the auth token) and answers 403 before anything reaches the bot. Texts
go through bot.channels.intake: a caption (Body beside NumMedia) is read as the text, a photo
without one, a voice note, a location or a contact gets "only text"; status callbacks are
ignored; every message gets an answer (bot.channels.never_silent). Replies go to the Messages API
from the number that was written to; choices are sent as numbered text (WhatsApp's buttons
need pre-approved templates through Twilio), and a redelivered MessageSid is answered once.

credentials.yml: account_sid, auth_token, whatsapp_number (fallback sender, "whatsapp:+..."),
webhook_url (the public URL Twilio posts to, when a proxy changes it), api_base.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels.intake import MAX_BODY, Intake, read_text, valid_sender
from bot.channels.never_silent import Counted, OnNewMessage, respond
from bot.channels.webhook import (
    NumberedChoices,
    SeenIds,
    post_with_retries,
    sender_id,
    setting,
    split_text,
    webhook_blueprint,
)
from bot.handoff import outbox
from bot.handoff.wording import with_name

logger = logging.getLogger(__name__)

MAX_TEXT = 1600
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class TwilioWhatsAppOutput(Counted, OutputChannel):
    def __init__(self, send_url: str, account_sid: str, auth_token: str, sender: str,
                 choices: NumberedChoices) -> None:
        self.send_url = send_url
        self.auth = aiohttp.BasicAuth(account_sid, auth_token)
        self.sender = sender
        self.choices = choices

    @classmethod
    def name(cls) -> str:
        return "twilio_whatsapp"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for piece in split_text(text, MAX_TEXT):
            await post_with_retries("twilio_whatsapp", self.send_url, auth=self.auth,
                                    data={"From": self.sender, "To": recipient_id, "Body": piece})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, self.choices.render(recipient_id, text, buttons))


class TwilioWhatsAppInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "twilio_whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(setting(credentials, "account_sid"), setting(credentials, "auth_token"),
                   setting(credentials, "whatsapp_number"), setting(credentials, "webhook_url"),
                   setting(credentials, "api_base", "https://api.twilio.com"))

    def __init__(self, account_sid: str, auth_token: str, whatsapp_number: str, webhook_url: str,
                 api_base: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.whatsapp_number = whatsapp_number
        self.webhook_url = webhook_url
        self.send_url = f"{api_base.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self.seen = SeenIds()
        self.choices = NumberedChoices()

    def output_for(self, sender: str | None) -> TwilioWhatsAppOutput:
        return TwilioWhatsAppOutput(self.send_url, self.account_sid, self.auth_token,
                                    sender or self.whatsapp_number, self.choices)

    def get_output_channel(self) -> OutputChannel:
        return self.output_for(None)

    async def send_hand_off(self, recipient: str, text: str, sender_name: str | None) -> None:
        """A staff reply (under their name) or a hand-off notice, from the clinic's WhatsApp number."""
        await self.output_for(None).send_text_message(recipient, with_name(sender_name, text) if sender_name
                                                      else text)

    def signed(self, request: Request, params: RequestParameters) -> bool:
        signature = request.headers.get("X-Twilio-Signature")
        if not self.auth_token or not signature:
            return False
        return RequestValidator(self.auth_token).validate(self.webhook_url or request.url, params, signature)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = webhook_blueprint("twilio_whatsapp")
        outbox.attach(hook, self.name(), self.send_hand_off)

        @hook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if len(request.body) > MAX_BODY:
                return response.text("payload too large", status=413)
            params = form_params(request.body)
            if not self.signed(request, params):
                logger.warning("twilio_whatsapp: webhook with a missing or wrong signature rejected")
                return response.text("forbidden", status=403)
            if params.get("MessageStatus"):
                return response.text(EMPTY_TWIML, content_type="text/xml")  # a status callback: nothing to answer
            sender = sender_id(params.get("From"), self.name())
            if sender is None:
                return response.text("missing From", status=400)
            if self.seen.first_time(params.get("MessageSid")):
                # A caption comes as Body beside NumMedia; a picture without one, a location or a contact has a
                # blank Body and gets "only text".
                intake = read_text(params.get("ButtonPayload") or params.get("Body"))
                if intake.text is not None:
                    intake = Intake(text=self.choices.resolve(sender, intake.text))
                await respond(on_new_message, intake, self.output_for(valid_sender(params.get("To"))), sender,
                              self.name())
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return hook


def form_params(body: bytes) -> RequestParameters:
    """The POSTed form exactly as Twilio signed it: every parameter, blank ones (`Body=`) included.

    Sanic's request.form drops blank values, and the signature then fails.
    """
    return RequestParameters(parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, errors="replace"))
