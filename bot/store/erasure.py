"""Erasing a conversation everywhere: Rasa's events and our rows for its sender id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.store import audit, search
from bot.store.db import utcnow
from bot.store.models import Booking, Case, Handoff, events

RETENTION_USER = "retention"  # the name the audit log gives the retention command


@dataclass(frozen=True)
class Erased:
    events: int
    case_id: int | None


def erase_conversation(session: Session, conversation_id: str) -> Erased:
    """Delete every event of the sender id, its case with notes, corrections and call-backs, its hand-offs, and its
    built-in bookings (they hold the patient's name and contact details; the slot becomes free).

    The caller writes the audit entry (it knows who asked).
    """
    removed = session.execute(delete(events).where(events.c.sender_id == conversation_id)).rowcount
    session.execute(delete(Booking).where(Booking.conversation_id == conversation_id))
    # Live hand-offs and what was said in them (their messages go with them: ON DELETE CASCADE).
    session.execute(delete(Handoff).where(Handoff.conversation_id == conversation_id))
    # A booking moved or cancelled in this conversation keeps no trace of its sender id (a phone number).
    session.execute(update(Booking).where(Booking.changed_in == conversation_id).values(changed_in=None))
    case_id = session.execute(select(Case.id).where(Case.conversation_id == conversation_id)).scalar_one_or_none()
    if case_id is not None:
        search.delete_document(session, case_id)
        # Notes, corrections and call-backs go with it (ON DELETE CASCADE).
        session.execute(delete(Case).where(Case.id == case_id).execution_options(synchronize_session=False))
    session.expire_all()
    return Erased(events=removed or 0, case_id=case_id)


def erase_older_than(session: Session, days: int) -> int:
    """Erase every conversation whose last activity is more than `days` days old; returns how many."""
    if days < 1:
        raise ValueError("the retention period must be at least one day")
    cutoff = utcnow() - timedelta(days=days)
    cutoff_epoch = cutoff.replace(tzinfo=timezone.utc).timestamp()  # Rasa's timestamps are Unix times
    stale = set(session.execute(select(events.c.sender_id).group_by(events.c.sender_id)
                                .having(func.max(events.c.timestamp) < cutoff_epoch)).scalars())
    # Cases the action server wrote whose events are gone or never came.
    orphans = select(Case.conversation_id).where(
        func.coalesce(Case.last_activity_at, Case.ended_at, Case.started_at) < cutoff,
        ~select(events.c.id).where(events.c.sender_id == Case.conversation_id).exists())
    stale.update(session.execute(orphans).scalars())
    for count, conversation_id in enumerate(sorted(stale), start=1):
        erased = erase_conversation(session, conversation_id)
        audit.record(session, RETENTION_USER, "retention_erase", erased.case_id,
                     f"older than {days} days; {erased.events} events")
        if count % 200 == 0:
            session.commit()  # a big first run should not hold the write lock throughout
    return len(stale)

