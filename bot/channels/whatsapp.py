"""WhatsApp Cloud API connector (Meta; channel name "whatsapp").

In: the verify-token handshake, X-Hub-Signature-256 on every POST (403 otherwise, before
anything is parsed), text messages, the captions of images, videos and documents, and
interactive button and list replies (read as their id, which carries the quick reply's
payload); other media, stickers, locations and contacts are answered with "only text";
statuses, reactions and system notices are ignored and a redelivered message id is answered
once. Texts go through bot.channels.intake and every message gets an answer
(bot.channels.never_silent). Out: text (split over 4,096 characters), reply
buttons for up to 3 choices with titles of up to 20 characters, a list for up to 10 (a title
over 24 characters is shortened in its row and given in full as the row's description), and
numbered text otherwise, where a reply of just the number picks the choice.

credentials.yml: app_secret, verify_token, access_token, phone_number_id (used when the
webhook does not say which number was written to), api_base, api_version.
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

MAX_TEXT = 4096
MAX_BODY = 1024  # an interactive message's body
MAX_BUTTONS, MAX_BUTTON_TITLE, MAX_BUTTON_ID = 3, 20, 256
MAX_ROWS, MAX_ROW_TITLE, MAX_ROW_ID, MAX_ROW_DESCRIPTION = 10, 24, 200, 72
LIST_BUTTON = "Choose"
CAPTIONED = ("image", "video", "document")  # the media types whose caption is read as the text


class WhatsAppOutput(Counted, OutputChannel):
    def __init__(self, send_url: str, access_token: str, choices: NumberedChoices) -> None:
        self.send_url = send_url
        self.access_token = access_token
        self.choices = choices

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    async def _send(self, to: str, kind: str, content: dict[str, Any]) -> None:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind,
                kind: content}
        await post_with_retries("whatsapp", self.send_url, json=body,
                                headers={"Authorization": f"Bearer {self.access_token}"})

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for piece in split_text(text, MAX_TEXT):
            await self._send(recipient_id, "text", {"body": piece, "preview_url": False})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        titles = [str(b.get("title", "")) for b in buttons]
        ids = [str(b.get("payload") or b.get("title") or "") for b in buttons]
        if text and len(text) <= MAX_BODY and len(set(ids)) == len(ids):
            if len(buttons) <= MAX_BUTTONS and all(len(t) <= MAX_BUTTON_TITLE for t in titles) and all(
                    len(i) <= MAX_BUTTON_ID for i in ids):
                self.choices.forget(recipient_id)
                action = {"buttons": [{"type": "reply", "reply": {"id": i, "title": t}}
                                      for t, i in zip(titles, ids, strict=True)]}
                await self._send(recipient_id, "interactive",
                                 {"type": "button", "body": {"text": text}, "action": action})
                return
            if len(buttons) <= MAX_ROWS and all(len(t) <= MAX_ROW_DESCRIPTION for t in titles) and all(
                    len(i) <= MAX_ROW_ID for i in ids):
                self.choices.forget(recipient_id)
                rows = [row(t, i) for t, i in zip(titles, ids, strict=True)]
                action = {"button": LIST_BUTTON, "sections": [{"title": "Options", "rows": rows}]}
                await self._send(recipient_id, "interactive",
                                 {"type": "list", "body": {"text": text}, "action": action})
                return
        await self.send_text_message(recipient_id, self.choices.render(recipient_id, text, buttons))


def row(title: str, row_id: str) -> dict[str, str]:
    """A list row; a title too long for the row is shortened there and given in full as its description."""
    if len(title) <= MAX_ROW_TITLE:
        return {"id": row_id, "title": title}
    return {"id": row_id, "title": title[:MAX_ROW_TITLE - 1].rstrip() + "\u2026", "description": title}


def read_message(message: dict[str, Any]) -> Intake | None:
    """What to do with one incoming message: its text, the caption of a picture, video or document, the id of
    the reply button or list row tapped, "only text" for anything else; None for reactions and system notices."""
    kind = message.get("type")
    if kind == "text":
        return read_text(fields(message.get("text")).get("body"))
    if kind in CAPTIONED:
        caption = fields(message.get(kind)).get("caption")
        return read_text(caption) if isinstance(caption, str) and caption.strip() else NOT_TEXT
    if kind == "interactive":
        interactive = fields(message.get("interactive"))
        answer_kind = interactive.get("type")
        reply = fields(interactive.get(answer_kind)) if isinstance(answer_kind, str) else {}
        return read_text(reply.get("id") or reply.get("title"))
    if kind == "button":  # a template's quick-reply button
        button = fields(message.get("button"))
        return read_text(button.get("payload") or button.get("text"))
    if kind in ("reaction", "system"):
        return None  # an emoji on one of our messages, a changed number: nothing to answer
    return NOT_TEXT  # audio, stickers, locations, contacts, orders, unsupported...


class WhatsAppInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls(setting(credentials, "app_secret"), setting(credentials, "verify_token"),
                   setting(credentials, "access_token"), setting(credentials, "phone_number_id"),
                   setting(credentials, "api_base", "https://graph.facebook.com"),
                   setting(credentials, "api_version", "v18.0"))

    def __init__(self, app_secret: str, verify_token: str, access_token: str, phone_number_id: str,
                 api_base: str, api_version: str) -> None:
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.api_root = f"{api_base.rstrip('/')}/{api_version}"
        self.seen = SeenIds()
        self.choices = NumberedChoices()

    def output_for(self, phone_number_id: str | None) -> WhatsAppOutput:
        number = phone_number_id or self.phone_number_id
        return WhatsAppOutput(f"{self.api_root}/{number}/messages", self.access_token, self.choices)

    def get_output_channel(self) -> OutputChannel:
        return self.output_for(None)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = webhook_blueprint("whatsapp", self.verify_token)
        outbox.attach(hook, self.name(), self.send_hand_off)

        @hook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            payload = read_signed_meta_payload(request, self.app_secret, "whatsapp")
            if isinstance(payload, HTTPResponse):
                return payload
            for entry in items(payload.get("entry")):
                for change in items(fields(entry).get("changes")):
                    await self._handle(fields(fields(change).get("value")), on_new_message)  # "statuses" unread
            return response.text("ok")

        return hook

    async def send_hand_off(self, recipient: str, text: str, sender_name: str | None) -> None:
        """A staff reply (under their name) or a hand-off notice, from the configured number."""
        await self.output_for(None).send_text_message(recipient, with_name(sender_name, text) if sender_name
                                                      else text)

    async def _handle(self, value: dict[str, Any], on_new_message: OnNewMessage) -> None:
        phone_number_id = valid_sender(fields(value.get("metadata")).get("phone_number_id"))
        for message in items(value.get("messages")):
            intake = read_message(message) if isinstance(message, dict) else None
            if intake is None:
                continue
            sender = sender_id(message.get("from"), self.name())
            if sender is None or not self.seen.first_time(message_id(message.get("id"))):
                continue
            if intake.text is not None:
                intake = Intake(text=self.choices.resolve(sender, intake.text))
            await respond(on_new_message, intake, self.output_for(phone_number_id), sender, self.name())
