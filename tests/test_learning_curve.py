"""scripts/incident_learning_curve.py: precision read at the highest threshold that still
finds 90 % of the incidents, with the tagger's own relevance decision."""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytest

from tests.helpers import load_script


@pytest.fixture(scope="module")
def curve() -> ModuleType:
    return load_script("incident_learning_curve")


def test_precision_is_read_at_the_highest_threshold_keeping_recall(curve: ModuleType) -> None:
    # Ten incidents scored 0.50 … 0.95, one aggregate at 0.90, one none at 0.30.
    gold = np.array(["incident"] * 10 + ["aggregate", "none"])
    p_incident = np.array([0.5 + 0.05 * i for i in range(10)] + [0.9, 0.3])
    p_relevant = np.array([0.9] * 11 + [0.1])
    p_given = np.array([0.9] * 10 + [0.9, 0.9])
    threshold, precision, recall, macro_f1 = curve.at_target_recall(
        gold, p_incident, p_relevant, p_given
    )
    # Nine of ten incidents are still found at 0.55; at 0.56 only eight.
    assert threshold == pytest.approx(0.55)
    assert recall == pytest.approx(0.9)
    assert precision == pytest.approx(9 / 10)  # the aggregate at 0.90 is a false alarm
    # incident F1 9/10 … ; the aggregate never found (0); none right (1).
    assert macro_f1 == pytest.approx((18 / 20 + 0.0 + 1.0) / 3)


def test_a_relevant_article_the_second_head_vetoes_is_an_aggregate(curve: ModuleType) -> None:
    decided = curve.decide(
        np.array([0.9, 0.9, 0.1]), np.array([0.9, 0.9, 0.1]), np.array([0.9, 0.2, 0.9]), 0.2
    )
    assert decided.tolist() == ["incident", "aggregate", "none"]
