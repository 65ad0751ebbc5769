"""Pictures, stickers, voice notes, locations and contacts, as the platforms really send them, correctly signed.

Payload shapes from Meta's webhook references (WhatsApp Cloud API messages: image, sticker,
audio, location, contacts, unsupported, reaction; Messenger messages with attachments) and
Twilio's incoming message webhook (NumMedia, MediaUrl0, MediaContentType0, Latitude,
Longitude, Address, Label, MessageType), with a blank `Body=` as Twilio posts it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bot.channels.intake import ONLY_TEXT
from tests.channels.fake_api import FakeApi
from tests.channels.webhooks import (
    fake_api_for,
    messenger_batch,
    messenger_event,
    post_meta,
    post_twilio,
    psid,
    user_events,
    wa_number,
    whatsapp_webhook,
)
from tests.conftest import CHANNEL_SECRETS, RunningBot

KNEE_PHOTO_CAPTION = "this is my knee this morning, swollen after football"


@pytest.fixture(scope="module")
def api(running_bot: RunningBot) -> Iterator[FakeApi]:
    with fake_api_for(running_bot) as fake:
        yield fake


def sent_texts(api: FakeApi, recipient: str) -> list[str]:
    texts = []
    for sent in api.to(recipient):
        body = sent.body
        texts.append(body.get("Body") or (body.get("text") or {}).get("body") or (body.get("message") or {}).get(
            "text") or ((body.get("interactive") or {}).get("body") or {}).get("text") or "")
    return texts


# ---- WhatsApp through Twilio ------------------------------------------------------------------

def twilio_params(sender: str, **fields: str) -> dict[str, str]:
    sid = "SM" + uuid.uuid4().hex
    return {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Kerry", "MessageType": "text",
            "SmsSid": sid, "WaId": sender.split("+")[-1], "SmsStatus": "received", "Body": "",
            "To": CHANNEL_SECRETS["TWILIO_WHATSAPP_NUMBER"], "NumSegments": "1", "ReferralNumMedia": "0",
            "MessageSid": sid, "AccountSid": CHANNEL_SECRETS["TWILIO_ACCOUNT_SID"], "From": sender,
            "ApiVersion": "2010-04-01", **fields}


def twilio_photo(sender: str, caption: str = "") -> dict[str, str]:
    account = CHANNEL_SECRETS["TWILIO_ACCOUNT_SID"]
    media = f"https://api.twilio.com/2010-04-01/Accounts/{account}/Messages/MM{uuid.uuid4().hex}/Media/ME{uuid.uuid4().hex}"
    return twilio_params(sender, Body=caption, NumMedia="1", MessageType="image", MediaContentType0="image/jpeg",
                         MediaUrl0=media)


def twilio_location(sender: str) -> dict[str, str]:
    return twilio_params(sender, MessageType="location", Latitude="51.5072178", Longitude="-0.1275862",
                         Address="Riverside Physiotherapy, 12 River Lane", Label="Riverside Physiotherapy")


@pytest.mark.parametrize("make", [twilio_photo, twilio_location], ids=["photo without caption", "location"])
def test_twilio_media_with_a_blank_body_is_accepted_and_answered_only_text(
        running_bot: RunningBot, api: FakeApi, make: Any) -> None:
    sender = f"whatsapp:+{wa_number()}"
    params = make(sender)
    assert params["Body"] == ""  # posted as "Body=", and covered by Twilio's signature
    answer = post_twilio(running_bot, params)
    assert answer.status_code == 200 and "<Response>" in answer.text
    assert sent_texts(api, sender) == [ONLY_TEXT]
    assert user_events(running_bot, sender) == []


def test_a_twilio_photo_caption_is_read_as_the_text(running_bot: RunningBot, api: FakeApi) -> None:
    sender = f"whatsapp:+{wa_number()}"
    assert post_twilio(running_bot, twilio_photo(sender, KNEE_PHOTO_CAPTION)).status_code == 200
    assert [u["text"] for u in user_events(running_bot, sender)] == [KNEE_PHOTO_CAPTION]
    assert running_bot.slots(sender)["swelling"] is not None
    assert sent_texts(api, sender) and ONLY_TEXT not in sent_texts(api, sender)


def test_a_twilio_status_callback_is_not_answered(running_bot: RunningBot, api: FakeApi) -> None:
    sender = f"whatsapp:+{wa_number()}"
    callback = {"MessageSid": "SM" + uuid.uuid4().hex, "MessageStatus": "delivered", "SmsStatus": "delivered",
                "To": sender, "From": CHANNEL_SECRETS["TWILIO_WHATSAPP_NUMBER"], "ChannelPrefix": "whatsapp",
                "AccountSid": CHANNEL_SECRETS["TWILIO_ACCOUNT_SID"], "ApiVersion": "2010-04-01", "ErrorCode": ""}
    assert post_twilio(running_bot, callback).status_code == 200
    time.sleep(0.5)
    assert api.to(sender) == []


# ---- WhatsApp Cloud API -----------------------------------------------------------------------

def wa_message(sender: str, kind: str, content: Any) -> dict[str, Any]:
    return {"from": sender, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": str(int(time.time())), "type": kind,
            kind: content}


def test_a_whatsapp_image_caption_is_read_and_understood(running_bot: RunningBot, api: FakeApi) -> None:
    sender = wa_number()
    image = wa_message(sender, "image", {"caption": KNEE_PHOTO_CAPTION, "mime_type": "image/jpeg",
                                         "sha256": "5uo1YOq2fdD0c3b9S1d+Vo9FbB8UrM4vYqv7L0HW6N=", "id": "13839123"})
    assert post_meta(running_bot, "whatsapp", whatsapp_webhook(messages=[image])).status_code == 200
    assert [u["text"] for u in user_events(running_bot, sender)] == [KNEE_PHOTO_CAPTION]
    assert running_bot.slots(sender)["swelling"] is not None  # "swollen" was understood
    assert sent_texts(api, sender) and ONLY_TEXT not in sent_texts(api, sender)


WHATSAPP_NOT_TEXT = {
    "image without caption": ("image", {"mime_type": "image/jpeg", "sha256": "abc=", "id": "1383911111"}),
    "sticker": ("sticker", {"mime_type": "image/webp", "sha256": "def=", "id": "1383922222", "animated": False}),
    "voice note": ("audio", {"mime_type": "audio/ogg; codecs=opus", "sha256": "ghi=", "id": "1383933333",
                             "voice": True}),
    "location": ("location", {"latitude": 51.5072178, "longitude": -0.1275862, "name": "Riverside Physiotherapy",
                              "address": "12 River Lane"}),
    "contact": ("contacts", [{"name": {"formatted_name": "Sam Taylor", "first_name": "Sam", "last_name": "Taylor"},
                              "phones": [{"phone": "+44 7700 900123", "wa_id": "447700900123", "type": "CELL"}]}]),
    "unsupported": ("unsupported", None),
}


@pytest.mark.parametrize("name", list(WHATSAPP_NOT_TEXT))
def test_whatsapp_media_locations_and_contacts_get_only_text(running_bot: RunningBot, api: FakeApi,
                                                             name: str) -> None:
    sender = wa_number()
    kind, content = WHATSAPP_NOT_TEXT[name]
    message = wa_message(sender, kind, content)
    if kind == "unsupported":
        del message["unsupported"]
        message["errors"] = [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                              "error_data": {"details": "Message type is currently not supported."}}]
    assert post_meta(running_bot, "whatsapp", whatsapp_webhook(messages=[message])).status_code == 200
    assert sent_texts(api, sender) == [ONLY_TEXT]
    assert user_events(running_bot, sender) == []


def test_a_whatsapp_reaction_is_not_answered(running_bot: RunningBot, api: FakeApi) -> None:
    sender = wa_number()
    reaction = wa_message(sender, "reaction", {"message_id": f"wamid.{uuid.uuid4().hex}", "emoji": "\U0001f44d"})
    assert post_meta(running_bot, "whatsapp", whatsapp_webhook(messages=[reaction])).status_code == 200
    assert api.to(sender) == [] and user_events(running_bot, sender) == []


# ---- Messenger --------------------------------------------------------------------------------

STICKER_ID = 369239263222822  # Messenger's "like" thumb
MESSENGER_NOT_TEXT = {
    "sticker": {"sticker_id": STICKER_ID, "attachments": [
        {"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_"
                                             "759568595_n.png", "sticker_id": STICKER_ID}}]},
    "image": {"attachments": [{"type": "image", "payload": {"url": "https://scontent.xx.fbcdn.net/v/knee.jpg"}}]},
    "location": {"attachments": [{"type": "location", "title": "Pinned Location", "url": "https://l.facebook.com/l.php",
                                  "payload": {"coordinates": {"lat": 51.5072178, "long": -0.1275862}}}]},
    "voice note": {"attachments": [{"type": "audio", "payload": {"url": "https://cdn.fbsbx.com/v/audioclip.mp4"}}]},
}


@pytest.mark.parametrize("name", list(MESSENGER_NOT_TEXT))
def test_messenger_stickers_images_and_locations_get_only_text(running_bot: RunningBot, api: FakeApi,
                                                               name: str) -> None:
    sender = psid()
    event = messenger_event(sender, message={"mid": f"m_{uuid.uuid4().hex}", **MESSENGER_NOT_TEXT[name]})
    assert post_meta(running_bot, "messenger", messenger_batch(event)).status_code == 200
    assert sent_texts(api, sender) == [ONLY_TEXT]
    assert user_events(running_bot, sender) == []
