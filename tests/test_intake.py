"""The one validation point (bot.channels.intake) and the connectors' reading of real payload shapes."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from rasa.core.channels.channel import UserMessage
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels.intake import (
    MAX_TEXT,
    NOT_TEXT,
    ONLY_TEXT,
    TOO_LONG,
    Intake,
    cleaned,
    has_invalid_characters,
    read_text,
    valid_sender,
)
from bot.channels.messenger import read_event
from bot.channels.never_silent import apology, respond
from bot.channels.rest import RestOutput, read_request
from bot.channels.twilio_whatsapp import form_params
from bot.channels.whatsapp import read_message

SECRET = "my knee gave way at Tesco"


@pytest.mark.parametrize("sender", ["1254459154682919", "447700900123", "whatsapp:+447700900123",
                                    "0f8fad5bd9cb469fa16570867728950e", "e2e-3f2a", "a" * 128, "x@example.org"])
def test_real_sender_ids_are_accepted(sender: str) -> None:
    assert valid_sender(sender) == sender


@pytest.mark.parametrize("sender", ["", "x-\ud800", "a b", "a/b", "../etc", "a" * 129, "nul\x00", "é", "🦵", None, 42,
                                    ["a"]])
def test_other_sender_ids_are_refused(sender: object) -> None:
    assert valid_sender(sender) is None


def test_only_surrogates_and_control_characters_other_than_newlines_and_tabs_are_invalid() -> None:
    fine = "Knee hurts\r\n\tركبتي תואב 🦵🏽 \u200f\u202e ﷺ 𝔨𝔫𝔢𝔢 e\u0301"
    assert not has_invalid_characters(fine) and cleaned(fine) == fine
    assert has_invalid_characters("knee \ud800 pain") and cleaned("knee \ud800 pain") == "knee \ufffd pain"
    assert has_invalid_characters("a\x00b\x1bc\x7fd\x85") and cleaned("a\x00b\x1bc\x7fd\x85") == "abcd"


def test_read_text_cleans_limits_and_answers_what_is_not_text() -> None:
    assert read_text("knee \udfff \x00pain") == Intake(text="knee \ufffd pain")
    assert read_text("a" * MAX_TEXT) == Intake(text="a" * MAX_TEXT)
    assert read_text("a" * (MAX_TEXT + 1)) == Intake(reply=TOO_LONG)
    assert read_text("🦵" * 100_000) == Intake(reply=TOO_LONG)
    for value in (None, 42, ["hi"], {"text": "hi"}, "", "  \n", "\x00\x01"):
        assert read_text(value) == NOT_TEXT
    assert f"{MAX_TEXT:,} characters" in TOO_LONG and "shorter" in TOO_LONG


def rest_status(body: bytes) -> int | tuple[str, Intake]:
    read = read_request(body)
    return read.status if isinstance(read, HTTPResponse) else read


@pytest.mark.parametrize(("body", "status"), [
    (b"", 400), (b"[]", 400), (b'"hi"', 400), (b"42", 400), (b"null", 400), (b"{", 400), (b"\xff\xfe", 400),
    (b"[" * 50_000 + b"]" * 50_000, 400), (b'{"message": "hi"}', 400), (b'{"sender": "", "message": "hi"}', 400),
    (b'{"sender": "x-\\ud800", "message": "hi"}', 400), (b'{"sender": "a", "message": 1}', 400),
    (b'{"sender": "a", "message": null}', 400), (b'{"sender": "a", "message": "knee \\ud800"}', 400),
    (b'{"sender": "a", "message": "a\\u0000b"}', 400),
    (b'{"sender": "a", "message": "' + b"a" * 1_000_000 + b'"}', 413),
], ids=lambda value: value[:40].decode("latin-1") if isinstance(value, bytes) else str(value))
def test_rest_bodies_that_are_refused(body: bytes, status: int) -> None:
    assert rest_status(body) == status


def test_rest_reads_sender_and_message_and_nothing_else() -> None:
    body = {"sender": "p-1", "message": "hi 🦵", "input_channel": "whatsapp", "metadata": {"a": 1}}
    assert rest_status(json.dumps(body).encode()) == ("p-1", Intake(text="hi 🦵"))
    assert rest_status(b'{"sender": "p-1", "message": " "}') == ("p-1", Intake(text=" "))  # the bot says what it needs
    assert rest_status(json.dumps({"sender": "p-1", "message": "a" * 100_000}).encode()) == ("p-1", Intake(
        reply=TOO_LONG))


def test_twilio_form_keeps_blank_values_so_the_signature_holds() -> None:
    url = "https://chat.example-clinic.co.uk/webhooks/twilio_whatsapp/webhook"
    posted = {"MessageSid": "SM1", "From": "whatsapp:+447700900123", "Body": "", "NumMedia": "1",
              "MediaContentType0": "image/jpeg", "MediaUrl0": "https://api.twilio.com/x"}
    signature = RequestValidator("token").compute_signature(url, posted)
    params = form_params(urlencode(posted).encode())
    assert params.get("Body") == "" and RequestValidator("token").validate(url, params, signature)
    assert not RequestValidator("token").validate(url, {k: v for k, v in posted.items() if v}, signature)


def wa(kind: str, content: Any) -> dict[str, Any]:
    return {"from": "447700900123", "id": "wamid.1", "timestamp": "1700000000", "type": kind, kind: content}


def test_whatsapp_messages_are_read_by_type() -> None:
    assert read_message(wa("text", {"body": "hi"})) == Intake(text="hi")
    assert read_message(wa("image", {"id": "1", "mime_type": "image/jpeg", "caption": "swollen"})) == Intake(
        text="swollen")
    assert read_message(wa("video", {"id": "1", "caption": "clicking"})) == Intake(text="clicking")
    assert read_message(wa("document", {"id": "1", "filename": "mri.pdf", "caption": "my MRI"})) == Intake(
        text="my MRI")
    for kind, content in [("image", {"id": "1"}), ("sticker", {"id": "1", "animated": False}),
                          ("audio", {"id": "1", "voice": True}), ("location", {"latitude": 51.5, "longitude": 0}),
                          ("contacts", [{"name": {"formatted_name": "Sam"}}]), ("unsupported", None),
                          ("order", {}), ("text", {"body": 42}), ("text", "hi"), ("interactive", {"type": ["x"]})]:
        assert read_message(wa(kind, content)) == NOT_TEXT, kind
    assert read_message(wa("reaction", {"message_id": "wamid.0", "emoji": "👍"})) is None
    assert read_message(wa("interactive", {"type": "button_reply", "button_reply": {"id": "/x", "title": "X"}})) == (
        Intake(text="/x"))


def test_messenger_events_are_read_by_kind() -> None:
    assert read_event({"message": {"mid": "m", "text": "hi"}}) == Intake(text="hi")
    assert read_event({"message": {"mid": "m", "text": "Yes", "quick_reply": {"payload": "/affirm"}}}) == Intake(
        text="/affirm")
    assert read_event({"message": {"mid": "m", "is_echo": True, "text": "ours"}}) is None
    for attachment in ({"type": "image", "payload": {"url": "u", "sticker_id": 369239263222822}},
                       {"type": "location", "payload": {"coordinates": {"lat": 1, "long": 2}}},
                       {"type": "audio", "payload": {"url": "u"}}):
        assert read_event({"message": {"mid": "m", "attachments": [attachment]}}) == NOT_TEXT
    assert read_event({"postback": {"title": "Start", "payload": "/greet"}}) == Intake(text="/greet")
    assert read_event({"read": {"watermark": 1}}) is None and read_event({"delivery": {}}) is None


def test_respond_answers_a_failing_or_silent_rasa_with_the_apology_and_logs_no_words(
        caplog: pytest.LogCaptureFixture) -> None:
    """Rasa's message handler is replaced by one that raises and one that says nothing: what the channel then sends."""
    async def raising(message: UserMessage) -> None:
        await message.output_channel.send_text_message(message.sender_id, "half an answer")
        raise RuntimeError(f"database said no to {message.text}")

    async def silent(message: UserMessage) -> None:
        return None

    async def run(handler: Any, intake: Intake) -> list[dict[str, Any]]:
        output = RestOutput()
        await respond(handler, intake, output, "p-7", "rest")
        return output.messages

    with caplog.at_level(logging.INFO):
        assert asyncio.run(run(raising, Intake(text=SECRET))) == [{"recipient_id": "p-7", "text": apology()}]
        assert asyncio.run(run(silent, Intake(text=SECRET))) == [{"recipient_id": "p-7", "text": apology()}]
        assert asyncio.run(run(raising, Intake(reply=TOO_LONG))) == [{"recipient_id": "p-7", "text": TOO_LONG}]
        assert asyncio.run(run(raising, NOT_TEXT)) == [{"recipient_id": "p-7", "text": ONLY_TEXT}]
    assert "RuntimeError" in caplog.text and SECRET not in caplog.text and "p-7" not in caplog.text
