"""The trained incident classifier: a safe artifact, calibrated monotone scores, and decisions
that correct the rules where they miss."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from nlp.annotated import load_annotated
from nlp.classifier import (
    DEFAULT_MODEL_DIR,
    MODEL_FILE_NAME,
    RULE_FEATURES,
    RULE_SCORE_OF_HEAD,
    IncidentClassifier,
    rule_vector,
)
from nlp.tagger import RuleTagger
from pantau.models import CATEGORIES, ArticleIn


@pytest.fixture(scope="module")
def classifier() -> IncidentClassifier:
    return IncidentClassifier.load(DEFAULT_MODEL_DIR)


@pytest.fixture(scope="module")
def combined() -> RuleTagger:
    # Without the NER model (tests/test_ner* cover it): it does not change any decision.
    return RuleTagger(ner=None)


@pytest.fixture(scope="module")
def rules_only() -> RuleTagger:
    return RuleTagger(model_dir=None, ner=None)


def test_the_shipped_model_is_plain_json_with_every_head(classifier: IncidentClassifier) -> None:
    raw = json.loads((DEFAULT_MODEL_DIR / MODEL_FILE_NAME).read_text(encoding="utf-8"))
    assert set(raw["heads"]) >= {"relevant", "incident", "incident_given_relevant", *CATEGORIES}
    assert raw["rule_features"] == list(RULE_FEATURES)
    assert len(classifier.spec.vocabulary) == len(classifier.spec.idf) > 1000


def test_the_tagger_uses_the_model_and_names_it_in_its_version(
    combined: RuleTagger, rules_only: RuleTagger, classifier: IncidentClassifier
) -> None:
    assert combined.classifier is not None
    assert f".lr{classifier.digest}" in combined.version
    assert ".lr" not in rules_only.version


def test_without_a_built_model_the_rules_tag_alone(tmp_path: Path) -> None:
    tagger = RuleTagger(model_dir=tmp_path, ner=None)
    assert tagger.classifier is None
    assert ".lr" not in tagger.version


def test_a_damaged_model_file_fails_loudly_with_its_path(tmp_path: Path) -> None:
    raw = json.loads((DEFAULT_MODEL_DIR / MODEL_FILE_NAME).read_text(encoding="utf-8"))
    raw["heads"]["relevant"]["calibration"]["a"] = -1.0  # a decreasing "probability"
    (tmp_path / MODEL_FILE_NAME).write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError, match=MODEL_FILE_NAME):
        IncidentClassifier.load(tmp_path)
    del raw["heads"]["tppo"]
    raw["heads"]["relevant"]["calibration"]["a"] = 1.0
    (tmp_path / MODEL_FILE_NAME).write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ValueError, match="lacks heads: tppo"):
        IncidentClassifier.load(tmp_path)


def _demo_articles() -> list[ArticleIn]:
    from crawlers.demo_site.server import load_articles

    return [
        ArticleIn(id=str(a.id), title=a.title, text="\n\n".join(a.paragraphs))
        for a in load_articles()
    ]


def test_probabilities_are_monotone_in_the_decision_value(
    classifier: IncidentClassifier, rules_only: RuleTagger
) -> None:
    """Over many articles, a higher decision value never gives a lower probability."""
    points: dict[str, list[tuple[float, float]]] = {"relevant": [], "incident": []}
    for article in _demo_articles():
        evidence = rules_only.rule_evidence(article)
        values = classifier.decision_values(article.title, article.text, evidence)
        rule_scores = rules_only.tag(article).scores
        prediction = classifier.predict(article.title, article.text, evidence, rule_scores)
        for head, found in points.items():
            found.append((values[head], prediction.probabilities[head]))
    for found in points.values():
        found.sort()
        probabilities = [p for _, p in found]
        assert all(0.0 <= p <= 1.0 for p in probabilities)
        assert probabilities == sorted(probabilities)
        assert probabilities[0] < 0.5 < probabilities[-1]  # the demo has both kinds


def test_rule_evidence_is_squashed_into_the_unit_interval() -> None:
    vector = rule_vector({"margin:tppo": 1e9, "margin:relevant": -1e9})
    assert len(vector) == len(RULE_FEATURES)
    assert max(vector) == pytest.approx(1.0)
    assert min(vector) == pytest.approx(-1.0)
    assert all(not math.isnan(v) for v in vector)


def test_the_classifier_corrects_relevance_where_the_rules_miss(
    data_dir: Path, combined: RuleTagger, rules_only: RuleTagger
) -> None:
    """On the annotated train articles (which it learned from) the classifier must fix
    some of the rules' relevance errors and add fewer errors than it fixes."""
    fixed = broken = 0
    for item in load_annotated(data_dir, split="train"):
        gold = item.gold["relevance"]
        by_rules = rules_only.tag(item.article).relevance == gold
        by_both = combined.tag(item.article).relevance == gold
        fixed += by_both and not by_rules
        broken += by_rules and not by_both
    assert fixed >= 1
    assert broken < fixed


def test_pantau_tag_on_the_demo_articles_writes_valid_records(
    shared: Path, combined: RuleTagger
) -> None:
    """The contract path (`pantau tag`) with the classifier and person roles: every demo
    article gives a record valid against the schema, with calibrated scores."""
    from jsonschema import Draft202012Validator

    from nlp.contract import tag_jsonl

    schema = json.loads((shared / "contracts" / "tagged-article.schema.json").read_text())
    validator = Draft202012Validator(schema)
    lines = [article.model_dump_json(exclude_none=True) + "\n" for article in _demo_articles()]
    results = list(tag_jsonl(lines, combined))
    assert len(results) == len(lines)
    roles = set()
    for result in results:
        assert result.ok, result.error
        record = json.loads(result.output)
        assert not list(validator.iter_errors(record))
        assert record["model"]["version"] == combined.version
        roles |= {e.get("role") for e in record["entities"] if e["label"] == "PERSON"}
    assert {"victim", "perpetrator"} <= roles


def test_the_incident_threshold_leans_to_recall_on_out_of_fold_scores() -> None:
    """A missed case is the worst error: training picks the threshold with the best F2 on
    the annotated articles' out-of-fold probabilities (only those count)."""
    import numpy as np

    from nlp.classifier_training import recall_leaning_threshold
    from nlp.training_data import Example

    def example(source: str) -> tuple[Example, dict[str, float]]:
        article = ArticleIn(id=f"{source}-x", title="t", text="x", url="https://a.example/x")
        return Example(article, {}, source, 1.0), {}

    # Eight annotated articles, four of them cases (one scored low, 0.32); two click-id
    # examples whose scores must not count.
    examples = [example("annotated-train") for _ in range(8)] + [example("click-id")] * 2
    labels = np.array([True, True, True, True, False, False, False, False, False, True])
    probabilities = np.array([0.9, 0.8, 0.7, 0.32, 0.34, 0.34, 0.34, 0.1, 0.9, 0.1])
    logits = np.log(probabilities / (1 - probabilities))
    mask = np.ones(len(examples), bool)
    # 0.3 finds all four cases with three false alarms (F2 0.87), 0.5 three cases with none
    # (F2 0.79): recall wins, where F1 would keep 0.5 (0.86 against 0.73).
    assert recall_leaning_threshold(examples, mask, labels, logits) == 0.3
    # Well separated scores: the highest threshold of the best keeps precision.
    separated = np.where(labels, 0.9, 0.1)
    logits = np.log(separated / (1 - separated))
    assert recall_leaning_threshold(examples, mask, labels, logits) == 0.5


# A clear case: a schoolgirl abused by her stepfather, the perpetrator arrested.
STEPFATHER_CASE = ArticleIn(
    id="r1",
    title="Siswi SMP dicabuli ayah tiri di Kota Jambi",
    text="Seorang siswi SMP berusia 14 tahun dicabuli ayah tirinya di Kota Jambi. Pelaku "
    "ditangkap Polresta Jambi.",
    url="https://news.example/r1",  # a reserved .example name: data only, never fetched
)


@pytest.mark.parametrize("head", ["relevant", "incident", "incident_given_relevant", *CATEGORIES])
def test_any_head_can_leave_its_decision_to_the_rules(tmp_path: Path, head: str) -> None:
    """Training hands a head to the rules when they did better in cross-validation (it
    happened to `relevant` on the adjudicated labels): the tagger then takes the rules'
    score for it, and decides as the rules do."""
    raw = json.loads((DEFAULT_MODEL_DIR / MODEL_FILE_NAME).read_text(encoding="utf-8"))
    raw["heads"][head]["source"] = "rules"
    raw["heads"][head]["threshold"] = 0.5
    (tmp_path / MODEL_FILE_NAME).write_text(json.dumps(raw), encoding="utf-8")
    tagger = RuleTagger(model_dir=tmp_path, ner=None)
    rules = RuleTagger(model_dir=None, ner=None)
    tagged, by_rules = tagger.tag(STEPFATHER_CASE), rules.tag(STEPFATHER_CASE)
    # The rules have no incident-given-relevant score: their incident score stands in.
    assert tagged.scores[head] == pytest.approx(by_rules.scores[RULE_SCORE_OF_HEAD.get(head, head)])


def test_an_article_about_cases_in_general_is_an_aggregate_not_an_incident(
    tmp_path: Path,
) -> None:
    """An incident needs both the incident head and the incident-given-relevant head: an
    article with violence words that, given that it is relevant, reads as cases in general
    is filed as an aggregate, however high its P(incident)."""
    shipped = RuleTagger(ner=None).tag(STEPFATHER_CASE)
    assert shipped.relevance == "incident"
    assert shipped.scores["incident_given_relevant"] >= 0.5
    raw = json.loads((DEFAULT_MODEL_DIR / MODEL_FILE_NAME).read_text(encoding="utf-8"))
    raw["heads"]["incident_given_relevant"]["intercept"] -= 100.0  # "cases in general"
    (tmp_path / MODEL_FILE_NAME).write_text(json.dumps(raw), encoding="utf-8")
    tagged = RuleTagger(model_dir=tmp_path, ner=None).tag(STEPFATHER_CASE)
    assert tagged.scores["incident"] == pytest.approx(shipped.scores["incident"])
    assert tagged.scores["incident_given_relevant"] < 0.01
    assert tagged.relevance == "aggregate"
    # P(aggregate) = P(relevant) x P(aggregate | relevant).
    assert tagged.scores["aggregate"] == pytest.approx(tagged.scores["relevant"], abs=0.01)
