"""Whether a patient who asks for a person gets the console's live queue or the call-back route.

HANDOFF_MODE (environment): "hours" (default) hands off during the clinic's opening hours, "always"
at any time (a clinic with the console watched round the clock, and the tests), "off" never. Only
channels the team can write back on are handed off; the REST API has no way to push a reply.

HANDOFF_WAIT_SECONDS (environment, default 180): how long a chat waits for someone to take it before the
patient is offered the call-back route instead (bot.handoff.unstaffed); 0 waits for ever.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime, timezone

from bot.clinic import Clinic

LIVE_CHANNELS = ("socketio", "messenger", "whatsapp", "twilio_whatsapp")
MODES = ("hours", "always", "off")
DEFAULT_WAIT_SECONDS = 180.0


def mode(env: Mapping[str, str] | None = None) -> str:
    value = ((os.environ if env is None else env).get("HANDOFF_MODE") or "hours").strip().lower()
    return value if value in MODES else "hours"


def wait_seconds(env: Mapping[str, str] | None = None) -> float | None:
    """Seconds a chat may wait in the queue; None for no limit. A value that is not a number is the default."""
    raw = ((os.environ if env is None else env).get("HANDOFF_WAIT_SECONDS") or "").strip()
    try:
        value = float(raw) if raw else DEFAULT_WAIT_SECONDS
    except ValueError:
        value = DEFAULT_WAIT_SECONDS
    if value != value or value < 0:  # NaN or negative: a mistake, not "for ever"
        value = DEFAULT_WAIT_SECONDS
    return None if value == 0 or value == float("inf") else value


def is_open(clinic: Clinic, now: datetime | None = None) -> bool:
    """Inside the clinic's opening hours (its local time, closures included)."""
    local = (now or datetime.now(timezone.utc)).astimezone(clinic.tz)
    moment = local.time().replace(tzinfo=None)
    return any(start <= moment < end for start, end in clinic.hours_on(local.date()))


def live_hand_off(clinic: Clinic, channel: str | None, now: datetime | None = None,
                  env: Mapping[str, str] | None = None) -> bool:
    if channel not in LIVE_CHANNELS:
        return False
    chosen = mode(env)
    return chosen == "always" or (chosen == "hours" and is_open(clinic, now))
