"""Times and days as patients say them, through the booking conversation (the Chat helper, a real
SQLite diary). Each row: what was said before (None: the first offer), what the patient says, and
what a receptionist would do: take an offered time, propose a free one that wasn't offered, give
the nearest free times, offer what matches, or ask when the answer could mean two times."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from bot.booking import Patient, chat
from bot.booking.builtin import BuiltinScheduler
from bot.booking.flow import offer
from bot.booking.state import BookingState
from tests.booking.clinics import make_clinic
from tests.booking.test_conversation import MONDAY_7AM, Chat
from tests.console.fixtures import fresh_sqlite

UTC = timezone.utc
MORNING = None  # the first offer on Monday 30 November 2026 at 07:00: Mon 30 09:30, 10:15, 11:00
WEDNESDAY_EVENING = "wednesday evening"  # Wed 02 17:00, 17:45, 18:30 (the issue's example)
EVENINGS = "evenings"  # Mon 30 17:15, Tue 01 17:00, Wed 02 17:00

PICK, PROPOSE, OFFER, NEAREST, ASK = "pick", "propose", "offer", "nearest", "ask"
# What each kind of answer says: a read of the message, beside the times it holds.
SAYS = {PROPOSE: "is free. Shall I book it", OFFER: "Here are the next free times", NEAREST: "nearest free times",
        ASK: "Do you mean"}

PHRASINGS: list[tuple[str | None, str, str, str | list[str]]] = [
    # the issue's report: offered 17:00, 17:45 and 18:30
    (WEDNESDAY_EVENING, "the 6.30 one", PICK, "Wed 02 18:30"),
    (WEDNESDAY_EVENING, "6.30", PICK, "Wed 02 18:30"),
    (WEDNESDAY_EVENING, "half six", PICK, "Wed 02 18:30"),
    (WEDNESDAY_EVENING, "18:30", PICK, "Wed 02 18:30"),
    (WEDNESDAY_EVENING, "6:30pm", PICK, "Wed 02 18:30"),
    (WEDNESDAY_EVENING, "6.30pm please", PICK, "Wed 02 18:30"),
    (WEDNESDAY_EVENING, "18:30 on wednesday", PICK, "Wed 02 18:30"),
    (WEDNESDAY_EVENING, "can I have half past six", PICK, "Wed 02 18:30"),
    (WEDNESDAY_EVENING, "the last one", PICK, "Wed 02 18:30"),
    (WEDNESDAY_EVENING, "the second", PICK, "Wed 02 17:45"),
    (WEDNESDAY_EVENING, "the first one", PICK, "Wed 02 17:00"),
    (WEDNESDAY_EVENING, "the middle one", PICK, "Wed 02 17:45"),
    (WEDNESDAY_EVENING, "the earliest", PICK, "Wed 02 17:00"),
    (WEDNESDAY_EVENING, "2", PICK, "Wed 02 17:45"),
    (WEDNESDAY_EVENING, "number 3", PICK, "Wed 02 18:30"),
    (WEDNESDAY_EVENING, "three", PICK, "Wed 02 18:30"),
    (WEDNESDAY_EVENING, "quarter to six", PICK, "Wed 02 17:45"),
    (WEDNESDAY_EVENING, "5 o'clock", PICK, "Wed 02 17:00"),
    (WEDNESDAY_EVENING, "five", PICK, "Wed 02 17:00"),
    (WEDNESDAY_EVENING, "five o'clock", PICK, "Wed 02 17:00"),
    (WEDNESDAY_EVENING, "7.15", PROPOSE, "Wed 02 19:15"),
    (WEDNESDAY_EVENING, "have you got a quarter past 7", PROPOSE, "Wed 02 19:15"),
    # the first offer of the day
    (MORNING, "10.15", PICK, "Mon 30 10:15"),
    (MORNING, "the 10:15 one", PICK, "Mon 30 10:15"),
    (MORNING, "11", PICK, "Mon 30 11:00"),
    (MORNING, "9.30", PICK, "Mon 30 09:30"),
    (MORNING, "half nine", PICK, "Mon 30 09:30"),
    (MORNING, "quarter past ten", PICK, "Mon 30 10:15"),
    (MORNING, "eleven o'clock", PICK, "Mon 30 11:00"),
    (MORNING, "11am", PICK, "Mon 30 11:00"),
    (MORNING, "the last one", PICK, "Mon 30 11:00"),
    (MORNING, "the 2nd one", PICK, "Mon 30 10:15"),
    (MORNING, "1", PICK, "Mon 30 09:30"),
    (MORNING, "the 2nd", ASK, ["Mon 30 10:15"]),  # the second time, or Wednesday 2 December?
    (MORNING, "18:30 on wednesday", PROPOSE, "Wed 02 18:30"),
    (MORNING, "no I wanted 6.30pm", PROPOSE, "Wed 02 18:30"),
    (MORNING, "half six", PROPOSE, "Wed 02 18:30"),  # 06:30 is before opening: the evening
    (MORNING, "quarter to six", NEAREST, ["Mon 30 15:45", "Mon 30 16:30", "Mon 30 17:15"]),  # not a start time
    (MORNING, "friday at 2", PROPOSE, "Fri 04 14:00"),
    (MORNING, "8", PROPOSE, "Tue 01 08:00"),  # 08:00 today is too soon; 20:00 is after closing
    (MORNING, "tomorrow at 11:45", PROPOSE, "Tue 01 11:45"),
    (MORNING, "at 10", NEAREST, ["Mon 30 09:30", "Mon 30 10:15", "Mon 30 11:00"]),  # no slot starts at 10:00
    (MORNING, "6pm", NEAREST, ["Wed 02 17:00", "Wed 02 17:45", "Wed 02 18:30"]),
    (MORNING, "sunday at 10", NEAREST, ["Sat 05 11:15", "Sat 05 12:00", "Mon 07 08:00"]),  # closed on Sundays
    (MORNING, "tomorrow afternoon", OFFER, ["Tue 01 12:30", "Tue 01 13:15", "Tue 01 14:00"]),
    (MORNING, "Thursday after 4", OFFER, ["Thu 03 16:15", "Thu 03 17:00", "Thu 10 16:15"]),
    (MORNING, "next week", OFFER, ["Mon 07 08:00", "Mon 07 08:45", "Mon 07 09:30"]),
    (MORNING, "the 9th", OFFER, ["Wed 09 08:00", "Wed 09 08:45", "Wed 09 09:30"]),
    (MORNING, "not before 10", OFFER, ["Mon 30 10:15", "Mon 30 11:00", "Mon 30 11:45"]),
    (MORNING, "any time Friday", OFFER, ["Fri 04 08:00", "Fri 04 08:45", "Fri 04 09:30"]),
    (MORNING, "tomorrow", OFFER, ["Tue 01 08:00", "Tue 01 08:45", "Tue 01 09:30"]),
    (MORNING, "tomorrow morning", OFFER, ["Tue 01 08:00", "Tue 01 08:45", "Tue 01 09:30"]),
    (MORNING, "this afternoon", OFFER, ["Mon 30 13:30", "Mon 30 14:15", "Mon 30 15:00"]),
    (MORNING, "tonight", OFFER, ["Mon 30 17:15"]),
    (MORNING, "wednesday", OFFER, ["Wed 02 08:00", "Wed 02 08:45", "Wed 02 09:30"]),
    (MORNING, "afternoons", OFFER, ["Mon 30 13:30", "Mon 30 14:15", "Mon 30 15:00"]),
    (MORNING, "evenings", OFFER, ["Mon 30 17:15", "Tue 01 17:00", "Wed 02 17:00"]),
    (MORNING, "before 11", OFFER, ["Mon 30 09:30", "Mon 30 10:15", "Tue 01 08:00"]),
    (MORNING, "anything after 3?", OFFER, ["Mon 30 15:00", "Mon 30 15:45", "Mon 30 16:30"]),
    (MORNING, "in two weeks", OFFER, ["Mon 14 08:00", "Mon 14 08:45", "Mon 14 09:30"]),  # past the lead time
    (MORNING, "monday week", OFFER, ["Mon 07 08:00", "Mon 07 08:45", "Mon 07 09:30"]),
    (MORNING, "next monday", OFFER, ["Mon 07 08:00", "Mon 07 08:45", "Mon 07 09:30"]),
    (MORNING, "9th december", OFFER, ["Wed 09 08:00", "Wed 09 08:45", "Wed 09 09:30"]),
    (MORNING, "3 dec", OFFER, ["Thu 03 08:00", "Thu 03 08:45", "Thu 03 09:30"]),
    (MORNING, "3/12", OFFER, ["Thu 03 08:00", "Thu 03 08:45", "Thu 03 09:30"]),
    (MORNING, "later", OFFER, ["Mon 30 11:45", "Mon 30 13:30", "Mon 30 14:15"]),
    (MORNING, "another day", OFFER, ["Tue 01 08:00", "Tue 01 08:45", "Tue 01 09:30"]),
    # after a preference: what was said about the day is kept
    (WEDNESDAY_EVENING, "after 6", OFFER, ["Wed 02 18:30", "Wed 02 19:15", "Wed 09 18:30"]),
    (EVENINGS, "the 5 o'clock one", ASK, ["Tue 01 17:00", "Wed 02 17:00"]),  # two days at 17:00
    (EVENINGS, "17:00 on tuesday", PICK, "Tue 01 17:00"),
    (EVENINGS, "the one on wednesday", PICK, "Wed 02 17:00"),
    (EVENINGS, "friday", OFFER, []),  # no Friday evenings: nothing matches, said so
]


@pytest.fixture(scope="module")
def diary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield fresh_sqlite(Path(tmp_path_factory.mktemp("diary")))


def offered(talk: Chat) -> list[str]:
    return [s.starts_at.astimezone(talk.clinic.tz).strftime("%a %d %H:%M") for s in talk.state.offered]


def chosen(talk: Chat) -> str | None:
    choice = talk.state.choice
    return choice.starts_at.astimezone(talk.clinic.tz).strftime("%a %d %H:%M") if choice else None


@pytest.mark.parametrize(("before", "said", "kind", "expected"), PHRASINGS,
                         ids=[f"{b or 'first offer'}: {s}" for b, s, _, _ in PHRASINGS])
def test_a_time_as_people_say_it(diary: str, before: str | None, said: str, kind: str,
                                 expected: str | list[str]) -> None:
    clinic = make_clinic()
    talk = Chat(clinic, BuiltinScheduler(clinic, diary))
    if before:
        talk.say(before)
    reply = talk.say(said, intent="deny" if said.startswith("no ") else "inform")
    if kind == PICK:
        assert (chosen(talk), talk.asked) == (expected, "booking_first_name"), reply
        return
    assert talk.asked == "booking_choice" and chosen(talk) is None, reply
    if kind == PROPOSE:
        assert offered(talk) == [expected] and SAYS[kind] in reply, reply
    elif kind == OFFER and not expected:
        assert "can't find a free time that matches" in reply
    else:
        assert offered(talk) == expected and SAYS[kind] in reply, reply


def test_there_are_at_least_sixty_phrasings() -> None:
    assert len({said for _, said, _, _ in PHRASINGS}) >= 60


def test_yes_to_a_proposed_time_takes_it_and_no_offers_others(diary: str) -> None:
    clinic = make_clinic()
    talk = Chat(clinic, BuiltinScheduler(clinic, diary))
    reply = talk.say("could I do 18:30 on wednesday")
    assert "Wednesday 2 December at 18:30 is free" in reply
    talk.say("yes please", intent="affirm")
    assert chosen(talk) == "Wed 02 18:30" and talk.asked == "booking_first_name"
    other = Chat(clinic, BuiltinScheduler(clinic, diary))
    other.say("18:30 on wednesday")
    assert "Here are the next free times" in other.say("no", intent="deny") and other.asked == "booking_choice"


def test_the_issue_read_back_no_i_wanted_6_30pm(diary: str) -> None:
    clinic = make_clinic()
    talk = Chat(clinic, BuiltinScheduler(clinic, diary))
    talk.say(WEDNESDAY_EVENING)
    talk.say("the first one")
    talk.say("Sam Taylor")
    talk.say("sam@example.com")
    assert "Wednesday 2 December at 17:00" in talk.said[-1]
    reply = talk.say("no I wanted 6.30pm", intent="deny")
    assert talk.asked == "booking_confirmed" and "Let me check" in reply
    assert "Wednesday 2 December at 18:30" in reply and "17:00" not in reply and "Sam Taylor" in reply


def test_a_taken_time_gets_the_nearest_free_times(tmp_path: Path) -> None:
    clinic = make_clinic()
    scheduler = BuiltinScheduler(clinic, fresh_sqlite(tmp_path))
    wednesday = scheduler.available_slots(datetime(2026, 12, 2, 18, 30, tzinfo=UTC),
                                          datetime(2026, 12, 2, 18, 31, tzinfo=UTC))
    assert len(wednesday) == len(clinic.practitioners)
    for number, slot in enumerate(wednesday):  # both physios' 18:30 goes to other patients
        scheduler.book(slot, Patient("Other", "Patient"), notes="", conversation_id=f"other-{number}")
    talk = Chat(clinic, scheduler)
    assert offered(talk) == ["Mon 30 09:30", "Mon 30 10:15", "Mon 30 11:00"]
    reply = talk.say("18:30 on wednesday")
    assert "no free appointment at 18:30 on Wednesday 2 December" in reply
    assert offered(talk) == ["Wed 02 17:00", "Wed 02 17:45", "Wed 02 19:15"] and talk.asked == "booking_choice"


def test_morning_or_evening_is_asked_when_the_clinic_is_open_at_both() -> None:
    clinic = make_clinic(opening_hours={day: ["07:00-22:00"] for day in
                                        ("monday", "tuesday", "wednesday", "thursday", "friday")})
    scheduler = BuiltinScheduler(clinic, "sqlite://")
    turn = chat.read(BookingState(asked="booking_choice"), "8.30 on tuesday", "inform", [], clinic, now=MONDAY_7AM)
    asked = offer(turn.state, clinic, scheduler, "routine", MONDAY_7AM)
    assert asked.messages[0].text == "Do you mean 08:30 or 20:30?"
    assert [b["title"] for b in asked.messages[0].buttons] == ["08:30", "20:30"]


def test_a_time_said_after_the_clocks_go_forward_is_the_local_time(diary: str) -> None:
    clinic = make_clinic()  # Europe/London: British Summer Time from Sunday 29 March 2026
    now = datetime(2026, 3, 30, 7, tzinfo=UTC)  # Monday 08:00 BST
    turn = chat.read(BookingState(asked="booking_choice"), "half six on wednesday", "inform", [], clinic, now=now)
    proposed = offer(turn.state, clinic, BuiltinScheduler(clinic, diary), "routine", now)
    [slot] = proposed.state.offered
    assert slot.starts_at == datetime(2026, 4, 1, 17, 30, tzinfo=UTC)  # 18:30 BST
    assert "Wednesday 1 April at 18:30 is free" in proposed.messages[0].text
