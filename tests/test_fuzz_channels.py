"""Property-based attacks on every channel of the real running bot (hypothesis, derandomized for CI).

REST bodies, socket.io events and correctly signed Messenger, WhatsApp and Twilio webhooks,
built from arbitrary JSON, text with lone surrogates, control characters, emoji and
right-to-left script, and strings far over the length limit. Every input must get a reply or
a 4xx, never a 5xx; a webhook from a real sender id gets a message back through the
platform's API; and afterwards the server still answers a normal message.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.intake import MAX_BODY, ONLY_TEXT, TOO_LONG
from tests.channels.fake_api import FakeApi
from tests.channels.figures import Tally, record
from tests.channels.webhooks import (
    fake_api_for,
    post_meta,
    post_twilio,
    psid,
    user_events,
    wa_number,
    whatsapp_webhook,
)
from tests.channels.widget_client import WidgetClient, saved_user_texts, widget_client
from tests.conftest import CHANNEL_SECRETS, RunningBot


def bounded(examples: int) -> Any:
    """Fixed examples (derandomize) so CI runs the same inputs every time; no example database."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


def usually(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`common` three times in four: most inputs take the path a real patient's would, the rest anything at all."""
    return st.sampled_from([common, common, common, rare]).flatmap(lambda chosen: chosen)


CHARACTERS = st.characters(categories=["L", "M", "N", "P", "S", "Zs", "Cc", "Cf", "Cs", "Co"])
FORM_CHARACTERS = st.characters(categories=["L", "M", "N", "P", "S", "Zs", "Cc", "Cf", "Co"])  # UTF-8 encodable
PHRASES = ["my knee hurts", "it swelled up straight away", "I'm 34", "yes", "no", "2", "not sure",
           "my kneecap grinds on the stairs", "I twisted it playing football and heard a pop"]
NASTY = ["", " ", "\x00", "knee \ud800 pain", "\udfff", "\u202eevil", "ركبتي تؤلمني", "🦵🏽🦵🏽", "\r\n\t",
         "' OR 1=1; --", "<script>alert(1)</script>", "{{7*7}}", "${jndi:ldap://x}", "%s%n", "/restart",
         '/inform{"age": 999}', "\ufeff", "\U0010ffff"]


def texts(characters: st.SearchStrategy[str] = CHARACTERS) -> st.SearchStrategy[str]:
    """Words, random characters (with surrogates and controls unless told otherwise), attack strings, huge strings."""
    pieces, nasty = ["a", "🦵", "ש ", "\x00", "\ud800"], NASTY
    if characters is not CHARACTERS:
        pieces, nasty = pieces[:-1], [n for n in NASTY if not any("\ud800" <= c <= "\udfff" for c in n)]
    huge = st.builds(lambda piece, count: piece * count, st.sampled_from(pieces),
                     st.sampled_from([1999, 2000, 2001, 5000, 100_000]))
    words = st.lists(st.sampled_from(PHRASES), min_size=1, max_size=3).map(" and ".join)
    mixed = st.builds(lambda phrase, noise: f"{phrase} {noise}", st.sampled_from(PHRASES), st.text(characters,
                                                                                                    max_size=8))
    return usually(st.one_of(words, mixed, st.text(characters, max_size=40)), st.one_of(st.sampled_from(nasty), huge))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | texts(), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts(), inner, max_size=3),
                    max_leaves=8)
IDS = st.one_of(st.from_regex(r"[A-Za-z0-9._:@+-]{1,24}", fullmatch=True), texts(), JSON)


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()  # ensure_ascii: lone surrogates go out as \ud800 escapes, as an attacker sends


@pytest.fixture(scope="module")
def api(running_bot: RunningBot) -> Iterator[FakeApi]:
    with fake_api_for(running_bot) as fake:
        yield fake


def still_answers(bot: RunningBot) -> None:
    replies = bot.say(f"after-{uuid.uuid4().hex[:8]}", "my knee hurts on the stairs")
    assert replies and all("went wrong" not in r.get("text", "") for r in replies)


def read_by_the_bot(bot: RunningBot, sender: str) -> bool:
    return bool(user_events(bot, sender))


def finish(name: str, tally: Tally, bot: RunningBot) -> None:
    record(name, inputs=tally.inputs, statuses=tally.statuses, read_by_the_bot=tally.read_by_the_bot)
    assert tally.server_errors == 0, tally.statuses
    still_answers(bot)


# ---- REST -------------------------------------------------------------------------------------

REST_BODIES = usually(
    st.fixed_dictionaries({"sender": st.from_regex(r"fz-[a-z0-9]{8}", fullmatch=True), "message": texts()},
                          optional={"input_channel": JSON, "metadata": JSON}).map(as_json),
    st.one_of(JSON.map(as_json), st.fixed_dictionaries({"sender": IDS, "message": st.one_of(texts(), JSON)}).map(
        as_json), st.binary(max_size=64)),
)


def test_rest_every_body_gets_a_reply_or_a_4xx(running_bot: RunningBot) -> None:
    tally = Tally()

    @bounded(150)
    @given(body=REST_BODIES)
    def attack(body: bytes) -> None:
        answer = requests.post(f"{running_bot.base}/webhooks/rest/webhook", data=body,
                               headers={"Content-Type": "application/json"}, timeout=60)
        tally.count(answer.status_code)
        assert answer.status_code < 500, answer.text[:300]
        if answer.status_code == 200:
            replies = answer.json()
            assert replies and all(r.get("text") or r.get("buttons") or r.get("custom") for r in replies)
            tally.read_by_the_bot += replies[0].get("text") != TOO_LONG
        else:
            assert 400 <= answer.status_code < 500 and answer.json()["message"]

    attack()
    finish("fuzz_rest", tally, running_bot)


# ---- socket.io (the website widget) -----------------------------------------------------------

EVENT_DATA = usually(
    st.fixed_dictionaries({"message": texts()}, optional={"session_id": IDS, "metadata": JSON}),
    st.one_of(JSON, st.fixed_dictionaries({"message": JSON}, optional={"session_id": IDS})),
)


def test_socketio_every_event_gets_an_answer(running_bot: RunningBot) -> None:
    tally = Tally()

    def refused_for_size(client: WidgetClient, event: str, data: Any) -> bool:
        """Engine.io refuses a packet over its limit (HTTP 413) and closes the socket; the widget reconnects."""
        if client.sio.connected:
            return False
        assert packet_size(event, data) > MAX_BODY, data
        tally.count(413)
        client.reconnect()
        return True

    with widget_client(running_bot) as client:

        @bounded(60)
        @given(session=usually(st.none(), IDS), data=EVENT_DATA)
        def attack(session: Any, data: Any) -> None:
            session = session if session is not None else uuid.uuid4().hex
            confirmed = client.request_session(session)
            if refused_for_size(client, "session_request", {"session_id": session}):
                return
            assert isinstance(confirmed, str) and confirmed
            before = len(user_events(running_bot, confirmed))
            replies = client.send(data, seconds=30, quiet=0.2)
            if refused_for_size(client, "user_uttered", data):
                return
            tally.count(200 if replies else 599)  # 599: silence, counted as a failure
            assert replies, data
            if [r.get("text") for r in replies] not in ([ONLY_TEXT], [TOO_LONG]):
                tally.read_by_the_bot += len(saved_user_texts(running_bot, confirmed, before + 1, seconds=5)) > before

        attack()
        assert client.sio.connected  # the server never dropped the socket
        check_widget_still_answers(client)
    finish("fuzz_socketio", tally, running_bot)


def packet_size(event: str, data: Any) -> int:
    """Bytes of the socket.io packet that carries this event (python-socketio's encoding)."""
    return len(json.dumps([event, data], separators=(",", ":"))) + 2


def check_widget_still_answers(client: WidgetClient) -> None:
    session = client.request_session()
    assert client.say("my knee hurts", session)


# ---- signed webhooks --------------------------------------------------------------------------

def mostly(real: str, other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Three times in four a real sender id (which must get an answer), else anything at all."""
    return usually(st.just(real), other)


MESSENGER_MESSAGES = usually(st.fixed_dictionaries({"text": texts()}), st.one_of(
    st.fixed_dictionaries({"text": st.one_of(texts(), JSON), "quick_reply": st.fixed_dictionaries(
        {"payload": st.one_of(texts(), JSON)})}),
    st.fixed_dictionaries({"attachments": st.lists(st.fixed_dictionaries(
        {"type": st.sampled_from(["image", "audio", "video", "file", "location", "fallback", "sticker", "x"]),
         "payload": JSON}), max_size=3)}, optional={"sticker_id": st.integers(), "text": JSON}),
    st.dictionaries(st.sampled_from(["text", "attachments", "quick_reply", "reply_to"]), JSON, max_size=3),
))


def answered_by_api(api: FakeApi, recipient: str) -> bool:
    deadline = time.monotonic() + 5  # the webhook answers after sending, so this is only a safety margin
    while time.monotonic() < deadline:
        if api.to(recipient):
            return True
        time.sleep(0.05)
    return False


def test_messenger_every_signed_webhook_is_acknowledged_and_every_message_answered(
        running_bot: RunningBot, api: FakeApi) -> None:
    tally = Tally()

    @bounded(50)
    @given(data=st.data())
    def attack(data: st.DataObject) -> None:
        real = psid()
        sender = data.draw(mostly(real, IDS))
        message = {"mid": f"m_{uuid.uuid4().hex}", **data.draw(MESSENGER_MESSAGES)}
        event = {"sender": {"id": sender}, "recipient": {"id": "PAGE_ID"}, "timestamp": 1, "message": message}
        payload = data.draw(usually(st.just({"object": "page", "entry": [{"id": "PAGE_ID", "messaging": [event]}]}),
                                    JSON))
        answer = post_meta(running_bot, "messenger", payload)
        tally.count(answer.status_code)
        assert answer.status_code in (200, 400), answer.text[:300]
        if sender == real and isinstance(payload, dict) and payload.get("entry"):
            assert answered_by_api(api, real), message
            tally.read_by_the_bot += read_by_the_bot(running_bot, real)

    attack()
    finish("fuzz_messenger", tally, running_bot)


def whatsapp_content(kind: str) -> st.SearchStrategy[Any]:
    """What Meta puts under the message's type: a text's body, a picture's id and caption, a tapped reply..."""
    if kind == "text":
        return st.fixed_dictionaries({"body": texts()})
    if kind == "interactive":
        return st.fixed_dictionaries({"type": st.just("button_reply"), "button_reply": st.fixed_dictionaries(
            {"id": texts(), "title": texts()})})
    return st.fixed_dictionaries({"id": st.just("1383912345"), "mime_type": st.just("image/jpeg")},
                                 optional={"caption": texts()})


WHATSAPP_KINDS = ["text", "image", "video", "document", "audio", "sticker", "location", "contacts", "interactive",
                  "button", "unsupported", "order", "x"]


def test_whatsapp_every_signed_webhook_is_acknowledged_and_every_message_answered(
        running_bot: RunningBot, api: FakeApi) -> None:
    tally = Tally()

    @bounded(50)
    @given(data=st.data())
    def attack(data: st.DataObject) -> None:
        real = wa_number()
        sender = data.draw(mostly(real, IDS))
        kind = data.draw(usually(st.sampled_from(["text", "image"]), st.sampled_from(WHATSAPP_KINDS)))
        content = data.draw(usually(whatsapp_content(kind), JSON))
        message = {"from": sender, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": "1700000000", "type": kind,
                   kind: content}
        payload = data.draw(usually(st.just(whatsapp_webhook(messages=[message], wa_id=real)), JSON))
        answer = post_meta(running_bot, "whatsapp", payload)
        tally.count(answer.status_code)
        assert answer.status_code in (200, 400), answer.text[:300]
        if sender == real and isinstance(payload, dict) and payload.get("entry"):
            assert answered_by_api(api, real), message
            tally.read_by_the_bot += read_by_the_bot(running_bot, real)

    attack()
    finish("fuzz_whatsapp", tally, running_bot)


TWILIO_KNOWN = {"MessageSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "MediaContentType0", "Latitude",
                "Longitude", "ButtonPayload", "MessageStatus", "AccountSid"}


def test_twilio_every_signed_webhook_is_acknowledged_and_every_message_answered(
        running_bot: RunningBot, api: FakeApi) -> None:
    tally = Tally()
    form_text = texts(FORM_CHARACTERS)

    @bounded(50)
    @given(data=st.data())
    def attack(data: st.DataObject) -> None:
        real = f"whatsapp:+{wa_number()}"
        sender = data.draw(mostly(real, form_text))
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": CHANNEL_SECRETS["TWILIO_ACCOUNT_SID"],
                  "From": sender, "To": data.draw(st.one_of(st.just(CHANNEL_SECRETS["TWILIO_WHATSAPP_NUMBER"]),
                                                            form_text)),
                  "Body": data.draw(form_text), "NumMedia": data.draw(st.sampled_from(["0", "1", "10", "-1", "x"]))}
        if data.draw(st.booleans()):
            params.update(MediaUrl0="https://api.twilio.com/media/ME1", MediaContentType0=data.draw(
                st.sampled_from(["image/jpeg", "audio/ogg", "text/vcard", "video/mp4"])))
        if data.draw(st.booleans()):
            params.update(Latitude=data.draw(form_text), Longitude="-0.1276", Address=data.draw(form_text))
        params.update(data.draw(st.dictionaries(form_text.filter(lambda key: key and key not in TWILIO_KNOWN),
                                                form_text, max_size=3)))
        answer = post_twilio(running_bot, params)
        tally.count(answer.status_code)
        assert answer.status_code in (200, 400), answer.text[:300]
        if sender == real:
            assert answer.status_code == 200 and answered_by_api(api, real), params
            tally.read_by_the_bot += read_by_the_bot(running_bot, real)

    attack()
    finish("fuzz_twilio", tally, running_bot)
