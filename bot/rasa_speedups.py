"""Work Rasa 3.6 repeats on every message that it need not (found with py-spy under load).

Rasa checks each action-server response with `jsonschema.validate`, which first validates the
response *schema* against the JSON Schema meta-schema and builds a new validator, on every call:
about half of the Rasa server's CPU under load. The schema never changes, so it is checked once
and compiled once, and each event is checked against the event schemas of its own name only
(`ActionResponseCheck`), with the same errors as before.

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


_RASA_RESOLVE_BY_TYPE = Event.resolve_by_type  # before any install (which may run more than once)


def _index_event_classes() -> None:
    by_name: dict[str, type[Event]] = {}

    def index() -> None:
        by_name.clear()
        for cls in all_subclasses(Event):
            by_name.setdefault(cls.type_name, cls)  # the walk's first match, as Rasa's loop returns

    def resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
        if type_name not in by_name:
            index()
        found = by_name.get(type_name)
        return found if found is not None else _RASA_RESOLVE_BY_TYPE(type_name, default)  # Rasa's for the rest

    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign,assignment]


class ActionResponseCheck:
    """Rasa's action-response schema, compiled once, with a shortcut for valid responses.

    Each event must match exactly one of the schema's `oneOf` event schemas, and each of those
    fixes the `event` name with `const`: an event named "slot" can only match the schemas whose
    const is "slot", so it is checked against those alone (the others fail on their const) instead
    of all 23. The response without its events is checked by the schema without `items`. Any
    response that fails, or that the shortcut cannot judge (an event without a name, a name no
    schema has), goes through the whole schema, which gives the error Rasa gives.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        validator_class = validators.validator_for(spec)
        validator_class.check_schema(spec)  # what every jsonschema.validate call repeated
        self.full = validator_class(spec)
        events = spec["properties"]["events"]
        item = events["items"]
        self.outer = validator_class({**spec, "properties": {**spec["properties"], "events": {
            key: value for key, value in events.items() if key != "items"}}})
        by_name: dict[str, list[dict[str, Any]]] = {}
        for alternative in item["oneOf"]:
            name = alternative.get("properties", {}).get("event", {}).get("const")
            if not isinstance(name, str):  # a schema this shortcut does not fit: the whole schema every time
                by_name = {}
                break
            by_name.setdefault(name, []).append(alternative)
        self.by_name = {name: validator_class({**item, "oneOf": schemas}) for name, schemas in by_name.items()}

    def is_valid(self, result: Any) -> bool:
        if not self.outer.is_valid(result):
            return False
        for event in result.get("events") or ():
            name = event.get("event") if isinstance(event, dict) else None
            check = self.by_name.get(name) if isinstance(name, str) else None
            if check is None:
                return self.full.is_valid(result)
            if not check.is_valid(event):
                return False
        return True

    def best_error(self, result: Any) -> exceptions.ValidationError | None:
        return exceptions.best_match(self.full.iter_errors(result))


def _compile_action_response_check() -> None:
    check = ActionResponseCheck(RemoteAction.action_response_format_spec())

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = None if check.is_valid(result) else check.best_error(result)
        if error is None:
            return True
        error.message += (  # Rasa's own wording (rasa/core/actions/action.py)
            f". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
