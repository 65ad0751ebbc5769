"""The context of a finding, as a clinician reads a sentence (ConText, Harkema et al. 2009).

A finding can be stated for this patient now, or be historical ("8 years ago", "used to"),
hypothetical ("if it swells, should I ..."), about someone else ("my friend had a DVT") or
finished ("it was swollen last week, not now"). Pipeline stage 3, `knee_context`, marks each
hit's negation and hedging (bot/nlu/negation.py) and sets the message's Reader. The kinds here are
data: each `context:` entry of lexicon.yml names the cue group that marks it, which way and how far
a cue reaches and what ends its scope, so a clinician or linguist edits the words and the reach
without touching code.

Who the patient is: a message about a relative ("my son is 13, his knees hurt") is the relative's
story, so in such a message the relative's words are the patient's and "he"/"his" end nothing.
"""


from spacy.language import Language
from spacy.tokens import Doc

from bot.nlu import negation
from bot.nlu.analysis import Analysis, analysis
from bot.nlu.lexicon import ContextRule, Lexicon, shared

OTHER_PERSON = "other_person"
# Cue groups (lexicon.yml `cues:`) the patient's identity is read from.
OWN_BODY, FIRST_PERSON, THIRD_PERSON, RELATIVE = "own_body", "first_person", "third_person", "my_relative"


class Reader:
    """Reads the context kinds of token spans in one analysed message."""

    def __init__(self, rules: list[ContextRule], a: Analysis, finding_clauses: set[int]) -> None:
        self.rules = rules
        self.a = a
        self.finding_clauses = finding_clauses  # clauses that state something themselves
        self.proxy = is_proxy(a)
        self._patient = self._patient_spans()
        self._questions = {a.sentence[t] for t, c in enumerate(a.clause) if c in a.questions}

    def kinds(self, start: int, end: int, key: str) -> frozenset[str]:
        """The context kinds that apply to the finding at tokens [start, end) for answer `key`."""
        return frozenset(r.kind for r in self.rules if key not in r.not_for and self._applies(r, start, end))

    # ------------------------------------------------------------------ scope

    def _applies(self, rule: ContextRule, start: int, end: int) -> bool:
        return self._cued(rule, start, end) or self._carried(rule, start)

    def _carried(self, rule: ContextRule, start: int) -> bool:
        """ "An injury 5 years ago. That was bad: walking was painful": the next sentence goes on about it."""
        a = self.a
        sentence = a.sentence[start]
        first = next((t for t in range(start + 1) if a.sentence[t] == sentence
                      and not (a.doc[t].is_punct or a.doc[t].is_space)), start)
        if not any(s == first for g in rule.carries for s, _ in a.spans(g)):
            return False
        before = [s for s, _ in self._cues(rule) if a.sentence[s] == sentence - 1]
        return any(not self._in_sentence(s, rule.unless) for s in before)

    def _cued(self, rule: ContextRule, start: int, end: int) -> bool:
        a = self.a
        for s, e in self._cues(rule):
            # the finding inside a cue phrase ("had ... before", "an old injury"), or a cue inside the
            # finding's words ("swollen last year after football", "twisted her knee")
            inside = s <= start and end <= e or start < s and e <= end
            if start == s and e <= end:
                continue  # a cue opening the phrase is its subject: "he kicked my knee"
            if rule.kind == OTHER_PERSON and self._mine(start, end):
                continue  # "she kicked me in the knee": what happened to me
            if not inside and not (self._in_scope(rule, s, e, start, end) and not self._ended(rule, s, e, start, end)):
                continue
            if rule.needs and not self._in_sentence(s, rule.needs) and a.sentence[s] not in self._questions:
                continue  # "if I run it hurts" states a trigger; "if it swells, should I ...?" does not
            if not self._in_sentence(s, rule.unless):
                return True
        return False

    def _mine(self, start: int, end: int) -> bool:
        """The finding's own words name the patient ("kicked me in the knee", "my knee")."""
        group = THIRD_PERSON if self.proxy else FIRST_PERSON
        return any(start <= s and e <= end for s, e in self.a.spans(group))

    def _in_sentence(self, i: int, groups: tuple[str, ...]) -> bool:
        return any(self.a.sentence[c] == self.a.sentence[i] for g in groups for c, _ in self.a.spans(g))

    def _in_scope(self, rule: ContextRule, s: int, e: int, start: int, end: int) -> bool:
        a = self.a
        forward = e <= start and rule.look in ("forward", "both") and start - e <= rule.window
        backward = s >= end and rule.look in ("backward", "both") and s - end <= rule.window
        if not (forward or backward):
            return False
        if rule.scope == "sentence":
            return a.sentence[s] == a.sentence[start]
        if a.clause[s] == a.clause[start]:
            return True
        # "it was swollen last year, not now": a cue alone in its clause reaches the clause before
        return (rule.reaches_back and backward and a.clause[s] == a.clause[start] + 1
                and a.sentence[s] == a.sentence[start] and a.clause[s] not in self.finding_clauses)

    def _ended(self, rule: ContextRule, s: int, e: int, start: int, end: int) -> bool:
        """A terminator between the cue and the finding cuts the scope ("my wife says my knee ...")."""
        lo, hi = (e, start) if e <= start else (end, s)
        groups = list(rule.ends)
        if rule.kind == OTHER_PERSON:
            groups.append(THIRD_PERSON if self.proxy else FIRST_PERSON)
        return any(lo <= t_s and t_e <= hi for g in groups for t_s, t_e in self.a.spans(g))

    def _cues(self, rule: ContextRule) -> list[tuple[int, int]]:
        cues = self.a.spans(rule.cues)
        if rule.kind != OTHER_PERSON:
            return cues
        if self.proxy:  # "my son ... he": the relative is the patient
            return [c for c in cues if c not in self._patient]
        return cues + self.a.spans(THIRD_PERSON)

    def _patient_spans(self) -> set[tuple[int, int]]:
        """In a message about a relative, the cue spans that name that relative ("my son")."""
        if not self.proxy:
            return set()
        relatives = self.a.spans(RELATIVE)
        first = _person_word(self.a.doc, relatives[0]) if relatives else None
        mine = [r for r in relatives if _person_word(self.a.doc, r) == first]
        return {c for c in self.a.spans(OTHER_PERSON) if any(c[0] < r[1] and r[0] < c[1] for r in mine)}


def is_proxy(a: Analysis) -> bool:
    """A message about a relative's knee ("my son is 12", "my mum ... she slipped"), not the writer's own."""
    return bool(a.spans(RELATIVE)) and not a.spans(OWN_BODY)


def _person_word(doc: Doc, span: tuple[int, int]) -> str | None:
    """The person a "my ..." cue names ("my little boy" -> "boy"): its last word."""
    words = [t.norm_ for t in doc[span[0]:span[1]] if t.is_alpha]
    return words[-1] if words else None


class ContextMarker:
    """Negation, hedging and the context Reader of one message's hits."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.rules = lexicon.context

    def __call__(self, doc: Doc) -> Doc:
        a = analysis(doc)
        negation.mark(a)
        stating = {a.clause[h.start] for h in a.hits if h.rule.mode in ("say", "when_negated")}
        a.reader = Reader(self.rules, a, stating)
        return doc


@Language.factory("knee_context", default_config={"lexicon": ""})
def make_context(nlp: Language, name: str, lexicon: str) -> ContextMarker:
    return ContextMarker(shared(lexicon))
