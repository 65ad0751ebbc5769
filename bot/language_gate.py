"""Rasa NLU component: messages the assistant cannot read go to the fallback intent.

Intent classifiers always pick some intent; for text with no words at all (empty, emoji,
punctuation) or in another language that pick is noise, so this component replaces it with
`nlu_fallback`, whose action says plainly what the assistant can read.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language import looks_english

_HAS_WORD_OR_NUMBER = re.compile(r"\w", re.UNICODE)


def unreadable(text: str) -> bool:
    return not _HAS_WORD_OR_NUMBER.search(text) or not looks_english(text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class UnreadableTextGate(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> UnreadableTextGate:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if unreadable(message.get(TEXT) or ""):
                fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
                message.set(INTENT, fallback, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [fallback, *(message.get(INTENT_RANKING_KEY) or [])],
                            add_to_output=True)
        return messages
