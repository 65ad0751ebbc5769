"""How a conversation's hand-offs went, for staff: the console's labels and the case export.

Staff names are usernames; patients' and staff's words are left out of the export (the Rasa events it
already holds are all the patient's words it gives), so it adds no personal data.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.handoff.queue import IN
from bot.handoff.unstaffed import BY_NOBODY, BY_PATIENT
from bot.store.models import (
    HANDOFF_CALLBACK,
    HANDOFF_CLOSED,
    HANDOFF_RESTARTED,
    HANDOFF_RETURNED,
    HANDOFF_TAKEN,
    AuditEntry,
    Handoff,
)

OUTCOMES = {"waiting": "waiting", HANDOFF_TAKEN: "with staff", HANDOFF_RETURNED: "handed back",
            HANDOFF_CLOSED: "closed", HANDOFF_CALLBACK: "call back", HANDOFF_RESTARTED: "patient started over"}
# The audit log's hand-off entries, as the export names them; details are "live chat 7[, from sam | : why]".
STEPS = {"handoff_take": "taken", "handoff_take_over": "taken over from the assistant",
         "handoff_hand_back": "handed back", "handoff_close": "closed"}
UNSTAFFED_STEPS = {BY_NOBODY: "moved to call back", BY_PATIENT: "patient started over"}
_DETAIL = re.compile(r"live chat (\d+)(?:, from (\S+))?")


def outcome(handoff: Handoff) -> str:
    """A word or two for lists: "handed back", "closed", "call back"."""
    return OUTCOMES.get(handoff.status, handoff.status)


def ending(handoff: Handoff) -> str:
    """How the chat ended, as a sentence (the live chat page, the transcript); "" while it is live."""
    if handoff.status == HANDOFF_RETURNED:
        return f"Handed back to the assistant by {handoff.ended_by}"
    if handoff.status == HANDOFF_CLOSED:
        return f"Chat closed by {handoff.ended_by}"
    if handoff.status == HANDOFF_CALLBACK:
        return f"Nobody took it within {_waited(handoff)}: moved to call back (the patient was told)"
    if handoff.status == HANDOFF_RESTARTED:
        return "Chat closed: the patient started over"
    return ""


def _waited(handoff: Handoff) -> str:
    seconds = round((handoff.ended_at - handoff.requested_at).total_seconds()) if handoff.ended_at else 0
    if seconds < 90:
        return f"{seconds} seconds"
    return f"{round(seconds / 60)} minutes"


def export(session: Session, conversation_id: str, case_id: int | None) -> list[dict[str, Any]]:
    """Each hand-off of the conversation: who asked, who took it and when (colleagues' take-overs too, from the
    audit log), how it ended, and how many messages went each way; never what was said."""
    steps: dict[int, list[dict[str, Any]]] = {}
    if case_id is not None:
        entries = session.execute(select(AuditEntry).where(AuditEntry.case_id == case_id,
                                                           AuditEntry.action.in_(tuple(STEPS)))
                                  .order_by(AuditEntry.id)).scalars()
        for entry in entries:
            match = _DETAIL.match(entry.detail or "")
            if match:
                step = {"at": _iso(entry.at), "by": entry.username,
                        "step": UNSTAFFED_STEPS.get(entry.username) or STEPS[entry.action]}
                if match.group(2):
                    step["from"] = match.group(2)
                steps.setdefault(int(match.group(1)), []).append(step)
    handoffs = session.execute(select(Handoff).where(Handoff.conversation_id == conversation_id)
                               .order_by(Handoff.id)).scalars().all()
    return [_exported(h, steps.get(h.id, [])) for h in handoffs]


def _exported(handoff: Handoff, steps: list[dict[str, Any]]) -> dict[str, Any]:
    if handoff.reason == "patient":  # a take-over by staff is in the audit log already
        steps = [{"at": _iso(handoff.requested_at), "by": BY_PATIENT, "step": "asked for a person"}, *steps]
    counts = {"from_patient": 0, "staff_replies": 0, "notices": 0}
    for m in handoff.messages:
        counts["from_patient" if m.direction == IN else "staff_replies" if m.author else "notices"] += 1
    return {
        "id": handoff.id, "channel": handoff.channel,
        "asked_by": "patient" if handoff.reason == "patient" else "staff",
        "requested_at": _iso(handoff.requested_at), "status": handoff.status, "outcome": outcome(handoff),
        "taken_by": handoff.taken_by, "taken_at": _iso(handoff.taken_at),
        "ended_by": handoff.ended_by, "ended_at": _iso(handoff.ended_at), "ending": ending(handoff) or None,
        "steps": steps, "messages": counts,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() + "Z" if value else None
