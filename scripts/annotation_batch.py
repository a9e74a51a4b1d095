"""Print pool articles for a person labelling them (nlp/data/annotated/pool.jsonl).

Usage: python scripts/annotation_batch.py --start 0 --count 10 [--data-dir ../shared/data]
       [--max-chars 5000] [--unlabelled]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.annotated import read_labels, read_pool, shared_article


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--max-chars", type=int, default=5000)
    parser.add_argument("--unlabelled", action="store_true", help="skip labelled articles")
    args = parser.parse_args()
    labelled = read_labels() if args.unlabelled else {}
    pool = read_pool()
    for number, item in enumerate(pool[args.start : args.start + args.count], args.start):
        if item.id in labelled:
            continue
        article = shared_article(args.data_dir, item.ref)
        text = article.text[: args.max_chars]
        more = " […]" if len(article.text) > args.max_chars else ""
        print(f"===== #{number} id={item.id} stratum={item.stratum} split={item.split}")
        print(f"url: {article.url}\npublished: {article.published}\nsource: {article.source}")
        print(f"TITLE: {article.title}\n{text}{more}\n")


if __name__ == "__main__":
    main()
