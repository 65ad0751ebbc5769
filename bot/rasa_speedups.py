"""Work Rasa 3.6 repeats on every message that it need not (found with py-spy under load).

Rasa checks each action-server response with `jsonschema.validate`, which first validates the
response *schema* against the JSON Schema meta-schema and builds a new validator, on every call:
about half of the Rasa server's CPU under load. The schema never changes, so it is checked once
and one compiled validator checks every response, with the same errors as before.

Rasa finds the class of every stored event it reads back by walking all of Event's subclasses,
recursively, once per event (8 % of the server's CPU); the classes are looked up by name in a
table instead, built from the same walk in the same order, and built again when a name is not in
it (a class defined later), so the result is always the walk's.

`install()` is called once by the Rasa server process (bot.lock_store.GuardedLockStore, which
endpoints.yml names, so it runs wherever Rasa does).
"""

from __future__ import annotations

from typing import Any

from jsonschema import exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses


def install() -> None:
    _compile_action_response_check()
    _index_event_classes()


def _index_event_classes() -> None:
    original = Event.resolve_by_type
    by_name: dict[str, type[Event]] = {}

    def index() -> None:
        by_name.clear()
        for cls in all_subclasses(Event):
            by_name.setdefault(cls.type_name, cls)  # the walk's first match, as Rasa's loop returns

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        if type_name not in by_name:
            index()
        found = by_name.get(type_name)
        return found if found is not None else original(type_name, default)  # Rasa's answer for the rest

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]


def _compile_action_response_check() -> None:
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

