"""A conversation's messages, read from Rasa's events for the conversation page and exports.

Every string is cleaned (bot.store.safe_text): a lone surrogate in a message must not stop the page
or the export from being encoded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.handoff import history
from bot.store.db import from_epoch, usable_epoch
from bot.store.models import Handoff, events
from bot.store.safe_text import clean_data


@dataclass(frozen=True)
class Message:
    # "patient" | "assistant" | "session" (a new session started) | "staff" (a person's reply in a
    # hand-off) | "notice" (what the patient was told about a hand-off) | "handoff" (a hand-off began or ended)
    sender: str
    text: str
    at: datetime | None
    buttons: list[str] = field(default_factory=list)  # the quick replies the assistant offered
    tapped: bool = False  # the patient tapped a quick reply rather than typing
    name: str = ""  # who wrote a staff reply, as the patient saw it ("Sam from Riverside Physiotherapy")
    author: str = ""  # the staff username of a reply or of a hand-off's step
    handoff_id: int | None = None  # the hand-off a staff, notice, handoff or patient message belongs to
    message_id: int | None = None  # the hand-off message's id (the live page streams those after it)


def raw_events(session: Session, conversation_id: str) -> Iterator[dict[str, Any]]:
    """Every event of the conversation as Rasa stored it, oldest first."""
    query = select(events.c.id, events.c.type_name, events.c.timestamp, events.c.data) \
        .where(events.c.sender_id == conversation_id).order_by(events.c.id)
    for event_id, type_name, timestamp, data in session.execute(query):
        try:
            body = clean_data(json.loads(data)) if data else {}
        except (ValueError, RecursionError):
            body = {"unreadable": True}
        if not isinstance(body, dict):
            body = {"unreadable": True}
        yield {"id": event_id, "type": clean_data(type_name), "timestamp": usable_epoch(timestamp), "data": body}


def messages(session: Session, conversation_id: str) -> list[Message]:
    """The conversation as the patient saw it: the assistant's part and any hand-offs to a person, by time."""
    found = assistant_messages(session, conversation_id)
    handed = handoff_messages(session, conversation_id)
    if not handed:
        return found
    # A stable merge by time: each list is in order already, and the assistant's part wins a tie.
    merged = sorted([(m.at or datetime.min, 0, i, m) for i, m in enumerate(found)]
                    + [(m.at or datetime.min, 1, i, m) for i, m in enumerate(handed)], key=lambda t: t[:3])
    return [m for *_, m in merged]


def handoff_messages(session: Session, conversation_id: str) -> list[Message]:
    """Each hand-off of the conversation: when it was asked for or taken over, who took it, what the patient
    and the staff wrote meanwhile and what the patient was told, and how it ended."""
    found: list[Message] = []
    handoffs = session.execute(select(Handoff).where(Handoff.conversation_id == conversation_id)
                               .order_by(Handoff.id)).scalars().all()
    for handoff in handoffs:
        steps = [(handoff.requested_at, "Asked to talk to a person" if handoff.reason == "patient"
                  else "Staff took over from the assistant", "")]
        if handoff.taken_at:
            steps.append((handoff.taken_at, f"Taken by {handoff.taken_by}", handoff.taken_by or ""))
        if handoff.ended_at:
            steps.append((handoff.ended_at, history.ending(handoff), handoff.ended_by or ""))
        items = [(at, 0, Message("handoff", clean_data(text), at, author=author, handoff_id=handoff.id))
                 for at, text, author in steps]
        for m in handoff.messages:
            sender = "patient" if m.direction == "in" else ("staff" if m.author else "notice")
            items.append((m.at, 1, Message(sender, clean_data(m.text), m.at, name=clean_data(m.sender_name or ""),
                                           author=m.author or "", handoff_id=handoff.id, message_id=m.id)))
        found.extend(m for *_, m in sorted(items, key=lambda t: (t[0], t[1])))
    return found


def assistant_messages(session: Session, conversation_id: str) -> list[Message]:
    """The conversation with the assistant as the patient saw it.

    A tapped quick reply shows as the title of the button that carried its payload (the latest
    button offered with it, whichever message it was on); the intent the website widget sends
    unseen when it opens ("/greet") is left out; a "New session" divider goes where a later session
    began, before that session's greeting (action_session_start speaks before its SessionStarted).
    """
    found: list[Message] = []
    offered: dict[str, str] = {}  # payload -> title, of every quick reply offered so far
    starting = False  # between an action_session_start and its SessionStarted
    typed_this_session = False

    def divide(at: datetime | None) -> None:
        if found and found[-1].sender != "session":
            found.append(Message("session", "New session", at))

    for event in raw_events(session, conversation_id):
        data, at = event["data"], from_epoch(event["timestamp"]) if event["timestamp"] is not None else None
        if event["type"] == "action" and data.get("name") == SESSION_START:
            divide(at)
            starting, typed_this_session = True, False
        elif event["type"] == "session_started":
            if not starting:  # a session started without the action (older trackers)
                divide(at)
                typed_this_session = False
            starting = False
        elif event["type"] == "bot":
            extra = data.get("data")
            offered_buttons = extra.get("buttons") if isinstance(extra, dict) else None
            buttons = [b for b in offered_buttons if isinstance(b, dict)] if isinstance(offered_buttons, list) else []
            offered.update((_payload_key(str(b.get("payload"))), str(b.get("title", ""))) for b in buttons)
            found.append(Message("assistant", str(data.get("text") or ""), at,
                                 [str(b.get("title", "")) for b in buttons]))
        elif event["type"] == "user":
            text = str(data.get("text") or "")
            key = _payload_key(text)
            if key.startswith("/") and key in offered:
                found.append(Message("patient", offered[key], at, tapped=True))
            elif not typed_this_session and _BARE_INTENT.fullmatch(key):
                continue  # the widget's opening intent: nothing the patient typed or saw
            else:
                found.append(Message("patient", text, at))
            typed_this_session = True
    return found


SESSION_START = "action_session_start"
_BARE_INTENT = re.compile(r"/\w+")
_PAYLOAD = re.compile(r"/(\w+)(\{.*\})", re.DOTALL)


def _payload_key(text: str) -> str:
    """A payload in one spelling: '/inform{"a": 1}' and '/inform{"a":1}' are the same reply."""
    text = text.strip()
    match = _PAYLOAD.fullmatch(text)
    if not match:
        return text
    try:
        entities = json.dumps(json.loads(match.group(2)), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):
        return text
    return f"/{match.group(1)}{entities}"
