"""The dashboard and /api/stats read the labels once per change of the store (the labels
generation, migration 7) and never show stale numbers: a correction, a tag or a story
change made by any connection shows in the very next response; a crawl that only adds
articles leaves the cache alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pantau.models import ExtractedArticle, ModelInfo, Region, TaggedArticle
from pantau.store import ArticleStore
from tests.web_fixtures import login, settings_for
from web import service
from web.accounts import Accounts
from web.app import create_app
from web.stats_cache import StatsCache

PASSWORD = "kata-sandi-cache-1"
KOTA_JAMBI = Region(name="Kota Jambi", code="15.71", level="kabupaten_kota", province_code="15")


def article(n: int, text: str = "Polisi menangani kasus") -> ExtractedArticle:
    url = f"https://cache.example/berita-{n}"
    return ExtractedArticle(
        url=url,
        canonical_url=url,
        source="Outlet Cache",
        title=f"Berita {n}",
        text=f"{text} nomor {n}.",
        published=datetime(2026, 11, 10, 3, 0, tzinfo=UTC),
    )


def tag(store: ArticleStore, article_id: str, relevance: str = "incident") -> None:
    stored = store.get_article(article_id)
    assert stored is not None
    tagged = TaggedArticle(
        id=article_id,
        relevance=relevance,
        categories=["tppo"],
        primary_location=KOTA_JAMBI,
        model=ModelInfo(name="test", version="1"),
    )
    store.save_tag(tagged, stored.content_hash)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """Two tagged incident articles, one analyst."""
    data_dir = tmp_path / "data"
    settings = settings_for(data_dir)
    with ArticleStore(settings.store_path) as store:
        for n in (1, 2):
            store.upsert_article(article(n))
            tag(store, article(n).id)
    with Accounts.open(settings) as accounts:
        accounts.add_user("analis", PASSWORD, "analyst")
    return data_dir


@pytest.fixture
def store(data_dir: Path) -> Iterator[ArticleStore]:
    with ArticleStore(settings_for(data_dir).store_path) as opened:
        yield opened


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the reads of every tagged article's labels (the slow part; the dashboard's
    latest cases read a few stories' labels besides, not counted)."""
    calls: list[int] = []
    original = service.load_case_articles

    def counting(
        db: Any, corrections: Any, stories: list[str] | None = None
    ) -> list[service.CaseArticle]:
        if stories is None:
            calls.append(1)
        return original(db, corrections, stories)

    monkeypatch.setattr(service, "load_case_articles", counting)
    return calls


@pytest.fixture
def analyst(data_dir: Path) -> TestClient:
    app = create_app(settings_for(data_dir))
    return login(TestClient(app, base_url="http://127.0.0.1"), "analis", PASSWORD)


def changes_generation(store: ArticleStore, change: Callable[[], object]) -> bool:
    before = store.labels_generation()
    change()
    return store.labels_generation() != before


def test_the_generation_changes_with_every_input_of_the_statistics(
    store: ArticleStore, data_dir: Path
) -> None:
    first, second = article(1).id, article(2).id
    # Another connection (another process: `pantau tag`, the crawl) writes; this one sees it.
    with ArticleStore(store.path) as other:
        new = article(3)
        other.upsert_article(new)
        assert changes_generation(store, lambda: tag(other, new.id))  # a new tag
        assert changes_generation(store, lambda: tag(other, first, relevance="none"))  # re-tag
        assert changes_generation(  # a story change (the crawl's near-duplicate detection)
            store, lambda: other.save_story(second, "kasus-1", b"sig", [])
        )
        assert changes_generation(  # a new text: the old tag no longer counts
            store, lambda: other.upsert_article(article(2, text="Berita diperbarui"))
        )
    with Accounts.open(settings_for(data_dir)) as accounts:
        assert changes_generation(  # an analyst's correction
            store, lambda: accounts.add_correction(first, "analis", {"relevance": "none"}, None)
        )


def test_a_crawl_that_only_adds_articles_keeps_the_generation(store: ArticleStore) -> None:
    def crawl() -> None:
        with store.write_batch():
            for n in range(10, 20):
                page = article(n)
                store.save_page(page.url, page.source, 200, {}, b"<html></html>")
                store.upsert_article(page)
        for n in range(10, 20):  # untagged articles joining a story
            store.save_story(article(n).id, "kasus-crawl", b"sig", [])
        store.upsert_article(article(1))  # re-fetched, unchanged

    assert not changes_generation(store, crawl)


def test_a_correction_shows_in_the_very_next_stats_response(
    analyst: TestClient, store: ArticleStore, loads: list[int]
) -> None:
    assert analyst.get("/api/stats").json()["articles"] == 2
    token = analyst.get("/api/me").json()["csrf_token"]
    response = analyst.post(
        f"/api/articles/{article(1).id}/corrections",
        json={"relevance": "none"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 201, response.text
    assert analyst.get("/api/stats").json()["articles"] == 1
    # A tag written by another process (`pantau tag`) shows at once too.
    new = article(3)
    store.upsert_article(new)
    tag(store, new.id)
    stats = analyst.get("/api/stats").json()
    assert (stats["articles"], stats["cases"]) == (2, 2)
    assert len(loads) == 3  # one read per change, none per request


def test_requests_without_a_change_read_the_labels_once(
    analyst: TestClient, loads: list[int]
) -> None:
    first = analyst.get("/api/stats").json()
    assert analyst.get("/api/stats").json() == first
    monthly = analyst.get("/api/stats", params={"period": "month"}).json()
    assert monthly["articles"] == first["articles"] == 2
    page = analyst.get("/")
    assert page.status_code == 200
    assert len(loads) == 1


def test_concurrent_requests_for_a_new_generation_compute_once(
    store: ArticleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    original = service.load_case_articles

    def slow(*args: Any, **kwargs: Any) -> list[service.CaseArticle]:
        calls.append(1)
        time.sleep(0.2)  # long enough for the other threads to arrive meanwhile
        return original(*args, **kwargs)

    monkeypatch.setattr(service, "load_case_articles", slow)
    cache = StatsCache()
    found: list[int] = []

    def request() -> None:
        # Each thread its own connection, as the web app's threads have.
        with ArticleStore(store.path) as own:
            found.append(cache.statistics(cache.snapshot(own, own._db)).articles)

    threads = [threading.Thread(target=request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (found, len(calls)) == ([2, 2, 2, 2], 1)
