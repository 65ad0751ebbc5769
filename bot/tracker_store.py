"""Rasa's SQL tracker store, made to fail one message instead of the server or the conversation.

Rasa 3.6 has two behaviours a clinic cannot keep:
- SQLTrackerStore.session_scope turns every ValueError raised while it reads or writes into
  sys.exit, taking a ValueError for "the PostgreSQL schema is missing". A sender id the driver
  cannot encode (a lone surrogate) raises UnicodeEncodeError, a ValueError: the server exits.
- The Agent wraps every tracker store in FailSafeTrackerStore, which catches any error, logs it
  and carries on with an empty in-memory conversation: with the database down the patient is
  greeted as a stranger, answered, and none of it is saved.

This store never exits. A failed read or write is recorded on the message being handled (see
`Turn`) and raised as TrackerStoreUnavailable; FailSafeTrackerStore swallows it, so
bot.lock_store.GuardedLockStore, which wraps the handling of every message, checks the database
before the message is handled and raises if the store failed during it; the channel then sends
the apology. A conversation whose read failed is never saved by that message: it would write a
fresh conversation's events after the stored ones. The engine is the project's (bot.store.db):
on PostgreSQL its pool pings each connection before use, so the store recovers by itself when
the database comes back, and its errors never carry statement parameters (patients' words)
into the log.

Conversations are read back from memory when the database still holds exactly what was read or
saved last (bot.tracker_cache): one small query per read instead of every event.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore, ensure_schema_exists
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.store.db import database_url, get_engine
from bot.tracker_cache import ConversationCache, Row, Shape, Stored

logger = logging.getLogger(__name__)

# Seconds to wait for a PostgreSQL connection: a database that does not answer at all must not
# hold the server (its calls are synchronous) for the operating system's minutes-long TCP timeout.
CONNECT_TIMEOUT_SECONDS = 5


class TrackerStoreUnavailable(Exception):
    """The conversation could not be read or saved; the message is answered with the apology."""


@dataclass
class Turn:
    """What went wrong with the conversation store while one message was handled."""

    failure: str | None = None


_current_turn: ContextVar[Turn | None] = ContextVar("tracker_store_turn", default=None)
_active_store: ResilientSQLTrackerStore | None = None


@contextlib.contextmanager
def turn() -> Iterator[Turn]:
    """Record the store's failures while the block handles one message (same asyncio task)."""
    record = Turn()
    token = _current_turn.set(record)
    try:
        yield record
    finally:
        _current_turn.reset(token)


def active_store() -> ResilientSQLTrackerStore | None:
    """The store this process's Rasa server created, if it is this one."""
    return _active_store


def store_url(configured: str | None) -> str:
    """The URL from endpoints.yml, normalised like the rest of the project, with a connect timeout."""
    url = make_url(database_url({"DATABASE_URL": configured} if configured else None))
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        url = url.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT_SECONDS)})
    return url.render_as_string(hide_password=False)


class ResilientSQLTrackerStore(SQLTrackerStore):
    """endpoints.yml: `tracker_store: {type: bot.tracker_store.ResilientSQLTrackerStore, url: ...}`."""

    def __init__(self, domain: Domain | None = None, host: str | None = None,
                 event_broker: EventBroker | None = None, **kwargs: Any) -> None:
        global _active_store
        url = store_url(host)
        # Rasa's constructor waits for the database and creates the events table (when Rasa runs
        # without `bot.store migrate`); then its engine gives way to the project's.
        super().__init__(domain, host=url, event_broker=event_broker, **kwargs)
        self.engine.dispose()
        self.engine = get_engine(url)
        self.sessionmaker = sessionmaker(bind=self.engine)
        self.cache = ConversationCache()
        _active_store = self

    @contextlib.contextmanager
    def session_scope(self) -> Iterator[Session]:
        """Rasa's, without its sys.exit on any ValueError: errors go to the caller."""
        session = self.sessionmaker()
        try:
            ensure_schema_exists(session)
            yield session
        finally:
            session.close()

    @contextlib.contextmanager
    def _guard(self, operation: str) -> Iterator[None]:
        try:
            yield
        except TrackerStoreUnavailable:
            raise
        # Any error: FailSafeTrackerStore would swallow it and answer from an empty conversation.
        except Exception as error:
            record = _current_turn.get()
            if record is not None:
                record.failure = record.failure or type(error).__name__
            # The type only: a driver's message can quote a sender id or a patient's words.
            logger.error("conversation store: %s failed with %s", operation, type(error).__name__)
            raise TrackerStoreUnavailable(f"{operation} failed with {type(error).__name__}") from error

    def check(self) -> None:
        """Raise TrackerStoreUnavailable unless the database answers now."""
        with self._guard("check"), self.engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        with self._guard("read"):
            return await super().retrieve(sender_id)

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        with self._guard("read"):
            return await super().retrieve_full_tracker(conversation_id)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        """Rasa's read, from the kept events when they are current."""
        with self.session_scope() as session:
            stored = self._stored(session, sender_id)
        if not (self.domain and stored.count):
            return None
        return DialogueStateTracker.from_events(sender_id, stored.events(fetch_events_from_all_sessions),
                                                self.domain.slots)

    async def keys(self) -> Iterable[str]:
        with self._guard("list"):
            return await super().keys()

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save (the events after those stored for the latest session), keeping what was written."""
        record = _current_turn.get()
        if record is not None and record.failure:
            raise TrackerStoreUnavailable("not saved: this message could not read its conversation")
        with self._guard("save"):
            await self.stream_events(tracker)
            with self.session_scope() as session:
                stored = self._stored(session, tracker.sender_id)
                written = [self._row(tracker.sender_id, event) for event in
                           list(tracker.events)[len(stored.latest_session()):]]
                session.add_all(written)
                session.flush()  # the new rows' ids, before commit expires them
                rows: list[Row] = [(row.id, row.timestamp, row.data) for row in written]
                session.commit()
            self.cache.keep(tracker.sender_id, stored.extended(rows))

    def _row(self, sender_id: str, event: Event) -> SQLTrackerStore.SQLEvent:
        data = event.as_dict()  # the columns as Rasa's save fills them
        return self.SQLEvent(sender_id=sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
                             intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                             action_name=data.get("name"), data=json.dumps(data))

    def _stored(self, session: Session, sender_id: str) -> Stored:
        """What the database holds for the conversation: the kept events if unchanged, extended by the
        rows after them if it only grew, else every row read again."""
        shape = Shape(*session.execute(_SHAPE, {"sender_id": sender_id}).one())
        stored = self.cache.get(sender_id, shape)
        if stored is not None:
            return stored
        kept = self.cache.grown(sender_id, shape)
        if kept is not None:
            newer = self._rows(session, sender_id, after=kept.last_id)
            if kept.count + len(newer) == shape.count:
                stored = kept.extended(newer)
        if stored is None:
            stored = Stored().extended(self._rows(session, sender_id))
        if stored.count:
            self.cache.keep(sender_id, stored)
        else:
            self.cache.forget(sender_id)
        return stored

    def _rows(self, session: Session, sender_id: str, after: int | None = None) -> list[Row]:
        rows = session.execute(_ROWS_AFTER, {"sender_id": sender_id, "after": -1 if after is None else after})
        return [tuple(row) for row in rows]  # type: ignore[misc]


# The two reads of every message, built once (Core statements: a third of the ORM query's time).
_EVENTS = SQLTrackerStore.SQLEvent
_SHAPE = select(func.count(_EVENTS.id), func.min(_EVENTS.id), func.max(_EVENTS.id), func.min(_EVENTS.timestamp),
                func.max(_EVENTS.timestamp)).where(_EVENTS.sender_id == bindparam("sender_id"))
_ROWS_AFTER = select(_EVENTS.id, _EVENTS.timestamp, _EVENTS.data).where(
    _EVENTS.sender_id == bindparam("sender_id"), _EVENTS.id > bindparam("after")).order_by(_EVENTS.id)
