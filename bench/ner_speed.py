"""NER throughput on one core: the shipped pipeline against spaCy's blank `id` tokenizer.

    OMP_NUM_THREADS=1 .venv/bin/python bench/ner_speed.py                 # 1,000 articles
    .venv/bin/python bench/ner_speed.py --articles 2000 --model models/ner-id/model

Reads click-id articles (`../shared/data/news/click-id/*.csv`, or
$PANTAU_SHARED_DATA_DIR/news/click-id), round-robin over the outlets, title + content. In
one process, on the same texts: (1) the baseline, `spacy.blank("id")` tokenizing; (2) the
full Pantau pipeline (news tokenizer, sentencizer, tok2vec, ner) through
`nlp.ner.recognizer.recognize`, i.e. what `pantau tag` calls. Reports tokens/s of each
(tokens as the blank tokenizer counts them, so both rates share a denominator), their
ratio, entities per article, and the peak RSS of the process. Single thread: BLAS and torch
threads are pinned to 1 before anything is imported.
"""

from __future__ import annotations

import os

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
csv.field_size_limit(10_000_000)

REPO = Path(__file__).resolve().parent.parent


def click_id_dir() -> Path:
    base = os.environ.get("PANTAU_SHARED_DATA_DIR") or str(REPO.parent / "shared" / "data")
    return Path(base) / "news" / "click-id"


def load_articles(folder: Path, count: int) -> list[tuple[str, str]]:
    """`count` (title, text) pairs, taking the outlets in turn."""
    per_file: list[list[tuple[str, str]]] = []
    for path in sorted(folder.glob("*.csv")):
        rows: list[tuple[str, str]] = []
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            for row in csv.DictReader(handle):
                if (row.get("content") or "").strip():
                    rows.append((row.get("title") or "", row["content"]))
                if len(rows) >= count:
                    break
        per_file.append(rows)
    articles: list[tuple[str, str]] = []
    index = 0
    while len(articles) < count and any(index < len(rows) for rows in per_file):
        for rows in per_file:
            if index < len(rows) and len(articles) < count:
                articles.append(rows[index])
        index += 1
    if len(articles) < count:
        raise SystemExit(f"only {len(articles)} articles with text in {folder}")
    return articles


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--data", type=Path, default=click_id_dir())
    parser.add_argument(
        "--with-torch",
        action="store_true",
        help="let thinc import torch (the test environment); by default torch is hidden, as "
        "in the deployed environment (`make setup` installs no torch)",
    )
    args = parser.parse_args()
    if not args.with_torch:
        # thinc imports torch when it is installed, which alone costs ~500 MB of RSS; the
        # deployed environment has no torch, so the default run measures it that way.
        sys.modules["torch"] = None  # type: ignore[assignment]

    import spacy

    from nlp.ner.recognizer import load_recognizer, recognize

    articles = load_articles(args.data, args.articles)
    rss_before_model = peak_rss_mb()

    blank = spacy.blank("id")
    started = time.perf_counter()
    tokens = 0
    for title, text in articles:
        tokens += len(blank(title)) + len(blank(text))
    baseline_seconds = time.perf_counter() - started

    recognizer = load_recognizer(args.model)
    recognize("Pemanasan", "Budi tinggal di Jambi.", recognizer)
    started = time.perf_counter()
    entities = 0
    for title, text in articles:
        entities += len(recognize(title, text, recognizer))
    pipeline_seconds = time.perf_counter() - started

    result = {
        "articles": len(articles),
        "tokens": tokens,
        "model": recognizer.version,
        "baseline_blank_id_tokenizer_tokens_per_s": round(tokens / baseline_seconds),
        "pipeline_tokens_per_s": round(tokens / pipeline_seconds),
        "pipeline_articles_per_s": round(len(articles) / pipeline_seconds, 1),
        "ratio_pipeline_to_baseline": round(baseline_seconds / pipeline_seconds, 4),
        "entities_per_article": round(entities / len(articles), 1),
        "peak_rss_mb": round(peak_rss_mb()),
        "torch_imported": args.with_torch,
        "rss_before_model_mb": round(rss_before_model),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs (1 thread used), "
        f"Python {platform.python_version()}, spaCy {spacy.__version__}",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
