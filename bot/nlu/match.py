"""Pipeline stage 2, `knee_match`: the lexicon's phrases (answers, cues, reply words) found in a message.

Patterns are compiled from lexicon.yml with the normaliser's own normalisation, so a phrase and a
message agree on every word. They are split into small Matchers keyed by an anchor word that must
occur; only the buckets whose anchor is in the message run (one Matcher would try every pattern at
every token).
"""


from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

from bot.nlu.analysis import Hit, analysis
from bot.nlu.lexicon import Lexicon, Rule, TokenSpec, anchors, compile_phrase, has_negation, shared
from bot.nlu.normalise import CLAUSE_WORDS, Normaliser


class LexiconMatcher:
    """Adds every lexicon rule hit (`Hit`) and cue span to the message's Analysis."""

    def __init__(self, nlp: Language, lexicon: Lexicon, normaliser: Normaliser, validate: bool = False) -> None:
        self.strings = nlp.vocab.strings
        self._validate = validate  # spaCy's pattern schema check: slow, so for tests only
        self._norms = normaliser.norms
        self._pending: dict[str, list[tuple[str, list[TokenSpec]]]] = {}
        self._buckets: dict[str, Matcher] = {}
        self._by_prefix: dict[str, list[str]] = {}  # first 3 letters of a stem -> stem buckets
        self._always = Matcher(nlp.vocab, validate=validate)  # patterns without a usable anchor
        self._rules: dict[str, Rule] = {}
        self._compile(lexicon, nlp)

    def __call__(self, doc: Doc) -> Doc:
        a = analysis(doc)
        for match_id, start, end in sorted(self._match(doc), key=lambda m: (m[1], m[2])):
            name = self.strings[match_id]
            if name.startswith("rule:"):
                rule_id, says_not, _ = name.partition(":not")
                a.hits.append(Hit(self._rules[rule_id], start, end, says_not=bool(says_not)))
            else:
                a.cues.setdefault(name.split(":", 1)[1], []).append((start, end))
        return doc

    def _compile(self, lex: Lexicon, nlp: Language) -> None:
        fillers = sorted({w for f in lex.fillers for w in self._norms(f)})
        stops = sorted(CLAUSE_WORDS)
        for i, (rule, phrases) in enumerate(lex.rules):
            rule_id = f"rule:{i}"
            self._rules[rule_id] = rule
            self._add(rule_id, phrases, fillers, stops)
        for name, phrases in lex.cues.items():
            self._add(f"cue:{name}", phrases, fillers, stops)
        for name, phrases in lex.replies.items():
            self._add(f"reply:{name}", phrases, fillers, stops)
        for key, entries in self._pending.items():
            grouped: dict[str, list[list[TokenSpec]]] = {}
            for match_id, pattern in entries:
                grouped.setdefault(match_id, []).append(pattern)
            matcher = self._always if key == "*" else Matcher(nlp.vocab, validate=self._validate)
            for match_id, patterns in grouped.items():
                matcher.add(match_id, patterns, greedy="LONGEST")
            if key != "*":
                self._buckets[key] = matcher
            if key.startswith("s:"):
                self._by_prefix.setdefault(key[2:5], []).append(key)
        self._pending.clear()

    def _add(self, match_id: str, phrases: list[str], fillers: list[str], stops: list[str]) -> None:
        for phrase in phrases:
            for pattern in compile_phrase(phrase, self._norms, fillers, stops):
                words, stems = anchors(pattern)
                keys = [f"w:{w}" for w in words] + [f"s:{s}" for s in stems] or ["*"]
                pattern_id = f"{match_id}:not" if match_id.startswith("rule:") and has_negation(pattern) else match_id
                for key in keys:
                    self._pending.setdefault(key, []).append((pattern_id, pattern))

    def _match(self, doc: Doc) -> set[tuple[int, int, int]]:
        norms = {t.norm_ for t in doc}
        keys = {f"w:{w}" for w in norms} & self._buckets.keys()
        for word in norms:
            keys.update(k for k in self._by_prefix.get(word[:3], ()) if word.startswith(k[2:]))
        found = set(self._always(doc)) if len(self._always) else set()
        for key in keys:
            found.update(self._buckets[key](doc))
        return found


@Language.factory("knee_match", default_config={"lexicon": "", "validate": False})
def make_matcher(nlp: Language, name: str, lexicon: str, validate: bool) -> LexiconMatcher:
    return LexiconMatcher(nlp, shared(lexicon), nlp.get_pipe("knee_normalise"), validate)
