"""Opening hours and practitioners' calendars to candidate slot times, in the clinic's time zone (DST included).

A day's hours come from `Clinic.hours_on`: the clinic's opening hours, or a practitioner's own
working hours within them less their breaks, and nothing on a closure, a public holiday the
clinic shuts for, or a practitioner's leave.

Local wall-clock times are turned into UTC with zoneinfo; a wall-clock time that does not
exist (the hour skipped when clocks go forward) is dropped, and an ambiguous one (the hour
repeated when clocks go back) is taken the first time it happens (fold=0).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

from bot.clinic import Clinic, Practitioner

UTC = timezone.utc


def is_open_day(clinic: Clinic, day: date) -> bool:
    return bool(clinic.hours_on(day))


def local_starts(clinic: Clinic, day: date, minutes: int,
                 practitioner: Practitioner | None = None) -> Iterator[datetime]:
    """Start times (aware UTC) on one local day for an appointment of `minutes`, back to back from the start
    of each range of hours (the clinic's, or the practitioner's when given)."""
    tz, length = clinic.tz, timedelta(minutes=minutes)
    for opens, closes in clinic.hours_on(day, practitioner):
        start, end = datetime.combine(day, opens), datetime.combine(day, closes)
        while start + length <= end:
            aware = start.replace(tzinfo=tz)
            if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == start:  # skips nonexistent times
                yield aware.astimezone(UTC)
            start += length


def window_end(clinic: Clinic, level: str, now: datetime) -> datetime:
    """The end of the lead time for a triage level: the close of the Nth open day after today (local)."""
    days = clinic.lead_times[level]
    day = now.astimezone(clinic.tz).date()
    while days > 0:
        day += timedelta(days=1)
        if is_open_day(clinic, day):
            days -= 1
    return datetime.combine(day + timedelta(days=1), datetime.min.time()).replace(tzinfo=clinic.tz).astimezone(UTC)


def earliest_start(clinic: Clinic, now: datetime) -> datetime:
    return now.astimezone(UTC) + timedelta(minutes=clinic.min_notice_minutes)


def days_between(clinic: Clinic, start: datetime, end: datetime) -> Iterator[date]:
    """Local dates touched by [start, end)."""
    day, last = start.astimezone(clinic.tz).date(), end.astimezone(clinic.tz).date()
    while day <= last:
        yield day
        day += timedelta(days=1)
