"""Understand patients' free text about knee pain, in the answer vocabulary of bot/triage/vocabulary.py.

Rules, not a trained model: spaCy's blank English tokenizer, Matcher patterns compiled from the
clinician-editable lexicon (lexicon.yml), NegEx-style negation and uncertainty scoped to the clause,
and regular expressions for numbers (numbers.py).

Public API (the dialogue is built against these names):
    extract(text)        -> dict of the answers the text itself states (first message or any message)
    answer(key, text)    -> the reply to a question about `key` (or "red_flags"), or None if not an answer
    findings(text)       -> extract() with the character span stating each answer (used by component.py)

Precision comes first: a wrong answer is worse than a missing one, so anything hedged, questioned or
contradictory is left out.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import spacy
from rapidfuzz import fuzz
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc
from spacy.util import filter_spans

from bot.nlu import numbers
from bot.nlu.context import Reader
from bot.nlu.lexicon import (
    IGNORE,
    SENTENCE_PUNCT,
    KeyInfo,
    Lexicon,
    Rule,
    TokenSpec,
    anchors,
    compile_phrase,
    has_negation,
    literal_words,
    load,
)
from bot.triage.questions import prompt
from bot.triage.vocabulary import ANSWERS, RED_FLAG_CHECKLIST, RED_FLAG_KEYS, UNKNOWN

MAX_CHARS = 1500  # long pastes are cut: the first 1,500 characters carry the story and keep us fast
NEGATION_WINDOW = 5  # words between a negation cue and what it negates (NegEx uses 5)
HEDGE_WINDOW = 6
EVENT_WINDOW = 5  # words between a time and the other event it dates ("surgery 10 days ago")
CLAUSE_PUNCT = {",", ":", "(", ")", "-", "–", "—", "*", '"', "“", "”"} | set(SENTENCE_PUNCT)
CLAUSE_WORDS = {"but", "though", "although", "however", "except", "whereas", "whilst", "tho", "because",
                "cos", "which", "apart"}
# "and it ...", "so I ...": a conjunction followed by a new subject starts a new clause.
NEW_SUBJECT_AFTER = {"and", "so", "then", "or", "plus"}
SUBJECTS = {"i", "it", "my", "there", "this", "that", "its", "she", "he", "we", "they", "the", "me", "now", "also"}
UNTIL = {"until", "till", "til", "untill"}
_NUMERIC = {"age", "pain_score", "duration_weeks"}
# A clause of only these words and a time says nothing but the time ("it's been nearly 3 weeks now").
_ONLY_TIME = {"it", "this", "its", "been", "now", "has", "have", "is", "was", "nearly", "almost", "about", "around",
              "over", "just", "only", "and", "so", "well", "already", "the", "past", "last", "roughly", "approximately",
              "i", "would", "say", "guess", "like", "maybe", "probably", "for", "since", "going", "on"}
_CODE = re.compile(r"[<>{}$=;\\`|*]|\w\(|\)\w|://")
# A few very common English words: a reply made only of other words is probably not English.
_ENGLISH = set("i me my you it is am are was be been the a an and or but so to of in on at for with about around "
               "maybe like think say would go going gonna give worst worse best yes no not just really very "
               "probably pain score out this that have has had years year old weeks week months month days day".split())


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


HEDGED = "hedged"
# Red flags in these contexts are asked about, never silently dropped (see `doubtful`).
DOUBTFUL_CONTEXTS = frozenset({HEDGED, "hypothetical", "finished"})


@dataclass
class _Analysis:
    """A tokenised message with its clauses, sentences, cues and lexicon hits."""

    text: str
    doc: Doc
    clause: list[int]
    sentence: list[int]
    questions: set[int]
    cues: dict[str, list[tuple[int, int]]]
    hits: list[Hit] = field(default_factory=list)
    reader: Reader | None = None

    def spans(self, name: str) -> list[tuple[int, int]]:
        return self.cues.get(name, [])

    def char_span(self, start: int, end: int) -> tuple[int, int]:
        return self.doc[start].idx, self.doc[end - 1].idx + len(self.doc[end - 1].text)


def prepare(text: str) -> str:
    """Same-length clean-up (so character offsets still point into the original text)."""
    text = text[:MAX_CHARS]
    text = text.translate(str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"'}))
    text = re.sub(r"(?<=[A-Za-z])[-‐‑](?=[A-Za-z])", " ", text)  # knee-cap, straight-leg, non-binary
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


class Extractor:
    """Compiled lexicon + matchers. Build once (see `get_extractor`) and reuse: compiling takes ~1 s."""

    def __init__(self, lexicon: Lexicon | None = None, validate: bool = False) -> None:
        self.lex = lexicon or load()
        self._validate = validate  # spaCy's pattern schema check: slow, so for tests only
        self.nlp = spacy.blank("en")
        self.keys: dict[str, KeyInfo] = self.lex.keys
        self._single_spelling: dict[str, str] = {}
        self._norm_cache: dict[str, list[str]] = {}
        self._phrase_spelling = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self._load_spelling()
        self._protected = self.lex.protected
        self._vocab: set[str] = set()
        self._stems: tuple[str, ...] = ()
        # Patterns are split into small Matchers keyed by an anchor word that must occur; only the
        # buckets whose anchor is in the message run (a single Matcher tries every pattern at every token).
        self._pending: dict[str, list[tuple[str, list[TokenSpec]]]] = {}
        self._buckets: dict[str, Matcher] = {}
        self._by_prefix: dict[str, list[str]] = {}  # first 3 letters of a stem -> stem buckets
        self._always = Matcher(self.nlp.vocab, validate=validate)  # patterns without a usable anchor
        self._rules: dict[str, Rule] = {}
        self._compile()

    # ------------------------------------------------------------------ building

    def _load_spelling(self) -> None:
        for canonical, variants in self.lex.spelling.items():
            for variant in variants:
                words = self.nlp.make_doc(prepare(variant))
                if len(words) == 1:
                    self._single_spelling[words[0].lower_] = canonical
                else:
                    self._phrase_spelling.add(canonical, [words])

    def norms(self, text: str) -> list[str]:
        """The normalised words of a lexicon phrase (no automatic typo fixing)."""
        if text not in self._norm_cache:
            self._norm_cache[text] = [t.norm_ for t in self._doc(text, fix_typos=False) if not t.is_space]
        return self._norm_cache[text]

    def _compile(self) -> None:
        fillers = sorted({w for f in self.lex.fillers for w in self.norms(f)})
        stops = sorted(CLAUSE_WORDS)
        all_phrases: list[str] = []
        for i, (rule, phrases) in enumerate(self.lex.rules):
            rule_id = f"rule:{i}"
            self._rules[rule_id] = rule
            self._add(rule_id, phrases, fillers, stops)
            all_phrases.extend(phrases)
        for name, phrases in self.lex.cues.items():
            self._add(f"cue:{name}", phrases, fillers, stops)
        for name, phrases in self.lex.replies.items():
            self._add(f"reply:{name}", phrases, fillers, stops)
        words, stems = literal_words(all_phrases, self.norms)
        self._vocab = words | set(self._single_spelling.values())
        self._stems = tuple(sorted(stems))
        self._build_buckets()

    def _add(self, match_id: str, phrases: list[str], fillers: list[str], stops: list[str]) -> None:
        for phrase in phrases:
            for pattern in compile_phrase(phrase, self.norms, fillers, stops):
                words, stems = anchors(pattern)
                keys = [f"w:{w}" for w in words] + [f"s:{s}" for s in stems] or ["*"]
                pattern_id = f"{match_id}:not" if match_id.startswith("rule:") and has_negation(pattern) else match_id
                for key in keys:
                    self._pending.setdefault(key, []).append((pattern_id, pattern))

    def _build_buckets(self) -> None:
        for key, entries in self._pending.items():
            grouped: dict[str, list[list[TokenSpec]]] = {}
            for match_id, pattern in entries:
                grouped.setdefault(match_id, []).append(pattern)
            matcher = self._always if key == "*" else Matcher(self.nlp.vocab, validate=self._validate)
            for match_id, patterns in grouped.items():
                matcher.add(match_id, patterns, greedy="LONGEST")
            if key != "*":
                self._buckets[key] = matcher
            if key.startswith("s:"):
                self._by_prefix.setdefault(key[2:5], []).append(key)
        self._pending.clear()

    def _match(self, doc: Doc) -> set[tuple[int, int, int]]:
        norms = {t.norm_ for t in doc}
        keys = {f"w:{w}" for w in norms} & self._buckets.keys()
        for word in norms:
            keys.update(k for k in self._by_prefix.get(word[:3], ()) if word.startswith(k[2:]))
        found = set(self._always(doc)) if len(self._always) else set()
        for key in keys:
            found.update(self._buckets[key](doc))
        return found

    # ------------------------------------------------------------------ tokenising

    def _doc(self, text: str, fix_typos: bool = True) -> Doc:
        doc = self.nlp.make_doc(prepare(text))
        spans = filter_spans([doc[s:e] for _, s, e in self._phrase_spelling(doc)])
        if spans:
            with doc.retokenize() as retokenizer:
                for span in spans:
                    canonical = self.nlp.vocab.strings[self._phrase_spelling(span.as_doc())[0][0]]
                    retokenizer.merge(span, attrs={"NORM": canonical})
        for i, token in enumerate(doc):
            token.norm_ = self._norm(doc, i, fix_typos)
        return doc

    def _norm(self, doc: Doc, i: int, fix_typos: bool) -> str:
        token = doc[i]
        lower = token.lower_
        if " " in token.text:  # merged spelling variant: norm already set
            return token.norm_
        if lower in self._single_spelling:
            return self._single_spelling[lower]
        if lower in ("m", "'m") and i > 0 and doc[i - 1].lower_ == "i":
            return "am"
        if lower in ("did", "does"):
            return "do"
        if lower == "'d":
            return "would"
        if fix_typos and token.is_alpha and len(lower) >= 5 and lower not in self._vocab:
            return self._fix_typo(lower) or token.norm_
        return token.norm_

    def _fix_typo(self, word: str) -> str | None:
        """Correct one swapped pair of letters or a tripled letter towards a lexicon word."""
        if word in self._protected or self._known(word):
            return None
        candidates = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
        candidates.add(re.sub(r"(.)\1\1+", r"\1\1", word))
        candidates.add(re.sub(r"(.)\1\1+", r"\1", word))
        hits = sorted(c for c in candidates if c != word and self._known(c))
        return hits[0] if len(hits) == 1 else None

    def _known(self, word: str) -> bool:
        return word in self._vocab or any(word.startswith(s) for s in self._stems)

    # ------------------------------------------------------------------ analysis

    def analyse(self, text: str) -> _Analysis:
        doc = self._doc(text)
        clause, sentence, questions = _segment(doc)
        a = _Analysis(text=text, doc=doc, clause=clause, sentence=sentence, questions=questions, cues={})
        for match_id, start, end in sorted(self._match(doc), key=lambda m: (m[1], m[2])):
            name = self.nlp.vocab.strings[match_id]
            if name.startswith("rule:"):
                rule_id, _, says_not = name.partition(":not")
                a.hits.append(Hit(self._rules[rule_id], start, end, says_not=bool(_)))
            else:
                a.cues.setdefault(name.split(":", 1)[1], []).append((start, end))
        for hit in a.hits:
            list_key = bool(hit.rule.key) and ANSWERS[hit.rule.key].kind == "list"
            hit.negated = self._negated(a, hit.start, hit.end, list_key) or (
                not hit.says_not and self._negated_inside(a, hit, list_key))
            hit.hedged = self._hedged(a, hit.start, hit.end)
        self._spread_negation(a)
        return a

    def _negated_inside(self, a: _Analysis, hit: Hit, list_key: bool) -> bool:
        """ "calf isn't sore": a gap in the phrase stepped over the negation."""
        return any(hit.start <= s and e < hit.end and not self._void(a, s, e, list_key) for s, e in a.spans("negation"))

    def _spread_negation(self, a: _Analysis) -> None:
        """ "no pain in the hip or thigh": negation carries across "or"/"nor" to the next item."""
        hits = sorted((h for h in a.hits if h.rule.mode != IGNORE), key=lambda h: h.start)
        for prev, hit in itertools.pairwise(hits):
            gap = [a.doc[j].norm_ for j in range(prev.end, hit.start)]
            if prev.negated and not hit.negated and a.clause[prev.start] == a.clause[hit.start] and (
                    0 < len(gap) <= 3 and gap[0] in ("or", "nor")):
                hit.negated = True

    def _void(self, a: _Analysis, start: int, end: int, list_key: bool) -> bool:
        """A negation cue inside "not sure", "not only" ... is no negation; nor "can't" for triggers.

        Nor is a reply's opening "no" before a new subject ("no, it's not red", "no I can't walk"):
        it answers the question instead of negating what follows.
        """
        names = ["pseudo_negation", "hedge", "unknown"] + (["inability"] if list_key else [])
        if any(s <= start and end <= e for name in names for s, e in a.spans(name)):
            return True
        first = start == 0 or a.doc[start - 1].norm_ in CLAUSE_PUNCT | {"and", "but", "so", "then", "well", "oh"}
        return first and a.doc[start].norm_ == "no" and end < len(a.doc) and a.doc[end].norm_ in SUBJECTS

    def _negated(self, a: _Analysis, start: int, end: int, list_key: bool) -> bool:
        c = a.clause[start]
        for s, e in a.spans("negation"):
            in_scope = e <= start and a.clause[s] == c and start - e <= NEGATION_WINDOW
            if in_scope and not self._void(a, s, e, list_key) and not self._until_after(a, e, c):
                return True
        for s, _e in a.spans("negation_after"):
            if s >= end and a.clause[s] == c and s - end <= 2 and not self._void(a, s, _e, list_key):
                return True
        if list_key:  # "stairs don't bother it", "running isn't a problem"
            return any(a.doc[j].norm_ == "not" and a.clause[j] == c for j in range(end, min(len(a.doc), end + 3)))
        return False

    @staticmethod
    def _until_after(a: _Analysis, cue_end: int, clause: int) -> bool:
        """ "didn't swell until hours later" affirms the swelling."""
        window = range(cue_end, min(len(a.doc), cue_end + 8))
        return any(a.doc[j].norm_ in UNTIL and a.clause[j] == clause for j in window)

    def _hedged(self, a: _Analysis, start: int, end: int) -> bool:
        c = a.clause[start]
        if c in a.questions:
            return True
        if any(e <= start and a.clause[s] == c and start - e <= HEDGE_WINDOW for s, e in a.spans("hedge")):
            return True
        if any(start < s and e <= end for s, e in a.spans("hedge")):
            return True  # a hedge inside the phrase's gap: "my foot might be numb"
        return any(s >= end and a.clause[s] == c and s - end <= 3 for s, _ in a.spans("hedge_after"))

    # ------------------------------------------------------------------ from hits to answers

    def _valid(self, a: _Analysis, hit: Hit, reply_keys: set[str] | None) -> bool:
        rule = hit.rule
        if rule.mode == IGNORE:
            return True
        if rule.mode == "when_negated" and not hit.negated:
            return False
        if reply_keys is None:
            if rule.mode == "reply":
                return False
            info = self.keys[rule.key]
            if any(not self._cue_in_sentence(a, hit, need) for need in info.needs):
                return False
        elif not self._produces(rule, reply_keys):
            return False
        elif ANSWERS[rule.key].kind == "list" and self._cue_in_clause(a, hit, "benign"):
            return False  # "walking is fine but stairs hurt"
        if reply_keys is None and rule.key == "triggers" and self._injury_clause(a, hit):
            return False  # "came off my mountain bike": the activity at the moment of injury
        info = self.keys[rule.key]
        if any(self._cue_in_clause(a, hit, block) for block in info.blocked_by):
            return False
        # per value: "tripped and landed on my kneecap" is no jump landing, "jumped ... landed" is
        if any(not self._cue_in_sentence(a, hit, need) for need in rule.needs):
            return False
        blocked = any(self._cue_in_sentence(a, hit, block) for block in rule.blocked_by)
        return not blocked or any(self._cue_in_sentence(a, hit, name) for name in rule.unless)

    def _injury_clause(self, a: _Analysis, hit: Hit) -> bool:
        clause = a.clause[hit.start]
        return any(h.rule.key == "injury_mechanism" and h.rule.value != "none" and h.rule.mode == "say"
                   and a.clause[h.start] == clause for h in a.hits)

    def _produces(self, rule: Rule, keys: set[str]) -> bool:
        info = self.keys[rule.key]
        produced = {rule.key} | {k for k, _ in rule.also}
        for mapped in info.negated.values():
            produced |= set(mapped)
        return bool(produced & keys)

    def _cue_in_sentence(self, a: _Analysis, hit: Hit, name: str) -> bool:
        sent = a.sentence[hit.start]
        cues = [(s, e) for s, e in a.spans(name) if a.sentence[s] == sent]
        if name != "pain":
            return bool(cues)
        benign = {a.clause[s] for s, _ in a.spans("benign")}
        if a.clause[hit.start] in benign:
            return False
        return any(not self._negated(a, s, e, False) or self._void(a, s, e, True) for s, e in cues)

    def _cue_in_clause(self, a: _Analysis, hit: Hit, name: str) -> bool:
        return any(a.clause[s] == a.clause[hit.start] for s, _ in a.spans(name))

    def _surviving(self, a: _Analysis, reply_keys: set[str] | None) -> list[Hit]:
        """Valid hits not strictly inside a longer valid hit ("calf is swollen" hides "swollen")."""
        valid = sorted((h for h in a.hits if self._valid(a, h, reply_keys)), key=lambda h: h.start - h.end)
        # "no idea", "can't remember": words inside an I-don't-know phrase answer nothing
        valid = [h for h in valid if not any(s <= h.start and h.end <= e for s, e in a.spans("unknown"))]
        kept: list[Hit] = []
        for hit in valid:
            if not any(self._hides(k, hit) for k in kept):
                kept.append(hit)
        return [h for h in kept if h.rule.mode != IGNORE]

    def _hides(self, outer: Hit, inner: Hit) -> bool:
        """A longer phrase hides a shorter one it contains or overlaps ("no swelling in my calf" is about the calf).

        Overlapping phrases of the same key both stay; `keeps` lets a key's phrases survive inside another's.
        """
        overlap = outer.start < inner.end and inner.start < outer.end
        if not overlap or outer.end - outer.start <= inner.end - inner.start:
            return False
        inside = outer.start <= inner.start and inner.end <= outer.end
        if not inside and outer.rule.key == inner.rule.key:
            return False
        info = self.keys.get(outer.rule.key)
        return not (info and inner.rule.key in info.keeps)

    def _meaning(self, hit: Hit) -> list[tuple[str, Any]]:
        """The answers a surviving hit gives, after negation."""
        rule = hit.rule
        if rule.mode == "when_negated" or not hit.negated:
            return [(rule.key, rule.value), *rule.also]
        kind = ANSWERS[rule.key].kind
        if kind == "bool":
            return [(rule.key, not rule.value)]
        if kind == "list":
            return []
        mapped = self.keys[rule.key].negated
        chosen = mapped.get(rule.value, mapped.get("any"))
        return list(chosen.items()) if chosen else []

    def _findings(self, a: _Analysis, reply_keys: set[str] | None) -> list[Finding]:
        return [f for f in self._readings(a, reply_keys) if not f.context]

    def _reader(self, a: _Analysis) -> Reader:
        if a.reader is None:
            stating = {a.clause[h.start] for h in a.hits if h.rule.mode in ("say", "when_negated")}
            a.reader = Reader(self.lex.context, a, stating)
        return a.reader

    def _readings(self, a: _Analysis, reply_keys: set[str] | None) -> list[Finding]:
        """Every answer the text mentions: those stated now (empty context) and those it does not state
        for this patient now, with the context that says why (one reading per hit and value)."""
        reader = self._reader(a)
        candidates: dict[str, list[tuple[Any, Hit]]] = {}
        doubted: dict[str, set[Any]] = {}  # values said with "maybe", "I think", "?"
        out_of_context: list[Finding] = []
        for hit in sorted(self._surviving(a, reply_keys), key=lambda h: h.start):
            for key, value in self._meaning(hit):
                if value is None or (reply_keys is not None and key not in reply_keys):
                    continue
                kinds = reader.kinds(hit.start, hit.end, key) | ({HEDGED} if hit.hedged else set())
                if kinds:
                    out_of_context.append(Finding(key, value, *a.char_span(hit.start, hit.end), frozenset(kinds)))
                if kinds == {HEDGED}:
                    doubted.setdefault(key, set()).add(value)
                elif not kinds:
                    candidates.setdefault(key, []).append((value, hit))
        for key, values in doubted.items():  # "I might have twisted it ... it just started aching": unsure
            if key in candidates and ANSWERS[key].kind != "list" and {v for v, _ in candidates[key]} - values:
                del candidates[key]
        out = []
        for key, cands in candidates.items():
            for value, hit in self._resolve(a, key, cands):
                out.append(Finding(key, value, *a.char_span(hit.start, hit.end)))
        return out + out_of_context

    def _resolve(self, a: _Analysis, key: str, cands: list[tuple[Any, Hit]]) -> list[tuple[Any, Hit]]:
        """One value per key (each trigger once for the list key); [] when the text contradicts itself."""
        spec = ANSWERS[key]
        if spec.kind == "list":
            first: dict[Any, Hit] = {}
            for value, hit in cands:
                first.setdefault(value, hit)
            return [(v, first[v]) for v in spec.values if v in first]
        values = list(dict.fromkeys(v for v, _ in cands))
        if len(values) == 1:
            return [cands[0]]
        chosen = self._corrected(a, cands)
        specific = {v for v, h in cands if h.rule.mode != "reply"}
        if chosen is None and len(specific) == 1:  # a specific phrase beats a vague reply word ("tackle")
            chosen = specific.pop()
        if chosen is None and spec.kind == "bool" and spec.red_flag and True in values:
            chosen = True  # safety: a red flag stated anywhere counts
        info = self.keys.get(key)
        if chosen is None and info and any(pair <= set(values) for pair in info.undecided):
            return []  # "slipped and twisted it": which one is for the patient to say
        if chosen is None and info and info.prefer:
            chosen = next((v for v in info.prefer if v in values), None)
        if chosen is None and info and info.prefer_pain_clause:
            pained = {v for v, h in cands if self._cue_in_clause(a, h, "pain")}
            chosen = pained.pop() if len(pained) == 1 else None
        return [next(c for c in cands if c[0] == chosen)] if chosen is not None else []

    def _corrected(self, a: _Analysis, cands: list[tuple[Any, Hit]]) -> Any | None:
        """The value stated right after "actually", "I mean", "more on the ..." (the last such one)."""
        corrected = [v for v, h in cands
                     if any(s < h.start and e <= h.end and h.start - e <= 5 and a.sentence[s] == a.sentence[h.start]
                            for s, e in a.spans("correction"))]
        return corrected[-1] if corrected else None

    # ------------------------------------------------------------------ public operations

    def findings(self, text: str) -> list[Finding]:
        """Every answer the text states for this patient now, each with the character span that states it."""
        return [f for f in self.readings(text) if not f.context]

    def readings(self, text: str) -> list[Finding]:
        """findings() plus what the text mentions but does not state for this patient now, with its context."""
        if not isinstance(text, str) or not text.strip():
            return []
        a = self.analyse(text)
        found = self._readings(a, None)
        numeric = self._numeric_findings(a, {f.key for f in found if not f.context})
        if any(f.key == "morning_stiffness" and not f.context for f in numeric):  # a stated time beats a vague word
            found = [f for f in found if f.key != "morning_stiffness"]
        return found + numeric

    def doubtful(self, text: str) -> list[str]:
        """Red flags the text mentions without stating them (hedged, hypothetical, gone), in checklist order.

        "I think my calf might be swollen?" is no statement, and no "no" either: the dialogue confirms
        each of these in one question. A flag the text also states clearly is not doubtful (it is acted on).
        """
        return [f.key for f in doubtful_readings(self.readings(text))]

    def _numeric_findings(self, a: _Analysis, have: set[str]) -> list[Finding]:
        prepared = a.doc.text
        out = []
        for key, fn in (("age", numbers.find_age), ("pain_score", numbers.find_pain)):
            hit = fn(prepared)
            if hit is not None:
                out.append(self._placed(a, key, hit))
        times = numbers.duration_candidates(prepared)
        duration = numbers.agreeing([d for d in times if self._on_timeline(a, d, times)])
        if duration is not None:
            out.append(self._placed(a, "duration_weeks", duration))
        sex = numbers.find_sex(prepared)
        if sex is not None and "sex" not in have:
            out.append(self._placed(a, "sex", sex))
        stiffness = numbers.stiffness_length(prepared, need_context=True)
        if stiffness is not None:
            out.append(self._placed(a, "morning_stiffness", stiffness))
        return out

    def _placed(self, a: _Analysis, key: str, found: numbers.Found) -> Finding:
        """A number with the context of the words around it ("my mum is 71" in my own story is not my age)."""
        start, end = self._tokens(a, found)
        kinds = self._reader(a).kinds(start, end, key) if end > start else frozenset()
        return Finding(key, found.value, found.start, found.end, kinds)

    @staticmethod
    def _tokens(a: _Analysis, found: numbers.Found) -> tuple[int, int]:
        span = a.doc.char_span(found.start, found.end, alignment_mode="expand")
        return (span.start, span.end) if span is not None else (0, 0)

    def _on_timeline(self, a: _Analysis, found: numbers.Found, times: list[numbers.Found]) -> bool:
        """A time that dates this problem: "it started 6 weeks ago", not "had my baby 6 months ago".

        No other event (`other_event`: surgery, baby, physio ...) stands next to it and the time is about
        this patient, not hypothetical; its clause speaks of this problem (a `timeline` word: started,
        hurt, fell, until ...), or says nothing else ("nearly three weeks now"). A time long past
        ("5 years ago") needs a start word in its own clause ("it began 3 years ago"): otherwise it
        dates some old event ("left over from an injury 5 years ago").
        """
        start, end = self._tokens(a, found)
        if end <= start or self._reader(a).kinds(start, end, "duration_weeks"):
            return False
        clause = a.clause[start]
        if any(self._dates(a, event, (start, end), times) for event in a.spans("other_event")):
            return False  # "had my baby 6 months ago": the event a time dates stands next to it
        prepared = a.doc.text
        knee = {"knee", "knees", "kneecap", "kneecaps"}
        if any(a.clause[s] == clause for s, _ in a.spans("other_part")) and not any(
                t.norm_ in knee for t in a.doc if a.clause[t.i] == clause):
            return False  # "calf swollen for 3 days" dates the calf, not the knee problem
        if numbers.is_date(prepared, found):
            return True  # numbers.py already asked for an onset verb in its sentence
        if numbers.long_ago(prepared, found):
            return any(a.clause[s] == clause for s, _ in a.spans("onset_time"))
        if any(a.clause[s] == clause and not (start <= s and e <= end) for s, e in a.spans("timeline")):
            return True
        rest = {t.norm_ for t in a.doc if a.clause[t.i] == clause and t.is_alpha and not start <= t.i < end}
        return rest <= _ONLY_TIME

    def _dates(self, a: _Analysis, event: tuple[int, int], time: tuple[int, int], times: list[numbers.Found]) -> bool:
        """Whether an other event dates this time: same clause, a few words apart, no other time between."""
        (s, e), (start, end) = event, time
        if a.clause[s] != a.clause[start]:
            return False
        lo, hi = (e, start) if e <= start else (end, s)
        if hi - lo > EVENT_WINDOW:
            return False
        spans = [self._tokens(a, t) for t in times]
        return not any(lo <= t_s and t_e <= hi for t_s, t_e in spans if (t_s, t_e) != (start, end))

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
        if key == RED_FLAG_CHECKLIST:
            return self._answer_red_flags(text)
        spec = ANSWERS.get(key)
        if spec is None:
            return None
        a = self.analyse(text)
        value = self._keyed_value(a, key)
        if value is not None:
            return value
        return self._short_answer(a, key)

    def _not_prose(self, a: _Analysis) -> bool:
        """Code, markup or another language: its digits are no answer ("alert(1)", "seit 2 Wochen")."""
        if _CODE.search(a.doc.text):
            return True
        words = [t.norm_ for t in a.doc if t.is_alpha]
        return len(words) >= 3 and not any(w in self._vocab or w in _ENGLISH for w in words)

    def _keyed_value(self, a: _Analysis, key: str) -> Any | None:
        prepared = a.doc.text
        if key in _NUMERIC and self._not_prose(a):
            return None
        if key in _NUMERIC:
            fn = {"age": numbers.reply_age, "pain_score": numbers.reply_pain,
                  "duration_weeks": numbers.reply_duration}[key]
            found = fn(prepared)
            return found.value if found else None
        if key == "morning_stiffness":
            timed = numbers.stiffness_length(prepared, need_context=False)
            if timed is not None:
                return timed.value
        if key == "sex":
            sex = numbers.find_sex(prepared)
            if sex is not None:
                return sex.value
        found = [f for f in self._findings(a, {key}) if f.key == key]
        if not found:
            return None
        if ANSWERS[key].kind == "list":
            return [f.value for f in found]
        return found[0].value

    def _short_answer(self, a: _Analysis, key: str) -> Any | None:
        """"yep", "nah", "not sure": meaning depends on the kind of question."""
        if a.spans("unknown"):
            return UNKNOWN
        if self._is_question(a):
            return None
        spec = ANSWERS[key]
        yes_no = self._yes_no(a)
        if yes_no is not None:
            if spec.kind == "bool":
                # "Can you lift the leg?" stores the red flag on "no": the question says which way round.
                return yes_no if prompt(key).yes_means else not yes_no
            if spec.kind == "list":
                return [] if yes_no is False else None
            info = self.keys.get(key)
            if info is not None:
                mapped = info.yes if yes_no else info.no
                if mapped is not None:
                    return mapped
        if any(h.hedged and self._produces(h.rule, {key}) for h in a.hits if h.rule.mode != IGNORE):
            return UNKNOWN
        return None

    def _is_question(self, a: _Analysis) -> bool:
        if a.spans("not_an_answer"):
            return True
        return a.doc.text.rstrip().endswith("?") and len(a.doc) > 2

    def _yes_no(self, a: _Analysis) -> bool | None:
        """The last plain yes or no in the reply ("yeah nah" is no)."""
        marks = [(e, e - s, True) for s, e in a.spans("yes")] + [(e, e - s, False) for s, e in a.spans("no")]
        if not marks:  # a bare "it doesn't" / "wasn't one"; "can't ..." is not a plain no
            negations = [s for s, e in a.spans("negation") if not self._void(a, s, e, True)]
            words = [t for t in a.doc if not t.is_punct and not t.is_space]
            return False if negations and len(words) <= 8 else None
        return max(marks)[2]  # the one ending last; on a tie the longer ("there was not" > "there was")

    def _answer_red_flags(self, text: str) -> dict[str, bool] | None:
        """The signs a checklist reply names (the others false), or all false for a clear "none"; None
        when unclear. A sign a word may mean but the reply does not state is left out: it is asked.

        "None" needs a none/no/nothing reply with no word that may mean a sign: "swole n sore" holds
        a "n" (no) but also "calf", so it is unclear, never a silent "none of these".
        """
        a = self.analyse(text)
        keys = set(RED_FLAG_KEYS)
        findings = self._findings(a, keys)
        named = {f.key: f.value for f in findings}
        hinted = set(self._hints(a, findings))
        if named:  # the signs named; the rest are "no", except those a word may mean (asked next)
            return {k: named.get(k) is True for k in RED_FLAG_KEYS if k in named or k not in hinted}
        if a.spans("unknown") or self._is_question(a) or hinted:
            return None
        if a.spans("none_of_those") or self._yes_no(a) is False:
            return dict.fromkeys(RED_FLAG_KEYS, False)
        return None

    def checklist_hints(self, text: str) -> list[str]:
        """Red flags a checklist reply may mean without stating them, in checklist order."""
        a = self.analyse(text)
        return self._hints(a, self._findings(a, set(RED_FLAG_KEYS)))

    def _hints(self, a: _Analysis, findings: list[Finding]) -> list[str]:
        """Hint words outside the words that state a sign ("can't put weight on it" is not weight loss)."""
        stated = [(f.start, f.end) for f in findings]
        words = [t.norm_ for t in a.doc if t.is_alpha and len(t.norm_) >= 3
                 and not any(start <= t.idx < end for start, end in stated)]
        hinted = {key for key, cues in self.lex.checklist_hints.items()
                  if any(_cue_matches(cue, word) for cue in cues for word in words)}
        return [key for key in RED_FLAG_KEYS if key in hinted]


# How close a misspelt word must be to a hint word (rapidfuzz ratio, 0-100): "calfs" ~ "calf" is 89.
FUZZY_HINT = 85


def _cue_matches(cue: str, word: str) -> bool:
    if cue.endswith("*"):
        stem = cue[:-1]
        return word.startswith(stem) or (len(word) >= 5 and fuzz.ratio(stem, word[: len(stem)]) >= FUZZY_HINT)
    return word == cue or (len(cue) >= 4 and fuzz.ratio(cue, word) >= FUZZY_HINT)


def _segment(doc: Doc) -> tuple[list[int], list[int], set[int]]:
    """Clause and sentence number of every token, and the clauses that are questions."""
    clause, sentence, questions = [], [], set()
    c = s = 0
    for i, token in enumerate(doc):
        text = token.norm_
        is_break_word = text in CLAUSE_WORDS or (
            text in NEW_SUBJECT_AFTER and i + 1 < len(doc) and doc[i + 1].norm_ in SUBJECTS)
        if token.is_space and "\n" not in token.text:
            pass
        elif text in CLAUSE_PUNCT or "\n" in token.text or is_break_word:
            if text == "?":
                questions.add(c)
            c += 1
            if text in SENTENCE_PUNCT or "\n" in token.text or text.startswith(".."):
                s += 1
        clause.append(c)
        sentence.append(s)
    return clause, sentence, questions


@lru_cache(maxsize=1)
def get_extractor() -> Extractor:
    """The shared, lazily built extractor (module-level cache)."""
    return Extractor()


def doubtful_readings(readings: list[Finding]) -> list[Finding]:
    """The first mention of each red flag that is doubtful among `readings` (see Extractor.doubtful)."""
    stated = {f.key for f in readings if not f.context}
    first: dict[str, Finding] = {}
    for f in readings:
        if f.key in RED_FLAG_KEYS and f.value is True and f.context & DOUBTFUL_CONTEXTS and f.key not in stated:
            first.setdefault(f.key, f)
    return [first[key] for key in RED_FLAG_KEYS if key in first]


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
