"""The widget's socket.io channel with a real socket.io client: broken ids and texts still get an answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from bot.channels.intake import ONLY_TEXT, TOO_LONG, valid_sender
from tests.channels.webhooks import user_events
from tests.channels.widget_client import WidgetClient, saved_user_texts, widget_client
from tests.conftest import RunningBot


@pytest.fixture()
def client(running_bot: RunningBot) -> Iterator[WidgetClient]:
    with widget_client(running_bot) as connected:
        yield connected


@pytest.mark.parametrize("session_id", ["x-\ud800", "a/b", "", 42, None, "x" * 200])
def test_an_unusable_session_id_is_replaced_and_the_patient_is_answered(
        running_bot: RunningBot, client: WidgetClient, session_id: object) -> None:
    client.sio.emit("session_request", {"session_id": session_id} if session_id is not None else None)
    with client.changed:
        client.changed.wait_for(lambda: client.confirmed, timeout=10)
    confirmed = client.confirmed[0]
    assert valid_sender(confirmed) and confirmed != session_id
    assert client.say("my knee hurts", str(session_id))  # the socket speaks in the conversation it was given
    assert saved_user_texts(running_bot, confirmed, 1) == ["my knee hurts"]


def test_a_text_with_a_surrogate_or_control_characters_is_cleaned_and_answered(
        running_bot: RunningBot, client: WidgetClient) -> None:
    session = client.request_session()
    replies = client.say("knee \ud800 pain\x00 on stairs", session)
    assert replies and all("went wrong" not in r for r in replies)
    assert saved_user_texts(running_bot, session, 1) == ["knee \ufffd pain on stairs"]
    assert user_events(running_bot, session)[0]["input_channel"] == "socketio"


def test_a_too_long_text_and_things_that_are_not_text_get_a_reply_and_never_reach_rasa(
        running_bot: RunningBot, client: WidgetClient) -> None:
    session = client.request_session()
    assert client.say("a" * 100_000, session) == [TOO_LONG]
    for data in ({"message": 42, "session_id": session}, {"message": ["hi"], "session_id": session},
                 {"session_id": session}, {"message": "   ", "session_id": session}, "hello", [1, 2], None):
        assert [r.get("text") for r in client.send(data)] == [ONLY_TEXT], data
    assert user_events(running_bot, session) == []
    assert client.say("my knee hurts", session)  # and the conversation starts normally
    assert saved_user_texts(running_bot, session, 1) == ["my knee hurts"]


def test_a_message_before_any_session_request_is_answered(running_bot: RunningBot, client: WidgetClient) -> None:
    session = uuid.uuid4().hex
    assert client.say("hello", session)
    assert saved_user_texts(running_bot, session, 1) == ["hello"]


def test_metadata_from_the_client_is_ignored(running_bot: RunningBot, client: WidgetClient) -> None:
    session = client.request_session()
    assert client.send({"message": "hello", "session_id": session, "metadata": {"x": "{not json"}})
    assert saved_user_texts(running_bot, session, 1) == ["hello"]
    users = user_events(running_bot, session)
    assert len(users) == 1 and "x" not in (users[0].get("metadata") or {})
