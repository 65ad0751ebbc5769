"""The booking state kept in the tracker's slots: what a conversation saved by the previous version, or
slots holding nonsense, turn into, and that the conversation carries on from them."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, time, timezone
from typing import Any

import pytest

from bot.booking.base import Slot
from bot.booking.builtin import BuiltinScheduler
from bot.booking.choose import Request
from bot.booking.offer import Preference
from bot.booking.records import Stored
from bot.booking.state import ASKED, SLOTS, BookingState, Turn
from tests.booking.clinics import make_clinic
from tests.booking.test_conversation import Chat, bookings

UTC = timezone.utc
WEDNESDAY_1830 = Slot(datetime(2026, 12, 2, 18, 30, tzinfo=UTC), datetime(2026, 12, 2, 19, 15, tzinfo=UTC),
                      "anna", "initial")
EMPTY_SLOTS = {slot: None for slot, _, _ in SLOTS.values()}
# Slots exactly as the previous version (a dict of slot values per key) left them, mid-conversation.
OLD_PROPOSAL: dict[str, Any] = {
    **EMPTY_SLOTS, "requested_slot": "booking_choice", "booking_mode": "book",
    "booking_offered": [{"starts_at": "2026-12-02T18:30:00+00:00", "ends_at": "2026-12-02T19:15:00+00:00",
                         "practitioner_id": "anna", "appointment_type_id": "initial"}],
    "booking_preference": {"preference": {"weekday": 2, "not_before": "16:00:00"}, "proposed": True},
}
OLD_READ_BACK: dict[str, Any] = {
    **EMPTY_SLOTS, "requested_slot": "booking_confirmed", "booking_mode": "book",
    "booking_choice": {"starts_at": "2026-12-02T18:30:00+00:00", "ends_at": "2026-12-02T19:15:00+00:00",
                       "practitioner_id": "anna", "appointment_type_id": "initial"},
    "booking_offered": OLD_PROPOSAL["booking_offered"], "booking_first_name": "Sam", "booking_last_name": "Taylor",
    "booking_phone": "+447700900123", "booking_email": "sam@example.com", "booking_contact": "given",
}
OLD_MOVE: dict[str, Any] = {
    **EMPTY_SLOTS, "requested_slot": "booking_choice", "booking_mode": "move_existing",
    "booking_phone": "+447700900123", "booking_contact": "given", "manage_code": "F6C4WT",
    "manage_booking": {"id": 1, "code": "F6C4WT", "starts_at": "2026-12-02T18:30:00+00:00",
                       "ends_at": "2026-12-02T19:15:00+00:00", "practitioner_id": "anna",
                       "appointment_type_id": "initial", "first_name": "Sam", "status": "booked",
                       "provider": "builtin", "external_id": None},
}


def full_state() -> BookingState:
    """Every field set to something other than its default."""
    other = Slot(datetime(2026, 12, 1, 9, 30, tzinfo=UTC), datetime(2026, 12, 1, 10, 15, tzinfo=UTC), "ben", "initial")
    request = Request(Preference("evening", 2, date(2026, 12, 2), date(2026, 12, 7), time(16), time(20)),
                      after=datetime(2026, 12, 1, 9, tzinfo=UTC), other_day_than=datetime(2026, 11, 30, 9, tzinfo=UTC),
                      clocks=(time(8, 30), time(20, 30)), between=(other,), or_day=date(2026, 12, 2), proposed=True)
    stored = Stored(7, "K7PQ4X", other, "Sam", "moved", "cliniko", "appt-9")
    return BookingState("move_existing", "manage_confirmed", (WEDNESDAY_1830, other), request, WEDNESDAY_1830, "Sam",
                        "Taylor", "+447700900123", "sam@example.com", True, True, "mornings", True,
                        "asked to talk to a person", "ref-1", "K7PQ4X", stored, True, 2)


def test_every_field_survives_the_tracker_store() -> None:
    state = full_state()
    assert all(getattr(state, name) != getattr(BookingState(), name) for name in SLOTS)
    stored = json.loads(json.dumps(state.to_slots()))  # what the tracker store keeps
    assert BookingState.from_slots(stored) == state
    assert BookingState.from_slots(BookingState().to_slots()) == BookingState() == BookingState.from_slots({})


def test_slots_as_the_previous_version_kept_them_are_read() -> None:
    proposal = BookingState.from_slots(OLD_PROPOSAL)
    assert (proposal.mode, proposal.asked, proposal.offered) == ("book", "booking_choice", (WEDNESDAY_1830,))
    assert proposal.request == Request(Preference(weekday=2, not_before=time(16)), proposed=True)
    read_back = BookingState.from_slots(OLD_READ_BACK)
    assert (read_back.choice, read_back.first_name, read_back.contact_given, read_back.confirmed) == (
        WEDNESDAY_1830, "Sam", True, False)
    move = BookingState.from_slots(OLD_MOVE)
    assert move.manage_booking == Stored(1, "F6C4WT", WEDNESDAY_1830, "Sam", "booked", "builtin", None)
    # ... and written back the same way, so nothing changes in the tracker for what did not change
    for old in (OLD_PROPOSAL, OLD_READ_BACK, OLD_MOVE):
        assert BookingState.from_slots(old).to_slots() == old


def test_a_conversation_saved_by_the_previous_version_carries_on(database: str) -> None:
    clinic = make_clinic(practitioners=[{"id": "anna", "name": "Anna Okafor"}])
    talk = Chat(clinic, BuiltinScheduler(clinic, database))
    talk.slots = copy.deepcopy(OLD_READ_BACK)
    reply = talk.say("yes", intent="affirm")
    assert "You're booked in: initial assessment on Wednesday 2 December at 18:30 with Anna Okafor" in reply
    [row] = bookings(database)
    assert (row.first_name, row.email) == ("Sam", "sam@example.com")
    proposed = Chat(clinic, BuiltinScheduler(clinic, database), conversation_id="conv-2")
    proposed.slots = copy.deepcopy({**OLD_PROPOSAL, "booking_offered": [
        {**OLD_PROPOSAL["booking_offered"][0], "starts_at": "2026-12-02T17:45:00+00:00",
         "ends_at": "2026-12-02T18:30:00+00:00"}]})
    proposed.say("yes please", intent="affirm")  # "yes" to the one time proposed takes it
    assert proposed.asked == "booking_first_name" and proposed.state.choice.starts_at.hour == 17


# Values no slot ever holds, and values only the plain text, yes/no and count slots can hold.
NONSENSE: list[Any] = [3.5, [], [1, 2], {}, {"starts_at": "yesterday"}, [{"starts_at": "2026-12-02T18:30:00"}],
                       {"preference": "evenings"}, {"id": "x"}, {"id": 1, "code": 5}]
NOT_STRUCTURED: list[Any] = ["", "nonsense", 42, -1, True]
STRUCTURED = ("mode", "offered", "request", "choice", "manage_booking", "manage_attempts")


@pytest.mark.parametrize("value", NONSENSE + NOT_STRUCTURED, ids=repr)
def test_nonsense_in_a_slot_reads_as_not_given(value: Any) -> None:
    for name, (slot, _, _) in SLOTS.items():
        if value in NOT_STRUCTURED and name not in STRUCTURED or (name == "manage_attempts" and value == 42):
            continue
        state = BookingState.from_slots({slot: value})
        assert state == BookingState(), f"{slot}={value!r}"
        assert json.loads(json.dumps(state.to_slots())) == EMPTY_SLOTS


def test_a_time_without_its_zone_or_a_half_readable_wish_keeps_only_what_is_sure() -> None:
    naive = {**OLD_READ_BACK["booking_choice"], "starts_at": "2026-12-02T18:30:00"}
    assert BookingState.from_slots({"booking_choice": naive}).choice is None
    wish = BookingState.from_slots({"booking_preference": {
        "preference": {"part_of_day": "brunch", "weekday": 9, "day": "2026-12-02", "not_before": "25:00"},
        "clocks": ["08:30:00", "soon"], "proposed": "yes"}}).request
    assert wish == Request(Preference(day=date(2026, 12, 2)))


def test_a_yes_or_a_contact_resting_on_something_unreadable_is_asked_again(database: str) -> None:
    clinic = make_clinic()
    talk = Chat(clinic, BuiltinScheduler(clinic, database))
    talk.slots = {**OLD_READ_BACK, "booking_choice": "garbage", "booking_email": 12, "booking_phone": None}
    assert not talk.state.contact_given
    reply = talk.say("yes", intent="affirm")  # a yes to a time no longer known books nothing
    assert talk.asked == "booking_choice" and "Here are the next free times" in reply and bookings(database) == []
    talk.say("the first one")
    assert talk.asked == "booking_contact"  # the name kept; the contact asked again, then the read-back
    talk.say("07700 900123")
    assert talk.asked == "booking_confirmed" and "Let me check" in talk.said[-1] and bookings(database) == []
    move = BookingState.from_slots({**OLD_MOVE, "manage_booking": {"id": 1}, "manage_confirmed": True})
    assert (move.manage_booking, move.contact_given, move.manage_confirmed) == (None, False, False)


def test_only_changed_slots_are_written_and_the_asked_one_always() -> None:
    before = copy.deepcopy(OLD_READ_BACK)
    turn = Turn(BookingState.from_slots(before))
    assert turn.state.slot_changes(before) == {}
    assert turn.state.slot_changes(before, keep="booking_confirmed") == {"booking_confirmed": None}
    turn.set(confirmed=True, asked=None)
    assert turn.state.slot_changes(before) == {"booking_confirmed": True, ASKED: None}
    with pytest.raises(TypeError):
        turn.set(booking_confirmed=True)  # a slot's name is not a field: a bug, caught at once
