"""Would more annotated articles help the incident classifier? A learning curve.

    .venv/bin/python scripts/incident_learning_curve.py --data-dir ../shared/data

The annotated train split only (the test split is never read, as in training). Five folds
by case group, as the training's own cross-validation; in each, the three relevance heads
(`relevant`, `incident`, `incident_given_relevant`) are fitted on the weak examples (general
news, child-abuse articles, demo) plus a random share of the other folds' annotated case
groups, and score the fold's annotated articles. The tagger's decision follows: an
incident needs P(incident) over a threshold and P(incident | relevant) ≥ 0.5, else an
aggregate needs P(relevant) ≥ 0.5. Reported per share, as the mean over repeats: incident
precision at the highest threshold whose recall is still at least 0.90 (the issue's target is
precision ≥ 0.90 at recall ≥ 0.90) and relevance macro-F1 at that threshold. Raw, not
Platt-calibrated, probabilities: the curve compares shares, not thresholds. A flat curve
says that more articles of the same kind will not lift the figures.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.model_selection import StratifiedGroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.classifier import relevance_from_heads
from nlp.classifier_training import (
    FOLDS,
    SEED,
    case_groups,
    design_matrix,
    gather,
    head_model,
)
from nlp.tagger import RuleTagger

RELEVANCE_CLASSES = ("incident", "aggregate", "none")
TARGET_RECALL = 0.90
THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.01), 2)


def decide(
    p_incident: np.ndarray, p_relevant: np.ndarray, p_given_relevant: np.ndarray, threshold: float
) -> np.ndarray:
    """The tagger's relevance decision from the three heads, article by article."""
    return np.array(
        [
            relevance_from_heads(bool(i >= threshold), bool(g >= 0.5), bool(r >= 0.5))
            for i, g, r in zip(p_incident, p_given_relevant, p_relevant, strict=True)
        ]
    )


def macro_f1(gold: np.ndarray, predicted: np.ndarray) -> float:
    scores = []
    for label in RELEVANCE_CLASSES:
        tp = int(((gold == label) & (predicted == label)).sum())
        wrong = int(((gold == label) != (predicted == label)).sum())
        scores.append(2 * tp / (2 * tp + wrong) if tp + wrong else 1.0)
    return float(np.mean(scores))


def at_target_recall(
    gold: np.ndarray, p_incident: np.ndarray, p_relevant: np.ndarray, p_given: np.ndarray
) -> tuple[float, float, float, float]:
    """(threshold, precision, recall, macro-F1) at the highest threshold whose incident
    recall still reaches TARGET_RECALL (the lowest threshold when none does)."""
    best = None
    for threshold in THRESHOLDS:
        predicted = decide(p_incident, p_relevant, p_given, float(threshold))
        said = predicted == "incident"
        hits = int((said & (gold == "incident")).sum())
        recall = hits / max(int((gold == "incident").sum()), 1)
        precision = hits / max(int(said.sum()), 1)
        if recall >= TARGET_RECALL or best is None:
            best = (float(threshold), precision, recall, macro_f1(gold, predicted))
    assert best is not None
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--shares", type=float, nargs="+", default=[0.4, 0.6, 0.8, 1.0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    examples, _ = gather(args.data_dir, RuleTagger(model_dir=None, ner=None))
    _, _, terms, rule_matrix = design_matrix(examples)
    features = sparse.hstack([terms, sparse.csr_matrix(rule_matrix)]).tocsr()
    weights = np.array([e.weight for e, _ in examples])
    groups = case_groups([e for e, _ in examples])
    relevance = np.array([e.labels.get("relevance") or "" for e, _ in examples])
    annotated = np.array([e.source == "annotated-train" for e, _ in examples])
    labelled = np.flatnonzero(relevance != "")
    is_relevant = np.isin(relevance, ("incident", "aggregate"))
    is_incident = relevance == "incident"
    folds = list(
        StratifiedGroupKFold(n_splits=FOLDS, shuffle=True, random_state=SEED).split(
            labelled, is_incident[labelled], groups[labelled]
        )
    )
    scored = np.flatnonzero(annotated)
    gold = relevance[scored]
    annotated_groups = np.unique(groups[annotated])
    print(
        f"{len(scored)} annotated train articles in {len(annotated_groups)} case groups; "
        f"{int((~annotated & (relevance != '')).sum())} weak examples",
        flush=True,
    )
    rng = np.random.default_rng(SEED)
    for share in args.shares:
        runs = []
        for _ in range(args.repeats if share < 1 else 1):
            kept = set(rng.choice(annotated_groups, round(len(annotated_groups) * share), False))
            p_incident = np.zeros(len(examples))
            p_relevant = np.zeros(len(examples))
            p_given = np.ones(len(examples))
            for train_part, test_part in folds:
                train_rows, test_rows = labelled[train_part], labelled[test_part]
                train_rows = train_rows[
                    ~annotated[train_rows] | np.isin(groups[train_rows], list(kept))
                ]
                for target, labels, rows in (
                    (p_incident, is_incident, train_rows),
                    (p_relevant, is_relevant, train_rows),
                    (p_given, is_incident, train_rows[is_relevant[train_rows]]),
                ):
                    model = head_model(True).fit(features[rows], labels[rows], weights[rows])
                    target[test_rows] = model.predict_proba(features[test_rows])[:, 1]
            runs.append(
                at_target_recall(gold, p_incident[scored], p_relevant[scored], p_given[scored])
            )
        threshold, precision, recall, f1 = np.mean(runs, axis=0)
        print(
            f"share {share:.2f} ({len(runs)} run(s)): precision {precision:.3f} at recall "
            f"{recall:.3f} (threshold {threshold:.2f}), macro-F1 {f1:.3f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
