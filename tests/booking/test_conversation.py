"""The booking conversation's logic without Rasa: a tiny form loop over bot.booking.chat and .flow,
with the built-in scheduler on a real SQLite database (and Cliniko's fake for the failure path)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from sqlalchemy import select

from bot.booking import flow
from bot.booking.builtin import BuiltinScheduler
from bot.booking.cliniko import ClinikoProvider
from bot.booking.contact import clean_email, clean_name, clean_phone
from bot.booking.flow import finish, offer
from bot.booking.state import ASKED, BookingState, Turn
from bot.booking.summary import triage_summary
from bot.clinic import Clinic
from bot.store import session_scope
from bot.store.models import Booking, Callback, Case
from tests.booking.clinics import make_clinic
from tests.booking.fake_cliniko import API_KEY, FakeCliniko, fake_cliniko
from tests.booking.test_cliniko import CLINIKO

UTC = timezone.utc
MONDAY_7AM = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
ANSWERS = {"pain_location": "front", "triggers": ["stairs", "sitting"], "age": 28}


class Chat:
    """What the Rasa form does, in a few lines: read, then ask the next missing slot or finish.

    The state lives in `slots` as the tracker keeps it (JSON), and is read back from there every turn.
    """

    def __init__(self, clinic: Clinic, provider: Any, level: str = "routine", intent: str = "book",
                 conversation_id: str = "conv-1", now: datetime = MONDAY_7AM) -> None:
        self.clinic, self.provider, self.level, self.said = clinic, provider, level, []
        self.conversation_id, self.now = conversation_id, now
        self.slots: dict[str, Any] = {ASKED: None}
        self._apply(flow.start(self.state, level, intent, clinic))
        self._next()

    @property
    def state(self) -> BookingState:
        return BookingState.from_slots(self.slots)

    def say(self, text: str, intent: str = "inform", **entities: Any) -> str:
        self.said = []
        turn = flow.read(self.state, text, intent, [{"entity": k, "value": v} for k, v in entities.items()],
                         self.clinic, now=self.now)
        self._apply(turn, keep=self.asked)
        self._next()
        return "\n".join(self.said)

    def _apply(self, turn: Turn, keep: str | None = None) -> None:
        self.slots.update(json.loads(json.dumps(turn.state.slot_changes(self.slots, keep=keep))))
        self.said += [m.text for m in turn.messages]

    def _next(self) -> None:
        missing = [s for s in self.state.required_slots() if self.slots.get(s) is None]
        if not missing:
            self.slots[ASKED] = None
            turn, again = finish(self.state, self.clinic, self.provider, conversation_id=self.conversation_id,
                                 summary=triage_summary(ANSWERS), now=self.now)
            self._apply(turn)
            if again:
                self._next()
            return
        self.slots[ASKED] = missing[0]
        if missing[0] == "booking_choice":
            turn = offer(self.state, self.clinic, self.provider, self.level, self.now)
            self._apply(turn)
        else:
            self.said.append(flow.ask(missing[0], self.state, self.clinic).text)

    @property
    def asked(self) -> str | None:
        return self.slots.get(ASKED)


def bookings(url: str) -> list[Booking]:
    with session_scope(url) as session:
        return list(session.execute(select(Booking)).scalars())


def case(url: str) -> Case:
    with session_scope(url) as session:
        found = session.execute(select(Case).where(Case.conversation_id == "conv-1")).scalar_one()
        found.callbacks  # noqa: B018 (load them before the session closes)
        return found


def test_booking_from_offer_to_confirmation(database: str) -> None:
    clinic = make_clinic()
    talk = Chat(clinic, BuiltinScheduler(clinic, database))
    assert talk.asked == "booking_choice" and "1. Monday 30 November at 09:30" in talk.said[-1]
    talk.say("anything in the afternoon?")
    assert "in the afternoon:" in talk.said[-1] and "13:30" in talk.said[-1]
    talk.say("the second one")
    assert talk.asked == "booking_first_name"
    talk.say("sam taylor")
    assert talk.asked == "booking_contact"
    talk.say("07700 900123 or sam@example.com")
    readback = talk.said[-1]
    assert "Monday 30 November at 14:15" in readback and "Sam Taylor" in readback and "+447700900123" in readback
    reply = talk.say("yes", intent="affirm")
    assert "You're booked in" in reply and "14:15" in reply and clinic.address in reply and "shorts" in reply
    [row] = bookings(database)
    assert (row.first_name, row.last_name, row.email) == ("Sam", "Taylor", "sam@example.com")
    assert "runner's knee" in row.notes
    assert case(database).booking_status == "booked"


def test_bad_names_phones_and_emails_are_asked_again(database: str) -> None:
    clinic = make_clinic()
    talk = Chat(clinic, BuiltinScheduler(clinic, database))
    talk.say("1")
    assert "first name in letters" in talk.say("12345") and talk.asked == "booking_first_name"
    assert "first name in letters" in talk.say("I don't know", intent="dont_know")
    talk.say("Sam")
    assert "last name in letters" in talk.say("<script>") and talk.asked == "booking_last_name"
    talk.say("O'Neill")
    assert "doesn't look right" in talk.say("sam@@example") and talk.asked == "booking_contact"
    assert "doesn't look like a phone number" in talk.say("123")
    talk.say("+44 7700 900123")
    assert talk.asked == "booking_confirmed" and "Sam O'Neill" in talk.said[-1]


@pytest.mark.parametrize("bad", ["", "   ", "12", "Sam1", "x" * 200, "talk to a person", "DROP TABLE;"])
def test_names_that_are_not_names(bad: str) -> None:
    assert clean_name(bad) is None


@pytest.mark.parametrize(("typed", "country", "expected"), [
    ("07700 900123", "GB", "+447700900123"), ("+44 (0)20 7946 0000", "GB", "+442079460000"),
    ("+1 415 555 0100", "GB", "+14155550100"), ("0044 7700 900123", "GB", "+447700900123"),
    ("07911 123456", "GB", "+447911123456"), ("(020) 7946-0000", "GB", "+442079460000"),
    ("wa.me/447700900123", "GB", "+447700900123"), ("whatsapp:+353851234567", "GB", "+353851234567"),
    ("447911123456", "GB", "+447911123456"),  # a WhatsApp id: the country code without the +
    ("085 123 4567", "IE", "+353851234567"), ("01 234 5678", "IE", "+35312345678"),
    ("(415) 555-0100", "US", "+14155550100"), ("07700 900123", "IE", None),
    ("12345", "GB", None), ("phone me", "GB", None), ("0770090012345678", "GB", None), ("+999 1234 5678", "GB", None)])
def test_phone_numbers_in_the_clinics_country(typed: str, country: str, expected: str | None) -> None:
    assert clean_phone(typed, country) == expected


def test_an_irish_clinic_reads_an_irish_mobile(database: str) -> None:
    clinic = make_clinic(country="IE", closures={"public_holidays": True})
    talk = Chat(clinic, BuiltinScheduler(clinic, database))
    talk.say("1")
    talk.say("Sam Taylor")
    talk.say("my mobile is 085 123 4567")
    assert talk.asked == "booking_confirmed" and "+353851234567" in talk.said[-1]


@pytest.mark.parametrize(("typed", "expected"), [("Sam@Example.COM", "Sam@example.com"), ("sam@", None),
                                                 ("a..b@x.com", None), ("sam example.com", None),
                                                 ("<sam@x.co.uk>", "sam@x.co.uk"), ("sam@x", None),
                                                 ("jo@localhost", None), ("élan@exämple.com", "élan@exämple.com"),
                                                 ("sam@example.com.", "sam@example.com")])
def test_email_addresses(typed: str, expected: str | None) -> None:
    assert clean_email(typed) == expected


def test_later_another_day_and_a_weekday(database: str) -> None:
    clinic = make_clinic()
    talk = Chat(clinic, BuiltinScheduler(clinic, database))
    first = talk.said[-1]
    talk.say("later", booking_when="later")
    assert "10:15" not in talk.said[-1] and "11:00" not in talk.said[-1].split("\n", 1)[1][:40]
    talk.say("another day please")
    assert "Monday 30" not in talk.said[-1]
    talk.say("do you have anything on friday")
    assert talk.said[-1].count("Friday 4 December") == 3
    assert first != talk.said[-1]


def test_changing_the_time_and_details_at_the_read_back(database: str) -> None:
    clinic = make_clinic()
    talk = Chat(clinic, BuiltinScheduler(clinic, database))
    talk.say("the first one")
    talk.say("Sam Taylor")
    talk.say("sam@example.com")
    talk.say("change the time", intent="change_booking", booking_change="time")
    assert talk.asked == "booking_choice" and "another time" in talk.said[0]
    talk.say("3")
    assert talk.asked == "booking_confirmed" and "11:00" in talk.said[-1]  # name and email kept
    talk.say("my email is wrong", intent="change_booking")
    assert talk.asked == "booking_first_name"
    talk.say("Sam Jones")
    talk.say("07700 900123")
    assert "Sam Jones" in talk.said[-1] and "11:00" in talk.said[-1]
    talk.say("no", intent="deny")
    assert "What would you like to change" in talk.said[0] and talk.asked == "booking_confirmed"
    assert bookings(database) == []


def test_cancel_at_any_step_books_nothing(database: str) -> None:
    clinic = make_clinic()
    talk = Chat(clinic, BuiltinScheduler(clinic, database))
    talk.say("2")
    talk.say("Sam Taylor")
    reply = talk.say("forget it", intent="cancel")
    assert "nothing has been booked" in reply and talk.asked is None
    assert bookings(database) == [] and case(database).booking_status == "cancelled"


def test_a_person_mid_booking_becomes_a_call_back_with_the_triage_summary(database: str) -> None:
    clinic = make_clinic()
    talk = Chat(clinic, BuiltinScheduler(clinic, database))
    talk.say("Sam Taylor", intent="human")  # asked for a person while choosing a time
    assert talk.asked == "booking_first_name"
    talk.say("Sam Taylor")
    assert talk.asked == "booking_phone"
    talk.say("07700 900123")
    reply = talk.say("mornings")
    assert "will call you on +447700900123" in reply and "within the next two hours" not in reply  # 07:00: closed
    assert "today soon after we open at 08:00" in reply
    [callback] = case(database).callbacks
    assert (callback.name, callback.phone, callback.preferred_time) == ("Sam Taylor", "+447700900123", "mornings")
    assert "talk to a person" in callback.reason and "runner's knee" in callback.reason


def test_urgent_gets_a_same_day_call_back_and_emergency_never_books(database: str) -> None:
    clinic = make_clinic()
    urgent = Chat(clinic, BuiltinScheduler(clinic, database), level="urgent", intent="affirm")
    # the call back comes on top of the urgent route, never instead of it
    assert "don't wait for our call" in urgent.said[0] and clinic.urgent_care in urgent.said[0]
    assert urgent.asked == "booking_first_name"
    urgent.say("Sam Taylor")
    urgent.say("07700 900123")
    confirmation = urgent.say("any time")
    assert "will call you" in confirmation and "don't wait for our call" in confirmation
    assert clinic.urgent_care in confirmation and "A&E" in confirmation
    emergency = Chat(clinic, BuiltinScheduler(clinic, database), level="emergency")
    assert "999" in emergency.said[0] and emergency.asked is None and bookings(database) == []


def test_a_time_taken_meanwhile_offers_others(database: str) -> None:
    clinic = make_clinic(practitioners=[{"id": "anna", "name": "Anna Okafor"}])
    scheduler = BuiltinScheduler(clinic, database)
    talk = Chat(clinic, scheduler)
    talk.say("1")
    talk.say("Sam Taylor")
    talk.say("07700 900123")
    slot = talk.state.choice
    assert slot is not None
    from bot.booking import Patient

    scheduler.book(slot, Patient("Other", "Patient"), notes="", conversation_id="other")
    reply = talk.say("yes", intent="affirm")
    assert "somebody has just taken that time" in reply and talk.asked == "booking_choice"
    assert "09:30" not in reply.split("\n", 1)[1]


def test_provider_failure_records_a_call_back_with_the_details(database: str) -> None:
    clinic = make_clinic(booking=CLINIKO)
    with fake_cliniko(FakeCliniko(free={"1001": ["2026-11-30T09:30:00Z"]})) as fake:
        talk = Chat(clinic, ClinikoProvider(clinic, API_KEY, base_url=fake.base))
        talk.say("1")
        talk.say("Sam Taylor")
        talk.say("07700 900123")
        fake.fail_next(500)
        reply = talk.say("yes", intent="affirm")
    assert "Sorry, I couldn't complete the booking" in reply and "call you on +447700900123" in reply
    found = case(database)
    assert found.booking_status == "failed"
    [callback] = found.callbacks
    assert "online booking failed" in callback.reason and "Monday 30 November 09:30" in callback.reason
    assert callback.status == "open"


def test_diary_unreachable_when_offering_turns_into_a_call_back(database: str) -> None:
    clinic = make_clinic(booking=CLINIKO)
    with fake_cliniko() as fake:
        base = fake.base
    talk = Chat(clinic, ClinikoProvider(clinic, API_KEY, base_url=base))
    assert "can't reach our booking diary" in talk.said[-1] and talk.asked == "booking_first_name"
    talk.say("Sam Taylor")
    talk.say("07700 900123")
    talk.say("afternoon")
    with session_scope(database) as session:
        assert session.execute(select(Callback.reason)).scalar_one().startswith("online booking was unavailable")


def test_an_emergency_mid_booking_stops_it_with_the_emergency_route(database: str) -> None:
    clinic = make_clinic()
    talk = Chat(clinic, BuiltinScheduler(clinic, database))
    talk.say("1")
    reply = talk.say("my calf has gone red and swollen and I can't breathe", intent="emergency")
    assert "call 999" in reply and "nothing has been booked" in reply and talk.asked is None
    assert bookings(database) == []
