"""A corpus of bad inputs against the real bot, each followed by the staff console, and the stall a patient sees.

Every input goes to the REST channel (and the texts also through the widget's socket and a
signed WhatsApp webhook); after each one a receptionist signs in to the console and opens the
inbox, the attention list, the dashboard and a case page, which must all answer 200. Then one
client sends 100,000-character messages while another patient chats, and the other patient's
longest wait is measured.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from markupsafe import escape
from sqlalchemy import select

from bot.channels.intake import MAX_TEXT, TOO_LONG, cleaned
from bot.store.db import session_scope
from bot.store.models import Case
from tests.channels.fake_api import FakeApi
from tests.channels.figures import Tally, record
from tests.channels.webhooks import fake_api_for, post_meta, user_events, wa_number, wa_text, whatsapp_webhook
from tests.channels.widget_client import saved_user_texts, widget_client
from tests.conftest import RunningBot
from tests.console.fixtures import Console, add_users

REVIEWER = "intake-reviewer"
STALL_LIMIT = 5.0  # seconds another patient may wait, at most, while someone floods the bot

TEXTS = {
    "surrogate in the text": "knee \ud800 pain",
    "lone low surrogate": "\udc00",
    "NUL": "my knee\x00 hurts",
    "other control characters": "\x1b[2J\x07\x08 knee",
    "100,000 characters": "a" * 100_000,
    "one over the limit": "b" * (MAX_TEXT + 1),
    "emoji only": "🦵🤕😭👍🏽",
    "right-to-left": "ركبتي تؤلمني عند صعود الدرج",
    "Hebrew with a direction override": "הברך שלי \u202eכואבת",
    "SQL injection": "'; DROP TABLE events; -- 1' OR '1'='1",
    "HTML injection": "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "template injection": "{{ 7*7 }} {% include '/etc/passwd' %} ${7*7} #{7*7} <%= 7*7 %>",
    "format strings": "%s %n %x {0} {sender.__class__}",
    "log injection": "my knee\r\n2024-01-01 ERROR forged line",
    "zero-width and BOM": "\ufeffknee\u200b\u200dpain",
    "combining marks": "Z̷̢̛a̸͖͝l̵̰̈g̶͔͌o̶̳̓ knee",
}
VALID_TEXTS = {name: text for name, text in TEXTS.items() if text == cleaned(text) and len(text) <= MAX_TEXT}

# REST bodies that are not a message at all: (name, JSON body or raw bytes)
WRONG_BODIES: list[tuple[str, Any]] = [
    ("missing sender", {"message": "my knee hurts"}),
    ("empty sender", {"sender": "", "message": "my knee hurts"}),
    ("surrogate in the sender", {"sender": "x-\ud800", "message": "hi"}),
    ("NUL in the sender", {"sender": "x\x00", "message": "hi"}),
    ("sender not a string", {"sender": 42, "message": "hi"}),
    ("sender a list", {"sender": ["a"], "message": "hi"}),
    ("sender with a path", {"sender": "../../conversations/x", "message": "hi"}),
    ("sender of 10,000 characters", {"sender": "a" * 10_000, "message": "hi"}),
    ("message a number", {"sender": "corpus-n", "message": 42}),
    ("message a list", {"sender": "corpus-l", "message": ["my knee"]}),
    ("message null", {"sender": "corpus-0", "message": None}),
    ("message missing", {"sender": "corpus-m"}),
    ("body an array", [{"sender": "a", "message": "hi"}]),
    ("body a string", "my knee hurts"),
    ("body a number", 3),
    ("body null", None),
    ("empty body", b""),
    ("invalid JSON", b'{"sender": "a", "message": '),
    ("invalid UTF-8", b'{"sender": "a", "message": "\xff\xfe"}'),
    ("nested 100,000 deep", b"[" * 100_000 + b"]" * 100_000),
]


@pytest.fixture(scope="module")
def console(running_bot: RunningBot) -> Console:
    add_users(running_bot.database_url, REVIEWER)
    return Console(running_bot.console, running_bot.database_url, Path())


@pytest.fixture(scope="module")
def api(running_bot: RunningBot) -> Iterator[FakeApi]:
    with fake_api_for(running_bot) as fake:
        yield fake


@pytest.fixture(scope="module")
def reference_case(running_bot: RunningBot, console: Console) -> str:
    """A normal conversation whose case page is opened after the inputs that create none."""
    sender = f"corpus-ref-{uuid.uuid4().hex[:8]}"
    running_bot.say(sender, "my knee hurts on the stairs")
    return sender


def case_id(bot: RunningBot, conversation: str) -> int | None:
    with session_scope(bot.database_url) as session:
        return session.execute(select(Case.id).where(Case.conversation_id == conversation)).scalar()


def console_still_works(bot: RunningBot, console: Console, conversation: str, shows: str | None = None) -> None:
    """A receptionist signs in and opens the inbox, attention list, dashboard and this conversation's case page."""
    http = requests.Session()
    assert console.login(REVIEWER, http=http).status_code == 303
    for path in ("/inbox", "/attention", "/dashboard", "/inbox?q=knee"):
        page = http.get(console.url(path), timeout=30)
        assert page.status_code == 200, (path, page.status_code)
    number = case_id(bot, conversation)
    assert number is not None, "the conversation is not in the console"
    page = http.get(console.url(f"/cases/{number}"), timeout=30)
    assert page.status_code == 200, page.status_code
    if shows is not None:
        assert str(escape(shows)) in page.text  # the patient's words, as text
        assert "<script>alert" not in page.text


def test_rest_bodies_that_are_not_a_message_are_refused_and_the_console_keeps_working(
        running_bot: RunningBot, console: Console, reference_case: str) -> None:
    tally = Tally()
    for name, body in WRONG_BODIES:
        url = f"{running_bot.base}/webhooks/rest/webhook"
        if isinstance(body, bytes):
            answer = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=60)
        else:
            answer = requests.post(url, json=body, timeout=60)
        tally.count(answer.status_code)
        assert answer.status_code == 400, (name, answer.status_code)
        assert answer.json()["message"], name
        console_still_works(running_bot, console, reference_case)
    assert user_events(running_bot, "default") == []  # nothing landed in a shared conversation
    record("corpus_rest_refused", inputs=tally.inputs, statuses=tally.statuses)


@pytest.mark.parametrize("name", list(TEXTS))
def test_rest_texts_are_refused_or_answered_and_the_console_shows_them(
        running_bot: RunningBot, console: Console, reference_case: str, name: str) -> None:
    text, sender = TEXTS[name], f"corpus-{uuid.uuid4().hex[:10]}"
    answer = requests.post(f"{running_bot.base}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                           timeout=60)
    if name in VALID_TEXTS:
        assert answer.status_code == 200 and answer.json(), answer.text
        assert [u["text"] for u in user_events(running_bot, sender)] == [text]
        console_still_works(running_bot, console, sender, shows=text if "\n" not in text else None)
    elif len(text) > MAX_TEXT:
        assert answer.status_code == 200 and answer.json() == [{"recipient_id": sender, "text": TOO_LONG}]
        console_still_works(running_bot, console, reference_case)
    else:
        assert answer.status_code == 400 and "`message`" in answer.json()["message"]
        console_still_works(running_bot, console, reference_case)
    record_corpus_input("corpus_rest_texts", answer.status_code)


@pytest.mark.parametrize("channel", ["socketio", "whatsapp"])
def test_platform_texts_are_cleaned_answered_and_shown(running_bot: RunningBot, console: Console, api: FakeApi,
                                                      reference_case: str, channel: str) -> None:
    """What the widget or a platform sends is never refused: it is cleaned, or answered "too long"."""
    tally = Tally()
    with widget_client(running_bot) as client:
        for name, text in TEXTS.items():
            if channel == "socketio":
                sender = client.request_session()
                answered = bool(client.send({"message": text, "session_id": sender}, quiet=0.2))
                tally.count(200)
            else:
                sender = wa_number()
                status = post_meta(running_bot, "whatsapp", whatsapp_webhook(messages=[wa_text(sender, text)]))
                tally.count(status.status_code)
                answered = status.status_code == 200 and bool(api.wait_for(sender))
            assert answered, name
            if len(text) > MAX_TEXT:
                assert user_events(running_bot, sender) == [], name
                console_still_works(running_bot, console, reference_case)
                continue
            assert saved_user_texts(running_bot, sender, 1) == [cleaned(text)], name
            console_still_works(running_bot, console, sender, shows=cleaned(text) if "\n" not in text else None)
    record(f"corpus_{channel}", inputs=tally.inputs, statuses=tally.statuses)


_corpus_statuses: dict[str, Tally] = {}


def record_corpus_input(name: str, status: int) -> None:
    tally = _corpus_statuses.setdefault(name, Tally())
    tally.count(status)
    record(name, inputs=tally.inputs, statuses=tally.statuses)


def test_a_flood_of_100000_character_messages_does_not_stall_another_patient(running_bot: RunningBot) -> None:
    patient, attacker = f"stall-patient-{uuid.uuid4().hex[:6]}", f"stall-attacker-{uuid.uuid4().hex[:6]}"
    lines = ["my knee hurts", "on the stairs", "not sure", "no", "yes", "about two weeks", "I'm 34", "no swelling"]

    def timed_say(sender: str, text: str) -> float:
        started = time.perf_counter()
        assert running_bot.say(sender, text)
        return time.perf_counter() - started

    alone = [timed_say(patient, line) for line in lines[:4]]
    attack_times: list[float] = []
    stop = threading.Event()

    def flood() -> None:
        huge = "my knee " * 12_500  # 100,000 characters
        deadline = time.monotonic() + 120
        for _ in range(2000):  # bounded in count and time; the patient's last message ends it
            if stop.is_set() or time.monotonic() > deadline:
                return
            started = time.perf_counter()
            answer = requests.post(f"{running_bot.base}/webhooks/rest/webhook",
                                   json={"sender": attacker, "message": huge}, timeout=60)
            attack_times.append(time.perf_counter() - started)
            assert answer.json() == [{"recipient_id": attacker, "text": TOO_LONG}]

    floods = [threading.Thread(target=flood) for _ in range(2)]
    for thread in floods:
        thread.start()
    try:
        time.sleep(0.2)
        during = [timed_say(patient, line) for line in lines[4:]]
    finally:
        stop.set()
        for thread in floods:
            thread.join(timeout=120)
    record("stall_100000_characters", patient_alone_max_s=round(max(alone), 3),
           patient_during_flood_max_s=round(max(during), 3),
           patient_during_flood_median_s=round(statistics.median(during), 3),
           flood_messages=len(attack_times), flood_message_max_s=round(max(attack_times), 3))
    assert attack_times, "the flood never ran"
    assert max(during) < STALL_LIMIT, during
