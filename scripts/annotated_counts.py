"""Counts of the annotated set per split and label, as Markdown (for its datasheet).

Usage: python scripts/annotated_counts.py
Reads only the repository (pool and labels), not the article texts.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.annotated import read_adjudicated, read_labels, read_pool, read_second_labels
from pantau.models import CATEGORIES


def main() -> None:
    pool = read_pool()
    labels = read_labels()
    first = read_labels(adjudicated=False)
    second = read_second_labels()
    adjudicated = read_adjudicated()
    rows: dict[str, Counter[str]] = {}

    def count(row: str, split: str) -> None:
        rows.setdefault(row, Counter())[split] += 1

    for item in pool:
        count("pool articles", item.split)
        count(f"stratum {item.stratum}", item.split)
        record = labels.get(item.id)
        if record is None:
            continue
        count("labelled", item.split)
        count(f"relevance {record['relevance']}", item.split)
        for category in record.get("categories") or []:
            count(f"form {category}", item.split)
        for group in record.get("victim_groups") or []:
            count(f"victim group {group}", item.split)
        if record.get("domestic") is not None:
            count(f"domestic {str(record['domestic']).lower()}", item.split)
        if record.get("perpetrator_relation"):
            count(f"relation {record['perpetrator_relation']}", item.split)
        if record.get("primary_location"):
            count("with primary location", item.split)
        if record.get("victims_count") is not None:
            count("with victims count", item.split)
        count(f"confidence {record.get('confidence', 'unknown')}", item.split)
        # Who labelled: the first annotation, the second one, and the adjudicator where
        # the final record is theirs.
        for role, records in (
            ("first annotation", first),
            ("second annotation", second),
            ("adjudicated", adjudicated),
        ):
            if item.id in records:
                count(role, item.split)
                who = str(records[item.id].get("annotator", "unknown")).split(",")[0]
                count(f"{role}: {who}", item.split)

    order = ["pool articles", "labelled", "first annotation", "second annotation", "adjudicated"]
    order += sorted(r for r in rows if r.startswith("stratum"))
    order += [f"relevance {r}" for r in ("incident", "aggregate", "none")]
    order += [f"form {c}" for c in CATEGORIES]
    order += sorted(r for r in rows if r not in order)
    print("| | train | test | total |")
    print("|---|---:|---:|---:|")
    for row in order:
        if row in rows:
            counts = rows[row]
            print(f"| {row} | {counts['train']} | {counts['test']} | {sum(counts.values())} |")


if __name__ == "__main__":
    main()
