"""Nothing a patient types can poison storage (issue 9, item 2), on SQLite and PostgreSQL.

Conversations holding what Rasa's SQL tracker store accepts but our tables did not (a lone UTF-16
surrogate, NUL, control characters, 100,000 characters, odd sender ids, long input_channel values)
are written to the events table the way Rasa writes them; the case sync must carry on past them,
and the console's pages must keep working over real HTTP. A conversation that fails for another
reason (a database trigger here) is skipped, logged by event id only, and retried on later syncs.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from bot.store import record_case, request_callback, session_scope, transcript
from bot.store.db import get_engine, is_sqlite
from bot.store.models import Case, SyncState
from bot.store.queries import InboxFilter, count
from bot.store.safe_text import REPLACEMENT
from bot.store.sync import RETRY_PREFIX, sync_events
from tests.console import seed
from tests.console.fixtures import Console

pytest_plugins = ["tests.console.fixtures"]
pytestmark = pytest.mark.filterwarnings("ignore:Deprecated API features")  # Rasa's own SQLAlchemy 1.x style
UTC = ZoneInfo("UTC")

# Ten messages of 100,000 characters of distinct words: together far past PostgreSQL's 1 MB tsvector limit.
HUGE = [" ".join(f"w{n}x" for n in range(k * 15_000, (k + 1) * 15_000))[:100_000] for k in range(10)]
POISON_TEXTS = {
    "surrogate": "my knee \ud800 pain on the stairs",
    "nul": "my knee \x00 pain when kneeling",
    "controls": "my knee\x07\x1b[31m clicks \x7f\x01\x1f",
    "huge": HUGE[0],
}


def odd_senders(sqlite: bool) -> dict[str, str]:
    """Sender ids the tracker store accepts: PostgreSQL's VARCHAR(255) refuses longer ones and NUL."""
    senders = {"emoji": "patient-\U0001f9b5\U0001f3c3", "rtl": "\u0645\u0631\u064a\u0636-\u202eabc",
               "max-length": "m" * 255, "spaces": "  +44 7700 900123  ", "quote": "o'brien\"; drop table cases;--"}
    if sqlite:
        senders.update({"too-long": "L" * 1000, "nul-sender": "nul\x00sender", "control-sender": "bell\x07"})
    return senders


def rasa_writes(db_url: str, sender: str, turns: list, channel: str = "rest") -> None:
    """Save a conversation with Rasa's own SQLTrackerStore, as the running bot does."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(host=db_url)
    tracker = DialogueStateTracker.from_events(sender, seed.rasa_events(turns, start=time.time() - 600,
                                                                         channel=channel))
    asyncio.run(store.save(tracker))
    store.engine.dispose()


def write_poison(db_url: str) -> dict[str, str]:
    """Every poisoned conversation plus two clean ones around them; returns name -> sender id."""
    engine = get_engine(db_url)
    senders = {"clean-before": "clean-before"}
    seed.store(engine, "clean-before", seed.short("quokka knee ache before"))
    for name, words in POISON_TEXTS.items():
        senders[name] = f"poison-{name}"
        turns = seed.short(words) if name != "huge" else [seed.Patient(t) for t in HUGE] + seed.short("huge ends")
        rasa_writes(db_url, senders[name], turns)
    for name, sender in odd_senders(is_sqlite(engine)).items():
        senders[name] = sender
        seed.store(engine, sender, seed.short(f"odd sender {name} wombat"))
    for name, channel in {"long-channel": "c" * 300, "odd-channel": "wh\x00ats\ud800app"}.items():
        senders[name] = name
        rasa_writes(db_url, name, seed.short("channel numbat"), channel=channel)
    senders["clean-after"] = "clean-after"
    seed.store(engine, "clean-after", seed.short("quokka knee ache after"))
    return senders


def test_poisoned_conversations_are_synced_searchable_and_readable(db_url: str, engine: Engine) -> None:
    senders = write_poison(db_url)
    with session_scope(db_url) as session:
        assert sync_events(session) == len(senders)
        cases = {c.conversation_id: c for c in session.execute(select(Case)).scalars()}
        assert set(cases) == set(senders.values())
        assert count(session, InboxFilter(text="quokka"), UTC) == 2
        assert count(session, InboxFilter(text="wombat"), UTC) == len(odd_senders(is_sqlite(session)))
        assert count(session, InboxFilter(text="stairs"), UTC) == 1  # the surrogate's conversation
        assert count(session, InboxFilter(text="w14999x"), UTC) == 0  # past a message's clip in the search
        assert count(session, InboxFilter(text="w3x"), UTC) == count(session, InboxFilter(text="w15003x"), UTC) == 1
        surrogate = cases["poison-surrogate"]
        assert surrogate.first_message == f"my knee {REPLACEMENT} pain on the stairs"
        assert cases["poison-nul"].first_message == f"my knee {REPLACEMENT} pain when kneeling"
        assert len(cases["poison-huge"].first_message) == 1000
        assert cases["long-channel"].channel == "c" * 64
        assert cases["odd-channel"].channel == f"wh{REPLACEMENT}ats{REPLACEMENT}app"
        texts = [m.text for m in transcript.messages(session, "poison-surrogate")]
        assert f"my knee {REPLACEMENT} pain on the stairs" in texts
        assert transcript.messages(session, "poison-huge")[0].text == HUGE[0]
        assert not session.execute(select(SyncState.name).where(SyncState.name.like(f"{RETRY_PREFIX}%"))).all()
        # What the action server records from the same words is cleaned the same way.
        record_case(session, conversation_id="poison-surrogate", channel="rest\ud800" * 40,
                    answers={"pain\x00": ["front\ud800"]}, conditions=[("patellofemoral_pain", 0.7)],
                    triage_level="routine", red_flags=[], advice=["rest \x00"], reasons=["\ud800"])
        request_callback(session, "poison-nul", name="Sam\x00", phone="0770\ud800", reason="x" * 100_000)
    with session_scope(db_url) as session:
        case = session.execute(select(Case).where(Case.conversation_id == "poison-surrogate")).scalar_one()
        assert case.answers == {f"pain{REPLACEMENT}": [f"front{REPLACEMENT}"]} and len(case.channel) == 64


def install_tripwire(engine: Engine, word: str) -> None:
    """A trigger that makes any case whose first message holds `word` fail to update."""
    with engine.begin() as connection:
        if is_sqlite(engine):
            connection.execute(text(f"CREATE TRIGGER tripwire BEFORE UPDATE ON cases WHEN NEW.first_message "
                                    f"LIKE '%{word}%' BEGIN SELECT RAISE(ABORT, 'tripwire'); END"))
        else:
            connection.execute(text(f"CREATE FUNCTION tripwire() RETURNS trigger AS $$ BEGIN IF NEW.first_message "
                                    f"LIKE '%{word}%' THEN RAISE EXCEPTION 'tripwire'; END IF; RETURN NEW; END $$ "
                                    "LANGUAGE plpgsql"))
            connection.execute(text("CREATE TRIGGER tripwire BEFORE UPDATE ON cases FOR EACH ROW "
                                    "EXECUTE FUNCTION tripwire()"))


def remove_tripwire(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER tripwire" if is_sqlite(engine) else "DROP TRIGGER tripwire ON cases"))


def listed(db_url: str) -> set[str]:
    with session_scope(db_url) as session:
        return set(session.execute(select(Case.conversation_id).where(Case.first_message.is_not(None))).scalars())


def test_a_conversation_that_fails_is_skipped_logged_and_retried(db_url: str, engine: Engine,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    install_tripwire(engine, "tripwire")
    seed.store(engine, "before", seed.short("my knee hurts"))
    seed.store(engine, "+447700900999", seed.short("tripwire: my knee is swollen"))
    seed.store(engine, "after", seed.short("my other knee hurts"))
    with caplog.at_level(logging.WARNING, logger="bot.store.sync"), session_scope(db_url) as session:
        assert sync_events(session) == 2  # of three
    assert listed(db_url) == {"before", "after"}
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.store.sync"]
    assert len(warnings) == 1 and re.fullmatch(r"case sync skipped the conversation of event \d+ \(\w+, attempt 1\); "
                                               r"it will be retried", warnings[0]), warnings
    assert "swollen" not in caplog.text and "447700900999" not in caplog.text

    # Still failing: later conversations are synced all the same, and it is tried again each time.
    seed.store(engine, "later", seed.short("knee again"))
    with session_scope(db_url) as session:
        sync_events(session)
        assert sync_events(session) == 0  # nothing new, and the retry failed again
        attempts = session.execute(select(SyncState.value).where(SyncState.name.like(f"{RETRY_PREFIX}%"))).scalar_one()
        assert attempts == 3
    assert listed(db_url) == {"before", "after", "later"}

    remove_tripwire(engine)  # whatever made it fail is fixed: the next sync, with nothing new, lists it
    with session_scope(db_url) as session:
        assert sync_events(session) == 1
        assert not session.execute(select(SyncState.name).where(SyncState.name.like(f"{RETRY_PREFIX}%"))).all()
        assert count(session, InboxFilter(text="swollen"), UTC) == 1
    assert listed(db_url) == {"before", "after", "later", "+447700900999"}


# ---- the console over real HTTP, on both databases -------------------------------------------------------


def test_console_pages_keep_working_past_poisoned_rows(console_each_db: Console) -> None:
    console, http = console_each_db, console_each_db.as_role("admin")
    engine = get_engine(console.db_url)
    install_tripwire(engine, "tripwire")
    # Written after the console started, so the pages' own sync meets them.
    senders = write_poison(console.db_url)
    seed.store(engine, "stuck", seed.short("tripwire quokka"))
    with session_scope(console.db_url) as session:  # one of the clean ones needs attention
        record_case(session, conversation_id="clean-after", channel="rest", answers={},
                    conditions=[("fracture", 1.0)], triage_level="emergency", red_flags=["fracture"], advice=[],
                    reasons=[])
    for path in ("/inbox", "/attention", "/dashboard", "/inbox?q=quokka", "/inbox.csv"):
        page = http.get(console.base + path, timeout=30)
        assert page.status_code == 200, path
    inbox = http.get(console.base + "/inbox?q=quokka", timeout=30).text
    assert "quokka knee ache before" in inbox and "quokka knee ache after" in inbox and "2 conversations" in inbox
    assert "quokka knee ache after" in http.get(console.base + "/attention", timeout=30).text
    with session_scope(console.db_url) as session:
        ids = dict(session.execute(select(Case.conversation_id, Case.id)).all())
        assert set(senders.values()) <= set(ids) and "stuck" not in ids
    for name in ("surrogate", "nul", "controls", "huge", "emoji", "long-channel", "odd-channel", "clean-after"):
        case = http.get(f"{console.base}/cases/{ids[senders[name]]}", timeout=30)
        assert case.status_code == 200, name
        exported = http.get(f"{console.base}/cases/{ids[senders[name]]}/export.json", timeout=30)
        assert exported.status_code == 200 and exported.json()["conversation_id"] == senders[name], name
    surrogate_page = http.get(f"{console.base}/cases/{ids['poison-surrogate']}", timeout=30).text
    assert f"my knee {REPLACEMENT} pain on the stairs" in surrogate_page

    remove_tripwire(engine)
    assert "tripwire quokka" in http.get(console.base + "/inbox?q=quokka", timeout=30).text
    with session_scope(console.db_url) as session:
        assert session.execute(select(func.count(Case.id)).where(Case.conversation_id == "stuck")).scalar_one() == 1
    log = console.log.read_text()
    assert re.search(r"bot\.store\.sync WARNING case sync skipped the conversation of event \d+ \(\w+, attempt 1\)",
                     log)
    assert "Traceback" not in log and " 500 " not in log
    assert "stairs" not in log and "tripwire quokka" not in log and "447700" not in log
