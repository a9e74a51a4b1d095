"""The Prefect flows against the demo sites on 127.0.0.1: a full ingest with its run record
and artifact, a failing source beside working ones, a run killed with SIGKILL and run again,
a retag after a model update, and the schedules of the deployments.

The flows run in this process against Prefect's test harness (a temporary API database);
the killed run is a real `pantau run` process with its own ephemeral API."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from crawlers.demo_site.server import SITE_KEYS, SITE_LABELS, SITE_SPIDERS, DemoSite
from pantau.config import CrawlConfig, FlowConfig, Settings, SourceConfig
from tests.helpers import wait_for_articles

PANTAU = [sys.executable, "-m", "pantau"]


@pytest.fixture(scope="module", autouse=True)
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One temporary Prefect API for the module, and a PREFECT_HOME that is not ~/.prefect."""
    from prefect.settings import (
        PREFECT_HOME,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    home = tmp_path_factory.mktemp("prefect-home")
    # Only localhost: no telemetry from the test API server.
    updates = {PREFECT_HOME: home, PREFECT_SERVER_ANALYTICS_ENABLED: False}
    with temporary_settings(updates), prefect_test_harness(server_startup_timeout=180):
        yield


def demo_source(site: DemoSite) -> SourceConfig:
    return SourceConfig(
        name=site.key,
        label=SITE_LABELS[site.key],
        spider=SITE_SPIDERS[site.key],
        url=site.base_url,
        categories=sorted({a.category for a in site.articles}),
    )


def settings_for(data_dir: Path, sites: list[DemoSite], **crawl: Any) -> Settings:
    return Settings(
        data_dir=data_dir,
        sources=[demo_source(site) for site in sites],
        crawl=CrawlConfig(download_delay=0, autothrottle=False, **crawl),
        flow=FlowConfig(crawl_retries=1, retry_delay=0.1),
    )


@pytest.fixture(scope="module")
def sites() -> Iterator[list[DemoSite]]:
    started = [DemoSite(key).start() for key in SITE_KEYS]
    yield started
    for site in started:
        site.stop()


def store_snapshot(data_dir: Path) -> dict[str, Any]:
    """What must be identical between two runs that did the same work: articles (id,
    content hash, revision), tags (id, content hash, model version), index (id, version)."""
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    index = sqlite3.connect(data_dir / "index.sqlite")
    from index.embedded import EmbeddedIndex

    versions = EmbeddedIndex(data_dir / "index.sqlite").versions()
    index.close()
    return {
        "articles": db.execute(
            "SELECT id, canonical_url, content_hash, revision FROM articles ORDER BY id"
        ).fetchall(),
        "tags": db.execute(
            "SELECT article_id, content_hash, model_name, model_version FROM tags ORDER BY 1"
        ).fetchall(),
        "index": sorted(versions.items()),
    }


def last_run(data_dir: Path) -> dict[str, Any]:
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    db.row_factory = sqlite3.Row
    row = db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    return {**dict(row), "summary": json.loads(row["summary"])}


@pytest.fixture(scope="module")
def ingested(sites: list[DemoSite], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from flows.pipeline import run_ingest

    data_dir = tmp_path_factory.mktemp("ingest") / "data"
    summary = run_ingest(settings_for(data_dir, sites))
    return data_dir, summary


def test_ingest_flow_crawls_tags_and_indexes_every_source(
    sites: list[DemoSite], ingested: tuple[Path, Any]
) -> None:
    from prefect.artifacts import Artifact

    data_dir, summary = ingested
    expected = sum(len(site.articles) for site in sites)
    assert {r.source: (r.status, r.new) for r in summary.sources} == {
        site.key: ("ok", len(site.articles)) for site in sites
    }
    snapshot = store_snapshot(data_dir)
    assert len(snapshot["articles"]) == len(snapshot["tags"]) == len(snapshot["index"]) == expected

    # The run record in the store: per source, counts, incidents by form and region, times.
    record = last_run(data_dir)
    assert record["kind"] == "run" and record["status"] == "ok" and record["finished_at"]
    per_source = record["summary"]["per_source"]
    assert set(per_source) == {site.key for site in sites}
    incidents = sum(d["tagging"]["by_relevance"].get("incident", 0) for d in per_source.values())
    assert incidents == summary.tagging.by_relevance["incident"] > 0
    for detail in per_source.values():
        assert detail["crawl_seconds"] > 0 and "tag_seconds" in detail
        assert sum(detail["tagging"]["incidents_by_region"].values()) == detail["tagging"][
            "by_relevance"
        ].get("incident", 0)
    assert record["summary"]["flow_run_id"]

    # The same record as a Markdown artifact of the flow run.
    # Artifact.get dispatches sync-or-async (typed as either); from sync code it returns the
    # API's record of the artifact.
    artifact: Any = Artifact.get("pantau-run")
    assert artifact is not None and artifact.flow_run_id == UUID(record["summary"]["flow_run_id"])
    markdown = str(artifact.data)
    assert f"run {record['id']}: ok" in markdown
    for site in sites:
        assert SITE_LABELS[site.key] in markdown
    assert "## Incidents found" in markdown and "## Errors" in markdown

    # `pantau status` prints it, with what is pending.
    env = {**os.environ, "PANTAU_DATA_DIR": str(data_dir)}
    env.pop("PANTAU_CONFIG", None)
    status = subprocess.run(
        [*PANTAU, "status"], capture_output=True, text=True, env=env, timeout=120
    )
    assert status.returncode == 0, status.stderr
    assert f"run {record['id']} run ok" in status.stdout
    assert "pending: 0 articles to tag" in status.stdout
    assert "0 in the index outbox" in status.stdout
    for site in sites:
        assert f"  {site.key}: ok, " in status.stdout


def test_second_ingest_re_tags_and_re_indexes_nothing(
    sites: list[DemoSite], ingested: tuple[Path, Any], tmp_path: Path
) -> None:
    from flows.pipeline import run_ingest

    data_dir = tmp_path / "data"
    shutil.copytree(ingested[0], data_dir)
    before = store_snapshot(data_dir)
    summary = run_ingest(settings_for(data_dir, sites))
    assert summary.tagging.tagged == 0 and summary.indexing.indexed == 0
    assert sum(r.new + r.updated for r in summary.sources) == 0
    assert store_snapshot(data_dir) == before


def test_a_failing_source_does_not_block_the_others(sites: list[DemoSite], tmp_path: Path) -> None:
    from flows.pipeline import run_ingest

    broken = DemoSite("tribunjambi").start()
    broken.failures = {"*": 500}
    working = [site for site in sites if site.key != "tribunjambi"]
    try:
        settings = settings_for(tmp_path / "data", [*working, broken], retries=0)
        summary = run_ingest(settings)
    finally:
        broken.stop()
    reports = {r.source: r for r in summary.sources}
    assert reports["tribunjambi"].status == "failed" and reports["tribunjambi"].new == 0
    for site in working:
        assert reports[site.key].status == "ok" and reports[site.key].new == len(site.articles)
    expected = sum(len(site.articles) for site in working)
    snapshot = store_snapshot(tmp_path / "data")
    assert len(snapshot["articles"]) == len(snapshot["tags"]) == len(snapshot["index"]) == expected

    record = last_run(tmp_path / "data")
    assert record["status"] == "failed"
    failed = next(s for s in record["summary"]["sources"] if s["source"] == "tribunjambi")
    assert failed["status"] == "failed" and failed["failures"]
    assert any("500" in reason for reason in failed["failures"]), failed["failures"]


def test_a_run_killed_with_sigkill_and_run_again_ends_like_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    from flows.pipeline import run_ingest

    site = DemoSite("jambiekspres").start()
    try:
        # The reference: the same site crawled once, uninterrupted.
        reference = tmp_path / "reference"
        run_ingest(settings_for(reference, [site]))

        data_dir = tmp_path / "data"
        config = tmp_path / "pantau.toml"
        source = demo_source(site)
        config.write_text(
            "[crawl]\ndownload_delay = 0\nautothrottle = false\nconcurrent_per_domain = 1\n"
            f'[[sources]]\nname = "{source.name}"\nlabel = "{source.label}"\n'
            f'spider = "{source.spider}"\nurl = "{source.url}"\n'
            f"categories = {json.dumps(source.categories)}\n",
            encoding="utf-8",
        )
        from prefect.settings import PREFECT_API_URL

        env = {
            **os.environ,
            "PANTAU_DATA_DIR": str(data_dir),
            "PANTAU_CONFIG": str(config),
            "PREFECT_HOME": str(tmp_path / "prefect"),
            # The harness's API: `pantau run` then starts no ephemeral server of its own
            # (20-30 s here), as under `pantau schedule` or with a Prefect server.
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        }
        site.article_delay = 0.4
        process = subprocess.Popen(
            [*PANTAU, "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        store = data_dir / "pantau.sqlite"
        count = wait_for_articles(store, 2, seconds=240, process=process)
        assert process.poll() is None and count >= 2, "the run ended before it could be killed"
        os.killpg(process.pid, signal.SIGKILL)  # like a power cut, for the whole run
        process.wait(timeout=30)
        # The crawl child notices its parent is gone and kills itself within a poll.
        time.sleep(2)
        killed = sqlite3.connect(store).execute("SELECT count(*) FROM articles").fetchone()[0]
        assert 2 <= killed < len(site.articles)
        time.sleep(1)
        assert (
            sqlite3.connect(store).execute("SELECT count(*) FROM articles").fetchone()[0] == killed
        ), "the crawl process outlived the killed run"
        assert last_run(data_dir)["status"] == "running"

        site.article_delay = 0
        rerun = run_ingest(settings_for(data_dir, [site]))
    finally:
        site.stop()
    assert rerun.sources[0].status == "ok"
    assert store_snapshot(data_dir) == store_snapshot(reference)
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    statuses = [row[0] for row in db.execute("SELECT status FROM runs ORDER BY id")]
    assert statuses == ["crashed", "ok"]


def test_retag_after_a_model_update_changes_every_tag_and_nothing_else(
    ingested: tuple[Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nlp.tagger
    from flows.ingest import tag_pending
    from flows.pipeline import retag_flow
    from nlp.tagger import RuleTagger
    from pantau.store import ArticleStore

    data_dir = tmp_path / "data"
    shutil.copytree(ingested[0], data_dir)
    settings = Settings(data_dir=data_dir)
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    articles_before = db.execute("SELECT * FROM articles ORDER BY id").fetchall()
    pages_before = db.execute("SELECT url, fetched_at FROM pages ORDER BY url").fetchall()
    old_version = RuleTagger().version
    before = store_snapshot(data_dir)

    # A model update: the same rules with a comment added (the version hashes the file).
    rules = tmp_path / "incident_rules.yaml"
    rules.write_text(
        nlp.tagger.DEFAULT_RULES_PATH.read_text("utf-8") + "\n# model update\n", "utf-8"
    )
    monkeypatch.setattr(nlp.tagger, "DEFAULT_RULES_PATH", rules)
    new_version = RuleTagger().version
    assert new_version != old_version

    summary = retag_flow(settings=settings.model_dump(mode="json"))
    after = store_snapshot(data_dir)
    assert summary.tagging.tagged == len(before["tags"]) and summary.tagging.failed == 0
    assert summary.indexing.indexed == len(before["index"]) and summary.indexing.removed == 0
    assert [t[:3] for t in after["tags"]] == [t[:3] for t in before["tags"]]
    assert {t[3] for t in after["tags"]} == {new_version}
    assert [i[0] for i in after["index"]] == [i[0] for i in before["index"]]
    assert all(version.endswith(new_version) for _, version in after["index"])
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    assert db.execute("SELECT * FROM articles ORDER BY id").fetchall() == articles_before
    assert db.execute("SELECT url, fetched_at FROM pages ORDER BY url").fetchall() == pages_before
    assert last_run(data_dir)["kind"] == "retag"
    with ArticleStore(data_dir / "pantau.sqlite") as store:
        assert tag_pending(store).tagged == 0


def test_deployments_carry_the_cron_and_time_zone(tmp_path: Path) -> None:
    from flows.export import EXPORT_DEPLOYMENT
    from flows.schedule import DIGEST_DEPLOYMENT, INGEST_DEPLOYMENT, deployments

    settings = Settings(data_dir=tmp_path / "data")
    by_name = {d.name: d for d in deployments(settings)}
    assert set(by_name) == {INGEST_DEPLOYMENT, DIGEST_DEPLOYMENT, EXPORT_DEPLOYMENT}
    crons = {
        name: [(s.schedule.cron, s.schedule.timezone) for s in d.schedules]
        for name, d in by_name.items()
    }
    assert crons == {
        INGEST_DEPLOYMENT: [("0 * * * *", "Asia/Jakarta")],
        DIGEST_DEPLOYMENT: [("0 7 * * 1", "Asia/Jakarta")],
        EXPORT_DEPLOYMENT: [("*/10 * * * *", "Asia/Jakarta")],
    }
    # Overlapping runs: a long ingest cancels the next one, a late digest waits its turn.
    limits = {
        name: (d.concurrency_limit, d.concurrency_options.collision_strategy.value)
        for name, d in by_name.items()
    }
    assert limits == {
        INGEST_DEPLOYMENT: (1, "CANCEL_NEW"),
        DIGEST_DEPLOYMENT: (1, "ENQUEUE"),
        EXPORT_DEPLOYMENT: (1, "CANCEL_NEW"),
    }
    # No settings in the parameters: Prefect stores and shows them, the settings hold secrets.
    assert by_name[INGEST_DEPLOYMENT].parameters == {"kind": "scheduled"}
    assert by_name[DIGEST_DEPLOYMENT].parameters == {}
    # The deployments run the real flows.
    assert by_name[INGEST_DEPLOYMENT].entrypoint.endswith("flows/pipeline.py:ingest_flow")
    assert by_name[DIGEST_DEPLOYMENT].entrypoint.endswith("flows/pipeline.py:digest_flow")
    assert by_name[EXPORT_DEPLOYMENT].entrypoint.endswith("flows/export.py:export_flow")


def test_a_crawl_that_times_out_is_retried_then_recorded_as_failed(tmp_path: Path) -> None:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.pipeline import run_ingest

    site = DemoSite("antarajambi").start()
    try:
        settings = settings_for(tmp_path / "data", [site]).model_copy(
            update={"flow": FlowConfig(crawl_timeout=0.5, crawl_retries=1, retry_delay=0.1)}
        )
        summary = run_ingest(settings)
    finally:
        site.stop()
    (report,) = summary.sources
    assert report.status == "failed"
    assert any("TimeoutError" in reason for reason in report.failures), report.failures
    record = last_run(tmp_path / "data")
    assert record["status"] == "failed"
    assert "took more than" in record["summary"]["per_source"]["antarajambi"]["error"]
    # Retried once (crawl_retries = 1) before giving up: Prefect ran the task twice.
    flow_run = UUID(record["summary"]["flow_run_id"])
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run]))
        )
    (crawl,) = [run for run in task_runs if run.name.startswith("crawl antarajambi")]
    assert crawl.run_count == 2


def test_backfill_records_its_range_and_stores_every_article(tmp_path: Path) -> None:
    from flows.pipeline import run_ingest

    site = DemoSite("antarajambi").start()
    try:
        summary = run_ingest(settings_for(tmp_path / "data", [site]), since="2026-01-01")
    finally:
        site.stop()
    assert summary.sources[0].status == "ok" and summary.sources[0].new == len(site.articles)
    record = last_run(tmp_path / "data")
    assert record["kind"] == "backfill" and record["status"] == "ok"
    assert record["summary"]["since"] == "2026-01-01"
    assert len(store_snapshot(tmp_path / "data")["index"]) == len(site.articles)
