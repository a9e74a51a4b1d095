"""The dashboard's and /api/stats' inputs, read once per change of the store's labels.

Reading every tagged article's labels (`service.load_case_articles`) takes 0.6–0.9 s at
50,000 articles; the dashboard and /api/stats used to do it on every request. The store
keeps a labels generation (`ArticleStore.labels_generation`, migration 7): SQLite triggers
change it whenever tags, corrections or a tagged article's story, source, date or text
change, whichever process writes. A request reads the generation first and reuses what
was computed for the same (store, generation); so numbers are never older than the
generation read at the start of the request, and a correction shows in the very next
response. The generation is read before the labels: a write in between makes the cached
labels newer than their key, never older, and the next request recomputes.

One cache per web process (`Resources`); a lock makes concurrent requests for a new
generation compute once (the others wait and reuse the result). What it hands out is
shared between requests: read it, never change it.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

from pantau.store import ArticleStore
from web import service

# Distinct (period, relevance, region) answers kept per generation; `region` comes from
# the query string, so the number of keys is bounded here, not by the API.
MAX_STATS_PER_GENERATION = 64


@dataclass(frozen=True)
class LabelsSnapshot:
    """The statistics' inputs at one labels generation of one store."""

    store_path: str
    generation: int
    corrections: dict[str, list[dict[str, Any]]]
    articles: list[service.CaseArticle]
    stats: dict[tuple[str, str, str | None], service.Stats] = field(default_factory=dict)


class StatsCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: LabelsSnapshot | None = None

    def snapshot(self, store: ArticleStore, db: sqlite3.Connection) -> LabelsSnapshot:
        """The corrections and case articles of the store's current labels generation.

        `store` and `db` are the calling thread's connections to the same file (`db` reads
        the articles, as the routes always did)."""
        with self._lock:
            return self._current(store, db)

    def statistics(
        self,
        snapshot: LabelsSnapshot,
        period: str = "week",
        relevance: str = "incident",
        region: str | None = None,
    ) -> service.Stats:
        """`service.statistics_of` of a snapshot's labels, computed once per snapshot (a
        page that shows several statistics takes them all from one snapshot)."""
        with self._lock:
            key = (period, relevance, region)
            found = snapshot.stats.get(key)
            if found is None:
                found = service.statistics_of(snapshot.articles, period, relevance, region)
                if len(snapshot.stats) >= MAX_STATS_PER_GENERATION:
                    snapshot.stats.pop(next(iter(snapshot.stats)))  # the oldest entry
                snapshot.stats[key] = found
            return found

    def _current(self, store: ArticleStore, db: sqlite3.Connection) -> LabelsSnapshot:
        # Under the lock. The generation first, then the labels (see the module's doc).
        path = str(store.path)
        generation = store.labels_generation()
        cached = self._snapshot
        if cached is not None and (cached.store_path, cached.generation) == (path, generation):
            return cached
        corrections = store.label_corrections()
        # Through the module, so tests can count the loads.
        articles = service.load_case_articles(db, corrections)
        self._snapshot = LabelsSnapshot(path, generation, corrections, articles)
        return self._snapshot
