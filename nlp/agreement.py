"""`pantau eval agreement`: how far two independent annotators of the annotated set agree.

Every article of `nlp/data/annotated/` was labelled once (`labels-*.jsonl`) and then again
by a second annotator who never saw the first labels (`second/labels-*.jsonl`). Scoring the
second annotation against the first with the very measures of `pantau eval tag` gives the
agreement people reach on the taxonomy: the ceiling against which the tagger's held-out
numbers should be read. Where the two disagreed, an adjudicator read the article and both
labels and wrote the final record (`adjudicated.jsonl`), which is the gold the tagger is
trained and scored on. Only label files are read: no shared data is needed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlp.annotated import (
    ANNOTATED_DIR,
    Split,
    label_disagreements,
    read_adjudicated,
    read_labels,
    read_pool,
    read_second_labels,
    with_adjudication,
)
from nlp.evaluate import TagEvaluation, evaluate_labels


@dataclass
class AdjudicationSummary:
    """How the double annotation went for one part of the set."""

    articles: int = 0
    double_annotated: int = 0
    # Articles on which the two annotators differ in at least one scored field.
    disagreed: int = 0
    disagreed_by_field: Counter[str] = field(default_factory=Counter)
    adjudicated: int = 0
    disagreed_not_adjudicated: int = 0
    # Fields in which the final gold differs from the first annotation.
    gold_changed_by_field: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "double_annotated": self.double_annotated,
            "disagreed": self.disagreed,
            "disagreed_by_field": dict(sorted(self.disagreed_by_field.items())),
            "adjudicated": self.adjudicated,
            "disagreed_not_adjudicated": self.disagreed_not_adjudicated,
            "gold_changed_by_field": dict(sorted(self.gold_changed_by_field.items())),
        }


@dataclass
class AgreementReport:
    # The second annotation scored against the first, both before adjudication.
    between_annotators: TagEvaluation
    # The second annotation scored against the final (adjudicated) gold: what one careful
    # independent reader scores on the measures the tagger is held to.
    second_against_gold: TagEvaluation
    adjudication: AdjudicationSummary

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.between_annotators.as_dict(),
            "second_against_gold": self.second_against_gold.as_dict(),
            "adjudication": self.adjudication.as_dict(),
        }


def annotator_agreement(
    split: Split | None = None, directory: Path = ANNOTATED_DIR
) -> AgreementReport:
    """The second annotation scored against the first (both before adjudication) and
    against the final gold, and a summary of the disagreements and of what adjudication
    changed, for one split or all."""
    first = read_labels(directory, adjudicated=False)
    second = read_second_labels(directory)
    adjudicated = read_adjudicated(directory)
    final = with_adjudication(first, adjudicated)  # the label files are read once each
    summary = AdjudicationSummary()
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    against_gold: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for item in read_pool(directory / "pool.jsonl"):
        if item.id not in first or (split is not None and item.split != split):
            continue
        summary.articles += 1
        gold_changes = label_disagreements(first[item.id], final[item.id])
        summary.gold_changed_by_field.update(gold_changes)
        if item.id not in second:
            continue
        summary.double_annotated += 1
        pairs.append((first[item.id], second[item.id]))
        against_gold.append((final[item.id], second[item.id]))
        differing = label_disagreements(first[item.id], second[item.id])
        if differing:
            summary.disagreed += 1
            summary.disagreed_by_field.update(differing)
            if item.id in adjudicated:
                summary.adjudicated += 1
            else:
                summary.disagreed_not_adjudicated += 1
    return AgreementReport(evaluate_labels(pairs), evaluate_labels(against_gold), summary)
