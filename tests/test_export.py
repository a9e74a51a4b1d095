"""`pantau export`: every format read back with its own library matches the store; splits
keep story clusters whole; protected names appear in no file; the same filters give the
same bytes; researchers get masked exports only, through the web request and the CLI."""

from __future__ import annotations

import csv
import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pantau.export.build import ExportError, check_unmasked, export_dataset
from pantau.export.dataset import ExportFilters, ExportOptions, assign_splits
from pantau.export.labels import effective_labels
from pantau.export.writers import aggregate_rows, blank_indonesian
from pantau.store import ArticleStore
from tests.export_fixtures import (
    ADULT_VICTIM,
    CHILD_CASE_OTHER,
    CHILD_VICTIM,
    PERPETRATOR,
    PROTECTED,
    build_store,
)

ALL_FORMATS = ["jsonl", "csv", "parquet", "conll", "spacy", "hf"]
SPLIT_FILES = ("train", "dev", "test")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export") / "data"
    build_store(folder / "pantau.sqlite")
    return folder


@pytest.fixture(scope="module")
def exported(data_dir: Path) -> Path:
    with ArticleStore(data_dir / "pantau.sqlite") as store:
        export_dataset(store, data_dir.parent / "out-a", ALL_FORMATS)
    return data_dir.parent / "out-a"


def read_jsonl(out: Path) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for split in SPLIT_FILES
        for line in (out / "jsonl" / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    ]


def files_of(out: Path) -> Iterator[Path]:
    return (path for path in sorted(out.rglob("*")) if path.is_file())


def test_jsonl_follows_the_contract_and_matches_the_store(
    exported: Path, data_dir: Path, shared: Path
) -> None:
    import jsonschema

    schema = json.loads((shared / "contracts" / "tagged-article.schema.json").read_text())
    rows = read_jsonl(exported)
    with ArticleStore(data_dir / "pantau.sqlite") as store:
        expected = {item.article.id: item for item in effective_labels(store)}
    assert sorted(str(r["id"]) for r in rows) == sorted(expected)
    for row in rows:
        jsonschema.validate(row, schema)
        item = expected[str(row["id"])]
        assert row["relevance"] == item.tagged.relevance
        assert row["categories"] == item.tagged.categories
        assert row["source"] == item.article.article.source
        assert len(row["entities"]) == len(item.tagged.entities)  # type: ignore[arg-type]
        for e in row["entities"]:  # type: ignore[union-attr]
            assert row[e["field"]][e["start"] : e["end"]] == e["text"]  # type: ignore[index]
    child = next(r for r in rows if "anak" in r["victim_groups"])  # type: ignore[operator]
    assert "[KORBAN-1]" in str(child["text"]) and "[ORANG-1]" in str(child["text"])
    # An adult perpetrator's name is not protected and stays.
    assert any(PERPETRATOR in str(r["text"]) for r in rows)


def test_csv_parquet_and_hf_read_back_with_their_libraries(exported: Path) -> None:
    import datasets
    import pyarrow.parquet as pq

    rows = read_jsonl(exported)
    by_split = {s: sorted(str(r["id"]) for r in rows if r["split"] == s) for s in SPLIT_FILES}
    with (exported / "csv" / "articles.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert sorted(r["id"] for r in table) == sorted(str(r["id"]) for r in rows)
    jsonl_by_id = {str(r["id"]): r for r in rows}
    for row in table:
        assert row["categories"].split(";") == (jsonl_by_id[row["id"]]["categories"] or [""])
        assert row["split"] == jsonl_by_id[row["id"]]["split"]
    for split in SPLIT_FILES:
        parquet = pq.read_table(exported / "parquet" / f"{split}.parquet").to_pylist()
        assert sorted(r["id"] for r in parquet) == by_split[split]
        for record in parquet:
            source = jsonl_by_id[record["id"]]
            assert record["text"] == source["text"]
            assert [e["text"] for e in record["entities"]] == [
                e["text"]
                for e in source["entities"]  # type: ignore[union-attr]
            ]
        # No wall-clock or pandas metadata that would change between runs.
        metadata = pq.read_metadata(exported / "parquet" / f"{split}.parquet")
        assert metadata.metadata is None or b"pandas" not in metadata.metadata
    loaded = datasets.load_dataset(
        str(exported / "hf"), cache_dir=str(exported.parent / "hf-cache")
    )
    assert set(loaded) == {"train", "validation", "test"}
    names = {"train": "train", "validation": "dev", "test": "test"}
    for hf_split, ours in names.items():
        assert sorted(loaded[hf_split]["id"]) == by_split[ours]


def conll_documents(path: Path) -> list[list[tuple[str, str]]]:
    documents: list[list[tuple[str, str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("-DOCSTART-"):
            documents.append([])
        elif line:
            token, tag = line.rsplit(" ", 1)
            assert re.fullmatch(r"O|[BI]-(PERSON|ORGANIZATION|LOCATION|TIME|QUANTITY)", tag)
            documents[-1].append((token, tag))
    return documents


def entity_strings(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    found: list[tuple[str, list[str]]] = []
    for token, tag in tokens:
        if tag.startswith("B-"):
            found.append((tag[2:], [token]))
        elif tag.startswith("I-"):
            assert found and found[-1][0] == tag[2:], "I- without its B-"
            found[-1][1].append(token)
    return [(label, " ".join(words)) for label, words in found]


def test_conll_and_docbin_hold_the_same_tokens_and_entities(exported: Path) -> None:
    from spacy.tokens import DocBin

    nlp = blank_indonesian()  # the exporter's own (cached: building it takes seconds)
    rows = read_jsonl(exported)
    for split in SPLIT_FILES:
        documents = conll_documents(exported / "conll" / f"{split}.conll")
        docs = list(
            DocBin()
            .from_bytes((exported / "spacy" / f"{split}.spacy").read_bytes())
            .get_docs(nlp.vocab)
        )
        ours = [r for r in rows if r["split"] == split]
        assert len(documents) == len(docs) == len(ours)
        for tokens, doc, row in zip(documents, docs, ours, strict=True):
            assert doc.user_data["id"] == row["id"]
            assert [t for t, _ in tokens] == [t.text for t in doc if not t.is_space]
            from_doc = [(e.label_, " ".join(t.text for t in e)) for e in doc.ents]
            assert entity_strings(tokens) == from_doc
            # Every entity of the record, tokenised alike, is in the token formats.
            expected = sorted(
                (e["label"], " ".join(t.text for t in nlp(e["text"])))
                for e in row["entities"]  # type: ignore[union-attr]
            )
            assert sorted(from_doc) == expected
            assert doc.cats[f"relevance:{row['relevance']}"] == 1.0


def test_splits_never_share_a_story_cluster(exported: Path) -> None:
    rows = read_jsonl(exported)
    split_of_story: dict[str, set[object]] = {}
    for row in rows:
        split_of_story.setdefault(str(row["story_id"]), set()).add(row["split"])
    assert all(len(splits) == 1 for splits in split_of_story.values())
    assert max(sum(1 for r in rows if r["story_id"] == s) for s in split_of_story) > 1
    assert {r["split"] for r in rows} == set(SPLIT_FILES)


def test_assign_splits_is_stratified_and_fixed_by_the_seed() -> None:
    clusters = {f"c{n}": ("tppo" if n % 2 else "none", 1 + n % 3) for n in range(60)}
    first = assign_splits(clusters, seed=1)
    assert first == assign_splits(clusters, seed=1)
    assert first != assign_splits(clusters, seed=2)
    for stratum in ("tppo", "none"):
        sizes = {s: 0 for s in SPLIT_FILES}
        for cluster, split in first.items():
            if clusters[cluster][0] == stratum:
                sizes[split] += clusters[cluster][1]
        total = sum(sizes.values())
        assert abs(sizes["train"] / total - 0.8) < 0.08
        assert sizes["dev"] > 0 and sizes["test"] > 0


def test_protected_names_are_in_no_exported_file(exported: Path) -> None:
    import pyarrow.parquet as pq
    from spacy.tokens import DocBin
    from spacy.vocab import Vocab

    needles = [part for name in PROTECTED for part in name.split()]
    for path in files_of(exported):
        contents = [path.read_bytes()]
        if path.suffix == ".spacy":  # compressed: decompress, and read the documents too
            contents.append(zlib.decompress(contents[0]))
            documents = DocBin().from_bytes(contents[0]).get_docs(Vocab())
            contents += [d.text.encode() for d in documents]
        if path.suffix == ".parquet":
            contents.append(json.dumps(pq.read_table(path).to_pylist(), default=str).encode())
        for content in contents:
            for needle in needles:
                assert needle.lower().encode() not in content.lower(), (needle, path)


def test_the_same_filters_give_byte_identical_files(exported: Path, data_dir: Path) -> None:
    again = data_dir.parent / "out-b"
    with ArticleStore(data_dir / "pantau.sqlite") as store:
        export_dataset(store, again, ALL_FORMATS)
    first = {p.relative_to(exported): p.read_bytes() for p in files_of(exported)}
    second = {p.relative_to(again): p.read_bytes() for p in files_of(again)}
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
    readme = (exported / "README.md").read_text(encoding="utf-8")
    for path in files_of(exported):
        if path.name != "README.md" or path.parent != exported:
            assert path.relative_to(exported).as_posix() in readme


def test_filters_select_and_the_datasheet_tells_when(data_dir: Path) -> None:
    from datetime import date

    with ArticleStore(data_dir / "pantau.sqlite") as store:
        result = export_dataset(
            store,
            data_dir.parent / "out-filtered",
            ["jsonl"],
            ExportFilters(
                date_from=date(2026, 10, 5),
                date_to=date(2026, 10, 20),
                relevance=["incident"],
                regions=["15.71"],
                sources=["jambi ekspres", "Tribun Jambi"],
            ),
        )
        assert result.records
        for record in result.records:
            assert record.tagged.relevance == "incident"
            assert record.tagged.primary_location and record.tagged.primary_location.code == "15.71"
            assert record.source in ("Jambi Ekspres", "Tribun Jambi")
            assert record.published and "2026-10-05" <= record.published[:10] <= "2026-10-20"
        readme = (data_dir.parent / "out-filtered" / "README.md").read_text()
        dates = sorted(r.published[:10] for r in result.records if r.published)
        assert f"Articles published {dates[0]} to {dates[-1]}" in readme
        assert "research" in readme.lower() and "publishers" in readme
        corrected = export_dataset(
            store, data_dir.parent / "out-corrected", ["jsonl"], ExportFilters(corrected_only=True)
        )
        assert corrected.records == []  # nobody corrected anything in this store


def test_no_text_keeps_labels_only_and_refuses_token_formats(data_dir: Path) -> None:
    out = data_dir.parent / "out-no-text"
    with ArticleStore(data_dir / "pantau.sqlite") as store:
        with pytest.raises(ExportError, match="conll"):
            export_dataset(
                store, out, ["jsonl", "conll"], options=ExportOptions(include_text=False)
            )
        export_dataset(
            store, out, ["jsonl", "csv"], options=ExportOptions(include_text=False), overwrite=True
        )
    rows = read_jsonl(out)
    assert rows and all("text" not in r and "title" not in r and r["relevance"] for r in rows)
    assert "text" not in (out / "csv" / "articles.csv").read_text().splitlines()[0].split(",")


def test_aggregate_cells_below_k_are_suppressed(exported: Path, data_dir: Path) -> None:
    table = list(
        csv.DictReader((exported / "aggregates" / "incidents_region_form_month.csv").open())
    )
    assert table and all(row["cases"] == "<11" and row["articles"] == "" for row in table)
    with ArticleStore(data_dir / "pantau.sqlite") as store:
        records = export_dataset(store, data_dir.parent / "out-k", ["jsonl"]).records

    def counts(k: int) -> dict[tuple[str, str, str], tuple[str, str]]:
        return {
            (r["region_code"], r["form"], r["month"]): (r["cases"], r["articles"])
            for r in aggregate_rows(records, k=k)
        }

    # tppo incidents in Kota Jambi: 5 articles of 4 cases (news 0 and its copy are one
    # story cluster), news 3, 6 and 9.
    assert counts(2)[("15.71", "tppo", "2026-10")] == ("4", "5")
    assert counts(2)[("15.02", "kekerasan_fisik", "2026-10")] == ("<2", "")
    # k applies to cases: 5 articles of 4 cases are suppressed at k=5.
    assert counts(4)[("15.71", "tppo", "2026-10")] == ("4", "5")
    assert counts(5)[("15.71", "tppo", "2026-10")] == ("<5", "")


def test_unmasked_needs_an_analyst_or_admin_with_a_password(data_dir: Path) -> None:
    from pantau.cli import app
    from pantau.config import load_settings
    from web.accounts import Accounts

    for role in ("researcher", None):
        with pytest.raises(ExportError, match="masked exports only"):
            check_unmasked(role)
    settings = load_settings({"data_dir": data_dir}, path=Path("/dev/null"))
    with Accounts.open(settings) as accounts:
        accounts.add_user("peneliti", "sandi-peneliti-1", "researcher")
        accounts.add_user("analis", "sandi-analis-01", "analyst")
    runner = CliRunner()
    base = ["--data-dir", str(data_dir), "export", "--format", "jsonl", "--unmasked"]
    refused = runner.invoke(
        app,
        [*base, "--out", str(data_dir.parent / "u1"), "--user", "peneliti", "--password-stdin"],
        input="sandi-peneliti-1\n",
    )
    assert refused.exit_code == 2 and "masked exports only" in refused.output
    assert not (data_dir.parent / "u1").exists()
    wrong = runner.invoke(
        app,
        [*base, "--out", str(data_dir.parent / "u2"), "--user", "analis", "--password-stdin"],
        input="salah-sandi-000\n",
    )
    assert wrong.exit_code == 2 and not (data_dir.parent / "u2").exists()
    allowed = runner.invoke(
        app,
        [*base, "--out", str(data_dir.parent / "u3"), "--user", "analis", "--password-stdin"],
        input="sandi-analis-01\n",
    )
    assert allowed.exit_code == 0, allowed.output
    unmasked = (data_dir.parent / "u3" / "jsonl" / "train.jsonl").read_text() + (
        data_dir.parent / "u3" / "README.md"
    ).read_text()
    assert "UNMASKED" in unmasked
    with Accounts.open(settings) as accounts:
        actions = [e["action"] for e in accounts.audit_entries(10)]
    assert "export_unmasked" in actions and actions.count("export_unmasked_refused") == 2


def test_a_researchers_web_request_gives_a_masked_export(data_dir: Path) -> None:
    from fastapi.testclient import TestClient

    from pantau.config import load_settings
    from tests.web_fixtures import login
    from web.accounts import Accounts
    from web.app import create_app

    settings = load_settings(
        {"data_dir": data_dir, "web": {"cookie_secure": False}}, path=Path("/dev/null")
    )
    with Accounts.open(settings) as accounts:
        if not any(u["username"] == "peneliti2" for u in accounts.list_users()):
            accounts.add_user("peneliti2", "sandi-peneliti-2", "researcher")
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        login(client, "peneliti2", "sandi-peneliti-2")
        csrf = client.get("/api/me").json()["csrf_token"]
        response = client.post(
            "/api/exports",
            json={"relevance": ["incident"], "format": "csv"},
            headers={"X-CSRF-Token": csrf},
        )
    assert response.status_code == 202, response.text
    request_id = response.json()["id"]
    with ArticleStore(data_dir / "pantau.sqlite") as store:
        request = store.export_request(request_id)
    assert request is not None and request["status"] == "done", request
    out = data_dir / "exports" / f"request-{request_id}"
    assert request["output"] == str(out)
    rows = read_jsonl(out)
    assert rows and {r["relevance"] for r in rows} == {"incident"}
    assert (out / "csv" / "articles.csv").exists()
    for path in files_of(out):
        content = path.read_bytes()
        for name in (CHILD_VICTIM, CHILD_CASE_OTHER, ADULT_VICTIM):
            assert name.encode() not in content, path


def test_a_request_that_cannot_be_made_is_recorded_as_failed(data_dir: Path) -> None:
    from pantau.config import load_settings
    from pantau.export.requests import run_export_request
    from web.accounts import Accounts

    settings = load_settings({"data_dir": data_dir}, path=Path("/dev/null"))
    with Accounts.open(settings) as accounts:
        queued = accounts.queue_export("peneliti", {"regions": ["Jambi"], "format": "csv"})
    with pytest.raises(ValueError, match="Kemendagri code"):
        run_export_request(settings, int(queued["id"]))
    with ArticleStore(data_dir / "pantau.sqlite") as store:
        request = store.export_request(int(queued["id"]))
        assert request is not None and request["status"] == "failed"
        assert "Kemendagri code" in str(request["error"])
        assert int(queued["id"]) not in store.queued_export_requests()


def test_an_export_request_is_made_by_one_process_only(data_dir: Path) -> None:
    """The web app's background task and the scheduled export flow both look for queued
    requests: one claims it, the other leaves it; a claim whose process died is taken over."""
    from pantau.config import load_settings
    from pantau.export.requests import run_export_request
    from web.accounts import Accounts

    settings = load_settings({"data_dir": data_dir}, path=Path("/dev/null"))
    with Accounts.open(settings) as accounts:
        queued = int(accounts.queue_export("peneliti", {"format": "csv"})["id"])
    with ArticleStore(data_dir / "pantau.sqlite") as store:
        assert queued in store.queued_export_requests()
        assert store.claim_export_request(queued)
        assert not store.claim_export_request(queued)  # the second process
        assert queued not in store.queued_export_requests()
        assert run_export_request(settings, queued) is None
        assert not (data_dir / "exports" / f"request-{queued}").exists()
        # The claiming process died two hours ago: the request is waiting again.
        store._db.execute(
            "UPDATE export_requests SET started_at = '2000-01-01T00:00:00+00:00' WHERE id = ?",
            (queued,),
        )
        assert queued in store.queued_export_requests()
    result = run_export_request(settings, queued)
    assert result is not None and (result.out / "README.md").is_file()
    with ArticleStore(data_dir / "pantau.sqlite") as store:
        request = store.export_request(queued)
        assert request is not None and request["status"] == "done"
        assert not store.claim_export_request(queued)  # finished: nobody makes it again
