"""What the Messenger, WhatsApp and Twilio connectors share.

Signature checks, the verify-token handshake, reading a payload whose shape is not trusted,
sending to an API with retries, remembering which message ids were already handled (platforms
redeliver) and the numbered-text fallback for choices a platform cannot show as buttons.
With REDIS_URL set, the handled ids and the numbered choices are kept in Redis, shared by every
Rasa replica (a redelivery, or the patient's "2", may reach another one); otherwise in this process.
Nothing here logs a message's text or a sender's id: logs hold the channel, the HTTP status
and the attempt only.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import aiohttp
from redis import Redis, RedisError
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.intake import MAX_BODY, valid_sender
from bot.lock_store import redis_client, redis_prefix, redis_url

logger = logging.getLogger(__name__)

# Attempts per outbound request and the first back-off delay (doubled after each failure).
ATTEMPTS = 3
FIRST_DELAY = float(os.environ.get("CHANNEL_RETRY_DELAY", "0.5"))
TIMEOUT = aiohttp.ClientTimeout(total=15)


def valid_hub_signature(secret: str, body: bytes, header: str | None) -> bool:
    """Meta's X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw body with the app secret."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


def webhook_blueprint(name: str, verify_token: str | None = None) -> Blueprint:
    """A channel's routes every connector has: Rasa's health check and, for Meta's platforms
    (a verify token given), the subscription handshake. The connector adds its POST /webhook."""
    hook = Blueprint(f"{name}_webhook", __name__)

    @hook.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    if verify_token is not None:
        @hook.route("/webhook", methods=["GET"])
        async def handshake(request: Request) -> HTTPResponse:
            return hub_handshake(request, verify_token)

    return hook


def hub_handshake(request: Request, verify_token: str) -> HTTPResponse:
    """Meta's subscription check: echo hub.challenge when hub.verify_token is ours."""
    args = request.args
    token = args.get("hub.verify_token") or ""
    if args.get("hub.mode") == "subscribe" and verify_token and hmac.compare_digest(token, verify_token):
        return response.text(args.get("hub.challenge") or "")
    return response.text("forbidden", status=403)


def read_signed_meta_payload(request: Request, app_secret: str, channel: str) -> dict[str, Any] | HTTPResponse:
    """A Meta webhook's JSON object once its signature holds; otherwise the reply to send (413, 403 or 400)."""
    if len(request.body) > MAX_BODY:
        return response.text("payload too large", status=413)
    if not valid_hub_signature(app_secret, request.body, request.headers.get("X-Hub-Signature-256")):
        logger.warning("%s: webhook with a missing or wrong signature rejected", channel)
        return response.text("forbidden", status=403)
    try:
        payload = json.loads(request.body)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser goes
        return response.text("malformed JSON", status=400)
    if not isinstance(payload, dict):
        return response.text("malformed payload", status=400)
    return payload


async def post_with_retries(channel: str, url: str, **kwargs: Any) -> bool:
    """POST to a platform API; retry connection errors, 429 and 5xx with back-off. True on success."""
    delay = FIRST_DELAY
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with aiohttp.ClientSession(timeout=TIMEOUT) as session, session.post(url, **kwargs) as reply:
                if reply.status < 300:
                    return True
                logger.warning("%s: send failed with HTTP %s (attempt %s of %s)", channel, reply.status,
                               attempt, ATTEMPTS)
                if reply.status != 429 and reply.status < 500:
                    return False  # a request the API will never accept: retrying cannot help
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            logger.warning("%s: send failed with %s (attempt %s of %s)", channel, type(error).__name__,
                           attempt, ATTEMPTS)
        if attempt < ATTEMPTS:
            await asyncio.sleep(delay)
            delay *= 2
    logger.error("%s: message dropped after %s attempts", channel, ATTEMPTS)
    return False


# How long a handled message id is remembered in Redis: WhatsApp retries a webhook for up to 7 days.
SEEN_FOR_SECONDS = 7 * 24 * 3600
# How long a numbered list can be answered by its number (Messenger's reply window is 24 hours).
CHOICES_FOR_SECONDS = 24 * 3600


def shared_redis() -> Redis | None:
    url = redis_url()
    return redis_client(url) if url else None


def redis_key(kind: str, value: str) -> str:
    """Keys hold a digest, never a sender's id (a phone number) or a platform's message id as such."""
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{redis_prefix()}:{kind}:{digest}"


def redis_failed(what: str, error: RedisError) -> None:
    logger.warning("webhook: Redis failed with %s; %s in this process only", type(error).__name__, what)


class SeenIds:
    """The message ids already handled, so a redelivered webhook is answered once: in Redis
    (SET NX, kept SEEN_FOR_SECONDS) when it is configured, else the last few thousand in this process."""

    def __init__(self, size: int = 5000) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._redis = shared_redis()

    def first_time(self, message_id: str | None) -> bool:
        if not message_id:
            return True
        if self._redis is not None:
            try:
                # The id is claimed before the message is handled: a redelivery that arrives meanwhile, at
                # any replica, is not handled a second time.
                return bool(self._redis.set(redis_key("seen", message_id), 1, nx=True, ex=SEEN_FOR_SECONDS))
            except RedisError as error:  # better a possible repeat than a patient's message dropped
                redis_failed("redeliveries are spotted", error)
        if message_id in self._ids:
            return False
        self._ids[message_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True


class NumberedChoices:
    """Choices sent as numbered text; a reply of just "2" then means the second choice's payload.

    The last list sent to each recipient is kept in Redis (for CHOICES_FOR_SECONDS) when it is
    configured, so the reply may reach another replica; else the last few thousand in this process."""

    def __init__(self, size: int = 5000) -> None:
        self.size = size
        self._last: OrderedDict[str, list[str]] = OrderedDict()
        self._redis = shared_redis()

    def render(self, recipient: str, text: str, buttons: list[dict[str, Any]]) -> str:
        self._remember(recipient, [str(b.get("payload") or b.get("title") or "") for b in buttons])
        lines = [f"{i}. {b.get('title', '')}" for i, b in enumerate(buttons, start=1)]
        return "\n".join([text, "", *lines, "", "Reply with a number, or in your own words."])

    def resolve(self, sender: str, text: str) -> str:
        """The payload for a bare number answering the last numbered list; otherwise the text itself."""
        match = re.fullmatch(r"\s*(\d{1,2})\s*\.?\s*", text)
        if not match:
            return text
        options = self._options(sender)
        if options and 1 <= int(match.group(1)) <= len(options):
            return options[int(match.group(1)) - 1]
        return text

    def forget(self, sender: str) -> None:
        self._last.pop(sender, None)
        if self._redis is not None:
            try:
                self._redis.delete(redis_key("choices", sender))
            except RedisError as error:
                redis_failed("numbered choices are kept", error)

    def _remember(self, recipient: str, options: list[str]) -> None:
        self._last[recipient] = options
        self._last.move_to_end(recipient)
        if len(self._last) > self.size:
            self._last.popitem(last=False)
        if self._redis is not None:
            try:
                self._redis.set(redis_key("choices", recipient), json.dumps(options), ex=CHOICES_FOR_SECONDS)
            except RedisError as error:
                redis_failed("numbered choices are kept", error)

    def _options(self, sender: str) -> list[str] | None:
        if self._redis is not None:
            try:
                stored = self._redis.get(redis_key("choices", sender))
                return [str(option) for option in json.loads(stored)] if stored else None
            except RedisError as error:
                redis_failed("numbered choices are kept", error)
        return self._last.get(sender)


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most limit characters, broken at a paragraph, line or space where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*pieces, text] if text else pieces


def fields(value: Any) -> dict[str, Any]:
    """A payload object, or an empty one where the payload has something else: a webhook's shape is not trusted."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    """A payload list, or an empty one where the payload has something else."""
    return value if isinstance(value, list) else []


def sender_id(value: Any, channel: str) -> str | None:
    """The sender's id when bot.channels.intake accepts it; an event from any other id is skipped (logged)."""
    sender = valid_sender(value)
    if sender is None:
        logger.warning("%s: an event with an unusable sender id was skipped", channel)
    return sender


def message_id(value: Any) -> str | None:
    """A platform's message id, for spotting redeliveries (ids of other types are not ids)."""
    return value if isinstance(value, str) else None


def setting(credentials: Mapping[str, Any] | None, key: str, default: str = "") -> str:
    """A credentials.yml value (Rasa expands ${VAR} there), as a string."""
    value = (credentials or {}).get(key)
    return default if value is None else str(value)
