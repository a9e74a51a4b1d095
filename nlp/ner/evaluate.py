"""Entity-level precision, recall and F1 (exact span and label), per label and micro, as the
IndoLEM and CoNLL evaluations count them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from nlp.ner.data import LABELS, MISSING, Sentence

Span = tuple[int, int, str]


def bio_spans(tags: Sequence[str]) -> set[Span]:
    """Token spans (start, end, label) of BIO tags; MISSING counts as outside."""
    spans: set[Span] = set()
    start: int | None = None
    label = ""
    for i, tag in enumerate([*tags, "O"]):
        inside = tag.startswith("I-") and start is not None and tag[2:] == label
        if inside:
            continue
        if start is not None:
            spans.add((start, i, label))
            start = None
        if tag.startswith(("B-", "I-")) and tag != MISSING:
            start, label = i, tag[2:]
    return spans


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "p": round(100 * self.precision, 2),
            "r": round(100 * self.recall, 2),
            "f1": round(100 * self.f1, 2),
            "support": self.tp + self.fn,
        }


@dataclass
class Scores:
    per_label: dict[str, Counts] = field(default_factory=dict)

    @property
    def micro(self) -> Counts:
        total = Counts()
        for counts in self.per_label.values():
            total.tp += counts.tp
            total.fp += counts.fp
            total.fn += counts.fn
        return total

    def as_dict(self) -> dict[str, Any]:
        return {
            "micro": self.micro.as_dict(),
            "per_label": {label: c.as_dict() for label, c in sorted(self.per_label.items())},
        }


def score_spans(
    pairs: Iterable[tuple[set[Span], set[Span]]], labels: Iterable[str] = LABELS
) -> Scores:
    """Scores (gold, predicted) span sets over `labels`; other labels are ignored on both
    sides (a set without TIME is not scored on TIME)."""
    wanted = tuple(labels)
    scores = Scores({label: Counts() for label in wanted})
    for gold, predicted in pairs:
        gold = {span for span in gold if span[2] in wanted}
        predicted = {span for span in predicted if span[2] in wanted}
        for span in gold & predicted:
            scores.per_label[span[2]].tp += 1
        for span in predicted - gold:
            scores.per_label[span[2]].fp += 1
        for span in gold - predicted:
            scores.per_label[span[2]].fn += 1
    return scores


Predictor = Callable[[list[list[str]]], list[set[Span]]]


def evaluate_sentences(
    predict: Predictor, sentences: Sequence[Sentence], labels: Iterable[str] | None = None
) -> Scores:
    """Runs `predict` on the gold tokenisation and scores it over the labels the set
    annotates (or `labels`)."""
    wanted = (
        tuple(labels)
        if labels is not None
        else tuple(label for label in LABELS if all(label in s.annotates for s in sentences))
    )
    predicted = predict([sentence.words for sentence in sentences])
    gold = [bio_spans(sentence.tags) for sentence in sentences]
    return score_spans(zip(gold, predicted, strict=True), wanted)


def average(fold_scores: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean over folds of the per-fold P/R/F1 (IndoLEM reports the mean of fold F1s)."""

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values), 2) if values else 0.0

    labels = sorted({label for s in fold_scores for label in s["per_label"]})
    result: dict[str, Any] = {
        "micro": {key: mean([s["micro"][key] for s in fold_scores]) for key in ("p", "r", "f1")},
        "per_label": {},
        "folds": len(fold_scores),
    }
    for label in labels:
        present = [s["per_label"][label] for s in fold_scores if label in s["per_label"]]
        result["per_label"][label] = {
            key: mean([p[key] for p in present]) for key in ("p", "r", "f1")
        }
    result["micro_f1_by_fold"] = [s["micro"]["f1"] for s in fold_scores]
    return result


def format_scores(scores: dict[str, Any], title: str) -> str:
    """One evaluation as a table: per label, then micro."""

    def row(name: str, values: dict[str, Any]) -> str:
        support = values.get("support", "")
        return f"{name:<14}{values['p']:>7.2f}{values['r']:>7.2f}{values['f1']:>7.2f}{support:>7}"

    lines = [title, f"{'label':<14}{'P':>7}{'R':>7}{'F1':>7}{'gold':>7}"]
    lines.extend(row(label, values) for label, values in scores["per_label"].items())
    lines.append(row("micro", scores["micro"]))
    return "\n".join(lines)


def format_fold_table(results: dict[str, Any], titles: dict[str, str]) -> str:
    """The recorded 5-fold results beside the published numbers."""
    summary = results.get("summary", {})
    lines: list[str] = []
    for name, title in titles.items():
        if name not in summary:
            continue
        entry = summary[name]
        folds = entry["folds"]
        lines.append(
            f"{title}: mean over {folds} fold{'s' if folds != 1 else ''} "
            f"(micro F1 by fold: {', '.join(f'{f:.2f}' for f in entry['micro_f1_by_fold'])})"
        )
        lines.append(f"  {'label':<14}{'P':>7}{'R':>7}{'F1':>7}")
        for label, row in entry["per_label"].items():
            lines.append(f"  {label:<14}{row['p']:>7.2f}{row['r']:>7.2f}{row['f1']:>7.2f}")
        micro = entry["micro"]
        lines.append(f"  {'micro':<14}{micro['p']:>7.2f}{micro['r']:>7.2f}{micro['f1']:>7.2f}")
        published = ", ".join(f"{k} {v}" for k, v in entry.get("published_f1", {}).items())
        lines.append(f"  published micro F1 (IndoLEM paper): {published}")
        lines.append("")
    return "\n".join(lines).rstrip()
