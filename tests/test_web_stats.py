"""Statistics count cases, not articles (issue 8): one case reported by three outlets is
one incident on the dashboard and in /api/stats, which keeps the article counts beside.

A small data directory with known articles (no `pantau demo`): a TPPO case reported by
three outlets (one of them names another place and adds a form), a separate sexual
violence case, and an article that is not an incident."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from index import open_index
from index.base import IndexDocument
from pantau.models import ExtractedArticle, ModelInfo, Region, TaggedArticle
from pantau.store import ArticleStore
from tests.web_fixtures import login, settings_for
from web.accounts import Accounts
from web.app import create_app
from web.service import CaseArticle, cases_of, statistics_of

PASSWORD = "kata-sandi-statistik-1"
WEEK = "2026-W46"  # Monday 9 to Sunday 15 November 2026
KOTA_JAMBI = Region(name="Kota Jambi", code="15.71", level="kabupaten_kota", province_code="15")
MUARO_JAMBI = Region(
    name="Kabupaten Muaro Jambi", code="15.05", level="kabupaten_kota", province_code="15"
)
# (url, source, day of November 2026, relevance, forms, place, story)
ARTICLES = [
    ("https://a.example/tppo", "Outlet A", 10, "incident", ["tppo"], KOTA_JAMBI, "kasus-tppo"),
    ("https://b.example/tppo", "Outlet B", 11, "incident", ["tppo"], KOTA_JAMBI, "kasus-tppo"),
    (
        "https://c.example/tppo",
        "Outlet C",
        12,
        "incident",
        ["tppo", "eksploitasi"],
        MUARO_JAMBI,
        "kasus-tppo",
    ),
    (
        "https://a.example/cabul",
        "Outlet A",
        11,
        "incident",
        ["kekerasan_seksual"],
        MUARO_JAMBI,
        None,
    ),
    ("https://b.example/seminar", "Outlet B", 12, "aggregate", ["tppo"], KOTA_JAMBI, None),
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("web-stats") / "data"
    settings = settings_for(data_dir)
    documents = []
    with ArticleStore(settings.store_path) as store:
        for url, source, day, relevance, forms, place, _ in ARTICLES:
            article = ExtractedArticle(
                url=url,
                canonical_url=url,
                source=source,
                title=f"Berita {source} {url.rsplit('/', 1)[-1]} di {place.name}",
                text=f"Kasus dilaporkan {source}. Polisi menangani perkara ini.",
                published=datetime(2026, 11, day, 3, 0, tzinfo=UTC),
            )
            store.upsert_article(article)
            tagged = TaggedArticle(
                id=article.id,
                relevance=relevance,
                categories=forms,
                primary_location=place,
                model=ModelInfo(name="test", version="1"),
            )
            stored = store.get_article(article.id)
            assert stored is not None
            store.save_tag(tagged, stored.content_hash)
            documents.append(IndexDocument.from_store(stored, tagged))
        # What the crawl's near-duplicate detection records for the three reports.
        with store.story_transaction():
            for url, *_, story in ARTICLES:
                if story:
                    store._db.execute(
                        "UPDATE articles SET story_id = ? WHERE canonical_url = ?", (story, url)
                    )
    index = open_index(settings)
    try:
        index.upsert(documents)
    finally:
        index.close()
    with Accounts.open(settings) as accounts:
        accounts.add_user("analis", PASSWORD, "analyst")
    return data_dir


@pytest.fixture(scope="module")
def app(data_dir: Path) -> FastAPI:
    return create_app(settings_for(data_dir))


@pytest.fixture
def analyst(app: FastAPI) -> TestClient:
    return login(TestClient(app, base_url="http://127.0.0.1"), "analis", PASSWORD)


def test_a_case_reported_by_three_outlets_counts_once_per_week(analyst: TestClient) -> None:
    stats = analyst.get("/api/stats", params={"period": "week"}).json()
    assert (stats["cases"], stats["articles"]) == (2, 4)
    [week] = stats["buckets"]
    assert week["period"] == WEEK
    assert (week["cases"], week["total"]) == (2, 4)
    # A case's forms are the union of its articles' forms; the article counts stay.
    assert week["cases_by_form"] == {"tppo": 1, "eksploitasi": 1, "kekerasan_seksual": 1}
    assert week["by_form"] == {"tppo": 3, "eksploitasi": 1, "kekerasan_seksual": 1}
    assert stats["case_forms"]["tppo"] == 1 and stats["forms"]["tppo"] == 3
    monthly = analyst.get("/api/stats", params={"period": "month"}).json()
    assert [(b["period"], b["cases"], b["total"]) for b in monthly["buckets"]] == [
        ("2026-11", 2, 4)
    ]
    aggregate = analyst.get("/api/stats", params={"relevance": "aggregate"}).json()
    assert (aggregate["cases"], aggregate["articles"]) == (1, 1)


def test_a_case_counts_once_in_the_place_most_of_its_reports_name(
    analyst: TestClient,
) -> None:
    jambi = analyst.get("/api/stats", params={"region": "15"}).json()
    by_code = {r["code"]: (r["cases"], r["count"]) for r in jambi["regions"]}
    # The TPPO case: two reports say Kota Jambi, one Muaro Jambi → Kota Jambi.
    assert by_code == {"15.71": (1, 2), "15.05": (1, 2)}
    assert jambi["buckets"][0]["cases_by_region"] == {"15.71": 1, "15.05": 1}
    kota = analyst.get("/api/stats", params={"region": "15.71"}).json()
    assert (kota["cases"], kota["case_forms"]) == (1, {"tppo": 1, "eksploitasi": 1})


def test_dashboard_lists_the_case_once_with_its_outlets_and_charts_cases(
    analyst: TestClient,
) -> None:
    page = analyst.get("/").text
    latest = page[page.index('id="latest"') :]
    rows = re.findall(r'<p class="latest" data-story="([^"]+)">(.*?)</p>', latest, re.S)
    assert [story for story, _ in rows] == ["kasus-tppo"]
    assert re.search(r'class="sources">Outlet A, Outlet B, Outlet C<', rows[0][1])
    # The latest report heads the row.
    assert "Outlet C tppo" in rows[0][1]
    weekly = page[page.index('id="chart-weekly"') : page.index('id="chart-regions"')]
    assert f"{WEEK}: TPPO (perdagangan orang) 1</title>" in weekly
    regions = page[page.index('id="chart-regions"') :]
    assert re.search(r">Kota Jambi</text>.*?>1</text>", regions, re.S)


def test_an_analysts_location_correction_moves_the_case(
    analyst: TestClient, data_dir: Path
) -> None:
    """Runs after the tests above: it changes the data. The analyst's place overrules
    the model's places (without the rule the tie of three places would go to the
    earliest report's, Kota Jambi)."""
    with ArticleStore(settings_for(data_dir).store_path) as store:
        second = next(
            s.id
            for s in store.iter_articles()
            if s.article.source == "Outlet B" and s.article.canonical_url.endswith("/tppo")
        )
    token = analyst.get("/api/me").json()["csrf_token"]
    response = analyst.post(
        f"/api/articles/{second}/corrections",
        json={"primary_location": "15.03"},  # Kabupaten Sarolangun
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 201, response.text
    jambi = analyst.get("/api/stats", params={"region": "15"}).json()
    by_code = {r["code"]: (r["cases"], r["count"]) for r in jambi["regions"]}
    assert by_code == {"15.03": (1, 1), "15.05": (1, 2), "15.71": (0, 1)}


def case_article(
    article_id: str,
    day: int | None,
    forms: tuple[str, ...],
    place: str | None,
    forms_corrected: int = 0,
    relevance: str = "incident",
) -> CaseArticle:
    return CaseArticle(
        id=article_id,
        story_id="kasus",
        source=f"Outlet {article_id}",
        published=datetime(2026, 11, day, tzinfo=UTC) if day else None,
        relevance=relevance,
        categories=forms,
        place=place,
        forms_corrected=forms_corrected,
        place_corrected=0,
    )


def test_an_analysts_forms_overrule_the_models_reading_of_a_copy() -> None:
    articles = [
        case_article("a", 10, ("tppo",), "15.71"),
        case_article("b", 11, ("kekerasan_fisik",), "15.05", forms_corrected=7),
        case_article("c", None, ("tppo",), None),
        case_article("d", 9, ("penelantaran",), "15.71", relevance="none"),
    ]
    [case] = cases_of(articles)
    assert case.forms == ("kekerasan_fisik",)
    assert [m.id for m in case.members] == ["a", "b", "c"]  # oldest first, undated last
    assert case.place == "15.71"  # one report each: the earliest report's place
    stats = statistics_of(articles)
    assert (stats.cases, stats.articles, stats.undated_cases, stats.undated) == (1, 3, 0, 1)
    assert stats.case_forms == {"kekerasan_fisik": 1}
    only_undated = statistics_of([case_article("e", None, ("tppo",), None)])
    assert (only_undated.cases, only_undated.undated_cases, only_undated.buckets) == (1, 1, [])
