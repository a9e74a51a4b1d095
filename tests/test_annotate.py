"""The Label Studio round trip: tasks out with the model's pre-annotations, most uncertain
first; completed annotations in, with provenance; the next export shows them."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pantau.cli import app
from pantau.export.annotate import LABELING_CONFIG, label_studio_tasks
from pantau.export.build import export_dataset
from pantau.export.dataset import ExportFilters
from pantau.export.labels import effective_labels
from pantau.store import ArticleStore
from tests.export_fixtures import build_store


@pytest.fixture()
def data_dir(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "data"
    return folder, build_store(folder / "pantau.sqlite")


def test_tasks_are_ordered_by_uncertainty_and_carry_model_pre_annotations(
    data_dir: tuple[Path, dict[str, str]],
) -> None:
    folder, ids = data_dir
    with ArticleStore(folder / "pantau.sqlite") as store:
        tasks = label_studio_tasks(effective_labels(store))
    uncertainties = [t["data"]["uncertainty"] for t in tasks]
    assert uncertainties == sorted(uncertainties, reverse=True)
    # news 11 has incident 0.49 and news 12 does not exist: 0.49 is the closest to 0.5.
    assert tasks[0]["data"]["article_id"] == ids["news-11-0"]
    child = next(t for t in tasks if t["data"]["article_id"] == ids["child-0"])
    results = child["predictions"][0]["result"]
    spans = [r for r in results if r["type"] == "labels"]
    for span in spans:
        field = child["data"][span["to_name"]]
        value = span["value"]
        assert field[value["start"] : value["end"]] == value["text"]
    roles = {r["id"]: r["value"]["choices"] for r in results if r["from_name"] == "role"}
    assert ["victim"] in roles.values()
    assert {
        "from_name": "relevance",
        "to_name": "text",
        "type": "choices",
        "value": {"choices": ["incident"]},
    } in results
    # Every control the results name exists in the labelling config.
    for result in results:
        assert f'name="{result["from_name"]}"' in LABELING_CONFIG


def completed(
    task: dict[str, object], relevance: str, extra: list[dict[str, object]]
) -> dict[str, object]:
    """What Label Studio's JSON export holds after an annotator accepted and edited the
    pre-annotation of a task."""
    edited = copy.deepcopy(task)
    result = [
        r
        for r in edited["predictions"][0]["result"]  # type: ignore[index]
        if r["from_name"] != "relevance"
    ]
    result.append(
        {
            "from_name": "relevance",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": [relevance]},
        }
    )
    edited["id"] = 101
    edited["annotations"] = [
        {
            "id": 7,
            "completed_by": {"id": 3, "email": "ana@dpmppa.example"},
            "created_at": "2026-11-20T09:00:00.000000Z",
            "updated_at": "2026-11-20T09:05:00.000000Z",
            "was_cancelled": False,
            "result": result + extra,
        }
    ]
    return edited


def test_imported_annotations_change_the_labels_and_the_next_export(
    data_dir: tuple[Path, dict[str, str]],
) -> None:
    folder, ids = data_dir
    runner = CliRunner()
    tasks_file = folder.parent / "tasks.json"
    made = runner.invoke(
        app, ["--data-dir", str(folder), "annotate", "export", "--out", str(tasks_file)]
    )
    assert made.exit_code == 0, made.output
    assert (folder.parent / "tasks.labeling-config.xml").read_text() == LABELING_CONFIG
    tasks = json.loads(tasks_file.read_text())
    target = next(t for t in tasks if t["data"]["article_id"] == ids["news-1-0"])
    assert target["data"]["text"].count("Dewi Lestari") == 1
    # The annotator: not "aggregate" but an incident, and Dewi Lestari is the victim.
    start = target["data"]["text"].index("Dewi Lestari")
    victim = [
        {
            "id": "v1",
            "from_name": "entities",
            "to_name": "text",
            "type": "labels",
            "value": {
                "start": start,
                "end": start + 12,
                "text": "Dewi Lestari",
                "labels": ["PERSON"],
            },
        },
        {
            "id": "v1",
            "from_name": "role",
            "to_name": "text",
            "type": "choices",
            "value": {
                "start": start,
                "end": start + 12,
                "text": "Dewi Lestari",
                "choices": ["victim"],
            },
        },
    ]
    edited = completed(target, "incident", victim)
    # Drop the model's PERSON span the annotator replaced (same offsets as v1).
    edited["annotations"][0]["result"] = [  # type: ignore[index]
        r
        for r in edited["annotations"][0]["result"]  # type: ignore[index]
        if not (r.get("value", {}).get("start") == start and r.get("id") != "v1")
    ]
    bad = completed(target, "sometimes", [])
    bad["id"], bad["annotations"][0]["id"] = 102, 8  # type: ignore[index]
    annotated = folder.parent / "annotated.json"
    annotated.write_text(json.dumps([edited, bad]))

    imported = runner.invoke(app, ["--data-dir", str(folder), "annotate", "import", str(annotated)])
    assert imported.exit_code == 0, imported.output
    assert "imported 1 annotations" in imported.output and "skipped 1" in imported.output

    with ArticleStore(folder / "pantau.sqlite") as store:
        labelled = {item.article.id: item for item in effective_labels(store)}
    item = labelled[ids["news-1-0"]]
    assert item.tagged.relevance == "incident" and item.model_tagged.relevance == "aggregate"
    assert item.provenance.fields["relevance"].as_dict() == {
        "source": "label-studio",
        "who": "ana@dpmppa.example",
        "when": "2026-11-20T09:05:00+00:00",
    }
    assert item.provenance.is_gold("entities") and not labelled[ids["adult"]].provenance.corrected
    assert [(e.text, e.role) for e in item.tagged.entities if e.label == "PERSON"] == [
        ("Dewi Lestari", "victim")
    ]

    # Importing the same file again updates, it does not add.
    again = runner.invoke(app, ["--data-dir", str(folder), "annotate", "import", str(annotated)])
    assert "imported 0 annotations, updated 1" in again.output

    # The next export: the new relevance, provenance, and the victim now pseudonymised.
    with ArticleStore(folder / "pantau.sqlite") as store:
        result = export_dataset(store, folder.parent / "out", ["jsonl"])
        corrected = export_dataset(
            store,
            folder.parent / "out-corrected",
            ["jsonl"],
            filters=ExportFilters(corrected_only=True),
        )
    record = next(r for r in result.records if r.id == ids["news-1-0"])
    assert record.tagged.relevance == "incident"
    assert record.text is not None and "[KORBAN-1]" in record.text and "Dewi" not in record.text
    assert [r.id for r in corrected.records] == [ids["news-1-0"]]
    line = next(
        json.loads(line)
        for split in ("train", "dev", "test")
        for line in (folder.parent / "out" / "jsonl" / f"{split}.jsonl").read_text().splitlines()
        if json.loads(line)["id"] == ids["news-1-0"]
    )
    assert line["label_provenance"]["relevance"]["source"] == "label-studio"
    # Web corrections count too, and the latest word wins.
    with ArticleStore(folder / "pantau.sqlite") as store:
        store._db.execute(
            "INSERT INTO label_corrections (article_id, username, created_at, changes) "
            "VALUES (?, 'analis', '2026-11-21T00:00:00+00:00', ?)",
            (ids["news-1-0"], json.dumps({"relevance": "none", "categories": []})),
        )
        item = next(i for i in effective_labels(store) if i.article.id == ids["news-1-0"])
    assert item.tagged.relevance == "none"
    assert item.provenance.fields["relevance"].origin == "web"
    assert item.provenance.fields["entities"].origin == "label-studio"


def test_an_annotation_of_a_changed_text_is_skipped(data_dir: tuple[Path, dict[str, str]]) -> None:
    from pantau.export.annotate import import_annotations

    folder, ids = data_dir
    with ArticleStore(folder / "pantau.sqlite") as store:
        task = next(
            t
            for t in label_studio_tasks(effective_labels(store))
            if t["data"]["article_id"] == ids["adult"]
        )
        task["data"]["content_hash"] = "0" * 64
        report = import_annotations(store, [completed(task, "none", [])])
    assert report.imported == 0 and "changed since export" in report.skipped[0]
