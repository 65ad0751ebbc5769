"""Booking over the REST channel with the real servers: from the first message to a confirmed
booking in the database, and a call-back request from "talk to a person"."""

from __future__ import annotations

import sqlite3
import uuid

from tests.conftest import RunningBot
from tests.test_conversation_e2e import BY_ID, converse


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def test_from_first_message_to_a_confirmed_booking_in_the_database(running_bot: RunningBot) -> None:
    sender = f"book-{uuid.uuid4().hex[:8]}"
    slots, transcript, _ = converse(running_bot, BY_ID["d04"]["story"], BY_ID["d04"]["facts"], sender=sender)
    assert slots["triage_level"] in ("routine", "soon", "self_care")
    assert "book" in transcript[-1].lower()

    offer = running_bot.say(sender, "/book")  # the "Book an appointment" quick reply
    assert running_bot.slots(sender)["requested_slot"] == "booking_choice"
    times = [b for b in offer[-1]["buttons"] if "booking_pick" in b["payload"]]
    assert len(times) == 3
    chosen = times[1]["title"]  # e.g. "Tuesday 1 December at 09:30"

    assert "first name" in texts(running_bot.say(sender, times[1]["payload"])).lower()
    assert "phone number or email" in texts(running_bot.say(sender, "Sam Taylor")).lower()
    assert "doesn't look like a phone number" in texts(running_bot.say(sender, "my number is 123"))  # asked again
    readback = texts(running_bot.say(sender, "07700 900123"))
    assert chosen in readback and "Sam Taylor" in readback and "+447700900123" in readback

    confirmed = texts(running_bot.say(sender, "yes please"))
    assert "You're booked in" in confirmed and chosen in confirmed and "12 River Street" in confirmed
    assert "shorts" in confirmed  # what to bring/wear

    with sqlite3.connect(running_bot.database) as db:
        booking = db.execute("select first_name, last_name, phone, notes from bookings where conversation_id = ?",
                             (sender,)).fetchone()
        status = db.execute("select booking_status from cases where conversation_id = ?", (sender,)).fetchone()
    assert booking[:3] == ("Sam", "Taylor", "+447700900123")
    assert "Triage by the chat assistant" in booking[3]
    assert status == ("booked",)


def test_talk_to_a_person_records_a_call_back(running_bot: RunningBot) -> None:
    sender = f"human-{uuid.uuid4().hex[:8]}"
    running_bot.say(sender, "the front of my knee hurts on stairs")
    running_bot.say(sender, "can I talk to a real person please")
    assert running_bot.slots(sender)["requested_slot"] == "booking_first_name"
    running_bot.say(sender, "Sam Taylor")
    running_bot.say(sender, "07700 900123")
    reply = texts(running_bot.say(sender, "mornings"))
    assert "will call you on +447700900123" in reply
    with sqlite3.connect(running_bot.database) as db:
        row = db.execute("select cb.name, cb.phone, cb.preferred_time from callbacks cb join cases c "
                         "on c.id = cb.case_id where c.conversation_id = ?", (sender,)).fetchone()
    assert row == ("Sam Taylor", "+447700900123", "mornings")


def test_times_as_people_say_them_through_the_real_servers(running_bot: RunningBot) -> None:
    """The issue's report: offered 17:00, 17:45 and 18:30, "the first one", then "no I wanted 6.30pm"
    at the read-back books 18:30 (it used to read back 17:00 again)."""
    sender = f"when-{uuid.uuid4().hex[:8]}"
    running_bot.say(sender, "/book")
    offer = running_bot.say(sender, "wednesday evening")
    titles = [b["title"] for b in offer[-1]["buttons"] if "booking_pick" in b["payload"]]
    assert [t[-5:] for t in titles] == ["17:00", "17:45", "18:30"] and all("Wednesday" in t for t in titles)
    assert "first name" in texts(running_bot.say(sender, "the first one")).lower()
    running_bot.say(sender, "Sam Taylor")
    assert titles[0] in texts(running_bot.say(sender, "07700 900123"))
    readback = texts(running_bot.say(sender, "no I wanted 6.30pm"))
    assert titles[2] in readback and "Shall I book it?" in readback
    assert titles[2] in texts(running_bot.say(sender, "yes please"))
    with sqlite3.connect(running_bot.database) as db:
        [(starts_at,)] = db.execute("select starts_at from bookings where conversation_id = ?", (sender,)).fetchall()
    assert starts_at[11:16] in ("18:30", "17:30")  # stored in UTC: 18:30 in London, GMT or BST
