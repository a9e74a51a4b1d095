"""Story clustering against the article store, and the child process that does it beside a
crawl.

Clustering an article (its MinHash signature, the LSH look-up, the signature saved) costs
about as much CPU as fetching and parsing its page, and Scrapy runs on one core. So the
crawl only stores articles; a worker process started with the crawl gives every article
without a signature its story, in the order the articles were stored, until the crawl asks
it to finish (a line or end-of-file on its stdin: a crawl killed mid-way also ends it, once
it has caught up). Every assignment is one write transaction that first reads the
signatures other processes saved, so crawls and workers in parallel processes see each
other's articles; an article clustered elsewhere meanwhile is skipped.

    python -m crawlers.story_worker STORE THRESHOLD WINDOW_DAYS
"""

from __future__ import annotations

import logging
import os
import select
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import IO

from crawlers import stories
from crawlers.stories import StoryIndex
from pantau.models import ExtractedArticle
from pantau.store import ArticleStore

log = logging.getLogger(__name__)
# Seconds the worker lets new articles gather before looking again: each look reads the id
# of every stored article, so looking for one or two new articles at a time cost more than
# clustering them.
POLL_S = 0.2
# A look that found at least this many articles is followed by another at once.
BACKLOG = 50
# Articles assigned in one write transaction.
BATCH = 100


def refresh(index: StoryIndex, store: ArticleStore) -> None:
    """Signatures saved since the last look, by this process or by others (the crawls of
    other sources, their workers)."""
    for row, article_id, story, published, blob in store.iter_signatures(index.watermark):
        when = datetime.fromisoformat(published) if published else None
        index.load(article_id, stories.from_bytes(blob), when, story)
        index.watermark = max(index.watermark, row)


def assign(
    index: StoryIndex, store: ArticleStore, article_id: str, article: ExtractedArticle
) -> str:
    """Cluster one article and save its story."""
    minhash = stories.signature(article.title, article.text)
    with store.story_transaction():
        refresh(index, store)
        return _save(index, store, article_id, minhash, article.published)


def _save(
    index: StoryIndex,
    store: ArticleStore,
    article_id: str,
    minhash: stories.Signature,
    published: datetime | None,
) -> str:
    """Assign and save, inside the store's write transaction, after a refresh."""
    assignment = index.assign(article_id, minhash, published)
    row = store.save_story(
        article_id, assignment.story_id, stories.to_bytes(minhash), assignment.merged
    )
    # The index holds this signature already and, inside the write transaction, no other
    # process saved one since the refresh: the next refresh need not read it back.
    index.watermark = max(index.watermark, row)
    return assignment.story_id


def cluster_pending(index: StoryIndex, store: ArticleStore) -> int:
    """Give every stored article without a signature its story; how many there were.

    The signatures are computed first, outside the store's write lock; then each batch is
    assigned and saved in one short write transaction, so the crawl, writing articles
    meanwhile, seldom finds the store locked (one transaction per article held the lock
    often enough to leave the crawler waiting a fifth of the time)."""
    pending = store.articles_without_signature()
    for start in range(0, len(pending), BATCH):
        batch = [
            (s.id, stories.signature(s.article.title, s.article.text), s.article.published)
            for s in pending[start : start + BATCH]
        ]
        with store.story_transaction():
            refresh(index, store)
            for article_id, minhash, published in batch:
                if article_id not in index:  # else clustered meanwhile by another process
                    _save(index, store, article_id, minhash, published)
    return len(pending)


def run(store_path: Path, threshold: float, window_days: float, stop: IO[str]) -> None:
    with ArticleStore(store_path) as store:
        index = StoryIndex(threshold=threshold, window_days=window_days)
        refresh(index, store)
        stopping = False
        while True:
            found = cluster_pending(index, store)
            if stopping:
                if not found:
                    return  # asked to finish, and nothing left
                continue
            if found >= BACKLOG:
                continue
            ready, _, _ = select.select([stop], [], [], POLL_S)
            if ready:
                stop.readline()  # "stop", or "" when the crawl process is gone
                stopping = True


class StoryWorker:
    """The crawl's handle on its worker process."""

    def __init__(self, store_path: Path, threshold: float, window_days: float) -> None:
        # The worker imports `crawlers` from where this process did, installed or not.
        root = str(Path(__file__).resolve().parent.parent)
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(store_path), str(threshold), str(window_days)],
            stdin=subprocess.PIPE,
            text=True,
            env=env,
        )

    def finish(self, timeout: float = 600) -> None:
        """Wait until every stored article has its story."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write("stop\n")
            self.process.stdin.close()
        except BrokenPipeError:
            pass  # it ended already; its exit status says how
        status = self.process.wait(timeout=timeout)
        if status:
            log.error(
                "story clustering stopped with status %s; the next crawl clusters the "
                "articles left without a story",
                status,
            )


if __name__ == "__main__":
    # Ctrl-C reaches the whole process group; the crawl decides when the worker stops (it
    # finishes the articles stored so far, a matter of seconds).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    run(Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.stdin)
