"""Story clusters: the same event reported by several outlets (syndicated copies and
rewrites) linked under one `story_id`, every source kept.

Each article gets a MinHash signature of its analysed words and word pairs (the same
Indonesian analysis as the search index: stop words out, words stemmed), so rewrites that
share the facts — places, names, numbers, the key phrases — score high while articles that
only share a topic score low. LSH finds candidates quickly; a candidate joins when its
estimated similarity reaches the threshold and the two were published within the window.
An article that matches several stories merges them: the story keeps the id of its first
stored article. Signatures are persisted (`article_signatures`), so clusters survive
restarts.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

from nlp.analysis import analyze

NUM_PERM = 256
SEED = 1  # fixed: signatures stored today must compare with those made next year
# Named, not left to datasketch's default, for the same reason (its default changed in 2.0).
SCHEME = "affine32"


def features(title: str, text: str) -> set[str]:
    """Analysed words and adjacent word pairs of an article."""
    words = analyze(title + "\n" + text)
    return set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def signature(title: str, text: str) -> MinHash:
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=_permutations(), scheme=SCHEME)
    minhash.update_batch([feature.encode("utf-8") for feature in features(title, text)])
    return minhash


def to_bytes(minhash: MinHash) -> bytes:
    # affine32 hash values fit 32 bits: 1 KiB per article at 256 permutations.
    return np.asarray(minhash.hashvalues, dtype="<u4").tobytes()


def from_bytes(blob: bytes) -> MinHash:
    hashvalues = np.frombuffer(blob, dtype="<u4").astype(np.uint64)
    return MinHash(
        num_perm=NUM_PERM,
        seed=SEED,
        hashvalues=hashvalues,
        permutations=_permutations(),
        scheme=SCHEME,
    )


@cache
def _permutations() -> Any:
    """The permutations of (NUM_PERM, SEED, SCHEME), made once: drawing them costs more
    than hashing an article's features."""
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


@dataclass
class _Member:
    minhash: MinHash
    published: datetime | None
    story: str


@dataclass
class Assignment:
    """The story an article belongs to, and the stories merged into it (their members
    now carry `story_id`)."""

    story_id: str
    merged: list[str] = field(default_factory=list)


class StoryIndex:
    """The signatures of stored articles, in memory, for assigning stories."""

    def __init__(self, threshold: float = 0.2, window_days: float = 7.0) -> None:
        self.threshold = threshold
        self.window = timedelta(days=window_days)
        # LSH at a lower threshold than the decision, so borderline pairs are candidates.
        self._lsh = MinHashLSH(threshold=max(0.05, threshold * 0.6), num_perm=NUM_PERM)
        self._members: dict[str, _Member] = {}
        # Story id → the order its first article was stored in (the oldest story wins).
        self._story_order: dict[str, int] = {}
        # The last stored signature row loaded (see crawlers.pipelines).
        self.watermark = 0

    def __len__(self) -> int:
        return len(self._members)

    def load(
        self, article_id: str, minhash: MinHash, published: datetime | None, story: str
    ) -> None:
        """Add an article whose story is already known (from the store), oldest first."""
        self._story_order.setdefault(story, len(self._story_order))
        if article_id in self._members:
            self._lsh.remove(article_id)
        self._members[article_id] = _Member(minhash, published, story)
        self._lsh.insert(article_id, minhash)

    def assign(self, article_id: str, minhash: MinHash, published: datetime | None) -> Assignment:
        """Put an article (new, or with a new text) into a story and remember it."""
        previous = self._members.get(article_id)
        stories = {previous.story} if previous else set()
        for candidate in self._lsh.query(minhash):
            member = self._members[candidate]
            if candidate == article_id or not self._close_in_time(published, member.published):
                continue
            if minhash.jaccard(member.minhash) >= self.threshold:
                stories.add(member.story)
        if not stories:
            stories = {article_id}
        self._story_order.setdefault(article_id, len(self._story_order))
        story = min(stories, key=lambda s: self._story_order.get(s, len(self._story_order)))
        merged = sorted(stories - {story})
        for member in self._members.values():
            if member.story in merged:
                member.story = story
        self.load(article_id, minhash, published, story)
        return Assignment(story, merged)

    def _close_in_time(self, a: datetime | None, b: datetime | None) -> bool:
        # Without a date either way, the text alone decides.
        return a is None or b is None or abs(a - b) <= self.window
