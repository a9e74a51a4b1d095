"""Indonesian text analysis for search: tokens, lower-casing, stop words, stemming.

The embedded index and the Elasticsearch backend both index what `analyze` returns, so a
query means the same thing on either. Stemming (`nlp.stemmer`) maps "diperdagangkan",
"perdagangan" and "memperdagangkan" to "dagang". Terms are cached per word form as written:
news vocabulary is small compared to the token stream, so nearly every token is one dict
look-up (profiling showed the per-token function calls and `Token` objects, not stemming,
bounding indexing speed once the stemmer was cached).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

from nlp.stemmer import stem

# Letters and digits, with inner hyphens kept for reduplication ("anak-anak") and inner
# dots/commas for numbers ("2.918.000"); everything else separates tokens.
TOKEN_PATTERN = re.compile(r"[^\W_]+(?:[-.,'][^\W_]+)*", re.UNICODE)
_REDUPLICATION = re.compile(r"^([^\W\d_]+)-\1$")


@dataclass(frozen=True, slots=True)
class Token:
    """A token of the original text: its analysed term (None for a stop word) and offsets."""

    term: str | None
    start: int
    end: int


@cache
def stop_words() -> frozenset[str]:
    text = resources.files("nlp").joinpath("data/stopwords-id.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def analyze_word_uncached(word: str) -> str | None:
    """The index term of one token, or None when the token is a stop word (no cache: the
    reference that the cached path must match)."""
    lowered = word.lower()
    if lowered in stop_words():
        return None
    if any(map(str.isdigit, lowered)):
        # Numbers and codes stay as written, without thousand separators ("2.918.000").
        return lowered.replace(".", "").replace(",", "")
    folded = _REDUPLICATION.sub(r"\1", lowered)  # "anak-anak" → "anak"
    return stem(folded)


# Bounded, so a long-running indexer over years of news cannot grow it without limit; when
# full it starts over (cheaper than LRU bookkeeping on every hit, and rare).
TERM_CACHE_SIZE = 500_000


class _TermCache(dict[str, str | None]):
    """word form as written → its term; a miss analyses the word once (`__missing__` keeps
    the hit path inside dict's C code)."""

    def __missing__(self, word: str) -> str | None:
        term = analyze_word_uncached(word)
        if len(self) >= TERM_CACHE_SIZE:
            self.clear()
        self[word] = term
        return term


_TERMS = _TermCache()
_term_of = _TERMS.__getitem__


def analyze_word(word: str) -> str | None:
    """The index term of one token, or None when the token is a stop word."""
    return _term_of(word)


def tokens(text: str) -> Iterator[Token]:
    for match in TOKEN_PATTERN.finditer(text):
        yield Token(_term_of(match.group()), match.start(), match.end())


def token_spans(text: str) -> list[tuple[str | None, int, int]]:
    """What `tokens` yields, as plain (term, start, end) tuples: the snippet builder's fast
    path (a tuple is several times cheaper to make than a `Token`)."""
    return [(_term_of(m.group()), *m.span()) for m in TOKEN_PATTERN.finditer(text)]


def term_list(words: list[str]) -> list[str | None]:
    """The term of each word (None for a stop word), in order: `analyze` without dropping
    stop words, so positions match the words' (the snippet builder's fast path)."""
    return list(map(_term_of, words))


def analyze(text: str) -> list[str]:
    """Index terms of a text, in order, stop words left out."""
    return [term for term in map(_term_of, TOKEN_PATTERN.findall(text)) if term is not None]
