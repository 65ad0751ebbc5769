"""Facebook Messenger with the real Rasa server (scripts/serve) and a fake Graph API."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from tests.channels.fake_api import FakeApi
from tests.channels.webhooks import (
    fake_api_for,
    messenger_batch,
    messenger_event,
    messenger_text,
    post_meta,
    psid,
    user_events,
)
from tests.conftest import CHANNEL_SECRETS, RunningBot

STORY = "my knee hurts"  # the bot then asks how it started, with quick replies


@pytest.fixture(scope="module")
def graph(running_bot: RunningBot) -> Iterator[FakeApi]:
    with fake_api_for(running_bot) as api:
        yield api


def texts(api: FakeApi, sender: str) -> list[str]:
    return [sent.body["message"].get("text", "") for sent in api.to(sender)]


def test_verify_token_handshake(running_bot: RunningBot) -> None:
    url = f"{running_bot.base}/webhooks/messenger/webhook"
    good = {"hub.mode": "subscribe", "hub.verify_token": CHANNEL_SECRETS["MESSENGER_VERIFY_TOKEN"],
            "hub.challenge": "1158201444"}
    answer = requests.get(url, params=good, timeout=10)
    assert answer.status_code == 200 and answer.text == "1158201444"
    assert requests.get(url, params={**good, "hub.verify_token": "guess"}, timeout=10).status_code == 403


def test_a_text_message_is_answered_through_the_send_api(running_bot: RunningBot, graph: FakeApi) -> None:
    sender = psid()
    assert post_meta(running_bot, "messenger", messenger_batch(messenger_text(sender, "hi"))).status_code == 200
    sent = graph.wait_for(sender, 2)
    assert len(sent) >= 2
    assert all(s.path == "/v18.0/me/messages" and s.query["access_token"] == "page-token" for s in sent)
    assert sent[0].body["messaging_type"] == "RESPONSE"
    assert "not a diagnosis" in " ".join(texts(graph, sender))
    users = user_events(running_bot, sender)
    assert [u["text"] for u in users] == ["hi"] and users[0]["input_channel"] == "messenger"


def test_quick_replies_go_out_and_a_tapped_one_comes_back_as_its_payload(running_bot: RunningBot,
                                                                          graph: FakeApi) -> None:
    sender = psid()
    post_meta(running_bot, "messenger", messenger_batch(messenger_text(sender, STORY)))
    question = [s.body["message"] for s in graph.wait_for(sender) if s.body["message"].get("quick_replies")][-1]
    replies = question["quick_replies"]
    assert 1 <= len(replies) <= 13 and all(len(r["title"]) <= 20 and r["content_type"] == "text" for r in replies)
    gradual = next(r for r in replies if json.loads(r["payload"][len("/inform"):]).get("onset") == "gradual")
    if all(r["title"].isdigit() for r in replies):  # a title over 20 characters: all are listed in the text
        assert f"\n{gradual['title']}. " in question["text"], question

    post_meta(running_bot, "messenger", messenger_batch(messenger_text(sender, gradual["title"],
                                                                       quick_reply=gradual["payload"])))
    assert user_events(running_bot, sender)[-1]["text"] == gradual["payload"]
    assert running_bot.slots(sender)["onset"] == "gradual"


def test_a_postback_is_read_as_its_payload(running_bot: RunningBot, graph: FakeApi) -> None:
    sender = psid()
    post_meta(running_bot, "messenger", messenger_batch(messenger_text(sender, STORY)))
    postback = messenger_event(sender, postback={"title": "It came on gradually",
                                                 "payload": '/inform{"onset":"gradual"}'})
    assert post_meta(running_bot, "messenger", messenger_batch(postback)).status_code == 200
    assert running_bot.slots(sender)["onset"] == "gradual"


def test_every_event_of_a_batch_is_handled_and_the_rest_ignored(running_bot: RunningBot, graph: FakeApi) -> None:
    first, second = psid(), psid()
    echo = messenger_event(first, message={"mid": "m_echo", "is_echo": True, "app_id": 1517776481860111,
                                           "text": "an echo of our own reply"})
    delivery = messenger_event(first, delivery={"mids": ["m_1"], "watermark": 1458668856253})
    read = messenger_event(second, read={"watermark": 1458668856253})
    reaction = messenger_event(second, reaction={"reaction": "smile", "emoji": "\U0001f642", "action": "react",
                                                 "mid": "m_2"})
    sticker = messenger_event(first, message={"mid": "m_3", "attachments": [{"type": "image",
                                                                             "payload": {"url": "https://x/y.png"}}]})
    batch = messenger_batch(echo, messenger_text(first, "hello"), delivery, read, reaction, sticker,
                            messenger_text(second, "hi there"), entries=2)
    assert post_meta(running_bot, "messenger", batch).status_code == 200
    assert [u["text"] for u in user_events(running_bot, first)] == ["hello"]
    assert [u["text"] for u in user_events(running_bot, second)] == ["hi there"]
    assert graph.to(first) and graph.to(second)


@pytest.mark.parametrize("signature", ["", "sha256=" + "0" * 64, "sha1=abc", "forged"])
def test_a_missing_or_forged_signature_is_refused_and_nothing_reaches_the_bot(
        running_bot: RunningBot, graph: FakeApi, signature: str) -> None:
    sender = psid()
    answer = post_meta(running_bot, "messenger", messenger_batch(messenger_text(sender, "hi")), signature=signature)
    assert answer.status_code == 403
    wrong_secret = post_meta(running_bot, "messenger", messenger_batch(messenger_text(sender, "hi")), secret="nope")
    assert wrong_secret.status_code == 403
    assert user_events(running_bot, sender) == [] and graph.to(sender) == []


def test_malformed_json_is_a_bad_request(running_bot: RunningBot) -> None:
    assert post_meta(running_bot, "messenger", None, raw=b'{"object": "page", "entry": [').status_code == 400
