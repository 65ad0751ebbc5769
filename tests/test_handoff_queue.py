"""The hand-off's records, its availability rule and the silent assistant, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot.channels.intake import Intake
from bot.channels.never_silent import Counted, respond
from bot.clinic import load_clinic
from bot.handoff import queue
from bot.handoff.availability import is_open, live_hand_off
from bot.store import transcript
from bot.store.db import session_scope
from bot.store.erasure import erase_conversation
from bot.store.models import Handoff, HandoffMessage
from tests.console import seed
from tests.console.fixtures import new_case

pytest_plugins = ["tests.console.fixtures"]

CLINIC = load_clinic()  # config/clinic.yml: Riverside Physiotherapy, London hours


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)  # December: London is on UTC


@pytest.mark.parametrize(("moment", "open_"), [
    (london(2026, 11, 30, 10, 0), True),    # Monday morning
    (london(2026, 11, 30, 12, 45), False),  # Monday's lunch break
    (london(2026, 11, 30, 18, 0), False),   # Monday, closing time
    (london(2026, 12, 6, 11, 0), False),    # Sunday
    (london(2026, 12, 25, 10, 0), False),   # Christmas Day (a bank holiday)
])
def test_a_person_is_offered_only_in_opening_hours(moment: datetime, open_: bool) -> None:
    assert is_open(CLINIC, moment) is open_
    assert live_hand_off(CLINIC, "socketio", moment, env={}) is open_
    assert live_hand_off(CLINIC, "socketio", moment, env={"HANDOFF_MODE": "always"})
    assert not live_hand_off(CLINIC, "socketio", moment, env={"HANDOFF_MODE": "off"})
    assert not live_hand_off(CLINIC, "rest", moment, env={"HANDOFF_MODE": "always"})  # no way to push a reply


def test_a_hand_off_from_the_queue_to_the_assistant(db_url: str) -> None:
    sender = "handoff-queue-1"
    new_case(db_url, sender, seed.short("my knee hurts on the stairs"), channel="socketio")
    with session_scope(db_url) as session:
        first = queue.request(session, sender, "socketio")
        assert queue.request(session, sender, "socketio").id == first.id  # asking again keeps its place
        assert queue.waiting_count(session) == 1
        with pytest.raises(queue.HandoffError):
            queue.reply(session, first, "sam", "hello", CLINIC)  # nobody has taken it yet
        queue.take(session, first, "sam", CLINIC)
        with pytest.raises(queue.HandoffError):
            queue.reply(session, first, "alex", "hello", CLINIC)  # Sam has it
        with pytest.raises(queue.HandoffError):
            queue.hand_back(session, first, "alex", CLINIC)
        with pytest.raises(queue.HandoffError):
            queue.reply(session, first, "sam", "  \x00 ", CLINIC)
        sent = queue.reply(session, first, "sam", "Hi, I'm Sam. How can I help?", CLINIC)
        assert sent.sender_name == "Sam from Riverside Physiotherapy"
        queue.record_patient(session, first, "can I come in today?")
        outgoing = queue.claim_outgoing(session, ("socketio",))
        assert [(c, r, t[:20], n) for c, r, t, n in outgoing] == [
            ("socketio", sender, "Sam from Riverside P", None),  # the "has joined" notice
            ("socketio", sender, "Hi, I'm Sam. How can", "Sam from Riverside Physiotherapy")]
        assert queue.claim_outgoing(session, ("socketio",)) == []  # each goes once
        queue.hand_back(session, first, "sam", CLINIC)
        assert queue.live_for(session, sender) is None
        with pytest.raises(queue.HandoffError):
            queue.close(session, first, "sam", CLINIC)  # already ended
        notice = session.query(HandoffMessage).order_by(HandoffMessage.id.desc()).first()
        assert "handed you back to the Riverside Physiotherapy assistant" in notice.text

        shown = [(m.sender, m.text) for m in transcript.messages(session, sender)]
        steps = [text for who, text in shown if who == "handoff"]
        assert steps == ["Asked to talk to a person", "Taken by sam", "Handed back to the assistant by sam"]
        assert ("staff", "Hi, I'm Sam. How can I help?") in shown and ("patient", "can I come in today?") in shown
        assert shown[0][0] in ("assistant", "patient")  # the assistant's part comes first, by time

        erase_conversation(session, sender)
        assert session.query(Handoff).count() == 0 and session.query(HandoffMessage).count() == 0


def test_staff_take_over_and_colleagues(db_url: str) -> None:
    with session_scope(db_url) as session:
        handoff = queue.take_over(session, "handoff-queue-2", "whatsapp", "sam", CLINIC)
        assert (handoff.status, handoff.reason, handoff.taken_by) == ("taken", "staff", "sam")
        queue.take(session, handoff, "alex.jones", CLINIC)  # a colleague takes it over
        queue.reply(session, handoff, "alex.jones", "Alex here.", CLINIC)
        with pytest.raises(queue.HandoffError):
            queue.reply(session, handoff, "sam", "still me", CLINIC)
        texts = [m.text for m in handoff.messages]
        assert texts[:2] == ["Sam from Riverside Physiotherapy has joined the chat.",
                             "Alex from Riverside Physiotherapy has joined the chat."]
        waiting = queue.request(session, "handoff-queue-4", "messenger")
        assert [h.id for h in queue.queue(session)[0]] == [waiting.id, handoff.id]  # waiting ones first
        queue.close(session, handoff, "alex.jones", CLINIC)
        assert handoff.status == "closed" and handoff.ended_by == "alex.jones"
        live, ended = queue.queue(session)
        assert [h.id for h in live] == [waiting.id] and [h.id for h in ended] == [handoff.id]


class Output(Counted, CollectingOutputChannel):
    """What a channel would send, counted as the connectors count it."""


def test_the_assistant_is_silent_while_a_person_has_the_chat(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    sender = "handoff-queue-3"
    heard: list[str] = []

    async def assistant(message: UserMessage) -> None:
        heard.append(message.text)
        await message.output_channel.send_response(message.sender_id, {"text": "the assistant's answer"})

    def say(text: str) -> list[str]:
        output = Output()
        asyncio.run(respond(assistant, Intake(text=text), output, sender, "socketio"))
        return [m.get("text") for m in output.messages]

    assert say("hello") == ["the assistant's answer"]
    with session_scope(db_url) as session:
        handoff_id = queue.request(session, sender, "socketio").id
    assert say("is anyone there?") == []  # no answer, no apology: the team will reply
    with session_scope(db_url) as session:
        handoff = session.get(Handoff, handoff_id)
        assert [(m.direction, m.text) for m in handoff.messages] == [("in", "is anyone there?")]
        queue.hand_back(session, handoff, "sam", CLINIC)
    assert say("thanks") == ["the assistant's answer"]
    assert heard == ["hello", "thanks"]
