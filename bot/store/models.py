"""Our tables, beside Rasa's `events` in the same database.

`cases` holds one row per conversation (Rasa sender id): what the console lists. The
conversation columns (start, last activity, channel, first message, counts) are derived from
Rasa's events by `bot.store.sync`; the triage columns are written by the action server
through `record_case`. Schema changes go through Alembic (migrations/), never create_all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import declarative_base, relationship

from bot.store.db import utcnow
from bot.triage.vocabulary import LEVELS

# Named constraints so that Alembic migrations can refer to them on every database.
metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})
Base = declarative_base(metadata=metadata)

TRIAGE_LEVELS: tuple[str, ...] = LEVELS  # most urgent first
ROLES: tuple[str, ...] = ("receptionist", "clinician", "admin")  # each role can do what the ones before it can
BOOKED = "booked"
CANCELLED, MOVED = "cancelled", "moved"
BOOKING_STATUSES: tuple[str, ...] = (BOOKED, CANCELLED, MOVED)  # a booking's, in the bookings table

# Rasa's tracker store table, as rasa.core.tracker_store.SQLTrackerStore defines it. We read it,
# erase from it, and create it when the console's migrations run before Rasa ever has.
events = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime)

    def can(self, role: str) -> bool:
        """True when this user's role includes `role`'s rights."""
        return bool(self.active) and ROLES.index(self.role) >= ROLES.index(role)


class StaffSession(Base):
    """A signed-in browser. The cookie holds a random token; only its keyed hash is stored."""

    __tablename__ = "staff_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    user_id = Column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)

    user = relationship(StaffUser, lazy="joined")


class Case(Base):
    __tablename__ = "cases"
    # AUTOINCREMENT: an erased case's id is never reused, so audit entries keep pointing at nothing
    # rather than at somebody else's conversation.
    __table_args__ = (
        Index("ix_cases_started", "started_at", "id"),
        Index("ix_cases_level_started", "triage_level", "started_at", "id"),
        Index("ix_cases_condition_started", "top_condition", "started_at", "id"),
        Index("ix_cases_channel_started", "channel", "started_at", "id"),
        Index("ix_cases_red_flag_started", "has_red_flag", "started_at", "id"),
        Index("ix_cases_booking_started", "booking_status", "started_at", "id"),
        Index("ix_cases_attention", "attention_rank", "started_at", "id"),
        Index("ix_cases_last_activity", "last_activity_at"),
        {"sqlite_autoincrement": True},
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, unique=True)  # Rasa's sender id
    channel = Column(String(64))
    started_at = Column(DateTime, nullable=False)
    last_activity_at = Column(DateTime)
    ended_at = Column(DateTime)  # when the action server last recorded the triage
    completed_at = Column(DateTime)  # when a triage level was first recorded
    first_message = Column(Text)
    message_count = Column(Integer, nullable=False, default=0)  # patient and assistant messages
    duration_seconds = Column(Integer, nullable=False, default=0)
    last_event_id = Column(Integer)

    answers = Column(JSON, nullable=False, default=dict)
    conditions = Column(JSON, nullable=False, default=list)  # [{"id": ..., "score": ...}], best first
    top_condition = Column(String(64))
    triage_level = Column(String(16))
    red_flags = Column(JSON, nullable=False, default=list)
    has_red_flag = Column(Boolean, nullable=False, default=False)
    advice = Column(JSON, nullable=False, default=list)
    reasons = Column(JSON, nullable=False, default=list)

    booking_status = Column(String(32))
    reviewed_at = Column(DateTime)
    reviewed_by = Column(String(64))
    # Position in the "needs attention" queue (see cases.ATTENTION); NULL when nothing is pending.
    attention_rank = Column(SmallInteger)

    notes = relationship("Note", back_populates="case", cascade="all, delete-orphan", passive_deletes=True,
                         order_by="Note.id")
    corrections = relationship("Correction", back_populates="case", cascade="all, delete-orphan",
                               passive_deletes=True, order_by="Correction.id")
    callbacks = relationship("Callback", back_populates="case", cascade="all, delete-orphan", passive_deletes=True,
                             order_by="Callback.id")

    @property
    def booked(self) -> bool:
        return self.booking_status == BOOKED

    @property
    def correction(self) -> Correction | None:
        """The clinician's latest word on this case, shown beside the bot's outcome."""
        return self.corrections[-1] if self.corrections else None

    # A clinician's review is their latest correction. A field left "Unchanged" there means they keep the
    # assistant's value, so it counts as agreeing (bot.store.queries filters by the same rule in SQL).
    @property
    def clinician_level(self) -> str | None:
        correction = self.correction
        return None if correction is None else correction.triage_level or self.triage_level

    @property
    def clinician_condition(self) -> str | None:
        correction = self.correction
        return None if correction is None else correction.condition or self.top_condition

    @property
    def clinician_agrees(self) -> bool:
        """The latest correction keeps both the assistant's level and its likely condition."""
        return self.correction is not None and (self.clinician_level, self.clinician_condition) == (
            self.triage_level, self.top_condition)

    @property
    def open_callbacks(self) -> list[Callback]:
        return [c for c in self.callbacks if c.status == "open"]


class Note(Base):
    __tablename__ = "staff_notes"

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(64), nullable=False)  # a name, not a key: notes outlive staff accounts
    body = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    case = relationship(Case, back_populates="notes")


class Correction(Base):
    """A clinician's own triage level and/or condition; the bot's outcome stays as it was."""

    __tablename__ = "corrections"

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    author = Column(String(64), nullable=False)
    triage_level = Column(String(16))
    condition = Column(String(64))
    comment = Column(Text, nullable=False, default="")
    created_at = Column(DateTime, nullable=False, default=utcnow)

    case = relationship(Case, back_populates="corrections")


class Callback(Base):
    __tablename__ = "callbacks"

    id = Column(Integer, primary_key=True)
    case_id = Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False, index=True)
    name = Column(String(200), nullable=False)
    phone = Column(String(64), nullable=False)
    preferred_time = Column(String(200), nullable=False, default="")
    reason = Column(Text, nullable=False, default="")
    status = Column(String(16), nullable=False, default="open")
    created_at = Column(DateTime, nullable=False, default=utcnow)

    case = relationship(Case, back_populates="callbacks")


class Booking(Base):
    """An appointment booked in the chat: the built-in scheduler's diary, and a record of Cliniko's.

    For the built-in scheduler a unique index on (practitioner, start) over the rows still active
    makes double booking impossible: two patients taking the same slot at the same moment race to
    one INSERT (or a move's UPDATE) and the database lets only one win. A cancelled row stays, for
    the console, and frees its slot. Cliniko keeps its own diary: its rows (provider "cliniko",
    external_id its appointment id) are how a patient finds their booking again by its code.
    """

    __tablename__ = "bookings"
    __table_args__ = (
        Index("uq_bookings_active_slot", "practitioner_id", "starts_at", unique=True,
              sqlite_where=text("status != 'cancelled' AND provider = 'builtin'"),
              postgresql_where=text("status != 'cancelled' AND provider = 'builtin'")),
    )

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)  # Rasa's sender id
    practitioner_id = Column(String(64), nullable=False)
    appointment_type_id = Column(String(64), nullable=False)
    starts_at = Column(DateTime, nullable=False, index=True)  # naive UTC, like every stored time
    ends_at = Column(DateTime, nullable=False)
    first_name = Column(String(100), nullable=False)
    last_name = Column(String(100), nullable=False)
    phone = Column(String(32))
    email = Column(String(254))
    notes = Column(Text, nullable=False, default="")  # the triage summary, for the physio
    created_at = Column(DateTime, nullable=False, default=utcnow)
    # The code in the patient's confirmation: with their phone or email it finds the booking again.
    confirmation_code = Column(String(16), unique=True)  # NULL on bookings made before codes existed
    status = Column(String(16), nullable=False, default=BOOKED, server_default=BOOKED)  # BOOKING_STATUSES
    changed_at = Column(DateTime)  # when it was last cancelled or moved
    changed_in = Column(String(255), index=True)  # the conversation (Rasa sender id) that cancelled or moved it
    previous_starts_at = Column(DateTime)  # the time it was at before the last move
    provider = Column(String(16), nullable=False, default="builtin", server_default="builtin")
    external_id = Column(String(64))  # the provider's appointment id (Cliniko's)

    @hybrid_property
    def active(self) -> bool:
        """Still an appointment (booked, or moved to a new time), not cancelled."""
        return self.status != CANCELLED


HANDOFF_WAITING, HANDOFF_TAKEN, HANDOFF_RETURNED, HANDOFF_CLOSED = "waiting", "taken", "returned", "closed"
HANDOFF_CALLBACK = "callback"  # nobody took it in time: the patient was offered a call back
HANDOFF_RESTARTED = "restarted"  # the patient started the conversation over
HANDOFF_LIVE: tuple[str, ...] = (HANDOFF_WAITING, HANDOFF_TAKEN)  # the assistant is silent in these
HANDOFF_STATUSES: tuple[str, ...] = (*HANDOFF_LIVE, HANDOFF_RETURNED, HANDOFF_CLOSED, HANDOFF_CALLBACK,
                                     HANDOFF_RESTARTED)


class Handoff(Base):
    """A conversation passed to a person: queued (waiting), taken by a member of staff, then handed
    back to the assistant (returned) or ended (closed). While it is live the assistant is silent."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_conversation_status", "conversation_id", "status"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False)  # Rasa's sender id
    channel = Column(String(64), nullable=False)
    status = Column(String(16), nullable=False, default=HANDOFF_WAITING, index=True)  # HANDOFF_STATUSES
    reason = Column(String(16), nullable=False, default="patient")  # "patient" asked, or "staff" took over
    requested_at = Column(DateTime, nullable=False, default=utcnow)
    taken_at = Column(DateTime)
    taken_by = Column(String(64))  # a username (a name, not a key: the record outlives accounts)
    ended_at = Column(DateTime)
    ended_by = Column(String(64))

    messages = relationship("HandoffMessage", back_populates="handoff", cascade="all, delete-orphan",
                            passive_deletes=True, order_by="HandoffMessage.id")

    @property
    def live(self) -> bool:
        return self.status in HANDOFF_LIVE


class HandoffMessage(Base):
    """What was said during a hand-off: the patient's messages (never shown to the assistant), staff
    replies and the notices the patient got. Outgoing ones wait for the Rasa server to send them
    (`delivered_at` NULL) on the patient's channel."""

    __tablename__ = "handoff_messages"
    __table_args__ = (Index("ix_handoff_messages_outbox", "delivered_at", "direction"),)

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    direction = Column(String(8), nullable=False)  # "in" from the patient, "out" to them
    author = Column(String(64))  # the staff username of a reply; NULL for the patient and for notices
    sender_name = Column(String(200))  # as the patient sees it: "Sam from Riverside Physiotherapy"
    text = Column(Text, nullable=False)
    at = Column(DateTime, nullable=False, default=utcnow)
    delivered_at = Column(DateTime)

    handoff = relationship(Handoff, back_populates="messages")


class AuditEntry(Base):
    """Who did what to which case, when.

    Cases are named by their number, not the conversation id (which can be a phone number), so the
    log keeps no personal data and survives erasure.
    """

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    username = Column(String(64), nullable=False)
    action = Column(String(32), nullable=False)
    case_id = Column(Integer, index=True)
    detail = Column(Text, nullable=False, default="")


class SyncState(Base):
    """How far `bot.store.sync` has read Rasa's events table."""

    __tablename__ = "sync_state"

    name = Column(String(64), primary_key=True)
    value = Column(Integer, nullable=False)


def as_dict(case: Case) -> dict[str, Any]:
    """A case as plain JSON-able data (exports)."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() + "Z" if value else None

    correction = case.correction
    return {
        "case": case.id,
        "conversation_id": case.conversation_id,
        "channel": case.channel,
        "started_at": iso(case.started_at),
        "last_activity_at": iso(case.last_activity_at),
        "ended_at": iso(case.ended_at),
        "completed_at": iso(case.completed_at),
        "first_message": case.first_message,
        "message_count": case.message_count,
        "duration_seconds": case.duration_seconds,
        "answers": case.answers,
        "conditions": case.conditions,
        "triage_level": case.triage_level,
        "red_flags": case.red_flags,
        "advice": case.advice,
        "reasons": case.reasons,
        "booking_status": case.booking_status,
        "reviewed_at": iso(case.reviewed_at),
        "reviewed_by": case.reviewed_by,
        "correction": None if correction is None else {
            "triage_level": correction.triage_level, "condition": correction.condition,
            "comment": correction.comment, "by": correction.author, "at": iso(correction.created_at)},
        "notes": [{"by": n.author, "at": iso(n.created_at), "text": n.body} for n in case.notes],
        "callbacks": [{"name": c.name, "phone": c.phone, "preferred_time": c.preferred_time, "reason": c.reason,
                       "status": c.status, "at": iso(c.created_at)} for c in case.callbacks],
    }
