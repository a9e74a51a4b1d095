"""Print pool articles for a person labelling them (nlp/data/annotated/pool.jsonl).

Usage: python scripts/annotation_batch.py --start 0 --count 10 [--data-dir ../shared/data]
       [--max-chars 5000] [--unlabelled] [--split test|train] [--disagreements]

--disagreements prints, for adjudication, only the articles on which the first and the
second annotation differ in a scored field, or that are of a kind the annotation
guidelines (nlp/data/annotated/GUIDELINES.md) decided after the double annotation showed
annotators split on it (REVIEW_KINDS), and that are not adjudicated yet; each with both
label records in an order drawn from the article id, without the annotators' names.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import hashlib
import json
import re
from typing import Any

from nlp.annotated import (
    GOLD_FIELDS,
    label_disagreements,
    read_adjudicated,
    read_labels,
    read_pool,
    read_second_labels,
    shared_article,
)

# Recurring kinds of article on which annotators split and the guidelines now decide:
# every article of these kinds is adjudicated, agreed or not, so that the gold is
# consistent. Found by words; the adjudicator reads and decides.
REVIEW_KINDS = {
    "KPAI vs PB Djarum audition": r"djarum",
    "child-marriage law": r"(perkawinan|pernikahan) (anak|dini|usia anak)|batas usia "
    r"(perkawinan|pernikahan|menikah)|UU Perkawinan",
    "law-making on sexual violence": r"RUU PKS|RKUHP|RUU KUHP|RUU TPKS|RUU Penghapusan "
    r"Kekerasan Seksual",
    "mucikari": r"mucikari|germo",
}

SHOWN_FIELDS = (*GOLD_FIELDS, "confidence", "notes")


def _two_labels(article_id: str, first: dict[str, Any], second: dict[str, Any]) -> str:
    """Both records, in an order that does not tell which annotation came first."""
    pair = [first, second]
    if hashlib.sha256(article_id.encode()).digest()[0] % 2:
        pair.reverse()
    return "\n".join(
        f"annotation {name}: " + json.dumps({k: r.get(k) for k in SHOWN_FIELDS}, ensure_ascii=False)
        for name, r in zip("XY", pair, strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--max-chars", type=int, default=5000)
    parser.add_argument("--unlabelled", action="store_true", help="skip labelled articles")
    parser.add_argument("--split", choices=("train", "test"), help="print one split only")
    parser.add_argument("--disagreements", action="store_true", help="for adjudication")
    args = parser.parse_args()
    labelled = read_labels() if args.unlabelled else {}
    first = read_labels(adjudicated=False) if args.disagreements else {}
    second = read_second_labels() if args.disagreements else {}
    decided = read_adjudicated() if args.disagreements else {}
    pool = read_pool()
    for number, item in enumerate(pool[args.start : args.start + args.count], args.start):
        if item.id in labelled or (args.split and item.split != args.split):
            continue
        differing: list[str] = []
        if args.disagreements:
            if item.id in decided or item.id not in first or item.id not in second:
                continue
            differing = label_disagreements(first[item.id], second[item.id])
        article = shared_article(args.data_dir, item.ref)
        kinds = [
            kind
            for kind, pattern in REVIEW_KINDS.items()
            if args.disagreements and re.search(pattern, f"{article.title} {article.text}", re.I)
        ]
        if args.disagreements and not differing and not kinds:
            continue
        text = article.text[: args.max_chars]
        more = " […]" if len(article.text) > args.max_chars else ""
        print(f"===== #{number} id={item.id} stratum={item.stratum} split={item.split}")
        print(f"url: {article.url}\npublished: {article.published}\nsource: {article.source}")
        print(f"TITLE: {article.title}\n{text}{more}\n")
        if args.disagreements:
            print(f"DISAGREE ON: {', '.join(differing) or 'nothing'}")
            if kinds:
                print(f"REVIEW UNDER THE GUIDELINES FOR: {', '.join(kinds)}")
            print(_two_labels(item.id, first[item.id], second[item.id]) + "\n")


if __name__ == "__main__":
    main()
