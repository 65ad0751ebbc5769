"""What the connectors send, against a fake API: choices, long texts, retries and what is logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from bot.channels import webhook
from bot.channels.messenger import MessengerOutput
from bot.channels.twilio_whatsapp import TwilioWhatsAppOutput
from bot.channels.webhook import NumberedChoices, post_with_retries, split_text, valid_hub_signature
from bot.channels.whatsapp import WhatsAppOutput
from tests.channels.fake_api import FakeApi, serve
from tests.channels.webhooks import hub_signature
from tests.conftest import free_port

PATIENT = "447700900123"
SECRET_TEXT = "my knee gave way at Tesco on Tuesday"


def buttons(count: int, title: str = "Option") -> list[dict[str, str]]:
    return [{"title": f"{title} {i}", "payload": f'/inform{{"n":{i}}}'} for i in range(1, count + 1)]


@pytest.fixture()
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    monkeypatch.setattr(webhook, "FIRST_DELAY", 0.01)
    fake, server = serve(free_port())
    yield fake
    server.shutdown()
    server.server_close()


def whatsapp(api: FakeApi) -> WhatsAppOutput:
    return WhatsAppOutput(f"{api.base}/v18.0/123/messages", "token", NumberedChoices())


def test_whatsapp_three_short_choices_are_reply_buttons(api: FakeApi) -> None:
    asyncio.run(whatsapp(api).send_text_with_buttons(PATIENT, "Which?", buttons(3)))
    body = api.requests[-1].body
    assert body["type"] == "interactive" and body["interactive"]["type"] == "button"
    assert [b["reply"]["title"] for b in body["interactive"]["action"]["buttons"]] == ["Option 1", "Option 2",
                                                                                       "Option 3"]


def test_whatsapp_four_to_ten_choices_are_a_list_and_long_titles_are_shortened_into_rows(api: FakeApi) -> None:
    long = [{"title": "It started after a twisting injury at football", "payload": "/a"}, *buttons(3)]
    asyncio.run(whatsapp(api).send_text_with_buttons(PATIENT, "Which?", long))
    interactive = api.requests[-1].body["interactive"]
    assert interactive["type"] == "list" and len(interactive["action"]["button"]) <= 20
    rows = interactive["action"]["sections"][0]["rows"]
    assert len(rows) == 4 and all(len(r["title"]) <= 24 for r in rows)
    assert rows[0]["description"] == long[0]["title"] and rows[0]["id"] == "/a"


def test_whatsapp_more_than_ten_choices_are_numbered_text_and_a_number_answers(api: FakeApi) -> None:
    output = whatsapp(api)
    asyncio.run(output.send_text_with_buttons(PATIENT, "Which?", buttons(11)))
    body = api.requests[-1].body
    assert body["type"] == "text" and "11. Option 11" in body["text"]["body"]
    assert output.choices.resolve(PATIENT, "11") == '/inform{"n":11}'
    assert output.choices.resolve(PATIENT, "12") == "12" and output.choices.resolve(PATIENT, "hi") == "hi"


def test_whatsapp_splits_text_over_4096_characters(api: FakeApi) -> None:
    text = ("All work and no play. " * 400).strip()
    asyncio.run(whatsapp(api).send_text_message(PATIENT, text))
    bodies = [r.body["text"]["body"] for r in api.requests]
    assert len(bodies) == 3 and all(len(b) <= 4096 for b in bodies)
    assert " ".join(bodies).split() == text.split()


def test_messenger_quick_replies_up_to_13_then_numbered_text(api: FakeApi) -> None:
    output = MessengerOutput(f"{api.base}/v18.0/me/messages", "page-token", NumberedChoices())
    asyncio.run(output.send_text_with_buttons(PATIENT, "Which?", buttons(13)))
    message = api.requests[-1].body["message"]
    assert len(message["quick_replies"]) == 13 and message["text"] == "Which?"
    asyncio.run(output.send_text_with_buttons(PATIENT, "Which?", buttons(14)))
    message = api.requests[-1].body["message"]
    assert "quick_replies" not in message and "14. Option 14" in message["text"]
    assert output.choices.resolve(PATIENT, "14") == '/inform{"n":14}'


def test_twilio_sends_choices_as_numbered_text(api: FakeApi) -> None:
    output = TwilioWhatsAppOutput(f"{api.base}/2010-04-01/Accounts/AC1/Messages.json", "AC1", "tok",
                                  "whatsapp:+14155238886", NumberedChoices())
    asyncio.run(output.send_text_with_buttons("whatsapp:+447700900123", "Which?", buttons(2)))
    assert api.requests[-1].body == {"From": "whatsapp:+14155238886", "To": "whatsapp:+447700900123",
                                     "Body": "Which?\n\n1. Option 1\n2. Option 2\n\nReply with a number, or in "
                                             "your own words."}


def test_failures_are_retried_with_back_off_and_logged_without_personal_data(
        api: FakeApi, caplog: pytest.LogCaptureFixture) -> None:
    api.failures = 2
    caplog.set_level(logging.INFO, logger="bot.channels")
    asyncio.run(whatsapp(api).send_text_message(PATIENT, SECRET_TEXT))
    assert len(api.requests) == 3 and api.requests[-1].body["text"]["body"] == SECRET_TEXT  # delivered at last
    assert "HTTP 500" in caplog.text
    assert SECRET_TEXT not in caplog.text and PATIENT not in caplog.text and "token" not in caplog.text


def test_a_client_error_is_not_retried_and_a_dead_api_gives_up(api: FakeApi,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    api.failures, api.failure_status = 5, 400
    assert asyncio.run(post_with_retries("whatsapp", f"{api.base}/x", json={"to": PATIENT})) is False
    assert len(api.requests) == 1
    nobody = f"http://127.0.0.1:{free_port()}/x"
    assert asyncio.run(post_with_retries("whatsapp", nobody, json={"to": PATIENT})) is False
    assert "dropped after 3 attempts" in caplog.text and PATIENT not in caplog.text


def test_signature_check() -> None:
    body = b'{"object":"page"}'
    assert valid_hub_signature("s3cret", body, hub_signature("s3cret", body))
    assert not valid_hub_signature("s3cret", body + b" ", hub_signature("s3cret", body))
    assert not valid_hub_signature("s3cret", body, hub_signature("other", body))
    assert not valid_hub_signature("", body, hub_signature("", body))  # no secret configured: nothing passes
    assert not valid_hub_signature("s3cret", body, None)


def test_split_text_keeps_short_text_whole() -> None:
    assert split_text("short", 10) == ["short"]
    assert all(len(piece) <= 10 for piece in split_text("x" * 25, 10))
