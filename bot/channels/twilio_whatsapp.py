"""WhatsApp through Twilio (channel name "twilio_whatsapp").

Rasa's Twilio connector does not check X-Twilio-Signature; this one does (Twilio's
RequestValidator: HMAC-SHA1 of the webhook URL and the sorted form parameters, keyed with the
auth token) and answers 403 before anything reaches the bot. Replies go to the Messages API
from the number that was written to; choices are sent as numbered text (WhatsApp's buttons
need pre-approved templates through Twilio), and a redelivered MessageSid is answered once.

credentials.yml: account_sid, auth_token, whatsapp_number (fallback sender, "whatsapp:+..."),
webhook_url (the public URL Twilio posts to, when a proxy changes it), api_base.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels.webhook import NumberedChoices, SeenIds, post_with_retries, setting, split_text, webhook_blueprint

logger = logging.getLogger(__name__)

MAX_TEXT = 1600
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class TwilioWhatsAppOutput(OutputChannel):
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

    def signed(self, request: Request, params: dict[str, str]) -> bool:
        signature = request.headers.get("X-Twilio-Signature")
        if not self.auth_token or not signature:
            return False
        return RequestValidator(self.auth_token).validate(self.webhook_url or request.url, params, signature)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = webhook_blueprint("twilio_whatsapp")

        @hook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            params = {key: values[0] for key, values in (request.form or {}).items() if values}
            if not self.signed(request, params):
                logger.warning("twilio_whatsapp: webhook with a missing or wrong signature rejected")
                return response.text("forbidden", status=403)
            sender = params.get("From")
            if not sender:
                return response.text("missing From", status=400)
            text = params.get("ButtonPayload") or params.get("Body") or ""
            if text.strip() and self.seen.first_time(params.get("MessageSid")):
                text = self.choices.resolve(sender, text)
                await on_new_message(UserMessage(text, self.output_for(params.get("To")), sender,
                                                 input_channel=self.name()))
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return hook
