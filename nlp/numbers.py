"""Indonesian numbers as news writes them: words ("dua puluh dua", "seorang") and digits with
thousand dots ("1.250", "2,5 juta").

`parse_number` turns one number phrase into an int; `NUMBER_PATTERN` is a regular expression
source that finds such phrases inside longer patterns (the tagger uses it for "22 orang PMI",
"dua korban"). Vague amounts ("puluhan", "belasan", "beberapa") and fractions that are not
whole numbers give None: a count that is not stated must stay unknown, not be guessed.
"""

from __future__ import annotations

import re
from typing import Final

# Plain digits: one to nine units.
UNITS: Final[dict[str, int]] = {
    "nol": 0,
    "satu": 1,
    "dua": 2,
    "tiga": 3,
    "empat": 4,
    "lima": 5,
    "enam": 6,
    "tujuh": 7,
    "delapan": 8,
    "sembilan": 9,
}

# Words with the prefix se- ("one ...") that are a complete number on their own.
# "seorang", "sebuah", "seekor" are "one" with a classifier; "sepasang" is a pair.
SE_WORDS: Final[dict[str, int]] = {
    "sepuluh": 10,
    "sebelas": 11,
    "seratus": 100,
    "seribu": 1_000,
    "sejuta": 1_000_000,
    "seorang": 1,
    "sebuah": 1,
    "seekor": 1,
    "sepasang": 2,
}

# Multipliers that close a group of thousands.
LARGE_MULTIPLIERS: Final[dict[str, int]] = {
    "ribu": 1_000,
    "juta": 1_000_000,
    "miliar": 1_000_000_000,
    "milyar": 1_000_000_000,
    "triliun": 1_000_000_000_000,
}

# Words that only ever name a vague amount: never a count.
VAGUE_WORDS: Final[frozenset[str]] = frozenset(
    {
        "belasan",
        "puluhan",
        "ratusan",
        "ribuan",
        "jutaan",
        "beberapa",
        "sejumlah",
        "banyak",
        "berbagai",
    }
)

_WORD_ALTERNATIVES = "|".join(
    sorted(
        [*UNITS, *SE_WORDS, "belas", "puluh", "ratus", *LARGE_MULTIPLIERS],
        key=len,
        reverse=True,
    )
)
_NUMBER_WORD = rf"(?:{_WORD_ALTERNATIVES})"

# A number written with digits: "22", "1.250", "1.250.000", "2,5" (decimal comma), optionally
# followed by a large multiplier ("2,5 juta", "3 ribu").
DIGIT_NUMBER_PATTERN: Final[str] = (
    r"(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?(?:\s+(?:ribu|juta|miliar|milyar|triliun))?"
)
# A number written in words: "dua", "dua puluh dua", "seratus lima belas", "seorang".
WORD_NUMBER_PATTERN: Final[str] = rf"{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD})*"
# Either form, as a whole word. Compile it with re.IGNORECASE (news capitalises titles).
NUMBER_PATTERN: Final[str] = (
    rf"(?<![\w.,])(?:{DIGIT_NUMBER_PATTERN}|{WORD_NUMBER_PATTERN})(?![\w]|[.,]\d)"
)

# Every word that can be part of a number written in words.
NUMBER_WORDS: Final[frozenset[str]] = frozenset(
    {*UNITS, *SE_WORDS, "belas", "puluh", "ratus", *LARGE_MULTIPLIERS}
)
# Collective numerals before a noun: "kedua korban" is "both victims" (while "korban kedua"
# is "the second victim", which is no count).
COLLECTIVES: Final[dict[str, int]] = {
    "kedua": 2,
    "ketiga": 3,
    "keempat": 4,
    "kelima": 5,
    "keenam": 6,
    "ketujuh": 7,
    "kedelapan": 8,
    "kesembilan": 9,
    "kesepuluh": 10,
}

_DIGITS_WITH_THOUSAND_DOTS = re.compile(r"\d{1,3}(?:\.\d{3})+")
_DIGITS_WITH_DECIMAL = re.compile(r"(\d+)(?:,(\d+))?")
_WORD_SPLIT = re.compile(r"[\s\-]+")
_DIGIT_TOKEN = re.compile(r"(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?")
_TOKEN = re.compile(r"\S+")
_OPENING_PUNCTUATION = "([{\"'“‘«,.;:/"
# Looking back this far is enough for any count news writes ("seratus dua puluh lima ribu").
_LOOK_BACK_CHARS = 60
_MAX_NUMBER_WORDS = 6


def parse_number(phrase: str) -> int | None:
    """The whole number a phrase names, or None when it names none or only a vague amount.

    >>> parse_number("dua puluh dua"), parse_number("1.250"), parse_number("seorang")
    (22, 1250, 1)
    >>> parse_number("puluhan") is None
    True
    """
    words = [word for word in _WORD_SPLIT.split(phrase.strip().lower()) if word]
    if not words or len(words) > 12:
        return None
    if words[0][0].isdigit():
        return _parse_digits(words)
    return _parse_words(words)


def _parse_digits(words: list[str]) -> int | None:
    """'1.250' → 1250; '2,5 juta' → 2500000; '1,5' → None (not a whole number)."""
    first, rest = words[0], words[1:]
    multiplier = 1
    if rest:
        if len(rest) != 1 or rest[0] not in LARGE_MULTIPLIERS:
            return None
        multiplier = LARGE_MULTIPLIERS[rest[0]]
    if _DIGITS_WITH_THOUSAND_DOTS.fullmatch(first):
        return int(first.replace(".", "")) * multiplier
    match = _DIGITS_WITH_DECIMAL.fullmatch(first)
    if match is None:
        return None
    whole, fraction = match.group(1), match.group(2) or ""
    # Scale by the multiplier before judging wholeness: "2,5 juta" is a whole number.
    scaled_numerator = int(whole + fraction) * multiplier
    denominator = 10 ** len(fraction)
    if scaled_numerator % denominator:
        return None
    return scaled_numerator // denominator


def _parse_words(words: list[str]) -> int | None:
    """Number words, read left to right: a group below one thousand ('seratus dua puluh
    lima') is built from units, 'belas', 'puluh' and 'ratus'; 'ribu', 'juta', ... close it."""
    total = 0  # closed groups (thousands, millions, ...)
    group = 0  # the group below one thousand being read
    pending: int | None = None  # a unit word waiting for 'belas', 'puluh' or 'ratus'
    last_multiplier = 10**15  # large multipliers must descend: "dua juta tiga ribu"
    for word in words:
        if word in VAGUE_WORDS:
            return None
        if word in UNITS:
            if pending is not None:
                return None  # "dua tiga" is a range, not a number
            pending = UNITS[word]
        elif word in SE_WORDS:
            if pending is not None:
                return None
            value = SE_WORDS[word]
            if value >= 1_000:
                # "seribu", "sejuta" close a group of their own: "dua ratus seribu" is no number.
                if group or value >= last_multiplier:
                    return None
                total += value
                last_multiplier = value
            else:
                group += value
        elif word in ("belas", "puluh", "ratus"):
            if pending is None or pending == 0:
                return None
            group += {"belas": pending + 10, "puluh": pending * 10, "ratus": pending * 100}[word]
            pending = None
        elif word in LARGE_MULTIPLIERS:
            value = LARGE_MULTIPLIERS[word]
            amount = group + (pending or 0)
            if amount == 0 or value >= last_multiplier:
                return None
            total += amount * value
            group, pending, last_multiplier = 0, None, value
        else:
            return None
    return total + group + (pending or 0)


def number_before(text: str, end: int) -> tuple[int, int] | None:
    """The whole number written just before `end`, with whitespace between, as (start, value).

    For a noun at `end` ("22 orang", "2,5 juta orang", "dua puluh dua korban", "kedua
    korban"): one digit group (with an optional multiplier), or the run of number words
    before `end` if `parse_number` accepts all of it, or one collective numeral. Vague or
    malformed runs ("dua tiga korban") give None. Cheap: it reads only a few words.

    >>> text = "ada dua puluh dua korban"
    >>> number_before(text, text.index("korban"))
    (4, 22)
    """
    if end <= 0 or not text[end - 1].isspace():
        return None
    # Fast path: most nouns have no number before them; look at the last word first.
    last_words = text[max(0, end - 24) : end].split()
    if not last_words or not _could_be_number(last_words[-1]):
        return None
    window_start = max(0, end - _LOOK_BACK_CHARS)
    window = text[window_start:end]
    tokens = [(m.start() + window_start, m.group().lower()) for m in _TOKEN.finditer(window)]
    if tokens and window_start > 0 and not text[window_start - 1].isspace():
        tokens = tokens[1:]  # cut by the window: not a whole word
    tokens = tokens[-_MAX_NUMBER_WORDS:]
    if not tokens:
        return None
    start, last = _without_opening_mark(*tokens[-1])
    if last in COLLECTIVES:
        return start, COLLECTIVES[last]
    if _DIGIT_TOKEN.fullmatch(last):
        value = parse_number(last)
        return (start, value) if value is not None else None
    if last in LARGE_MULTIPLIERS and len(tokens) >= 2:
        digits_start, digits = _without_opening_mark(*tokens[-2])
        if _DIGIT_TOKEN.fullmatch(digits):
            value = parse_number(f"{digits} {last}")
            return (digits_start, value) if value is not None else None
    run: list[tuple[int, str]] = []
    for token_start, word in reversed(tokens):
        token_start, bare = _without_opening_mark(token_start, word)
        if bare not in NUMBER_WORDS:
            break
        run.insert(0, (token_start, bare))
        if bare != word:
            break  # an opening mark starts the number
    if not run:
        return None
    value = parse_number(" ".join(word for _, word in run))
    return (run[0][0], value) if value is not None else None


def _without_opening_mark(start: int, word: str) -> tuple[int, str]:
    """'(22' -> '22', ',dua' -> 'dua', with the start moved past the mark."""
    bare = word.lstrip(_OPENING_PUNCTUATION)
    return start + len(word) - len(bare), bare


def _could_be_number(word: str) -> bool:
    bare = word.lower().lstrip(_OPENING_PUNCTUATION)
    return bare[:1].isdigit() or bare in NUMBER_WORDS or bare in COLLECTIVES
