"""The ingest pipeline: crawl → tag → index, each stage idempotent and keyed, so a re-run
after a crash finishes the work without doing anything twice.

The stages are plain functions over the article store and the index; the Prefect flows
compose them (and `pantau run` runs them once).
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from crawlers.runner import SourceReport, run_crawl
from index import open_index
from index.base import IndexDocument, SearchIndex
from nlp.tagger import RuleTagger
from pantau.config import Settings, SourceConfig
from pantau.store import ArticleStore
from web.service import apply_corrections

log = logging.getLogger(__name__)
# Documents per upsert: enough for the analysis pool (index/analysis_pool.py) and
# Elasticsearch's 2,000-document bulks, few enough to hold in memory (~6 KB each).
INDEX_BATCH = 2_000
# A backlog this long is a bulk load (a first indexing, a backfill, a new cluster).
BULK_LOAD_FROM = 10_000


@dataclass
class TagSummary:
    tagged: int = 0
    failed: int = 0
    by_relevance: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    # Incidents only (relevance "incident"): what the task force counts.
    incidents_by_form: dict[str, int] = field(default_factory=dict)
    incidents_by_region: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, other: TagSummary) -> None:
        """Fold another summary (of another source) into this one."""
        self.tagged += other.tagged
        self.failed += other.failed
        for mine, theirs in (
            (self.by_relevance, other.by_relevance),
            (self.by_category, other.by_category),
            (self.incidents_by_form, other.incidents_by_form),
            (self.incidents_by_region, other.incidents_by_region),
        ):
            for key, count in theirs.items():
                mine[key] = mine.get(key, 0) + count
        self.errors.extend(other.errors)


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
    # What the flows add to the record (per-source durations and tagging, errors, flow run).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed_sources(self) -> list[SourceReport]:
        return [report for report in self.sources if report.status == "failed"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "sources": [report.model_dump() for report in self.sources],
            "tagging": self.tagging.__dict__,
            "indexing": self.indexing.__dict__,
            "seconds": round(self.seconds, 2),
            **self.extra,
        }


def tag_pending(
    store: ArticleStore, tagger: RuleTagger | None = None, source: str | None = None
) -> TagSummary:
    """Tag every article that has no tag from this model for its current text (of one
    source, by its label, when given: the flow tags each source as its crawl ends)."""
    tagger = tagger or RuleTagger()
    summary = TagSummary()
    pending = [
        stored
        for stored in store.articles_to_tag(tagger.name, tagger.version)
        if source is None or stored.article.source == source
    ]
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
        if tagged.relevance == "incident":
            for category in tagged.categories:
                forms = summary.incidents_by_form
                forms[category] = forms.get(category, 0) + 1
            place = tagged.primary_location
            region = f"{place.name} ({place.code})" if place and place.code else "unknown"
            regions = summary.incidents_by_region
            regions[region] = regions.get(region, 0) + 1
        if number % 500 == 0:
            log.info("tagged %d of %d", number, len(pending))
    return summary


def index_pending(store: ArticleStore, index: SearchIndex) -> IndexSummary:
    """Bring the index in line with the store: add or replace what changed, drop what is gone.

    Work goes through the store's index outbox (filled when an article is tagged), so what
    was tagged while the search cluster was down is indexed on the next run. The outbox is
    first topped up with every article whose indexed version differs (an index rebuilt or
    pointed at a new cluster), then drained in batches; an entry leaves the outbox only once
    the index has taken that version. Upserts are keyed by article id, so re-sending a batch
    after a failure indexes nothing twice.
    """
    from pantau.store import index_version

    indexed_versions = index.versions()  # the cluster down: raise, the outbox keeps the work
    summary = IndexSummary()
    current: dict[str, str] = {}
    for stored, tagged in store.iter_tagged():
        current[stored.id] = index_version(
            stored.content_hash, tagged.model.name, tagged.model.version
        )
    store.enqueue_index(
        [(doc_id, v) for doc_id, v in current.items() if indexed_versions.get(doc_id) != v]
    )
    # Analysts' corrections outlive re-tagging: the index shows the corrected labels.
    corrections = store.label_corrections()
    backlog = store.outbox_status()["queued"]
    with index.bulk_load() if backlog >= BULK_LOAD_FROM else nullcontext():
        summary.indexed, rejected = _drain_outbox(store, index, corrections)
    for doc_id, reason in list(rejected.items())[:20]:
        log.warning("index rejected article %s: %s (kept in the outbox)", doc_id, reason)
    stale = [doc_id for doc_id in indexed_versions if doc_id not in current]
    if stale:
        summary.removed = index.delete(stale)
    summary.total = index.count()
    return summary


def _drain_outbox(
    store: ArticleStore, index: SearchIndex, corrections: dict[str, list[dict[str, Any]]]
) -> tuple[int, dict[str, str]]:
    """Index the outbox in batches: how many were indexed, and the rejected ones (id ->
    reason), which stay in the outbox for the next run."""
    from index.base import RejectedDocuments

    indexed = 0
    rejected: dict[str, str] = {}
    after = ""
    while entries := store.outbox(INDEX_BATCH, after):
        after = entries[-1][0]
        documents = []
        for article_id, _ in entries:
            found = store.tagged_article(article_id)
            if found is not None:  # gone or untagged: removed below, as stale
                stored, tagged = found
                if article_id in corrections:
                    tagged = apply_corrections(tagged, corrections[article_id])
                documents.append(IndexDocument.from_store(stored, tagged))
        failed: dict[str, str] = {}
        try:
            indexed += index.upsert(documents) if documents else 0
        except RejectedDocuments as exc:
            indexed += len(exc.indexed)
            failed = exc.rejected
        except Exception as exc:
            store.outbox_failed({article_id: str(exc) for article_id, _ in entries})
            raise
        store.outbox_failed(failed)
        store.outbox_done([entry for entry in entries if entry[0] not in failed])
        rejected |= failed
    return indexed, rejected


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
