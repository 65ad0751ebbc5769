"""From what the patient said about when (bot.booking.when) to a choice, or to what to offer next.

A receptionist's rules: a time that was offered is taken; a time that could be two of the
offered ones ("the 9.30" on two days, "the 2nd") is asked about; a time not offered becomes the
next thing to look up (flow.offer proposes it when it is free, else the nearest free times); a
day or a part of the day narrows the next offer and keeps what was said before about the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time

from bot.booking.base import Slot
from bot.booking.offer import PARTS_OF_DAY, Preference
from bot.booking.when import Clock, Said
from bot.clinic import Clinic


@dataclass(frozen=True)
class Request:
    """What to offer next; kept between messages (bot.booking.state)."""

    preference: Preference = field(default_factory=Preference)
    after: datetime | None = None  # "later": past the last time offered
    other_day_than: datetime | None = None  # "another day": not the first offered time's day
    clocks: tuple[time, ...] = ()  # a time of day asked for; two when "8.30" could be morning or evening
    between: tuple[Slot, ...] = ()  # offered times the answer could mean: ask which
    or_day: date | None = None  # "the 2nd": the second time offered, or this date
    proposed: bool = False  # the one time offered is a proposal: "yes" takes it


@dataclass(frozen=True)
class Pick:
    index: int  # into the times offered


def choose(said: Said, offered: list[Slot], clinic: Clinic, previous: Request) -> Pick | Request | None:
    """The offered time the words pick, the request for what to offer next, or None when they say nothing."""
    if not said.anything:
        return None
    if said.pick_or_day and said.day and len(offered) > 1:
        return Request(previous.preference, between=(offered[_index(said, offered)],), or_day=said.day)
    if said.pick is not None and said.clock is None and not said.about_day:
        index = _index(said, offered)
        return Pick(index) if 0 <= index < len(offered) else None
    day_wish = _day_wish(said, previous.preference)
    if said.clock is not None or (previous.clocks and said.part_of_day and len(previous.clocks) > 1):
        readings = _readings(said.clock, clinic, day_wish) if said.clock else previous.clocks
        if said.part_of_day and len(readings) > 1:  # "8.30" then "in the evening"
            low, high = PARTS_OF_DAY[said.part_of_day]
            readings = tuple(t for t in readings if low <= t.hour < high) or readings
        matches = [i for i, s in enumerate(offered) if _local(s, clinic).time() in readings
                   and _same_day(s, clinic, day_wish)]
        if len(matches) == 1:
            return Pick(matches[0])
        if matches:
            return Request(day_wish, between=tuple(offered[i] for i in matches))
        return Request(day_wish, clocks=readings)
    if said.refers and said.about_day and not said.about_time_of_day:  # "the one on Wednesday"
        matches = [i for i, s in enumerate(offered) if _same_day(s, clinic, day_wish)]
        if len(matches) == 1:
            return Pick(matches[0])
        if matches:
            return Request(day_wish, between=tuple(offered[i] for i in matches))
    if said.later:
        last = offered[-1].starts_at if offered else previous.after
        return replace(previous, after=last, clocks=(), between=(), or_day=None, proposed=False)
    if said.other_day:
        first = offered[0].starts_at if offered else previous.other_day_than
        return Request(previous.preference, other_day_than=first)
    if said.about_day or said.about_time_of_day:
        return Request(_time_wish(said, day_wish, clinic))
    return None


def _index(said: Said, offered: list[Slot]) -> int:
    return len(offered) - 1 if said.pick == -1 else said.pick or 0


def _day_wish(said: Said, previous: Preference) -> Preference:
    """The days asked for now, or those asked for before when this message names none."""
    if not said.about_day:
        return previous
    return replace(previous, day=said.day, weekday=said.weekday if said.day is None else None, from_day=said.from_day)


def _time_wish(said: Said, wish: Preference, clinic: Clinic) -> Preference:
    if not said.about_time_of_day:
        return wish
    return replace(wish, part_of_day=said.part_of_day,
                   not_before=_bound(said.not_before, clinic), not_after=_bound(said.not_after, clinic))


def _readings(clock: Clock, clinic: Clinic, wish: Preference) -> tuple[time, ...]:
    """The readings the clinic is open at (on the day asked for, if any); all of them when none is."""
    readings = clock.readings()
    for days in (wish, Preference()):  # open on the day asked for, else on any day ("Sunday at 10": closed)
        open_ones = tuple(t for t in readings if _open_at(clinic, t, days))
        if open_ones:
            return open_ones
    return readings


def _bound(clock: Clock | None, clinic: Clinic) -> time | None:
    if clock is None:
        return None
    return _readings(clock, clinic, Preference())[0]


def _open_at(clinic: Clinic, moment: time, wish: Preference) -> bool:
    if wish.day is not None:
        days: tuple[int, ...] = (wish.day.weekday(),)
    elif wish.weekday is not None:
        days = (wish.weekday,)
    else:
        days = tuple(clinic.opening_hours)
    return any(opens <= moment < closes for d in days for opens, closes in clinic.opening_hours.get(d, ()))


def _same_day(slot: Slot, clinic: Clinic, wish: Preference) -> bool:
    return Preference(day=wish.day, weekday=wish.weekday, from_day=wish.from_day).matches(slot, clinic)


def _local(slot: Slot, clinic: Clinic) -> datetime:
    return slot.starts_at.astimezone(clinic.tz)
