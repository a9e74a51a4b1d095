"""The trained part of the incident tagger: calibrated linear heads over words and rule scores.

The rules (`rules/incident_rules.yaml`) are transparent but lexical; this classifier learns
from labelled articles what they miss. Each head is a logistic regression over
- the article's stemmed terms (`nlp.analysis`), TF-IDF weighted: body terms as they are,
  title terms again with a `t:` prefix (a headline says more than a body paragraph), and
- the rule tagger's own evidence (`RULE_FEATURES`: the margin of every form, of relevance,
  of incident vs aggregate, squashed to [-1, 1]), so the rules stay the backbone and the
  words correct them,
followed by Platt scaling fitted on cross-validated decision values: the output is a
probability, and 0.5 is the decision threshold.

Heads: `relevant` (incident or aggregate vs none), `incident` (incident vs the rest),
`incident_given_relevant` (incident vs aggregate, trained on relevant articles only) and one
per form of violence (given that the article is relevant). A form with too few labelled
examples gets a head over its rule margin alone: a calibration of the rule.

`incident` is trained against none and aggregate articles at once, and none articles are
most of them; so it learns "violence words" more than "one case", and an article about
cases in general (statistics, a policy built on a case) scores high on it. The
conditional head learns only that second distinction; an article the tagger calls an
incident must pass both (`nlp.tagger`).

The model is one JSON file (`models/incident-classifier/model.json`): vocabulary, IDF,
weights and calibration, readable and safe to load (no pickle). It is built by
`scripts/train_incident_classifier.py` (also `pantau train tagger`); inference here is pure
Python, no scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from nlp.analysis import analyze
from pantau.models import CATEGORIES, Relevance

MODEL_FORMAT: Final = "pantau-incident-classifier/1"
DEFAULT_MODEL_DIR: Final = Path(__file__).resolve().parent.parent / "models" / "incident-classifier"
MODEL_FILE_NAME: Final = "model.json"
# Terms are read from the title and this much of the body: the lead paragraphs say what an
# article is about, and a bounded prefix keeps tagging fast.
BODY_CHARS: Final = 6_000
TITLE_PREFIX: Final = "t:"
# Rule evidence the heads see, in this order (names of `RuleTagger._decide`'s margins).
RULE_FEATURES: Final[tuple[str, ...]] = (
    *(f"margin:{category}" for category in CATEGORIES),
    "margin:topic",
    "margin:relevant",
    "margin:incident",
    "rule:relevant",
    "rule:incident",
)
# Margins are squashed by tanh(margin / RULE_SCALE): a margin of a few points is strong
# evidence, a margin of 30 is not ten times stronger.
RULE_SCALE: Final = 4.0
RELEVANCE_HEADS: Final = ("relevant", "incident", "incident_given_relevant")
# A head whose decision was left to the rules (`source: rules`) takes the rules' score of
# the same decision; the rules have no score of their own for incident-given-relevant, so
# their incident score stands in (0.5 at their threshold: the rules' call decides).
RULE_SCORE_OF_HEAD: Final = {"incident_given_relevant": "incident"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Calibration(_Strict):
    """Platt scaling: probability = 1 / (1 + exp(-(a * decision + b)))."""

    a: float = Field(gt=0)  # > 0: a higher decision value never means a lower probability
    b: float


class HeadSpec(_Strict):
    """One logistic regression: weights over the vocabulary and over RULE_FEATURES.

    `source: rules` marks a head with too few labelled examples to learn anything: the
    rules decide, and the score is the rules' own (uncalibrated) score."""

    source: Literal["model", "rules"] = "model"
    weights: list[float]
    rule_weights: list[float]
    intercept: float
    calibration: Calibration
    threshold: float = Field(default=0.5, gt=0, lt=1)
    uses_terms: bool
    trained_on: dict[str, int] = Field(default_factory=dict)  # examples per class


class ModelSpec(_Strict):
    """The shape of model.json; anything unexpected fails loudly at load time."""

    format: str
    created_by: str
    body_chars: int = Field(gt=0)
    rule_features: list[str]
    rule_scale: float = Field(gt=0)
    vocabulary: list[str]
    idf: list[float]
    heads: dict[str, HeadSpec]
    training: dict[str, object] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        if self.format != MODEL_FORMAT:
            raise ValueError(f"unknown model format {self.format!r}; expected {MODEL_FORMAT}")
        if tuple(self.rule_features) != RULE_FEATURES:
            raise ValueError("model was trained with other rule features; retrain it")
        if len(self.idf) != len(self.vocabulary):
            raise ValueError("idf and vocabulary differ in length")
        missing = [h for h in (*RELEVANCE_HEADS, *CATEGORIES) if h not in self.heads]
        if missing:
            raise ValueError(f"model lacks heads: {', '.join(missing)}")
        for name, head in self.heads.items():
            if len(head.weights) not in (0, len(self.vocabulary)):
                raise ValueError(f"head {name}: weights do not match the vocabulary")
            if len(head.rule_weights) != len(RULE_FEATURES):
                raise ValueError(f"head {name}: rule weights do not match the rule features")
        return self


def term_counts(title: str, text: str, body_chars: int = BODY_CHARS) -> Counter[str]:
    """The terms of an article as the classifier counts them (training uses this too)."""
    counts: Counter[str] = Counter(TITLE_PREFIX + term for term in analyze(title))
    counts.update(analyze(text[:body_chars]))
    return counts


def rule_vector(rule_features: Mapping[str, float], scale: float = RULE_SCALE) -> list[float]:
    """RULE_FEATURES in order, squashed to [-1, 1]; a missing feature is 0."""
    return [math.tanh(rule_features.get(name, 0.0) / scale) for name in RULE_FEATURES]


def tfidf(
    counts: Mapping[str, int], index: Mapping[str, int], idf: Sequence[float]
) -> dict[int, float]:
    """Sublinear TF times IDF over the known vocabulary, L2-normalised."""
    vector = {
        index[term]: (1.0 + math.log(count)) * idf[index[term]]
        for term, count in counts.items()
        if term in index
    }
    norm = math.sqrt(sum(value * value for value in vector.values()))
    if norm:
        vector = {i: value / norm for i, value in vector.items()}
    return vector


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    exp_x = math.exp(x)
    return exp_x / (1.0 + exp_x)


@dataclass(frozen=True)
class Prediction:
    """Calibrated probabilities per head (`relevant`, `incident`, and every form)."""

    probabilities: dict[str, float]
    thresholds: dict[str, float]

    def says(self, head: str) -> bool:
        return self.probabilities[head] >= self.thresholds[head]

    def relevance(self) -> Relevance:
        return relevance_from_heads(
            self.says("incident"), self.says("incident_given_relevant"), self.says("relevant")
        )


def relevance_from_heads(
    incident: bool, incident_given_relevant: bool, relevant: bool
) -> Relevance:
    """The relevance the heads' decisions give: an incident needs both the incident head
    and the incident-given-relevant head (an article with violence words that reads, given
    that it is relevant, as cases in general is an aggregate); else relevant is aggregate."""
    if incident and incident_given_relevant:
        return "incident"
    return "aggregate" if relevant else "none"


class IncidentClassifier:
    """model.json, loaded: calibrated probabilities for one article."""

    def __init__(self, spec: ModelSpec, digest: str) -> None:
        self.spec = spec
        self.digest = digest  # short hash of the file: part of the tagger's version
        self._index = {term: i for i, term in enumerate(spec.vocabulary)}
        self._heads = spec.heads

    @classmethod
    def load(cls, model_dir: Path = DEFAULT_MODEL_DIR) -> IncidentClassifier:
        path = model_dir / MODEL_FILE_NAME
        raw = path.read_bytes()
        try:
            spec = ModelSpec.model_validate(json.loads(raw))
        except (json.JSONDecodeError, ValueError) as exc:
            raise ValueError(f"{path}: not a valid incident classifier: {exc}") from exc
        return cls(spec, hashlib.sha256(raw).hexdigest()[:8])

    def decision_values(
        self, title: str, text: str, rule_features: Mapping[str, float]
    ) -> dict[str, float]:
        """Uncalibrated decision values per head (what Platt scaling maps)."""
        terms = tfidf(term_counts(title, text, self.spec.body_chars), self._index, self.spec.idf)
        rules = rule_vector(rule_features, self.spec.rule_scale)
        values: dict[str, float] = {}
        for name, head in self._heads.items():
            value = head.intercept + sum(
                w * x for w, x in zip(head.rule_weights, rules, strict=True)
            )
            if head.uses_terms:
                weights = head.weights
                value += sum(weights[i] * x for i, x in terms.items())
            values[name] = value
        return values

    def predict(
        self,
        title: str,
        text: str,
        rule_features: Mapping[str, float],
        rule_scores: Mapping[str, float],
    ) -> Prediction:
        """`rule_scores`: the rules' scores (0.5 at their threshold), for `source: rules`
        heads."""
        values = self.decision_values(title, text, rule_features)
        probabilities = {
            name: (
                rule_scores[RULE_SCORE_OF_HEAD.get(name, name)]
                if head.source == "rules"
                else _sigmoid(head.calibration.a * values[name] + head.calibration.b)
            )
            for name, head in self._heads.items()
        }
        thresholds = {name: head.threshold for name, head in self._heads.items()}
        return Prediction(probabilities, thresholds)


def load_default_classifier(model_dir: Path = DEFAULT_MODEL_DIR) -> IncidentClassifier | None:
    """The shipped model, or None when it has not been built (the tagger then runs on rules)."""
    if not (model_dir / MODEL_FILE_NAME).is_file():
        return None
    return IncidentClassifier.load(model_dir)


__all__ = [
    "BODY_CHARS",
    "DEFAULT_MODEL_DIR",
    "MODEL_FILE_NAME",
    "MODEL_FORMAT",
    "RELEVANCE_HEADS",
    "RULE_FEATURES",
    "RULE_SCALE",
    "RULE_SCORE_OF_HEAD",
    "Calibration",
    "HeadSpec",
    "IncidentClassifier",
    "ModelSpec",
    "Prediction",
    "load_default_classifier",
    "relevance_from_heads",
    "rule_vector",
    "term_counts",
    "tfidf",
]
