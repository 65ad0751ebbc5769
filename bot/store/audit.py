"""The audit log: who viewed, exported, edited or erased which case, and when."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.db import utcnow
from bot.store.models import AuditEntry

# The actions the console records; anything else is a programming error.
ACTIONS = frozenset({
    "login", "logout", "view", "export_csv", "export_json", "note", "review", "unreview", "correct", "erase",
    "retention_erase", "user_create", "user_update", "export_agreement", "export_vignettes",
    "handoff_take", "handoff_take_over", "handoff_hand_back", "handoff_close",
})


def record(session: Session, username: str, action: str, case_id: int | None = None, detail: str = "") -> AuditEntry:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(at=utcnow(), username=username, action=action, case_id=case_id, detail=detail[:1000])
    session.add(entry)
    session.flush()
    return entry


def recent(session: Session, *, before_id: int | None = None, limit: int = 100) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return list(session.execute(query).scalars())
