"""WhatsApp Cloud API and WhatsApp through Twilio, with the real Rasa server and a fake API."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator

import pytest
import requests
from twilio.request_validator import RequestValidator

from tests.channels.fake_api import FakeApi
from tests.channels.webhooks import (
    fake_api_for,
    post_meta,
    post_twilio,
    user_events,
    wa_interactive,
    wa_number,
    wa_text,
    whatsapp_webhook,
)
from tests.conftest import CHANNEL_SECRETS, RunningBot

STORY = "my knee hurts"  # the bot then asks how it started, with three choices
PHONE_ID = CHANNEL_SECRETS["WHATSAPP_PHONE_NUMBER_ID"]


@pytest.fixture(scope="module")
def api(running_bot: RunningBot) -> Iterator[FakeApi]:
    with fake_api_for(running_bot) as fake:
        yield fake


def test_verify_token_handshake(running_bot: RunningBot) -> None:
    url = f"{running_bot.base}/webhooks/whatsapp/webhook"
    good = {"hub.mode": "subscribe", "hub.verify_token": CHANNEL_SECRETS["WHATSAPP_VERIFY_TOKEN"],
            "hub.challenge": "8317"}
    answer = requests.get(url, params=good, timeout=10)
    assert answer.status_code == 200 and answer.text == "8317"
    assert requests.get(url, params={**good, "hub.verify_token": ""}, timeout=10).status_code == 403


def test_a_text_is_answered_and_a_choice_goes_out_as_interactive(running_bot: RunningBot, api: FakeApi) -> None:
    sender = wa_number()
    assert post_meta(running_bot, "whatsapp", whatsapp_webhook(messages=[wa_text(sender, STORY)])).status_code == 200
    sent = api.wait_for(sender)
    assert sent and all(s.path == f"/v18.0/{PHONE_ID}/messages" for s in sent)
    assert all(s.headers["Authorization"] == "Bearer wa-token" and s.body["messaging_product"] == "whatsapp"
               for s in sent)
    interactive = [s.body["interactive"] for s in sent if s.body["type"] == "interactive"]
    assert interactive, [s.body for s in sent]
    question = interactive[-1]
    if question["type"] == "button":
        options = [(b["reply"]["id"], b["reply"]["title"]) for b in question["action"]["buttons"]]
        assert len(options) <= 3 and all(len(title) <= 20 for _, title in options)
    else:
        assert question["type"] == "list"
        rows = question["action"]["sections"][0]["rows"]
        assert len(rows) <= 10 and all(len(r["title"]) <= 24 for r in rows)
        options = [(r["id"], r.get("description", r["title"])) for r in rows]
    assert len(question["body"]["text"]) <= 1024
    users = user_events(running_bot, sender)
    assert [u["text"] for u in users] == [STORY] and users[0]["input_channel"] == "whatsapp"

    # The patient taps "It came on gradually": the reply's id is the payload.
    reply_id, title = next(o for o in options if json.loads(o[0][len("/inform"):]).get("onset") == "gradual")
    kind = "button_reply" if question["type"] == "button" else "list_reply"
    post_meta(running_bot, "whatsapp", whatsapp_webhook(messages=[wa_interactive(sender, kind, reply_id, title)]))
    assert user_events(running_bot, sender)[-1]["text"] == reply_id
    assert running_bot.slots(sender)["onset"] == "gradual"


@pytest.mark.parametrize("kind", ["button_reply", "list_reply"])
def test_button_and_list_replies_are_read_as_their_id(running_bot: RunningBot, api: FakeApi, kind: str) -> None:
    sender = wa_number()
    post_meta(running_bot, "whatsapp", whatsapp_webhook(messages=[wa_text(sender, STORY)]))
    tapped = wa_interactive(sender, kind, '/inform{"onset":"injury"}', "An injury")
    assert post_meta(running_bot, "whatsapp", whatsapp_webhook(messages=[tapped])).status_code == 200
    assert running_bot.slots(sender)["onset"] == "injury"


def test_statuses_are_ignored_and_a_redelivered_message_is_answered_once(running_bot: RunningBot,
                                                                         api: FakeApi) -> None:
    sender = wa_number()
    statuses = [{"id": f"wamid.{uuid.uuid4().hex}", "status": status, "timestamp": "1700000000",
                 "recipient_id": sender} for status in ("sent", "delivered", "read")]
    assert post_meta(running_bot, "whatsapp", whatsapp_webhook(statuses=statuses)).status_code == 200
    assert user_events(running_bot, sender) == [] and api.to(sender) == []

    message = wa_text(sender, "hello", message_id=f"wamid.{uuid.uuid4().hex}")
    for _ in range(3):  # Meta redelivers when it did not see our 200 in time
        assert post_meta(running_bot, "whatsapp", whatsapp_webhook(messages=[message])).status_code == 200
    assert [u["text"] for u in user_events(running_bot, sender)] == ["hello"]
    # an image (not read) next to a text in the same webhook
    image = {"from": sender, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": "1700000001", "type": "image",
             "image": {"id": "1234", "mime_type": "image/jpeg"}}
    post_meta(running_bot, "whatsapp", whatsapp_webhook(messages=[image, wa_text(sender, "my knee hurts")]))
    assert [u["text"] for u in user_events(running_bot, sender)] == ["hello", "my knee hurts"]


@pytest.mark.parametrize("signature", ["", "sha256=" + "f" * 64, "sha256="])
def test_a_missing_or_forged_signature_is_refused_and_nothing_reaches_the_bot(
        running_bot: RunningBot, api: FakeApi, signature: str) -> None:
    sender = wa_number()
    payload = whatsapp_webhook(messages=[wa_text(sender, "hi")])
    assert post_meta(running_bot, "whatsapp", payload, signature=signature).status_code == 403
    assert post_meta(running_bot, "whatsapp", payload, secret="messenger-app-secret").status_code == 403
    assert user_events(running_bot, sender) == [] and api.to(sender) == []


def test_malformed_json_is_a_bad_request(running_bot: RunningBot) -> None:
    assert post_meta(running_bot, "whatsapp", None, raw=b"{not json").status_code == 400
    assert post_meta(running_bot, "whatsapp", None, raw=b"[" * 100_000 + b"]" * 100_000).status_code == 400


def test_an_oversized_webhook_is_refused_before_it_is_read(running_bot: RunningBot, api: FakeApi) -> None:
    sender = wa_number()
    payload = whatsapp_webhook(messages=[wa_text(sender, "a" * 1_100_000)])
    assert post_meta(running_bot, "whatsapp", payload).status_code == 413
    params = twilio_message(f"whatsapp:+{sender}", "a" * 1_100_000)
    assert post_twilio(running_bot, params).status_code == 413
    assert api.to(sender) == [] and api.to(f"whatsapp:+{sender}") == []


# ---- WhatsApp through Twilio ------------------------------------------------------------------

def twilio_message(sender: str, body: str) -> dict[str, str]:
    return {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": CHANNEL_SECRETS["TWILIO_ACCOUNT_SID"],
            "From": sender, "To": CHANNEL_SECRETS["TWILIO_WHATSAPP_NUMBER"], "Body": body, "NumMedia": "0",
            "ProfileName": "Kerry", "WaId": sender.split("+")[-1]}


def test_twilio_signed_message_is_answered_through_the_messages_api(running_bot: RunningBot,
                                                                     api: FakeApi) -> None:
    sender = f"whatsapp:+{wa_number()}"
    answer = post_twilio(running_bot, twilio_message(sender, STORY))
    assert answer.status_code == 200 and "<Response>" in answer.text
    sent = api.wait_for(sender)
    sid = CHANNEL_SECRETS["TWILIO_ACCOUNT_SID"]
    assert sent and all(s.path == f"/2010-04-01/Accounts/{sid}/Messages.json" for s in sent)
    expected_auth = "Basic " + base64.b64encode(f"{sid}:twilio-auth-token".encode()).decode()
    assert all(s.headers["Authorization"] == expected_auth and s.body["From"] == CHANNEL_SECRETS[
        "TWILIO_WHATSAPP_NUMBER"] for s in sent)
    question = sent[-1].body["Body"]
    lines = [line for line in question.splitlines() if line[:3] in ("1. ", "2. ")]
    assert len(lines) == 2, question  # choices as numbered text
    users = user_events(running_bot, sender)
    assert [u["text"] for u in users] == [STORY] and users[0]["input_channel"] == "twilio_whatsapp"

    # "2" answers with the second choice's payload
    post_twilio(running_bot, twilio_message(sender, "2"))
    payload = user_events(running_bot, sender)[-1]["text"]
    assert payload.startswith("/inform{")
    answer = json.loads(payload[len("/inform"):])
    slots = running_bot.slots(sender)
    assert answer and all(slots[name] == value for name, value in answer.items())


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl"])
def test_twilio_forged_or_missing_signature_is_refused(running_bot: RunningBot, api: FakeApi,
                                                       signature: str) -> None:
    sender = f"whatsapp:+{wa_number()}"
    assert post_twilio(running_bot, twilio_message(sender, "hi"), signature=signature).status_code == 403
    assert post_twilio(running_bot, twilio_message(sender, "hi"), token="someone-else").status_code == 403
    # signed, then changed on the way: the signature covers every parameter
    params = twilio_message(sender, "hi")
    url = f"{running_bot.base}/webhooks/twilio_whatsapp/webhook"
    original = RequestValidator(CHANNEL_SECRETS["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    assert post_twilio(running_bot, {**params, "Body": "tampered"}, signature=original).status_code == 403
    assert user_events(running_bot, sender) == [] and api.to(sender) == []


def test_each_channel_is_recorded_on_its_conversation_for_the_console(running_bot: RunningBot, api: FakeApi) -> None:
    from sqlalchemy import select

    from bot.store.db import session_scope
    from bot.store.models import Case
    from bot.store.sync import sync_events
    from tests.channels.webhooks import messenger_batch, messenger_text, psid

    messenger, whatsapp, twilio = psid(), wa_number(), f"whatsapp:+{wa_number()}"
    post_meta(running_bot, "messenger", messenger_batch(messenger_text(messenger, STORY)))
    post_meta(running_bot, "whatsapp", whatsapp_webhook(messages=[wa_text(whatsapp, STORY)]))
    post_twilio(running_bot, twilio_message(twilio, STORY))
    with session_scope(running_bot.database_url) as session:
        sync_events(session)
        channels = dict(session.execute(select(Case.conversation_id, Case.channel).where(
            Case.conversation_id.in_([messenger, whatsapp, twilio]))).all())
    assert channels == {messenger: "messenger", whatsapp: "whatsapp", twilio: "twilio_whatsapp"}
