"""The crawl's writes to the article store, committed in batches.

Every archived page and every extracted article used to be a write transaction of its own
(a commit per page and per article, each taking SQLite's write lock that the story worker
also wants). Now the page archive (crawlers.middlewares) and the store pipeline
(crawlers.pipelines) of every spider of a run hand their writes to one `StoreWriter` per
store file, which commits them together: when `max_items` writes are waiting, when the
oldest has waited `max_wait_s` (a timer checks, so a slow site's articles do not wait for
the end of the crawl), and when a spider closes.

Crash guarantee: what a crawl has "seen" is what the store holds (the articles table:
`ArticleStore.known_urls`), and a batch commits all or nothing. A crawl killed mid-way
loses at most its uncommitted batch, whose articles are not in the store, so the next run
fetches them again; nothing is stored twice (upserts are idempotent) and nothing is lost.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.asyncio import create_looping_call

from pantau.models import ExtractedArticle
from pantau.store import ArticleStore, UpsertOutcome

log = logging.getLogger(__name__)
# Defaults of the PANTAU_WRITE_BATCH / PANTAU_WRITE_BATCH_S settings (crawl.write_batch,
# crawl.write_batch_s in Pantau's configuration).
MAX_ITEMS = 100
MAX_WAIT_S = 0.5

# Called after the batch holding the article committed, with the write's outcome.
OnStored = Callable[[ExtractedArticle, UpsertOutcome], None]


@dataclass
class _Page:
    url: str
    source: str
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _Article:
    item: ExtractedArticle
    on_stored: OnStored


class StoreWriter:
    """Pages and articles waiting for their batch's commit, for one store file."""

    def __init__(self, path: Path, max_items: int = MAX_ITEMS, max_wait_s: float = MAX_WAIT_S):
        self.store = ArticleStore(path)
        self.max_items = max(1, max_items)
        self.max_wait_s = max_wait_s
        self.pending: list[_Page | _Article] = []
        self.oldest: float | None = None  # when the oldest pending write arrived
        self.batches = 0
        self._timer: Any = None
        self._flushing = False

    def start_timer(self) -> None:
        if self._timer is None and self.max_wait_s > 0:
            self._timer = create_looping_call(self.flush_if_due)
            self._timer.start(self.max_wait_s, now=False)

    def save_page(
        self, url: str, source: str, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        self._add(_Page(url, source, status, headers, body))

    def upsert_article(self, item: ExtractedArticle, on_stored: OnStored) -> None:
        self._add(_Article(item, on_stored))

    def _add(self, write: _Page | _Article) -> None:
        if not self.pending:
            self.oldest = time.monotonic()
        self.pending.append(write)
        if len(self.pending) >= self.max_items:
            self.flush()
        else:
            self.flush_if_due()

    def flush_if_due(self) -> None:
        if self.oldest is not None and time.monotonic() - self.oldest >= self.max_wait_s:
            self.flush()

    def flush(self) -> None:
        """Commit every pending write in one transaction, then tell each article's pipeline
        what became of it."""
        if not self.pending or self._flushing:
            return
        self._flushing = True
        batch, self.pending, self.oldest = self.pending, [], None
        try:
            try:
                with self.store.write_batch():
                    outcomes = [self._write(write) for write in batch]
            except Exception:
                # One bad write must not lose the batch: write them one by one, each in its
                # own transaction, and drop (with its reason in the log) only what fails.
                log.exception("batch of %d writes failed; writing them one by one", len(batch))
                outcomes = [self._write_alone(write) for write in batch]
            self.batches += 1
            for write, outcome in zip(batch, outcomes, strict=True):
                if isinstance(write, _Article) and outcome is not None:
                    write.on_stored(write.item, outcome)
        finally:
            self._flushing = False

    def _write(self, write: _Page | _Article) -> UpsertOutcome | None:
        if isinstance(write, _Page):
            self.store.save_page(write.url, write.source, write.status, write.headers, write.body)
            return None
        return self.store.upsert_article(write.item)

    def _write_alone(self, write: _Page | _Article) -> UpsertOutcome | None:
        try:
            with self.store.write_batch():
                return self._write(write)
        except Exception:
            what = write.url if isinstance(write, _Page) else write.item.url
            log.exception("could not store %s", what)
            return None

    def close(self) -> None:
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self._timer = None
        self.flush()
        self.store.close()


# One writer per store file and process, shared by the page archives and pipelines of the
# run's spiders: store path → (writer, users).
_WRITERS: dict[str, tuple[StoreWriter, int]] = {}


def acquire(path: Path, crawler: Crawler) -> StoreWriter:
    key = str(path)
    if key in _WRITERS:
        writer, users = _WRITERS[key]
    else:
        settings = crawler.settings
        writer = StoreWriter(
            path,
            settings.getint("PANTAU_WRITE_BATCH", MAX_ITEMS),
            settings.getfloat("PANTAU_WRITE_BATCH_S", MAX_WAIT_S),
        )
        users = 0
    _WRITERS[key] = (writer, users + 1)
    return writer


def release(path: Path) -> None:
    """One user less; its writes are committed now (a spider closing), and the last user
    closes the writer."""
    key = str(path)
    writer, users = _WRITERS.pop(key)
    if users > 1:
        _WRITERS[key] = (writer, users - 1)
        writer.flush()
    else:
        writer.close()
