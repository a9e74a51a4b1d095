"""Item pipelines: every extracted article goes into the article store once, with its
story cluster; or, for `pantau crawl --output`, into a JSONL file in the contract's
article format."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawlers import stories
from crawlers.stories import StoryIndex
from pantau.models import ExtractedArticle
from pantau.store import ArticleStore, UpsertOutcome

log = logging.getLogger(__name__)
# One story index per store (or per output file) and process: the spiders of one run crawl
# in parallel, each with its own pipeline, and a story spans their outlets.
_STORY_INDEXES: dict[str, StoryIndex] = {}


def story_index(key: str, crawler: Crawler, store: ArticleStore | None) -> StoryIndex:
    if key not in _STORY_INDEXES:
        settings = crawler.settings
        index = StoryIndex(
            threshold=settings.getfloat("PANTAU_STORY_THRESHOLD", 0.2),
            window_days=settings.getfloat("PANTAU_STORY_WINDOW_DAYS", 7.0),
        )
        if store is not None:
            _load(index, store)
        _STORY_INDEXES[key] = index
    return _STORY_INDEXES[key]


def _load(index: StoryIndex, store: ArticleStore) -> None:
    _refresh(index, store)
    # Articles stored before clustering existed, or by a crawl killed between storing an
    # article and its signature: cluster them now.
    for stored in store.articles_without_signature():
        _assign(index, store, stored.id, stored.article)


def _refresh(index: StoryIndex, store: ArticleStore) -> None:
    """Signatures saved since the last look, by this process or by crawls of other sources
    running in parallel processes (`pantau run` crawls each source in a child)."""
    for row, article_id, story, published, blob in store.iter_signatures(index.watermark):
        when = datetime.fromisoformat(published) if published else None
        index.load(article_id, stories.from_bytes(blob), when, story)
        index.watermark = max(index.watermark, row)


def _assign(
    index: StoryIndex, store: ArticleStore | None, article_id: str, article: ExtractedArticle
) -> str:
    minhash = stories.signature(article.title, article.text)
    if store is None:
        return index.assign(article_id, minhash, article.published).story_id
    with store.story_transaction():
        _refresh(index, store)
        assignment = index.assign(article_id, minhash, article.published)
        store.save_story(
            article_id, assignment.story_id, stories.to_bytes(minhash), assignment.merged
        )
    return assignment.story_id


class ArticleStorePipeline:
    def __init__(self, store_path: Path | None, crawler: Crawler) -> None:
        self.store_path = store_path
        self.crawler = crawler
        self.store: ArticleStore | None = None
        self.stories: StoryIndex | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleStorePipeline:
        path = crawler.settings.get("PANTAU_STORE_PATH")
        return cls(Path(path) if path else None, crawler)

    def open_spider(self) -> None:
        if self.store_path is not None:
            self.store = ArticleStore(self.store_path)
            self.stories = story_index(str(self.store_path), self.crawler, self.store)

    def close_spider(self) -> None:
        if self.store is not None:
            self.store.close()

    def process_item(self, item: ExtractedArticle) -> ExtractedArticle:
        if not item.text.strip():
            self._count("empty")
            raise DropItem(f"no article text at {item.url}")
        if self.store is None or self.stories is None:  # --output: JsonlPipeline writes it
            return item
        outcome = self.store.upsert_article(item)
        self._count(outcome.value)
        if outcome is UpsertOutcome.DUPLICATE:
            raise DropItem(f"same text as a stored article: {item.url}")
        if outcome in (UpsertOutcome.NEW, UpsertOutcome.UPDATED):
            _assign(self.stories, self.store, item.id, item)
        return item

    def _count(self, outcome: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"pantau/articles/{outcome}")


class JsonlPipeline:
    """`pantau crawl --output FILE`: one line per article in the input format of
    contracts/article.schema.json (id, title, text, url, published, source, language), plus
    author, editor, updated, category, tags, pages and story_id. Exact duplicates (same
    text under another URL) are written once."""

    def __init__(self, path: Path | None, crawler: Crawler) -> None:
        self.path = path
        self.crawler = crawler
        self.handle: IO[str] | None = None
        self.stories: StoryIndex | None = None
        self.seen_hashes: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JsonlPipeline:
        path = crawler.settings.get("PANTAU_OUTPUT_PATH")
        return cls(Path(path) if path else None, crawler)

    def open_spider(self) -> None:
        if self.path is not None:
            # The runner truncated the file; several spiders of one run append to it.
            self.handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
            self.stories = story_index(f"output:{self.path}", self.crawler, None)

    def close_spider(self) -> None:
        if self.handle is not None:
            self.handle.close()

    def process_item(self, item: ExtractedArticle) -> ExtractedArticle:
        if self.handle is None or self.stories is None:
            return item
        if item.content_hash in self.seen_hashes:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("pantau/articles/duplicate")
            raise DropItem(f"same text as an article already written: {item.url}")
        self.seen_hashes.add(item.content_hash)
        story_id = _assign(self.stories, None, item.id, item)
        self.handle.write(json.dumps(jsonl_record(item, story_id), ensure_ascii=False) + "\n")
        self.handle.flush()
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("pantau/articles/new")
        return item


def jsonl_record(item: ExtractedArticle, story_id: str) -> dict[str, Any]:
    record: dict[str, Any] = item.to_article_in().model_dump(exclude_none=True)
    record.update(
        author=item.author,
        editor=item.editor,
        updated=item.updated.isoformat() if item.updated else None,
        category=item.category,
        tags=item.tags,
        pages=item.pages,
        story_id=story_id,
    )
    return record
