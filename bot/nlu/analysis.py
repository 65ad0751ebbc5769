"""What the extractor's pipeline knows about one message, kept on the Doc as `doc._.knee`.

Each stage of the pipeline (bot/nlu/pipeline.py) fills its part: normalise the tokens and clauses,
match the lexicon's hits and cues, context the negation, hedging and context kinds, resolve the
findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spacy.tokens import Doc

from bot.nlu.lexicon import Rule

if TYPE_CHECKING:
    from bot.nlu.context import Reader

if not Doc.has_extension("knee"):
    Doc.set_extension("knee", default=None)


@dataclass
class Hit:
    """One lexicon phrase found in the text (token span), with its context flags."""

    rule: Rule
    start: int
    end: int
    says_not: bool = False  # the phrase itself contains a negation ("can't walk")
    negated: bool = False
    hedged: bool = False


@dataclass
class Finding:
    """An answer with the character span of the text that states it.

    `context` is empty for what the text states for this patient now; otherwise the kinds that
    keep it from being stated: hedged, historical, hypothetical, other_person, finished.
    """

    key: str
    value: Any
    start: int
    end: int
    context: frozenset[str] = frozenset()


@dataclass
class Analysis:
    """A tokenised message with its clauses, sentences, cues, lexicon hits and findings."""

    doc: Doc
    clause: list[int]
    sentence: list[int]
    questions: set[int]
    cues: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    reader: Reader | None = None
    readings: list[Finding] = field(default_factory=list)

    def spans(self, name: str) -> list[tuple[int, int]]:
        return self.cues.get(name, [])

    def char_span(self, start: int, end: int) -> tuple[int, int]:
        return self.doc[start].idx, self.doc[end - 1].idx + len(self.doc[end - 1].text)


def analysis(doc: Doc) -> Analysis:
    """The analysis a pipeline stage builds on (the normaliser must have run)."""
    found = doc._.knee
    if not isinstance(found, Analysis):
        raise ValueError("knee_normalise must run before the other knee_* components")
    return found
