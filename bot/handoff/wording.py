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


def sender_name(clinic: Clinic, staff: str) -> str:
    return say("sender_name", clinic, staff)


def with_name(sender: str, text: str) -> str:
    """A staff reply on a channel that shows one sender for every message (Messenger, WhatsApp)."""
    return _texts()["reply_with_name"].format(sender_name=sender, text=text)
