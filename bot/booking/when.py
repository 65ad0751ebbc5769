"""What a patient's words say about when: "the 6.30 one", "half six", "Thursday after 4", "the 9th".

Clock phrases are turned into digits first (British ones included: "half six" is 6:30), then the
clock times, bounds ("after 4", "not before 10") and slot picks ("the second", "the last one")
are read here, and whatever is left goes to dateparser for the day ("tomorrow", "9 December",
"in two weeks"). Nothing here knows the diary: `bot.booking.choose` decides what the words mean
against the times offered and the clinic's hours, and asks when they could mean two things.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time, timedelta

from dateparser.search import search_dates

from bot.clinic import WEEKDAYS

NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
ORDINAL_WORDS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "earliest": 0, "middle": 1}
PARTS = {"morning": "morning", "mornings": "morning", "afternoon": "afternoon", "afternoons": "afternoon",
         "evening": "evening", "evenings": "evening", "tonight": "evening", "lunchtime": "afternoon"}
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_HOUR = r"(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d{1,2})"
# "half six", "half past six", "quarter to 6", "twenty past 5", "six thirty", "noon", "6 o'clock" -> digits
CLOCK_WORDS: tuple[tuple[re.Pattern[str], object], ...] = (
    (re.compile(r"\b(noon|midday)\b"), lambda m: "12:00"),
    (re.compile(rf"\bhalf(?: past)? {_HOUR}\b"), lambda m: f"{_n(m[1])}:30"),
    (re.compile(rf"\b(?:a )?quarter past {_HOUR}\b"), lambda m: f"{_n(m[1])}:15"),
    (re.compile(rf"\b(?:a )?quarter to {_HOUR}\b"), lambda m: f"{(_n(m[1]) - 1) or 12}:45"),
    (re.compile(rf"\b(ten|twenty|five|twenty[- ]five) past {_HOUR}\b"),
     lambda m: f"{_n(m[2])}:{_MINUTES[m[1].replace('-', ' ')]:02d}"),
    (re.compile(rf"\b(ten|twenty|five|twenty[- ]five) to {_HOUR}\b"),
     lambda m: f"{(_n(m[2]) - 1) or 12}:{60 - _MINUTES[m[1].replace('-', ' ')]:02d}"),
    (re.compile(rf"\b{_HOUR} (fifteen|thirty|forty[- ]five|o'?clock)\b"),
     lambda m: f"{_n(m[1])}:{ {'fifteen': 15, 'thirty': 30, 'oclock': 0}.get(m[2].replace(chr(39), ''), 45):02d}"),
    (re.compile(rf"\b{_HOUR}\s*o'?clock\b"), lambda m: f"{_n(m[1])}:00"),
)
_MINUTES = {"five": 5, "ten": 10, "twenty": 20, "twenty five": 25}
# 18:30, 6.30, 6:30pm, 6pm, 6 p.m., 10am; the minutes must be a real minute (so 3.5 is not a time)
CLOCK = re.compile(r"\b([01]?\d|2[0-3])(?:[:.]([0-5]\d))?\s*(am|pm|a\.m\.?|p\.m\.?)?(?![\w:.]*\d)")
TIME_CONTEXT = re.compile(r"\b(at|for|around|about|from|after|before|till|until|by|than|do|say|make it|ish)\s*$")
BOUND = re.compile(r"\b(not before|no earlier than|not earlier than|from|after|later than|not after|no later than|"
                   r"not later than|before|by|until|till|up to)\s*$")
LOWER_BOUNDS = ("not before", "no earlier than", "not earlier than", "from", "after", "later than")
PICK = re.compile(r"\b(?:the\s+)?(first|second|third|fourth|fifth|earliest|middle|last|latest|final)\b"
                  r"|\b(?:number|no\.?|option|#)\s*(\d)\b|\bthe\s+(\d)(?:st|nd|rd|th)?\s+(?:one|option|slot|time)\b")
ORDINAL_DATE = re.compile(r"\b(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)\b(?!\s*(?:one|option|slot|time)\b)")
LATER = re.compile(r"\b(later|other times?|anything else|something else|more (?:times|options|slots)|none of"
                   r" (?:those|these|them)|different time|another time)\b")
OTHER_DAY = re.compile(r"\b(another|other|different) day\b")
REFERS = re.compile(r"\b(?:the|that) (?:[\w.:']+ )?one\b")
NEXT_WEEK = re.compile(r"\b(next|following) week\b|\bweek after\b")
WEEKDAY = re.compile(r"\b(next |this |on |a )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)(s)?"
                     r"( week)?\b")
_MONTH = "(?:" + "|".join(MONTHS) + r")\w*"
DAY_WORDS = re.compile(r"\b(today|tomorrow|tmrw|tommorow|day after tomorrow|in \w+ (?:days?|weeks?)|"
                       rf"\d{{1,2}}(?:st|nd|rd|th)?(?: of)? {_MONTH}|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?|"
                       r"\d{1,2}/\d{1,2}(?:/\d{2,4})?)\b")


@dataclass(frozen=True)
class Clock:
    """A wall-clock time as said: `hour` 0-23 and whether am/pm (or the 24-hour clock) fixed it."""

    hour: int
    minute: int
    fixed: bool

    def readings(self) -> tuple[time, ...]:
        """The times it can mean: '6.30' is 06:30 or 18:30, '18:30' and '6.30pm' only one."""
        if self.fixed or self.hour == 0 or self.hour >= 13:
            return (time(self.hour, self.minute),)
        if self.hour == 12:
            return (time(12, self.minute),)
        return time(self.hour, self.minute), time(self.hour + 12, self.minute)


@dataclass(frozen=True)
class Said:
    """Everything one message says about when; all None/False when it says nothing about it."""

    pick: int | None = None  # 0-based index into the times offered; -1 is the last
    clock: Clock | None = None  # a particular time: "the 6.30 one", "18:30"
    day: date | None = None  # a particular date: "tomorrow", "the 9th", "next Tuesday"
    weekday: int | None = None  # "Fridays", "on Friday" (the next one, or any, for a preference)
    from_day: date | None = None  # "next week": from its Monday
    part_of_day: str | None = None
    not_before: Clock | None = None
    not_after: Clock | None = None
    later: bool = False
    other_day: bool = False
    pick_or_day: bool = False  # "the 2nd": the second time offered, or the 2nd of the month
    refers: bool = False  # "the one on Wednesday", "the Friday one": one of the times offered

    @property
    def anything(self) -> bool:
        return self != Said()

    @property
    def about_day(self) -> bool:
        return any(v is not None for v in (self.day, self.weekday, self.from_day))

    @property
    def about_time_of_day(self) -> bool:
        return any(v is not None for v in (self.part_of_day, self.not_before, self.not_after))


def _n(word: str) -> int:
    return NUMBER_WORDS[word] if word in NUMBER_WORDS else int(word)


def normalise(text: str) -> str:
    lowered = " ".join(text.lower().replace("’", "'").split())
    for pattern, replace in CLOCK_WORDS:
        lowered = pattern.sub(replace, lowered)  # type: ignore[arg-type]
    return lowered


def parse_when(text: str, today: date, offered: int = 0) -> Said:
    """Read `text` (a patient's reply to the times offered) with `today` the clinic's local date."""
    said: dict[str, object] = {}
    lowered = normalise(text)
    bare = lowered.strip(" .!?")
    if re.fullmatch(r"\d{1,2}", bare) or bare in NUMBER_WORDS:
        number = _n(bare)
        if 1 <= number <= max(offered, 1):
            return Said(pick=number - 1)
        bare = f"{number}:00"  # "5" when three times are offered: five o'clock
        lowered = bare
    rest = lowered
    for match in reversed(list(CLOCK.finditer(lowered))):
        hour, minute, meridiem = int(match[1]), match[2], (match[3] or "").replace(".", "")
        before = lowered[:match.start()]
        if not (minute or meridiem or TIME_CONTEXT.search(before) or re.match(r"\s*ish\b", lowered[match.end():])):
            continue  # a bare number ("the 2 of them", "3 weeks") is not a time
        if meridiem and hour > 12:
            continue
        if meridiem == "pm" and hour < 12:
            hour += 12
        elif meridiem == "am" and hour == 12:
            hour = 0
        clock = Clock(hour, int(minute or 0), bool(meridiem) or hour >= 13 or bool(minute and match[1][0] == "0"))
        bound = BOUND.search(before)
        if bound and bound[1] in LOWER_BOUNDS:
            said["not_before"] = clock
        elif bound:
            said["not_after"] = clock
        else:
            said["clock"] = clock
        rest = rest[:bound.start() if bound else match.start()] + " " + rest[match.end():]
    pick = PICK.search(rest)
    if pick:
        word = pick[1]
        if word in ("last", "latest", "final"):
            said["pick"] = -1
        elif word:
            said["pick"] = ORDINAL_WORDS[word]
        else:
            said["pick"] = int(pick[2] or pick[3]) - 1
        rest = rest[:pick.start()] + " " + rest[pick.end():]
    if REFERS.search(lowered):
        said["refers"] = True
    if LATER.search(rest):
        said["later"] = True
    if OTHER_DAY.search(rest):
        said["other_day"] = True
    if NEXT_WEEK.search(rest):
        said["from_day"] = today + timedelta(days=7 - today.weekday())
    weekday = WEEKDAY.search(rest)
    if weekday:
        index = WEEKDAYS.index(weekday[2])
        ahead = (index - today.weekday()) % 7
        if weekday[4]:  # "Monday week": a week after the coming Monday
            said["day"] = today + timedelta(days=ahead + 7)
        elif weekday[1] in ("next ", "this "):  # the coming one ("next Monday" said on a Monday: a week today)
            said["day"] = today + timedelta(days=ahead or (7 if weekday[1] == "next " else 0))
        else:
            said["weekday"] = index
        rest = rest[:weekday.start()] + " " + rest[weekday.end():]
    for word, part in PARTS.items():
        if re.search(rf"\b{word}\b", rest):
            said["part_of_day"] = part
            if word == "tonight" or re.search(rf"\bthis {word}\b", rest):
                said["day"] = today
    ordinal = ORDINAL_DATE.search(rest)
    if ordinal and not DAY_WORDS.search(rest):
        number = int(ordinal[1])
        if 1 <= number <= 31:
            said["day"] = _day_of_month(number, today)
            if number <= offered and "pick" not in said and not rest[ordinal.end():].strip().startswith("of"):
                said.update(pick_or_day=True, pick=number - 1)
    elif DAY_WORDS.search(rest):
        day = _dateparser_day(DAY_WORDS.search(rest)[0], today)  # type: ignore[index]
        if day:
            said["day"] = day
    return Said(**said)  # type: ignore[arg-type]


def _day_of_month(number: int, today: date) -> date | None:
    """'the 9th': this month's if still to come, else next month's (the 31st skips short months)."""
    year, month = today.year, today.month
    for _ in range(3):
        try:
            day = date(year, month, number)
        except ValueError:
            day = None
        if day and day >= today:
            return day
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _dateparser_day(phrase: str, today: date) -> date | None:
    """A day named in words or digits, in the future (dates are day-first: 3/12 is 3 December)."""
    from datetime import datetime

    phrase = phrase.replace("tmrw", "tomorrow").replace("tommorow", "tomorrow")
    found = search_dates(phrase, languages=["en"], settings={
        "RELATIVE_BASE": datetime.combine(today, time(12)), "PREFER_DATES_FROM": "future", "DATE_ORDER": "DMY"})
    if not found:
        return None
    day = found[0][1].date()
    if day < today:  # "3 December" said after it this year: next year's
        try:
            day = day.replace(year=day.year + 1)
        except ValueError:
            return None
    return day
