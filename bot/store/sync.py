"""Keeping `cases` in step with Rasa's events table.

Rasa writes raw events and knows nothing of our tables, so the console reads what is new
(by event id, past a watermark kept in `sync_state`) and recomputes the conversation columns and
search document of every conversation that changed. Recomputing from all of a conversation's
events makes a sync idempotent, so it can look back a little past the watermark: on PostgreSQL
a transaction holding a lower id can commit after one holding a higher id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.store import search
from bot.store.db import from_epoch, is_sqlite
from bot.store.models import Case, SyncState, events

STATE_KEY = "events"
LOOKBACK = 50  # events re-read behind the watermark on each sync
BATCH = 20_000  # events per transaction
CHUNK = 500  # conversations per query


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
        if timestamp is not None:
            self.first_ts = timestamp if self.first_ts is None else min(self.first_ts, timestamp)
            self.last_ts = timestamp if self.last_ts is None else max(self.last_ts, timestamp)
        if type_name == "bot":
            self.message_count += 1
        elif type_name == "user":
            self.message_count += 1
            body = _json(data)
            self.channel = self.channel or body.get("input_channel") or None
            text = body.get("text")
            # A tapped quick reply arrives as its payload ("/inform{...}"): not the patient's words.
            if isinstance(text, str) and text.strip() and not text.startswith("/"):
                self.patient_texts.append(text.strip())
                self.first_message = self.first_message or text.strip()

    @property
    def has_patient_message(self) -> bool:
        return self.message_count > 0 and self.first_ts is not None


def _json(data: str | None) -> dict:
    try:
        value = json.loads(data) if data else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def sync_events(session: Session, *, batch: int = BATCH) -> int:
    """Bring `cases` up to date with the events table; returns how many conversations were refreshed.

    Commits after each batch, so a long backlog never holds a write lock for long.
    """
    watermark = session.execute(select(SyncState.value).where(SyncState.name == STATE_KEY)).scalar() or 0
    top = session.execute(select(func.max(events.c.id))).scalar()
    if top is None or top <= watermark:
        return 0
    lower, refreshed = max(0, watermark - LOOKBACK), 0
    while lower < top:
        rows = session.execute(select(events.c.id, events.c.sender_id)
                               .where(events.c.id > lower, events.c.id <= top)
                               .order_by(events.c.id).limit(batch)).all()
        if not rows:
            break
        senders = list(dict.fromkeys(row.sender_id for row in rows))
        refresh(session, senders)
        lower = rows[-1].id
        _set_watermark(session, max(lower, watermark))
        session.commit()
        refreshed += len(senders)
    return refreshed


def refresh(session: Session, sender_ids: Sequence[str]) -> None:
    """Recompute the conversation columns and search documents of these conversations from their events."""
    for start in range(0, len(sender_ids), CHUNK):
        conversations = read_conversations(session, sender_ids[start:start + CHUNK])
        _write(session, [c for c in conversations if c.has_patient_message])


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
    search.set_documents(session, [(case_ids[c.sender_id], "\n".join(c.patient_texts)) for c in conversations])


def _set_watermark(session: Session, value: int) -> None:
    # An upsert: the retention command and the console may sync at the same moment.
    insert = (sqlite if is_sqlite(session) else postgresql).insert(SyncState.__table__).values(name=STATE_KEY,
                                                                                              value=value)
    session.execute(insert.on_conflict_do_update(index_elements=["name"], set_={"value": value}))
