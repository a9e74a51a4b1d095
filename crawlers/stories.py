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

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

import numpy as np

from nlp.analysis import analyze

NUM_PERM = 256
SEED = 1  # fixed: signatures stored today must compare with those made next year
# The signatures are datasketch's MinHash under its "affine32" scheme (seed 1, SHA-1 of each
# feature), value for value, so the signatures already stored keep comparing; computed here
# with numpy alone because datasketch's per-object overhead and its LSH (bands as bytes keys,
# parameters found with scipy at start-up) cost more than the crawl's fetching and parsing.
_FULL = np.uint32(0xFFFFFFFF)
# MurmurHash3's 32-bit finalizer (datasketch's pre-mix of each input hash).
_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35))


class Signature:
    """The MinHash signature of an article: NUM_PERM 32-bit minima."""

    __slots__ = ("hashvalues",)

    def __init__(self, hashvalues: np.ndarray) -> None:
        self.hashvalues = hashvalues

    def __len__(self) -> int:
        return len(self.hashvalues)

    def jaccard(self, other: Signature) -> float:
        """Estimated Jaccard similarity of the two articles' feature sets."""
        return float(np.count_nonzero(self.hashvalues == other.hashvalues)) / len(self)


def features(title: str, text: str) -> set[str]:
    """Analysed words and adjacent word pairs of an article."""
    words = analyze(title + "\n" + text)
    return set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def signature(title: str, text: str) -> Signature:
    found = features(title, text)
    if not found:
        return Signature(np.full(NUM_PERM, _FULL, dtype=np.uint32))
    sha1 = hashlib.sha1
    # The first 4 bytes of each SHA-1, little-endian (datasketch's sha1_hash32), read from
    # the digests joined: one numpy call instead of one int.from_bytes per feature.
    digests = b"".join([sha1(feature.encode("utf-8")).digest() for feature in found])
    hv = np.frombuffer(digests, dtype="<u4").reshape(-1, 5)[:, 0].astype(np.uint32)
    shift1, mult1, shift2, mult2 = _FMIX
    hv ^= hv >> shift1
    hv *= mult1
    hv ^= hv >> shift2
    hv *= mult2
    hv ^= hv >> shift1
    a, b = _permutations()
    # a·h + b in uint32 (the wrap-around is the modulo), smallest per permutation.
    return Signature((hv[:, np.newaxis] * a + b).min(axis=0))


def to_bytes(minhash: Signature) -> bytes:
    # 32-bit values: 1 KiB per article at 256 permutations.
    return np.asarray(minhash.hashvalues, dtype="<u4").tobytes()


def from_bytes(blob: bytes) -> Signature:
    return Signature(np.frombuffer(blob, dtype="<u4").astype(np.uint32))


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations for (NUM_PERM, SEED): odd multipliers a, offsets
    b, drawn in the same order from the same generator."""
    generator = np.random.RandomState(SEED)
    a = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


@cache
def lsh_bands(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """(bands, rows per band) that minimise the sum of the false positive and false negative
    probabilities at `threshold`, as datasketch's MinHashLSH chooses them. The integrands
    are polynomials of degree b·r ≤ num_perm, so Gauss-Legendre quadrature with more than
    num_perm / 2 nodes integrates them exactly."""
    nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 2)
    pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
    bands = np.array([b for b, _ in pairs], dtype=float)[:, np.newaxis]
    rows = np.array([r for _, r in pairs], dtype=float)[:, np.newaxis]

    def integral(low: float, high: float, false_positive: bool) -> np.ndarray:
        s = (high - low) / 2 * nodes + (high + low) / 2
        collide = 1 - (1 - s**rows) ** bands
        values = collide if false_positive else 1 - collide
        return (values @ weights) * (high - low) / 2

    error = 0.5 * integral(0.0, threshold, True) + 0.5 * integral(threshold, 1.0, False)
    return pairs[int(np.argmin(error))]


@dataclass
class _Member:
    minhash: Signature
    published: datetime | None
    story: str
    row: int  # in StoryIndex._matrix


@dataclass
class Assignment:
    """The story an article belongs to, and the stories merged into it (their members
    now carry `story_id`)."""

    story_id: str
    merged: list[str] = field(default_factory=list)


class StoryIndex:
    """The signatures of stored articles, in memory, for assigning stories.

    LSH: the signature is cut into bands; articles sharing a band are candidates, and a
    candidate joins when its estimated similarity reaches the threshold. The candidates'
    similarities are computed together from one matrix of all signatures."""

    def __init__(self, threshold: float = 0.2, window_days: float = 7.0) -> None:
        self.threshold = threshold
        self.window = timedelta(days=window_days)
        # LSH at a lower threshold than the decision, so borderline pairs are candidates.
        self._bands, self._rows = lsh_bands(max(0.05, threshold * 0.6))
        # Band value → the article id there, or a set of ids when several share it (most
        # band values belong to one article: a set each would triple the index's memory).
        self._tables: list[dict[bytes, str | set[str]]] = [{} for _ in range(self._bands)]
        self._members: dict[str, _Member] = {}
        # Story id → its members' article ids (a merge moves only those).
        self._stories: dict[str, set[str]] = {}
        # Story id → the order its first article was stored in (the oldest story wins).
        self._story_order: dict[str, int] = {}
        # Every signature ever loaded, one row each (a re-loaded article gets a new row).
        self._matrix = np.empty((1024, NUM_PERM), dtype=np.uint32)
        self._used = 0
        # The last stored signature row loaded (see crawlers.pipelines).
        self.watermark = 0

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._members

    def _band_keys(self, minhash: Signature) -> list[bytes]:
        raw = np.ascontiguousarray(minhash.hashvalues, dtype=np.uint32).tobytes()
        step = 4 * self._rows
        return [raw[i : i + step] for i in range(0, self._bands * step, step)]

    def load(
        self, article_id: str, minhash: Signature, published: datetime | None, story: str
    ) -> None:
        """Add an article whose story is already known (from the store), oldest first."""
        self._story_order.setdefault(story, len(self._story_order))
        previous = self._members.pop(article_id, None)
        if previous is not None:
            self._forget(article_id, previous)
        if self._used == len(self._matrix):
            self._matrix = np.concatenate([self._matrix, np.empty_like(self._matrix)])
        self._matrix[self._used] = minhash.hashvalues
        self._members[article_id] = _Member(minhash, published, story, self._used)
        self._used += 1
        self._stories.setdefault(story, set()).add(article_id)
        for key, table in zip(self._band_keys(minhash), self._tables, strict=True):
            there = table.get(key)
            if there is None:
                table[key] = article_id
            elif isinstance(there, str):
                if there != article_id:
                    table[key] = {there, article_id}
            else:
                there.add(article_id)

    def _forget(self, article_id: str, member: _Member) -> None:
        for key, table in zip(self._band_keys(member.minhash), self._tables, strict=True):
            there = table.get(key)
            if there == article_id:
                del table[key]
            elif isinstance(there, set):
                there.discard(article_id)
                if len(there) == 1:
                    table[key] = there.pop()
        ids = self._stories.get(member.story)
        if ids is not None:
            ids.discard(article_id)
            if not ids:
                del self._stories[member.story]

    def candidates(self, minhash: Signature) -> set[str]:
        """Articles sharing at least one band with this signature."""
        found: set[str] = set()
        for key, table in zip(self._band_keys(minhash), self._tables, strict=True):
            there = table.get(key)
            if there is None:
                continue
            if isinstance(there, str):
                found.add(there)
            else:
                found |= there
        return found

    def assign(self, article_id: str, minhash: Signature, published: datetime | None) -> Assignment:
        """Put an article (new, or with a new text) into a story and remember it."""
        previous = self._members.get(article_id)
        stories = {previous.story} if previous else set()
        close = [
            member
            for candidate in self.candidates(minhash)
            if candidate != article_id
            and self._close_in_time(published, (member := self._members[candidate]).published)
        ]
        if close:
            rows = self._matrix[[member.row for member in close]]
            shared = np.count_nonzero(rows == minhash.hashvalues, axis=1)
            needed = self.threshold * NUM_PERM
            stories.update(
                m.story for m, n in zip(close, shared.tolist(), strict=True) if n >= needed
            )
        if not stories:
            stories = {article_id}
        self._story_order.setdefault(article_id, len(self._story_order))
        story = min(stories, key=lambda s: self._story_order.get(s, len(self._story_order)))
        merged = sorted(stories - {story})
        for old in merged:
            for member_id in self._stories.pop(old, set()):
                self._members[member_id].story = story
                self._stories.setdefault(story, set()).add(member_id)
        self.load(article_id, minhash, published, story)
        return Assignment(story, merged)

    def _close_in_time(self, a: datetime | None, b: datetime | None) -> bool:
        # Without a date either way, the text alone decides.
        return a is None or b is None or abs(a - b) <= self.window
