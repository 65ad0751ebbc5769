"""Conversations read back from memory are always what the database holds (bot.tracker_cache).

Two stores on one database stand for two Rasa replicas; Rasa's own SQLTrackerStore reads the same
rows as the reference. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.store import session_scope
from bot.store.erasure import erase_conversation
from bot.tracker_store import ResilientSQLTrackerStore

pytest_plugins = ["tests.console.fixtures"]
pytestmark = pytest.mark.filterwarnings("ignore:Deprecated API features")  # Rasa's own SQLAlchemy 1.x style

DOMAIN = Domain.from_dict({"slots": {"age": {"type": "any", "mappings": [{"type": "custom"}]}}})


def run(coroutine):  # noqa: ANN001, ANN201 - the stores' coroutines
    return asyncio.run(coroutine)


def handle(store: ResilientSQLTrackerStore, sender: str, text: str, age: int | None = None) -> DialogueStateTracker:
    """One patient message as Rasa's processor handles it: read, add events, save."""
    tracker = run(store.get_or_create_tracker(sender))
    tracker.update(UserUttered(text, {"name": "inform", "confidence": 1.0}))
    if age is not None:
        tracker.update(SlotSet("age", age))
    tracker.update(BotUttered(f"you said {text}"))
    tracker.update(ActionExecuted("action_listen"))
    run(store.save(tracker))
    return tracker


def as_stored(tracker: DialogueStateTracker | None) -> list[dict]:
    return [] if tracker is None else [event.as_dict() for event in tracker.events]


def texts(tracker: DialogueStateTracker | None) -> list[str]:
    return [] if tracker is None else [e.text for e in tracker.events if isinstance(e, UserUttered)]


def rasa_reads(db_url: str, sender: str, full: bool = False) -> DialogueStateTracker | None:
    reference = SQLTrackerStore(DOMAIN, host=db_url)
    try:
        return run(reference.retrieve_full_tracker(sender) if full else reference.retrieve(sender))
    finally:
        reference.engine.dispose()


def test_replicas_alternating_read_every_message_and_write_each_event_once(db_url: str) -> None:
    first, second = ResilientSQLTrackerStore(DOMAIN, host=db_url), ResilientSQLTrackerStore(DOMAIN, host=db_url)
    said = [f"message {n}" for n in range(6)]
    for n, text in enumerate(said):
        handle((first, second)[n % 2], "alternating", text, age=30 + n)
    for store in (first, second):
        tracker = run(store.retrieve("alternating"))
        assert texts(tracker) == said
        assert tracker.get_slot("age") == 35
        assert as_stored(tracker) == as_stored(rasa_reads(db_url, "alternating"))


def test_a_new_session_reads_only_its_own_events_and_the_full_read_all(db_url: str) -> None:
    store = ResilientSQLTrackerStore(DOMAIN, host=db_url)
    handle(store, "sessions", "before the break", age=40)
    tracker = run(store.retrieve("sessions"))
    later = time.time()  # a session started after the stored events, as Rasa's session start does
    tracker.update(ActionExecuted("action_session_start", timestamp=later))
    tracker.update(SessionStarted(timestamp=later))
    tracker.update(ActionExecuted("action_listen", timestamp=later))
    run(store.save(tracker))
    handle(store, "sessions", "after the break")

    latest, full = run(store.retrieve("sessions")), run(store.retrieve_full_tracker("sessions"))
    assert texts(latest) == ["after the break"] and texts(full) == ["before the break", "after the break"]
    assert as_stored(latest) == as_stored(rasa_reads(db_url, "sessions"))
    assert as_stored(full) == as_stored(rasa_reads(db_url, "sessions", full=True))


def test_an_erased_conversation_is_not_read_back_from_memory(db_url: str) -> None:
    store = ResilientSQLTrackerStore(DOMAIN, host=db_url)
    handle(store, "erased", "my phone is 07700 900123")
    assert texts(run(store.retrieve("erased"))) == ["my phone is 07700 900123"]
    with session_scope(db_url) as session:
        assert erase_conversation(session, "erased").events > 0
    assert run(store.retrieve("erased")) is None
    handle(store, "erased", "hello again")
    assert texts(run(store.retrieve("erased"))) == ["hello again"]


def test_rows_written_by_another_writer_replace_what_was_kept(db_url: str) -> None:
    """Not only grown: the same number of rows, other ones (rewritten by something other than Rasa)."""
    store = ResilientSQLTrackerStore(DOMAIN, host=db_url)
    handle(store, "rewritten", "first words")
    with session_scope(db_url) as session:
        erase_conversation(session, "rewritten")
    other = ResilientSQLTrackerStore(DOMAIN, host=db_url)
    handle(other, "rewritten", "other words")
    assert texts(run(store.retrieve("rewritten"))) == ["other words"]
    assert as_stored(run(store.retrieve("rewritten"))) == as_stored(rasa_reads(db_url, "rewritten"))


def test_more_conversations_than_are_kept_are_all_read_correctly(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_CACHE_CONVERSATIONS", "2")
    store = ResilientSQLTrackerStore(DOMAIN, host=db_url)
    senders = [f"patient-{n}" for n in range(5)]
    for round_ in range(2):
        for sender in senders:
            handle(store, sender, f"{sender} round {round_}")
    for sender in senders:
        assert texts(run(store.retrieve(sender))) == [f"{sender} round 0", f"{sender} round 1"]


def test_kept_events_are_not_changed_by_what_a_message_does_to_its_tracker(db_url: str) -> None:
    store = ResilientSQLTrackerStore(DOMAIN, host=db_url)
    handle(store, "untouched", "hello", age=50)
    tracker = run(store.retrieve("untouched"))
    tracker.update(SlotSet("age", 51))  # handled, then the message fails before the save
    again = run(store.retrieve("untouched"))
    assert again.get_slot("age") == 50 and len(again.events) == len(tracker.events) - 1


def test_a_stored_row_without_an_event_type_is_skipped_as_rasa_skips_it(db_url: str) -> None:
    store = ResilientSQLTrackerStore(DOMAIN, host=db_url)
    handle(store, "odd-row", "hello")
    with store.session_scope() as session:
        session.add(store.SQLEvent(sender_id="odd-row", type_name="unknown", timestamp=time.time(), data="{}"))
        session.commit()
    assert as_stored(run(store.retrieve("odd-row"))) == as_stored(rasa_reads(db_url, "odd-row"))
    assert all(isinstance(e, Event) for e in run(store.retrieve("odd-row")).events)
