"""An analyst's correction outlives re-tagging: the index keeps showing the corrected labels."""

from __future__ import annotations

from pathlib import Path

from flows.ingest import index_pending, tag_pending
from index.base import SearchRequest
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
