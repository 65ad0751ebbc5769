"""Is a message in English? A small heuristic, enough to answer "English only for now" honestly.

A message is taken for another language when it is mostly in another script, or when common
words of the languages patients here most often write in outnumber the English ones. Anything
else counts as English, so odd English (slang, typos, code, injection strings) is still read.
"""

from __future__ import annotations

import re

_ENGLISH = frozenset(
    """a an the i im i'm me my it its it's is are was were be been am do does did don't doesn't not no
    yes yeah and or but if so to of in on at for with from up down out off over after before when what
    why how who this that there here have has had can can't could would will should just very really
    some any all knee knees kneecap leg pain hurts hurt sore ache swollen stairs run running walk since
    weeks days months ago old sometimes never ok please thanks hi hello get got feel like go going""".split()
)
# Frequent short words of Spanish, French, German, Italian, Portuguese and Dutch that are not English.
_FOREIGN = frozenset(
    """el la los las del al que y en un una es por para con mi duele rodilla cuando muy pero como tengo
    le les des du et est je j'ai mal au genou quand avec pour pas une ce qui dans sur mon très
    der die das und ist ich nicht mit ein eine mein knie tut weh wenn auf zu sehr habe
    il di che è non per con ginocchio mi fa male quando sono ho della
    o os não um uma com dor joelho quando está eu tenho muito
    het een ik niet met mijn knie doet pijn als""".split()
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def looks_english(text: str) -> bool:
    words = [w.lower() for w in _WORD.findall(text[:2000])]
    if not words:
        return True  # numbers, emoji or punctuation: not a language question
    if sum(not w.isascii() for w in words) > len(words) / 2:
        return False  # mostly another script, or accented words
    english = sum(w in _ENGLISH for w in words)
    foreign = sum(w in _FOREIGN and w not in _ENGLISH for w in words)
    return not (foreign >= 2 and foreign > english)
