"""A tiny, fast language guess for news text: Indonesian, English, Malay, or undetermined.

It counts function words (stop words), which make up a third or more of running text in any
language and which differ clearly between Indonesian and English. Malay shares most of them
with Indonesian, so Malay is only returned when words that Malaysian/Bruneian Malay spells or
uses differently ("kerana", "iaitu", "sahaja", "kerajaan", "polis") clearly outnumber their
Indonesian counterparts.

Known limits:
- Below `MIN_WORDS` words (a bare headline, a caption) the answer is "und": a handful of
  words is not enough evidence, and callers decide what to do with undetermined text.
- Only the first `SAMPLE_CHARS` characters are read; a long article is judged by its start.
- Code-mixed text is judged by its majority; an Indonesian article quoting an English
  paragraph stays "id".
- Regional languages (Javanese, Sundanese, Jambi Malay) and any other language or script
  give "und" or, when mixed into Indonesian text, "id". Nothing else is recognised.
- Text written without spaces between sentences ("koma.Kasus") is fine; text with no spaces
  at all is not.
"""

from __future__ import annotations

import re
from typing import Final

MIN_WORDS: Final = 5
SAMPLE_CHARS: Final = 20_000
# Share of words that must be stop words of a language before the text is called that
# language. Indonesian news prose scores 0.15–0.45 (lists and tables less); other text scores
# below 0.05 for a language it is not in.
MIN_STOPWORD_SHARE: Final = 0.06
# Malay needs this many of its own marker words (at least two different ones), and more than
# twice as many as Indonesian markers.
MIN_MALAY_MARKERS: Final = 3

_WORD = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")


def _words(block: str) -> list[str]:
    return block.split()


INDONESIAN_STOPWORDS: Final = frozenset(
    _words(
        """
    yang dan di ke dari ini itu dengan untuk tidak tak dalam akan pada juga adalah ada oleh
    karena sudah telah saat bisa dapat mereka kami kita atau seperti lebih tersebut bahwa
    belum hingga setelah namun para masih agar sebagai menjadi jadi ia dia kata ujar
    sementara kepada bagi antara sejak sebelum tetapi tapi pun lagi maka jika kalau bila
    saja yaitu yakni akibat hal secara sangat harus sedang banyak serta lalu kemudian
    terhadap maupun baik kini lain atas per sekitar menurut hanya semua baru tersebut nya
    bahkan tentang sehingga apa siapa mana ketika apabila yakni tanpa sendiri lebih begitu
    sebuah seorang sekali masing bersama selama melalui nanti pula
    """
    )
)

ENGLISH_STOPWORDS: Final = frozenset(
    _words(
        """
    the and of to in is that for it with as was on by at be this are from have has an not
    but were they which their will been had would who what when there about into said than
    its after also can more could over such these those while where we you he she his her
    our before because should
    """
    )
)

# Words Malaysian Malay uses where Indonesian uses another word, paired by meaning below.
MALAY_MARKERS: Final = frozenset(
    _words(
        """
    kerana iaitu sahaja selepas semasa polis hospital wang bagaimanapun
    kanak-kanak manakala menerusi
    """
    )
)
INDONESIAN_MARKERS: Final = frozenset(
    _words(
        """
    karena yaitu yakni saja setelah ketika pemerintah polisi uang namun pengadilan
    anak-anak sedangkan pernyataan melalui
    """
    )
)


def detect_language(text: str) -> str:
    """BCP 47 code of the text's language: "id", "en", "ms", or "und" when unsure."""
    words = [word.lower() for word in _WORD.findall(text[:SAMPLE_CHARS])]
    if len(words) < MIN_WORDS:
        return "und"
    indonesian = sum(word in INDONESIAN_STOPWORDS for word in words)
    english = sum(word in ENGLISH_STOPWORDS for word in words)
    best_share = max(indonesian, english) / len(words)
    if best_share < MIN_STOPWORD_SHARE:
        return "und"
    if english > indonesian:
        return "en"
    malay_markers = [word for word in words if word in MALAY_MARKERS]
    indonesian_markers = sum(word in INDONESIAN_MARKERS for word in words)
    # Distinct markers too: one loanword repeated ("hospital" x7) is not Malay.
    if (
        len(malay_markers) >= MIN_MALAY_MARKERS
        and len(set(malay_markers)) >= 2
        and len(malay_markers) > 2 * indonesian_markers
    ):
        return "ms"
    return "id"
