"""Static word vectors for the NER, counted from unlabelled Indonesian news.

No pretrained Indonesian vectors may be downloaded, and the labelled NER sets are small
(about 5,000 sentences): a word seen once in training ("Kapolresta", a town's name) gives the
hashed embeddings almost nothing to go on. Vectors counted from ~23,000 news articles of the
shared data carry what the word's neighbours say about it (a place follows "di"/"Kabupaten", a
person precedes "mengatakan").

The method is the classic count-based one (Levy, Goldberg & Dagan 2015): co-occurrence counts
in a window weighted 1/distance, positive PMI with context-distribution smoothing (alpha 0.75),
truncated SVD, U·sqrt(S), rows scaled to unit length. It needs only numpy, scipy and
scikit-learn, is deterministic for a fixed seed, and takes a few minutes on one core.

Words are counted lower-cased; "jambi", "Jambi" and "JAMBI" are keys of one row. The NER test
sentences are not part of the corpus (only the news folders are read), so the vectors never
saw a sentence the 5-fold protocol scores.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import logging
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np

log = logging.getLogger(__name__)

NEWS_FOLDERS: Final = ("news/click-id", "news/detik-2025-aspects")
TEXT_COLUMNS: Final = ("title", "content", "judul", "isi", "text", "berita")
INFO_FILE: Final = "vectors-info.json"


@dataclass(frozen=True)
class VectorSettings:
    dimensions: int = 100
    min_count: int = 5
    max_words: int = 40_000
    window: int = 4
    smoothing: float = 0.75
    seed: int = 7
    max_documents: int = 0  # 0: every article (a smaller number for quick test builds)


def news_texts(data_dir: Path) -> Iterator[str]:
    """Titles and bodies of every article in the shared news folders (CSV), in a fixed
    order. click-id joins paragraphs with commas: they are put back as full stops' spaces
    so that words are not glued to a comma."""
    csv.field_size_limit(1 << 30)
    for folder in NEWS_FOLDERS:
        for path in sorted((data_dir / folder).glob("*.csv")):
            with path.open(encoding="utf-8", errors="replace", newline="") as handle:
                for row in csv.DictReader(handle):
                    for column in TEXT_COLUMNS:
                        value = row.get(column)
                        if value:
                            yield value.replace(".,", ". ").replace('",', '" ')


def tokenised(texts: Iterable[str], batch_size: int = 200) -> Iterator[list[str]]:
    """Lower-cased tokens by the NER's own tokenizer, so that vector keys are the tokens the
    model will look up."""
    from nlp.ner.language import news_tokenizer_nlp

    nlp = news_tokenizer_nlp()
    for doc in nlp.pipe(texts, batch_size=batch_size):  # a tokenizer-only pipeline
        yield [token.lower_ for token in doc if not token.is_space]


def vocabulary(documents: list[list[str]], settings: VectorSettings) -> list[str]:
    counts = Counter(word for words in documents for word in words)
    kept = [(word, n) for word, n in counts.items() if n >= settings.min_count]
    # Ties broken by the word so that the order (and the SVD) is reproducible.
    kept.sort(key=lambda item: (-item[1], item[0]))
    return [word for word, _ in kept[: settings.max_words]]


def cooccurrence(documents: list[list[str]], words: list[str], window: int) -> object:
    """Symmetric word × context counts, each pair weighted 1/distance (a scipy CSR matrix)."""
    from scipy import sparse

    index = {word: i for i, word in enumerate(words)}
    size = len(words)
    matrix = sparse.csr_matrix((size, size), dtype=np.float64)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    pending = 0

    def flush() -> None:
        nonlocal matrix, rows, cols, weights, pending
        if not rows:
            return
        r = np.concatenate(rows)
        c = np.concatenate(cols)
        w = np.concatenate(weights)
        # Both directions: a pair is counted for each word as the other's context.
        both_rows, both_cols = np.concatenate([r, c]), np.concatenate([c, r])
        part = sparse.coo_matrix(
            (np.concatenate([w, w]), (both_rows, both_cols)), shape=(size, size)
        )
        matrix = matrix + part.tocsr()
        rows, cols, weights, pending = [], [], [], 0

    for words_of_doc in documents:
        ids = np.fromiter((index.get(word, -1) for word in words_of_doc), dtype=np.int64)
        for distance in range(1, window + 1):
            if len(ids) <= distance:
                break
            left, right = ids[:-distance], ids[distance:]
            keep = (left >= 0) & (right >= 0)
            if not keep.any():
                continue
            rows.append(left[keep])
            cols.append(right[keep])
            weights.append(np.full(int(keep.sum()), 1.0 / distance))
            pending += int(keep.sum())
        if pending > 20_000_000:
            flush()
    flush()
    return matrix


def ppmi_svd(matrix: object, settings: VectorSettings) -> np.ndarray:
    """Positive PMI with smoothed context probabilities, then truncated SVD; rows of
    U·sqrt(S) scaled to unit length (float32)."""
    from scipy import sparse
    from sklearn.decomposition import TruncatedSVD

    counts = sparse.csr_matrix(matrix)
    total = counts.sum()
    word_totals = np.asarray(counts.sum(axis=1)).ravel()
    context_totals = np.asarray(counts.sum(axis=0)).ravel() ** settings.smoothing
    context_p = context_totals / context_totals.sum()
    coo = counts.tocoo()
    pmi = np.log((coo.data / total) / ((word_totals[coo.row] / total) * context_p[coo.col]))
    positive = pmi > 0
    ppmi = sparse.csr_matrix(
        (pmi[positive], (coo.row[positive], coo.col[positive])), shape=counts.shape
    )
    svd = TruncatedSVD(
        n_components=settings.dimensions,
        algorithm="randomized",
        n_iter=7,
        random_state=settings.seed,
    )
    reduced = svd.fit_transform(ppmi)  # U·S
    vectors = reduced / np.sqrt(np.maximum(svd.singular_values_, 1e-9))  # U·sqrt(S)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-9)).astype(np.float32)


def build_vectors(
    data_dir: Path, output_dir: Path, settings: VectorSettings = VectorSettings()
) -> Path:
    """Counts vectors from the shared news and writes a blank `id` pipeline holding them
    (what spaCy's `[initialize] vectors` loads) to `output_dir`."""
    import spacy
    from spacy.vectors import Vectors

    texts = news_texts(data_dir)
    if settings.max_documents:
        texts = itertools.islice(texts, settings.max_documents)
    documents = list(tokenised(texts))
    tokens = sum(len(words) for words in documents)
    if not documents:
        raise FileNotFoundError(f"no news articles under {data_dir} ({', '.join(NEWS_FOLDERS)})")
    words = vocabulary(documents, settings)
    log.info("vectors: %d documents, %d tokens, %d words kept", len(documents), tokens, len(words))
    matrix = cooccurrence(documents, words, settings.window)
    vectors = ppmi_svd(matrix, settings)
    nlp = spacy.blank("id")
    table = Vectors(strings=nlp.vocab.strings, shape=vectors.shape)
    for row, word in enumerate(words):
        # One row per lower-cased word, reached from its common spellings: spaCy 3.8 does not
        # save a default table's `attr`, so keying on LOWER would silently become ORTH on load.
        # Vectors.add keys by hash only: the strings go into the vocabulary's store so that
        # the saved pipeline can name its rows.
        for spelling in dict.fromkeys((word, word.title(), word.upper(), word.capitalize())):
            table.add(nlp.vocab.strings.add(spelling), row=row)
    table.data[:] = vectors
    nlp.vocab.vectors = table
    output_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output_dir)
    (output_dir / INFO_FILE).write_text(
        json.dumps(
            {
                "method": "PPMI (1/distance window, context smoothing) + truncated SVD",
                "corpus": list(NEWS_FOLDERS),
                "documents": len(documents),
                "tokens": tokens,
                "words": len(words),
                **settings.__dict__,
            },
            indent=2,
        )
        + "\n"
    )
    return output_dir


def read_info(vectors_dir: Path) -> dict[str, object]:
    """What a vectors folder was built from (its vectors-info.json), for the records."""
    path = vectors_dir / INFO_FILE
    return dict(json.loads(path.read_text())) if path.is_file() else {}


def cache_key(data_dir: Path, settings: VectorSettings) -> str:
    """The settings and the corpus files (names and sizes): a changed corpus or setting
    builds new vectors, an unchanged one reuses them."""
    files = [
        f"{path.relative_to(data_dir)}:{path.stat().st_size}"
        for folder in NEWS_FOLDERS
        for path in sorted((data_dir / folder).glob("*.csv"))
    ]
    payload = json.dumps({"settings": settings.__dict__, "files": files}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def cached_vectors(
    data_dir: Path, cache_dir: Path, settings: VectorSettings = VectorSettings()
) -> Path:
    """The vectors for `data_dir`'s news under `cache_dir`, built on first use (a few
    minutes) and reused after. Built in a temporary folder and renamed, so an interrupted
    build is never taken for a finished one."""
    target = cache_dir / f"vectors-{cache_key(data_dir, settings)}"
    if (target / INFO_FILE).is_file():
        log.info("vectors: reusing %s", target)
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="building-", dir=cache_dir))
    try:
        log.info("vectors: counting them from %s (a few minutes, once)", data_dir)
        build_vectors(data_dir, building / "vectors", settings)
        if target.exists():  # another process finished first
            return target
        (building / "vectors").rename(target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target
