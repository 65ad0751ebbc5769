"""Work Rasa 3.6 repeats on every message that it need not (found with py-spy under load).

Rasa checks each action-server response with `jsonschema.validate`, which first validates the
response *schema* against the JSON Schema meta-schema and builds a new validator, on every call:
about half of the Rasa server's CPU under load. The schema never changes, so it is checked once
and one compiled validator checks every response, with the same errors as before.

`install()` is called once by the Rasa server process (bot.lock_store.GuardedLockStore, which
endpoints.yml names, so it runs wherever Rasa does).
"""

from __future__ import annotations

from typing import Any

from jsonschema import exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


def install() -> None:
    spec = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(spec)
    validator_class.check_schema(spec)  # what every jsonschema.validate call repeated
    compiled = validator_class(spec)

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = exceptions.best_match(compiled.iter_errors(result))
        if error is None:
            return True
        error.message += (  # Rasa's own wording (rasa/core/actions/action.py)
            f". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]

