"""The conversation page's transcript reads as the patient saw the chat, over real HTTP.

Tapped quick replies show as the button's title, never as "/inform{...}"; the intent the website widget
sends unseen when it opens is not shown as typed; "New session" marks a later session only, before
its greeting. Once with events written as Rasa writes them, once with the real bot (scripts/serve).
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

from markupsafe import escape
from sqlalchemy import select

from bot.store.db import session_scope
from bot.store.models import Case
from bot.store.sync import sync_events
from tests.conftest import RunningBot
from tests.console import seed
from tests.console.fixtures import Console, add_users, new_case

pytest_plugins = ["tests.console.fixtures"]
INTRO = "Hi, I'm the virtual assistant of Riverside Physiotherapy. This is not a diagnosis."
SHOWN_INTRO = str(escape(INTRO))
TAPPED = re.compile(r'<li class="bubble patient">\s*<span class="who">Patient</span>\s*'
                    r'<p class="text tapped">([^<]*)</p>')


def transcript_of(page: str) -> str:
    return page[page.index('id="transcript-title"'):page.index('<div class="side">')]


def test_taps_show_as_titles_and_only_a_later_session_is_divided(console: Console) -> None:
    sender = f"widget-{uuid.uuid4().hex[:8]}"
    turns = [
        seed.Patient("/greet", intent="greet"),  # sent by the widget as it opens
        seed.Bot("Tell me what is wrong with your knee.", action="utter_greet"),
        seed.Patient("my knee aches on the stairs"),
        seed.Bot("Did it start with an injury, or come on gradually?",
                 [("An injury", '/inform{"onset":"injury"}'), ("Gradually", '/inform{"onset":"gradual"}')]),
        seed.Bot("You can also type the answer."),  # the buttons are on the message before this one
        seed.Patient('/inform{"onset": "gradual"}', intent="inform"),  # the same payload, spaced otherwise
        seed.Bot("How old are you?"),
        seed.Patient("29"),
    ]
    case_id = new_case(console.db_url, sender, turns, start=time.time() - 7200, intro=INTRO)
    seed.store(console.engine, sender, [seed.Patient("it is worse again today")], start=time.time() - 60,
               intro=INTRO)
    page = console.as_role("receptionist").get(console.url(f"/cases/{case_id}"), timeout=10)
    assert page.status_code == 200
    chat = transcript_of(page.text)
    assert "/greet" not in chat and "/inform" not in chat and "onset" not in chat
    assert TAPPED.findall(chat) == ["Gradually"]
    assert chat.count('class="divider"') == 1  # the second session only, not after the first greeting
    assert chat.index(SHOWN_INTRO) < chat.index("my knee aches") < chat.index('class="divider"') < chat.rindex(
        SHOWN_INTRO) < chat.index("it is worse again today")


def test_a_real_conversation_with_a_tap_reads_as_the_patient_saw_it(running_bot: RunningBot, tmp_path: Path) -> None:
    sender = f"transcript-{uuid.uuid4().hex[:8]}"
    running_bot.say(sender, "/greet")  # what the widget sends when it opens
    replies = running_bot.say(sender, "the outside of my knee hurts when I run downhill")
    button = next(m for m in reversed(replies) if m.get("buttons"))["buttons"][1]
    running_bot.say(sender, button["payload"])
    add_users(running_bot.database_url, "transcript-desk")  # a receptionist of this test's own
    with session_scope(running_bot.database_url) as session:
        sync_events(session)
        case_id = session.execute(select(Case.id).where(Case.conversation_id == sender)).scalar_one()
    console = Console(running_bot.console, running_bot.database_url, tmp_path / "unused.log")
    http = console.as_role("transcript-desk")
    chat = transcript_of(http.get(console.url(f"/cases/{case_id}"), timeout=10).text)
    assert "the outside of my knee hurts" in chat
    assert TAPPED.findall(chat) == [str(escape(button["title"]))]
    assert "/greet" not in chat and "/inform" not in chat
    assert 'class="divider"' not in chat and "New session" not in chat
