"""The built-in scheduler: slots from opening hours, durations, lead times, time zones and DST,
and double booking made impossible by the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from bot.booking import Patient, SlotTaken
from bot.booking.builtin import BuiltinScheduler
from bot.booking.hours import local_starts, window_end
from bot.booking.messages import describe_slot
from bot.booking.offer import Preference, next_slots
from tests.booking.clinics import make_clinic

pytest_plugins = ["tests.console.fixtures"]
UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")
SAM = Patient("Sam", "Taylor", phone="+447700900123")
# Monday 30 November 2026, 07:00 in London (GMT, UTC+0).
MONDAY_7AM = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def local(slot_time: datetime, tz: ZoneInfo = LONDON) -> str:
    return slot_time.astimezone(tz).strftime("%a %d %H:%M")


def test_slots_follow_opening_hours_and_the_appointment_length(db_url: str) -> None:
    clinic = make_clinic(practitioners=[{"id": "anna", "name": "Anna Okafor"}])
    scheduler = BuiltinScheduler(clinic, db_url)
    day = datetime(2026, 11, 30, tzinfo=LONDON)  # Monday: 08:00-12:30 and 13:30-18:00, 45-minute slots
    times = [local(s.starts_at) for s in scheduler.available_slots(day, day + timedelta(days=1))]
    assert times[:3] == ["Mon 30 08:00", "Mon 30 08:45", "Mon 30 09:30"]
    assert "Mon 30 11:45" in times and "Mon 30 12:30" not in times  # 11:45 ends at 12:30, at the lunch break
    assert "Mon 30 13:30" in times and "Mon 30 17:15" in times and "Mon 30 18:00" not in times
    sunday = datetime(2026, 11, 29, tzinfo=LONDON)
    assert scheduler.available_slots(sunday, sunday + timedelta(days=1)) == []  # closed


def test_booked_slot_is_no_longer_offered_and_the_other_physio_still_is(db_url: str) -> None:
    clinic = make_clinic()
    scheduler = BuiltinScheduler(clinic, db_url)
    first = next_slots(scheduler, clinic, "routine", now=MONDAY_7AM)[0]
    scheduler.book(first, SAM, notes="front knee pain, routine", conversation_id="c1")
    free = scheduler.available_slots(first.starts_at, first.ends_at)
    assert [(s.starts_at, s.practitioner_id) for s in free] == [
        (first.starts_at, p.id) for p in clinic.practitioners if p.id != first.practitioner_id]


def test_next_three_respect_notice_and_lead_time(db_url: str) -> None:
    clinic = make_clinic(min_notice_minutes=120)
    scheduler = BuiltinScheduler(clinic, db_url)
    offered = next_slots(scheduler, clinic, "soon", now=MONDAY_7AM)
    assert [local(s.starts_at) for s in offered] == ["Mon 30 09:30", "Mon 30 10:15", "Mon 30 11:00"]
    # soon = within 2 working days: nothing after Wednesday
    assert window_end(clinic, "soon", MONDAY_7AM) == datetime(2026, 12, 3, tzinfo=LONDON)
    late = next_slots(scheduler, clinic, "soon", now=MONDAY_7AM, after=datetime(2026, 12, 2, 19, 15, tzinfo=LONDON))
    assert late == []
    # Saturday is open, Sunday is not: routine's 10 working days from Friday 4 December end on Wednesday 16th
    friday = datetime(2026, 12, 4, 12, tzinfo=UTC)
    assert window_end(clinic, "routine", friday) == datetime(2026, 12, 17, tzinfo=LONDON)


def test_preferences_later_and_another_day(db_url: str) -> None:
    clinic = make_clinic()
    scheduler = BuiltinScheduler(clinic, db_url)
    afternoons = next_slots(scheduler, clinic, "routine", now=MONDAY_7AM, preference=Preference("afternoon"))
    assert all(12 <= s.starts_at.astimezone(LONDON).hour < 17 for s in afternoons) and len(afternoons) == 3
    evenings = next_slots(scheduler, clinic, "routine", now=MONDAY_7AM, preference=Preference("evening"))
    assert [local(s.starts_at) for s in evenings] == ["Mon 30 17:15", "Tue 01 17:00", "Wed 02 17:00"]
    fridays = next_slots(scheduler, clinic, "routine", now=MONDAY_7AM, preference=Preference(weekday=4))
    assert [local(s.starts_at) for s in fridays] == ["Fri 04 08:00", "Fri 04 08:45", "Fri 04 09:30"]
    first = next_slots(scheduler, clinic, "routine", now=MONDAY_7AM)
    later = next_slots(scheduler, clinic, "routine", now=MONDAY_7AM, after=first[-1].starts_at)
    assert later[0].starts_at > first[-1].starts_at
    other_day = next_slots(scheduler, clinic, "routine", now=MONDAY_7AM, other_day_than=first[0].starts_at)
    assert all(s.starts_at.astimezone(LONDON).date() != date(2026, 11, 30) for s in other_day)
    assert describe_slot(first[0], clinic) == "Monday 30 November at 09:30"


def test_times_are_the_clinics_local_time_across_dst() -> None:
    clinic = make_clinic(opening_hours={"sunday": ["00:30-03:30"], "monday": ["09:00-10:00"]},
                         appointment_types=[{"id": "initial", "name": "Initial", "minutes": 60, "bot_may_offer": True}])
    # London summer time: 09:00 BST is 08:00 UTC; winter: 09:00 GMT is 09:00 UTC.
    assert [t.hour for t in local_starts(clinic, date(2026, 6, 1), 60)] == [8]
    assert [t.hour for t in local_starts(clinic, date(2026, 11, 30), 60)] == [9]
    # Clocks go forward at 01:00 on 29 March 2026: 01:30 local does not exist and is skipped.
    spring = [t.astimezone(LONDON).strftime("%H:%M") for t in local_starts(clinic, date(2026, 3, 29), 60)]
    assert spring == ["00:30", "02:30"]
    # Clocks go back at 02:00 on 25 October 2026: every start is a distinct UTC instant.
    autumn = list(local_starts(clinic, date(2026, 10, 25), 60))
    assert len(set(autumn)) == len(autumn) == 3
    # Another time zone: a Sydney clinic's 09:00 is the previous evening in UTC.
    sydney = make_clinic(timezone="Australia/Sydney", opening_hours={"monday": ["09:00-10:00"]})
    [start] = local_starts(sydney, date(2026, 11, 30), 45)
    assert (start.day, start.hour) == (29, 22)


def test_two_patients_racing_for_one_slot_cannot_both_get_it(db_url: str) -> None:
    clinic = make_clinic(practitioners=[{"id": "anna", "name": "Anna Okafor"}])
    slot = next_slots(BuiltinScheduler(clinic, db_url), clinic, "routine", now=MONDAY_7AM)[0]
    barrier, outcomes = threading.Barrier(2), []

    def take(name: str) -> None:
        scheduler = BuiltinScheduler(clinic, db_url)
        barrier.wait()
        try:
            outcomes.append(scheduler.book(slot, Patient(name, "Race"), notes="", conversation_id=name))
        except SlotTaken as taken:
            outcomes.append(taken)

    threads = [threading.Thread(target=take, args=(n,)) for n in ("Ann", "Bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(type(o).__name__ for o in outcomes) == ["Confirmation", "SlotTaken"]
    assert slot not in BuiltinScheduler(clinic, db_url).available_slots(slot.starts_at, slot.ends_at)


def test_the_triage_summary_is_stored_with_the_booking(db_url: str) -> None:
    from sqlalchemy import select

    from bot.store import session_scope
    from bot.store.models import Booking

    clinic = make_clinic()
    scheduler = BuiltinScheduler(clinic, db_url)
    slot = next_slots(scheduler, clinic, "routine", now=MONDAY_7AM)[0]
    confirmation = scheduler.book(slot, SAM, notes="Triage: routine. Best fit: runner's knee.", conversation_id="c9")
    with session_scope(db_url) as session:
        row = session.execute(select(Booking).where(Booking.conversation_id == "c9")).scalar_one()
    assert row.notes.startswith("Triage: routine") and f"B{row.id}" == confirmation.reference
    assert row.starts_at == slot.starts_at.astimezone(UTC).replace(tzinfo=None)


def _book_in_a_process(db_url: str, starts_at: str, name: str, barrier: Any, results: Any) -> None:
    """Run in a separate process: a whole other action server taking the same slot."""
    from bot.booking.base import Slot

    clinic = make_clinic(practitioners=[{"id": "anna", "name": "Anna Okafor"}])
    start = datetime.fromisoformat(starts_at)
    slot = Slot(start, start + timedelta(minutes=45), "anna", "initial")
    scheduler = BuiltinScheduler(clinic, db_url)
    barrier.wait()
    try:
        scheduler.book(slot, Patient(name, "Race"), notes="", conversation_id=name)
        results.put("booked")
    except SlotTaken:
        results.put("taken")


def test_two_processes_racing_for_one_slot_cannot_both_get_it(db_url: str) -> None:
    context = multiprocessing.get_context("spawn")  # fresh interpreters: no shared connections
    barrier, results = context.Barrier(2), context.Queue()
    starts_at = "2026-11-30T09:30:00+00:00"
    processes = [context.Process(target=_book_in_a_process, args=(db_url, starts_at, name, barrier, results))
                 for name in ("Ann", "Bob")]
    for p in processes:
        p.start()
    for p in processes:
        p.join(120)
    assert sorted(results.get(timeout=5) for _ in processes) == ["booked", "taken"]
