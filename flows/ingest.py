"""The ingest pipeline: crawl → tag → index, each stage idempotent and keyed, so a re-run
after a crash finishes the work without doing anything twice.

The stages are plain functions over the article store and the index; the Prefect flows
compose them (and `pantau run` runs them once).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from crawlers.runner import SourceReport, run_crawl
from index import open_index
from index.base import IndexDocument, SearchIndex
from nlp.tagger import RuleTagger
from pantau.config import Settings, SourceConfig
from pantau.store import ArticleStore

log = logging.getLogger(__name__)
INDEX_BATCH = 200


@dataclass
class TagSummary:
    tagged: int = 0
    failed: int = 0
    by_relevance: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass
class IndexSummary:
    indexed: int = 0
    removed: int = 0
    total: int = 0


@dataclass
class RunSummary:
    run_id: int
    sources: list[SourceReport]
    tagging: TagSummary
    indexing: IndexSummary
    seconds: float

    @property
    def failed_sources(self) -> list[SourceReport]:
        return [report for report in self.sources if report.status == "failed"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "sources": [report.model_dump() for report in self.sources],
            "tagging": self.tagging.__dict__,
            "indexing": self.indexing.__dict__,
            "seconds": round(self.seconds, 2),
        }


def tag_pending(store: ArticleStore, tagger: RuleTagger | None = None) -> TagSummary:
    """Tag every article that has no tag from this model for its current text."""
    tagger = tagger or RuleTagger()
    summary = TagSummary()
    pending = list(store.articles_to_tag(tagger.name, tagger.version))
    if pending:
        log.info("tagging %d articles with %s %s", len(pending), tagger.name, tagger.version)
    for number, stored in enumerate(pending, start=1):
        try:
            tagged = tagger.tag(stored.article.to_article_in().model_copy(update={"id": stored.id}))
        except Exception as exc:  # one bad article must not stop the others
            summary.failed += 1
            summary.errors.append(f"{stored.id}: {exc}")
            log.warning("could not tag %s (%s): %s", stored.id, stored.article.url, exc)
            continue
        store.save_tag(tagged, stored.content_hash)
        summary.tagged += 1
        summary.by_relevance[tagged.relevance] = summary.by_relevance.get(tagged.relevance, 0) + 1
        for category in tagged.categories:
            summary.by_category[category] = summary.by_category.get(category, 0) + 1
        if number % 500 == 0:
            log.info("tagged %d of %d", number, len(pending))
    return summary


def index_pending(store: ArticleStore, index: SearchIndex) -> IndexSummary:
    """Bring the index in line with the store: add or replace what changed, drop what is gone."""
    indexed_versions = index.versions()
    summary = IndexSummary()
    batch: list[IndexDocument] = []
    current: set[str] = set()
    for stored, tagged in store.iter_tagged():
        document = IndexDocument.from_store(stored, tagged)
        current.add(document.id)
        if indexed_versions.get(document.id) == document.version:
            continue
        batch.append(document)
        if len(batch) >= INDEX_BATCH:
            summary.indexed += index.upsert(batch)
            batch = []
    if batch:
        summary.indexed += index.upsert(batch)
    stale = [doc_id for doc_id in indexed_versions if doc_id not in current]
    if stale:
        summary.removed = index.delete(stale)
    summary.total = index.count()
    return summary


def ingest(settings: Settings, sources: list[SourceConfig], kind: str = "run") -> RunSummary:
    """crawl → tag → index once for the given sources, recorded as a run in the store."""
    started = time.monotonic()
    with ArticleStore(settings.store_path) as store:
        run_id = store.start_run(kind)
    reports = run_crawl(settings, sources)
    with ArticleStore(settings.store_path) as store:
        tagging = tag_pending(store)
        index = open_index(settings)
        try:
            indexing = index_pending(store, index)
        finally:
            index.close()
        summary = RunSummary(run_id, reports, tagging, indexing, time.monotonic() - started)
        status = "failed" if summary.failed_sources else "ok"
        store.finish_run(run_id, status, summary.as_dict())
    return summary
