"""What happens to a live chat without staff, checked where the patient's messages and notices pass.

- Nobody takes it: a chat waiting longer than HANDOFF_WAIT_SECONDS becomes `callback`. It leaves the
  queue, the patient is told nobody is free and how to ask for a call back, with the call-back route's
  own advice for their triage level, and asking for a person again within the hour takes the call-back
  route (actions/handoff.py). The Rasa server's outbox checks every second, and a patient's message
  after the wait is checked as it arrives.
- The patient starts over ("start over", /restart, the widget's "Start over"): the chat becomes
  `restarted` and the assistant answers the fresh start.

Both are in the audit log ("handoff_close") under a name no account can have, and are ended by a
conditional update, so two Rasa processes (or a take at the same moment) never end a chat twice.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.clinic import Clinic
from bot.handoff import wording
from bot.handoff.queue import latest_for, live_for, notify, record_patient
from bot.store import audit
from bot.store.db import utcnow
from bot.store.models import HANDOFF_CALLBACK, HANDOFF_LIVE, HANDOFF_RESTARTED, HANDOFF_WAITING, Case, Handoff

# Who the audit log names for an ending no member of staff made (usernames cannot have brackets).
BY_NOBODY, BY_PATIENT = "(nobody free)", "(patient)"
# Asking for a person again this soon after nobody was free takes the call-back route, not the queue.
NOBODY_FREE_FOR = timedelta(hours=1)
# What a patient types to start over, as the assistant would read it (the quick reply's payload too):
# while a person has the chat the assistant's understanding never sees the message, so only these exact ones.
RESTART = frozenset({"/restart", "restart", "start over", "start again", "reset", "new chat", "new conversation",
                     "restart please", "start over please", "reset the chat"})
_NOT_WORDS = re.compile(r"[^\w/ ]+")


def _finish(session: Session, handoff: Handoff, status: str, by: str, detail: str,
            now: datetime | None = None) -> bool:
    """End a live chat without a member of staff; False when someone else changed it first (a take, a
    colleague's close, another process's sweep), so that it is never ended twice."""
    at = now or utcnow()
    won = session.execute(update(Handoff).where(Handoff.id == handoff.id, Handoff.status.in_(HANDOFF_LIVE))
                          .values(status=status, ended_at=at, ended_by=None)
                          .execution_options(synchronize_session=False)).rowcount
    session.refresh(handoff)
    if won:
        case_id = session.execute(select(Case.id).where(Case.conversation_id == handoff.conversation_id)
                                  ).scalar_one_or_none()
        audit.record(session, by, "handoff_close", case_id, f"live chat {handoff.id}: {detail}")
    return bool(won)


def time_out(session: Session, handoff: Handoff, clinic: Clinic, now: datetime | None = None) -> bool:
    """Nobody took the chat in time: it leaves the queue, and the patient is told and offered a call back."""
    if handoff.status != HANDOFF_WAITING:
        return False
    level = session.execute(select(Case.triage_level).where(Case.conversation_id == handoff.conversation_id)
                            ).scalar_one_or_none()
    waited = round(((now or utcnow()) - handoff.requested_at).total_seconds())
    if not _finish(session, handoff, HANDOFF_CALLBACK, BY_NOBODY,
                   f"nobody took it within {waited} s, moved to call back", now):
        return False
    notify(session, handoff, wording.timed_out(clinic, level))
    return True


def expire_waiting(session: Session, clinic: Clinic, wait: float | None, now: datetime | None = None) -> int:
    """Time out every chat that has waited longer than `wait` seconds (None: never); how many did."""
    if wait is None:
        return 0
    now = now or utcnow()
    due = session.execute(select(Handoff).where(Handoff.status == HANDOFF_WAITING,
                                                Handoff.requested_at <= now - timedelta(seconds=wait))
                          .order_by(Handoff.id).limit(50)).scalars().all()
    return sum(time_out(session, handoff, clinic, now) for handoff in due)


def is_restart(text: str) -> bool:
    return " ".join(_NOT_WORDS.sub(" ", text.lower()).split()) in RESTART


def restarted(session: Session, conversation_id: str) -> bool:
    """The patient started the conversation over (typed it, or the widget's "Start over"): a live chat ends, for
    the staff to see; the patient gets no notice, the assistant's fresh start is the answer."""
    handoff = live_for(session, conversation_id)
    return handoff is not None and _finish(session, handoff, HANDOFF_RESTARTED, BY_PATIENT,
                                           "the patient started over")


def hold(session: Session, conversation_id: str, text: str, clinic: Clinic, wait: float | None,
         now: datetime | None = None) -> bool:
    """A patient's message, checked before the assistant sees it: True when a person has (or is about to have)
    the chat, and it is recorded for them instead. Starting over ends the chat and goes to the assistant; a
    message after the wait has run out is recorded and answered by the time-out notice."""
    handoff = live_for(session, conversation_id)
    if handoff is None:
        return False
    if is_restart(text):
        restarted(session, conversation_id)  # if someone ended it meanwhile, the assistant answers all the same
        return False
    record_patient(session, handoff, text)
    now = now or utcnow()
    if wait is not None and handoff.status == HANDOFF_WAITING and now - handoff.requested_at >= timedelta(seconds=wait):
        time_out(session, handoff, clinic, now)
    return True


def nobody_free_lately(session: Session, conversation_id: str, now: datetime | None = None) -> bool:
    """The conversation's latest chat timed out within the hour: asking again gets the call-back route."""
    latest = latest_for(session, conversation_id)
    return (latest is not None and latest.status == HANDOFF_CALLBACK and latest.ended_at is not None
            and (now or utcnow()) - latest.ended_at < NOBODY_FREE_FOR)
