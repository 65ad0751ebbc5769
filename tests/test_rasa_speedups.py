"""The action-response check compiled once behaves as Rasa's own."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.lock_store import GuardedLockStore


def test_the_rasa_server_checks_action_responses_with_one_compiled_validator() -> None:
    original = RemoteAction._validate_action_result
    GuardedLockStore()  # what the Rasa server builds from endpoints.yml
    try:
        action = RemoteAction("action_give_assessment", None)
        assert RemoteAction._validate_action_result is not original
        assert action._validate_action_result({"events": [{"event": "slot", "name": "age", "value": 30}],
                                               "responses": [{"text": "hi"}]})
        with pytest.raises(ValidationError, match="Failed to validate Action server response"):
            action._validate_action_result({"events": "not a list"})
        with pytest.raises(ValidationError):
            action._validate_action_result({"events": [{"no_event_key": 1}]})
    finally:
        RemoteAction._validate_action_result = original
