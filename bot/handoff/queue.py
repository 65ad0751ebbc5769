"""Hand-off records: the console's live queue and what was said while a person had the chat.

A hand-off is `waiting` from the patient's "Talk to a person" until a member of staff takes it,
then `taken` by them; "Hand back" makes it `returned` (the assistant answers again) and "Close"
`closed`. Two endings need nobody on staff (bot.handoff.unstaffed): a chat that waits too long
becomes `callback`, and one the patient starts over `restarted`. Staff replies and the notices the
patient gets are outgoing messages that the Rasa server sends on the patient's channel
(bot.handoff.outbox); the patient's messages meanwhile are recorded there and never reach the
assistant. Who took, handed back and closed is kept on the record (and in the audit log by the
console).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.channels.intake import MAX_TEXT, cleaned
from bot.clinic import Clinic
from bot.handoff import wording
from bot.store.cases import case_for
from bot.store.db import utcnow
from bot.store.models import (
    HANDOFF_CALLBACK,
    HANDOFF_CLOSED,
    HANDOFF_LIVE,
    HANDOFF_RETURNED,
    HANDOFF_TAKEN,
    HANDOFF_WAITING,
    Handoff,
    HandoffMessage,
)

IN, OUT = "in", "out"


class Outgoing(NamedTuple):
    """A message for the patient, as the Rasa server sends it."""

    id: int
    channel: str
    recipient: str  # the conversation id
    text: str
    sender_name: str | None  # None for a notice from the clinic


class HandoffError(ValueError):
    """An action the hand-off's state does not allow; the message is shown to the member of staff."""


def live_for(session: Session, conversation_id: str) -> Handoff | None:
    """The conversation's hand-off while a person has (or is about to have) the chat."""
    return session.execute(select(Handoff).where(Handoff.conversation_id == conversation_id,
                                                 Handoff.status.in_(HANDOFF_LIVE))
                           .order_by(Handoff.id.desc()).limit(1)).scalar_one_or_none()


def request(session: Session, conversation_id: str, channel: str) -> Handoff:
    """The patient asked for a person: queue the conversation (once; asking again keeps its place)."""
    case_for(session, conversation_id, channel=channel)  # the console lists it at once, before the sync
    return _queued(session, conversation_id, channel, "patient")


def take_over(session: Session, conversation_id: str, channel: str, username: str, clinic: Clinic) -> Handoff:
    """A member of staff steps into a conversation the assistant is holding ("Take over")."""
    return take(session, _queued(session, conversation_id, channel, "staff"), username, clinic)


def _queued(session: Session, conversation_id: str, channel: str, reason: str) -> Handoff:
    """The conversation's live hand-off, queued now if it has none."""
    handoff = live_for(session, conversation_id)
    if handoff is None:
        handoff = Handoff(conversation_id=conversation_id, channel=channel, status=HANDOFF_WAITING,
                          reason=reason, requested_at=utcnow())
        session.add(handoff)
        session.flush()
    return handoff


def take(session: Session, handoff: Handoff, username: str, clinic: Clinic) -> Handoff:
    """Take a queued chat, or take it over from a colleague; the patient is told who joined."""
    _current(session, handoff)
    if handoff.status == HANDOFF_CALLBACK:
        raise HandoffError("Nobody took this chat in time: the patient was told nobody is free and offered a call "
                           "back. To write to them now, use Take over on the conversation's page.")
    if not handoff.live:
        raise HandoffError("This chat has ended.")
    if handoff.status == HANDOFF_TAKEN and handoff.taken_by == username:
        return handoff
    handoff.status, handoff.taken_by, handoff.taken_at = HANDOFF_TAKEN, username, utcnow()
    notify(session, handoff, wording.say("joined", clinic, username))
    return handoff


def reply(session: Session, handoff: Handoff, username: str, text: str, clinic: Clinic) -> HandoffMessage:
    """A staff reply, sent to the patient as "Sam from Riverside Physiotherapy"."""
    _current(session, handoff)
    if not handoff.live:
        raise HandoffError("This chat has ended: the patient can no longer get replies here.")
    if handoff.status != HANDOFF_TAKEN or handoff.taken_by != username:
        raise HandoffError("Take the chat before replying: someone else has it, or nobody has taken it yet.")
    body = cleaned(text or "").strip()
    if not body:
        raise HandoffError("Write a reply first.")
    if len(body) > MAX_TEXT:
        raise HandoffError(f"Replies can be at most {MAX_TEXT:,} characters.")
    message = HandoffMessage(handoff_id=handoff.id, direction=OUT, author=username,
                             sender_name=wording.sender_name(clinic, username), text=body, at=utcnow())
    session.add(message)
    session.flush()
    return message


def hand_back(session: Session, handoff: Handoff, username: str, clinic: Clinic) -> Handoff:
    """Return the chat to the assistant, which answers the patient's next message."""
    return _end(session, handoff, username, HANDOFF_RETURNED, wording.say("handed_back", clinic, username))


def close(session: Session, handoff: Handoff, username: str, clinic: Clinic) -> Handoff:
    return _end(session, handoff, username, HANDOFF_CLOSED, wording.say("closed", clinic, username))


def _end(session: Session, handoff: Handoff, username: str, status: str, notice: str) -> Handoff:
    _current(session, handoff)
    if not handoff.live:
        raise HandoffError("This chat has already ended.")
    if handoff.status == HANDOFF_TAKEN and handoff.taken_by != username:
        raise HandoffError("Someone else has this chat: take it first.")
    handoff.status, handoff.ended_by, handoff.ended_at = status, username, utcnow()
    notify(session, handoff, notice)
    return handoff


def _current(session: Session, handoff: Handoff) -> None:
    """Read the record again, locked until the commit (PostgreSQL): the chat may have timed out, or the patient
    started over, since the page loaded it; a take must not bring an ended chat back to life."""
    session.refresh(handoff, with_for_update=True)


def record_patient(session: Session, handoff: Handoff, text: str) -> HandoffMessage:
    message = HandoffMessage(handoff_id=handoff.id, direction=IN, text=text, at=utcnow(), delivered_at=utcnow())
    session.add(message)
    session.flush()
    return message


def notify(session: Session, handoff: Handoff, text: str) -> None:
    """A notice to the patient from the clinic (no sender's name), for the outbox to send."""
    session.add(HandoffMessage(handoff_id=handoff.id, direction=OUT, text=text, at=utcnow()))
    session.flush()


def queue(session: Session, *, ended: int = 20) -> tuple[list[Handoff], list[Handoff]]:
    """Live hand-offs (waiting ones first, longest waiting first) and the latest ended ones."""
    live = session.execute(select(Handoff).where(Handoff.status.in_(HANDOFF_LIVE))
                           .order_by((Handoff.status == HANDOFF_TAKEN), Handoff.requested_at)).scalars().all()
    done = session.execute(select(Handoff).where(Handoff.status.not_in(HANDOFF_LIVE))
                           .order_by(Handoff.ended_at.desc()).limit(ended)).scalars().all()
    return list(live), list(done)


def waiting_count(session: Session) -> int:
    return len(session.execute(select(Handoff.id).where(Handoff.status == HANDOFF_WAITING)).all())


def latest_for(session: Session, conversation_id: str) -> Handoff | None:
    """The conversation's most recent hand-off, live or not."""
    return session.execute(select(Handoff).where(Handoff.conversation_id == conversation_id)
                           .order_by(Handoff.id.desc()).limit(1)).scalar_one_or_none()


def messages_after(session: Session, conversation_id: str, after_id: int) -> list[HandoffMessage]:
    """The messages of the conversation's hand-offs after the one with id `after_id`."""
    return list(session.execute(select(HandoffMessage).join(Handoff, Handoff.id == HandoffMessage.handoff_id)
                                .where(Handoff.conversation_id == conversation_id, HandoffMessage.id > after_id)
                                .order_by(HandoffMessage.id)).scalars())


def claim_outgoing(session: Session, channels: tuple[str, ...], limit: int = 50) -> list[Outgoing]:
    """Outgoing messages not yet sent on these channels, each claimed (marked sent) before it goes, so two
    Rasa processes never send one twice; oldest first."""
    rows = session.execute(
        select(HandoffMessage.id, Handoff.channel, Handoff.conversation_id, HandoffMessage.text,
               HandoffMessage.sender_name)
        .join(Handoff, Handoff.id == HandoffMessage.handoff_id)
        .where(HandoffMessage.delivered_at.is_(None), HandoffMessage.direction == OUT,
               Handoff.channel.in_(channels))
        .order_by(HandoffMessage.id).limit(limit)).all()
    claimed = []
    for row in rows:
        won = session.execute(update(HandoffMessage).where(HandoffMessage.id == row.id,
                                                           HandoffMessage.delivered_at.is_(None))
                              .values(delivered_at=utcnow())).rowcount
        if won:
            claimed.append(Outgoing(*row))
    return claimed


def sent_after(session: Session, conversation_id: str, after_id: int, since: datetime) -> list[Outgoing]:
    """What was sent to the conversation after the message `after_id`, since `since`: a widget that was away
    (a closed tab, a lost connection) asks for what it missed when it connects again."""
    rows = session.execute(
        select(HandoffMessage.id, Handoff.channel, Handoff.conversation_id, HandoffMessage.text,
               HandoffMessage.sender_name)
        .join(Handoff, Handoff.id == HandoffMessage.handoff_id)
        .where(Handoff.conversation_id == conversation_id, HandoffMessage.direction == OUT,
               HandoffMessage.id > after_id, HandoffMessage.delivered_at.is_not(None), HandoffMessage.at >= since)
        .order_by(HandoffMessage.id).limit(50)).all()
    return [Outgoing(*row) for row in rows]
