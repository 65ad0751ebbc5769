"""Pipeline stage 1, `knee_normalise`: the word each token means, and the message's clauses.

Each token's NORM is the lexicon word it stands for: lay words and abbreviations from the
lexicon's `lay_words:` ("swole" -> swollen, "arvo" -> afternoon, "knee cap" -> kneecap), and
misspellings corrected towards the lexicon's own words by edit distance (rapidfuzz's
Damerau-Levenshtein: "stiars" -> stairs, "kne" -> knee, "calfs" -> calf). A word English already
knows (pyspellchecker's frequency list) is never "corrected": "stars" stays stars, "bellow" stays
bellow unless a clinician lists it as a lay word. No typo list is kept by hand.
"""


import re
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, Indel, Levenshtein
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc
from spacy.util import filter_spans
from spellchecker import SpellChecker

from bot.nlu.analysis import Analysis
from bot.nlu.lexicon import SENTENCE_PUNCT, Lexicon, literal_words, shared

MAX_CHARS = 1500  # long pastes are cut: the first 1,500 characters carry the story and keep us fast
CLAUSE_PUNCT = {",", ":", "(", ")", "-", "–", "—", "*", '"', "“", "”"} | set(SENTENCE_PUNCT)
CLAUSE_WORDS = {"but", "though", "although", "however", "except", "whereas", "whilst", "tho", "because",
                "cos", "which", "apart"}
# "and it ...", "so I ...": a conjunction followed by a new subject starts a new clause.
NEW_SUBJECT_AFTER = {"and", "so", "then", "or", "plus"}
SUBJECTS = {"i", "it", "my", "there", "this", "that", "its", "she", "he", "we", "they", "the", "me", "now", "also"}
# A word seen at least this often in pyspellchecker's English list (counts from subtitles) is a real
# word, not a typo; rarer entries ("calfs", "hurst": 50) are mostly misspellings and names.
ENGLISH_FLOOR = 100
TYPO_CACHE = 20_000  # corrections remembered (a few MB at most)
SHORT_WORD = 4  # up to this length only a last or doubled letter left out is corrected (too many near words)


def prepare(text: str) -> str:
    """Same-length clean-up (so character offsets still point into the original text)."""
    text = re.sub("[\ud800-\udfff]", "\ufffd", text[:MAX_CHARS])  # lone surrogates: spaCy cannot hash them
    text = text.translate(str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"'}))
    text = re.sub(r"(?<=[A-Za-z])[-‐‑](?=[A-Za-z])", " ", text)  # knee-cap, straight-leg, non-binary
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


class PreparingTokenizer:
    """spaCy's tokenizer on prepared text: the pipeline's Doc is always of the cleaned-up text."""

    def __init__(self, tokenizer: object) -> None:
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> Doc:
        return self.tokenizer(prepare(text))  # type: ignore[operator]


@lru_cache(maxsize=1)
def _english() -> dict[str, int]:
    return SpellChecker(distance=1).word_frequency.dictionary


def is_english(word: str) -> bool:
    return _english().get(word, 0) >= ENGLISH_FLOOR


class Normaliser:
    """Sets each token's NORM and starts the message's Analysis (clauses, sentences, questions)."""

    def __init__(self, nlp: Language, lexicon: Lexicon) -> None:
        self.nlp = nlp
        self.lex = lexicon
        self._lay_single: dict[str, str] = {}
        self._lay_phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        for canonical, variants in lexicon.lay_words.items():
            for variant in variants:
                words = nlp.make_doc(variant)
                if len(words) == 1:
                    self._lay_single[words[0].lower_] = canonical
                else:
                    self._lay_phrases.add(canonical, [words])
        self._norm_cache: dict[str, list[str]] = {}
        self._typo_cache: dict[str, str | None] = {}
        words, stems = literal_words([p for _, phrases in lexicon.rules for p in phrases], self.norms)
        self.vocab: frozenset[str] = frozenset(words | set(self._lay_single.values()))
        self._stems = tuple(sorted(stems))
        # misspellings are corrected towards lexicon words and lay words ("kness" -> knees -> knee)
        self._targets = {w: w for w in sorted(self.vocab) if len(w) >= 3} | {
            w: canonical for w, canonical in self._lay_single.items() if len(w) >= 3 and " " not in canonical}

    def __call__(self, doc: Doc) -> Doc:
        self._normalise(doc, fix_typos=True)
        doc._.knee = Analysis(doc, *segment(doc))
        return doc

    def norms(self, text: str) -> list[str]:
        """The normalised words of a lexicon phrase (no typo correction: the lexicon means what it says)."""
        if text not in self._norm_cache:
            doc = self._normalise(self.nlp.make_doc(text), fix_typos=False)
            self._norm_cache[text] = [t.norm_ for t in doc if not t.is_space]
        return self._norm_cache[text]

    def _normalise(self, doc: Doc, fix_typos: bool) -> Doc:
        spans = filter_spans([doc[s:e] for _, s, e in self._lay_phrases(doc)])
        if spans:
            with doc.retokenize() as retokenizer:
                for span in spans:
                    canonical = self.nlp.vocab.strings[self._lay_phrases(span.as_doc())[0][0]]
                    retokenizer.merge(span, attrs={"NORM": canonical})
        for i, token in enumerate(doc):
            token.norm_ = self._norm(doc, i, fix_typos)
        return doc

    def _norm(self, doc: Doc, i: int, fix_typos: bool) -> str:
        token = doc[i]
        lower = token.lower_
        if " " in token.text:  # a merged lay phrase: norm already set
            return token.norm_
        if lower in self._lay_single:
            return self._lay_single[lower]
        if lower in ("m", "'m") and i > 0 and doc[i - 1].lower_ == "i":
            return "am"
        if lower in ("did", "does"):
            return "do"
        if lower == "'d":
            return "would"
        if fix_typos and token.is_alpha and len(lower) >= 3 and lower not in self.vocab:
            return self.correct(lower) or token.norm_
        return token.norm_

    def correct(self, word: str) -> str | None:
        """The one lexicon word a misspelt word is closest to, or None (a real word, or no single nearest)."""
        if word not in self._typo_cache:
            if len(self._typo_cache) >= TYPO_CACHE:  # patients' unknown words are unbounded: keep memory flat
                self._typo_cache.clear()
            self._typo_cache[word] = self._nearest(word)
        return self._typo_cache[word]

    def known(self, word: str) -> bool:
        return word in self.vocab or any(word.startswith(s) for s in self._stems)

    def _nearest(self, word: str) -> str | None:
        if word in self.lex.protected or word in self.vocab or is_english(word):
            return None
        if len(word) <= SHORT_WORD:  # "kne", "sor", "pian": a left-out or swapped letter, nothing looser
            near = {self._targets[w] for w in _short_slips(word) if w in self._targets}
            return near.pop() if len(near) == 1 else None
        limit = 1 if len(word) <= 6 else 2
        found = [w for w, _, _ in process.extract(word, list(self._targets), scorer=DamerauLevenshtein.distance,
                                                  score_cutoff=limit, limit=None)]
        stems = [s for s in self._stems if word.startswith(s)]
        if stems:  # "twisterd" already looks like twist*: corrected only within that family (twisted)
            found = [w for w in found if any(w.startswith(s) for s in stems)]
        if not found:
            return None
        ranked = sorted(found, key=lambda w: (_slip(word, w), len(w), w))
        best = [w for w in ranked if _slip(word, w) == _slip(word, ranked[0])]
        meanings = {self._targets[w] for w in best}
        # one meaning, or one family of the word's own stem ("gradualy": gradual or gradually)
        return self._targets[best[0]] if len(meanings) == 1 or stems else None


def _short_slips(word: str) -> set[str]:
    """The words a short word may be with one slip: a last or doubled letter left out, two letters swapped."""
    grown = {word + c for c in "abcdefghijklmnopqrstuvwxyz"} | {word[:i] + word[i - 1] + word[i:]
                                                                for i in range(1, len(word) + 1)}
    swapped = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
    return grown | swapped


def _slip(typed: str, word: str) -> tuple[int, bool, int, int]:
    """How unlikely `typed` is as a slip for `word`, lowest first: fewer edits; the first letter kept
    (rarely mistyped); then a swap ("wlaking": walking, not waking), a letter added or dropped
    ("calfs": calf, not calms), a letter changed; then fewer letters changed ("sqauting": squatting)."""
    edits = DamerauLevenshtein.distance(typed, word)
    indel = Indel.distance(typed, word)
    kind = 0 if Levenshtein.distance(typed, word) > edits else 1 if indel == edits else 2
    return edits, typed[0] != word[0], kind, indel


def segment(doc: Doc) -> tuple[list[int], list[int], set[int]]:
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


@Language.factory("knee_normalise", default_config={"lexicon": ""})
def make_normaliser(nlp: Language, name: str, lexicon: str) -> Normaliser:
    return Normaliser(nlp, shared(lexicon))
