"""`pantau eval tag`: how well the tagger agrees with gold labels, field by field.

Gold files are JSONL: an article (the input contract's fields) plus a `gold` object with
any of `relevance`, `categories`, `victim_groups`, `domestic`, `victims_count`,
`perpetrator_relation`, `primary_location` (a Kemendagri code; scored only for articles
whose gold relevance is not `none`). A field a gold record does
not carry is not scored for that record, so partially labelled sets (such as the
child-abuse set, whose gold says only `victim_groups_include`, `domestic` and
`perpetrator_relation`) are scored on what they know.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pantau.models import CATEGORIES, ArticleIn, TaggedArticle

if TYPE_CHECKING:
    from nlp.annotated import Split

RELEVANCE_LABELS = ("incident", "aggregate", "none")
GROUPS = ("anak", "perempuan")


@dataclass
class SetScores:
    """Per-label true/false positives and false negatives for a multi-label field."""

    labels: tuple[str, ...]
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    records: int = 0

    def add(self, gold: set[str], predicted: set[str]) -> None:
        self.records += 1
        for label in self.labels:
            if label in gold and label in predicted:
                self.tp[label] += 1
            elif label in predicted:
                self.fp[label] += 1
            elif label in gold:
                self.fn[label] += 1

    def f1(self, label: str) -> float:
        return _f1(self.tp[label], self.fp[label], self.fn[label])

    @property
    def micro_f1(self) -> float:
        return _f1(sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values()))

    @property
    def macro_f1(self) -> float:
        present = [label for label in self.labels if self.tp[label] + self.fn[label] > 0]
        return sum(self.f1(label) for label in present) / len(present) if present else 0.0


@dataclass
class Agreement:
    correct: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.correct += int(ok)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass
class TagEvaluation:
    articles: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)  # (gold, predicted)
    categories: SetScores = field(default_factory=lambda: SetScores(CATEGORIES))
    # Forms on the articles both the gold and the other side call relevant: how well forms
    # are read once relevance is right (`categories` also pays for every relevance error).
    categories_both_relevant: SetScores = field(default_factory=lambda: SetScores(CATEGORIES))
    victim_groups: SetScores = field(default_factory=lambda: SetScores(GROUPS))
    domestic: Agreement = field(default_factory=Agreement)
    relation: Agreement = field(default_factory=Agreement)
    victims_count: Agreement = field(default_factory=Agreement)
    # Counts on the gold incidents the other side also calls an incident.
    victims_count_both_incident: Agreement = field(default_factory=Agreement)
    location_regency: Agreement = field(default_factory=Agreement)
    location_province: Agreement = field(default_factory=Agreement)
    # The incident date (a stated one, or null) on the gold incidents the other side also
    # calls an incident: a date on a missed case cannot be read at all.
    incident_date: Agreement = field(default_factory=Agreement)
    # (score, gold) of P(incident): how well calibrated the incident score is.
    incident_scores: list[tuple[float, bool]] = field(default_factory=list)

    def incident_calibration(self) -> tuple[float, float]:
        """Brier score and expected calibration error (10 equal-width bins) of the
        incident score."""
        pairs = self.incident_scores
        if not pairs:
            return 0.0, 0.0
        brier = sum((p - float(g)) ** 2 for p, g in pairs) / len(pairs)
        bins: dict[int, list[tuple[float, bool]]] = {}
        for p, g in pairs:
            bins.setdefault(min(int(p * 10), 9), []).append((p, g))
        ece = sum(
            abs(sum(p for p, _ in b) / len(b) - sum(g for _, g in b) / len(b)) * len(b)
            for b in bins.values()
        ) / len(pairs)
        return brier, ece

    def incident_precision_at_recall(self, recall: float = 0.9) -> tuple[float, float] | None:
        """The best precision, and its threshold, of P(incident) alone over every threshold
        whose recall is at least `recall`: what the score's ranking allows on this set (the
        issue's "precision at recall 0.90"), not the tagger's own operating point, whose
        threshold was chosen on the train split. None without a scored gold incident."""
        pairs = sorted(self.incident_scores, key=lambda pair: -pair[0])
        positives = sum(1 for _, is_incident in pairs if is_incident)
        if not positives:
            return None
        best: tuple[float, float] | None = None
        tp = fp = i = 0
        while i < len(pairs):
            threshold = pairs[i][0]
            while i < len(pairs) and pairs[i][0] == threshold:  # a threshold takes all ties
                tp, fp = (tp + 1, fp) if pairs[i][1] else (tp, fp + 1)
                i += 1
            if tp / positives >= recall and (best is None or tp / (tp + fp) > best[0]):
                best = (tp / (tp + fp), threshold)
        return best

    def relevance_accuracy(self) -> float:
        total = sum(self.confusion.values())
        return sum(n for (g, p), n in self.confusion.items() if g == p) / total if total else 0.0

    def relevance_f1(self, label: str) -> float:
        tp = self.confusion[(label, label)]
        fp = sum(n for (g, p), n in self.confusion.items() if p == label and g != label)
        fn = sum(n for (g, p), n in self.confusion.items() if g == label and p != label)
        return _f1(tp, fp, fn)

    def relevance_macro_f1(self) -> float:
        present = [lbl for lbl in RELEVANCE_LABELS if any(g == lbl for g, _ in self.confusion)]
        return sum(self.relevance_f1(lbl) for lbl in present) / len(present) if present else 0.0

    def relevance_kappa(self) -> float:
        """Cohen's kappa of the relevance labels: agreement beyond what chance gives."""
        total = sum(self.confusion.values())
        if not total:
            return 0.0
        observed = self.relevance_accuracy()
        expected = sum(
            sum(n for (g, _), n in self.confusion.items() if g == label)
            * sum(n for (_, p), n in self.confusion.items() if p == label)
            for label in RELEVANCE_LABELS
        ) / (total * total)
        return (observed - expected) / (1 - expected) if expected < 1 else 1.0

    def incident_precision_recall(self) -> tuple[float, float]:
        tp = self.confusion[("incident", "incident")]
        fp = sum(n for (g, p), n in self.confusion.items() if p == "incident" and g != "incident")
        fn = sum(n for (g, p), n in self.confusion.items() if g == "incident" and p != "incident")
        return (tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0)

    def as_dict(self) -> dict[str, Any]:
        precision, recall = self.incident_precision_recall()
        brier, ece = self.incident_calibration()
        return {
            "articles": self.articles,
            "relevance": {
                "scored": sum(self.confusion.values()),
                "accuracy": self.relevance_accuracy(),
                "macro_f1": self.relevance_macro_f1(),
                "kappa": self.relevance_kappa(),
                "incident_precision": precision,
                "incident_recall": recall,
                "incident_score_brier": brier,
                "incident_score_ece": ece,
                "incident_score_precision_at_recall_0_90": self.incident_precision_at_recall(),
                "confusion": {f"{g}->{p}": n for (g, p), n in sorted(self.confusion.items())},
            },
            "categories": _set_dict(self.categories),
            "categories_both_relevant": _set_dict(self.categories_both_relevant),
            "victim_groups": _set_dict(self.victim_groups),
            "domestic_accuracy": _agreement_dict(self.domestic),
            "perpetrator_relation_accuracy": _agreement_dict(self.relation),
            "victims_count_exact": _agreement_dict(self.victims_count),
            "victims_count_exact_both_incident": _agreement_dict(self.victims_count_both_incident),
            "primary_location_regency": _agreement_dict(self.location_regency),
            "primary_location_province": _agreement_dict(self.location_province),
            "incident_date_exact_both_incident": _agreement_dict(self.incident_date),
        }


def evaluate(records: Iterable[tuple[dict[str, Any], TaggedArticle]]) -> TagEvaluation:
    """Score (gold, predicted) pairs."""
    return evaluate_labels((gold, tagged_labels(predicted)) for gold, predicted in records)


def tagged_labels(tagged: TaggedArticle) -> dict[str, Any]:
    """A tagged record's scored fields in the shape of a gold label record."""
    labels: dict[str, Any] = {
        "relevance": tagged.relevance,
        "categories": list(tagged.categories),
        "victim_groups": list(tagged.victim_groups),
        "domestic": tagged.domestic,
        "perpetrator_relation": tagged.perpetrators.relation,
        "victims_count": tagged.victims.count,
        "primary_location": tagged.primary_location.code if tagged.primary_location else None,
        "incident_date": tagged.incident_date,
    }
    if "incident" in tagged.scores:
        labels["incident_score"] = tagged.scores["incident"]
    return labels


def evaluate_labels(records: Iterable[tuple[dict[str, Any], dict[str, Any]]]) -> TagEvaluation:
    """Score (gold, other) pairs of label records: the tagger's (`tagged_labels`) or a
    second annotator's, whose agreement with the first is the ceiling a tagger can show."""
    result = TagEvaluation()
    for gold, other in records:
        result.articles += 1
        if "relevance" in gold:
            result.confusion[(gold["relevance"], str(other.get("relevance", "none")))] += 1
            if "incident_score" in other:
                result.incident_scores.append(
                    (float(other["incident_score"]), gold["relevance"] == "incident")
                )
        if "categories" in gold:
            result.categories.add(set(gold["categories"]), set(other.get("categories") or ()))
            if gold.get("relevance", "none") != "none" and other.get("relevance") != "none":
                result.categories_both_relevant.add(
                    set(gold["categories"]), set(other.get("categories") or ())
                )
        if "victim_groups" in gold:
            groups = set(other.get("victim_groups") or ())
            result.victim_groups.add(set(gold["victim_groups"]), groups)
        elif "victim_groups_include" in gold:
            # Only the listed groups are known: score those labels, not the others.
            known = set(gold["victim_groups_include"])
            found = {g for g in other.get("victim_groups") or () if g in known}
            result.victim_groups.add(known, found)
        if gold.get("domestic") is not None:
            result.domestic.add(bool(gold["domestic"]) == bool(other.get("domestic")))
        if gold.get("perpetrator_relation") is not None:
            result.relation.add(gold["perpetrator_relation"] == other.get("perpetrator_relation"))
        if "victims_count" in gold and gold.get("relevance", "incident") == "incident":
            # A count belongs to a reported case: scoring it on other articles too would
            # mostly compare null with null and flatter the number.
            same_count = gold["victims_count"] == other.get("victims_count")
            result.victims_count.add(same_count)
            if other.get("relevance") == "incident":
                result.victims_count_both_incident.add(same_count)
        if (
            "incident_date" in gold
            and gold.get("relevance") == "incident"
            and other.get("relevance") == "incident"
        ):
            result.incident_date.add(gold["incident_date"] == other.get("incident_date"))
        if "primary_location" in gold and gold.get("relevance") != "none":
            # Where a case happened matters for incidents and aggregates; for other news
            # the schema leaves the location to the tagger's judgement.
            _score_location(result, gold["primary_location"], other.get("primary_location"))
    return result


# The headline measures of the model card, as functions of an evaluation, for intervals.
INTERVAL_MEASURES: dict[str, Callable[[TagEvaluation], float]] = {
    "relevance macro-F1": TagEvaluation.relevance_macro_f1,
    "incident precision": lambda e: e.incident_precision_recall()[0],
    "incident recall": lambda e: e.incident_precision_recall()[1],
    "forms micro-F1": lambda e: e.categories.micro_f1,
    "domestic accuracy": lambda e: e.domestic.accuracy,
    "victims count exact": lambda e: e.victims_count.accuracy,
    "primary location, kabupaten/kota": lambda e: e.location_regency.accuracy,
}


def bootstrap_intervals(
    records: Sequence[tuple[str, dict[str, Any], dict[str, Any]]],
    resamples: int = 1000,
    seed: int = 20261128,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of the headline measures over (group, gold, other) records,
    resampling whole case groups with replacement: articles on one case are not
    independent, so resampling articles would give intervals too narrow."""
    by_group: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for group, gold, other in records:
        by_group.setdefault(group, []).append((gold, other))
    groups = list(by_group)
    rng = random.Random(seed)
    samples: dict[str, list[float]] = {name: [] for name in INTERVAL_MEASURES}
    for _ in range(resamples):
        drawn = [pair for _ in groups for pair in by_group[rng.choice(groups)]]
        evaluation = evaluate_labels(drawn)
        for name, measure in INTERVAL_MEASURES.items():
            samples[name].append(measure(evaluation))
    tail = (1 - level) / 2
    intervals = {}
    for name, values in samples.items():
        values.sort()
        low = values[round(tail * (len(values) - 1))]
        high = values[round((1 - tail) * (len(values) - 1))]
        intervals[name] = (low, high)
    return intervals


def _score_location(
    result: TagEvaluation, gold_code: str | None, predicted_code: str | None
) -> None:
    if gold_code is None:
        result.location_regency.add(predicted_code is None)
        result.location_province.add(predicted_code is None)
        return
    parts = (predicted_code or "").split(".")
    result.location_regency.add(".".join(parts[:2]) == ".".join(gold_code.split(".")[:2]))
    result.location_province.add(parts[0] == gold_code.split(".")[0])


def read_gold(lines: Iterable[str]) -> Iterable[tuple[ArticleIn, dict[str, Any]]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            gold = raw.pop("gold")
            article = ArticleIn.model_validate(raw)
        except (json.JSONDecodeError, KeyError, ValueError) as exc:
            raise ValueError(f"gold line {number}: {exc}") from exc
        yield article, gold


def format_report(evaluation: TagEvaluation) -> str:
    data = evaluation.as_dict()
    relevance = data["relevance"]
    lines = [f"articles: {evaluation.articles}"]
    if relevance["scored"]:
        lines += [
            f"relevance accuracy {relevance['accuracy']:.3f}  macro-F1 "
            f"{relevance['macro_f1']:.3f}  Cohen's kappa {relevance['kappa']:.3f}  incident "
            f"precision {relevance['incident_precision']:.3f} recall "
            f"{relevance['incident_recall']:.3f}",
            *(
                [
                    f"  incident score: Brier {relevance['incident_score_brier']:.3f}, "
                    f"expected calibration error {relevance['incident_score_ece']:.3f}"
                ]
                if evaluation.incident_scores
                else []
            ),
            *(
                [
                    f"  incident score alone, any threshold: best precision at recall >= 0.90 "
                    f"{at_recall[0]:.3f} (P(incident) >= {at_recall[1]:.3f}; the ranking's "
                    "ceiling on this set, not the tagger's operating point)"
                ]
                if (at_recall := evaluation.incident_precision_at_recall()) is not None
                else []
            ),
            "  confusion (rows gold, columns predicted):",
            "  " + " " * 11 + "".join(f"{label:>11}" for label in RELEVANCE_LABELS),
        ]
        for gold_label in RELEVANCE_LABELS:
            row = [evaluation.confusion[(gold_label, p)] for p in RELEVANCE_LABELS]
            lines.append(f"  {gold_label:<11}" + "".join(f"{n:>11}" for n in row))
    for name, scores in (
        ("forms", evaluation.categories),
        ("  forms where both say relevant", evaluation.categories_both_relevant),
        ("victim groups", evaluation.victim_groups),
    ):
        if scores.records:
            per_label = ", ".join(
                f"{label} {scores.f1(label):.2f}"
                for label in scores.labels
                if scores.tp[label] + scores.fn[label] + scores.fp[label]
            )
            lines.append(
                f"{name}: micro-F1 {scores.micro_f1:.3f} macro-F1 {scores.macro_f1:.3f} "
                f"({scores.records} articles; {per_label})"
            )
    for name, agreement in (
        ("domestic accuracy", evaluation.domestic),
        ("perpetrator relation accuracy", evaluation.relation),
        ("victims count exact", evaluation.victims_count),
        ("  where both say incident", evaluation.victims_count_both_incident),
        ("primary location, kabupaten/kota", evaluation.location_regency),
        ("primary location, province", evaluation.location_province),
        ("incident date exact, where both say incident", evaluation.incident_date),
    ):
        if agreement.total:
            lines.append(
                f"{name}: {agreement.accuracy:.3f} ({agreement.correct}/{agreement.total})"
            )
    return "\n".join(lines)


def _f1(tp: int, fp: int, fn: int) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _set_dict(scores: SetScores) -> dict[str, Any]:
    return {
        "scored": scores.records,
        "micro_f1": scores.micro_f1,
        "macro_f1": scores.macro_f1,
        "per_label": {label: scores.f1(label) for label in scores.labels},
    }


def _agreement_dict(agreement: Agreement) -> dict[str, Any]:
    return {"accuracy": agreement.accuracy, "correct": agreement.correct, "total": agreement.total}


# -- named gold sets ----------------------------------------------------------------------

NAMED_GOLD_SETS = ("demo", "annotated", "general-news")


def annotated_gold(data_dir: Path, split: Split = "test") -> list[tuple[ArticleIn, dict[str, Any]]]:
    """The annotated set's articles of one split, texts joined from the shared data folder.

    `test` is the held-out part the model card reports; `train` is what the classifier and
    the rules were fitted on (its scores are optimistic)."""
    from nlp.annotated import load_annotated

    return [(item.article, item.gold) for item in load_annotated(data_dir, split=split)]


def general_news_gold(data_dir: Path, size: int = 2000) -> list[tuple[ArticleIn, dict[str, Any]]]:
    """A fixed sample of general news never trained on, each assumed `none`: what the tagger
    flags here is a false positive or a real case the sample happens to hold, to be checked
    by hand (`flagged`)."""
    from nlp.training_data import general_news_sample

    return [(article, {"relevance": "none"}) for article in general_news_sample(data_dir, size)]


def flagged(
    pairs: Iterable[tuple[ArticleIn, TaggedArticle]],
) -> list[tuple[ArticleIn, TaggedArticle]]:
    """The articles tagged relevant, for a hand check of a `general-news` run."""
    return [(article, tagged) for article, tagged in pairs if tagged.relevance != "none"]
