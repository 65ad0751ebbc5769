"""Understand patients' free text about knee pain, in the answer vocabulary of bot/triage/vocabulary.py.

Rules, not a trained model: a spaCy pipeline (blank English tokenizer) of four registered
components, each its own module, all driven by the clinician-editable lexicon (lexicon.yml):

    knee_normalise (normalise.py)  lay words, misspellings, clauses
    knee_match     (match.py)      the lexicon's phrases and cues
    knee_context   (context.py)    negation, hedging (negation.py), historical, hypothetical, ...
    knee_resolve   (resolve.py)    answers, one value per key, numbers on this problem's timeline

Public API (the dialogue is built against these names):
    extract(text)        -> dict of the answers the text itself states (first message or any message)
    answer(key, text)    -> the reply to a question about `key` (or "red_flags"), or None if not an answer
    findings(text)       -> extract() with the character span stating each answer (used by component.py)
    readings(text)       -> findings() plus what the text mentions out of context
    doubtful(text)       -> red flags mentioned with doubt (confirm each, one question)
    checklist_hints(text)-> red flags a checklist reply may mean but does not state

Precision comes first: a wrong answer is worse than a missing one, so anything hedged, questioned or
contradictory is left out.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import spacy
from spacy.language import Language

from bot.nlu import context, match, normalise, resolve  # noqa: F401  (registers the pipeline's factories)
from bot.nlu.analysis import Analysis, Finding
from bot.nlu.replies import Replies
from bot.nlu.resolve import DOUBTFUL_CONTEXTS, doubtful_readings
from bot.triage.vocabulary import ANSWERS, RED_FLAG_CHECKLIST

__all__ = ["DOUBTFUL_CONTEXTS", "Extractor", "Finding", "build_pipeline", "doubtful_readings", "get_extractor"]
STAGES = ("knee_normalise", "knee_match", "knee_context", "knee_resolve")


def build_pipeline(lexicon: str = "", validate: bool = False) -> Language:
    """The extractor's spaCy pipeline on the lexicon at `lexicon` ("" for the bundled one)."""
    nlp = spacy.blank("en")
    nlp.tokenizer = normalise.PreparingTokenizer(nlp.tokenizer)
    for stage in STAGES:
        config: dict[str, Any] = {"lexicon": lexicon}
        if stage == "knee_match":
            config["validate"] = validate  # spaCy's pattern schema check: slow, so for tests only
        nlp.add_pipe(stage, config=config)
    return nlp


class Extractor:
    """The compiled pipeline. Build once (see `get_extractor`) and reuse: compiling takes ~1 s."""

    def __init__(self, lexicon: str = "", validate: bool = False) -> None:
        self.nlp = build_pipeline(lexicon, validate)
        normaliser = self.nlp.get_pipe("knee_normalise")
        self.resolver: resolve.Resolver = self.nlp.get_pipe("knee_resolve")
        self.replies = Replies(self.resolver, normaliser.vocab, normaliser.lex.checklist_hints)

    def analyse(self, text: str, through: str = STAGES[-1]) -> Analysis:
        """The message run through the pipeline's stages up to and including `through`."""
        doc = self.nlp.make_doc(text)
        for name, stage in self.nlp.pipeline:
            doc = stage(doc)
            if name == through:
                break
        return doc._.knee

    def readings(self, text: str) -> list[Finding]:
        """Every answer the text mentions: stated now (empty context) or with the context that says why not."""
        if not isinstance(text, str) or not text.strip():
            return []
        return self.analyse(text).readings

    def findings(self, text: str) -> list[Finding]:
        """Every answer the text states for this patient now, each with the character span that states it."""
        return [f for f in self.readings(text) if not f.context]

    def doubtful(self, text: str) -> list[str]:
        """Red flags the text mentions without stating them (hedged, hypothetical, gone), in checklist order.

        "I think my calf might be swollen?" is no statement, and no "no" either: the dialogue confirms
        each of these in one question. A flag the text also states clearly is not doubtful (it is acted on).
        """
        return [f.key for f in doubtful_readings(self.readings(text))]

    def extract(self, text: str) -> dict[str, Any]:
        answers: dict[str, Any] = {}
        for f in self.findings(text):
            if f.key == "triggers":
                answers.setdefault("triggers", []).append(f.value)
            else:
                answers.setdefault(f.key, f.value)
        return answers

    def answer(self, key: str, text: str) -> Any | None:
        if not isinstance(text, str) or not text.strip() or not isinstance(key, str):
            return None
        if key != RED_FLAG_CHECKLIST and key not in ANSWERS:
            return None
        a = self.analyse(text, through="knee_context")
        return self.replies.red_flags(a) if key == RED_FLAG_CHECKLIST else self.replies.answer(a, key)

    def checklist_hints(self, text: str) -> list[str]:
        return self.replies.hints(self.analyse(text, through="knee_context"))


@lru_cache(maxsize=1)
def get_extractor() -> Extractor:
    """The shared, lazily built extractor (module-level cache)."""
    return Extractor()


# A fault in the extractor raises: tests must see it. The Rasa adapters (bot/nlu/component.py,
# actions/answers.py) log it and read the message as stating nothing, so a conversation goes on.


def extract(text: str) -> dict[str, Any]:
    """Answers that `text` itself states, in vocabulary values; {} for empty input."""
    return get_extractor().extract(text)


def findings(text: str) -> list[Finding]:
    """extract() with the character span of each answer (triggers: one finding per trigger)."""
    return get_extractor().findings(text)


def readings(text: str) -> list[Finding]:
    """findings() plus the answers the text mentions out of context (each Finding's `context` says why)."""
    return get_extractor().readings(text)


def doubtful(text: str) -> list[str]:
    """Red flags `text` mentions but does not state (hedged, hypothetical, gone): confirm each, one question."""
    if not isinstance(text, str) or not text.strip():
        return []
    return get_extractor().doubtful(text)


def checklist_hints(text: str) -> list[str]:
    """Red flags a reply to the checklist may mean but does not state (asked about one by one)."""
    if not isinstance(text, str) or not text.strip():
        return []
    return get_extractor().checklist_hints(text)


def answer(key: str, text: str) -> Any | None:
    """Interpret `text` as the reply to a question about `key` ("red_flags" for the grouped checklist).

    Returns the vocabulary value; UNKNOWN for "not sure"; None when the reply is not an answer.
    A bare yes/no to a bool key answers the question as worded (questions.yml `yes_means`:
    "Can you walk 4 steps?" - "no" means cannot_bear_weight). For "red_flags": a dict of every
    red-flag key -> bool.
    """
    return get_extractor().answer(key, text)
