from __future__ import annotations

from datetime import date

import pytest

from index.query import QueryError, parse_query


def test_terms_phrases_or_and_exclusion() -> None:
    query = parse_query('tppo OR "perdagangan orang" anak -narkoba -"harga emas"')
    assert [[c.terms for c in group] for group in query.required] == [
        [("tppo",), ("dagang", "orang")],
        [("anak",)],
    ]
    assert [c.terms for c in query.excluded] == [("narkoba",), ("harga", "emas")]


def test_field_filters_are_not_text() -> None:
    query = parse_query(
        'source:"Jambi Ekspres" relevance:incident form:tppo group:anak region:15.71'
    )
    assert not query.has_text
    assert query.filters == {
        "source": ["Jambi Ekspres"],
        "relevance": ["incident"],
        "category": ["tppo"],
        "victim_group": ["anak"],
        "region": ["15.71"],
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("date:2026-11", (date(2026, 11, 1), date(2026, 11, 30))),
        ("date:2026-12", (date(2026, 12, 1), date(2026, 12, 31))),
        ("date:2026-11-16", (date(2026, 11, 16), date(2026, 11, 16))),
        ("date:2026-11-16..2026-11-22", (date(2026, 11, 16), date(2026, 11, 22))),
        ("date:>=2026-11-16", (date(2026, 11, 16), None)),
        ("date:<2026-11", (None, date(2026, 10, 31))),
        ("date:2026", (date(2026, 1, 1), date(2026, 12, 31))),
    ],
)
def test_date_ranges(text: str, expected: tuple[date | None, date | None]) -> None:
    query = parse_query(text)
    assert (query.date_from, query.date_to) == expected


def test_bad_date_is_a_clear_error() -> None:
    with pytest.raises(QueryError, match="not a date"):
        parse_query("date:kemarin")


def test_stop_words_alone_make_no_clause_and_unknown_fields_are_text() -> None:
    assert not parse_query("yang di").has_text
    assert parse_query("pukul:10").required[0][0].original == "pukul:10"


def test_fts_syntax_in_user_text_is_only_text() -> None:
    query = parse_query('NEAR(a b) * ^ "unclosed')
    assert query.has_text
