"""A logging filter that keeps patients' words out of the servers' logs.

Rasa logs a failed request with the whole conversation: structured (JSON) error lines carry
the message text and stack locals, and an action server's error reply carries the tracker.
This filter keeps what an operator needs (which event, which exception type) and drops the
rest. `install()` puts it on the root logger's handlers; the Rasa server and the action server
call it when they load our code (after they have set up their own logging).
"""

from __future__ import annotations

import json
import logging

MAX_LENGTH = 300  # longer lines are cut: an operator needs the event, not a transcript
# An action that leaves a message to the rules on purpose says so with this prefix; Rasa logs every
# rejected action as an error, which would page someone for a patient asking for a person.
EXPECTED_REJECTION = "expected: "


class RedactPatientData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and record.exc_info[0] is not None:
            # Exception messages can quote request bodies: keep the type only.
            message = f"{message} [{record.exc_info[0].__name__}]"
            record.exc_info = None
            record.exc_text = None
        record.msg = _redact(message)
        record.args = ()
        if message.startswith(EXPECTED_REJECTION) and record.levelno > logging.INFO:
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def _redact(message: str) -> str:
    stripped = message.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            return "[log line withheld: it may contain patient data]"
        exceptions = [e.get("exc_type") for e in data.get("exception") or [] if isinstance(e, dict)]
        return json.dumps({"event": data.get("event"), "level": data.get("level"), "exceptions": exceptions})
    return message if len(message) <= MAX_LENGTH else message[:MAX_LENGTH] + " [cut]"


def install() -> None:
    """Filter every handler of the root logger (idempotent)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactPatientData) for f in handler.filters):
            handler.addFilter(RedactPatientData())
