"""The Elasticsearch backend against a real server: security, lost-nothing writes (server
killed mid-bulk, outbox), rejected documents, mapping conflicts, reindex with an alias swap,
and the command line pointed at a cluster. Query parity is tests/test_index_parity.py."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from flows.ingest import index_pending
from index import open_index
from index.base import SearchRequest
from index.elastic import ElasticIndex, IndexUnavailable, MappingConflict, RejectedDocuments
from index.elastic_server import ElasticServer, start
from pantau.config import load_settings
from pantau.models import ExtractedArticle, ModelInfo, TaggedArticle
from pantau.store import ArticleStore
from tests.conftest import ElasticTarget
from tests.test_embedded_index import DOCS, doc

WIB = timezone(timedelta(hours=7))


@pytest.fixture
def index(elastic: ElasticTarget) -> Iterator[ElasticIndex]:
    opened = elastic.open()
    try:
        yield opened
    finally:
        opened.drop()
        opened.close()


def secured(elastic: ElasticTarget) -> ElasticTarget:
    if not (elastic.url.startswith("https://") and elastic.password and elastic.ca_certs):
        pytest.fail(
            "the security tests need a TLS cluster with a password: give PANTAU_TEST_ES_URL "
            "(https), _USERNAME, _PASSWORD and _CA_CERTS, or leave it unset",
            pytrace=False,
        )
    return elastic


# -- security ----------------------------------------------------------------------------


def test_wrong_password_is_a_clear_error(elastic: ElasticTarget) -> None:
    target = secured(elastic)
    wrong = ElasticIndex(target.url, username="elastic", password="wrong", ca_certs=target.ca_certs)
    with pytest.raises(IndexUnavailable, match=r"authentication failed.*index_password"):
        wrong.count()


def test_missing_ca_certificate_is_a_clear_error(elastic: ElasticTarget) -> None:
    target = secured(elastic)
    untrusted = ElasticIndex(target.url, username=target.username, password=target.password)
    with pytest.raises(IndexUnavailable, match="not trusted: set index_ca_certs"):
        untrusted.count()


def test_no_plain_http_fallback(elastic: ElasticTarget) -> None:
    target = secured(elastic)
    plain = target.url.replace("https://", "http://")
    # Plain HTTP to the TLS port gets no answer, and nothing retries it some other way.
    with pytest.raises(IndexUnavailable, match="cannot reach"):
        ElasticIndex(plain, username="elastic", password=target.password).count()
    # A password never travels in clear text to a remote host.
    with pytest.raises(IndexUnavailable, match="refusing to send a password over plain"):
        ElasticIndex("http://search.example:9200", username="pantau", password="secret")


def test_cli_search_works_against_the_cluster(
    elastic: ElasticTarget, index: ElasticIndex, tmp_path: Path
) -> None:
    """A user sets PANTAU_INDEX_URL=https://… with credentials; `pantau search` works."""
    index.upsert(DOCS)
    env = {
        **os.environ,
        "PANTAU_DATA_DIR": str(tmp_path),
        "PANTAU_INDEX_URL": elastic.url,
        "PANTAU_INDEX_ALIAS": index.alias,
        "PANTAU_INDEX_USERNAME": elastic.username or "",
        "PANTAU_INDEX_PASSWORD": elastic.password or "",
        "PANTAU_INDEX_CA_CERTS": elastic.ca_certs or "",
    }
    env.pop("PANTAU_CONFIG", None)
    run = subprocess.run(
        [sys.executable, "-m", "pantau", "search", "--json", '"perdagangan orang" -mucikari'],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert '"id": "pmi"' in run.stdout and '"id": "stat"' in run.stdout
    assert '"id": "mucikari"' not in run.stdout
    env["PANTAU_INDEX_PASSWORD"] = "wrong"
    run = subprocess.run(
        [sys.executable, "-m", "pantau", "search", "perdagangan"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1
    assert "authentication failed" in run.stderr and "Traceback" not in run.stderr


def test_open_index_reads_the_settings(elastic: ElasticTarget, index: ElasticIndex) -> None:
    index.upsert(DOCS)
    settings = load_settings(
        {
            "index_url": elastic.url,
            "index_username": elastic.username,
            "index_password": elastic.password,
            "index_ca_certs": elastic.ca_certs,
            "index_alias": index.alias,
        }
    )
    opened = open_index(settings)
    try:
        assert opened.count() == len(DOCS)
    finally:
        opened.close()


# -- layout, mapping, rejected documents ---------------------------------------------------


def test_versioned_index_behind_an_alias_with_an_explicit_mapping(index: ElasticIndex) -> None:
    index.upsert(DOCS)
    assert index.current_index() == f"{index.alias}-v1"
    mapping = index.client.indices.get_mapping(index=index.alias).body
    properties = mapping[f"{index.alias}-v1"]["mappings"]["properties"]
    assert properties["id"]["type"] == "keyword"
    assert properties["region_codes"]["type"] == "keyword"
    assert properties["published"]["type"] == "date"
    assert properties["text_terms"] == {"type": "text", "analyzer": "whitespace"}
    assert mapping[f"{index.alias}-v1"]["mappings"]["dynamic"] == "strict"
    # The analysed text is indexed but not stored a second time.
    assert mapping[f"{index.alias}-v1"]["mappings"]["_source"] == {
        "excludes": ["title_terms", "text_terms"]
    }


def refresh_intervals(index: ElasticIndex) -> set[str | None]:
    live = index.client.indices.get_settings(index=index.alias, name="index.refresh_interval")
    return {
        body["settings"].get("index", {}).get("refresh_interval") for body in live.body.values()
    }


def test_a_bulk_load_pauses_refreshes_and_restores_them_even_on_failure(
    index: ElasticIndex,
) -> None:
    index.upsert(DOCS[:1])
    with index.bulk_load():
        assert refresh_intervals(index) == {"30s"}
        index.upsert(DOCS[1:])
    assert refresh_intervals(index) == {"1s"}
    # Refreshed once at the end: every document is searchable, by its analysed text too.
    assert index.count() == len(DOCS)
    assert {h.id for h in index.search(SearchRequest(q="diperdagangkan")).hits} == {
        "pmi",
        "mucikari",
        "stat",
        "emas",
    }
    with pytest.raises(RuntimeError), index.bulk_load():
        raise RuntimeError("the load failed")
    assert refresh_intervals(index) == {"1s"}
    # A load whose process died left its interval behind: the next load puts ours back.
    index.client.indices.put_settings(index=index.alias, settings={"refresh_interval": "30s"})
    with index.bulk_load():
        pass
    assert refresh_intervals(index) == {"1s"}


def test_mapping_conflict_is_a_clear_error(elastic: ElasticTarget) -> None:
    index = elastic.open()
    try:
        index.client.indices.create(
            index=f"{index.alias}-v1",
            mappings={"properties": {"published": {"type": "keyword"}}},
            aliases={index.alias: {}},
        )
        with pytest.raises(MappingConflict, match="published is keyword, expected date"):
            index.upsert(DOCS)
    finally:
        index.drop()
        index.close()
    squatter = elastic.open()
    try:
        squatter.client.indices.create(index=squatter.alias)
        with pytest.raises(MappingConflict, match="is a concrete index, not an alias"):
            squatter.count()
    finally:
        squatter.client.indices.delete(index=squatter.alias)
        squatter.drop()
        squatter.close()


def test_partial_bulk_failure_indexes_the_rest_and_reports_why(index: ElasticIndex) -> None:
    # A keyword longer than Lucene's 32 766-byte term limit: this one document is rejected.
    broken = doc("broken", "Judul", "Isi.", source="x" * 40_000)
    with pytest.raises(RejectedDocuments) as caught:
        index.upsert([*DOCS, broken])
    assert set(caught.value.indexed) == {d.id for d in DOCS}
    assert list(caught.value.rejected) == ["broken"]
    assert "immense term" in caught.value.rejected["broken"]
    assert index.count() == len(DOCS)


def test_reindex_swaps_the_alias_without_an_empty_moment(index: ElasticIndex) -> None:
    index.upsert(DOCS)
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(index.search(SearchRequest(facets=False)).total)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        new = index.reindex()
    finally:
        stop.set()
        watcher.join()
    assert new == f"{index.alias}-v2"
    assert index.current_index() == new
    assert index.count() == len(DOCS)
    assert {h.id for h in index.search(SearchRequest(q='"perdagangan orang"')).hits} == {
        "pmi",
        "mucikari",
        "stat",
    }
    assert seen and min(seen) == len(DOCS)


# -- writes that lose nothing ----------------------------------------------------------------


def add_articles(store: ArticleStore, first: int, count: int) -> list[str]:
    ids = []
    for n in range(first, first + count):
        url = f"https://news.example/read/{n}/kasus-{n}"
        article = ExtractedArticle(
            url=url,
            canonical_url=url,
            source="Jambi Ekspres",
            title=f"Kasus perdagangan orang nomor {n}",
            text=f"Polisi menangani kasus perdagangan orang ke-{n} di Kota Jambi.",
            published=datetime(2026, 11, 1 + n % 28, 9, 0, tzinfo=WIB),
        )
        store.upsert_article(article)
        stored = store.get_article(article.id)
        assert stored is not None
        tagged = TaggedArticle(
            id=stored.id,
            relevance="incident",
            categories=["tppo"],
            model=ModelInfo(name="test", version="1"),
        )
        store.save_tag(tagged, stored.content_hash)
        ids.append(stored.id)
    return ids


@pytest.fixture
def killable(elastic: ElasticTarget) -> Iterator[tuple[ElasticServer, dict[str, Any]]]:
    """A server this test may kill: the session's own, or (with PANTAU_TEST_ES_URL, which we
    must not kill) a local one started for it."""
    if elastic.server is not None:
        yield (
            elastic.server,
            {
                "username": elastic.username,
                "password": elastic.password,
                "ca_certs": elastic.ca_certs,
            },
        )
        return
    server = start(security=False)
    try:
        yield server, {}
    finally:
        server.cleanup()


def test_server_killed_mid_bulk_then_every_article_indexed_exactly_once(
    killable: tuple[ElasticServer, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, credentials = killable
    monkeypatch.setattr("flows.ingest.INDEX_BATCH", 200)  # six batches: crash in the third
    index = ElasticIndex(
        server.url,
        alias="pantau-fault",
        max_attempts=2,
        backoff=0.2,
        request_timeout=10,
        **credentials,
    )
    with ArticleStore(tmp_path / "pantau.sqlite") as store:
        first = add_articles(store, 0, 1200)
        assert store.outbox_status()["queued"] == 1200
        calls = 0
        real_upsert = index.upsert

        def upsert_then_crash(documents: list[Any]) -> int:
            nonlocal calls
            calls += 1
            if calls == 3:  # the third batch: kill the server while its bulk is in flight
                threading.Timer(0.02, server.kill).start()
            return real_upsert(documents)

        index.upsert = upsert_then_crash  # type: ignore[method-assign]
        try:
            with pytest.raises(IndexUnavailable, match="cannot reach Elasticsearch"):
                index_pending(store, index)
            assert server.process is not None and server.process.poll() is not None
            left = store.outbox_status()["queued"]
            assert 400 <= 1200 - left < 1200  # the batches before the crash left the outbox

            # Tagged while the cluster is down: only the outbox knows.
            later = add_articles(store, 5000, 50)
            with pytest.raises(IndexUnavailable):
                index_pending(store, index)
            assert store.outbox_status()["queued"] == left + 50

            server.start()
            summary = index_pending(store, index)
            assert store.outbox_status() == {"queued": 0, "failing": 0}
            assert summary.total == 1250
            expected = set(first) | set(later)
            assert set(index.versions()) == expected
            # Exactly once: no id twice (count == distinct ids), and nothing left to do.
            response = index.client.search(
                index=index.alias,
                size=0,
                aggs={"ids": {"cardinality": {"field": "id", "precision_threshold": 4000}}},
            )
            assert response["hits"]["total"]["value"] == 1250
            assert response["aggregations"]["ids"]["value"] == 1250
            again = index_pending(store, index)
            assert (again.indexed, again.removed, again.total) == (0, 0, 1250)
        finally:
            index.drop()
            index.close()


def test_rejected_articles_stay_in_the_outbox_with_the_reason(
    index: ElasticIndex, tmp_path: Path
) -> None:
    with ArticleStore(tmp_path / "pantau.sqlite") as store:
        add_articles(store, 0, 3)
        url = "https://news.example/read/99/aneh"
        odd = ExtractedArticle(
            url=url,
            canonical_url=url,
            source="y" * 40_000,
            title="Judul",
            text="Isi berita.",
            published=datetime(2026, 11, 2, tzinfo=WIB),
        )
        store.upsert_article(odd)
        stored = store.get_article(odd.id)
        assert stored is not None
        store.save_tag(
            TaggedArticle(id=stored.id, relevance="none", model=ModelInfo(name="t", version="1")),
            stored.content_hash,
        )
        summary = index_pending(store, index)
        assert (summary.indexed, summary.total) == (3, 3)
        assert store.outbox_status() == {"queued": 1, "failing": 1}
        (row,) = store._db.execute("SELECT article_id, attempts, last_error FROM index_outbox")
        assert row[0] == stored.id and row[1] == 1 and "immense term" in row[2]
        assert index_pending(store, index).indexed == 0
        assert store.outbox_status()["failing"] == 1


def test_open_index_refuses_a_password_over_plain_http_to_another_host() -> None:
    from pantau.config import ConfigError

    settings = load_settings(
        {"index_url": "http://search.example:9200", "index_username": "p", "index_password": "s"}
    )
    with pytest.raises(ConfigError, match="refusing to send a password over plain http"):
        open_index(settings)
