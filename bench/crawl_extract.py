"""Extraction throughput: the site extractors against trafilatura's `extract` (the
baseline) on the same pages, in the same run.

    .venv/bin/python bench/crawl_extract.py [--pages 2000]

Each extractor runs in a child process of its own, so its peak RSS is its own (Python,
imports, the pages and the extractor's work). Quality is the word-level F1 of the body
text against the paragraphs the page was rendered from (the dateline the layouts add
counts against precision for every extractor alike).
"""

from __future__ import annotations

import argparse
import json
import pickle
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from crawl_pages import articles

from crawlers.demo_site.server import render_article

Page = tuple[str, str, str, str]  # layout key, url, html, expected text


def render(limit: int) -> list[Page]:
    return [
        (a.site, a.url, render_article(a, "http://127.0.0.1:8000"), "\n".join(a.paragraphs))
        for a in articles(limit)
    ]


def f1(got: str, expected: str) -> float:
    got_words, expected_words = Counter(got.split()), Counter(expected.split())
    overlap = sum((got_words & expected_words).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(got_words.values())
    recall = overlap / sum(expected_words.values())
    return 2 * precision * recall / (precision + recall)


def run_child(name: str, pages_file: str) -> dict[str, float]:
    """Runs in the child: extract every page with `name`, report speed, memory, F1."""
    with open(pages_file, "rb") as handle:
        pages: list[Page] = pickle.load(handle)
    if name == "trafilatura":
        import trafilatura

        def extract(key: str, url: str, html: str) -> str:
            return trafilatura.extract(html, url=url) or ""
    else:
        from crawlers.extract import antara, disway, generic, tribun

        site = {"jambiekspres": disway, "tribunjambi": tribun, "antarajambi": antara}

        def extract(key: str, url: str, html: str) -> str:
            module = generic if name == "generic" else site[key]
            return "\n".join(module.extract(html, url).paragraphs)

    extract(*pages[0][:3])  # imports and caches warmed outside the timing
    started = time.perf_counter()
    texts = [extract(key, url, html) for key, url, html, _ in pages]
    seconds = time.perf_counter() - started
    scores = [f1(text, expected) for text, (_, _, _, expected) in zip(texts, pages, strict=True)]
    return {
        "pages": len(pages),
        "seconds": seconds,
        "pages_per_s": len(pages) / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "mean_f1": sum(scores) / len(scores),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--pages-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.pages_file)))
        return
    pages = render(args.pages)
    mb = sum(len(html) for _, _, html, _ in pages) / 1e6
    print(
        f"{len(pages)} pages ({mb:.1f} MB of HTML); "
        f"{platform.machine()}, Python {platform.python_version()}"
    )
    with tempfile.NamedTemporaryFile(suffix=".pickle") as handle:
        pickle.dump(pages, handle)
        handle.flush()
        results = {}
        for name in ("trafilatura", "site", "generic"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", name, "--pages-file", handle.name],
                capture_output=True,
                text=True,
                check=True,
            )
            results[name] = json.loads(out.stdout.splitlines()[-1])
    base = results["trafilatura"]["pages_per_s"]
    print(f"{'extractor':<28}{'pages/s':>9}{'× baseline':>12}{'peak RSS MB':>13}{'mean F1':>9}")
    labels = {
        "trafilatura": "trafilatura.extract (base)",
        "site": "site extractors",
        "generic": "generic (trafilatura+date)",
    }
    for name, r in results.items():
        print(
            f"{labels[name]:<28}{r['pages_per_s']:>9.0f}{r['pages_per_s'] / base:>12.2f}"
            f"{r['peak_rss_mb']:>13.0f}{r['mean_f1']:>9.3f}"
        )


if __name__ == "__main__":
    main()
