"""A conversation's messages, read from Rasa's events for the conversation page and exports.

Every string is cleaned (bot.store.safe_text): a lone surrogate in a message must not stop the page
or the export from being encoded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.db import from_epoch, usable_epoch
from bot.store.models import events
from bot.store.safe_text import clean_data


@dataclass(frozen=True)
class Message:
    sender: str  # "patient" | "assistant" | "session" (a new session started)
    text: str
    at: datetime | None
    buttons: list[str] = field(default_factory=list)  # the quick replies the assistant offered
    tapped: bool = False  # the patient tapped a quick reply rather than typing


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
    found: list[Message] = []
    offered: dict[str, str] = {}  # payload -> title of the last quick replies
    for event in raw_events(session, conversation_id):
        data, at = event["data"], from_epoch(event["timestamp"]) if event["timestamp"] is not None else None
        if event["type"] == "session_started" and found:
            found.append(Message("session", "New session", at))
        elif event["type"] == "bot":
            extra = data.get("data")
            offered_buttons = extra.get("buttons") if isinstance(extra, dict) else None
            buttons = [b for b in offered_buttons if isinstance(b, dict)] if isinstance(offered_buttons, list) else []
            offered = {str(b.get("payload")): str(b.get("title", "")) for b in buttons}
            titles = [str(b.get("title", "")) for b in buttons]
            found.append(Message("assistant", str(data.get("text") or ""), at, titles))
        elif event["type"] == "user":
            text = str(data.get("text") or "")
            if text in offered:
                found.append(Message("patient", offered[text], at, tapped=True))
            else:
                found.append(Message("patient", text, at))
    return found
