from __future__ import annotations

import html
import sqlite3
from datetime import date, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import pytest
import yaml

from index import analysis_pool, embedded
from index.base import IndexBackendError, IndexDocument, SearchRequest
from index.embedded import EmbeddedIndex, week_label, week_of
from index.highlight import SNIPPET_TOKENS, snippet, window_start
from nlp.analysis import token_spans
from pantau.models import ModelInfo, Region, TaggedArticle

WIB = timezone(timedelta(hours=7))
KOTA_JAMBI = Region(name="Kota Jambi", code="15.71", level="kabupaten_kota", province_code="15")
TANJABBAR = Region(
    name="Kabupaten Tanjung Jabung Barat", code="15.06", level="kabupaten_kota", province_code="15"
)


def doc(
    doc_id: str,
    title: str,
    text: str,
    *,
    day: int = 18,
    source: str = "Jambi Ekspres",
    relevance: str = "incident",
    categories: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    region: Region | None = None,
) -> IndexDocument:
    record = TaggedArticle(
        id=doc_id,
        relevance=relevance,  # type: ignore[arg-type]
        categories=list(categories),  # type: ignore[arg-type]
        victim_groups=list(groups),  # type: ignore[arg-type]
        primary_location=region,
        model=ModelInfo(name="test", version="1"),
    )
    return IndexDocument(
        id=doc_id,
        version=f"{doc_id}:1",
        url=f"https://news.example/{doc_id}",
        source=source,
        title=title,
        text=text,
        published=datetime(2026, 11, day, 23, 30, tzinfo=WIB),
        relevance=relevance,
        categories=list(categories),
        victim_groups=list(groups),
        region_codes=["15", region.code] if region and region.code else [],
        primary_location=region,
        record=record,
    )


DOCS = [
    doc(
        "pmi",
        "Polisi Gagalkan Pengiriman 22 PMI Ilegal",
        "Sebanyak 22 calon PMI yang akan "
        "diperdagangkan ke Malaysia diamankan di Pelabuhan Kuala Tungkal. Kasus perdagangan "
        "orang ini ditangani Polres.",
        day=16,
        categories=("tppo",),
        groups=("perempuan",),
        region=TANJABBAR,
    ),
    doc(
        "mucikari",
        "Mucikari Jual Remaja Lewat Aplikasi",
        "Seorang mucikari memperdagangkan "
        "remaja berusia 15 tahun di Kota Jambi. Polisi menyebut ini perdagangan orang.",
        day=20,
        source="Tribun Jambi",
        categories=("tppo", "eksploitasi"),
        groups=("anak", "perempuan"),
        region=KOTA_JAMBI,
    ),
    doc(
        "stat",
        "DPMPPA Catat 149 Kasus Kekerasan",
        "Kasus kekerasan terhadap perempuan dan anak "
        "di Kota Jambi mencapai 149 kasus, termasuk empat kasus perdagangan orang.",
        day=10,
        relevance="aggregate",
        categories=("tppo",),
        groups=("anak", "perempuan"),
        region=KOTA_JAMBI,
    ),
    doc(
        "emas",
        "Harga Emas Naik",
        "Harga emas di Pasar Angso Duo naik. Perdagangan emas ramai menjelang akhir tahun.",
        day=12,
        relevance="none",
    ),
]


@pytest.fixture
def index(tmp_path: Path) -> EmbeddedIndex:
    with EmbeddedIndex(tmp_path / "index.sqlite") as opened:
        opened.upsert(DOCS)
        yield opened  # type: ignore[misc]


def ids(index: EmbeddedIndex, **request: object) -> list[str]:
    return [hit.id for hit in index.search(SearchRequest(**request)).hits]  # type: ignore[arg-type]


def test_inflected_forms_match_and_phrase_excludes_trade_news(index: EmbeddedIndex) -> None:
    assert set(ids(index, q="perdagangan")) == {"pmi", "mucikari", "stat", "emas"}
    assert set(ids(index, q='"perdagangan orang"')) == {"pmi", "mucikari", "stat"}
    # "diperdagangkan" and "memperdagangkan" are found by their stem.
    assert set(ids(index, q="diperdagangkan")) == {"pmi", "mucikari", "stat", "emas"}


def test_title_matches_rank_first(index: EmbeddedIndex) -> None:
    assert ids(index, q="mucikari")[0] == "mucikari"
    assert ids(index, q="pmi")[0] == "pmi"


def test_or_and_exclusion(index: EmbeddedIndex) -> None:
    assert set(ids(index, q="mucikari OR malaysia")) == {"pmi", "mucikari"}
    assert set(ids(index, q='"perdagangan orang" -mucikari')) == {"pmi", "stat"}
    assert set(ids(index, q="-emas")) == {"pmi", "mucikari", "stat"}


def test_filters_by_field_and_query_syntax_agree(index: EmbeddedIndex) -> None:
    assert set(ids(index, relevance=["incident"])) == {"pmi", "mucikari"}
    assert set(ids(index, q="relevance:incident")) == {"pmi", "mucikari"}
    assert set(ids(index, categories=["eksploitasi"])) == {"mucikari"}
    assert set(ids(index, victim_groups=["anak"], relevance=["incident"])) == {"mucikari"}
    assert set(ids(index, q='source:"tribun jambi"')) == {"mucikari"}


def test_province_code_matches_its_regencies(index: EmbeddedIndex) -> None:
    assert set(ids(index, regions=["15"])) == {"pmi", "mucikari", "stat"}
    assert set(ids(index, regions=["15.71"])) == {"mucikari", "stat"}
    assert ids(index, q="region:15.06") == ["pmi"]


def test_date_range_uses_the_day_in_jambi_time(index: EmbeddedIndex) -> None:
    # Published 23:30 WIB on the 16th is 16:30 UTC: still the 16th for analysts.
    assert set(ids(index, q="date:2026-11-16")) == {"pmi"}
    assert set(ids(index, q="date:2026-11-16..2026-11-22")) == {"pmi", "mucikari"}


def test_sort_by_date_and_pagination(index: EmbeddedIndex) -> None:
    assert ids(index, sort="date") == ["mucikari", "pmi", "emas", "stat"]
    first = index.search(SearchRequest(sort="date", size=3, page=1))
    second = index.search(SearchRequest(sort="date", size=3, page=2))
    assert first.total == second.total == 4
    assert [h.id for h in first.hits + second.hits] == ["mucikari", "pmi", "emas", "stat"]


def test_facets_count_the_matching_documents(index: EmbeddedIndex) -> None:
    result = index.search(SearchRequest(q='"perdagangan orang"'))
    facets = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    assert facets["relevance"] == {"incident": 2, "aggregate": 1}
    assert facets["category"] == {"tppo": 3, "eksploitasi": 1}
    assert facets["region"] == {"15": 3, "15.71": 2, "15.06": 1}
    assert facets["month"] == {"2026-11": 3}
    labels = {v.value: v.label for v in result.facets["region"]}
    assert labels["15.71"] == "Kota Jambi"


def test_snippets_mark_every_inflection_and_escape_html(tmp_path: Path) -> None:
    with EmbeddedIndex(tmp_path / "x.sqlite") as index:
        index.upsert(
            [
                doc(
                    "x",
                    "Judul <b>",
                    "Awal. <script>alert(1)</script> Korban "
                    "diperdagangkan oleh sindikat perdagangan orang.",
                )
            ]
        )
        hit = index.search(SearchRequest(q="perdagangan")).hits[0]
    assert "<mark>diperdagangkan</mark>" in hit.snippet_html
    assert "<mark>perdagangan</mark>" in hit.snippet_html
    assert "<script>" not in hit.snippet_html and "&lt;script&gt;" in hit.snippet_html
    assert hit.title_html == "Judul &lt;b&gt;"


def test_upsert_replaces_and_delete_removes(index: EmbeddedIndex) -> None:
    replaced = doc("emas", "Harga Emas Turun", "Harga emas turun tajam.", relevance="none")
    index.upsert([replaced])
    assert index.count() == 4
    assert ids(index, q="naik") == []
    assert ids(index, q="turun") == ["emas"]
    assert index.delete(["emas", "missing"]) == 1
    assert index.count() == 3
    assert ids(index, q="emas") == []


def _expected_facets(documents: list[IndexDocument]) -> dict[str, dict[str, int]]:
    """Facet counts worked out from the documents themselves (the reference)."""
    expected: dict[str, dict[str, int]] = {}

    def add(field: str, value: str) -> None:
        expected.setdefault(field, {}).setdefault(value, 0)
        expected[field][value] += 1

    for d in documents:
        add("relevance", d.relevance)
        add("source", d.source)
        for value in d.categories:
            add("category", value)
        for value in d.victim_groups:
            add("victim_group", value)
        for value in d.region_codes:
            add("region", value)
        if d.published is not None:
            day = d.published.astimezone(WIB).date()
            add("month", day.isoformat()[:7])
            add("week", (day - timedelta(days=day.weekday())).isoformat())
    return expected


@pytest.mark.parametrize(
    "q",
    [
        "mucikari",  # one hit
        '"perdagangan orang"',  # several hits sharing facet combinations and weeks
        "",  # everything: the cached counts of the whole index
    ],
)
def test_facets_agree_with_the_documents_however_they_are_counted(
    index: EmbeddedIndex, q: str
) -> None:
    result = index.search(SearchRequest(q=q, size=100))
    matched = [d for d in DOCS if d.id in {hit.id for hit in result.hits}]
    facets = {name: {v.value: v.count for v in values} for name, values in result.facets.items()}
    expected = _expected_facets(matched)
    assert {name: counts for name, counts in facets.items() if counts} == expected


def test_facet_counts_follow_writes_from_another_connection(tmp_path: Path) -> None:
    """The whole-index counts are cached; a write by another process must show at once."""
    path = tmp_path / "index.sqlite"
    with EmbeddedIndex(path) as reader, EmbeddedIndex(path) as writer:
        writer.upsert(DOCS)
        assert reader.search(SearchRequest()).facets["relevance"][0].count == 2
        writer.upsert([doc("baru", "Kasus Baru", "Polisi menangkap pelaku.", day=23)])
        relevance = {v.value: v.count for v in reader.search(SearchRequest()).facets["relevance"]}
        assert relevance == {"incident": 3, "aggregate": 1, "none": 1}
        assert {v.value for v in reader.search(SearchRequest()).facets["week"]} >= {"2026-11-23"}
        reader.delete(["baru", "emas"])
        relevance = {v.value: v.count for v in reader.search(SearchRequest()).facets["relevance"]}
        assert relevance == {"incident": 2, "aggregate": 1}


def test_an_index_of_the_first_schema_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    with EmbeddedIndex(path) as index:
        index.upsert(DOCS)
        before = [index.search(SearchRequest(q=q, size=100)) for q in ("", "perdagangan")]
    # What a version-1 file lacks: the narrow `meta` table and the facet combinations.
    db = sqlite3.connect(path)
    db.executescript(
        """DROP TABLE meta;
           DROP TABLE combos;
           DROP TABLE counts;
           PRAGMA user_version = 0;"""
    )
    db.close()
    with EmbeddedIndex(path) as index:
        after = [index.search(SearchRequest(q=q, size=100)) for q in ("", "perdagangan")]
    assert after == before


def test_an_index_from_a_newer_pantau_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    EmbeddedIndex(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(IndexBackendError, match=r"newer Pantau.*rebuild"):
        EmbeddedIndex(path)


@pytest.mark.parametrize(
    ("day", "monday", "label"),
    [
        (date(2026, 11, 22), "2026-11-16", "2026-W47"),  # a Sunday ends its week
        (date(2026, 11, 23), "2026-11-23", "2026-W48"),  # a Monday starts one
        (date(2027, 1, 1), "2026-12-28", "2026-W53"),  # New Year's Day in the last week
    ],
)
def test_week_facet_is_the_iso_week_by_its_monday(day: date, monday: str, label: str) -> None:
    assert week_of(day).isoformat() == monday
    assert week_label(monday) == label


def _counts_table(path: Path) -> list[tuple[str, int, int]]:
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT day, combo, n FROM counts ORDER BY day, combo").fetchall()
    finally:
        db.close()


def _counts_from_rows(path: Path) -> list[tuple[str, int, int]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT coalesce(day, ''), combo, count(*) FROM meta GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
    finally:
        db.close()


# Queries without text are answered from the per-(day, combination) counts and a walk of the
# dates; these compare them with the documents themselves.
FILTER_ONLY = [
    "form:tppo",
    "relevance:INCIDENT",  # filters ignore case, as SQL's NOCASE did
    "group:anak region:15",
    "date:2026-11-16..2026-11-22",
    "date:<=2026-11-12",
    "-emas",
    "-mucikari form:tppo",
    "form:tppo date:2026-11-20",
]


@pytest.mark.parametrize("q", FILTER_ONLY)
def test_filters_without_text_agree_with_the_documents(index: EmbeddedIndex, q: str) -> None:
    every = index.search(SearchRequest(q=q, size=100))
    matched = [d for d in DOCS if d.id in {hit.id for hit in every.hits}]
    assert every.total == len(every.hits) == len(matched)
    facets = {name: {v.value: v.count for v in values} for name, values in every.facets.items()}
    assert {name: counts for name, counts in facets.items() if counts} == _expected_facets(matched)
    # Newest first, and the pages of one at a time walk the same list.
    newest_first = sorted(matched, key=lambda d: d.published or datetime.min, reverse=True)
    assert [hit.id for hit in every.hits] == [d.id for d in newest_first]
    paged = [
        hit.id
        for n in range(every.total)
        for hit in index.search(SearchRequest(q=q, size=1, page=n + 1, facets=False)).hits
    ]
    assert paged == [d.id for d in newest_first]


def test_counts_follow_replacements_and_deletes(index: EmbeddedIndex) -> None:
    assert _counts_table(index.path) == _counts_from_rows(index.path)
    index.upsert(
        [
            doc("emas", "Harga Emas Turun", "Harga emas turun.", day=13, relevance="none"),
            doc("pmi", "PMI Dipulangkan", "PMI dipulangkan.", day=16, categories=("tppo",)),
            doc("baru", "Kasus Baru", "Polisi menangkap pelaku.").model_copy(
                update={"published": None}
            ),
        ]
    )
    assert _counts_table(index.path) == _counts_from_rows(index.path)
    index.delete(["mucikari", "stat", "baru"])
    assert _counts_table(index.path) == _counts_from_rows(index.path)
    assert index.search(SearchRequest(q="form:tppo")).total == 1
    # Groups that lose their last document are gone, not kept at zero.
    assert all(n > 0 for _, _, n in _counts_table(index.path))


def test_an_index_of_the_second_schema_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    queries = ["", "perdagangan", "form:tppo", "date:2026-11-16..2026-11-22", "-emas"]
    undated = doc("undated", "Sosialisasi", "Sosialisasi pencegahan.").model_copy(
        update={"published": None}
    )
    with EmbeddedIndex(path) as index:
        index.upsert([*DOCS, undated])
        before = [index.search(SearchRequest(q=q, size=100, sort="date")) for q in queries]
    expected_counts = _counts_table(path)
    # What a version-2 file lacks: the counts, the indexes on meta, sortable `published`.
    db = sqlite3.connect(path)
    db.executescript(
        """DROP TABLE counts;
           DROP INDEX meta_published;
           DROP INDEX meta_combo;
           UPDATE meta SET published = (SELECT published FROM docs WHERE docs.rowid = meta.rowid);
           PRAGMA user_version = 2;"""
    )
    db.close()
    with EmbeddedIndex(path) as index:
        after = [index.search(SearchRequest(q=q, size=100, sort="date")) for q in queries]
    assert after == before
    assert _counts_table(path) == expected_counts


def _demo_documents(count: int) -> list[IndexDocument]:
    """`count` documents of real Indonesian news prose (the demo site's articles, cycled)."""
    source = resources.files("crawlers.demo_site").joinpath("articles.yaml").read_text("utf-8")
    articles = yaml.safe_load(source)
    return [
        doc(
            f"d{n:04d}",
            articles[n % len(articles)]["title"],
            "\n\n".join(articles[n % len(articles)]["paragraphs"]) + f" Nomor {n}.",
            day=1 + n % 28,
            categories=("tppo",) if n % 3 == 0 else (),
            region=KOTA_JAMBI if n % 2 else TANJABBAR,
        )
        for n in range(count)
    ]


def test_a_large_batch_analysed_in_worker_processes_indexes_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = _demo_documents(300)
    fields = [(d.title, d.text) for d in documents]
    monkeypatch.setenv("PANTAU_ANALYSIS_WORKERS", "2")
    pooled = analysis_pool.analyze_documents(fields)  # ≥ POOL_MIN_BATCH: the pool
    assert analysis_pool._pool is not None  # it did run in worker processes
    assert pooled == analysis_pool.analyze_documents(fields, pooled=False)
    with EmbeddedIndex(tmp_path / "pooled.sqlite") as index:
        index.upsert(documents)
        pooled_results = [index.search(SearchRequest(q=q, size=50)) for q in ("polisi", "")]
        pooled_terms = index._db.execute("SELECT rowid, title, body FROM fts").fetchall()
    monkeypatch.setenv("PANTAU_ANALYSIS_WORKERS", "0")
    with EmbeddedIndex(tmp_path / "in_process.sqlite") as index:
        index.upsert(documents)
        results = [index.search(SearchRequest(q=q, size=50)) for q in ("polisi", "")]
        terms = index._db.execute("SELECT rowid, title, body FROM fts").fetchall()
    assert [tuple(row) for row in pooled_terms] == [tuple(row) for row in terms]
    assert pooled_results == results
    assert results[0].total > 0


def _reference_snippet(text: str, terms: set[str], size: int = SNIPPET_TOKENS) -> str:
    """The snippet built the plain way (every token as a span, then the densest window):
    what `snippet`'s shortcuts must reproduce."""
    found = token_spans(text)
    if not found:
        return ""
    # The window's choice is shared; what `snippet` does differently is how it finds the
    # tokens and their offsets.
    start = window_start([i for i, (term, _, _) in enumerate(found) if term in terms], size)
    end = min(len(found), start + size)
    window = found[start:end]
    begin = 0 if start == 0 else window[0][1]
    finish = len(text) if end >= len(found) else window[-1][2]
    out, cursor = ["… " if begin > 0 else ""], begin
    for term, token_start, token_end in window:
        if term in terms:
            out += [html.escape(text[cursor:token_start])]
            out += [f"<mark>{html.escape(text[token_start:token_end])}</mark>"]
            cursor = token_end
    out.append(html.escape(text[cursor:finish]))
    if finish < len(text):
        out.append(" …")
    return "".join(out).replace("\n\n", " ¶ ").replace("\n", " ")


@pytest.mark.parametrize(
    "terms",
    [set(), {"\0"}, {"polisi"}, {"anak", "korban"}, {"dagang", "orang", "jambi"}, {"2026"}],
)
def test_snippets_equal_the_plain_construction_on_news_text(terms: set[str]) -> None:
    texts = [d.text for d in _demo_documents(40)] + ["", "... !!", "Satu kata."]
    for text in texts:
        for size in (3, SNIPPET_TOKENS, 10_000):
            assert snippet(text, terms, size) == _reference_snippet(text, terms, size)
    if terms - {"\0"}:  # the texts do contain these words: windows are chosen and marked
        assert any("<mark>" in snippet(text, terms) for text in texts)


def test_filters_on_many_combinations_go_through_a_table_with_the_same_results(
    index: EmbeddedIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = [*FILTER_ONLY, "perdagangan form:tppo", "polisi relevance:incident"]
    inline = [index.search(SearchRequest(q=q, size=100)) for q in queries]
    monkeypatch.setattr(embedded, "INLINE_COMBOS", 0)  # every set of combinations a table
    assert [index.search(SearchRequest(q=q, size=100)) for q in queries] == inline
