"""bot.store against real databases: SQLite always, PostgreSQL too (each test runs on both)."""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.store import mark_booking, record_case, request_callback, session_scope, transcript
from bot.store.cases import add_correction, add_note, mark_reviewed
from bot.store.erasure import erase_conversation, erase_older_than
from bot.store.migrate import VERSION_TABLE, head_revision, include_object, migrate
from bot.store.models import AuditEntry, Callback, Case, Note, events, metadata
from bot.store.queries import InboxFilter, attention_page, count, inbox_page
from bot.store.stats import dashboard
from bot.store.sync import sync_events
from bot.store.users import UserError, authenticate, create_user, set_active, set_role
from tests.console import seed
from tests.console.fixtures import IN_CI, PG_URL, pg_reachable

pytest_plugins = ["tests.console.fixtures"]
UTC = ZoneInfo("UTC")
ROUTINE = seed.RUNNERS_KNEE_CASE


def outcome(level: str | None = "routine", condition: str = "patellofemoral_pain", flags: tuple[str, ...] = ()) -> dict:
    return dict(answers={"pain_location": "front"}, conditions=[(condition, 0.7), ("itb_syndrome", 0.1)],
                triage_level=level, red_flags=list(flags), advice=["rest"], reasons=["front of the knee"])


def case_of(session: Session, conversation_id: str) -> Case:
    return session.execute(select(Case).where(Case.conversation_id == conversation_id)).scalar_one()


def test_postgresql_is_reachable_in_ci() -> None:
    """In CI the PostgreSQL tests must run, not skip: this fails when the server is missing."""
    if not IN_CI:
        pytest.skip("only enforced in CI (CI=true)")
    assert pg_reachable(), f"PostgreSQL must be reachable at {PG_URL} in CI"


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")  # the search index on an expression
def test_migrations_are_repeatable_and_match_the_models(db_url: str, engine: Engine) -> None:
    assert migrate(db_url) == head_revision()  # second run: a no-op
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE,
                                                              "include_object": include_object})
        assert compare_metadata(context, metadata) == []
        names = set(connection.dialect.get_table_names(connection))
    assert {"events", "cases", "staff_users", "staff_sessions", "staff_notes", "corrections", "callbacks",
            "audit_log", "case_search", VERSION_TABLE} <= names


def test_record_case_upserts_by_conversation_and_keeps_the_start(db_url: str) -> None:
    with session_scope(db_url) as session:
        first = record_case(session, conversation_id="c1", channel="rest", first_message="my knee", **outcome(None))
        started, case_id = first.started_at, first.id
        assert first.completed_at is None and first.triage_level is None
    time.sleep(0.01)
    with session_scope(db_url) as session:
        again = record_case(session, conversation_id="c1", channel="rest", first_message="other", **ROUTINE)
        assert (again.id, again.started_at) == (case_id, started)
        assert again.ended_at > started and again.completed_at is not None
        assert again.first_message == "my knee"  # the first one stays
        assert again.top_condition == "patellofemoral_pain" and again.triage_level == "routine"
        assert again.conditions[0] == {"id": "patellofemoral_pain", "score": 0.71}
        assert session.execute(select(func.count(Case.id))).scalar_one() == 1
    with session_scope(db_url) as session, pytest.raises(ValueError):
        record_case(session, conversation_id="c1", channel="rest", **outcome("very_urgent"))


def test_attention_queue_order_and_what_clears_it(db_url: str) -> None:
    with session_scope(db_url) as session:
        record_case(session, conversation_id="flag", channel="rest", **outcome("soon", flags=("malignancy",)))
        record_case(session, conversation_id="fine", channel="rest", **outcome("routine"))
        record_case(session, conversation_id="urgent", channel="rest", **outcome("urgent"))
        record_case(session, conversation_id="emergency", channel="rest",
                    **outcome("emergency", "fracture", ("fracture",)))
        request_callback(session, "fine", name="Sam Patient", phone="07700 900123", preferred_time="am",
                         reason="talk to a person")
    with session_scope(db_url) as session:
        order = [c.conversation_id for c in attention_page(session).cases]
        assert order == ["emergency", "urgent", "fine", "flag"]
        mark_reviewed(session, case_of(session, "emergency"), "reception")
        mark_reviewed(session, case_of(session, "fine"), "reception")
        assert [c.conversation_id for c in attention_page(session).cases] == ["urgent", "flag"]
        assert case_of(session, "fine").callbacks[0].status == "done"
        # A changed outcome after review puts the case back; an unchanged one does not.
        record_case(session, conversation_id="emergency", channel="rest",
                    **outcome("emergency", "fracture", ("fracture",)))
        assert case_of(session, "emergency").attention_rank is None
        record_case(session, conversation_id="fine", channel="rest", **outcome("urgent"))
        assert case_of(session, "fine").reviewed_at is None and case_of(session, "fine").attention_rank == 1


def test_booking_callback_note_and_correction(db_url: str) -> None:
    with session_scope(db_url) as session:
        mark_booking(session, "new-conversation", "booked")  # creates the case
        with pytest.raises(ValueError):
            mark_booking(session, "new-conversation", "Booked!; drop table")
        with pytest.raises(ValueError):
            request_callback(session, "new-conversation", name=" ", phone="")
        case = case_of(session, "new-conversation")
        add_note(session, case, "reception", "Called back, booked Tuesday")
        add_correction(session, case, "dr", triage_level="soon", condition="meniscal_tear", comment="locking",
                       conditions=["meniscal_tear"])
        with pytest.raises(ValueError):
            add_correction(session, case, "dr", triage_level=None, condition=None, comment="", conditions=[])
    with session_scope(db_url) as session:
        case = case_of(session, "new-conversation")
        assert case.booked and case.notes[0].body == "Called back, booked Tuesday"
        assert (case.correction.triage_level, case.correction.condition) == ("soon", "meniscal_tear")
        assert case.triage_level is None  # the bot's outcome is kept as it was


def test_sync_builds_cases_from_rasa_events(db_url: str, engine: Engine) -> None:
    start = time.time() - 3600
    seed.store(engine, "runner", seed.RUNNERS_KNEE, start=start, channel="socketio")
    # Only a session start and no message (a widget opened and closed): not a conversation.
    seed.store(engine, "silent", [], start=start)
    with session_scope(db_url) as session:
        record_case(session, conversation_id="runner", channel="socketio", **ROUTINE)  # the action server first
        assert sync_events(session) == 2
        case = case_of(session, "runner")
        assert case.channel == "socketio" and case.first_message.startswith("hi, my right knee hurts")
        assert case.message_count == 13 and case.duration_seconds > 0
        # The action server created the row first; the conversation began with its first event.
        assert abs(case.started_at.replace(tzinfo=timezone.utc).timestamp() - start) < 1
        assert case.triage_level == "routine"  # the action server's columns are left alone
        assert session.execute(select(func.count(Case.id))).scalar_one() == 1
        assert sync_events(session) == 0  # nothing new
    # The conversation goes on: the next sync refreshes it.
    seed.store(engine, "runner", seed.short("thanks, and it clicks too"), start=time.time(), new_session=False)
    with session_scope(db_url) as session:
        assert sync_events(session) >= 1
        assert case_of(session, "runner").message_count == 15
        assert count(session, InboxFilter(text="clicks"), UTC) == 1


def test_search_matches_word_prefixes_and_ignores_query_syntax(db_url: str, engine: Engine) -> None:
    seed.store(engine, "stairs", seed.short("it hurts going down stairs after running"))
    seed.store(engine, "football", seed.short("twisted it playing football, heard a pop"))
    seed.store(engine, "tap", [seed.Patient('/inform{"stairs":true}')])  # a tapped payload is not searched
    with session_scope(db_url) as session:
        sync_events(session)

        def found(query: str) -> set[str]:
            page = inbox_page(session, InboxFilter(text=query), UTC)
            return {c.conversation_id for c in page.cases}

        assert found("stair") == {"stairs"}
        assert found("STAIRS running") == {"stairs"}
        assert found("stairs football") == set()
        assert found("pop") == {"football"}
        for hostile in ('"stairs', "stairs OR *", "NEAR(a b)", "'; drop table cases; --", "a:* & !b", "*"):
            found(hostile)  # no syntax error reaches the database
        assert found("!!!") == {"stairs", "football", "tap"}  # no words: no text filter


def test_inbox_filters(db_url: str) -> None:
    tz = ZoneInfo("Europe/London")
    with session_scope(db_url) as session:
        record_case(session, conversation_id="a", channel="rest", **outcome("routine"))
        record_case(session, conversation_id="b", channel="socketio",
                    **outcome("emergency", "fracture", ("fracture",)))
        record_case(session, conversation_id="c", channel="rest", **outcome(None))
        mark_booking(session, "a", "booked")
        mark_reviewed(session, case_of(session, "b"), "reception")
        case_of(session, "c").started_at -= timedelta(days=40)

    def ids(**kwargs: object) -> list[str]:
        with session_scope(db_url) as session:
            f = InboxFilter(**kwargs)
            page = inbox_page(session, f, tz)
            assert count(session, f, tz) == len(page.cases)
            return sorted(c.conversation_id for c in page.cases)

    assert ids() == ["a", "b", "c"]
    assert ids(level="emergency") == ["b"]
    assert ids(level="none") == ["c"]
    assert ids(condition="fracture") == ["b"]
    assert ids(channel="socketio") == ["b"]
    assert ids(booked=True) == ["a"] and ids(booked=False) == ["b", "c"]
    assert ids(reviewed=True) == ["b"] and ids(reviewed=False) == ["a", "c"]
    assert ids(red_flags_only=True) == ["b"]
    today = date.today()
    assert ids(since=today - timedelta(days=1)) == ["a", "b"]
    assert ids(until=today - timedelta(days=30)) == ["c"]
    assert ids(since=today - timedelta(days=1), level="routine", booked=True, channel="rest") == ["a"]


def test_keyset_pages_walk_every_case_once_both_ways(db_url: str, engine: Engine) -> None:
    base = time.time() - 86400
    with engine.begin() as connection:
        rows = []
        for i in range(23):
            # Three conversations share each start second, so the id must break ties.
            rows += seed.event_rows(f"p{i:02d}", seed.rasa_events(seed.short(f"message {i}"), start=base + i // 3))
        connection.execute(events.insert(), rows)
    with session_scope(db_url) as session:
        sync_events(session)
        seen, page = [], inbox_page(session, InboxFilter(), UTC, limit=5)
        pages = [page]
        while True:
            seen += [c.id for c in page.cases]
            if not page.older:
                break
            page = inbox_page(session, InboxFilter(), UTC, after=page.older, limit=5)
            pages.append(page)
        everything = [c.id for c in inbox_page(session, InboxFilter(), UTC, limit=100).cases]
        assert seen == everything and len(seen) == 23 and len(set(seen)) == 23
        starts = [session.get(Case, i).started_at for i in seen]
        assert starts == sorted(starts, reverse=True)
        # Back from the last page to the first through the `newer` cursors.
        back = pages[-1]
        for expected in reversed(pages[:-1]):
            back = inbox_page(session, InboxFilter(), UTC, before=back.newer, limit=5)
            assert [c.id for c in back.cases] == [c.id for c in expected.cases]
        assert back.newer is None


def test_erasure_removes_every_event_and_row_of_the_sender_only(db_url: str, engine: Engine) -> None:
    seed.store(engine, "erase-me", seed.RUNNERS_KNEE, start=time.time() - 7200)
    seed.store(engine, "erase-me", seed.short("back again"), start=time.time() - 60)  # a second session
    seed.store(engine, "keep-me", seed.short("my knee clicks"))
    with session_scope(db_url) as session:
        sync_events(session)
        record_case(session, conversation_id="erase-me", channel="rest", **ROUTINE)
        request_callback(session, "erase-me", name="Alex", phone="07700 900001")
        add_note(session, case_of(session, "erase-me"), "reception", "note")
        case_id = case_of(session, "erase-me").id
        erased = erase_conversation(session, "erase-me")
        assert erased.case_id == case_id and erased.events > 30
    with session_scope(db_url) as session:
        remaining = session.execute(select(events.c.sender_id, func.count()).group_by(events.c.sender_id)).all()
        assert dict(remaining) == {"keep-me": 7}
        assert session.execute(select(func.count(Case.id))).scalar_one() == 1
        for model in (Note, Callback):
            assert session.execute(select(func.count(model.id))).scalar_one() == 0
        assert count(session, InboxFilter(text="stairs"), UTC) == 0  # gone from the search index too
        assert count(session, InboxFilter(text="clicks"), UTC) == 1


def test_retention_erases_only_old_conversations(db_url: str, engine: Engine) -> None:
    seed.store(engine, "old", seed.short("old knee pain"), start=time.time() - 400 * 86400)
    seed.store(engine, "recent", seed.short("new knee pain"), start=time.time() - 10 * 86400)
    with session_scope(db_url) as session:
        sync_events(session)
        old_case = case_of(session, "old").id
        assert erase_older_than(session, 365) == 1
    with session_scope(db_url) as session:
        assert set(session.execute(select(events.c.sender_id).distinct()).scalars()) == {"recent"}
        assert [c.conversation_id for c in session.execute(select(Case)).scalars()] == ["recent"]
        entry = session.execute(select(AuditEntry)).scalar_one()
        assert (entry.action, entry.case_id, entry.username) == ("retention_erase", old_case, "retention")
        with pytest.raises(ValueError):
            erase_older_than(session, 0)


def test_dashboard_counts_funnel_and_medians(db_url: str, engine: Engine) -> None:
    now = time.time()
    for i, length in enumerate((1, 2, 3, 4)):
        turns = [seed.Patient(f"message {i}")] + [seed.Bot(f"reply {n}") for n in range(length)]
        seed.store(engine, f"d{i}", turns, start=now - 3600)
    with session_scope(db_url) as session:
        sync_events(session)
        record_case(session, conversation_id="d0", channel="rest", **outcome("routine"))
        record_case(session, conversation_id="d1", channel="rest", **outcome("routine", "itb_syndrome"))
        record_case(session, conversation_id="d2", channel="rest", **outcome("urgent", "itb_syndrome"))
        mark_booking(session, "d0", "booked")
        mark_booking(session, "d2", "declined")
        today = date.today()
        figures = dashboard(session, today - timedelta(days=1), today, UTC)
        assert (figures.started, figures.completed, figures.booked) == (4, 3, 1)
        assert dict(figures.by_level) == {"emergency": 0, "urgent": 1, "soon": 0, "routine": 2, "self_care": 0}
        assert figures.by_condition == [("itb_syndrome", 2), ("patellofemoral_pain", 1)]
        assert figures.median_messages == 3.5  # 2, 3, 4, 5 messages
        assert figures.median_minutes is not None
        empty = dashboard(session, today - timedelta(days=90), today - timedelta(days=60), UTC)
        assert (empty.started, empty.median_messages) == (0, None)


@pytest.mark.filterwarnings("ignore:Deprecated API features")  # Rasa's own SQLAlchemy 1.x style
def test_what_rasas_tracker_store_writes_is_what_the_console_reads(db_url: str) -> None:
    """Rasa's own SQLTrackerStore saves a conversation into the table our migration made; we list it."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    store = SQLTrackerStore(host=db_url)  # a full URL in `host` is how Rasa's endpoints take one
    tracker = DialogueStateTracker.from_events("rasa-wrote-this", seed.rasa_events(
        seed.RUNNERS_KNEE, start=time.time() - 600, channel="socketio"))
    asyncio.run(store.save(tracker))
    store.engine.dispose()
    with session_scope(db_url) as session:
        assert sync_events(session) == 1
        case = case_of(session, "rasa-wrote-this")
        assert (case.channel, case.message_count) == ("socketio", 13)
        messages = transcript.messages(session, "rasa-wrote-this")
    assert [m.sender for m in messages[:3]] == ["patient", "assistant", "assistant"]
    assert messages[2].buttons == ["An injury", "Gradually", "Not sure"]
    assert (messages[3].text, messages[3].tapped) == ("Gradually", True)  # the payload shown as the button's title
    assert messages[-1].text.startswith("You can book here")


def test_staff_users_roles_and_argon2_hashes(db_url: str) -> None:
    with session_scope(db_url) as session:
        admin = create_user(session, "Alex", "a long admin password", "admin")
        reception = create_user(session, "robin", "a long desk password", "receptionist")
        assert admin.password_hash.startswith("$argon2id$") and "a long" not in admin.password_hash
        for bad in (("x", "a long password here", "admin"), ("sam", "short", "admin"),
                    ("sam", "long enough pw", "boss"),
                    ("alex", "a long admin password", "admin")):  # usernames are unique whatever the case
            with pytest.raises(UserError):
                create_user(session, *bad)
        assert authenticate(session, "ALEX", "a long admin password") is admin
        assert authenticate(session, "alex", "a long admin passworD") is None
        assert authenticate(session, "nobody", "a long admin password") is None
        assert reception.can("receptionist") and not reception.can("clinician") and not reception.can("admin")
        assert admin.can("clinician") and admin.can("admin")
        with pytest.raises(UserError):
            set_role(session, admin, "receptionist", acting=admin)  # no removing your own admin rights
        other = create_user(session, "jo", "another long password", "admin")
        set_active(session, other, False, acting=admin)
        assert not other.can("receptionist") and authenticate(session, "jo", "another long password") is None
        with pytest.raises(UserError):
            set_active(session, admin, False, acting=other)  # the last active admin stays
