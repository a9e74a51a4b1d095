"""Tagging throughput and memory: the full `pantau tag` path against the rule-only tagger
(the baseline) and the rules with the trained classifier but no NER, on the same real
articles, in the same run, one CPU core each.

    .venv/bin/python bench/tag_speed.py --data-dir ../shared/data [--articles 1000]

The articles are click-id news (the first N of a fixed shuffle), written as the JSONL that
`pantau tag` reads. Each variant runs in a child process pinned to one core, so its peak
RSS (VmHWM) is its own: Python, imports, the tagger (rules, gazetteer, classifier and,
when the NER model is installed, spaCy), and the tagging. Speed excludes start-up, which is
reported apart. "full" is exactly what `pantau tag` uses: `RuleTagger()` through
`nlp.contract.tag_jsonl`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

VARIANTS = ("rules", "rules+classifier", "full")


def run_child(variant: str, input_file: str) -> dict[str, float]:
    """Runs in the child: load the tagger, tag every line, report speed and memory."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    started = time.perf_counter()
    from nlp.contract import tag_jsonl
    from nlp.tagger import RuleTagger

    # The baseline: the rules alone (no classifier, no NER model); then the classifier
    # added; then everything `pantau tag` runs (with the NER model when it is installed).
    if variant == "rules":
        tagger = RuleTagger(model_dir=None, ner=None)
    elif variant == "rules+classifier":
        tagger = RuleTagger(ner=None)
    else:
        tagger = RuleTagger()
    with open(input_file, encoding="utf-8") as handle:
        lines = handle.readlines()
    startup = time.perf_counter() - started
    begin = time.perf_counter()
    failed = 0
    for result in tag_jsonl(lines, tagger):
        failed += not result.ok
    seconds = time.perf_counter() - begin
    peak_kib = 0
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak_kib = int(line.split()[1])
    return {
        "articles": len(lines),
        "failed": failed,
        "seconds": seconds,
        "articles_per_s": len(lines) / seconds,
        "startup_s": startup,
        "peak_rss_mb": peak_kib / 1024,
        "version": tagger.version,  # type: ignore[dict-item]
    }


def write_articles(data_dir: Path, count: int, path: Path) -> None:
    from nlp.training_data import click_id_files, shared_articles

    articles = [a for file in click_id_files(data_dir) for _, a in shared_articles(data_dir, file)]
    random.Random(20261127).shuffle(articles)
    with path.open("w", encoding="utf-8") as handle:
        for article in articles[:count]:
            handle.write(article.model_dump_json(exclude_none=True) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.input)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        input_file = Path(tmp) / "articles.jsonl"
        write_articles(args.data_dir, args.articles, input_file)
        results = {}
        for variant in VARIANTS:
            output = subprocess.run(
                [sys.executable, __file__, "--child", variant, "--input", str(input_file)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[variant] = json.loads(output.strip().splitlines()[-1])
    base = results["rules"]["articles_per_s"]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible, 1 used")
    print("| variant | articles | articles/s | vs rules | start-up s | peak RSS MB | version |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for variant, r in results.items():
        print(
            f"| {variant} | {r['articles']} | {r['articles_per_s']:.1f} | "
            f"{r['articles_per_s'] / base:.2f}x | {r['startup_s']:.1f} | "
            f"{r['peak_rss_mb']:.0f} | {r['version']} |"
        )


if __name__ == "__main__":
    main()
