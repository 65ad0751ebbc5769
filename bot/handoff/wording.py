"""The patient-facing texts of a hand-off (texts.yml), filled in with the clinic's details."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from bot.clinic import Clinic

TEXTS = Path(__file__).with_name("texts.yml")


@lru_cache(maxsize=1)
def _texts() -> dict[str, str]:
    return yaml.safe_load(TEXTS.read_text(encoding="utf-8"))


def staff_first_name(username: str) -> str:
    """"sam.taylor" -> "Sam": what the patient calls the person they are talking to."""
    first = username.replace("_", ".").replace("-", ".").split(".")[0] or username
    return first[:1].upper() + first[1:]


def say(key: str, clinic: Clinic, staff: str = "", **extra: str) -> str:
    return _texts()[key].format(staff=staff_first_name(staff) if staff else "", clinic=clinic.name,
                                phone=clinic.phone, emergency=clinic.emergency_number, **extra)


def timed_out(clinic: Clinic, level: str | None) -> str:
    """Nobody took the chat: the call-back route, with that route's own advice for the triage level so far;
    an emergency is never offered a call back (the booking form would refuse it too)."""
    if level == "emergency":
        return say("timed_out_emergency", clinic)
    return say("timed_out", clinic, safety=safety_line(clinic, level))


def safety_line(clinic: Clinic, level: str | None) -> str:
    """What the call-back route's confirmation says to do meanwhile (bot/booking/texts.yml), by triage level."""
    from bot.booking import wording as booking  # the booking catalogue, checked when it loads

    if level == "urgent":
        from bot.dialogue import urgent_escalation  # the assistant's modules: only for an urgent case

        return booking.text("after_urgent", urgent_care=clinic.urgent_care, escalation=urgent_escalation(clinic))
    return booking.text("after_routine", emergency_number=clinic.emergency_number)


def sender_name(clinic: Clinic, staff: str) -> str:
    return say("sender_name", clinic, staff)


def with_name(sender: str, text: str) -> str:
    """A staff reply on a channel that shows one sender for every message (Messenger, WhatsApp)."""
    return _texts()["reply_with_name"].format(sender_name=sender, text=text)
