"""Which slots to offer: the next few within the lead time for the triage level, matching a preference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.booking.base import BookingProvider, Slot
from bot.booking.hours import earliest_start, window_end
from bot.clinic import Clinic

OFFERED = 3
# Parts of the day a patient can ask for, by local start hour.
PARTS_OF_DAY = {"morning": (0, 12), "afternoon": (12, 17), "evening": (17, 24)}
# Past the lead time the patient may still ask for later days, up to this many extra weeks.
LATER_WEEKS = 4


@dataclass(frozen=True)
class Preference:
    """Which times suit the patient: any of these left None means no wish about it."""

    part_of_day: str | None = None  # morning | afternoon | evening
    weekday: int | None = None  # 0 = Monday
    day: date | None = None  # one local date
    from_day: date | None = None  # that date or later ("next week")
    not_before: time | None = None  # local start times
    not_after: time | None = None  # starting before it

    def matches(self, slot: Slot, clinic: Clinic) -> bool:
        local = slot.starts_at.astimezone(clinic.tz)
        if self.weekday is not None and local.weekday() != self.weekday:
            return False
        if (self.day and local.date() != self.day) or (self.from_day and local.date() < self.from_day):
            return False
        if (self.not_before and local.time() < self.not_before) or (self.not_after and local.time() >= self.not_after):
            return False
        if self.part_of_day:
            low, high = PARTS_OF_DAY[self.part_of_day]
            return low <= local.hour < high
        return True


def next_slots(provider: BookingProvider, clinic: Clinic, level: str, *, now: datetime,
               preference: Preference | None = None, after: datetime | None = None,
               other_day_than: datetime | None = None, beyond_lead_time: bool = False) -> list[Slot]:
    """Up to three free slots, earliest first, one practitioner per time.

    `after` skips what was already offered ("later"); `other_day_than` skips that local day
    ("another day"). Only when the lead time has nothing left does `beyond_lead_time` look further.
    """
    start = max(earliest_start(clinic, now), after + timedelta(seconds=1) if after else earliest_start(clinic, now))
    end = window_end(clinic, level, now)
    if beyond_lead_time:
        end += timedelta(weeks=LATER_WEEKS)
    if start >= end:
        return []
    skip_day = other_day_than.astimezone(clinic.tz).date() if other_day_than else None
    chosen: list[Slot] = []
    for slot in sorted(provider.available_slots(start, end)):
        if preference and not preference.matches(slot, clinic):
            continue
        if skip_day and slot.starts_at.astimezone(clinic.tz).date() == skip_day:
            continue
        if chosen and chosen[-1].starts_at == slot.starts_at:
            continue  # the same time with another practitioner is not a different choice
        chosen.append(slot)
        if len(chosen) == OFFERED:
            break
    return chosen


@dataclass(frozen=True)
class Looked:
    """The answer to "have you got 18:30 on Wednesday?": the free slot then, or the nearest free ones."""

    wanted: datetime  # the first moment that matched the wish (aware)
    exact: Slot | None
    nearest: tuple[Slot, ...]
    open_then: bool  # the clinic is open at `wanted` (so "taken", not "closed")


def look_up(provider: BookingProvider, clinic: Clinic, level: str, *, now: datetime, clock: time,
            preference: Preference) -> Looked | None:
    """The slot at `clock` on the first day the preference allows and the clinic is open then, when it is
    free; otherwise the free slots nearest to that moment.

    Looks within the lead time, and up to the day asked for when that is beyond it. None when the
    diary has nothing at all to offer in that time.
    """
    start, end = earliest_start(clinic, now), window_end(clinic, level, now)
    if preference.day:
        end = max(end, datetime.combine(preference.day + timedelta(days=1), time(), clinic.tz))
    if start >= end:
        return None
    free: list[Slot] = []
    for slot in sorted(provider.available_slots(start, end)):
        if not free or free[-1].starts_at != slot.starts_at:
            free.append(slot)
    days = Preference(day=preference.day, weekday=preference.weekday, from_day=preference.from_day)
    first_day, last_day = start.astimezone(clinic.tz).date(), end.astimezone(clinic.tz).date()
    wanted: list[datetime] = []
    for offset in range((last_day - first_day).days + 1):
        moment = datetime.combine(first_day + timedelta(days=offset), clock, clinic.tz)
        probe = Slot(moment, moment, "", "")
        if start <= moment < end and days.matches(probe, clinic):
            wanted.append(moment)
    if not wanted:
        return None
    # The first time the clinic is open at that hour on an allowed day: that slot, or the ones around it
    target = next((m for m in wanted if _open_at(clinic, m)), wanted[0])
    exact = next((s for s in free if s.starts_at == target), None)  # aware datetimes: equal across zones
    if exact:
        return Looked(target, exact, (), True)
    nearest = sorted(sorted(free, key=lambda s: abs(s.starts_at - target))[:OFFERED])
    return Looked(target, None, tuple(nearest), _open_at(clinic, target))


def _open_at(clinic: Clinic, moment: datetime) -> bool:
    local = moment.astimezone(clinic.tz)
    return any(opens <= local.time() < closes for opens, closes in clinic.hours_on(local.date()))
