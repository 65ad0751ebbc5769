"""Keeping `cases` in step with Rasa's events table.

Rasa writes raw events and knows nothing of our tables, so the console reads what is new
(by event id, past a watermark kept in `sync_state`) and recomputes the conversation columns and
search document of every conversation that changed. Recomputing from all of a conversation's
events makes a sync idempotent, so it can look back a little past the watermark: on PostgreSQL
a transaction holding a lower id can commit after one holding a higher id.

Whatever the tracker store accepted is accepted here: texts are cleaned and clipped to our columns
(bot.store.safe_text). A conversation that still cannot be written is skipped inside its own
savepoint, so the ones after it are synced; it is noted in `sync_state` as "retry:<event id>" and
tried again on every later sync until it goes through or its events are erased. Logs name the
event id and the exception type only, never a text or a sender id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import bindparam, case, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.store import search
from bot.store.cases import CHANNEL_CHARS, FIRST_MESSAGE_CHARS
from bot.store.db import from_epoch, is_sqlite, usable_epoch
from bot.store.models import Case, SyncState, events
from bot.store.safe_text import clean

log = logging.getLogger(__name__)
STATE_KEY = "events"
RETRY_PREFIX = "retry:"  # sync_state rows "retry:<event id>" = attempts so far, for conversations that failed
LOOKBACK = 50  # events re-read behind the watermark on each sync
BATCH = 20_000  # events per transaction
CHUNK = 500  # conversations per query
MAX_RETRIES_PER_SYNC = 100
SEARCH_MESSAGE_CHARS = 5_000  # of each message, in the search document
SEARCH_DOCUMENT_CHARS = 100_000  # keeps PostgreSQL's tsvector well under its 1 MB limit


@dataclass
class Conversation:
    """What the events of one sender id say about the conversation."""

    sender_id: str
    first_ts: float | None = None
    last_ts: float | None = None
    last_event_id: int = 0
    channel: str | None = None
    first_message: str | None = None
    message_count: int = 0
    patient_texts: list[str] = field(default_factory=list)

    def add(self, event_id: int, type_name: str, timestamp: float | None, data: str | None) -> None:
        self.last_event_id = max(self.last_event_id, event_id)
        timestamp = usable_epoch(timestamp)
        if timestamp is not None:
            self.first_ts = timestamp if self.first_ts is None else min(self.first_ts, timestamp)
            self.last_ts = timestamp if self.last_ts is None else max(self.last_ts, timestamp)
        if type_name == "bot":
            self.message_count += 1
        elif type_name == "user":
            self.message_count += 1
            body = _json(data)
            channel = body.get("input_channel")
            if self.channel is None and isinstance(channel, str) and channel.strip():
                self.channel = clean(channel.strip(), CHANNEL_CHARS)
            text = body.get("text")
            # A tapped quick reply arrives as its payload ("/inform{...}"): not the patient's words.
            if isinstance(text, str) and text.strip() and not text.startswith("/"):
                self.patient_texts.append(clean(text.strip(), SEARCH_MESSAGE_CHARS))
                self.first_message = self.first_message or clean(text.strip(), FIRST_MESSAGE_CHARS)

    @property
    def has_patient_message(self) -> bool:
        return self.message_count > 0 and self.first_ts is not None

    @property
    def search_document(self) -> str:
        return "\n".join(self.patient_texts)[:SEARCH_DOCUMENT_CHARS]


def _json(data: str | None) -> dict:
    try:
        value = json.loads(data) if data else {}
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def sync_events(session: Session, *, batch: int = BATCH) -> int:
    """Bring `cases` up to date with the events table; returns how many conversations were refreshed.

    Commits after each batch, so a long backlog never holds a write lock for long. Conversations
    that failed on an earlier sync are retried after the new events.
    """
    state = dict(session.execute(select(SyncState.name, SyncState.value)).all())
    watermark = state.get(STATE_KEY, 0)
    retries = {int(name[len(RETRY_PREFIX):]): attempts for name, attempts in state.items()
               if name.startswith(RETRY_PREFIX) and name[len(RETRY_PREFIX):].isdigit()}
    refreshed = 0
    top = session.execute(select(func.max(events.c.id))).scalar()
    if top is not None and top > watermark:
        lower = max(0, watermark - LOOKBACK)
        while lower < top:
            rows = session.execute(select(events.c.id, events.c.sender_id)
                                   .where(events.c.id > lower, events.c.id <= top)
                                   .order_by(events.c.id).limit(batch)).all()
            if not rows:
                break
            newest = {row.sender_id: row.id for row in rows}  # each sender's newest event in the batch
            failed = refresh(session, newest)
            for event_id, error in failed.items():
                # Re-read behind the watermark, a failed conversation is tried once per sync, not twice.
                _note_failure(session, event_id, retries.pop(event_id, 0) + 1, error)
            lower = rows[-1].id
            _set_state(session, STATE_KEY, max(lower, watermark))
            session.commit()
            refreshed += len(newest) - len(failed)
    if retries:
        refreshed += _retry(session, retries)
        session.commit()
    return refreshed


def refresh(session: Session, conversations: Mapping[str, int]) -> dict[int, str]:
    """Recompute the conversation columns and search documents of these conversations from their events.

    `conversations` maps each sender id to one of its event ids, which names it in the log. Returns
    the event ids of the conversations that could not be written, with the exception's type.
    """
    failed: dict[int, str] = {}
    senders = list(conversations)
    for start in range(0, len(senders), CHUNK):
        chunk = senders[start:start + CHUNK]
        if _try(session, chunk) is None:
            continue
        for sender_id in chunk:  # one at a time, to find the ones that fail
            error = _try(session, [sender_id])
            if error is not None:
                failed[conversations[sender_id]] = error
    return failed


def _try(session: Session, sender_ids: list[str]) -> str | None:
    """Refresh these conversations inside a savepoint; on failure nothing is written and the exception's
    type is returned (its message may quote the row)."""
    try:
        with session.begin_nested():
            _write(session, [c for c in read_conversations(session, sender_ids) if c.has_patient_message])
    except Exception as error:  # whatever one conversation trips over must not stop the others
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            raise  # the database is gone, not the row: the whole sync fails and is done again later
        return type(error).__name__
    return None


def _retry(session: Session, retries: dict[int, int]) -> int:
    """Try again the conversations that failed before; returns how many went through."""
    done = 0
    for event_id, attempts in sorted(retries.items())[:MAX_RETRIES_PER_SYNC]:
        sender_id = session.execute(select(events.c.sender_id).where(events.c.id == event_id)).scalar()
        failed = refresh(session, {sender_id: event_id}) if sender_id is not None else {}
        if failed:
            _note_failure(session, event_id, attempts + 1, failed[event_id])
            continue
        session.execute(delete(SyncState).where(SyncState.name == f"{RETRY_PREFIX}{event_id}"))
        done += sender_id is not None  # an erased conversation needs no retry
    return done


def _note_failure(session: Session, event_id: int, attempts: int, error: str) -> None:
    if attempts & (attempts - 1) == 0:  # the 1st, 2nd, 4th, 8th... time: a stuck row must not flood the log
        log.warning("case sync skipped the conversation of event %d (%s, attempt %d); it will be retried",
                    event_id, error, attempts)
    _set_state(session, f"{RETRY_PREFIX}{event_id}", attempts)


def read_conversations(session: Session, sender_ids: Iterable[str]) -> list[Conversation]:
    found: dict[str, Conversation] = {}
    # Only user events' JSON is needed; leaving the rest in the database keeps a big sync fast.
    user_data = case((events.c.type_name == "user", events.c.data), else_=None)
    query = (select(events.c.sender_id, events.c.id, events.c.type_name, events.c.timestamp, user_data)
             .where(events.c.sender_id.in_(list(sender_ids))).order_by(events.c.id))
    for sender_id, event_id, type_name, timestamp, data in session.execute(query):
        found.setdefault(sender_id, Conversation(sender_id)).add(event_id, type_name, timestamp, data)
    return list(found.values())


def _write(session: Session, conversations: list[Conversation]) -> None:
    if not conversations:
        return
    ids = [c.sender_id for c in conversations]
    existing = {cid: started for cid, started in
                session.execute(select(Case.conversation_id, Case.started_at).where(Case.conversation_id.in_(ids)))}
    new = [c for c in conversations if c.sender_id not in existing]
    if new:
        insert = (sqlite if is_sqlite(session) else postgresql).insert(Case.__table__)
        session.execute(insert.on_conflict_do_nothing(index_elements=["conversation_id"]), [
            {"conversation_id": c.sender_id, "started_at": from_epoch(c.first_ts), "message_count": 0,
             "duration_seconds": 0, "answers": {}, "conditions": [], "red_flags": [], "has_red_flag": False,
             "advice": [], "reasons": []} for c in new])
    rows = []
    for c in conversations:
        started = from_epoch(c.first_ts)
        if existing.get(c.sender_id) is not None:
            started = min(started, existing[c.sender_id])  # the action server may have created it first
        rows.append({"cid": c.sender_id, "started": started, "last": from_epoch(c.last_ts),
                     "channel": c.channel, "first_message": c.first_message, "count": c.message_count,
                     "duration": int(c.last_ts - c.first_ts), "last_event": c.last_event_id})
    table = Case.__table__
    session.execute(
        update(table).where(table.c.conversation_id == bindparam("cid")).values(
            started_at=bindparam("started"), last_activity_at=bindparam("last"),
            channel=func.coalesce(bindparam("channel"), table.c.channel),
            first_message=func.coalesce(bindparam("first_message"), table.c.first_message),
            message_count=bindparam("count"), duration_seconds=bindparam("duration"),
            last_event_id=bindparam("last_event")),
        rows, execution_options={"synchronize_session": False})
    case_ids = dict(session.execute(select(Case.conversation_id, Case.id).where(Case.conversation_id.in_(ids))).all())
    search.set_documents(session, [(case_ids[c.sender_id], c.search_document) for c in conversations])


def _set_state(session: Session, name: str, value: int) -> None:
    # An upsert: the retention command and the console may sync at the same moment.
    insert = (sqlite if is_sqlite(session) else postgresql).insert(SyncState.__table__).values(name=name, value=value)
    session.execute(insert.on_conflict_do_update(index_elements=["name"], set_={"value": value}))
