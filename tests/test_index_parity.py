"""One suite of queries with expected hits, run against both backends: the embedded index
and a real Elasticsearch (tests/conftest.py `elastic`). A query that passes on one backend
and not the other is a parity bug."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index.base import SearchIndex, SearchRequest, SearchResult
from index.embedded import EmbeddedIndex
from tests.conftest import ElasticTarget
from tests.test_embedded_index import DOCS, KOTA_JAMBI, TANJABBAR, doc

# The embedded suite's four documents, plus ones that probe edges: a hyphenated number
# term, a stop-word-laden phrase, no publication date, another source and region.
EXTRA = [
    doc(
        "covid",
        "Pekerja Migran Terpapar Covid-19 di Penampungan",
        "Sejumlah pekerja migran yang menjadi korban perdagangan orang terpapar covid-19 "
        "di penampungan ilegal di Kota Jambi.",
        day=3,
        source="Antara Jambi",
        categories=("tppo",),
        groups=("perempuan",),
        region=KOTA_JAMBI,
    ),
    doc(
        "kdrt",
        "Suami Aniaya Istri di Kuala Tungkal",
        "Seorang suami menganiaya istrinya. Kekerasan dalam rumah tangga ini dilaporkan "
        "ke Polres Tanjung Jabung Barat.",
        day=25,
        source="Tribun Jambi",
        categories=("kekerasan_fisik",),
        groups=("perempuan",),
        region=TANJABBAR,
    ),
    doc(
        "undated",
        "Sosialisasi Pencegahan Kekerasan Anak",
        "DPMPPA menggelar sosialisasi pencegahan kekerasan terhadap anak di sekolah.",
        relevance="none",
    ).model_copy(update={"published": None}),
]
ALL = [*DOCS, *EXTRA]


@pytest.fixture(params=["embedded", "elastic"])
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchIndex]:
    if request.param == "embedded":
        opened: Any = EmbeddedIndex(tmp_path / "index.sqlite")
    else:
        target: ElasticTarget = request.getfixturevalue("elastic")
        opened = target.open()
    opened.upsert(ALL)
    try:
        yield opened
    finally:
        if request.param == "elastic":
            opened.drop()
        opened.close()


def search(index: SearchIndex, **request: Any) -> SearchResult:
    return index.search(SearchRequest(**request))


def ids(index: SearchIndex, **request: Any) -> list[str]:
    return [hit.id for hit in search(index, **request).hits]


# (request, expected ids as a set) — order-free expectations.
MATCHES: list[tuple[dict[str, Any], set[str]]] = [
    ({"q": "perdagangan"}, {"pmi", "mucikari", "stat", "emas", "covid"}),
    ({"q": "diperdagangkan"}, {"pmi", "mucikari", "stat", "emas", "covid"}),
    ({"q": '"perdagangan orang"'}, {"pmi", "mucikari", "stat", "covid"}),
    ({"q": '"orang perdagangan"'}, set()),
    ({"q": "perdagangan orang malaysia"}, {"pmi"}),
    ({"q": "mucikari OR malaysia"}, {"pmi", "mucikari"}),
    ({"q": 'mucikari OR "harga emas"'}, {"mucikari", "emas"}),
    ({"q": '"perdagangan orang" -mucikari'}, {"pmi", "stat", "covid"}),
    ({"q": "-emas"}, {"pmi", "mucikari", "stat", "covid", "kdrt", "undated"}),
    ({"q": '-"perdagangan orang" -emas'}, {"kdrt", "undated"}),
    ({"q": "covid-19"}, {"covid"}),
    ({"q": "menganiaya"}, {"kdrt"}),  # stem: aniaya
    ({"q": '"kekerasan dalam rumah tangga"'}, {"kdrt"}),  # stop word inside the phrase
    ({"q": "yang di"}, {d.id for d in ALL}),  # only stop words: no text condition
    ({"relevance": ["incident"]}, {"pmi", "mucikari", "covid", "kdrt"}),
    ({"q": "relevance:incident"}, {"pmi", "mucikari", "covid", "kdrt"}),
    ({"q": "relevansi:INCIDENT"}, {"pmi", "mucikari", "covid", "kdrt"}),
    ({"categories": ["eksploitasi"]}, {"mucikari"}),
    ({"q": "form:tppo group:anak"}, {"mucikari", "stat"}),
    ({"q": "form:tppo form:kekerasan_fisik"}, {"pmi", "mucikari", "stat", "covid", "kdrt"}),
    ({"victim_groups": ["anak"], "relevance": ["incident"]}, {"mucikari"}),
    ({"q": 'source:"tribun jambi"'}, {"mucikari", "kdrt"}),
    ({"sources": ["Antara Jambi"]}, {"covid"}),
    ({"regions": ["15"]}, {"pmi", "mucikari", "stat", "covid", "kdrt"}),
    ({"regions": ["15.71"]}, {"mucikari", "stat", "covid"}),
    ({"q": "region:15.06"}, {"pmi", "kdrt"}),
    ({"q": "wilayah:15.06 kekerasan"}, {"kdrt"}),
    ({"q": "date:2026-11-16"}, {"pmi"}),  # 23:30 WIB on the 16th is the 16th
    ({"q": "date:2026-11-16..2026-11-22"}, {"pmi", "mucikari"}),
    ({"q": "date:>=2026-11-20"}, {"mucikari", "kdrt"}),
    ({"q": "date:<2026-11-10"}, {"covid"}),
    ({"q": "date:2026-11 perdagangan"}, {"pmi", "mucikari", "stat", "emas", "covid"}),
    ({"q": "date:2025"}, set()),
    ({"q": "perdagangan", "date_from": "2026-11-12", "date_to": "2026-11-16"}, {"pmi", "emas"}),
]


@pytest.mark.parametrize(("request_", "expected"), MATCHES, ids=[str(r) for r, _ in MATCHES])
def test_query_matches(index: SearchIndex, request_: dict[str, Any], expected: set[str]) -> None:
    result = search(index, size=100, **request_)
    assert {hit.id for hit in result.hits} == expected
    assert result.total == len(expected)


def test_title_matches_rank_first(index: SearchIndex) -> None:
    assert ids(index, q="mucikari")[0] == "mucikari"
    assert ids(index, q="pmi")[0] == "pmi"
    assert ids(index, q="kekerasan")[0] in {"stat", "undated"}  # both have it in the title


def test_scores_only_for_text_queries(index: SearchIndex) -> None:
    assert all(hit.score is not None and hit.score > 0 for hit in search(index, q="emas").hits)
    assert all(hit.score is None for hit in search(index, relevance=["incident"]).hits)


def test_sort_by_date_puts_undated_last_and_pages_agree(index: SearchIndex) -> None:
    expected = ["kdrt", "mucikari", "pmi", "emas", "stat", "covid", "undated"]
    assert ids(index, sort="date", size=100) == expected
    pages = [search(index, sort="date", size=3, page=page) for page in (1, 2, 3)]
    assert [hit.id for result in pages for hit in result.hits] == expected
    assert {result.total for result in pages} == {7}
    assert ids(index, q="perdagangan", sort="date") == ["mucikari", "pmi", "emas", "stat", "covid"]


def test_facets(index: SearchIndex) -> None:
    result = search(index, q='"perdagangan orang"')
    facets = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    assert facets["relevance"] == {"incident": 3, "aggregate": 1}
    assert facets["category"] == {"tppo": 4, "eksploitasi": 1}
    assert facets["region"] == {"15": 4, "15.71": 3, "15.06": 1}
    assert facets["source"] == {"Jambi Ekspres": 2, "Tribun Jambi": 1, "Antara Jambi": 1}
    assert facets["victim_group"] == {"perempuan": 4, "anak": 2}
    assert facets["month"] == {"2026-11": 4}
    # Weeks are keyed by their Monday, in date order, and labelled as ISO weeks: the 3rd
    # (Tue), 10th (Tue), 16th (Mon) and 20th (Fri) of November 2026.
    assert [(v.value, v.label, v.count) for v in result.facets["week"]] == [
        ("2026-11-02", "2026-W45", 1),
        ("2026-11-09", "2026-W46", 1),
        ("2026-11-16", "2026-W47", 2),
    ]
    # Most frequent first, ties by value: the same order on both backends.
    assert [v.value for v in result.facets["source"]] == [
        "Jambi Ekspres",
        "Antara Jambi",
        "Tribun Jambi",
    ]
    labels = {v.value: v.label for v in result.facets["region"]}
    assert labels["15.71"] == "Kota Jambi"
    assert {v.value: v.label for v in result.facets["category"]}["tppo"].startswith("TPPO")
    assert search(index, q="emas", facets=False).facets == {}


def test_date_histograms_over_everything_leave_undated_out(index: SearchIndex) -> None:
    result = search(index)
    assert [(v.value, v.count) for v in result.facets["month"]] == [("2026-11", 6)]
    # The 10th (Tue) and 12th (Thu) share a week; the 25th (Wed) is in the week of the 23rd.
    assert [(v.value, v.count) for v in result.facets["week"]] == [
        ("2026-11-02", 1),
        ("2026-11-09", 2),
        ("2026-11-16", 2),
        ("2026-11-23", 1),
    ]


def test_hits_carry_highlights_and_fields(index: SearchIndex) -> None:
    hit = search(index, q="perdagangan", regions=["15.06"]).hits[0]
    assert hit.id == "pmi"
    assert "<mark>diperdagangkan</mark>" in hit.snippet_html
    assert "<mark>perdagangan</mark>" in hit.snippet_html
    assert hit.title_html == "Polisi Gagalkan Pengiriman 22 PMI Ilegal"
    assert hit.primary_location == TANJABBAR
    assert hit.categories == ["tppo"] and hit.victim_groups == ["perempuan"]
    assert hit.published is not None and hit.published.isoformat() == "2026-11-16T23:30:00+07:00"
    assert hit.url == "https://news.example/pmi"


def test_upsert_replaces_and_delete_removes(index: SearchIndex) -> None:
    replaced = doc("emas", "Harga Emas Turun", "Harga emas turun tajam.", relevance="none")
    index.upsert([replaced])
    assert index.count() == len(ALL)
    assert ids(index, q="naik") == []
    assert ids(index, q="turun") == ["emas"]
    assert index.versions()["emas"] == "emas:1"
    assert index.delete(["emas", "missing"]) == 1
    assert index.count() == len(ALL) - 1
    assert ids(index, q="emas") == []


def test_a_batch_of_several_bulk_requests_is_indexed_whole_and_the_last_copy_wins(
    index: SearchIndex,
) -> None:
    # 130 documents: Elasticsearch sends them as several pipelined bulk requests.
    batch = [
        doc(f"bulk{n}", f"Berita Harian {n}", "Polisi menangkap pelaku pencurian.", day=1 + n % 28)
        for n in range(130)
    ]
    replaced = doc("bulk5", "Berita Ganti", "Isi yang diganti.", day=2)
    index.upsert([*batch, replaced])
    assert index.count() == len(ALL) + 130
    assert ids(index, q="ganti") == ["bulk5"]
    assert search(index, q="pencurian", size=1).total == 129


def test_both_backends_return_the_same_results(elastic: ElasticTarget, tmp_path: Path) -> None:
    """Beyond expected ids: the same hits, snippets and facets. By date the order is the
    same too; by relevance it may differ among close scores (FTS5's BM25 and Lucene's differ
    in length normalisation), so only the top hit must agree there."""
    embedded = EmbeddedIndex(tmp_path / "index.sqlite")
    remote = elastic.open()
    try:
        embedded.upsert(ALL)
        remote.upsert(ALL)
        for q in ["perdagangan", '"perdagangan orang" -mucikari', "kekerasan", "form:tppo"]:
            for sort in ("relevance", "date"):
                a = embedded.search(SearchRequest(q=q, sort=sort))  # type: ignore[arg-type]
                b = remote.search(SearchRequest(q=q, sort=sort))  # type: ignore[arg-type]
                assert _shape(a, ordered=sort == "date") == _shape(b, ordered=sort == "date"), (
                    q,
                    sort,
                )
    finally:
        remote.drop()
        remote.close()
        embedded.close()


def _shape(result: SearchResult, ordered: bool) -> object:
    hits = [(h.id, h.title_html, h.snippet_html, h.published) for h in result.hits]
    return (
        result.total,
        hits if ordered else (hits[:1], sorted(hits, key=lambda h: h[0])),
        {k: [(v.value, v.count, v.label) for v in vs] for k, vs in result.facets.items()},
    )


@pytest.mark.parametrize("sort", ["date", "relevance"])
def test_cursor_pagination_walks_every_hit_once(index: SearchIndex, sort: str) -> None:
    for q in ("", "perdagangan OR kekerasan"):
        everything = ids(index, q=q, sort=sort, size=100)
        walked: list[str] = []
        cursor = None
        while True:
            result = search(index, q=q, sort=sort, size=2, cursor=cursor, facets=False)
            walked += [hit.id for hit in result.hits]
            cursor = result.next_cursor
            if cursor is None:
                break
        assert walked == everything
        assert len(walked) == result.total
