from __future__ import annotations

import pytest

from nlp.analysis import analyze, tokens
from nlp.stemmer import stem


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("perdagangan", "dagang"),
        ("diperdagangkan", "dagang"),
        ("memperdagangkan", "dagang"),
        ("pencabulan", "cabul"),
        ("dicabuli", "cabul"),
        ("pemerkosaan", "perkosa"),
        ("diperkosa", "perkosa"),
        ("penganiayaan", "aniaya"),
        ("kekerasan", "keras"),
        ("mengirim", "kirim"),
        ("menulis", "tulis"),
        ("memukul", "pukul"),
        ("penangkapan", "tangkap"),
        ("ditelantarkan", "telantar"),
        ("perundungan", "rundung"),
        ("pelaku", "laku"),
        ("bayinya", "bayi"),
        ("mucikari", "mucikari"),
        ("anak", "anak"),
    ],
)
def test_stemmer_maps_inflections_to_their_root(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_analyze_lowercases_drops_stop_words_and_keeps_numbers() -> None:
    text = "Polisi menggagalkan perdagangan orang di Kuala Tungkal, 22 PMI dan anak-anak"
    assert analyze(text) == [
        "polisi", "gagal", "dagang", "orang", "kuala", "tungkal", "22", "pmi", "anak",
    ]  # fmt: skip
    assert analyze("Rp2.918.000") == ["rp2918000"]
    assert analyze("yang di dan") == []


def test_token_offsets_point_into_the_original_text() -> None:
    text = "Siswi SMP dicabuli ayah tiri; korban (14) melapor."
    for token in tokens(text):
        assert text[token.start : token.end].strip() == text[token.start : token.end]
        assert token.end > token.start
    assert [t.term for t in tokens(text)][:3] == ["siswi", "smp", "cabul"]
