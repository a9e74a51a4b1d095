"""Double annotation of the annotated set: disagreements, adjudication, agreement report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from nlp.agreement import annotator_agreement
from nlp.annotated import (
    ADJUDICATED_FILE_NAME,
    SECOND_DIR_NAME,
    label_disagreements,
    read_labels,
    read_pool,
    read_second_labels,
    split_of,
)


def label(article_id: str, relevance: str = "none", **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": article_id,
        "relevance": relevance,
        "categories": [],
        "victim_groups": [],
        "domestic": None,
        "victims_count": None,
        "perpetrator_relation": None,
        "primary_location": None,
    }
    return record | fields


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def pool_line(article_id: str, split: str) -> dict[str, Any]:
    return {
        "id": article_id,
        "url": f"https://news.example/{article_id}",
        "ref": {"file": "x.jsonl", "row": 0},
        "text_sha256": "0" * 64,
        "stratum": "test",
        "group": article_id,
        "split": split,
    }


CASE = {
    "categories": ["kekerasan_seksual"],
    "victim_groups": ["anak"],
    "domestic": True,
    "victims_count": 1,
    "perpetrator_relation": "keluarga",
    "primary_location": "15.71",
}


def test_disagreements_are_the_scored_fields_compared_as_eval_compares_them() -> None:
    first = label("a", "incident", **CASE)
    # Same sets in another order, and the same kabupaten/kota at kecamatan level: agreement.
    same = label("a", "incident", **(CASE | {"primary_location": "15.71.01"}))
    assert label_disagreements(first, same) == []
    other = label("a", "incident", **(CASE | {"victims_count": 2, "domestic": None}))
    assert label_disagreements(first, other) == ["domestic", "victims_count"]
    assert label_disagreements(first, label("a", "aggregate"))[0] == "relevance"
    # Two `none` labels agree whatever else they carry: nothing else is scored for them.
    assert label_disagreements(label("a"), label("a", victims_count=3)) == []


def test_adjudication_replaces_the_first_label_and_the_report_counts_it(tmp_path: Path) -> None:
    pool = [pool_line("a", "test"), pool_line("b", "test"), pool_line("c", "train")]
    write_jsonl(tmp_path / "pool.jsonl", pool)
    write_jsonl(
        tmp_path / "labels-a.jsonl",
        [label("a", "incident", **CASE), label("b", "aggregate"), label("c")],
    )
    second = [label("a", "incident", **CASE), label("b"), label("c")]
    write_jsonl(tmp_path / SECOND_DIR_NAME / "labels-j.jsonl", second)
    assert set(read_second_labels(tmp_path)) == {"a", "b", "c"}

    report = annotator_agreement("test", tmp_path)
    evaluation, summary = report.between_annotators, report.adjudication
    assert (summary.articles, summary.double_annotated, summary.disagreed) == (2, 2, 1)
    assert summary.disagreed_by_field["relevance"] == 1
    assert summary.disagreed_not_adjudicated == 1 and summary.adjudicated == 0
    assert evaluation.confusion[("aggregate", "none")] == 1
    assert evaluation.relevance_accuracy() == pytest.approx(0.5)

    write_jsonl(tmp_path / ADJUDICATED_FILE_NAME, [label("b", notes="a prevention campaign only")])
    assert read_labels(tmp_path)["b"]["relevance"] == "none"
    assert read_labels(tmp_path, adjudicated=False)["b"]["relevance"] == "aggregate"
    report = annotator_agreement("test", tmp_path)
    evaluation, summary = report.between_annotators, report.adjudication
    # Agreement is measured between the two annotations, before adjudication; against the
    # adjudicated gold the second annotation is now right on both articles.
    assert evaluation.confusion[("aggregate", "none")] == 1
    assert report.second_against_gold.relevance_accuracy() == pytest.approx(1.0)
    assert (summary.adjudicated, summary.disagreed_not_adjudicated) == (1, 0)
    assert summary.gold_changed_by_field == {"relevance": 1}

    write_jsonl(tmp_path / ADJUDICATED_FILE_NAME, [label("zz")])
    with pytest.raises(ValueError, match="unlabelled"):
        read_labels(tmp_path)


def test_cohen_kappa_discounts_chance_agreement() -> None:
    from nlp.evaluate import evaluate_labels

    # Both annotators say `none` 9 times in 10 and never agree on anything else: 80 %
    # raw agreement, yet no better than chance.
    pairs = [(label("x"), label("x"))] * 8 + [
        (label("x", "incident"), label("x")),
        (label("x"), label("x", "incident")),
    ]
    evaluation = evaluate_labels(pairs)
    assert evaluation.relevance_accuracy() == pytest.approx(0.8)
    assert evaluation.relevance_kappa() == pytest.approx(-1 / 9)
    perfect = evaluate_labels([(label("x"), label("x")), (label("y", "incident"),) * 2])
    assert perfect.relevance_kappa() == pytest.approx(1.0)


def test_eval_agreement_reports_the_repository_double_annotation() -> None:
    """`pantau eval agreement` reads only the repository's label files and its counts
    hang together: every disagreement is adjudicated or listed as still open."""
    from pantau.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["eval", "agreement", "--split", "all", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    summary = report["adjudication"]
    second = read_second_labels()
    assert summary["double_annotated"] == len(second) > 0
    assert report["relevance"]["scored"] == len(second)
    assert summary["adjudicated"] + summary["disagreed_not_adjudicated"] == summary["disagreed"]
    text = runner.invoke(app, ["eval", "agreement"])
    assert text.exit_code == 0 and "Cohen's kappa" in text.output
    wrong = runner.invoke(app, ["eval", "agreement", "--split", "dev"])
    assert wrong.exit_code == 2 and "--split" in wrong.output


def test_the_pool_keeps_each_case_in_one_split_and_model_picked_articles_in_train() -> None:
    """The held-out numbers rest on these: no case has an article on both sides (rewrites
    of a story would leak), and articles chosen because the tagger flagged them (active
    learning, round 7) never enter the held-out split, which would then be biased against
    the model that chose them."""
    pool = read_pool()
    splits_of_group: dict[str, set[str]] = {}
    for item in pool:
        splits_of_group.setdefault(item.group, set()).add(item.split)
        assert item.split == split_of(item.group)
    assert all(len(splits) == 1 for splits in splits_of_group.values())
    picked = [item for item in pool if item.stratum == "round7-tagger-flagged"]
    assert picked and all(item.split == "train" for item in picked)
