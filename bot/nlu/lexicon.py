"""Load bot/nlu/lexicon.yml and compile its phrase syntax into spaCy Matcher token patterns.

The phrase syntax is documented at the top of lexicon.yml. Phrases are normalised with the
same tokenizer and lay words as patients' text, so "can't", "cant" and "cannot" in the
lexicon all become ["can", "not"], exactly as they do in a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

LEXICON_PATH = Path(__file__).with_name("lexicon.yml")

MODES = ("say", "reply", "when_negated")
IGNORE = "ignore"
SENTENCE_PUNCT = (".", "!", "?", ";", "…", "...", "\n")
_GROUP = re.compile(r"\(([^()]*)\)(\?)?")
_GAP = re.compile(r"^\.\.([.,])(\d*)$")

Norms = Callable[[str], list[str]]
_REGEX_PARTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {}  # compiled regex -> (exact words, stems)
TokenSpec = dict[str, Any]


class LexiconError(ValueError):
    """A phrase in lexicon.yml that cannot be compiled."""


@dataclass(frozen=True)
class Rule:
    """What one matched phrase means: an answer (key, value), or nothing for `ignore` phrases."""

    key: str
    value: Any
    mode: str  # say | reply | when_negated | ignore
    also: tuple[tuple[str, Any], ...] = ()
    needs: tuple[str, ...] = ()  # cue groups this value needs in the same sentence ("landed" + a jump)
    blocked_by: tuple[str, ...] = ()  # cue groups that cancel this value in the same sentence ...
    unless: tuple[str, ...] = ()  # ... except next to one of these


@dataclass(frozen=True)
class KeyInfo:
    """Per-key resolution settings from lexicon.yml (see its header)."""

    key: str
    negated: dict[Any, dict[str, Any]] = field(default_factory=dict)
    prefer: tuple[Any, ...] = ()
    needs: tuple[str, ...] = ()
    blocked_by: tuple[str, ...] = ()
    yes: Any = None
    no: Any = None
    prefer_pain_clause: bool = False
    keeps: tuple[str, ...] = ()
    undecided: tuple[frozenset[Any], ...] = ()  # values that, both stated, leave the key unanswered


LOOKS = ("forward", "backward", "both")
SCOPES = ("clause", "sentence")


@dataclass(frozen=True)
class ContextRule:
    """One kind of context (lexicon.yml `context:`): which cue group marks it and how far the cue reaches."""

    kind: str  # historical, hypothetical, other_person, finished
    cues: str  # cue group naming the context ("used to", "years ago")
    look: str = "both"  # forward: what follows the cue; backward: what precedes it; both
    scope: str = "clause"  # the cue reaches findings in its clause, or in its sentence
    window: int = 8  # words between the cue and the finding, at most
    ends: tuple[str, ...] = ()  # cue groups that cut the scope between cue and finding ("now", "I")
    unless: tuple[str, ...] = ()  # cue groups that cancel the cue anywhere in its sentence ("ever since")
    needs: tuple[str, ...] = ()  # cue groups that must be in the cue's sentence for it to count ("if" + "will")
    reaches_back: bool = False  # a cue alone in its clause ("..., not now") reaches the clause before
    carries: tuple[str, ...] = ()  # cue groups opening a sentence that carry the context on ("That was bad: ...")
    not_for: frozenset[str] = frozenset()  # answer keys whose meaning already includes this context


@dataclass
class Lexicon:
    """The parsed lexicon: raw phrase lists, ready to be compiled against a tokenizer."""

    data: dict[str, Any]
    keys: dict[str, KeyInfo]
    rules: list[tuple[Rule, list[str]]]  # each rule with its phrases

    @property
    def fillers(self) -> list[str]:
        return [str(w) for w in self.data.get("fillers", [])]

    @property
    def lay_words(self) -> dict[str, list[str]]:
        return {str(k): [str(v) for v in vs] for k, vs in (self.data.get("lay_words") or {}).items()}

    @property
    def protected(self) -> set[str]:
        return {str(w).lower() for w in self.data.get("protected", [])}

    @property
    def cues(self) -> dict[str, list[str]]:
        return {k: [str(p) for p in v] for k, v in (self.data.get("cues") or {}).items()}

    @property
    def context(self) -> list[ContextRule]:
        return [_context_rule(kind, spec) for kind, spec in (self.data.get("context") or {}).items()]

    @property
    def checklist_hints(self) -> dict[str, list[str]]:
        return {str(k): [str(w).lower() for w in v] for k, v in (self.data.get("checklist_hints") or {}).items()}

    @property
    def replies(self) -> dict[str, list[str]]:
        names = {True: "yes", False: "no"}  # unquoted yes:/no: keys load as bools
        return {names.get(k, k): [str(p) for p in v] for k, v in (self.data.get("replies") or {}).items()}


@lru_cache(maxsize=4)
def shared(path: str = "") -> Lexicon:
    """The lexicon at `path` ("" for the bundled lexicon.yml), loaded once for all pipeline stages."""
    return load(Path(path) if path else LEXICON_PATH)


def load(path: Path = LEXICON_PATH) -> Lexicon:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    _check_strings(data)
    keys: dict[str, KeyInfo] = {}
    rules: list[tuple[Rule, list[str]]] = [(Rule("", None, IGNORE), [str(p) for p in data.get("ignore", [])])]
    for key, spec in (data.get("keys") or {}).items():
        keys[key] = _key_info(key, spec)
        for value, lists in (spec.get("values") or {}).items():
            also = tuple((lists.get("also") or {}).items())
            needs, blocked = tuple(lists.get("needs") or ()), tuple(lists.get("blocked_by") or ())
            unless = tuple(lists.get("unless") or ())
            for mode in MODES:
                phrases = [str(p) for p in lists.get(mode) or []]
                if phrases:
                    rules.append((Rule(key, value, mode, also, needs, blocked, unless), phrases))
    return Lexicon(data, keys, rules)


def _check_strings(data: dict[str, Any]) -> None:
    """YAML reads a bare no/yes/on/off as a bool: every phrase must be quoted text."""
    lists = [data.get("ignore", []), data.get("fillers", [])]
    lists += list((data.get("cues") or {}).values()) + list((data.get("replies") or {}).values())
    for spec in (data.get("keys") or {}).values():
        for value_lists in (spec.get("values") or {}).values():
            lists += [value_lists.get(mode) or [] for mode in MODES]
    for phrases in lists:
        for phrase in phrases:
            if not isinstance(phrase, str):
                raise LexiconError(f"phrase {phrase!r} is not text: quote it in lexicon.yml")


def _key_info(key: str, spec: dict[str, Any]) -> KeyInfo:
    return KeyInfo(
        key=key,
        negated={k: dict(v) for k, v in (spec.get("negated") or {}).items()},
        prefer=tuple(spec.get("prefer") or ()),
        needs=tuple(spec.get("needs") or ()),
        blocked_by=tuple(spec.get("blocked_by") or ()),
        yes=spec.get("yes", spec.get(True)),  # an unquoted yes:/no: key loads as a bool
        no=spec.get("no", spec.get(False)),
        prefer_pain_clause=bool(spec.get("prefer_pain_clause")),
        keeps=tuple(spec.get("keeps") or ()),
        undecided=tuple(frozenset(pair) for pair in spec.get("undecided") or ()),
    )


def _context_rule(kind: str, spec: dict[str, Any]) -> ContextRule:
    rule = ContextRule(
        kind=kind, cues=str(spec.get("cues", kind)), look=str(spec.get("look", "both")),
        scope=str(spec.get("scope", "clause")), window=int(spec.get("window", 8)),
        ends=tuple(spec.get("ends") or ()), unless=tuple(spec.get("unless") or ()),
        needs=tuple(spec.get("needs") or ()), reaches_back=bool(spec.get("reaches_back")),
        carries=tuple(spec.get("carries") or ()),
        not_for=frozenset(spec.get("not_for") or ()))
    if rule.look not in LOOKS or rule.scope not in SCOPES:
        raise LexiconError(f"context {kind}: look must be one of {LOOKS}, scope one of {SCOPES}")
    return rule


def expand_groups(phrase: str) -> list[str]:
    """Expand "(a b|c)" groups into separate phrases; "(...)?" also allows leaving the group out."""
    match = _GROUP.search(phrase)
    if not match:
        return [phrase]
    options = match.group(1).split("|") + ([""] if match.group(2) else [])
    out: list[str] = []
    for option in options:
        out.extend(expand_groups(f"{phrase[:match.start()]} {option} {phrase[match.end():]}"))
    return out


def compile_phrase(phrase: str, norms: Norms, fillers: list[str], stops: list[str]) -> list[list[TokenSpec]]:
    """All Matcher patterns for one lexicon phrase."""
    words = phrase.split()
    if words and (_GAP.match(words[0]) or _GAP.match(words[-1])):
        # a gap at an end matches nothing more; usually an unquoted " #" that YAML read as a comment
        raise LexiconError(f"a gap cannot start or end a phrase: {phrase!r} (quote phrases with ' # ')")
    patterns = []
    for variant in expand_groups(phrase):
        pattern: list[TokenSpec] = []
        for chunk in variant.split():
            pattern.extend(_chunk(chunk, phrase, norms, fillers, stops))
        if any(spec.get("OP") is None for spec in pattern):  # a pattern of optional tokens only matches nothing
            patterns.append(pattern)
    return patterns


def _chunk(chunk: str, phrase: str, norms: Norms, fillers: list[str], stops: list[str]) -> list[TokenSpec]:
    if chunk == "~":
        return [{"NORM": {"IN": fillers}, "OP": "{0,3}"}]
    if chunk == "#":
        return [{"LIKE_NUM": True}]
    gap = _GAP.match(chunk)
    if gap:
        return [_gap(gap.group(1) == ",", int(gap.group(2) or 3), stops)]
    optional = chunk.endswith("?") and len(chunk) > 1
    body = chunk[:-1] if optional else chunk
    alternatives = body.split("|")
    if len(alternatives) == 1 and not body.endswith("*"):
        specs: list[TokenSpec] = [{"NORM": word} for word in norms(body)]
        if optional and len(specs) != 1:
            raise LexiconError(f"optional chunk {chunk!r} in {phrase!r} must be one word")
    else:
        specs = [{"NORM": _alternation(alternatives, phrase, norms)}]
    if optional:
        specs[0]["OP"] = "?"
    return specs


def _gap(commas: bool, size: int, stops: list[str]) -> TokenSpec:
    """Up to `size` words inside a clause; `..,` gaps may also step over commas (lists of symptoms)."""
    spec: TokenSpec = {"IS_SPACE": False, "OP": f"{{0,{size}}}"}
    if commas:
        spec["NORM"] = {"NOT_IN": stops + list(SENTENCE_PUNCT)}
    else:
        spec["NORM"] = {"NOT_IN": stops}
        spec["IS_PUNCT"] = False
    return spec


def _alternation(alternatives: list[str], phrase: str, norms: Norms) -> dict[str, Any]:
    exact, stems = [], []
    for alt in alternatives:
        is_stem = alt.endswith("*") and len(alt) > 1
        words = norms(alt[:-1] if is_stem else alt)
        if len(words) != 1:
            raise LexiconError(f"alternative {alt!r} in {phrase!r} is not one word; use a ( | ) group")
        (stems if is_stem else exact).append(words[0])
    if not stems:
        return {"IN": exact}
    parts = [f"(?:{'|'.join(map(re.escape, stems))}).*"] + [re.escape(w) for w in exact]
    regex = f"^(?:{'|'.join(parts)})$"
    _REGEX_PARTS[regex] = (frozenset(exact), frozenset(stems))
    return {"REGEX": regex}


# Common words make poor anchors: a bucket keyed on "not" would run for nearly every message.
_COMMON = {"i", "it", "my", "the", "a", "an", "to", "of", "and", "or", "is", "'s", "not", "no", "can", "on", "in", "at",
           "up", "down", "me", "be", "am", "was", "do", "have", "has", "with", "for", "when", "out", "off", "will",
           "would", "could", "get", "got", "go", "went", "that", "this", "so", "just", "very", "really", "knee"}


NEGATION_WORDS = {"not", "no", "never", "nothing", "none", "without", "nor", "neither", "zero"}


def has_negation(pattern: list[TokenSpec]) -> bool:
    """Whether the phrase itself says "not"/"no" ("can't walk"): such a phrase is not negated by its own words."""
    return any(_token_options(spec)[0] & NEGATION_WORDS for spec in pattern if spec.get("OP") != "{0,3}")


def anchors(pattern: list[TokenSpec]) -> tuple[frozenset[str], frozenset[str]]:
    """(words, stems) of which at least one must occur for the pattern to match: its rarest mandatory token."""
    best: tuple[int, frozenset[str], frozenset[str]] | None = None
    for spec in pattern:
        if spec.get("OP") not in (None, "+"):
            continue
        words, stems = _token_options(spec)
        if not words and not stems:
            continue
        cost = len(words) + 2 * len(stems) + 100 * bool(words & _COMMON)
        if best is None or cost < best[0]:
            best = (cost, words, stems)
    return (best[1], best[2]) if best else (frozenset(), frozenset())


def _token_options(spec: TokenSpec) -> tuple[frozenset[str], frozenset[str]]:
    norm = spec.get("NORM")
    if isinstance(norm, str):
        return frozenset([norm]), frozenset()
    if isinstance(norm, dict) and "IN" in norm:
        return frozenset(norm["IN"]), frozenset()
    if isinstance(norm, dict) and "REGEX" in norm:
        return _REGEX_PARTS.get(norm["REGEX"], (frozenset(), frozenset()))
    return frozenset(), frozenset()


def literal_words(phrases: list[str], norms: Norms) -> tuple[set[str], set[str]]:
    """Exact words and stems used by phrases (the typo fixer corrects only towards these)."""
    words: set[str] = set()
    stems: set[str] = set()
    for phrase in phrases:
        for variant in expand_groups(phrase):
            for chunk in variant.split():
                for alt in chunk.rstrip("?").split("|"):
                    if alt.endswith("*") and len(alt) > 4:
                        stems.add(alt[:-1].lower())
                    elif alt.isalpha():
                        words.update(w for w in norms(alt) if w.isalpha())
    return words, stems
