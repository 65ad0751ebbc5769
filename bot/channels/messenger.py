"""Facebook Messenger connector (channel name "messenger").

Rasa 3.6's own checks only the old SHA-1 signature, handles only the first event of a batch
and crashes on events without a message. This one checks X-Hub-Signature-256 (403 otherwise,
before anything is parsed), answers the verify-token handshake, handles every messaging event
of every entry, ignores echoes, reads, deliveries and reactions, answers attachments (images,
stickers, audio, video, files, locations) with "only text", and reads a quick reply or
postback as its payload. Texts go through bot.channels.intake and every message gets an
answer (bot.channels.never_silent). Replies go to the Graph API's Send API with the page
access token.

credentials.yml: app_secret, verify_token, page_access_token, api_base (Graph API root, so
tests can use a fake one), api_version.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.intake import NOT_TEXT, Intake, read_text, valid_sender
from bot.channels.never_silent import Counted, OnNewMessage, respond
from bot.channels.webhook import (
    NumberedChoices,
    SeenIds,
    fields,
    items,
    message_id,
    post_with_retries,
    read_signed_meta_payload,
    sender_id,
    setting,
    split_text,
    webhook_blueprint,
)
from bot.handoff import outbox
from bot.handoff.wording import with_name

logger = logging.getLogger(__name__)

MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_TEXT = 2000


class MessengerOutput(Counted, OutputChannel):
    def __init__(self, send_url: str, page_access_token: str, choices: NumberedChoices) -> None:
        self.send_url = send_url
        self.page_access_token = page_access_token
        self.choices = choices

    @classmethod
    def name(cls) -> str:
        return "messenger"

    async def _send(self, recipient_id: str, message: dict[str, Any]) -> None:
        body = {"recipient": {"id": recipient_id}, "messaging_type": "RESPONSE", "message": message}
        await post_with_retries("messenger", self.send_url, json=body,
                                params={"access_token": self.page_access_token})

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for piece in split_text(text, MAX_TEXT):
            await self._send(recipient_id, {"text": piece})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        """Quick replies for up to 13 choices; the choices are listed in full as numbered text when a
        title is over 20 characters (the buttons then show the numbers) or there are more than 13."""
        titles = [str(b.get("title", "")) for b in buttons]
        short = all(len(t) <= MAX_QUICK_REPLY_TITLE for t in titles)
        body = text if short else self.choices.render(recipient_id, text, buttons)
        if len(buttons) > MAX_QUICK_REPLIES or len(body) > MAX_TEXT:
            await self.send_text_message(recipient_id, self.choices.render(recipient_id, text, buttons))
            return
        if short:
            self.choices.forget(recipient_id)
        quick_replies = [{"content_type": "text", "title": title if short else str(number),
                          "payload": str(b.get("payload") or title)}
                         for number, (title, b) in enumerate(zip(titles, buttons, strict=True), start=1)]
        await self._send(recipient_id, {"text": body, "quick_replies": quick_replies})

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        await self._send(recipient_id, json_message)


def read_event(event: dict[str, Any]) -> Intake | None:
    """What to do with one messaging event: its text, "only text" for attachments, None for events that say nothing."""
    message = event.get("message")
    if isinstance(message, dict):
        if message.get("is_echo"):
            return None  # our own reply, reflected back
        quick_reply = fields(message.get("quick_reply"))
        if quick_reply.get("payload"):
            return read_text(quick_reply["payload"])
        text = message.get("text")
        if isinstance(text, str) and text.strip():
            return read_text(text)
        return NOT_TEXT  # attachments: images, stickers, voice notes, videos, files, locations
    postback = event.get("postback")
    if isinstance(postback, dict):
        return read_text(postback.get("payload") or postback.get("title"))
    return None  # deliveries, reads, reactions, referrals...


class MessengerInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "messenger"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(setting(credentials, "app_secret"), setting(credentials, "verify_token"),
                   setting(credentials, "page_access_token"),
                   setting(credentials, "api_base", "https://graph.facebook.com"),
                   setting(credentials, "api_version", "v18.0"))

    def __init__(self, app_secret: str, verify_token: str, page_access_token: str, api_base: str,
                 api_version: str) -> None:
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.page_access_token = page_access_token
        self.send_url = f"{api_base.rstrip('/')}/{api_version}/me/messages"
        self.seen = SeenIds()
        self.choices = NumberedChoices()

    def get_output_channel(self) -> OutputChannel:
        return MessengerOutput(self.send_url, self.page_access_token, self.choices)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = webhook_blueprint("messenger", self.verify_token)
        outbox.attach(hook, self.name(), self.send_hand_off)

        @hook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            payload = read_signed_meta_payload(request, self.app_secret, "messenger")
            if isinstance(payload, HTTPResponse):
                return payload
            if payload.get("object") != "page":
                return response.text("success")  # not a page subscription: nothing for us
            for entry in items(payload.get("entry")):
                for event in items(fields(entry).get("messaging")):
                    await self._handle(event, on_new_message)
            return response.text("success")

        return hook

    async def send_hand_off(self, recipient: str, text: str, sender_name: str | None) -> None:
        """A staff reply (under their name) or a hand-off notice. Sent as a RESPONSE: it answers the
        patient's request within Messenger's 24-hour window."""
        await self.get_output_channel().send_text_message(recipient, with_name(sender_name, text) if sender_name
                                                          else text)

    async def _handle(self, event: Any, on_new_message: OnNewMessage) -> None:
        event = fields(event)
        intake = read_event(event)
        if intake is None:
            return
        sender = sender_id(fields(event.get("sender")).get("id"), self.name())
        if sender is None or not self.seen.first_time(message_id(fields(event.get("message")).get("mid"))):
            return
        if intake.text is not None:
            intake = Intake(text=self.choices.resolve(sender, intake.text))
        page_id = valid_sender(fields(event.get("recipient")).get("id"))
        await respond(on_new_message, intake, self.get_output_channel(), sender, self.name(),
                      metadata={"page_id": page_id})
