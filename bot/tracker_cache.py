"""Conversations read back from this process's memory, checked against the database each time.

Rasa's SQL tracker store reads every event of a conversation from the database and deserialises
them all, on every message and on every read of the conversation (about a quarter of the Rasa
server's CPU under load, more as conversations grow). Here a conversation's stored events are kept
after each read and save, with the shape of the rows they came from (how many, first and last id,
earliest and latest timestamp). Each read still asks the database for that shape (one indexed
query): unchanged, the kept events are used; only grown (another replica handled a message: the
same first row, more after the last), the new rows alone are read and appended; anything else
(erased, or erased and begun again, where SQLite may reuse the ids) reads them all again. So a
replica never answers from a stale or erased conversation, and the events are those a full read
would give, deserialised from the same stored JSON.

The kept events are shared by the trackers built from them: Rasa treats past events as records
(slots copy their values from them) and this process changes none in place. The number of
conversations kept is bounded (least recently used go first); a busy replica holds the few dozen
conversations in progress, not the clinic's history.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from cachetools import LRUCache
from rasa.shared.core.events import Event, SessionStarted

# Conversations kept per process: enough for every conversation in progress on a busy replica.
DEFAULT_CONVERSATIONS = 500


Row = tuple[int, float | None, str]  # a stored event: row id, timestamp column, JSON


class Shape(NamedTuple):
    """What one aggregate query tells of a conversation's rows."""

    count: int
    first_id: int | None
    last_id: int | None
    first_time: float | None
    last_time: float | None


@dataclass(frozen=True)
class Stored:
    """A conversation's stored rows in order, every session: each row's event (None where Rasa's read
    skips it) and its timestamp column."""

    rows: tuple[tuple[Event | None, float | None], ...] = ()
    first_id: int | None = None
    last_id: int | None = None

    @property
    def count(self) -> int:
        return len(self.rows)

    @cached_property
    def shape(self) -> Shape:  # computed once per Stored: each read compares it
        times = [t for _, t in self.rows if t is not None]
        return Shape(self.count, self.first_id, self.last_id, min(times, default=None), max(times, default=None))

    def extended(self, rows: Sequence[Row]) -> Stored:
        """These rows with the rows stored after them."""
        if not rows:
            return self
        return Stored(self.rows + tuple((deserialise(data), timestamp) for _, timestamp, data in rows),
                      rows[0][0] if self.first_id is None else self.first_id, rows[-1][0])

    def latest_session(self) -> tuple[tuple[Event | None, float | None], ...]:
        """The rows Rasa's SQL store reads for the latest session: those whose timestamp column is at
        least the newest session_started row's (its query's comparison), or all of them."""
        starts = [t for event, t in self.rows if isinstance(event, SessionStarted) and t is not None]
        if not starts:
            return self.rows
        start = max(starts)
        return tuple(row for row in self.rows if row[1] is not None and row[1] >= start)

    def events(self, all_sessions: bool = True) -> list[Event]:
        return [event for event, _ in (self.rows if all_sessions else self.latest_session()) if event is not None]


def deserialise(data: str) -> Event | None:
    """As Rasa's read: a row without an event type is skipped (None); an unknown type raises."""
    parameters = json.loads(data)
    return Event.from_parameters(parameters) if "event" in parameters else None


class ConversationCache:
    """Sender id to its Stored events, least recently used dropped first."""

    def __init__(self, size: int | None = None) -> None:
        self._kept: LRUCache[str, Stored] = LRUCache(maxsize=max(1, size or conversations_kept()))

    def get(self, sender_id: str, shape: Shape) -> Stored | None:
        """The kept events if they are still exactly what the database holds."""
        kept = self._kept.get(sender_id)
        return kept if kept is not None and kept.shape == shape else None

    def grown(self, sender_id: str, shape: Shape) -> Stored | None:
        """The kept events when the database holds them and more after them: the caller reads the rest
        and checks that their number adds up."""
        kept = self._kept.get(sender_id)
        if kept is None or kept.last_id is None or shape.last_id is None:
            return None
        before = kept.shape
        if (before.first_id, before.first_time) == (shape.first_id, shape.first_time) and \
                shape.count > before.count and shape.last_id > kept.last_id:
            return kept
        return None

    def keep(self, sender_id: str, stored: Stored) -> None:
        self._kept[sender_id] = stored

    def forget(self, sender_id: str) -> None:
        self._kept.pop(sender_id, None)


def conversations_kept() -> int:
    return int(os.environ.get("TRACKER_CACHE_CONVERSATIONS") or DEFAULT_CONVERSATIONS)
