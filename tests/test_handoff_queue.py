"""The hand-off's records, its availability rule and the silent assistant, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta, timezone

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sqlalchemy import select

from bot.channels.intake import Intake
from bot.channels.never_silent import Counted, respond
from bot.clinic import load_clinic
from bot.handoff import history, queue, unstaffed
from bot.handoff.availability import is_open, live_hand_off, wait_seconds
from bot.store import audit, transcript
from bot.store.db import session_scope
from bot.store.erasure import erase_conversation
from bot.store.models import AuditEntry, Handoff, HandoffMessage
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
        assert [(m.channel, m.recipient, m.text[:20], m.sender_name) for m in outgoing] == [
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
    with session_scope(db_url) as session:
        handoff_id = queue.request(session, sender, "socketio").id
    assert say("start over") == ["the assistant's answer"]  # starting over ends the chat: the assistant answers
    assert heard == ["hello", "thanks", "start over"]
    with session_scope(db_url) as session:
        assert session.get(Handoff, handoff_id).status == "restarted"


# ---- nobody takes it, the patient starts over ------------------------------------------------------

NOBODY_FREE = "Sorry, nobody from the team at Riverside Physiotherapy is free to chat right now."


def audit_of(session, case_id: int) -> list[tuple[str, str, str]]:
    rows = session.execute(select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id)).scalars()
    return [(r.username, r.action, r.detail) for r in rows]


@pytest.mark.parametrize(("value", "seconds"), [
    (None, 180.0), ("45", 45.0), ("2.5", 2.5), ("0", None), ("soon", 180.0), ("-5", 180.0), ("nan", 180.0),
])
def test_how_long_a_chat_waits_is_set_in_the_environment(value: str | None, seconds: float | None) -> None:
    assert wait_seconds({} if value is None else {"HANDOFF_WAIT_SECONDS": value}) == seconds


def test_a_chat_nobody_takes_moves_to_call_back(db_url: str) -> None:
    sender = "handoff-timeout-1"
    case_id = new_case(db_url, sender, seed.short("my knee hurts"), channel="messenger")
    with session_scope(db_url) as session:
        handoff = queue.request(session, sender, "messenger")
        asked = handoff.requested_at
        assert unstaffed.expire_waiting(session, CLINIC, 180, now=asked + timedelta(seconds=179)) == 0
        assert unstaffed.expire_waiting(session, CLINIC, None, now=asked + timedelta(hours=5)) == 0  # 0: waits for ever
        assert unstaffed.expire_waiting(session, CLINIC, 180, now=asked + timedelta(seconds=181)) == 1
        assert unstaffed.expire_waiting(session, CLINIC, 180, now=asked + timedelta(seconds=200)) == 0  # once only
        assert handoff.status == "callback" and handoff.ended_by is None
        live, ended = queue.queue(session)
        assert live == [] and [h.id for h in ended] == [handoff.id]
        with pytest.raises(queue.HandoffError):
            queue.take(session, handoff, "sam", CLINIC)  # the patient has been told nobody is free

        [notice] = queue.claim_outgoing(session, ("messenger",))  # the Rasa server sends it on the channel
        assert (notice.recipient, notice.sender_name) == (sender, None)
        assert notice.text.startswith(NOBODY_FREE)
        assert 'say "call me back"' in notice.text and "020 7946 0000" in notice.text
        assert notice.text.endswith("If it gets worse, call 999.")  # the call-back route's own advice
        why = f"live chat {handoff.id}: nobody took it within 181 s, moved to call back"
        assert audit_of(session, case_id) == [("(nobody free)", "handoff_close", why)]

        # Asking again within the hour takes the call-back route, not the queue that had nobody.
        assert unstaffed.nobody_free_lately(session, sender, now=asked + timedelta(minutes=30))
        assert not unstaffed.nobody_free_lately(session, sender, now=asked + timedelta(hours=2))
        shown = transcript.messages(session, sender)
        steps = [m.text for m in shown if m.sender == "handoff"]
        assert steps == ["Asked to talk to a person",
                         "Nobody took it within 3 minutes: moved to call back (the patient was told)"]
        assert ("notice", notice.text) in [(m.sender, m.text) for m in shown]


@pytest.mark.parametrize(("level", "says", "never"), [
    ("urgent", "Please don't wait for our call: this needs to be seen today, so call NHS 111", "gets worse, call"),
    ("emergency", "Please don't wait for us: call 999 or go to A&E now.", "call me back"),
])
def test_the_time_out_notice_keeps_the_advice_for_the_triage_level(db_url: str, level: str, says: str,
                                                                 never: str) -> None:
    sender = f"handoff-timeout-{level}"
    new_case(db_url, sender, seed.short("my knee is swollen and hot"), channel="whatsapp", answers={},
             conditions=[("septic_arthritis", 1.0)], triage_level=level, red_flags=[], advice=[], reasons=[])
    with session_scope(db_url) as session:
        handoff = queue.request(session, sender, "whatsapp")
        unstaffed.expire_waiting(session, CLINIC, 60, now=handoff.requested_at + timedelta(minutes=2))
        text = handoff.messages[-1].text
    assert text.startswith(NOBODY_FREE) and says in text and never not in text


def test_a_message_after_the_wait_is_kept_and_answered_by_the_notice(db_url: str) -> None:
    sender = "handoff-timeout-2"
    new_case(db_url, sender, seed.short("my knee hurts"), channel="socketio")
    with session_scope(db_url) as session:
        handoff = queue.request(session, sender, "socketio")
        asked = handoff.requested_at
        assert unstaffed.hold(session, sender, "hello?", CLINIC, 180, now=asked + timedelta(seconds=60))
        assert handoff.status == "waiting"
        assert unstaffed.hold(session, sender, "is anyone there?", CLINIC, 180, now=asked + timedelta(seconds=200))
        assert handoff.status == "callback"
        assert [(m.direction, m.text[:20]) for m in handoff.messages] == [
            ("in", "hello?"), ("in", "is anyone there?"), ("out", NOBODY_FREE[:20])]
        assert not unstaffed.hold(session, sender, "call me back", CLINIC, 180)  # the assistant answers now


@pytest.mark.parametrize("typed", ["/restart", "Start over!", "start again", "restart please", "  RESET  "])
def test_starting_over_takes_the_chat_out_of_the_queue(db_url: str, typed: str) -> None:
    waiting, taken = "handoff-restart-1", "handoff-restart-2"
    case_id = new_case(db_url, waiting, seed.short("my knee hurts"), channel="whatsapp")
    new_case(db_url, taken, seed.short("my knee hurts"), channel="whatsapp")
    with session_scope(db_url) as session:
        first = queue.request(session, waiting, "whatsapp")
        second = queue.take_over(session, taken, "whatsapp", "sam", CLINIC)
        assert not unstaffed.hold(session, waiting, typed, CLINIC, 180)  # to the assistant, which starts over
        assert not unstaffed.hold(session, taken, typed, CLINIC, 180)
        assert (first.status, second.status) == ("restarted", "restarted")
        assert [m.text for m in first.messages] == []  # nothing is sent: the assistant's fresh start answers
        live, ended = queue.queue(session)
        assert live == [] and {h.id for h in ended} == {first.id, second.id}
        assert audit_of(session, case_id) == [
            ("(patient)", "handoff_close", f"live chat {first.id}: the patient started over")]
        with pytest.raises(queue.HandoffError):
            queue.reply(session, second, "sam", "are you still there?", CLINIC)
        steps = [m.text for m in transcript.messages(session, taken) if m.sender == "handoff"]
        assert steps == ["Staff took over from the assistant", "Taken by sam", "Chat closed: the patient started over"]


def test_only_a_whole_message_to_start_over_ends_the_chat() -> None:
    assert all(unstaffed.is_restart(t) for t in ("restart", "Start over.", "START AGAIN", "/restart", "new chat"))
    assert not any(unstaffed.is_restart(t) for t in ("can we start over with the booking?", "restarted the pain",
                                                 "I want to reset my appointment", ""))


def test_the_case_export_tells_the_hand_offs_without_what_was_said(db_url: str) -> None:
    sender = "handoff-history-1"
    case_id = new_case(db_url, sender, seed.short("my knee hurts"), channel="messenger")
    with session_scope(db_url) as session:
        first = queue.request(session, sender, "messenger")
        unstaffed.expire_waiting(session, CLINIC, 1, now=first.requested_at + timedelta(seconds=5))
        second = queue.request(session, sender, "messenger")
        queue.take(session, second, "sam", CLINIC)
        audit.record(session, "sam", "handoff_take", case_id, f"live chat {second.id}")
        queue.record_patient(session, second, "my number is 07700 900123")
        queue.reply(session, second, "sam", "Thanks, I'll call you on 07700 900123", CLINIC)
        queue.take(session, second, "alex", CLINIC)
        audit.record(session, "alex", "handoff_take", case_id, f"live chat {second.id}, from sam")
        queue.hand_back(session, second, "alex", CLINIC)
        audit.record(session, "alex", "handoff_hand_back", case_id, f"live chat {second.id}")
        exported = history.export(session, sender, case_id)
    assert [(h["id"], h["outcome"], h["taken_by"], h["ended_by"]) for h in exported] == [
        (first.id, "call back", None, None), (second.id, "handed back", "alex", "alex")]
    assert [(s["by"], s["step"], s.get("from")) for s in exported[0]["steps"]] == [
        ("(patient)", "asked for a person", None), ("(nobody free)", "moved to call back", None)]
    assert [(s["by"], s["step"], s.get("from")) for s in exported[1]["steps"]] == [
        ("(patient)", "asked for a person", None), ("sam", "taken", None), ("alex", "taken", "sam"),
        ("alex", "handed back", None)]
    assert exported[1]["messages"] == {"from_patient": 1, "staff_replies": 1, "notices": 3}
    assert exported[1]["ending"] == "Handed back to the assistant by alex"
    assert all(s["at"].endswith("Z") for h in exported for s in h["steps"])
    assert "07700" not in json.dumps(exported)  # the words of the chat stay out of the export
