"""Training of the incident classifier (models/incident-classifier/model.json).

    pantau train tagger --shared-data ../shared/data
    # or: .venv/bin/python scripts/train_incident_classifier.py --data-dir ../shared/data

Reproducible: fixed seed, fixed samples, data only from the shared folder and the repository
(sources in nlp/training_data.py; the annotated TEST split is never read). Each head is a
scikit-learn logistic regression over TF-IDF terms plus the rule evidence; Platt scaling is
fitted on 5-fold out-of-fold decision values, so the probabilities were never fitted on
the articles they score. The script prints cross-validated scores on the annotated train
articles, rules alone vs rules + classifier, to show what the classifier adds.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold

from nlp.annotated import read_pool
from nlp.classifier import (
    BODY_CHARS,
    MODEL_FILE_NAME,
    MODEL_FORMAT,
    RELEVANCE_HEADS,
    RULE_FEATURES,
    RULE_SCALE,
    RULE_SCORE_OF_HEAD,
    rule_vector,
    term_counts,
    tfidf,
)
from nlp.tagger import RuleTagger
from nlp.training_data import (
    Example,
    HeldOutCases,
    StoreSelection,
    annotated_train,
    child_abuse_examples,
    demo_examples,
    negative_candidates,
    store_examples,
    text_key,
    url_key,
)
from pantau.models import CATEGORIES, ArticleIn

if TYPE_CHECKING:
    from pantau.export.labels import LabelledArticle

# How much better (F1) the rules must do than a head's out-of-fold F1 to take its decision.
RULES_MUST_WIN_BY = 0.02
SEED = 20261127
CLICK_ID_NEGATIVES = 2500
MIN_DF = 3
MAX_FEATURES = 12_000
# A form needs this many positive examples for its head to learn words; below, the head
# is a calibration of the rule margins only.
MIN_POSITIVES_FOR_TERMS = 12
# Below this many positive examples a head cannot even be calibrated: the rules decide.
MIN_POSITIVES_FOR_MODEL = 6
C_TERMS = 4.0
C_RULES_ONLY = 1.0
FOLDS = 5


def train(
    data_dir: Path, out_dir: Path, labelled: Iterable[LabelledArticle] = ()
) -> dict[str, Any]:
    """Train on the shared data and the repository's sources, plus the gold labels of the
    store (`labelled`: `pantau.export.labels.effective_labels`; empty: none), and write
    `out_dir/model.json`."""
    started = time.time()
    rules = RuleTagger(model_dir=None, ner=None)
    examples, selection = gather(data_dir, rules, labelled)
    return fit(examples, out_dir, selection, started)


def fit(
    examples: list[tuple[Example, dict[str, float]]],
    out_dir: Path,
    selection: StoreSelection | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """Fit every head on examples with their rule evidence (`with_evidence`) and write
    `out_dir/model.json`. Examples without a relevance label (a store article whose forms
    only a person set) train the forms heads only."""
    started = time.time() if started is None else started
    selection = selection or StoreSelection()
    print(f"{len(examples)} examples: {dict(Counter(e.source for e, _ in examples))}", flush=True)
    annotated = sum(1 for e, _ in examples if e.source == "annotated-train")
    print(
        f"train tagger: {annotated} annotated + {len(selection.examples)} from the store "
        f"({selection.count('corrected')} corrected, {selection.count('annotated')} annotated)"
        + (f"; left out of the store: {dict(selection.left_out)}" if selection.left_out else ""),
        flush=True,
    )

    vocabulary, idf, terms, rule_matrix = design_matrix(examples)
    weights = np.array([e.weight for e, _ in examples])
    groups = case_groups([e for e, _ in examples])

    heads: dict[str, Any] = {}
    report: dict[str, Any] = {}
    relevance = [e.labels.get("relevance") for e, _ in examples]
    has_relevance = np.array([r is not None for r in relevance], bool)
    is_relevant = np.array([r not in (None, "none") for r in relevance])
    is_incident = np.array([r == "incident" for r in relevance])
    targets: dict[str, tuple[np.ndarray, np.ndarray]] = {
        "relevant": (has_relevance, is_relevant),
        "incident": (has_relevance, is_incident),
        # One case or cases in general, learned from relevant articles only.
        "incident_given_relevant": (has_relevance & is_relevant, is_incident),
    }
    # Forms: P(form | relevant), from the examples whose forms are known. Without a
    # relevance label, forms a person chose mean relevant; no forms then says nothing.
    known = np.array([_forms_known(e.labels) for e, _ in examples], bool)
    for category in CATEGORIES:
        labels = np.array([category in e.labels.get("categories", []) for e, _ in examples])
        targets[category] = (known, labels)

    for name, (mask, labels) in targets.items():
        positives = int(labels[mask].sum())
        if positives < MIN_POSITIVES_FOR_MODEL:
            heads[name] = {
                "source": "rules",
                "weights": [],
                "rule_weights": [0.0] * len(RULE_FEATURES),
                "intercept": 0.0,
                "calibration": {"a": 1.0, "b": 0.0},
                "uses_terms": False,
                "trained_on": {"positive": positives, "negative": int(mask.sum()) - positives},
            }
            print(f"head {name}: {positives} positive examples: the rules decide", flush=True)
            continue
        uses_terms = name in RELEVANCE_HEADS or positives >= MIN_POSITIVES_FOR_TERMS
        features = (
            sparse.hstack([terms, sparse.csr_matrix(rule_matrix)]).tocsr()
            if uses_terms
            else sparse.csr_matrix(rule_matrix)
        )
        head, oof = fit_head(features[mask], labels[mask], weights[mask], uses_terms, groups[mask])
        head["trained_on"] = {"positive": positives, "negative": int(mask.sum()) - positives}
        if uses_terms:
            head["weights"] = [round(float(w), 6) for w in head.pop("coef")[: len(vocabulary)]]
            head["rule_weights"] = [
                round(float(w), 6) for w in head.pop("coef_all")[len(vocabulary) :]
            ]
        else:
            head["weights"] = []
            head["rule_weights"] = [round(float(w), 6) for w in head.pop("coef_all")]
            head.pop("coef")
        heads[name] = head
        if name == "incident":
            head["threshold"] = recall_leaning_threshold(examples, mask, labels, oof)
        report[name] = cv_report(name, examples, mask, labels, oof, head)
        # Model selection on the train split only: a head that does clearly worse than
        # the rules in cross-validation on the annotated train articles leaves the
        # decision to them. Clearly: the rules' F1 there is in-sample (their patterns were
        # written from those very articles' misses), the head's is out-of-fold.
        if (
            report[name]
            and report[name]["f1_classifier_oof"] + RULES_MUST_WIN_BY < report[name]["f1_rules"]
        ):
            head["source"] = "rules"
        report[name]["source"] = head.get("source", "model")
        print(f"head {name}: {json.dumps(report[name])}", flush=True)

    training: dict[str, Any] = {
        "seed": SEED,
        "examples": dict(Counter(e.source for e, _ in examples)),
        "min_df": MIN_DF,
        "max_features": MAX_FEATURES,
        "cross_validated_on_annotated_train": report,
    }
    if selection.examples or selection.left_out:
        # Which store labels (analysts' corrections, Label Studio annotations) went in.
        training["from_store"] = selection.summary()
    model = {
        "format": MODEL_FORMAT,
        "created_by": "scripts/train_incident_classifier.py --data-dir <shared data>",
        "body_chars": BODY_CHARS,
        "rule_features": list(RULE_FEATURES),
        "rule_scale": RULE_SCALE,
        "vocabulary": vocabulary,
        "idf": [round(v, 6) for v in idf],
        "heads": heads,
        "training": training,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / MODEL_FILE_NAME
    path.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size // 1024} KiB) in {time.time() - started:.0f} s")
    return model


def design_matrix(
    examples: list[tuple[Example, dict[str, float]]],
) -> tuple[list[str], list[float], sparse.csr_matrix, np.ndarray]:
    """The vocabulary and its IDF, each example's TF-IDF row over it, and its rule vector."""
    counts = [term_counts(e.article.title, e.article.text) for e, _ in examples]
    vocabulary, idf = build_vocabulary(counts)
    index = {term: i for i, term in enumerate(vocabulary)}
    rows = [tfidf(c, index, idf) for c in counts]
    terms = sparse.csr_matrix(
        (
            [v for row in rows for v in row.values()],
            (
                [r for r, row in enumerate(rows) for _ in row],
                [i for row in rows for i in row],
            ),
        ),
        shape=(len(rows), len(vocabulary)),
    )
    rule_matrix = np.array([rule_vector(features) for _, features in examples])
    return vocabulary, idf, terms, rule_matrix


def _forms_known(labels: dict[str, Any]) -> bool:
    if "categories" not in labels:
        return False
    if "relevance" in labels:
        return bool(labels["relevance"] != "none")
    return bool(labels["categories"])


def with_evidence(
    examples: Iterable[Example], rules: RuleTagger
) -> list[tuple[Example, dict[str, float]]]:
    return [(example, rules.rule_evidence(example.article)) for example in examples]


def gather(
    data_dir: Path, rules: RuleTagger, labelled: Iterable[LabelledArticle] = ()
) -> tuple[list[tuple[Example, dict[str, float]]], StoreSelection]:
    """Every example with the rules' evidence; general-news candidates that the rules find
    relevant are left out (their label is unknown: click-id has real cases too). Store
    examples (after the others, in article id order) never include a held-out article or
    a copy of an annotated one; a weak example that is a store article is left out (the
    person's label wins)."""
    gathered: list[tuple[Example, dict[str, float]]] = []
    held_out = HeldOutCases(data_dir)
    selection = store_examples(labelled, held_out)
    store_keys = {key for e in selection.examples for key in _keys(e.article)}
    annotated_keys: set[str] = set()
    left_out = 0
    sources = [
        annotated_train(data_dir),
        demo_examples(),
        child_abuse_examples(data_dir),
        negative_candidates(data_dir, CLICK_ID_NEGATIVES, SEED),
    ]
    for source in sources:
        for example in source:
            features = rules.rule_evidence(example.article)
            weak_negative = example.source in ("click-id", "detik-2025")
            if weak_negative and features["rule:relevant"] > 0:
                continue
            weak = example.source not in ("annotated-train", "demo")
            if weak and held_out.same_case(example.article):
                left_out += 1
                continue
            if not weak:
                annotated_keys.update(_keys(example.article))
            elif store_keys and store_keys & set(_keys(example.article)):
                continue
            gathered.append((example, features))
    print(f"left out {left_out} weak examples on the same case as a held-out article")
    kept = []
    for example in selection.examples:
        if annotated_keys & set(_keys(example.article)):
            selection.left_out["already in the annotated set"] += 1
        else:
            kept.append(example)
    selection.examples = kept
    return gathered + with_evidence(kept, rules), selection


def _keys(article: ArticleIn) -> list[str]:
    """What identifies one article across sources: its id, URL and normalised text."""
    keys = [f"id:{article.id}", f"text:{text_key(article.title, article.text)}"]
    return keys + ([f"url:{url_key(article.url)}"] if article.url else [])


def build_vocabulary(counts: list[Counter[str]]) -> tuple[list[str], list[float]]:
    """Terms in at least MIN_DF articles, the MAX_FEATURES most frequent; smoothed IDF."""
    document_frequency: Counter[str] = Counter()
    for c in counts:
        document_frequency.update(c.keys())
    frequent = [t for t, df in document_frequency.items() if df >= MIN_DF]
    frequent.sort(key=lambda t: (-document_frequency[t], t))
    vocabulary = sorted(frequent[:MAX_FEATURES])
    n = len(counts)
    idf = [math.log((1 + n) / (1 + document_frequency[t])) + 1.0 for t in vocabulary]
    return vocabulary, idf


def case_groups(examples: list[Example]) -> np.ndarray:
    """The cross-validation group of each example: an annotated article's case group (the
    pool's, so no case is on both sides of a fold), else the article itself."""
    pool_groups = {item.id: item.group for item in read_pool()}
    return np.array(
        [
            pool_groups.get(e.article.id, e.article.id)
            if e.source == "annotated-train"
            else f"{e.source}:{e.article.id}"
            for e in examples
        ]
    )


# Incident threshold: the one of these that maximises F-beta with beta 2 (recall counts
# four times as much as precision: a missed case is the worst error) on the annotated
# train articles' out-of-fold probabilities; ties keep the higher threshold.
INCIDENT_THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
RECALL_BETA = 2.0


def annotated_part(
    examples: list[tuple[Example, dict[str, float]]], mask: np.ndarray
) -> tuple[list[tuple[Example, dict[str, float]]], np.ndarray]:
    """A head's examples (`mask`) and which of them are annotated train articles."""
    selected = [pair for pair, keep in zip(examples, mask, strict=True) if keep]
    return selected, np.array([e.source == "annotated-train" for e, _ in selected], bool)


def recall_leaning_threshold(
    examples: list[tuple[Example, dict[str, float]]],
    mask: np.ndarray,
    labels: np.ndarray,
    oof_logits: np.ndarray,
) -> float:
    _, annotated = annotated_part(examples, mask)
    gold = labels[mask][annotated]
    probability = 1.0 / (1.0 + np.exp(-oof_logits[annotated]))
    best, best_score = 0.5, -1.0
    for threshold in sorted(INCIDENT_THRESHOLDS, reverse=True):
        predicted = probability >= threshold
        tp = int((gold & predicted).sum())
        precision = tp / max(int(predicted.sum()), 1)
        recall = tp / max(int(gold.sum()), 1)
        beta2 = RECALL_BETA**2
        score = (1 + beta2) * precision * recall / max(beta2 * precision + recall, 1e-9)
        if score > best_score + 1e-9:
            best, best_score = threshold, score
    return best


def head_model(uses_terms: bool) -> LogisticRegression:
    """The logistic regression of one head (unfitted)."""
    return LogisticRegression(
        C=C_TERMS if uses_terms else C_RULES_ONLY,
        max_iter=5000,
        solver="liblinear",
        random_state=SEED,  # liblinear shuffles: fixed, so the same data gives the same file
    )


def fit_head(
    features: sparse.csr_matrix,
    labels: np.ndarray,
    weights: np.ndarray,
    uses_terms: bool,
    groups: np.ndarray,
) -> tuple[dict[str, Any], np.ndarray]:
    """A logistic regression, its Platt calibration from out-of-fold decision values
    (folds by case group: `case_groups`), and those out-of-fold values (for the report)."""
    folds = StratifiedGroupKFold(
        n_splits=min(FOLDS, int(labels.sum()), int((~labels).sum())),
        shuffle=True,
        random_state=SEED,
    )
    oof = np.zeros(len(labels))
    for train_index, test_index in folds.split(features, labels, groups):
        fold_model = head_model(uses_terms).fit(
            features[train_index], labels[train_index], weights[train_index]
        )
        oof[test_index] = fold_model.decision_function(features[test_index])
    platt = LogisticRegression(C=1e4, solver="lbfgs").fit(oof.reshape(-1, 1), labels, weights)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    if a <= 0:
        raise SystemExit("calibration is not increasing: the head learned nothing useful")
    final = head_model(uses_terms).fit(features, labels, weights)
    coef = final.coef_[0]
    return (
        {
            "coef": coef,
            "coef_all": coef,
            "intercept": float(final.intercept_[0]),
            "calibration": {"a": a, "b": b},
            "threshold": 0.5,
            "uses_terms": uses_terms,
        },
        a * oof + b,
    )


def cv_report(
    name: str,
    examples: list[tuple[Example, dict[str, float]]],
    mask: np.ndarray,
    labels: np.ndarray,
    oof_logits: np.ndarray,
    head: dict[str, Any],
) -> dict[str, Any]:
    """Out-of-fold F1 on the annotated train articles: the rules' decision vs the head's."""
    selected, annotated = annotated_part(examples, mask)
    if not annotated.any():
        return {}
    gold = labels[mask][annotated]
    threshold = float(head.get("threshold", 0.5))
    predicted = oof_logits[annotated] >= math.log(threshold / (1 - threshold))  # p >= it
    rule_key = (
        f"rule:{RULE_SCORE_OF_HEAD.get(name, name)}"
        if name in RELEVANCE_HEADS
        else f"margin:{name}"
    )
    by_rules = np.array(
        [f[rule_key] >= 0 for (_, f), a in zip(selected, annotated, strict=True) if a]
    )
    return {
        "annotated_train_articles": int(annotated.sum()),
        "positives": int(gold.sum()),
        "f1_rules": round(_f1(gold, by_rules), 3),
        "f1_classifier_oof": round(_f1(gold, predicted), 3),
        "uses_terms": head["uses_terms"],
        "threshold": threshold,
    }


def _f1(gold: np.ndarray, predicted: np.ndarray) -> float:
    tp = int((gold & predicted).sum())
    fp = int((~gold & predicted).sum())
    fn = int((gold & ~predicted).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0
