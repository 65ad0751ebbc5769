"""Practitioners' own calendars in the built-in scheduler: working hours, breaks, leave, appointment
types, and the clinic's closures and bank holidays, on a real SQLite diary. Nothing outside them
is ever offered."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.booking import Patient
from bot.booking.builtin import BuiltinScheduler
from bot.booking.hours import window_end
from bot.booking.offer import look_up, next_slots
from bot.clinic import ClinicConfigError, load_clinic
from tests.booking.clinics import clinic_data, make_clinic
from tests.console.fixtures import fresh_sqlite

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")
MONDAY_7AM = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # Monday 30 November 2026, GMT
# Anna: mornings only on Mondays, Wednesday evenings past closing time (clipped at 20:00), on leave
# 1-2 December. Ben: a break every day, Thursdays off, and he gives follow-ups only on top of initials.
# Cara gives follow-ups only: the assistant (which books initial assessments) never offers her.
PRACTITIONERS = [
    {"id": "anna", "name": "Anna Okafor",
     "working_hours": {"monday": ["08:00-12:30"], "tuesday": ["08:00-18:00"], "wednesday": ["17:00-22:00"],
                       "friday": ["08:00-16:00"]},
     "leave": [{"from": "2026-12-01", "to": "2026-12-02"}]},
    {"id": "ben", "name": "Ben Hughes",
     "working_hours": {"monday": ["13:30-18:00"], "tuesday": ["08:00-18:00"], "wednesday": ["08:00-18:00"],
                       "friday": ["08:00-16:00"], "saturday": ["09:00-13:00"]},
     "breaks": ["15:00-15:30"]},
    {"id": "cara", "name": "Cara Li", "appointment_types": ["follow_up"]},
]


@pytest.fixture()
def diary(tmp_path: Path) -> str:
    return fresh_sqlite(tmp_path)


def calendar_clinic(**changes: object) -> object:
    return make_clinic(practitioners=PRACTITIONERS, **changes)


def day_slots(scheduler: BuiltinScheduler, day: date) -> dict[str, list[str]]:
    start = datetime.combine(day, time(), LONDON)
    found: dict[str, list[str]] = {}
    for slot in scheduler.available_slots(start, start + timedelta(days=1)):
        found.setdefault(slot.practitioner_id, []).append(f"{slot.starts_at.astimezone(LONDON):%H:%M}")
    return found


def test_each_practitioner_is_offered_only_in_their_own_hours_less_breaks(diary: str) -> None:
    scheduler = BuiltinScheduler(calendar_clinic(), diary)
    monday = day_slots(scheduler, date(2026, 11, 30))
    assert monday["anna"] == ["08:00", "08:45", "09:30", "10:15", "11:00", "11:45"]  # mornings only
    # Ben from 13:30 (the clinic's lunch ends then), 45-minute slots around his 15:00-15:30 break
    assert monday["ben"] == ["13:30", "14:15", "15:30", "16:15", "17:00"]
    assert "cara" not in monday  # she gives follow-ups only
    # Anna's Wednesday evening is cut at the clinic's 20:00 close, and she is on leave that week anyway
    assert "anna" not in day_slots(scheduler, date(2026, 12, 2))
    assert day_slots(scheduler, date(2026, 12, 9))["anna"] == ["17:00", "17:45", "18:30", "19:15"]
    # Thursday: nobody works (Cara would, but not initial assessments): the clinic has nothing to offer
    assert day_slots(scheduler, date(2026, 12, 3)) == {}


def test_leave_removes_one_practitioner_and_the_other_is_still_offered(diary: str) -> None:
    scheduler = BuiltinScheduler(calendar_clinic(), diary)
    tuesday = day_slots(scheduler, date(2026, 12, 1))
    assert set(tuesday) == {"ben"} and tuesday["ben"][0] == "08:00"
    assert "anna" in day_slots(scheduler, date(2026, 12, 8))  # back the week after


def test_closures_and_bank_holidays_close_the_whole_clinic_and_do_not_count_as_working_days(diary: str) -> None:
    clinic = calendar_clinic(closures={"public_holidays": "ENG",
                                       "dates": [{"from": "2026-12-04", "to": "2026-12-05", "name": "Staff training"}]})
    scheduler = BuiltinScheduler(clinic, diary)
    assert clinic.closed_for(date(2026, 12, 4)) == "Staff training"
    assert clinic.closed_for(date(2026, 12, 25)) == "Christmas Day"
    assert clinic.closed_for(date(2026, 12, 28)) == "Boxing Day (observed)"  # 26th is a Saturday
    for closed in (date(2026, 12, 4), date(2026, 12, 5), date(2026, 12, 25), date(2026, 12, 28)):
        assert day_slots(scheduler, closed) == {}, closed
    assert day_slots(scheduler, date(2026, 12, 29))  # open again
    # "soon" is two working days: from Thursday 3rd, Friday and Saturday are shut, so Monday and Tuesday
    thursday = datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert window_end(clinic, "soon", thursday) == datetime(2026, 12, 9, tzinfo=LONDON)
    # A patient asking for 10:00 on Christmas Day is told the clinic is closed, with the nearest free times
    christmas = look_up(scheduler, clinic, "routine", now=datetime(2026, 12, 21, 9, tzinfo=UTC), clock=time(10),
                        preference=_day(date(2026, 12, 25)))
    assert christmas is not None and christmas.exact is None and not christmas.open_then
    assert christmas.nearest and all(s.starts_at.astimezone(LONDON).date() not in (date(2026, 12, 25),
                                                                                  date(2026, 12, 28))
                                     for s in christmas.nearest)


def test_nothing_outside_a_calendar_is_offered_over_six_weeks(diary: str) -> None:
    """Every free slot over six weeks lies inside its practitioner's hours as the file writes them."""
    clinic = calendar_clinic(closures={"public_holidays": "ENG", "dates": ["2026-12-24"]})
    scheduler = BuiltinScheduler(clinic, diary)
    weekdays = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    by_id = {p["id"]: p for p in PRACTITIONERS}
    opening = clinic_data()["opening_hours"]
    slots = scheduler.available_slots(MONDAY_7AM, MONDAY_7AM + timedelta(weeks=6))
    assert len(slots) > 300
    for slot in slots:
        start, end = slot.starts_at.astimezone(LONDON), slot.ends_at.astimezone(LONDON)
        wanted = by_id[slot.practitioner_id]
        day = weekdays[start.weekday()]

        def inside(ranges: list[str], start: datetime = start, end: datetime = end) -> bool:
            return any(r[:5] <= f"{start:%H:%M}" and f"{end:%H:%M}" <= r[6:] for r in ranges)

        assert inside(wanted["working_hours"].get(day, [])) and inside(opening.get(day, [])), slot
        assert not any(r[:5] < f"{end:%H:%M}" and f"{start:%H:%M}" < r[6:] for r in wanted.get("breaks", []))
        assert start.date() not in (date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 28))
        assert not (slot.practitioner_id == "anna" and date(2026, 12, 1) <= start.date() <= date(2026, 12, 2))
        assert slot.practitioner_id != "cara"


def test_a_booked_time_blocks_only_its_practitioner_and_offers_skip_it(diary: str) -> None:
    clinic = calendar_clinic()
    scheduler = BuiltinScheduler(clinic, diary)
    first = next_slots(scheduler, clinic, "routine", now=MONDAY_7AM)
    assert [f"{s.starts_at.astimezone(LONDON):%a %H:%M}" for s in first] == ["Mon 09:30", "Mon 10:15", "Mon 11:00"]
    scheduler.book(first[0], Patient("Sam", "Taylor", phone="+447700900123"), notes="", conversation_id="c1")
    again = next_slots(scheduler, clinic, "routine", now=MONDAY_7AM)
    assert again[0].starts_at == first[1].starts_at  # Anna's 09:30 went; nobody else works Monday mornings


def test_practitioner_hours_follow_the_clocks_changing(diary: str) -> None:
    """09:00-10:00 local on both sides of the spring change is 09:00 UTC in winter, 08:00 UTC in summer."""
    clinic = make_clinic(
        opening_hours={"saturday": ["08:00-12:00"], "monday": ["08:00-12:00"]},
        practitioners=[{"id": "anna", "name": "Anna", "working_hours": {"saturday": ["09:00-10:00"],
                                                                         "monday": ["09:00-10:00"]}}],
        appointment_types=[{"id": "initial", "name": "Initial", "minutes": 60, "bot_may_offer": True}])
    scheduler = BuiltinScheduler(clinic, diary)
    saturday = scheduler.available_slots(datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 29, tzinfo=UTC))
    monday = scheduler.available_slots(datetime(2026, 3, 30, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
    assert [s.starts_at.hour for s in saturday] == [9] and [s.starts_at.hour for s in monday] == [8]


@pytest.mark.parametrize(("practitioner", "message"), [
    ({"working_hours": {"monday": ["9-5"]}}, "practitioners.anna.working_hours.monday: '9-5' is not HH:MM-HH:MM"),
    ({"working_hours": {"moonday": ["09:00-12:00"]}}, "practitioners.anna.working_hours: 'moonday' is not a weekday"),
    ({"working_hours": {"monday": ["09:00-12:00"]}, "breaks": ["14:00-13:00"]},
     "practitioners.anna.breaks: '14:00-13:00' ends before it starts"),
    ({"breaks": ["12:00-12:30"]}, "practitioners.anna.breaks: give working_hours too"),
    ({"leave": ["next week"]}, "practitioners.anna.leave: 'next week' is not a date"),
    ({"leave": [{"from": "2026-12-10", "to": "2026-12-01"}]}, "practitioners.anna.leave: 2026-12-10 to 2026-12-01"),
    ({"appointment_types": ["massage"]}, "practitioners.anna.appointment_types: massage not defined"),
    ({"holidays": ["2026-12-01"]}, "practitioners: unknown field(s) holidays"),
])
def test_calendar_mistakes_are_named(tmp_path: Path, practitioner: dict, message: str) -> None:
    path = tmp_path / "clinic.yml"
    path.write_text(yaml.safe_dump(clinic_data(practitioners=[{"id": "anna", "name": "Anna", **practitioner}])))
    with pytest.raises(ClinicConfigError) as error:
        load_clinic(path)
    assert message in str(error.value)


@pytest.mark.parametrize(("changes", "message"), [
    ({"closures": {"public_holidays": "Yorkshire"}}, "closures.public_holidays: 'Yorkshire' is not a region of GB"),
    ({"closures": {"dates": ["2026-13-01"]}}, "closures.dates: '2026-13-01' is not a date"),
    ({"closures": ["2026-12-25"]}, "closures: must be a mapping"),
    ({"practitioners": [{"id": "cara", "name": "Cara", "appointment_types": ["follow_up"]}]},
     "practitioners: nobody gives 'initial' appointments"),
])
def test_closure_and_type_mistakes_are_named(tmp_path: Path, changes: dict, message: str) -> None:
    path = tmp_path / "clinic.yml"
    path.write_text(yaml.safe_dump(clinic_data(**changes)))
    with pytest.raises(ClinicConfigError) as error:
        load_clinic(path)
    assert message in str(error.value)


def _day(day: date) -> object:
    from bot.booking.offer import Preference

    return Preference(day=day)
