"""Indonesian number words and digits, as news writes counts."""

from __future__ import annotations

import re

import pytest

from nlp.numbers import NUMBER_PATTERN, number_before, parse_number


@pytest.mark.parametrize(
    ("phrase", "value"),
    [
        ("satu", 1),
        ("dua", 2),
        ("sembilan", 9),
        ("sepuluh", 10),
        ("sebelas", 11),
        ("dua belas", 12),
        ("lima belas", 15),
        ("dua puluh", 20),
        ("dua puluh dua", 22),
        ("sembilan puluh sembilan", 99),
        ("seratus", 100),
        ("seratus dua puluh lima", 125),
        ("tiga ratus", 300),
        ("seribu", 1_000),
        ("seribu lima ratus", 1_500),
        ("dua ribu dua puluh enam", 2_026),
        ("seratus dua puluh lima ribu tiga ratus", 125_300),
        ("dua juta tiga ribu", 2_003_000),
        ("seorang", 1),
        ("sebuah", 1),
        ("sepasang", 2),
        ("Dua Puluh Dua", 22),
        ("dua-puluh", 20),
        ("nol", 0),
        ("22", 22),
        ("1.250", 1_250),
        ("1.250.000", 1_250_000),
        ("3 ribu", 3_000),
        ("2,5 juta", 2_500_000),
    ],
)
def test_parse_number(phrase: str, value: int) -> None:
    assert parse_number(phrase) == value


@pytest.mark.parametrize(
    "phrase",
    [
        "puluhan",
        "belasan",
        "ratusan",
        "ribuan",
        "beberapa",
        "sejumlah",
        "dua tiga",  # "two or three": a range
        "puluh",  # no unit before it
        "dua ratus seribu",
        "1,5",  # not a whole number
        "1.25",
        "",
        "   ",
        "orang",
        "dua orang",
    ],
)
def test_vague_or_malformed_amounts_are_none(phrase: str) -> None:
    assert parse_number(phrase) is None


def test_number_pattern_finds_whole_phrases() -> None:
    pattern = re.compile(NUMBER_PATTERN, re.IGNORECASE)
    text = "Dua Puluh Dua orang, 1.250 warga, seorang siswi, 2,5 juta, satu-satunya, empati."
    assert [m.group() for m in pattern.finditer(text)] == [
        "Dua Puluh Dua",
        "1.250",
        "seorang",
        "2,5 juta",
        "satu",
    ]


@pytest.mark.parametrize(
    ("text", "noun", "expected"),
    [
        ("ada dua puluh dua korban", "korban", (4, 22)),
        ("menggagalkan 22 orang", "orang", (13, 22)),
        ("kedua korban", "korban", (0, 2)),
        ("sebanyak (22 orang", "orang", (10, 22)),
        ("sekitar 2,5 juta orang", "orang", (8, 2_500_000)),
        ("dua tiga korban", "korban", None),
        ("para korban", "korban", None),
        ("korban", "korban", None),
        ("x22 korban", "korban", None),
    ],
)
def test_number_before_a_noun(text: str, noun: str, expected: tuple[int, int] | None) -> None:
    assert number_before(text, text.rindex(noun)) == expected


def test_number_before_only_reads_a_few_words() -> None:
    text = "dua " + "kata " * 50 + "korban"
    assert number_before(text, text.rindex("korban")) is None
