"""The Rasa 3.6 component: entities on Rasa Message objects, as the NLU pipeline produces them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

pytest.importorskip("rasa")

from rasa.engine.recipes.default_recipe import DefaultV1Recipe  # noqa: E402
from rasa.shared.nlu.constants import ENTITIES, TEXT  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from rasa.shared.nlu.training_data.training_data import TrainingData  # noqa: E402

from bot.nlu.component import KneeSymptomExtractor, doubtful_flags, entities_to_answers  # noqa: E402
from bot.nlu.extractor import extract  # noqa: E402


@pytest.fixture(scope="module")
def component() -> KneeSymptomExtractor:
    return KneeSymptomExtractor.create({}, model_storage=None, resource=None, execution_context=None)  # type: ignore[arg-type]


def test_registered_as_entity_extractor() -> None:
    registered = DefaultV1Recipe._from_registry(KneeSymptomExtractor.__name__)
    assert registered.clazz is KneeSymptomExtractor
    assert DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR in registered.types
    assert registered.is_trainable is False


def test_process_adds_entities(component: KneeSymptomExtractor) -> None:
    text = "I'm 22. Twisted it at netball and heard a pop, it swelled within an hour. Stairs and squats hurt, no fever."
    message = Message(data={TEXT: text})
    component.process([message])
    entities = message.get(ENTITIES)
    assert entities
    assert all(e["extractor"] == "KneeSymptomExtractor" and e["confidence_entity"] == 1.0 for e in entities)
    assert all(isinstance(e["value"], str) and text[e["start"]:e["end"]] for e in entities)
    by_key = {}
    for e in entities:
        by_key.setdefault(e["entity"], []).append(e["value"])
    assert by_key["age"] == ["22"] and by_key["heard_pop"] == ["true"] and by_key["fever_unwell"] == ["false"]
    assert sorted(by_key["triggers"]) == ["squatting", "stairs"]
    assert entities_to_answers(entities) == extract(text)
    assert message.as_dict(only_output_properties=True)[ENTITIES] == entities  # shown in Rasa's parse output


def test_a_hedged_red_flag_is_passed_on_to_confirm_not_as_an_answer(component: KneeSymptomExtractor) -> None:
    text = "Knee swollen since Sunday. I think my calf might be swollen too?"
    message = Message(data={TEXT: text})
    component.process([message])
    entities = message.get(ENTITIES)
    doubtful = [e for e in entities if e["entity"] == "doubtful_flag"]
    assert [e["value"] for e in doubtful] == ["calf_swelling"] and doubtful[0]["confidence_entity"] < 1.0
    assert "calf" in text[doubtful[0]["start"]:doubtful[0]["end"]]
    assert doubtful_flags(entities) == ["calf_swelling"]
    assert "calf_swelling" not in entities_to_answers(entities)  # confirmed first, never set from a hedge


def test_someone_elses_red_flag_is_neither_answer_nor_doubt(component: KneeSymptomExtractor) -> None:
    message = Message(data={TEXT: "My knee aches on stairs. My friend had a DVT last year."})
    component.process([message])
    assert doubtful_flags(message.get(ENTITIES)) == []
    assert entities_to_answers(message.get(ENTITIES)) == {"triggers": ["stairs"]}


def test_process_keeps_other_extractors_entities(component: KneeSymptomExtractor) -> None:
    other = {"entity": "name", "value": "Sam", "start": 0, "end": 3, "extractor": "DIETClassifier"}
    message = Message(data={TEXT: "Sam here, my knee clicks", ENTITIES: [other]})
    component.process([message])
    assert message.get(ENTITIES)[0] == other
    assert entities_to_answers(message.get(ENTITIES)) == {"clicking": True}


@pytest.mark.parametrize("text", ["", "   ", "hello", "😀", "<script>alert(1)</script>", "x" * 10_000])
def test_process_on_messages_without_answers(component: KneeSymptomExtractor, text: str) -> None:
    message = Message(data={TEXT: text})
    component.process([message])
    assert not message.get(ENTITIES)


def test_process_without_text(component: KneeSymptomExtractor) -> None:
    message = Message(data={"intent": {"name": "greet"}})
    assert component.process([message]) == [message]


def test_training_data_is_left_alone(component: KneeSymptomExtractor) -> None:
    data = TrainingData([Message(data={TEXT: "my knee clicks", "intent": "inform"})])
    assert component.process_training_data(data) is data
    assert not data.training_examples[0].get(ENTITIES)


def test_an_extractor_fault_fails_loudly_but_not_the_message(component: KneeSymptomExtractor,
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    """extract() no longer reads a fault as "nothing found"; the Rasa component logs it (no text) and goes on."""
    from bot.nlu import extractor

    def broken(self, text):  # a fault inside the extractor, e.g. a bad lexicon edit
        raise KeyError("no such cue group")

    monkeypatch.setattr(extractor.Extractor, "readings", broken)
    with pytest.raises(KeyError):
        extract("my knee hurts on stairs")
    message = Message(data={TEXT: "my secret knee story"})
    component.process([message])
    assert not message.get(ENTITIES)
    assert "KeyError" in caplog.text and "secret" not in caplog.text
