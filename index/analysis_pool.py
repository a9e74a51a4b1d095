"""Pantau's Indonesian analysis of many documents at once, on every core.

`nlp.analysis.analyze` is pure Python and holds the GIL: for a bulk load it is most of the
client's CPU per document on either backend (bench/index_bench.py). A batch large enough to
pay for it is analysed in a small process pool instead, in chunks, while the calling process
goes on writing the chunks already analysed; a small batch (an analyst's correction, a few
new articles) stays in-process, where it costs no inter-process copy.

The output is exactly what `analyze` gives in-process, in the documents' order (`map`
returns chunks in submission order; tests/test_embedded_index.py compares both paths).
The pool is started on first use with the `spawn` method, so no lock or thread of the
parent (the Elasticsearch sender thread, a web server's) is copied into a worker; a process
forked after the pool exists starts its own pool rather than using its parent's. As with
any `spawn` pool, a script that indexes must keep its work under
`if __name__ == "__main__":` (Pantau's CLI, flows and server do), since workers import the
main module.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from nlp.analysis import analyze

log = logging.getLogger(__name__)

# (title, text) in; the analysed terms of each, joined by spaces, out.
Fields = tuple[str, str]
Terms = tuple[str, str]

# Below this many documents the batch is analysed in-process: a chunk's round trip (pickling
# the texts there and the terms back) and a cold worker's start are not worth it.
POOL_MIN_BATCH = 200
# Documents per task: small enough that the first chunk comes back soon and the caller can
# start writing while the workers analyse the rest.
CHUNK_SIZE = 50
# Workers: every core (2 on the benchmark machine), at most 4; `PANTAU_ANALYSIS_WORKERS=0`
# turns the pool off (everything in-process).
MAX_WORKERS = 4

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_pid: int | None = None


def worker_count() -> int:
    configured = os.environ.get("PANTAU_ANALYSIS_WORKERS")
    if configured is not None:
        try:
            return max(0, int(configured))
        except ValueError:
            return 0
    return min(MAX_WORKERS, os.cpu_count() or 1)


def analyze_fields(fields: Fields) -> Terms:
    title, text = fields
    return " ".join(analyze(title)), " ".join(analyze(text))


def _analyze_chunk(chunk: list[Fields]) -> list[Terms]:
    return [analyze_fields(fields) for fields in chunk]


def _executor(workers: int) -> ProcessPoolExecutor:
    global _pool, _pool_pid
    with _lock:
        if _pool is None or _pool_pid != os.getpid():
            # A pool inherited through fork belongs to the parent: never touch it here.
            _pool = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn")
            )
            _pool_pid = os.getpid()
        return _pool


def shutdown() -> None:
    """Stop the workers (at exit, and in tests that want a fresh pool)."""
    global _pool, _pool_pid
    with _lock:
        if _pool is not None and _pool_pid == os.getpid():
            _pool.shutdown(wait=True, cancel_futures=True)
        _pool, _pool_pid = None, None


atexit.register(shutdown)


def iter_analyzed(
    documents: Sequence[Fields], *, pooled: bool | None = None
) -> Iterator[list[Terms]]:
    """The analysed terms of each document's (title, text), chunk by chunk, in order.

    `pooled` forces the choice (tests); by default the pool is used when the batch reaches
    POOL_MIN_BATCH and there is more than one worker to use."""
    workers = worker_count()
    if pooled is None:
        pooled = len(documents) >= POOL_MIN_BATCH and workers > 1
    if not pooled or not documents:
        for first in range(0, len(documents), CHUNK_SIZE):
            yield _analyze_chunk(list(documents[first : first + CHUNK_SIZE]))
        return
    chunks = [list(documents[i : i + CHUNK_SIZE]) for i in range(0, len(documents), CHUNK_SIZE)]
    done = 0
    try:
        # Every chunk is submitted at once, so the workers run ahead of the caller's writes.
        for analysed in _executor(max(1, workers)).map(_analyze_chunk, chunks):
            done += 1
            yield analysed
    except BrokenProcessPool:
        # A worker died (killed for memory, say): the rest is analysed here, nothing lost.
        log.warning(
            "analysis pool broke after %d of %d chunks; going on in-process", done, len(chunks)
        )
        shutdown()
        for chunk in chunks[done:]:
            yield _analyze_chunk(chunk)


def analyze_documents(documents: Sequence[Fields], *, pooled: bool | None = None) -> list[Terms]:
    """The analysed terms of every document's (title, text), in the documents' order."""
    return [terms for chunk in iter_analyzed(documents, pooled=pooled) for terms in chunk]
