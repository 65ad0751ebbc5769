"""A message read as the reply to one question: "yep", "nah", "not sure", "3", "the inside", or the checklist.

What a short reply means depends on the question asked, so this is not a pipeline stage: it reads
the pipeline's Analysis of the reply for the key asked about (`Replies.answer`).
"""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz import fuzz

from bot.nlu import negation, numbers
from bot.nlu.analysis import Analysis, Finding
from bot.nlu.lexicon import IGNORE
from bot.nlu.resolve import Resolver
from bot.triage.questions import prompt
from bot.triage.vocabulary import ANSWERS, RED_FLAG_KEYS, UNKNOWN

_NUMERIC = {"age", "pain_score", "duration_weeks"}
_CODE = re.compile(r"[<>{}$=;\\`|*]|\w\(|\)\w|://")
# A few very common English words: a reply made only of other words is probably not English.
_ENGLISH = set("i me my you it is am are was be been the a an and or but so to of in on at for with about around "
               "maybe like think say would go going gonna give worst worse best yes no not just really very "
               "probably pain score out this that have has had years year old weeks week months month days day".split())


class Replies:
    """Reads replies to the assistant's questions, on the pipeline's analysis of each reply."""

    def __init__(self, resolver: Resolver, vocab: frozenset[str], checklist_hints: dict[str, list[str]]) -> None:
        self.resolver = resolver
        self.vocab = vocab  # the lexicon's words: a reply with none of them may be another language
        self.checklist_hints = checklist_hints

    def answer(self, a: Analysis, key: str) -> Any | None:
        """The reply's answer to the question about `key`; UNKNOWN for "not sure"; None if it is no answer."""
        value = self._keyed_value(a, key)
        if value is not None:
            return value
        return self._short_answer(a, key)

    def _not_prose(self, a: Analysis) -> bool:
        """Code, markup or another language: its digits are no answer ("alert(1)", "seit 2 Wochen")."""
        if _CODE.search(a.doc.text):
            return True
        words = [t.lower_ for t in a.doc if t.is_alpha]  # as typed: a foreign word may look like a typo
        return len(words) >= 3 and not any(w in self.vocab or w in _ENGLISH for w in words)

    def _keyed_value(self, a: Analysis, key: str) -> Any | None:
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
        found = [f for f in self.resolver.findings(a, {key}) if f.key == key]
        if not found:
            return None
        if ANSWERS[key].kind == "list":
            return [f.value for f in found]
        return found[0].value

    def _short_answer(self, a: Analysis, key: str) -> Any | None:
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
            info = self.resolver.keys.get(key)
            if info is not None:
                mapped = info.yes if yes_no else info.no
                if mapped is not None:
                    return mapped
        if any(h.hedged and self.resolver.produces(h.rule, {key}) for h in a.hits if h.rule.mode != IGNORE):
            return UNKNOWN
        return None

    def _is_question(self, a: Analysis) -> bool:
        if a.spans("not_an_answer"):
            return True
        return a.doc.text.rstrip().endswith("?") and len(a.doc) > 2

    def _yes_no(self, a: Analysis) -> bool | None:
        """The last plain yes or no in the reply ("yeah nah" is no)."""
        marks = [(e, e - s, True) for s, e in a.spans("yes")] + [(e, e - s, False) for s, e in a.spans("no")]
        if not marks:  # a bare "it doesn't" / "wasn't one"; "can't ..." is not a plain no
            negations = [s for s, e in a.spans("negation") if not negation.void(a, s, e, True)]
            words = [t for t in a.doc if not t.is_punct and not t.is_space]
            return False if negations and len(words) <= 8 else None
        return max(marks)[2]  # the one ending last; on a tie the longer ("there was not" > "there was")

    def red_flags(self, a: Analysis) -> dict[str, bool] | None:
        """The signs a checklist reply names (the others false), or all false for a clear "none"; None
        when unclear. A sign a word may mean but the reply does not state is left out: it is asked.

        "None" needs a none/no/nothing reply with no word that may mean a sign: "swole n sore" holds
        a "n" (no) but also "calf", so it is unclear, never a silent "none of these".
        """
        keys = set(RED_FLAG_KEYS)
        findings = self.resolver.findings(a, keys)
        named = {f.key: f.value for f in findings}
        hinted = set(self._hints(a, findings))
        if named:  # the signs named; the rest are "no", except those a word may mean (asked next)
            return {k: named.get(k) is True for k in RED_FLAG_KEYS if k in named or k not in hinted}
        if a.spans("unknown") or self._is_question(a) or hinted:
            return None
        if a.spans("none_of_those") or self._yes_no(a) is False:
            return dict.fromkeys(RED_FLAG_KEYS, False)
        return None

    def hints(self, a: Analysis) -> list[str]:
        """Red flags a checklist reply may mean without stating them, in checklist order."""
        return self._hints(a, self.resolver.findings(a, set(RED_FLAG_KEYS)))

    def _hints(self, a: Analysis, findings: list[Finding]) -> list[str]:
        """Hint words outside the words that state a sign ("can't put weight on it" is not weight loss)."""
        stated = [(f.start, f.end) for f in findings]
        words = [t.norm_ for t in a.doc if t.is_alpha and len(t.norm_) >= 3
                 and not any(start <= t.idx < end for start, end in stated)]
        hinted = {key for key, cues in self.checklist_hints.items()
                  if any(_cue_matches(cue, word) for cue in cues for word in words)}
        return [key for key in RED_FLAG_KEYS if key in hinted]


# How close a misspelt word must be to a hint word (rapidfuzz ratio, 0-100): "calfs" ~ "calf" is 89.
FUZZY_HINT = 85


def _cue_matches(cue: str, word: str) -> bool:
    if cue.endswith("*"):
        stem = cue[:-1]
        return word.startswith(stem) or (len(word) >= 5 and fuzz.ratio(stem, word[: len(stem)]) >= FUZZY_HINT)
    return word == cue or (len(cue) >= 4 and fuzz.ratio(cue, word) >= FUZZY_HINT)
