"""The stop-word language guess: Indonesian, English, Malay, or undetermined."""

from __future__ import annotations

import pytest

from nlp.language import detect_language

INDONESIAN = (
    "Polisi menangkap dua orang calo yang akan memberangkatkan 22 pekerja migran ke "
    "Malaysia melalui jalur tidak resmi. Para korban sudah dipulangkan ke daerah asal "
    "mereka setelah menjalani pemeriksaan di kantor polisi."
)
ENGLISH = (
    "The police arrested two brokers who were about to send 22 migrant workers to Malaysia "
    "through an illegal route. The victims have been sent back to their home towns after "
    "they were questioned at the police station."
)
MALAY = (
    "Polis menahan dua lelaki kerana disyaki terlibat dalam pemerdagangan manusia selepas "
    "serbuan di Johor Bahru semalam, iaitu operasi yang dijalankan sahaja oleh pihak polis "
    "semasa kerajaan meningkatkan kawalan di sempadan."
)


@pytest.mark.parametrize(
    ("text", "language"),
    [(INDONESIAN, "id"), (ENGLISH, "en"), (MALAY, "ms")],
    ids=["indonesian", "english", "malay"],
)
def test_languages(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text",
    ["", "   ", "Siswi dicabuli", "12345 67890", "!!! ??? ...", "ジャンビ州の警察は二人を逮捕した"],
)
def test_too_little_evidence_is_und(text: str) -> None:
    assert detect_language(text) == "und"


def test_indonesian_article_quoting_english_stays_indonesian() -> None:
    text = INDONESIAN + ' Ia mengatakan, "we will not stop until they are found," katanya.'
    assert detect_language(text) == "id"


def test_words_glued_by_missing_spaces_still_count() -> None:
    glued = INDONESIAN.replace(". ", ".")
    assert detect_language(glued) == "id"


def test_a_repeated_loanword_is_not_malay() -> None:
    text = INDONESIAN + " Korban dirawat di hospital, hospital itu, hospital swasta."
    assert detect_language(text) == "id"


def test_long_text_is_judged_by_its_start() -> None:
    assert detect_language(INDONESIAN * 2_000 + ENGLISH * 2_000) == "id"
