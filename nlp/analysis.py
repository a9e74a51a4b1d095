"""Indonesian text analysis for search: tokens, lower-casing, stop words, stemming.

The embedded index and the Elasticsearch backend both index what `analyze` returns, so a
query means the same thing on either. Stemming (`nlp.stemmer`) maps "diperdagangkan",
"perdagangan" and "memperdagangkan" to "dagang". Terms are cached: news vocabulary is small
compared to the token stream.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
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


@lru_cache(maxsize=200_000)
def analyze_word(word: str) -> str | None:
    """The index term of one token, or None when the token is a stop word."""
    lowered = word.lower()
    if lowered in stop_words():
        return None
    if any(ch.isdigit() for ch in lowered):
        # Numbers and codes stay as written, without thousand separators ("2.918.000").
        return lowered.replace(".", "").replace(",", "")
    folded = _REDUPLICATION.sub(r"\1", lowered)  # "anak-anak" → "anak"
    return stem(folded)


def tokens(text: str) -> Iterator[Token]:
    for match in TOKEN_PATTERN.finditer(text):
        yield Token(analyze_word(match.group()), match.start(), match.end())


def analyze(text: str) -> list[str]:
    """Index terms of a text, in order, stop words left out."""
    return [token.term for token in tokens(text) if token.term is not None]
