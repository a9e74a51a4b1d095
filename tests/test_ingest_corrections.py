"""An analyst's correction outlives re-tagging: the index keeps showing the corrected labels."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from flows.ingest import index_pending, tag_pending
from index.base import IndexDocument, SearchRequest
from index.embedded import EmbeddedIndex
from nlp.tagger import RuleTagger
from pantau.models import ArticleIn, ExtractedArticle, TaggedArticle
from pantau.store import ArticleStore
from web.accounts import Accounts

ARTICLE = ExtractedArticle(
    url="http://127.0.0.1/kriminal/ayah-tiri",
    canonical_url="http://127.0.0.1/kriminal/ayah-tiri",
    source="Jambi Ekspres",
    title="Ayah Tiri Cabuli Anak di Bawah Umur di Kota Jambi",
    text=(
        "JAMBI - Polresta Jambi menangkap seorang ayah tiri yang mencabuli anak tirinya "
        "yang masih berusia 12 tahun. Korban melapor kepada ibunya, lalu keluarga "
        "melaporkan pelaku ke polisi pada Senin (9/11)."
    ),
)


class RetrainedTagger(RuleTagger):
    """The same rules under a new version, as after a model update: everything re-tags."""

    def tag(self, article: ArticleIn) -> TaggedArticle:
        tagged = super().tag(article)
        return tagged.model_copy(update={"model": self.model_info})

    @property
    def version(self) -> str:  # type: ignore[override]
        return "retrained"

    @version.setter
    def version(self, value: str) -> None:
        pass


def indexed_relevance(index: EmbeddedIndex) -> list[str]:
    result = index.search(SearchRequest(q="ayah tiri"))
    return [hit.relevance for hit in result.hits]


def test_correction_survives_retagging_and_reindexing(tmp_path: Path) -> None:
    store_path = tmp_path / "pantau.sqlite"
    with ArticleStore(store_path) as store:
        store.upsert_article(ARTICLE)
        assert tag_pending(store).tagged == 1
        index = EmbeddedIndex(tmp_path / "index.sqlite")
        index_pending(store, index)
        assert indexed_relevance(index) == ["incident"]

    accounts = Accounts(store_path, key=b"k" * 32)
    accounts.add_correction(ARTICLE.id, "analis", {"relevance": "aggregate"}, "bukan kasus baru")

    with ArticleStore(store_path) as store:
        assert tag_pending(store, RetrainedTagger()).tagged == 1
        assert store.get_tag(ARTICLE.id).model.version == "retrained"  # type: ignore[union-attr]
        index_pending(store, index)
    assert indexed_relevance(index) == ["aggregate"]
    index.close()


class LoadRecordingIndex(EmbeddedIndex):
    """The embedded index, noting when a bulk load starts and ends around its upserts."""

    events: list[str]

    def bulk_load(self) -> AbstractContextManager[None]:
        @contextmanager
        def recording() -> Iterator[None]:
            self.events.append("load starts")
            yield
            self.events.append("load ends")

        return recording()

    def upsert(self, documents: list[IndexDocument]) -> int:
        self.events.append(f"upsert {len(documents)}")
        return super().upsert(documents)


def test_a_long_backlog_is_indexed_as_one_bulk_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A first indexing or a backfill (Elasticsearch then defers refreshes); a normal run's
    few articles are not."""
    monkeypatch.setattr("flows.ingest.BULK_LOAD_FROM", 3)
    monkeypatch.setattr("flows.ingest.INDEX_BATCH", 2)
    with ArticleStore(tmp_path / "pantau.sqlite") as store:
        for n in range(5):
            store.upsert_article(
                ARTICLE.model_copy(
                    update={
                        "url": f"{ARTICLE.url}-{n}",
                        "canonical_url": f"{ARTICLE.url}-{n}",
                        "text": f"{ARTICLE.text} Berita ke-{n}.",  # not a duplicate
                    }
                )
            )
        tag_pending(store)
        index = LoadRecordingIndex(tmp_path / "index.sqlite")
        index.events = []
        assert index_pending(store, index).indexed == 5
        assert index.events == ["load starts", "upsert 2", "upsert 2", "upsert 1", "load ends"]

        store.upsert_article(ARTICLE)  # one new article: no bulk load
        tag_pending(store)
        index.events = []
        assert index_pending(store, index).indexed == 1
        assert index.events == ["upsert 1"]
        index.close()
