"""Which slots to offer: the next few within the lead time for the triage level, matching a preference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.booking.base import BookingProvider, Slot
from bot.booking.hours import earliest_start, window_end
from bot.clinic import WEEKDAYS, Clinic

OFFERED = 3
# Parts of the day a patient can ask for, by local start hour.
PARTS_OF_DAY = {"morning": (0, 12), "afternoon": (12, 17), "evening": (17, 24)}
# Past the lead time the patient may still ask for later days, up to this many extra weeks.
LATER_WEEKS = 4


@dataclass(frozen=True)
class Preference:
    part_of_day: str | None = None  # morning | afternoon | evening
    weekday: int | None = None  # 0 = Monday

    def matches(self, slot: Slot, clinic: Clinic) -> bool:
        local = slot.starts_at.astimezone(clinic.tz)
        if self.weekday is not None and local.weekday() != self.weekday:
            return False
        if self.part_of_day:
            low, high = PARTS_OF_DAY[self.part_of_day]
            return low <= local.hour < high
        return True

    def describe(self) -> str:
        """' on Friday afternoon', ' in the morning', or '' with no preference."""
        if self.weekday is not None:
            return f" on {WEEKDAYS[self.weekday].capitalize()}{' ' + self.part_of_day if self.part_of_day else ''}"
        return f" in the {self.part_of_day}" if self.part_of_day else ""


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


def describe_slot(slot: Slot, clinic: Clinic) -> str:
    """'Tuesday 3 December at 09:45' in the clinic's time."""
    local = slot.starts_at.astimezone(clinic.tz)
    return f"{local:%A} {local.day} {local:%B} at {local:%H:%M}"
