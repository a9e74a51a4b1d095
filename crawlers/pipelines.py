"""Item pipeline: every extracted article goes into the article store, once."""

from __future__ import annotations

from pathlib import Path

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from pantau.models import ExtractedArticle
from pantau.store import ArticleStore, UpsertOutcome


class ArticleStorePipeline:
    def __init__(self, store_path: Path | None, crawler: Crawler) -> None:
        self.store_path = store_path
        self.crawler = crawler
        self.store: ArticleStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleStorePipeline:
        path = crawler.settings.get("PANTAU_STORE_PATH")
        return cls(Path(path) if path else None, crawler)

    def open_spider(self) -> None:
        if self.store_path is not None:
            self.store = ArticleStore(self.store_path)

    def close_spider(self) -> None:
        if self.store is not None:
            self.store.close()

    def process_item(self, item: ExtractedArticle) -> ExtractedArticle:
        if not item.text.strip():
            self._count("empty")
            raise DropItem(f"no article text at {item.url}")
        if self.store is None:  # `pantau crawl --output`: items go to the feed only
            return item
        outcome = self.store.upsert_article(item)
        self._count(outcome.value)
        if outcome is UpsertOutcome.DUPLICATE:
            raise DropItem(f"same text as a stored article: {item.url}")
        return item

    def _count(self, outcome: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"pantau/articles/{outcome}")
