"""Clinician-reviewed conversations as test vignettes, in the evaluation format of
tests/data/vignettes-own.yml, for `python -m bot.triage evaluate`.

Each vignette: `story` = the patient's first message with personal details removed
(bot.store.redact), `facts` = the answers the assistant collected (only the vocabulary's keys),
`expected` = the clinician's condition and level (a field they left "Unchanged" is the
assistant's), with the condition as the only acceptable one and as the red flag to raise when it is
a red-flag condition. No name, phone, email, sender id or staff comment is written; the id is
the console's case number, which means nothing outside the console.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clinic import ClinicConfigError, clinic
from bot.store.models import Booking, Case
from bot.store.queries import REVIEWED, InboxFilter, iter_cases
from bot.store.redact import DEFAULT_REGION, redact
from bot.store.transcript import raw_events
from bot.triage.vocabulary import RED_FLAG_CONDITIONS, AnswerError, normalise

PERSONAL_SLOTS = ("name", "phone", "email", "contact")  # slots whose names hold these hold personal details


def vignettes(session: Session, selected: InboxFilter, tz: ZoneInfo) -> list[dict[str, Any]]:
    """A vignette for each assessed, clinician-reviewed conversation of the period and channel, oldest first."""
    selected = InboxFilter(since=selected.since, until=selected.until, channel=selected.channel, clinician=REVIEWED)
    reviewed = list(iter_cases(session, selected, tz))  # read whole: each case needs queries of its own
    return [vignette(session, case) for case in reversed(reviewed) if case.clinician_condition]


def vignette(session: Session, case: Case) -> dict[str, Any]:
    level, condition = case.clinician_level, case.clinician_condition
    return {
        "id": f"case-{case.id}",
        "story": redact(case.first_message or "", personal_strings(session, case), _region()),
        "facts": facts(case.answers or {}),
        "expected": {"condition": condition, "acceptable": [condition], "triage_level": level,
                     "red_flags": [condition] if condition in RED_FLAG_CONDITIONS else []},
        "note": f"Reviewed in the console. Assistant: {case.triage_level}, {case.top_condition}; "
                f"clinician: {level}, {condition}.",
    }


def _region() -> str:
    """The clinic's country, for phone numbers written without their country code."""
    try:
        return clinic().country
    except ClinicConfigError:  # the export works without a clinic file; numbers are then read as UK ones
        return DEFAULT_REGION


def facts(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers the engine accepts, each checked on its own (one odd value loses only itself)."""
    kept: dict[str, Any] = {}
    for key, value in answers.items():
        try:
            kept.update(normalise({key: value}))
        except AnswerError:
            continue
    return kept


def personal_strings(session: Session, case: Case) -> list[str]:
    """What the conversation is known to hold about the patient: to be removed wherever it appears."""
    found = [case.conversation_id]
    for callback in case.callbacks:
        found += [callback.name, callback.phone]
    for booking in session.execute(select(Booking).where(Booking.conversation_id == case.conversation_id)).scalars():
        found += [booking.first_name, booking.last_name, booking.phone or "", booking.email or ""]
    for event in raw_events(session, case.conversation_id):
        data = event["data"]
        if event["type"] == "slot" and any(word in str(data.get("name", "")) for word in PERSONAL_SLOTS):
            found += _strings(data.get("value"))
    return [s for s in found if s]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def to_yaml(found: list[dict[str, Any]], *, since: date | None, until: date | None, channel: str | None) -> str:
    period = f"{since or 'the start'} to {until or 'today'}"
    header = (f"# {len(found)} clinician-reviewed conversation(s) from the knee triage console, {period}, "
              f"channel {channel or 'any'}.\n# Personal details removed. Score with: "
              f"python -m bot.triage evaluate FILE\n")
    return header + yaml.safe_dump(found, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)
