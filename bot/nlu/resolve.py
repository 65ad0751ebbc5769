"""Pipeline stage 4, `knee_resolve`: from the lexicon's hits to answers, each with its context.

A hit counts when its rule's conditions hold (cues needed in the sentence, blocks, the question
asked); a longer phrase hides one inside it; negation maps a value to its opposite; one value per
key survives (a correction, a specific phrase, a red flag, the lexicon's preferences), or none
when the text contradicts itself. Numbers (age, pain score, duration, stiffness) come from
numbers.py, placed in context; a duration only from this problem's timeline.
"""


from typing import Any

from spacy.language import Language
from spacy.tokens import Doc

from bot.nlu import negation, numbers
from bot.nlu.analysis import Analysis, Finding, Hit, analysis
from bot.nlu.lexicon import IGNORE, KeyInfo, Lexicon, Rule, shared
from bot.triage.vocabulary import ANSWERS, RED_FLAG_KEYS

EVENT_WINDOW = 5  # words between a time and the other event it dates ("surgery 10 days ago")
HEDGED = "hedged"
# Red flags in these contexts are asked about, never silently dropped (see `doubtful_readings`).
DOUBTFUL_CONTEXTS = frozenset({HEDGED, "hypothetical", "finished"})
# A clause of only these words and a time says nothing but the time ("it's been nearly 3 weeks now").
_ONLY_TIME = {"it", "this", "its", "been", "now", "has", "have", "is", "was", "nearly", "almost", "about", "around",
              "over", "just", "only", "and", "so", "well", "already", "the", "past", "last", "roughly", "approximately",
              "i", "would", "say", "guess", "like", "maybe", "probably", "for", "since", "going", "on"}


class Resolver:
    """Sets the message's readings: every answer it mentions, stated now or with the context that says why not."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.keys: dict[str, KeyInfo] = lexicon.keys

    def __call__(self, doc: Doc) -> Doc:
        a = analysis(doc)
        found = self.readings(a, None)
        numeric = self._numeric_findings(a, {f.key for f in found if not f.context})
        if any(f.key == "morning_stiffness" and not f.context for f in numeric):  # a stated time beats a vague word
            found = [f for f in found if f.key != "morning_stiffness"]
        a.readings = found + numeric
        return doc

    def _valid(self, a: Analysis, hit: Hit, reply_keys: set[str] | None) -> bool:
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
        elif not self.produces(rule, reply_keys):
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

    def _injury_clause(self, a: Analysis, hit: Hit) -> bool:
        clause = a.clause[hit.start]
        return any(h.rule.key == "injury_mechanism" and h.rule.value != "none" and h.rule.mode == "say"
                   and a.clause[h.start] == clause for h in a.hits)

    def produces(self, rule: Rule, keys: set[str]) -> bool:
        info = self.keys[rule.key]
        produced = {rule.key} | {k for k, _ in rule.also}
        for mapped in info.negated.values():
            produced |= set(mapped)
        return bool(produced & keys)

    def _cue_in_sentence(self, a: Analysis, hit: Hit, name: str) -> bool:
        sent = a.sentence[hit.start]
        cues = [(s, e) for s, e in a.spans(name) if a.sentence[s] == sent]
        if name != "pain":
            return bool(cues)
        benign = {a.clause[s] for s, _ in a.spans("benign")}
        if a.clause[hit.start] in benign:
            return False
        return any(not negation.negated(a, s, e, False) or negation.void(a, s, e, True) for s, e in cues)

    def _cue_in_clause(self, a: Analysis, hit: Hit, name: str) -> bool:
        return any(a.clause[s] == a.clause[hit.start] for s, _ in a.spans(name))

    def _surviving(self, a: Analysis, reply_keys: set[str] | None) -> list[Hit]:
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

    def findings(self, a: Analysis, reply_keys: set[str] | None) -> list[Finding]:
        """What the message states now; with `reply_keys`, read as the reply to a question about those keys."""
        return [f for f in self.readings(a, reply_keys) if not f.context]

    def readings(self, a: Analysis, reply_keys: set[str] | None) -> list[Finding]:
        """Every answer the text mentions: those stated now (empty context) and those it does not state
        for this patient now, with the context that says why (one reading per hit and value)."""
        reader = a.reader
        assert reader is not None, "knee_context must run before knee_resolve"
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

    def _resolve(self, a: Analysis, key: str, cands: list[tuple[Any, Hit]]) -> list[tuple[Any, Hit]]:
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

    def _corrected(self, a: Analysis, cands: list[tuple[Any, Hit]]) -> Any | None:
        """The value stated right after "actually", "I mean", "more on the ..." (the last such one)."""
        corrected = [v for v, h in cands
                     if any(s < h.start and e <= h.end and h.start - e <= 5 and a.sentence[s] == a.sentence[h.start]
                            for s, e in a.spans("correction"))]
        return corrected[-1] if corrected else None

    def _numeric_findings(self, a: Analysis, have: set[str]) -> list[Finding]:
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

    def _placed(self, a: Analysis, key: str, found: numbers.Found) -> Finding:
        """A number with the context of the words around it ("my mum is 71" in my own story is not my age)."""
        start, end = self._tokens(a, found)
        kinds = a.reader.kinds(start, end, key) if end > start else frozenset()
        return Finding(key, found.value, found.start, found.end, kinds)

    @staticmethod
    def _tokens(a: Analysis, found: numbers.Found) -> tuple[int, int]:
        span = a.doc.char_span(found.start, found.end, alignment_mode="expand")
        return (span.start, span.end) if span is not None else (0, 0)

    def _on_timeline(self, a: Analysis, found: numbers.Found, times: list[numbers.Found]) -> bool:
        """A time that dates this problem: "it started 6 weeks ago", not "had my baby 6 months ago".

        No other event (`other_event`: surgery, baby, physio ...) stands next to it and the time is about
        this patient, not hypothetical; its clause speaks of this problem (a `timeline` word: started,
        hurt, fell, until ...), or says nothing else ("nearly three weeks now"). A time long past
        ("5 years ago") needs a start word in its own clause ("it began 3 years ago"): otherwise it
        dates some old event ("left over from an injury 5 years ago").
        """
        start, end = self._tokens(a, found)
        if end <= start or a.reader.kinds(start, end, "duration_weeks"):
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

    def _dates(self, a: Analysis, event: tuple[int, int], time: tuple[int, int], times: list[numbers.Found]) -> bool:
        """Whether an other event dates this time: same clause, a few words apart, no other time between."""
        (s, e), (start, end) = event, time
        if a.clause[s] != a.clause[start]:
            return False
        lo, hi = (e, start) if e <= start else (end, s)
        if hi - lo > EVENT_WINDOW:
            return False
        spans = [self._tokens(a, t) for t in times]
        return not any(lo <= t_s and t_e <= hi for t_s, t_e in spans if (t_s, t_e) != (start, end))


@Language.factory("knee_resolve", default_config={"lexicon": ""})
def make_resolver(nlp: Language, name: str, lexicon: str) -> Resolver:
    return Resolver(shared(lexicon))


def doubtful_readings(readings: list[Finding]) -> list[Finding]:
    """The first mention of each red flag that is doubtful among `readings` (see Extractor.doubtful)."""
    stated = {f.key for f in readings if not f.context}
    first: dict[str, Finding] = {}
    for f in readings:
        if f.key in RED_FLAG_KEYS and f.value is True and f.context & DOUBTFUL_CONTEXTS and f.key not in stated:
            first.setdefault(f.key, f)
    return [first[key] for key in RED_FLAG_KEYS if key in first]
