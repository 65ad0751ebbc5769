"""Writing cases: the action server's record of each triage, and the staff's review of it."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.store.db import is_sqlite, utcnow
from bot.store.models import TRIAGE_LEVELS, Callback, Case, Correction, Note
from bot.store.safe_text import clean, clean_data

# The "needs attention" queue, most pressing first. A case leaves it when staff mark it reviewed;
# a call-back request puts it back until the case is reviewed again.
ATTENTION = ("emergency", "urgent", "callback", "red_flag")
BOOKING_STATUS = re.compile(r"^[a-z_]{1,32}$")  # e.g. offered, booked, declined, cancelled, failed
FIRST_MESSAGE_CHARS = 1000  # the inbox shows the start of it; the transcript has it all
CHANNEL_CHARS = Case.channel.type.length


def case_for(session: Session, conversation_id: str, *, channel: str | None = None) -> Case:
    """The case row for a conversation, created if missing.

    The action server and the console's event sync can both create it at the same moment,
    so the row is inserted with ON CONFLICT DO NOTHING and then read back.
    """
    if not conversation_id or len(conversation_id) > 255:
        raise ValueError("conversation_id must be 1-255 characters")
    case = session.execute(select(Case).where(Case.conversation_id == conversation_id)).scalar_one_or_none()
    if case is not None:
        return case
    insert = (sqlite if is_sqlite(session) else postgresql).insert(Case.__table__)
    values = {"conversation_id": conversation_id, "channel": channel, "started_at": utcnow(), "message_count": 0,
              "duration_seconds": 0, "answers": {}, "conditions": [], "red_flags": [], "has_red_flag": False,
              "advice": [], "reasons": []}
    session.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["conversation_id"]))
    return session.execute(select(Case).where(Case.conversation_id == conversation_id)).scalar_one()


def record_case(
    session: Session,
    *,
    conversation_id: str,
    channel: str,
    answers: dict,
    conditions: list[tuple[str, float]],
    triage_level: str | None,
    red_flags: list[str],
    advice: list[str],
    reasons: list[str],
    first_message: str | None = None,
) -> Case:
    """Create or update the case of a conversation with the triage as it stands now.

    A reviewed case goes back to the queue when its level or red flags change: staff reviewed
    an outcome that no longer holds.
    """
    if triage_level is not None and triage_level not in TRIAGE_LEVELS:
        raise ValueError(f"unknown triage level {triage_level!r}")
    # The patient's words and what was derived from them may hold anything a client sent.
    answers, advice, reasons = clean_data(answers), clean_data(list(advice)), clean_data(list(reasons))
    channel = clean(channel or "", CHANNEL_CHARS) or None
    case = case_for(session, conversation_id, channel=channel)
    now = utcnow()
    outcome_changed = case.triage_level != triage_level or set(case.red_flags or []) != set(red_flags)
    if case.reviewed_at is not None and outcome_changed:
        case.reviewed_at, case.reviewed_by = None, None
    case.channel = channel or case.channel
    case.answers = dict(answers)
    case.conditions = [{"id": cid, "score": round(float(score), 4)} for cid, score in conditions]
    case.top_condition = conditions[0][0] if conditions else None
    case.triage_level = triage_level
    case.red_flags = list(red_flags)
    case.has_red_flag = bool(red_flags)
    case.advice = list(advice)
    case.reasons = list(reasons)
    case.ended_at = now
    if triage_level is not None and case.completed_at is None:
        case.completed_at = now
    if first_message and not case.first_message:
        case.first_message = clean(first_message, FIRST_MESSAGE_CHARS)
    refresh_attention(case)
    session.flush()
    return case


def mark_booking(session: Session, conversation_id: str, status: str) -> Case:
    """Record the booking outcome ("booked" counts as booked in the console; others are shown as they are)."""
    if not BOOKING_STATUS.match(status):
        raise ValueError(f"booking status must be a lower-case word, not {status!r}")
    case = case_for(session, conversation_id)
    case.booking_status = status
    session.flush()
    return case


def request_callback(session: Session, conversation_id: str, *, name: str, phone: str, preferred_time: str = "",
                     reason: str = "") -> Callback:
    """A patient asked the clinic to call them back: it goes to the top of the attention queue."""
    if not name.strip() or not phone.strip():
        raise ValueError("a call-back request needs a name and a phone number")
    case = case_for(session, conversation_id)
    callback = Callback(name=clean(name.strip(), 200), phone=clean(phone.strip(), 64),
                        preferred_time=clean(preferred_time.strip(), 200), reason=clean(reason.strip(), 5000),
                        status="open", created_at=utcnow())
    case.callbacks.append(callback)
    refresh_attention(case)
    session.flush()
    return callback


def mark_reviewed(session: Session, case: Case, username: str, reviewed: bool = True) -> None:
    """Reviewing a case also closes its open call-back requests (the reviewer has dealt with them)."""
    if reviewed:
        case.reviewed_at, case.reviewed_by = utcnow(), username
        for callback in case.open_callbacks:
            callback.status = "done"
    else:
        case.reviewed_at, case.reviewed_by = None, None
    refresh_attention(case)
    session.flush()


def add_note(session: Session, case: Case, username: str, body: str) -> Note:
    body = body.strip()
    if not body:
        raise ValueError("a note cannot be empty")
    note = Note(author=username, body=clean(body, 5000), created_at=utcnow())
    case.notes.append(note)
    session.flush()
    return note


def add_correction(session: Session, case: Case, username: str, *, triage_level: str | None, condition: str | None,
                   comment: str, conditions: Iterable[str]) -> Correction:
    if triage_level is not None and triage_level not in TRIAGE_LEVELS:
        raise ValueError(f"unknown triage level {triage_level!r}")
    if condition is not None and condition not in set(conditions):
        raise ValueError(f"unknown condition {condition!r}")
    if triage_level is None and condition is None:
        raise ValueError("a correction needs a level or a condition")
    correction = Correction(author=username, triage_level=triage_level, condition=condition,
                            comment=clean(comment.strip(), 2000), created_at=utcnow())
    case.corrections.append(correction)
    session.flush()
    return correction


def refresh_attention(case: Case) -> None:
    """Set the case's place in the attention queue from what is pending on it."""
    pending = []
    if case.reviewed_at is None and case.triage_level in ("emergency", "urgent"):
        pending.append(case.triage_level)
    if case.open_callbacks:
        pending.append("callback")
    if case.reviewed_at is None and case.has_red_flag:
        pending.append("red_flag")
    case.attention_rank = min((ATTENTION.index(p) for p in pending), default=None)
