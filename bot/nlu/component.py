"""Rasa 3.6 NLU component: adds one entity per answer the message states (see bot/nlu/entities.py).

config.yml:
    pipeline:
      - name: bot.nlu.component.KneeSymptomExtractor

It is rule-based (bot/nlu/extractor.py), so it needs no training and no tokenizer before it.
`entities_to_answers(entities)` turns the entities back into typed answers for the dialogue, and
`doubtful_flags(entities)` names the red flags the message mentioned without stating (to confirm).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.entities import EXTRACTOR_NAME, doubtful_flags, entities_to_answers, readings_to_entities
from bot.nlu.extractor import get_extractor, readings

logger = logging.getLogger(__name__)
__all__ = ["KneeSymptomExtractor", "entities_to_answers", "doubtful_flags", "EXTRACTOR_NAME"]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class KneeSymptomExtractor(GraphComponent):
    """Extracts triage answers (bot/triage/vocabulary.py keys) from free text as entities."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> KneeSymptomExtractor:
        return cls(config)

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self._config = {**self.get_default_config(), **(config or {})}
        get_extractor()  # compile the lexicon now, not on the first user message

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            try:
                entities = readings_to_entities(readings(text))
            except Exception as error:  # a fault must not fail the message; the extractor's tests catch it
                logger.error("symptom extraction failed: %s", type(error).__name__)  # no patient text in logs
                continue
            if entities:
                message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples are left as annotated: rules need no training."""
        return training_data
