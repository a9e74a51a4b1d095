"""Select unlabelled general news the tagger finds relevant or is unsure of, for labelling
(active learning: nlp/data/annotated/round<N>-candidates.jsonl, read by
build_annotation_pool.py).

Where the classifier errs is where a labelled article teaches it most: the held-out
numbers of 2026-11-28 showed incident precision as the weakest measure, and its false
alarms are general news (celebrity gossip, crime against men) of the kinds the training
negatives hold only as weak labels ("the rules say none"). This scans the articles the
classifier may train on (the training half of click-id and detik 2025, outside the pool:
never the evaluation half, from which the false-positive sample is drawn) with the shipped
tagger and keeps those with P(relevant) or P(incident) above the thresholds. The tagger's
version is written with each line: the selection depends on the model, so it is kept as a
file, not recomputed when the pool is rebuilt.

Usage (round 7 was selected with classifier ec690cfd; a new round writes a new file, since
the pool is rebuilt from the recorded ones):
    python scripts/select_uncertain_articles.py --out nlp/data/annotated/round7-candidates.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.tagger import RuleTagger
from nlp.training_data import DETIK_FILE, detik_news_rows, general_news_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--min-relevant", type=float, default=0.25)
    parser.add_argument("--min-incident", type=float, default=0.1)
    args = parser.parse_args()
    # The classifier reads no NER output: the NER model would only cost time here.
    tagger = RuleTagger(ner=None)
    version = tagger.model_info.version
    scanned = 0
    chosen: list[dict[str, object]] = []
    trainable = itertools.chain(
        general_news_rows(args.data_dir, "train"),
        ((DETIK_FILE, row, article) for row, article in detik_news_rows(args.data_dir)),
    )
    for file, row, article in trainable:
        if len(article.text) < 300 or not article.url:
            continue
        scanned += 1
        scores = tagger.tag(article).scores
        relevant, incident = scores.get("relevant", 0.0), scores.get("incident", 0.0)
        if relevant >= args.min_relevant or incident >= args.min_incident:
            chosen.append(
                {
                    "file": file,
                    "row": row,
                    "id": article.id,
                    "relevant": round(relevant, 3),
                    "incident": round(incident, 3),
                    "tagger": version,
                }
            )
    with args.out.open("w", encoding="utf-8") as handle:
        for line in chosen:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    print(f"scanned {scanned} articles with {version}: {len(chosen)} → {args.out}")


if __name__ == "__main__":
    main()
