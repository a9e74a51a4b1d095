from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nlp.evaluate import evaluate, read_gold
from pantau.models import ModelInfo, Region, TaggedArticle, Victims

KOTA_JAMBI = Region(name="Kota Jambi", code="15.71", level="kabupaten_kota", province_code="15")
KERINCI = Region(name="Kabupaten Kerinci", code="15.01", level="kabupaten_kota", province_code="15")


def predicted(relevance: str, categories: list[str], **fields: object) -> TaggedArticle:
    return TaggedArticle(
        id="x",
        relevance=relevance,  # type: ignore[arg-type]
        categories=categories,  # type: ignore[arg-type]
        model=ModelInfo(name="t", version="1"),
        **fields,  # type: ignore[arg-type]
    )


def test_scores_each_field_against_gold() -> None:
    pairs = [
        (
            {
                "relevance": "incident",
                "categories": ["tppo"],
                "victims_count": 22,
                "primary_location": "15.71",
                "domestic": False,
            },
            predicted(
                "incident",
                ["tppo"],
                victims=Victims(count=22),
                primary_location=KOTA_JAMBI,
                domestic=False,
            ),
        ),
        (
            {
                "relevance": "incident",
                "categories": ["kekerasan_seksual"],
                "victims_count": 1,
                "primary_location": "15.71.01",
            },
            predicted(
                "aggregate",
                ["kekerasan_seksual", "kekerasan_fisik"],
                victims=Victims(count=2),
                primary_location=KERINCI,
            ),
        ),
        (
            {
                "relevance": "none",
                "categories": [],
                "primary_location": None,
                "victims_count": None,
            },
            predicted("none", [], primary_location=KERINCI),
        ),
    ]
    result = evaluate(pairs).as_dict()
    assert result["relevance"]["accuracy"] == pytest.approx(2 / 3)
    assert result["relevance"]["confusion"] == {
        "incident->aggregate": 1,
        "incident->incident": 1,
        "none->none": 1,
    }
    assert result["relevance"]["incident_precision"] == 1.0
    assert result["relevance"]["incident_recall"] == 0.5
    # forms: tp tppo, tp seksual, fp fisik → micro F1 = 2*2/(2*2+1)
    assert result["categories"]["micro_f1"] == pytest.approx(0.8)
    # Where both say relevant (the first two articles), the same forms are scored; the
    # 'none' article is left out.
    assert result["categories_both_relevant"]["scored"] == 2
    assert result["categories_both_relevant"]["micro_f1"] == pytest.approx(0.8)
    # Counts are scored on incidents only: the 'none' article's null == null is not a hit.
    assert result["victims_count_exact"] == {"accuracy": 0.5, "correct": 1, "total": 2}
    # The second gold incident was tagged aggregate: left out where both say incident.
    assert result["victims_count_exact_both_incident"] == {
        "accuracy": 1.0,
        "correct": 1,
        "total": 1,
    }
    # The 'none' article's location is not scored; a kecamatan gold is judged at its regency.
    assert result["primary_location_regency"]["total"] == 2
    assert result["primary_location_regency"]["correct"] == 1
    assert result["primary_location_province"]["correct"] == 2
    assert result["domestic_accuracy"]["total"] == 1


def test_partial_gold_scores_only_known_groups() -> None:
    result = evaluate(
        [
            (
                {"victim_groups_include": ["anak"]},
                predicted("incident", [], victim_groups=["anak", "perempuan"]),
            )
        ]
    )
    assert result.victim_groups.micro_f1 == 1.0
    assert not result.confusion


def test_bad_gold_line_names_its_number() -> None:
    with pytest.raises(ValueError, match="gold line 2"):
        list(read_gold(['{"id": "a", "text": "t", "gold": {}}', '{"id": "b", "text": "t"}']))


def test_eval_tag_command_prints_the_table(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        json.dumps(
            {
                "id": "1",
                "title": "Polisi Tangkap Mucikari Jual Siswi SMP",
                "text": "Polresta Jambi menangkap mucikari yang menjual siswi SMP berinisial "
                "AN (15) lewat aplikasi di Kota Jambi.",
                "gold": {"relevance": "incident", "categories": ["tppo", "eksploitasi"]},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pantau", "eval", "tag", "--gold", str(gold), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    scores = json.loads(result.stdout)
    assert scores["articles"] == 1
    assert scores["relevance"]["scored"] == 1
    assert set(scores["categories"]["per_label"]) >= {"tppo", "eksploitasi"}


def test_eval_tag_on_the_annotated_held_out_split(data_dir: Path) -> None:
    """`pantau eval tag --gold annotated` joins the labels with the shared texts and scores
    every labelled held-out article (and only those)."""
    from typer.testing import CliRunner

    from nlp.annotated import load_annotated
    from pantau.cli import app

    held_out = list(load_annotated(data_dir, split="test"))
    assert held_out, "the annotated set has labelled held-out articles"
    assert {item.item.split for item in held_out} == {"test"}
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "eval",
            "tag",
            "--gold",
            "annotated",
            "--shared-data",
            str(data_dir),
            "--json",
            "--intervals",
            "50",
            "--by-source",
        ],
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    low, high = scores["intervals"]["relevance macro-F1"]
    assert low <= scores["relevance"]["macro_f1"] <= high and low < high
    assert scores["articles"] == len(held_out)
    assert scores["relevance"]["scored"] == len(held_out)
    assert 0.0 <= scores["relevance"]["incident_precision"] <= 1.0
    relevant = sum(1 for item in held_out if item.gold["relevance"] != "none")
    assert scores["primary_location_regency"]["total"] <= relevant
    # Digest masking is checked against the victims' names the annotators listed.
    named = [item for item in held_out if item.gold.get("victim_names")]
    masking = scores["victim_name_masking"]
    assert masking["articles"] == len(named) > 0
    assert 0 <= masking["visible"] < masking["mentions"]
    assert masking["relevant_articles"] <= masking["articles"]
    # Relevance per collection the articles came from: every article in one of them.
    parts = scores["by_source"]
    assert set(parts) == {
        "incidents/child-abuse-news.dev",
        "news/click-id",
        "news/detik-2025-aspects",
    }
    assert sum(part["articles"] for part in parts.values()) == len(held_out)
    incidents = sum(1 for item in held_out if item.gold["relevance"] == "incident")
    assert sum(part["incidents"] for part in parts.values()) == incidents
    for part in parts.values():
        assert {"macro_f1", "precision", "recall", "forms_micro_f1"} <= set(part)
    masked_parts = masking["by_source"]
    assert set(masked_parts) <= set(parts)
    for key in ("articles", "mentions", "visible", "relevant_mentions", "relevant_visible"):
        assert sum(part[key] for part in masked_parts.values()) == masking[key], key

    wrong = runner.invoke(
        app, ["eval", "tag", "--gold", "annotated", "--split", "dev", "--shared-data", "/x"]
    )
    assert wrong.exit_code == 2
    assert "--split" in wrong.output


def test_forms_where_both_say_relevant_leave_out_relevance_misses() -> None:
    """A case the tagger calls `none` loses its forms in the forms score; the score on
    the articles both call relevant shows how well forms are read once relevance is right."""
    from nlp.evaluate import evaluate_labels

    missed = ({"relevance": "incident", "categories": ["tppo"]}, {"relevance": "none"})
    found = (
        {"relevance": "incident", "categories": ["kekerasan_seksual"]},
        {"relevance": "incident", "categories": ["kekerasan_seksual"]},
    )
    result = evaluate_labels([missed, found])
    scores = result.as_dict()
    assert scores["categories"]["micro_f1"] == pytest.approx(2 / 3)
    assert scores["categories_both_relevant"]["scored"] == 1
    assert scores["categories_both_relevant"]["micro_f1"] == pytest.approx(1.0)


def test_the_incident_date_is_scored_on_cases_both_sides_report() -> None:
    """A stated date must match; a null gold date is matched by null only (a guessed
    date is an error); a case the tagger missed is not scored for its date."""
    from nlp.evaluate import evaluate, format_report

    gold = {"relevance": "incident", "incident_date": "2026-11-14"}
    pairs = [
        (gold, predicted("incident", [], incident_date="2026-11-14")),
        (gold, predicted("incident", [], incident_date="2026-11-16")),
        ({"relevance": "incident", "incident_date": None}, predicted("incident", [])),
        (
            {"relevance": "incident", "incident_date": None},
            predicted("incident", [], incident_date="2026-11-16"),
        ),
        (gold, predicted("none", [])),
    ]
    result = evaluate(pairs)
    assert (result.incident_date.correct, result.incident_date.total) == (2, 4)
    assert "incident date exact, where both say incident: 0.500 (2/4)" in format_report(result)


def test_bootstrap_intervals_resample_whole_case_groups() -> None:
    from nlp.evaluate import bootstrap_intervals

    right = ({"relevance": "incident"}, {"relevance": "incident"})
    wrong = ({"relevance": "incident"}, {"relevance": "none"})
    # Ten cases, one article each, 7 found: recall varies between resamples.
    single = [(f"case{i}", *(right if i < 7 else wrong)) for i in range(10)]
    low, high = bootstrap_intervals(single, resamples=200)["incident recall"]
    assert low < 0.7 < high
    assert bootstrap_intervals(single, resamples=200) == bootstrap_intervals(single, 200)
    # The same ten articles as one case (copies of one story): every resample draws the
    # whole case, so there is nothing to vary, as there is no independent evidence.
    one_case = [("case", gold, other) for _, gold, other in single]
    assert bootstrap_intervals(one_case, resamples=200)["incident recall"] == (0.7, 0.7)


def test_precision_at_recall_is_the_best_threshold_of_the_incident_score() -> None:
    # Scores high to low: incident, none, incident, incident, none, incident (4 incidents).
    scored = [
        (0.9, "incident"),
        (0.8, "none"),
        (0.7, "incident"),
        (0.6, "incident"),
        (0.5, "none"),
        (0.4, "incident"),
    ]
    result = evaluate(
        ({"relevance": gold}, predicted("none", [], scores={"incident": score}))
        for score, gold in scored
    )
    # Recall >= 0.9 needs all four incidents: threshold 0.4, precision 4/6.
    assert result.incident_precision_at_recall(0.9) == (4 / 6, 0.4)
    # Recall >= 0.75 is reached at 0.6 with 3/4, better than 0.4's 4/6.
    assert result.incident_precision_at_recall(0.75) == (3 / 4, 0.6)
    # Ties go in together: two articles at 0.5, one of them an incident.
    tied = evaluate(
        ({"relevance": gold}, predicted("none", [], scores={"incident": 0.5}))
        for gold in ("incident", "none")
    )
    assert tied.incident_precision_at_recall(0.9) == (0.5, 0.5)
    none_scored = evaluate([({"relevance": "none"}, predicted("none", []))])
    assert none_scored.incident_precision_at_recall() is None
