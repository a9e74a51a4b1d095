"""Item pipelines: every extracted article goes into the article store once, with its
story cluster; or, for `pantau crawl --output`, into a JSONL file in the contract's
article format."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import IO, Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawlers import store_writer, stories, story_worker
from crawlers.store_writer import StoreWriter
from crawlers.stories import StoryIndex
from crawlers.story_worker import StoryWorker
from pantau.models import ExtractedArticle
from pantau.store import ArticleStore, UpsertOutcome

log = logging.getLogger(__name__)
# One story index per store (or per output file) and process: the spiders of one run crawl
# in parallel, each with its own pipeline, and a story spans their outlets.
_STORY_INDEXES: dict[str, StoryIndex] = {}
# One story worker per store and process, shared by the spiders of the run: store path →
# (worker, pipelines using it).
_WORKERS: dict[str, tuple[StoryWorker, int]] = {}


def story_index(key: str, crawler: Crawler, store: ArticleStore | None) -> StoryIndex:
    if key not in _STORY_INDEXES:
        threshold, window_days = _story_settings(crawler)
        index = StoryIndex(threshold=threshold, window_days=window_days)
        if store is not None:
            story_worker.refresh(index, store)
        _STORY_INDEXES[key] = index
    return _STORY_INDEXES[key]


def _story_settings(crawler: Crawler) -> tuple[float, float]:
    settings = crawler.settings
    return (
        settings.getfloat("PANTAU_STORY_THRESHOLD", 0.2),
        settings.getfloat("PANTAU_STORY_WINDOW_DAYS", 7.0),
    )


class ArticleStorePipeline:
    """Stores each article (new, updated, unchanged or a duplicate, counted for the crawl
    report). New articles get their story from the story worker (crawlers.story_worker), in
    a process of its own; an updated article is re-clustered here, at once (rare)."""

    def __init__(self, store_path: Path | None, crawler: Crawler) -> None:
        self.store_path = store_path
        self.crawler = crawler
        self.writer: StoreWriter | None = None
        # The writer's connection, open until its last user closes (after the last batch).
        self.store: ArticleStore | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleStorePipeline:
        path = crawler.settings.get("PANTAU_STORE_PATH")
        return cls(Path(path) if path else None, crawler)

    def open_spider(self) -> None:
        if self.store_path is None:
            return
        self.writer = store_writer.acquire(self.store_path, self.crawler)
        self.writer.start_timer()
        self.store = self.writer.store
        key = str(self.store_path)
        worker, users = _WORKERS.get(key) or (
            StoryWorker(self.store_path, *_story_settings(self.crawler)),
            0,
        )
        _WORKERS[key] = (worker, users + 1)

    def close_spider(self) -> None:
        if self.writer is None or self.store_path is None:
            return
        self.writer = None
        store_writer.release(self.store_path)  # commits what is pending
        key = str(self.store_path)
        worker, users = _WORKERS.pop(key)
        if users > 1:
            _WORKERS[key] = (worker, users - 1)
        else:
            worker.finish()  # the crawl ends when every article has its story

    def process_item(self, item: ExtractedArticle) -> ExtractedArticle:
        if not item.text.strip():
            self._count("empty")
            raise DropItem(f"no article text at {item.url}")
        if self.writer is not None:
            # Stored with the next batch; counted (new, updated, …) once committed.
            self.writer.upsert_article(item, self._stored)
        return item  # --output: JsonlPipeline writes it

    def _stored(self, item: ExtractedArticle, outcome: UpsertOutcome) -> None:
        self._count(outcome.value)
        if outcome is UpsertOutcome.DUPLICATE:
            log.info("same text as a stored article, not stored again: %s", item.url)
        elif outcome is UpsertOutcome.UPDATED and self.store is not None:
            # Rare (a corrected article): re-clustered here, at once, in a transaction of
            # its own after the batch's.
            index = story_index(str(self.store_path), self.crawler, self.store)
            story_worker.assign(index, self.store, item.id, item)

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
        minhash = stories.signature(item.title, item.text)
        story_id = self.stories.assign(item.id, minhash, item.published).story_id
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
