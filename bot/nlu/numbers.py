"""Numbers in patients' words: age, pain score, how long it has been, how long morning stiffness lasts.

Every function takes `text` already lowercased with hyphens between letters turned into spaces
(extractor.prepare), and returns values with the character span that states them. First-message
("extract") mode is strict: only unmistakable phrasings ("I'm 14", "7/10", "for 3 months").
Reply mode ("answer") also accepts a bare number, because the bot just asked for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
         "sixteen seventeen eighteen nineteen").split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}


def _word_values() -> dict[str, int]:
    values = {word: i for i, word in enumerate(_ONES)}
    for tens, base in _TENS.items():
        values[tens] = base
        for i, one in enumerate(_ONES[1:10], start=1):
            values[f"{tens} {one}"] = base + i
    values.update({"hundred": 100, "a hundred": 100, "one hundred": 100, "a dozen": 12, "dozen": 12})
    return values


WORD_VALUES = _word_values()
NUM = r"(?:\d{1,3}(?:\.\d+)?|" + "|".join(map(re.escape, sorted(WORD_VALUES, key=len, reverse=True))) + r")"
# Words after a number that show it is not an age.
_NOT_AGE_UNIT = (r"(?!\s*(?:%|/|'|\"|°|x\b|\.\d|(?:out|of|kg|kgs|kilos?|lbs?|pounds?|st|stone|km|kms|k|miles?|mi|"
                 r"metres?|meters?|cm|mm|ft|feet|foot|inch|inches|mins?|minutes?|hours?|hrs?|days?|weeks?|wks?|"
                 r"months?|mos?|mths?|times?|th|nd|rd|am|pm|degrees?|sessions?|reps?|sets?|steps?|floors?|"
                 r"flights?|laps?|goals?|games?|matches?|weeks?|percent|points?|on|in|to|or|-)\b))")
_PAIN_UNIT = (r"(?!\s*(?:%|\.\d|(?:days?|weeks?|wks?|months?|years?|yrs?|hours?|hrs?|mins?|minutes?|km|miles?|kg|"
              r"times?)\b))")


_DENOMINATOR = re.compile(r"(?:/|out of|outta|oot of|from|over|to)\s*$")


@dataclass(frozen=True)
class Found:
    """A value found in the text and the character span that states it."""

    value: object
    start: int
    end: int


def to_number(word: str) -> float | None:
    word = word.strip()
    if word in WORD_VALUES:
        return float(WORD_VALUES[word])
    try:
        return float(word)
    except ValueError:
        return None


# ---------------------------------------------------------------- age (and the sex said with it)

_AGE_PATTERNS = [
    rf"\b(?:i am|i'm|im|i m)\s+(?:only\s+|just\s+|now\s+|nearly\s+|almost\s+|about\s+|aged\s+|a\s+)?"
    rf"(?P<n>{NUM})\b{_NOT_AGE_UNIT}",
    rf"\b(?P<n>{NUM})\s*(?:-|\s)?\s*(?:years?|yrs?|yr)\s*(?:-|\s)?\s*old\b",
    rf"\b(?P<n>{NUM})\s*(?:yo|y/o|y\.o\.?|years? of age|years? young|yrs? young)(?![a-z])",
    rf"\b(?:aged|age:|age is|age =)\s*(?P<n>{NUM})\b{_NOT_AGE_UNIT}",
    rf"\b(?:age)\s+(?P<n>\d{{1,2}})\b{_NOT_AGE_UNIT}",
    rf"\bturned\s+(?P<n>{NUM})\b{_NOT_AGE_UNIT}",
    rf"\b(?:he|she|they)(?:\s+is|'s|\s+are|'re)\s+(?:only\s+|just\s+)?(?P<n>{NUM})\b{_NOT_AGE_UNIT}",
]
_AGE_RE = [re.compile(p) for p in _AGE_PATTERNS]
_ROLE_AGE = re.compile(r"(?:^|[.!?]\s*)\s*(?:(?:a|an|the)\s+)?(?P<role>[a-z][a-z' ]{1,40}?),\s*(?P<n>\d{2})\s*"
                       r"(?=$|[.,;!?)]|\s+(?:and|here|with|from|lol|haha|but|y/?o|years?)\b)")
_START_AGE = re.compile(r"^\s*(?P<n>\d{2})\s*(?:,|\.|\s+and\b|\s+y/?o\b|\s+years?\b|\s*(?=[mf]\b))")
_AGE_SEX = [
    re.compile(r"(?:^|[\s(,])(?P<n>\d{2})\s?(?P<s>[mf])(?=\s*(?:$|[,.;:!?)(/]|\s+here\b|\s+and\b|\s+with\b))"),
    re.compile(r"(?:^|[(])\s*(?P<s>[mf])\s?,?\s?(?P<n>\d{2})\b"),
    re.compile(rf"(?:^|[.!?(]\s*)(?P<s>female|male|woman|man|f|m)\s*,?\s*(?:aged\s+)?(?P<n>\d{{2}})\b{_NOT_AGE_UNIT}"),
    re.compile(rf"\b(?P<n>{NUM})\s*(?:-|\s)?\s*(?:years?|yrs?|yr)\s*(?:-|\s)?\s*old\s+(?P<s>woman|female|lady|girl|gal|"
               r"mum|mom|mother|man|male|guy|bloke|boy|lad|fella|gentleman|dad|father|grandmother|grandfather|son|"
               r"daughter|grandson|granddaughter|lass|sister|brother)\b"),
    re.compile(rf"\bmy\s+(?P<s>son|daughter|boy|girl|lad|lass|grandson|granddaughter|kid|child|teen|teenager)"
               rf"(?:\s+is|'s|,|\s+aged|\s+who\s+is|\s+who's)?\s+(?:only\s+|just\s+)?(?P<n>{NUM})\b{_NOT_AGE_UNIT}"),
    re.compile(rf"\b(?P<s>he|she)(?:\s+is|'s)\s+(?:only\s+|just\s+)?(?P<n>{NUM})\b{_NOT_AGE_UNIT}"),
    re.compile(r"\b(?P<s>son|daughter|boy|girl|lad|lass|grandson|granddaughter|kid|child|teen|teenager|brother|sister)"
               r"\s*[(,]\s*(?:aged?\s+)?(?P<n>\d{1,2})\s*\)?"),
    re.compile(rf"\b(?:i am|i'm|im)\s+(?P<n>{NUM})\s*,?\s*(?:and\s+)?(?:an?\s+)?(?P<s>male|female|man|woman|guy|girl|"
               r"boy|bloke|lady|m|f)\b"),
]
_SEX_WORDS = {"f": "female", "female": "female", "woman": "female", "lady": "female", "girl": "female",
              "gal": "female", "mum": "female", "mom": "female", "mother": "female", "daughter": "female",
              "lass": "female", "granddaughter": "female", "she": "female", "grandmother": "female",
              "m": "male", "male": "male", "man": "male", "guy": "male", "bloke": "male", "boy": "male",
              "lad": "male", "fella": "male", "gentleman": "male", "dad": "male", "father": "male", "son": "male",
              "grandson": "male", "he": "male", "grandfather": "male", "sister": "female", "brother": "male"}
_ROLE_STOPWORDS = {"pain", "hurts", "hurt", "score", "level", "rate", "rating", "out", "weeks", "week", "months",
                   "days", "years", "ago", "been", "for", "about", "around", "maybe", "like", "is", "was", "it",
                   "its", "i", "im", "my", "me", "worst", "sore", "ache", "aches", "now", "say", "guess",
                   "ten", "scale", "number", "temperature", "temp", "fever", "and", "or", "but", "walked", "ran"}


def _valid_age(n: float | None) -> int | None:
    return int(n) if n is not None and float(n).is_integer() and 5 <= n <= 100 else None


def find_age(text: str) -> Found | None:
    """An age the text states unmistakably ("I'm 14", "71 year old", "retired builder, 71", "32F")."""
    for rx in _AGE_RE + _AGE_SEX:
        for m in rx.finditer(text):
            age = _valid_age(to_number(m.group("n")))
            if age is not None:
                return Found(age, m.start("n"), m.end("n"))
    for m in _ROLE_AGE.finditer(text):
        role_words = set(m.group("role").split())
        age = _valid_age(to_number(m.group("n")))
        if age and age >= 11 and not role_words & _ROLE_STOPWORDS:
            return Found(age, m.start("n"), m.end("n"))
    m = _START_AGE.match(text)
    age = _valid_age(to_number(m.group("n"))) if m else None
    if m and age and age >= 11:
        return Found(age, m.start("n"), m.end("n"))
    return None


def find_sex(text: str) -> Found | None:
    """Sex stated together with an age ("32F", "my son is 12", "45 year old woman")."""
    for rx in _AGE_SEX:
        m = rx.search(text)
        if m and _valid_age(to_number(m.group("n"))) and m.group("s") in _SEX_WORDS:
            return Found(_SEX_WORDS[m.group("s")], m.start("s"), m.end("s"))
    return None


def reply_age(text: str) -> Found | None:
    """An age given in reply to "how old are you?": any whole number 5-100 that is not a measurement."""
    found = find_age(text)
    if found:
        return found
    for m in re.finditer(rf"(?<![\d.])(?P<n>{NUM})\b{_NOT_AGE_UNIT}", text):
        if _DENOMINATOR.search(text[: m.start()]):
            continue
        age = _valid_age(to_number(m.group("n")))
        if age is not None:
            return Found(age, m.start("n"), m.end("n"))
    return None


# ---------------------------------------------------------------- pain score

_SCORE_OF_TEN = re.compile(rf"\b(?P<n>{NUM})\s*(?:/|out of|outta|oot of|from|over)\s*(?:10|ten)\b"
                           r"(?!\s*(?:mins?|minutes?))")
_SCORE_SAID = re.compile(
    rf"\b(?:pain (?:score|level|rating|scale)|rate it|rated it|rating|score it|scored it|give it|i'd give it|"
    rf"id give it|scale of (?:0|1|one|zero) to (?:10|ten))\s*(?:is|was|of|at|about|around|a|an|like|as|:|,|it's|"
    rf"its|it is|\s)*(?P<n>{NUM})\b{_PAIN_UNIT}")


def _valid_score(n: float | None) -> int | None:
    return int(n) if n is not None and float(n).is_integer() and 0 <= n <= 10 else None


def find_pain(text: str) -> Found | None:
    """A pain score the text states unmistakably ("7/10", "about a 6 out of 10", "pain score 5")."""
    best: Found | None = None
    for rx in (_SCORE_OF_TEN, _SCORE_SAID):
        for m in rx.finditer(text):
            score = _valid_score(to_number(m.group("n")))
            if score is not None and (best is None or score > int(best.value)):  # worst pain counts
                best = Found(score, m.start("n"), m.end("n"))
    return best


def reply_pain(text: str) -> Found | None:
    """A 0-10 score in reply to "how bad is it?": the highest number given, ignoring "out of 10"."""
    best = find_pain(text)
    for m in re.finditer(rf"(?<![\d.])(?P<n>{NUM})\b{_PAIN_UNIT}", text):
        if _DENOMINATOR.search(text[: m.start()]):
            continue
        score = _valid_score(to_number(m.group("n")))
        if score is not None and (best is None or score > int(best.value)):
            best = Found(score, m.start("n"), m.end("n"))
    return best


# ---------------------------------------------------------------- duration (weeks)

_UNIT_WEEKS = {"day": 1 / 7, "week": 1.0, "wk": 1.0, "fortnight": 2.0, "month": 4.345, "mo": 4.345, "mth": 4.345,
               "mnth": 4.345, "year": 52.18, "yr": 52.18}
_UNIT = r"(?P<unit>days?|weeks?|wks?|fortnights?|months?|mos|mths?|mnths?|years?|yrs?)"
_QTY = (rf"(?P<q>{NUM}|a couple of|couple of|a couple|a good few|a few|few|half a|a|an|one|several)"
        rf"(?:\s*(?:-|to|or)\s*(?P<q2>{NUM}))?")
_HALF = r"(?P<half>\s+and\s+a\s+half)?"
_LEAD = (r"\b(?:for|past|last|been|coming up to|going on|nearly|almost|since|about|around|roughly)\s+"
         r"(?:(?:the|about|around|like|roughly|approximately|approx|maybe|probably|nearly|almost|over|just|a good|only|"
         r"at least|more than|less than|past|last|good)\s+)*")
_NOT_SPAN = r"(?!\s+(?:of|pregnant|post|postpartum|after|before|later|in)\b)"  # "3 weeks of physio", "6 weeks pregnant"
_DURATION_LEAD = re.compile(rf"{_LEAD}{_QTY}\s*{_UNIT}\b{_HALF}{_NOT_SPAN}")
_UNIT_NOT_YEARS = r"(?P<unit>days?|weeks?|wks?|fortnights?|months?|mos|mths?|mnths?)"  # "14 yrs" alone is an age
_DURATION_END = re.compile(rf"\b{_QTY}\s*{_UNIT_NOT_YEARS}\b{_HALF}"
                           r"(?=\s*(?:$|[.,;!?)]|\s+(?:now|or so|ish|roughly|give or take)\b))")
_DURATION_AGO = re.compile(rf"\b{_QTY}\s*{_UNIT}\b{_HALF}\s+(?:ago|back|now|and counting|so far|running|on)\b")
_DURATION_ANY = re.compile(rf"\b{_QTY}\s*{_UNIT}\b{_HALF}")
_FOR_YEARS = re.compile(r"\b(?:for|over)\s+(?:many\s+|several\s+|a few\s+|some\s+)?years\b|\byears now\b")
_NOT_DURATION_BEFORE = re.compile(r"(?:times|x|once|twice|per|every|each|a|in|within|after|first|next|than|past the|"
                                  r"last|the|for|over|during|throughout|took|takes|take|taking|lasted|lasts|"
                                  r"lasting|spent|spend)\s+$")
_TODAY = re.compile(r"\b(?:this (?:morning|afternoon|evening|arvo|avo)|today|tonight|earlier today|just now|"
                    rf"(?:an?|a few|few|a couple of|couple of|{NUM}) hours? (?:ago|back)|an hour ago|just happened|"
                    r"moments ago|minutes ago|brand new|few hours|couple of hours)\b")
_YESTERDAY = re.compile(r"\b(?:since |from )?(?:yesterday|yday|yesterdy|yesturday|yest|last night)\b")
_DAY_BEFORE = re.compile(r"\bday before yesterday\b")
_LAST_WEEK = re.compile(r"\b(?:since |from )?last week\b")
# In a first message, "today"/"yesterday" date the problem only next to an onset verb.
_ONSET_VERB = re.compile(r"\b(?:fell|fall|falling|twist\w*|landed|landing|bang\w*|hit|kicked|injur\w*|hurt it|did it|"
                         r"dislocat\w*|hyperextend\w*|overextend\w*|"
                         r"smash\w*|crash\w*|tackl\w*|collid\w*|started|starting|began|came on|happened|popped|slipped|"
                         r"tripped|since|went|gave way|knocked|whack\w*|jarred|tweaked|pulled|strained|sprained|"
                         r"came off|stacked|wiped out|ever since)\b")
_BARE_NUMBER = re.compile(rf"^\s*(?:about|around|maybe|like|roughly|approx\w*|probably|nearly|almost|just)?\s*"
                          rf"(?P<n>{NUM})\s*(?:ish)?\s*[.!]?\s*$")


def _quantity(m: re.Match[str]) -> float | None:
    q = m.group("q")
    special = {"a couple of": 2.0, "couple of": 2.0, "a couple": 2.0, "a few": 3.0, "few": 3.0,
               "a good few": 4.0, "half a": 0.5, "a": 1.0, "an": 1.0, "one": 1.0, "several": None}
    n = special[q] if q in special else to_number(q)
    if n is not None and m.group("q2"):
        top = to_number(m.group("q2"))
        n = (n + top) / 2 if top is not None else n
    return n


def _weeks(m: re.Match[str]) -> float | None:
    n = _quantity(m)
    if n is None:
        return None
    unit = m.group("unit").rstrip("s") if m.group("unit") not in ("mos",) else "mo"
    per = _UNIT_WEEKS.get(unit, _UNIT_WEEKS.get(unit[:3]))
    if per is None:
        return None
    n += 0.5 if m.group("half") else 0.0
    weeks = round(n * per, 1)
    return weeks if 0 <= weeks <= 5200 else None


def _vague(m: re.Match[str]) -> bool:
    return m.group("q") in ("a few", "few", "a good few", "several")


def find_duration(text: str) -> Found | None:
    """How long it has been, stated unmistakably; None when the text gives conflicting durations."""
    return agreeing(duration_candidates(text))


def duration_candidates(text: str) -> list[Found]:
    """Every unmistakable time span or date the text gives ("for 3 weeks", "6 months ago", "yesterday").

    Which of them date this problem is the extractor's call (its context); find_duration takes them all.
    """
    found: list[Found] = []
    for rx in (_DURATION_LEAD, _DURATION_AGO, _DURATION_END):
        for m in rx.finditer(text):
            if rx is not _DURATION_LEAD and _NOT_DURATION_BEFORE.search(text[: m.start()]):
                continue
            weeks = None if _vague(m) else _weeks(m)
            if weeks is not None:
                found.append(Found(weeks, m.start(), m.end()))
    found.extend(_relative_days(text, need_onset=True))
    return found


def _relative_days(text: str, need_onset: bool) -> list[Found]:
    out: list[Found] = []
    for rx, weeks in ((_LAST_WEEK, 1.0), (_DAY_BEFORE, 0.3), (_YESTERDAY, 0.1), (_TODAY, 0.0)):
        for m in rx.finditer(text):
            if rx is _YESTERDAY and _DAY_BEFORE.search(text[max(0, m.start() - 15): m.end()]):
                continue
            if need_onset and not _ONSET_VERB.search(_sentence_around(text, m.start())):
                continue
            out.append(Found(weeks, m.start(), m.end()))
    return out


def is_date(text: str, found: Found) -> bool:
    """Whether a duration is a day named relative to today ("yesterday", "this morning"), not a span."""
    said = text[found.start:found.end]
    return any(rx.fullmatch(said) for rx in (_TODAY, _YESTERDAY, _DAY_BEFORE, _LAST_WEEK))


def long_ago(text: str, found: Found) -> bool:
    """"5 years ago", "21 years back": a time long enough past to date some other event just as well."""
    return float(found.value) > LONG_AGO_WEEKS and bool(re.search(r"\b(?:ago|back)$", text[found.start:found.end]))


LONG_AGO_WEEKS = 60.0  # over a year: "a year ago" still dates a knee problem often enough


def agreeing(found: list[Found]) -> Found | None:
    """The first of durations that agree; None when they conflict."""
    if not found:
        return None
    values = [float(f.value) for f in found]  # type: ignore[arg-type]
    low, high = min(values), max(values)
    if high - low > max(0.5, 0.1 * high):  # e.g. "surgery 10 days ago ... calf swollen for 3 days"
        return None
    return min(found, key=lambda f: f.start)


def reply_duration(text: str) -> Found | None:
    """How long, in reply to "how long has it been?": any "N units", today/yesterday, or a bare number of weeks.

    "For years" (no number) is read as 104 weeks only here, as an answer to the question: in a first
    message it is left out, because any single figure would contradict most patients' real durations.
    """
    found = find_duration(text)
    if found:
        return found
    for m in _DURATION_ANY.finditer(text):
        if _NOT_DURATION_BEFORE.search(text[: m.start()]) and m.group("q") in ("a", "an"):
            continue
        if _vague(m) and m.group("unit")[0] in "my":  # "a few months" could be 2 or 6: too vague to score
            continue
        weeks = _weeks(m)
        if weeks is not None:
            return Found(weeks, m.start(), m.end())
    relative = _relative_days(text, need_onset=False)
    if relative:
        return relative[0]
    m = _BARE_NUMBER.match(text)
    n = to_number(m.group("n")) if m else None
    if m and n is not None and 0 <= n <= 5200:
        return Found(round(n, 1), m.start("n"), m.end("n"))
    if _FOR_YEARS.search(text) or re.search(r"\byears\b", text):
        return Found(104.0, 0, len(text))
    return None


def _sentence_around(text: str, pos: int) -> str:
    start = max(text.rfind(c, 0, pos) for c in ".!?\n;") + 1
    ends = [i for i in (text.find(c, pos) for c in ".!?\n;") if i >= 0]
    return text[start: min(ends) if ends else len(text)]


# ---------------------------------------------------------------- morning stiffness (short <= 30 min < long)

_STIFF_TIME = re.compile(
    r"(?P<qual>over|more than|longer than|at least|upwards of|well over|way over|under|less than|within|well under|"
    r"not even|no more than|up to|about|around|maybe|like|roughly|only|just|a good)?\s*"
    rf"(?P<q>{NUM}|a few|few|a couple of|couple of|a couple|several|half an?|an?)\s*"
    r"(?P<u>minutes?|mins?|min|hours?|hrs?|hr|h)\b\s*(?P<post>plus|\+|or more|or longer|or so|ish|or two)?")
_OVER = {"over", "more than", "longer than", "at least", "upwards of", "well over", "way over"}
_UNDER = {"under", "less than", "within", "well under", "not even", "no more than", "up to"}
_STIFF_CONTEXT = re.compile(r"\b(?:stiff\w*|loosen\w*|get going|gets going|seize\w*|rigid)")
_MORNING_CONTEXT = re.compile(r"\b(?:morning\w*|first thing|wak\w+|woke|get(?:ting)? up|out of bed|am|breakfast)\b")


def stiffness_length(text: str, need_context: bool) -> Found | None:
    """"short" (<= 30 min) or "long" from a stated time ("stiff for about 20 minutes", "an hour or two")."""
    for m in _STIFF_TIME.finditer(text):
        if need_context:
            sentence = _sentence_around(text, m.start())
            if not (_STIFF_CONTEXT.search(sentence) and _MORNING_CONTEXT.search(sentence)):
                continue
        minutes = _minutes(m)
        if minutes is None:
            continue
        qual, post = m.group("qual") or "", m.group("post") or ""
        over = qual in _OVER or post in ("plus", "+", "or more", "or longer")
        if over:
            value = "long" if minutes >= 30 else None
        elif qual in _UNDER:
            value = "short" if minutes <= 30 else None
        else:
            value = "short" if minutes <= 30 else "long"
        if value:
            return Found(value, m.start("q"), m.end("u"))
    return None


def _minutes(m: re.Match[str]) -> float | None:
    q = m.group("q")
    special = {"a few": 3.0, "few": 3.0, "a couple of": 2.0, "couple of": 2.0, "a couple": 2.0, "several": 5.0,
               "half an": 0.5, "half a": 0.5, "a": 1.0, "an": 1.0}
    n = special[q] if q in special else to_number(q)
    if n is None:
        return None
    if m.group("post") == "or two":
        n += 0.5
    return n * 60 if m.group("u").startswith("h") else n


# Picking from a numbered list ("4", "number 4", "the 4th one", "1 and 3", "the last one"). A closed
# set of words, so a few lines beat a dependency; a reply with any other word is not a pick.
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
             "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12}
_PICK_FILLER = {"the", "number", "no", "num", "nr", "option", "item", "one", "ones", "and", "&", "plus", "only",
                "just", "please", "#", ".", ",", "a", "also", "both", "is", "it", "its", "it's", "that", "those"}


def choice_numbers(text: str, count: int) -> list[int] | None:
    """The 1-based positions a reply picks from a list of `count`, or None if it is not such a reply."""
    words = re.findall(r"[a-z]+'?[a-z]*|\d+(?:st|nd|rd|th)?|[#&.,]", text.lower())
    picks: list[int] = []
    for word in words:
        number = re.fullmatch(r"(\d+)(?:st|nd|rd|th)?", word)
        if number:
            picks.append(int(number.group(1)))
        elif word in _ORDINALS:
            picks.append(_ORDINALS[word])
        elif word == "last":
            picks.append(count)
        elif word in WORD_VALUES and 0 < WORD_VALUES[word] <= 12 and word != "one":
            picks.append(WORD_VALUES[word])
        elif word not in _PICK_FILLER:
            return None
    if not picks or any(not 1 <= n <= count for n in picks):
        return None
    return list(dict.fromkeys(picks))
