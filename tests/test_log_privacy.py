"""Patients' words never reach the logs, even when something fails."""

from __future__ import annotations

import json
import logging
import uuid

from bot.log_privacy import RedactPatientData, install
from tests.conftest import RunningBot

STORY = "my kneecap grinds going downstairs"


def record(message: str, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, None) if exc else None
    return logging.LogRecord("rasa.core.channels.rest", logging.ERROR, __file__, 1, message, (), exc_info)


def formatted(rec: logging.LogRecord) -> str:
    assert RedactPatientData().filter(rec)
    return logging.Formatter("%(levelname)s %(name)s - %(message)s").format(rec)


def test_structured_error_lines_keep_the_event_and_drop_the_text() -> None:
    line = json.dumps({"text": STORY, "event": "rest.message.received.failure", "level": "error",
                       "exception": [{"exc_type": "ClinicConfigError", "frames": [{"locals": {"text": STORY}}]}]})
    out = formatted(record(line))
    assert "rest.message.received.failure" in out and "ClinicConfigError" in out
    assert "kneecap" not in out


def test_exception_messages_are_reduced_to_their_type() -> None:
    error = RuntimeError(f'500, body={{"tracker": {{"latest_message": {{"text": "{STORY}"}}}}}}')
    out = formatted(record("Encountered an exception while running action", error))
    assert "RuntimeError" in out and "kneecap" not in out


def test_ordinary_lines_pass_unchanged() -> None:
    assert formatted(record("Rasa server is up and running.")).endswith("Rasa server is up and running.")


def test_a_message_left_to_the_rules_on_purpose_is_no_error() -> None:
    assert formatted(record("expected: a request_human message is left to the rules")).startswith("INFO ")
    assert formatted(record("Failed to execute custom action")).startswith("ERROR ")


def test_install_filters_the_root_handlers_once() -> None:
    handler = logging.StreamHandler()
    logging.getLogger().addHandler(handler)
    try:
        install()
        install()
        assert sum(isinstance(f, RedactPatientData) for f in handler.filters) == 1
    finally:
        logging.getLogger().removeHandler(handler)


def test_the_running_servers_log_no_patient_words(running_bot: RunningBot) -> None:
    sender = f"privacy-{uuid.uuid4().hex[:8]}"
    running_bot.say(sender, "my kneecap aches near the zebrafinch tattoo since my marathon")
    running_bot.say(sender, "I'm 34, my name is Priyanka Quartermaine")
    log = (running_bot.database.parent / "serve.log").read_text()
    assert "zebrafinch" not in log and "Quartermaine" not in log
