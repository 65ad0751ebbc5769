"""Engines and sessions for the database named by DATABASE_URL (Rasa's tracker store and our tables)."""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

DEFAULT_DATABASE_URL = "sqlite:///var/rasa.db"


def database_url(env: Mapping[str, str] | None = None) -> str:
    url = (os.environ if env is None else env).get("DATABASE_URL") or DEFAULT_DATABASE_URL
    # Heroku-style URLs: SQLAlchemy 1.4 only knows the "postgresql" name.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    return url


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """One engine per URL for the life of the process (engines own the connection pool).

    hide_parameters: database errors must not carry patients' words into logs.
    """
    url = url or database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        in_file = bool(parsed.database) and parsed.database != ":memory:"
        if in_file:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Rasa, the action server and the console write the same file: wait for a lock
        # rather than fail at once. A file database keeps its connections in a pool, as SQLAlchemy 2
        # does by default (1.4 opens one per session, and SQLite reads the schema on each: a third of
        # the tracker store's time per message); a pooled connection may move between threads.
        pooled = {"poolclass": QueuePool} if in_file else {}
        engine = create_engine(url, future=True, hide_parameters=True,
                               connect_args={"timeout": 30, "check_same_thread": False}, **pooled)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options = {"executemany_mode": "values_plus_batch"} if parsed.get_driver_name() == "psycopg2" else {}
    # values_plus_batch: the sync's many-row UPDATEs go in batches, not one round trip per row.
    return create_engine(url, future=True, hide_parameters=True, pool_pre_ping=True, **options)


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores ON DELETE CASCADE without it
    cursor.close()


def is_sqlite(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "sqlite"


@lru_cache(maxsize=8)
def _factory(url: str) -> sessionmaker:
    return sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)


def new_session(url: str | None = None) -> Session:
    return _factory(url or database_url())()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back on an exception."""
    session = new_session(url)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def utcnow() -> datetime:
    """Naive UTC: how every time is stored (SQLite has no time zones)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)


LAST_EPOCH = 32_503_680_000.0  # 3000-01-01


def usable_epoch(seconds: float | None) -> float | None:
    """A Unix time from an event, or None when it is not one (NaN, negative, past the year 3000)."""
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or not 0 <= seconds < LAST_EPOCH:
        return None
    return seconds
