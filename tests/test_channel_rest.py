"""The REST channel over real HTTP: what it refuses, what it ignores, and the length limit."""

from __future__ import annotations

import uuid

import pytest
import requests

from bot.channels.intake import MAX_TEXT, TOO_LONG
from tests.channels.webhooks import user_events
from tests.conftest import RunningBot

STORY = "my knee hurts"


def url(bot: RunningBot) -> str:
    return f"{bot.base}/webhooks/rest/webhook"


def post(bot: RunningBot, body: bytes | str) -> requests.Response:
    data = body.encode() if isinstance(body, str) else body
    return requests.post(url(bot), data=data, headers={"Content-Type": "application/json"}, timeout=60)


def sender() -> str:
    return f"rest-{uuid.uuid4().hex[:10]}"


def assert_refused(answer: requests.Response, mentions: str) -> None:
    assert answer.status_code == 400, answer.text
    error = answer.json()
    assert error["status"] == "failure" and mentions in error["message"]


NOT_AN_OBJECT = {"empty": "", "array": "[]", "string": '"hi"', "number": "42", "null": "null", "invalid": "{not json",
                 "array of messages": '[{"sender": "a", "message": "hi"}]',
                 "nested 100,000 deep": "[" * 100_000 + "]" * 100_000}


@pytest.mark.parametrize("body", list(NOT_AN_OBJECT.values()), ids=list(NOT_AN_OBJECT))
def test_a_body_that_is_not_a_json_object_is_a_bad_request(running_bot: RunningBot, body: str) -> None:
    assert_refused(post(running_bot, body), "JSON object")


@pytest.mark.parametrize("value", [None, "", 42, ["a"], {"id": "a"}, "x-\ud800", "a b", "a/b", "x" * 129, "nul\x00"],
                         ids=["missing", "empty", "number", "list", "object", "surrogate", "space", "slash", "129 long",
                              "NUL"])
def test_a_missing_or_unusable_sender_is_a_bad_request_and_never_the_shared_default(
        running_bot: RunningBot, value: object) -> None:
    body = {"message": "hello"} if value is None else {"sender": value, "message": "hello"}
    assert_refused(requests.post(url(running_bot), json=body, timeout=30), "`sender` is required")
    assert user_events(running_bot, "default") == []


@pytest.mark.parametrize("value", [None, 42, True, ["hi"], {"text": "hi"}])
def test_a_message_that_is_not_a_string_is_a_bad_request(running_bot: RunningBot, value: object) -> None:
    who = sender()
    body = {"sender": who} if value is None else {"sender": who, "message": value}
    assert_refused(requests.post(url(running_bot), json=body, timeout=30), "`message`")
    assert user_events(running_bot, who) == []


@pytest.mark.parametrize("text", ["knee \ud800 pain", "knee \x00 pain", "\x1b[31mred"])
def test_a_message_with_characters_that_are_not_text_is_a_bad_request(running_bot: RunningBot, text: str) -> None:
    who = sender()
    assert_refused(requests.post(url(running_bot), json={"sender": who, "message": text}, timeout=30), "`message`")
    assert user_events(running_bot, who) == []


@pytest.mark.parametrize("text", ["", "  \n\t "])
def test_an_empty_message_is_answered_with_what_the_assistant_needs(running_bot: RunningBot, text: str) -> None:
    replies = running_bot.say(sender(), text)
    assert replies and "didn't get any text" in replies[-1]["text"]


def test_newlines_tabs_emoji_and_right_to_left_text_are_accepted(running_bot: RunningBot) -> None:
    who = sender()
    text = "my knee hurts\r\n\tركبتي تؤلمني 🦵\u200f"
    replies = running_bot.say(who, text)
    assert replies and all(r["recipient_id"] == who for r in replies)
    assert [u["text"] for u in user_events(running_bot, who)] == [text]


def test_input_channel_and_metadata_from_the_client_are_ignored(running_bot: RunningBot) -> None:
    who = sender()
    body = {"sender": who, "message": STORY, "input_channel": "whatsapp" * 100, "metadata": {"x": "y" * 1000}}
    answer = requests.post(url(running_bot), json=body, timeout=60)
    assert answer.status_code == 200 and answer.json()
    users = user_events(running_bot, who)
    assert len(users) == 1 and users[0]["input_channel"] == "rest" and "x" not in (users[0].get("metadata") or {})


def test_a_too_long_message_is_answered_with_a_request_for_a_shorter_one_and_nothing_is_lost(
        running_bot: RunningBot) -> None:
    who = sender()
    assert running_bot.say(who, "x" * MAX_TEXT)  # at the limit: read like any other message
    running_bot.say(who, STORY)
    tracker_before = running_bot.tracker(who)

    for length in (MAX_TEXT + 1, 100_000):
        answer = requests.post(url(running_bot), json={"sender": who, "message": "a" * length}, timeout=60)
        assert answer.status_code == 200
        assert answer.json() == [{"recipient_id": who, "text": TOO_LONG}]
    tracker_after = running_bot.tracker(who)
    assert len(tracker_after["events"]) == len(tracker_before["events"])  # never reached Rasa or the database
    # The next message carries on the same conversation.
    replies = running_bot.say(who, "I injured it")
    assert replies and all("went wrong" not in r.get("text", "") for r in replies)
    assert [u["text"] for u in user_events(running_bot, who)][-2:] == [STORY, "I injured it"]
    assert running_bot.slots(who)["onset"] == "injury"


def test_an_oversized_body_is_refused(running_bot: RunningBot) -> None:
    answer = post(running_bot, '{"sender": "big", "message": "' + "a" * 1_100_000 + '"}')
    assert answer.status_code == 413 and answer.json()["status"] == "failure"
