from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pantau.models import ExtractedArticle, ModelInfo, TaggedArticle
from pantau.store import MIGRATIONS, ArticleStore, UpsertOutcome

WIB = timezone(timedelta(hours=7))


def article(
    url: str = "https://news.example/read/1/a", text: str = "Isi berita."
) -> ExtractedArticle:
    return ExtractedArticle(
        url=url,
        canonical_url=url,
        source="Jambi Ekspres",
        title="Judul",
        text=text,
        published=datetime(2026, 11, 18, 9, 15, tzinfo=WIB),
        tags=["tppo"],
    )


@pytest.fixture
def store(tmp_path: Path) -> ArticleStore:
    with ArticleStore(tmp_path / "pantau.sqlite") as opened:
        yield opened  # type: ignore[misc]


def test_new_file_is_migrated_to_the_latest_schema_in_wal_mode(store: ArticleStore) -> None:
    assert store.schema_version == len(MIGRATIONS)
    mode = sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_upsert_is_idempotent_and_tracks_revisions(store: ArticleStore) -> None:
    assert store.upsert_article(article()) is UpsertOutcome.NEW
    assert store.upsert_article(article()) is UpsertOutcome.UNCHANGED
    assert (
        store.upsert_article(article(text="Isi berita yang diperbarui.")) is UpsertOutcome.UPDATED
    )
    stored = store.get_article(article().id)
    assert stored is not None
    assert stored.revision == 2
    assert stored.article.text == "Isi berita yang diperbarui."
    assert stored.article.published == datetime(2026, 11, 18, 9, 15, tzinfo=WIB)
    assert store.count_articles() == 1


def test_same_text_under_another_url_is_a_duplicate_and_not_stored(store: ArticleStore) -> None:
    store.upsert_article(article())
    outcome = store.upsert_article(article(url="https://news.example/read/2/copy"))
    assert outcome is UpsertOutcome.DUPLICATE
    assert store.count_articles() == 1


def test_article_id_is_stable_for_a_canonical_url() -> None:
    assert article().id == article(text="other").id
    assert article().id != article(url="https://news.example/read/2/b").id


def test_pages_are_kept_compressed_and_read_back(store: ArticleStore) -> None:
    html = "<html><body>" + "kata " * 2000 + "</body></html>"
    store.save_page(
        "https://news.example/p", "x", 200, {"Content-Type": "text/html"}, html.encode()
    )
    page = store.get_page("https://news.example/p")
    assert page is not None and page.html.decode() == html
    raw = sqlite3.connect(store.path).execute("SELECT length(body) FROM pages").fetchone()[0]
    assert raw < len(html) / 10


def test_tags_are_redone_when_text_or_model_changes(store: ArticleStore) -> None:
    store.upsert_article(article())
    stored = store.get_article(article().id)
    assert stored is not None
    assert [a.id for a in store.articles_to_tag("rules", "1")] == [stored.id]
    tagged = TaggedArticle(
        id=stored.id, relevance="none", model=ModelInfo(name="rules", version="1")
    )
    store.save_tag(tagged, stored.content_hash)
    assert list(store.articles_to_tag("rules", "1")) == []
    assert [a.id for a in store.articles_to_tag("rules", "2")] == [stored.id]
    store.upsert_article(article(text="Teks baru."))
    assert [a.id for a in store.articles_to_tag("rules", "1")] == [stored.id]
    assert list(store.iter_tagged()) == []  # the tag belongs to the old text


def test_a_store_from_a_newer_pantau_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pantau.sqlite"
    ArticleStore(path).close()
    sqlite3.connect(path).execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer than this Pantau"):
        ArticleStore(path)


def test_interrupted_write_leaves_nothing_half_done(store: ArticleStore) -> None:
    class Boom(KeyboardInterrupt):
        pass

    original = store._article_values

    def explode(value: ExtractedArticle) -> tuple[object, ...]:
        raise Boom

    store._article_values = explode  # type: ignore[method-assign]
    with pytest.raises(Boom):
        store.upsert_article(article())
    store._article_values = original  # type: ignore[method-assign]
    assert store.count_articles() == 0
    assert store.upsert_article(article()) is UpsertOutcome.NEW
