"""Each stage of the extractor's spaCy pipeline on its own (bot/nlu/README.md)."""

from __future__ import annotations

import pytest
import spacy

from bot.nlu.analysis import Analysis
from bot.nlu.extractor import STAGES, Extractor, get_extractor
from bot.nlu.normalise import PreparingTokenizer


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return get_extractor()


def run(extractor: Extractor, text: str, through: str) -> Analysis:
    return extractor.analyse(text, through=through)


def norms(extractor: Extractor, text: str) -> list[str]:
    return [t.norm_ for t in run(extractor, text, "knee_normalise").doc if not t.is_space]


def test_the_stages_are_registered_spacy_components_in_order(extractor: Extractor) -> None:
    assert extractor.nlp.pipe_names == list(STAGES)
    nlp = spacy.blank("en")
    nlp.tokenizer = PreparingTokenizer(nlp.tokenizer)
    nlp.add_pipe("knee_normalise")  # by name, from spaCy's registry, like any component
    assert isinstance(nlp("my kne hurts")._.knee, Analysis)


def test_a_stage_without_the_normaliser_says_so() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("knee_context")
    with pytest.raises(ValueError, match="knee_normalise"):
        nlp("my knee hurts")


# --- knee_normalise -------------------------------------------------------------------------

@pytest.mark.parametrize("typed,meant", [
    ("kne", "knee"), ("stiars", "stairs"), ("calfs", "calf"), ("swolen", "swollen"), ("pian", "pain"),
    ("sqauting", "squatting"), ("tempreture", "temperature"), ("neecap", "kneecap"), ("wlaking", "walking"),
    ("kness", "knee"), ("twisterd", "twisted"), ("painfull", "painful"),
])
def test_misspellings_mean_the_nearest_lexicon_word(extractor: Extractor, typed: str, meant: str) -> None:
    assert norms(extractor, f"my {typed}") == ["my", meant]


@pytest.mark.parametrize("lay,meant", [("swole", "swollen"), ("arvo", "afternoon"), ("patella", "kneecap"),
                                       ("defo", "definitely"), ("tho", "though")])
def test_lay_words_come_from_the_lexicon(extractor: Extractor, lay: str, meant: str) -> None:
    assert norms(extractor, lay) == [meant]


def test_a_merged_lay_phrase_is_one_token(extractor: Extractor) -> None:
    assert norms(extractor, "my knee cap hurts") == ["my", "kneecap", "hurts"]


@pytest.mark.parametrize("word", ["stares", "hoping", "tres", "lol", "hmm", "cruching"])
def test_real_words_foreign_words_and_close_calls_are_left_alone(extractor: Extractor, word: str) -> None:
    """A real English word (or a protected one) is never "corrected"; "tres" is Spanish; "cruching" could
    be crunching or crouching: left as typed, so nothing is guessed."""
    assert norms(extractor, word) == [word]


def test_clauses_sentences_and_questions(extractor: Extractor) -> None:
    a = run(extractor, "it hurts but not on stairs. is it a clot?", "knee_normalise")
    words = [t.text for t in a.doc]
    but, stairs, clot = words.index("but"), words.index("stairs"), words.index("clot")
    assert a.clause[0] < a.clause[but] and a.sentence[stairs] < a.sentence[clot]
    assert a.clause[clot] in a.questions and a.clause[0] not in a.questions


# --- knee_match -----------------------------------------------------------------------------

def test_the_matcher_finds_lexicon_phrases_and_cues(extractor: Extractor) -> None:
    a = run(extractor, "no swelling but it clicks on the stairs", "knee_match")
    keys = {h.rule.key for h in a.hits}
    assert {"swelling", "clicking", "triggers"} <= keys
    assert a.spans("negation")  # the cue "no"
    assert not any(h.negated for h in a.hits)  # negation is the next stage's


# --- knee_context ---------------------------------------------------------------------------

def test_context_marks_negation_hedging_and_kinds(extractor: Extractor) -> None:
    a = run(extractor, "no swelling, maybe it clicks, and my friend had a DVT", "knee_context")
    by_key = {h.rule.key: h for h in a.hits}
    assert by_key["swelling"].negated and not by_key["swelling"].hedged
    assert by_key["clicking"].hedged
    calf = by_key["calf_swelling"]
    assert a.reader is not None and "other_person" in a.reader.kinds(calf.start, calf.end, "calf_swelling")


# --- knee_resolve ---------------------------------------------------------------------------

def test_resolve_gives_stated_answers_and_the_context_of_the_others(extractor: Extractor) -> None:
    a = run(extractor, "I'm 45, no swelling, it used to lock years ago and maybe my calf is swollen?",
            "knee_resolve")
    stated = {f.key: f.value for f in a.readings if not f.context}
    assert stated["age"] == 45 and stated["swelling"] == "none"
    others = {f.key: f.context for f in a.readings if f.context}
    assert "historical" in others["locking"] and "hedged" in others["calf_swelling"]


def test_resolve_drops_a_contradiction(extractor: Extractor) -> None:
    a = run(extractor, "it came on gradually, I slipped and twisted it", "knee_resolve")
    assert "injury_mechanism" not in {f.key for f in a.readings if not f.context}  # which one: asked


def test_an_answer_reads_the_context_stage_only(extractor: Extractor) -> None:
    """answer() stops before resolving the whole message: it reads it for the key asked."""
    assert extractor.answer("swelling", "nah") == "none"
    assert extractor.answer("age", "Me duele la rodilla desde hace tres semanas") is None


def test_broken_unicode_and_floods_are_read_not_raised(extractor: Extractor) -> None:
    """Lone surrogates (invalid Unicode from a broken client) and a 100,000-character paste."""
    assert extractor.extract("\udcff\ud800 my knee hurts on stairs") == {"triggers": ["stairs"]}
    assert extractor.extract("x" * 100_000) == {}
