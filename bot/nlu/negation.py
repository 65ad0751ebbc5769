"""Negation and hedging of a lexicon hit, NegEx-style: a cue in the same clause, a few words away.

The cue words are the lexicon's (`negation`, `negation_after`, `hedge`, `hedge_after`,
`pseudo_negation`, `unknown`, `inability` cue groups); the reach is here because it is grammar,
not vocabulary.
"""

from __future__ import annotations

import itertools

from bot.nlu.analysis import Analysis, Hit
from bot.nlu.lexicon import IGNORE
from bot.nlu.normalise import CLAUSE_PUNCT, SUBJECTS
from bot.triage.vocabulary import ANSWERS

NEGATION_WINDOW = 5  # words between a negation cue and what it negates (NegEx uses 5)
HEDGE_WINDOW = 6
UNTIL = {"until", "till", "til", "untill"}
# A question that asks about a symptom the patient has ("why does my kneecap hurt when I bend it?",
# "what could this lump on my kneecap be?") states it; one that asks whether ("is my calf swollen?",
# "what if it locks?") does not.
PRESUPPOSING = {"why", "what", "whats", "where"}


def mark(a: Analysis) -> None:
    """Sets `negated` and `hedged` on every hit."""
    for hit in a.hits:
        is_list = bool(hit.rule.key) and ANSWERS[hit.rule.key].kind == "list"  # triggers: "can't" is no "not"
        hit.negated = negated(a, hit.start, hit.end, is_list) or (
            not hit.says_not and _negated_inside(a, hit, is_list))
        hit.hedged = hedged(a, hit.start, hit.end)
    _spread(a)


def negated(a: Analysis, start: int, end: int, list_key: bool) -> bool:
    c = a.clause[start]
    for s, e in a.spans("negation"):
        in_scope = e <= start and a.clause[s] == c and start - e <= NEGATION_WINDOW
        if in_scope and not void(a, s, e, list_key) and not _until_after(a, e, c):
            return True
    for s, e in a.spans("negation_after"):
        if s >= end and a.clause[s] == c and s - end <= 2 and not void(a, s, e, list_key):
            return True
    if list_key:  # "stairs don't bother it", "running isn't a problem"
        return any(a.doc[j].norm_ == "not" and a.clause[j] == c for j in range(end, min(len(a.doc), end + 3)))
    return False


def void(a: Analysis, start: int, end: int, list_key: bool) -> bool:
    """A negation cue inside "not sure", "not only" ... is no negation; nor "can't" for triggers.

    Nor is a reply's opening "no" before a new subject ("no, it's not red", "no I can't walk"):
    it answers the question instead of negating what follows.
    """
    names = ["pseudo_negation", "hedge", "unknown"] + (["inability"] if list_key else [])
    if any(s <= start and end <= e for name in names for s, e in a.spans(name)):
        return True
    first = start == 0 or a.doc[start - 1].norm_ in CLAUSE_PUNCT | {"and", "but", "so", "then", "well", "oh"}
    return first and a.doc[start].norm_ == "no" and end < len(a.doc) and a.doc[end].norm_ in SUBJECTS


def hedged(a: Analysis, start: int, end: int) -> bool:
    c = a.clause[start]
    if c in a.questions:
        return not presupposes(a, c)
    if any(e <= start and a.clause[s] == c and start - e <= HEDGE_WINDOW for s, e in a.spans("hedge")):
        return True
    if any(start < s and e <= end for s, e in a.spans("hedge")):
        return True  # a hedge inside the phrase's gap: "my foot might be numb"
    return any(s >= end and a.clause[s] == c and s - end <= 3 for s, _ in a.spans("hedge_after"))


def presupposes(a: Analysis, clause: int) -> bool:
    """A question clause opening with why/what/where about the patient's own body, with no "if" in it."""
    words = [a.doc[t].norm_ for t, c in enumerate(a.clause) if c == clause and not a.doc[t].is_punct]
    own = any(a.clause[s] == clause for name in ("first_person", "own_body") for s, _ in a.spans(name))
    return bool(words) and words[0] in PRESUPPOSING and "if" not in words and own


def _negated_inside(a: Analysis, hit: Hit, list_key: bool) -> bool:
    """ "calf isn't sore": a gap in the phrase stepped over the negation."""
    return any(hit.start <= s and e < hit.end and not void(a, s, e, list_key) for s, e in a.spans("negation"))


def _until_after(a: Analysis, cue_end: int, clause: int) -> bool:
    """ "didn't swell until hours later" affirms the swelling."""
    window = range(cue_end, min(len(a.doc), cue_end + 8))
    return any(a.doc[j].norm_ in UNTIL and a.clause[j] == clause for j in window)


def _spread(a: Analysis) -> None:
    """ "no pain in the hip or thigh": negation carries across "or"/"nor" to the next item."""
    hits = sorted((h for h in a.hits if h.rule.mode != IGNORE), key=lambda h: h.start)
    for prev, hit in itertools.pairwise(hits):
        gap = [a.doc[j].norm_ for j in range(prev.end, hit.start)]
        if prev.negated and not hit.negated and a.clause[prev.start] == a.clause[hit.start] and (
                0 < len(gap) <= 3 and gap[0] in ("or", "nor")):
            hit.negated = True
