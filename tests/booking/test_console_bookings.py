"""Bookings and call-back requests from the chat, as the receptionist console shows them."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from bot.booking import Patient
from bot.booking.builtin import BuiltinScheduler
from bot.booking.offer import next_slots
from bot.store import mark_booking, request_callback, session_scope
from bot.store.erasure import erase_conversation
from bot.store.models import Booking
from tests.booking.clinics import make_clinic
from tests.console import seed
from tests.console.fixtures import Console, new_case

pytest_plugins = ["tests.console.fixtures"]


def test_case_page_shows_the_booking_and_the_call_back_and_erasure_removes_the_booking(console: Console) -> None:
    sender = "booked-sender"
    case_id = new_case(console.db_url, sender, [seed.Patient("my knee hurts on stairs")],
                       answers={"pain_location": "front"}, conditions=[("patellofemoral_pain", 0.6)],
                       triage_level="routine", red_flags=[], advice=[], reasons=[])
    clinic = make_clinic()
    scheduler = BuiltinScheduler(clinic, console.db_url)
    slot = next_slots(scheduler, clinic, "routine", now=datetime(2026, 11, 30, 7, tzinfo=timezone.utc))[0]
    scheduler.book(slot, Patient("Robin", "Example", phone="+447700900456"), notes="summary", conversation_id=sender)
    with session_scope(console.db_url) as session:
        mark_booking(session, sender, "booked")
        request_callback(session, sender, name="Robin Example", phone="+447700900456", preferred_time="mornings",
                         reason="asked to talk to a person")
    page = console.as_role("receptionist").get(console.url(f"/cases/{case_id}"), timeout=10)
    assert page.status_code == 200
    assert "booked" in page.text and "Robin" in page.text and "+447700900456" in page.text
    assert "mornings" in page.text and "asked to talk to a person" in page.text
    with session_scope(console.db_url) as session:
        erase_conversation(session, sender)
    with session_scope(console.db_url) as session:
        assert session.execute(select(func.count()).select_from(Booking)).scalar_one() == 0
