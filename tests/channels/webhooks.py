"""Signed webhook requests in Meta's and Twilio's documented formats, and the fake API as a fixture."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import requests
from twilio.request_validator import RequestValidator

from tests.channels.fake_api import FakeApi, serve
from tests.conftest import CHANNEL_SECRETS, RunningBot


@contextmanager
def fake_api_on(port: int) -> Iterator[FakeApi]:
    api, server = serve(port)
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()


def fake_api_for(bot: RunningBot) -> AbstractContextManager[FakeApi]:
    return fake_api_on(bot.fake_api_port)


def hub_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_meta(bot: RunningBot, channel: str, payload: Any, *, secret: str | None = None,
              signature: str | None = None, raw: bytes | None = None) -> requests.Response:
    """POST a webhook to /webhooks/<channel>/webhook, signed with the channel's app secret unless told otherwise."""
    body = raw if raw is not None else json.dumps(payload).encode()
    key = secret if secret is not None else CHANNEL_SECRETS[f"{channel.upper()}_APP_SECRET"]
    headers = {"Content-Type": "application/json"}
    if signature is None:
        headers["X-Hub-Signature-256"] = hub_signature(key, body)
    elif signature:
        headers["X-Hub-Signature-256"] = signature
    return requests.post(f"{bot.base}/webhooks/{channel}/webhook", data=body, headers=headers, timeout=120)


def psid() -> str:
    return str(uuid.uuid4().int)[:16]


def messenger_event(sender: str, **content: Any) -> dict[str, Any]:
    """One entry.messaging item: message={...}, postback={...}, delivery={...}, read={...}."""
    return {"sender": {"id": sender}, "recipient": {"id": "PAGE_ID"}, "timestamp": int(time.time() * 1000),
            **content}


def messenger_text(sender: str, text: str, quick_reply: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"mid": f"m_{uuid.uuid4().hex}", "text": text}
    if quick_reply is not None:
        message["quick_reply"] = {"payload": quick_reply}
    return messenger_event(sender, message=message)


def messenger_batch(*events: dict[str, Any], entries: int = 1) -> dict[str, Any]:
    """A page webhook; with entries > 1 the events are spread over that many entries."""
    chunks = [list(events[i::entries]) for i in range(entries)]
    return {"object": "page", "entry": [{"id": "PAGE_ID", "time": int(time.time() * 1000), "messaging": chunk}
                                        for chunk in chunks]}


def wa_number() -> str:
    return "447" + str(uuid.uuid4().int)[:9]


def whatsapp_webhook(*, messages: list[dict[str, Any]] | None = None, statuses: list[dict[str, Any]] | None = None,
                     wa_id: str | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"messaging_product": "whatsapp",
                             "metadata": {"display_phone_number": "15550783881",
                                          "phone_number_id": CHANNEL_SECRETS["WHATSAPP_PHONE_NUMBER_ID"]}}
    if messages is not None:
        value["contacts"] = [{"profile": {"name": "Kerry Fisher"}, "wa_id": wa_id or messages[0]["from"]}]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}


def wa_text(sender: str, text: str, message_id: str | None = None) -> dict[str, Any]:
    return {"from": sender, "id": message_id or f"wamid.{uuid.uuid4().hex}", "timestamp": str(int(time.time())),
            "type": "text", "text": {"body": text}}


def wa_interactive(sender: str, kind: str, reply_id: str, title: str) -> dict[str, Any]:
    """kind: "button_reply" or "list_reply"."""
    return {"from": sender, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": str(int(time.time())),
            "type": "interactive", "interactive": {"type": kind, kind: {"id": reply_id, "title": title}}}


def post_twilio(bot: RunningBot, params: dict[str, str], *, token: str | None = None,
                signature: str | None = None) -> requests.Response:
    url = f"{bot.base}/webhooks/twilio_whatsapp/webhook"
    headers = {}
    if signature is None:
        validator = RequestValidator(token or CHANNEL_SECRETS["TWILIO_AUTH_TOKEN"])
        headers["X-Twilio-Signature"] = validator.compute_signature(url, params)
    elif signature:
        headers["X-Twilio-Signature"] = signature
    return requests.post(url, data=params, headers=headers, timeout=120)


def user_events(bot: RunningBot, sender: str) -> list[dict[str, Any]]:
    return [e for e in bot.tracker(sender)["events"] if e["event"] == "user"]
