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


def test_case_pages_show_a_cancellation_and_a_move_made_in_a_later_conversation(console: Console) -> None:
    from bot.booking import records

    first = new_case(console.db_url, "booked-first", [seed.Patient("my knee hurts on stairs")],
                     answers={"pain_location": "front"}, conditions=[("patellofemoral_pain", 0.6)],
                     triage_level="routine", red_flags=[], advice=[], reasons=[])
    later = new_case(console.db_url, "changed-later", [seed.Patient("I need to move my appointment")],
                     answers={}, conditions=[], triage_level=None, red_flags=[], advice=[], reasons=[])
    clinic = make_clinic()
    scheduler = BuiltinScheduler(clinic, console.db_url)
    now = datetime(2026, 11, 30, 7, tzinfo=timezone.utc)
    one, two, three = next_slots(scheduler, clinic, "routine", now=now)
    robin = Patient("Robin", "Example", phone="+447700900456")
    moving = scheduler.book(one, robin, notes="", conversation_id="booked-first")
    cancelling = scheduler.book(two, robin, notes="", conversation_id="booked-first")
    with session_scope(console.db_url) as session:
        rows = {b.confirmation_code: b for b in session.execute(select(Booking)).scalars()}
        session.expunge_all()

    def stored(code: str) -> records.Stored:
        return records.find(code, phone="+447700900456", email=None, database_url=console.db_url)

    scheduler.move(stored(moving.code), three, conversation_id="changed-later")
    scheduler.cancel(stored(cancelling.code), conversation_id="changed-later")
    http = console.as_role("receptionist")
    for case_id in (first, later):
        page = http.get(console.url(f"/cases/{case_id}"), timeout=10).text
        assert "moved" in page and "Moved from" in page and "cancelled" in page and "Cancelled by the patient" in page
        assert f"Code {moving.code[:3]}-{moving.code[3:]}" in page
    assert "Booked in an earlier conversation" in http.get(console.url(f"/cases/{later}"), timeout=10).text
    assert set(rows) == {moving.code, cancelling.code}
