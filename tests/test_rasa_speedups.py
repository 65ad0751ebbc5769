"""The action-response check compiled once behaves as Rasa's own."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.lock_store import GuardedLockStore
from bot.rasa_speedups import ActionResponseCheck


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


def test_stored_events_are_read_back_as_the_classes_rasa_finds_for_them() -> None:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    def rasa_answer(name: str) -> type[Event]:  # Rasa 3.6's walk: the first subclass with that name
        return next(cls for cls in all_subclasses(Event) if cls.type_name == name)

    original = Event.__dict__["resolve_by_type"]
    names = {cls.type_name for cls in all_subclasses(Event)}
    GuardedLockStore()
    try:
        assert len(names) > 20 and all(Event.resolve_by_type(name) is rasa_answer(name) for name in names)
        assert Event.resolve_by_type("topic") is None  # Rasa's old TopicSet events
        assert Event.resolve_by_type("no such event", default=Event) is Event
        with pytest.raises(ValueError, match="Unknown event name"):
            Event.resolve_by_type("no such event")

        class DefinedLater(Event):  # a plugin's event, imported after the first lookups
            type_name = "defined_later"

            def __eq__(self, other: object) -> bool:
                return isinstance(other, DefinedLater)

            def __hash__(self) -> int:
                return 1

            def as_story_string(self) -> None:
                return None

        assert Event.resolve_by_type("defined_later") is DefinedLater
        event = Event.from_parameters({"event": "slot", "name": "age", "value": 30, "timestamp": 1.0})
        assert (event.key, event.value) == ("age", 30)
    finally:
        Event.resolve_by_type = original


EVENT_NAMES = ["user", "action", "slot", "entities", "bot", "followup", "reset_slots", "active_loop", "nope", ""]
JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                       max_size=3), max_leaves=6)
EVENTS = st.fixed_dictionaries({}, optional={
    "event": st.sampled_from(EVENT_NAMES) | JSON_VALUES,
    "name": st.text(max_size=5) | JSON_VALUES, "value": JSON_VALUES,
    "text": st.none() | st.text(max_size=5) | JSON_VALUES,
    "timestamp": st.none() | st.floats(allow_nan=False) | JSON_VALUES, "entities": JSON_VALUES,
    "metadata": st.none() | st.dictionaries(st.text(max_size=3), JSON_VALUES, max_size=2) | JSON_VALUES})
WELL_FORMED = st.builds(lambda name, fields, stamp: {"event": name, **fields, **stamp},
                        st.sampled_from(EVENT_NAMES[:-2]),
                        st.fixed_dictionaries({}, optional={"name": st.text(max_size=5), "value": JSON_VALUES,
                                                            "text": st.none() | st.text(max_size=5)}),
                        st.fixed_dictionaries({}, optional={"timestamp": st.none() | st.floats(allow_nan=False)}))
RESPONSES = st.fixed_dictionaries({}, optional={
    "events": st.lists(WELL_FORMED, max_size=4) | st.lists(WELL_FORMED | EVENTS | JSON_VALUES, max_size=4)
    | JSON_VALUES,
    "responses": st.lists(st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=2), max_size=2) | JSON_VALUES})


@settings(max_examples=400, deadline=None)
@given(RESPONSES | JSON_VALUES)
@example({"events": [{"event": "slot", "name": "age", "value": 30, "timestamp": None}, {"event": "bot", "text": "hi"},
                     {"event": "followup", "name": "action_listen"}], "responses": [{"text": "hi"}]})
@example({"events": [{"event": "slot", "name": "age"}]})
def test_the_action_response_shortcut_judges_every_response_as_the_whole_schema(response: object) -> None:
    check = ActionResponseCheck(RemoteAction.action_response_format_spec())
    assert check.is_valid(response) == check.full.is_valid(response)
