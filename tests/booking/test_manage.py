"""Cancelling and moving a booking made earlier, found by its confirmation code and the phone or email:
the conversation over bot.booking, with the built-in scheduler on a real SQLite diary and with the
Cliniko adapter against the fake Cliniko over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.booking import Patient, records
from bot.booking.builtin import BuiltinScheduler
from bot.booking.cliniko import ClinikoProvider
from bot.booking.offer import next_slots
from bot.store import session_scope
from bot.store.models import Booking, Callback, Case
from tests.booking.clinics import make_clinic
from tests.booking.fake_cliniko import API_KEY, FakeCliniko, fake_cliniko
from tests.booking.test_cliniko import CLINIKO, free_times
from tests.booking.test_conversation import MONDAY_7AM, Chat

CODE_SHOWN = re.compile(r"confirmation code is ([A-Z0-9]{3}-[A-Z0-9]{3})")


def book(clinic: Any, provider: Any, sender: str = "first-chat", pick: int = 0) -> tuple[str, str]:
    """A whole booking in the chat; returns the confirmation text and the code as shown."""
    talk = Chat(clinic, provider, conversation_id=sender)
    talk.say("", booking_pick=str(pick))
    talk.say("Sam Taylor")
    talk.say("07700 900123 sam@example.com")
    confirmed = talk.say("yes", intent="affirm")
    match = CODE_SHOWN.search(confirmed)
    assert match, confirmed
    return confirmed, match[1]


def row(sender: str = "first-chat") -> Booking:
    with session_scope() as session:
        booking = session.execute(select(Booking).where(Booking.conversation_id == sender)).scalar_one()
        session.expunge(booking)
        return booking


def test_the_confirmation_gives_a_code_that_is_stored_and_read_back_however_typed(database: str) -> None:
    clinic = make_clinic()
    confirmed, code = book(clinic, BuiltinScheduler(clinic))
    assert "cancel or move the appointment here in the chat" in confirmed
    assert row().confirmation_code == code.replace("-", "") and row().status == "booked"
    for typed in (code, code.lower(), code.replace("-", " "), f"it's {code.replace('-', '')} thanks"):
        assert records.find_code(typed) == code.replace("-", "")
    assert records.find_code("the cat sat") is None and records.find_code("07700 900123") is None


def test_cancel_with_the_code_and_the_phone_frees_the_slot_and_shows_in_the_record(database: str) -> None:
    clinic = make_clinic(practitioners=[{"id": "anna", "name": "Anna Okafor"}])
    scheduler = BuiltinScheduler(clinic)
    first = next_slots(scheduler, clinic, "routine", now=MONDAY_7AM)[0]
    _, code = book(clinic, scheduler)
    assert first not in scheduler.available_slots(first.starts_at, first.ends_at)

    talk = Chat(clinic, scheduler, intent="cancel_appointment", conversation_id="second-chat")
    assert "What's your confirmation code?" in talk.said[-1]
    assert "phone number or email address you booked with" in talk.say(f"my code is {code}")
    question = talk.say("07700 900123")
    assert "I've found it: initial assessment on Monday 30 November at 09:30 with Anna Okafor" in question
    assert "Shall I cancel it?" in question
    done = talk.say("yes please", intent="affirm")
    assert "Done: your initial assessment on Monday 30 November at 09:30 with Anna Okafor is cancelled" in done
    stored = row()
    assert (stored.status, stored.changed_in) == ("cancelled", "second-chat") and stored.changed_at is not None
    assert first in scheduler.available_slots(first.starts_at, first.ends_at)  # somebody else can have it now
    with session_scope() as session:
        case = session.execute(select(Case).where(Case.conversation_id == "first-chat")).scalar_one()
        assert case.booking_status == "cancelled"
    # The same code again: already cancelled, nothing to do
    again = Chat(clinic, scheduler, intent="cancel_appointment", conversation_id="third-chat")
    assert "already cancelled" in again.say(f"{code} sam@example.com")


def test_a_wrong_code_or_contact_is_asked_again_and_the_third_miss_becomes_a_call_back(database: str) -> None:
    clinic = make_clinic()
    scheduler = BuiltinScheduler(clinic)
    _, code = book(clinic, scheduler)
    talk = Chat(clinic, scheduler, intent="cancel_appointment", conversation_id="guess")
    assert "doesn't look like a confirmation code" in talk.say("my appointment on monday")
    talk.say(code)
    assert "can't find a booking with that code" in talk.say("07700 900999")  # not the number it was booked with
    assert talk.asked == "manage_code"
    talk.say("KKK-777")
    assert "can't find a booking" in talk.say("07700 900123")  # the right number, a wrong code
    talk.say("KKK-777")
    assert "I'll ask the clinic to call you" in talk.say("07700 900123")
    assert talk.asked == "booking_first_name"
    talk.say("Sam Taylor")
    talk.say("mornings")
    with session_scope() as session:
        [callback] = session.execute(select(Callback)).scalars().all()
    assert callback.reason.startswith("could not find a booking to cancel") and callback.phone == "+447700900123"
    assert row().status == "booked"  # nothing changed


def test_never_mind_and_no_leave_the_booking_as_it_was(database: str) -> None:
    clinic = make_clinic()
    scheduler = BuiltinScheduler(clinic)
    _, code = book(clinic, scheduler)
    talk = Chat(clinic, scheduler, intent="cancel_appointment", conversation_id="undecided")
    assert "nothing has changed" in talk.say("never mind", intent="cancel")
    talk = Chat(clinic, scheduler, intent="cancel_appointment", conversation_id="undecided-2")
    talk.say(f"{code} 07700900123")  # code and number in one message
    assert "still booked" in talk.say("no, keep it", intent="deny")
    assert row().status == "booked"


def test_move_offers_new_times_and_keeps_the_code(database: str) -> None:
    clinic = make_clinic(practitioners=[{"id": "anna", "name": "Anna Okafor"}])
    scheduler = BuiltinScheduler(clinic)
    _, code = book(clinic, scheduler)
    old = row().starts_at
    talk = Chat(clinic, scheduler, intent="move_appointment", conversation_id="mover")
    assert "help you move it" in talk.said[-1]
    talk.say(code)
    offered = talk.say("sam@example.com")
    assert "I've found it: initial assessment on Monday 30 November at 09:30" in offered
    assert "Here are the next free times" in offered and talk.asked == "booking_choice"
    question = talk.say("wednesday at 6.30pm")
    assert "Wednesday 2 December at 18:30 is free" in question
    question = talk.say("yes", intent="affirm")
    assert "Shall I move your appointment from Monday 30 November at 09:30 to Wednesday 2 December at 18:30" in question
    done = talk.say("yes", intent="affirm")
    assert "Done: your appointment is now initial assessment on Wednesday 2 December at 18:30" in done
    assert f"Your confirmation code stays {code}" in done
    moved = row()
    assert (moved.status, moved.previous_starts_at, moved.changed_in) == ("moved", old, "mover")
    assert moved.starts_at.strftime("%d %H:%M") == "02 18:30"  # UTC in winter
    # The old time is free again; the new one is not
    three_days = scheduler.available_slots(MONDAY_7AM, MONDAY_7AM + timedelta(days=3))
    free = {s.starts_at.replace(tzinfo=None) for s in three_days}
    assert old in free and moved.starts_at not in free


def test_no_at_the_move_question_offers_other_times(database: str) -> None:
    clinic = make_clinic()
    scheduler = BuiltinScheduler(clinic)
    _, code = book(clinic, scheduler)
    talk = Chat(clinic, scheduler, intent="move_appointment", conversation_id="mover")
    talk.say(f"{code} 07700 900123")
    talk.say("the second one")
    assert "Shall I move" in talk.said[-1]
    assert "another time" in talk.say("no", intent="deny") and talk.asked == "booking_choice"
    assert row().status == "booked"


@pytest.fixture()
def cliniko_clinic() -> Any:
    return make_clinic(booking=CLINIKO)


def test_cliniko_cancel_and_move_use_its_documented_endpoints(database: str, cliniko_clinic: Any) -> None:
    with fake_cliniko(FakeCliniko(free=free_times())) as fake:
        cliniko = ClinikoProvider(cliniko_clinic, API_KEY, base_url=fake.base)
        _, code = book(cliniko_clinic, cliniko)
        [appointment] = fake.appointments
        booked_with, booked_at = appointment["practitioner_id"], appointment["starts_at"]
        stored = row()
        assert (stored.provider, stored.external_id) == ("cliniko", appointment["id"])

        talk = Chat(cliniko_clinic, cliniko, intent="move_appointment", conversation_id="mover")
        talk.say(code)
        talk.say("07700 900123")
        talk.say("tuesday")  # Ben's Tuesday 08:00 is the only Tuesday time
        assert "Tuesday 1 December at 08:00" in talk.said[-1]
        assert "Shall I move" in talk.say("that one", booking_pick="0")
        assert "Done: your appointment is now" in talk.say("yes", intent="affirm")
        [patch] = [r for r in fake.requests if r["method"] == "PATCH"]
        assert patch["path"] == f"/v1/individual_appointments/{appointment['id']}"
        assert patch["body"] == {"practitioner_id": "1002", "starts_at": "2026-12-01T08:00:00Z",
                                 "ends_at": "2026-12-01T08:45:00Z"}
        assert appointment["starts_at"] == "2026-12-01T08:00:00Z"
        assert booked_at in fake.free[booked_with]  # the old time is free in Cliniko again

        talk = Chat(cliniko_clinic, cliniko, intent="cancel_appointment", conversation_id="canceller")
        talk.say(f"{code} sam@example.com")
        assert "cancelled" in talk.say("yes", intent="affirm")
        cancel = [r for r in fake.requests if r["method"] == "PATCH"][-1]
        assert cancel["path"] == f"/v1/individual_appointments/{appointment['id']}/cancel"
        assert cancel["body"]["cancellation_reason"] == 50 and appointment["cancelled_at"]
        assert row().status == "cancelled"


def test_cliniko_failing_to_cancel_records_a_call_back_and_keeps_the_booking(database: str,
                                                                           cliniko_clinic: Any) -> None:
    with fake_cliniko(FakeCliniko(free=free_times())) as fake:
        cliniko = ClinikoProvider(cliniko_clinic, API_KEY, base_url=fake.base)
        _, code = book(cliniko_clinic, cliniko)
        talk = Chat(cliniko_clinic, cliniko, intent="cancel_appointment", conversation_id="canceller")
        talk.say(f"{code} 07700 900123")
        fake.fail_next(500)
        reply = talk.say("yes", intent="affirm")
        assert "couldn't change the booking" in reply and "will call you on +447700900123" in reply
        assert row().status == "booked" and not fake.appointments[0].get("cancelled_at")
        with session_scope() as session:
            [callback] = session.execute(select(Callback)).scalars().all()
        assert callback.reason.startswith(f"wanted to cancel booking {code}")


def test_a_booking_is_found_only_with_its_own_contact(database: str) -> None:
    clinic = make_clinic()
    scheduler = BuiltinScheduler(clinic)
    slot = next_slots(scheduler, clinic, "routine", now=MONDAY_7AM)[0]
    confirmation = scheduler.book(slot, Patient("Robin", "Example", email="Robin@Example.com"), notes="",
                                  conversation_id="c1")
    assert records.find(confirmation.code, phone=None, email="robin@example.com") is not None
    assert records.find(confirmation.code, phone="+447700900123", email=None) is None
    assert records.find("KKK777", phone=None, email="robin@example.com") is None
