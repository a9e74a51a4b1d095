"""The Prefect flows: ingest, backfill, retag, reindex, and the weekly digest.

Small tasks over the stages of flows/ingest.py, composed by flows. State lives in the
article store, not in Prefect: every task reads what is missing from the store and writes
idempotent, keyed upserts (article id, content hash, model version), so a crashed or
cancelled run that is simply run again finishes the work without duplicates. Prefect adds
the parallelism, retries with exponential backoff, timeouts, tags for concurrency limits,
schedules and the per-run artifact; Prefect's own database can be thrown away.

Caching: an unchanged page is not re-tagged because the store keys tags on (article,
content hash, model version) and `tag_pending` only reads articles without such a tag.
Prefect's result cache is deliberately not used for this: it would keep a second copy of
that knowledge in PREFECT_HOME (lost with the ephemeral API, never in step with the store)
and cost a task run per article.

Crawls run in a child process each (`flows.crawl_child`): Scrapy's Twisted reactor can run
only once per process, and a long-lived `pantau schedule` crawls every hour.

Import this module only after `flows.prefect_env.prepare_prefect` (Prefect reads its
settings on import).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar
from urllib.parse import urlsplit

from prefect import allow_failure, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run as current_flow_run
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from crawlers.runner import SourceReport
from flows.ingest import IndexSummary, RunSummary, TagSummary, index_pending, tag_pending
from flows.record import render_log_lines, render_markdown, run_status
from index import open_index
from nlp.tagger import RuleTagger
from pantau.config import Settings, SourceConfig, load_settings
from pantau.store import ArticleStore

log = logging.getLogger(__name__)

# Grace period for a crawl asked to stop (timeout) before it is killed.
STOP_GRACE_SECONDS = 30.0

RunHook = Callable[[RunSummary, Settings], None]
# Called after every ingest/backfill run is recorded: where the digest and export issues
# plug in (register_run_hook). A failing hook is logged, never fails the run.
RUN_HOOKS: list[RunHook] = []


def register_run_hook(hook: RunHook) -> RunHook:
    RUN_HOOKS.append(hook)
    return hook


# -- child crawl processes and Ctrl-C ----------------------------------------------------


class _Children:
    """The crawl processes of this process, so that a Ctrl-C can be forwarded to them."""

    lock = threading.Lock()
    running: ClassVar[set[subprocess.Popen[bytes]]] = set()
    interrupted = threading.Event()


@contextmanager
def forward_interrupts() -> Iterator[None]:
    """While a flow runs in the foreground: the first Ctrl-C asks every crawl to stop
    gracefully (what was fetched is stored, then tagged and indexed, and the reports say
    `shutdown`); a second one raises KeyboardInterrupt at once. The children run in their
    own sessions, so only this process receives the terminal's Ctrl-C and forwards it once
    (Scrapy treats a second SIGINT as "force")."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if _Children.interrupted.is_set():
            raise KeyboardInterrupt
        _Children.interrupted.set()
        log.warning("interrupted: stopping the crawls (Ctrl-C again to abort)")
        with _Children.lock:
            for child in _Children.running:
                with suppress(ProcessLookupError):
                    child.send_signal(signal.SIGINT)

    previous = signal.signal(signal.SIGINT, on_sigint)
    _Children.interrupted.clear()
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


_crawl_slots: dict[int, threading.BoundedSemaphore] = {}


def crawl_slots(limit: int) -> threading.BoundedSemaphore:
    """At most `limit` crawls at once in this process (flow.max_parallel_sources). The task
    runner has twice as many threads, so tagging a finished source never waits for a crawl
    slot and a waiting tag task never holds one."""
    with _Children.lock:
        return _crawl_slots.setdefault(limit, threading.BoundedSemaphore(limit))


def was_interrupted() -> bool:
    return _Children.interrupted.is_set()


def _shutdown_report(source: SourceConfig) -> SourceReport:
    return SourceReport(
        source=source.name,
        label=source.label,
        url=source.url,
        status="partial",
        finish_reason="shutdown",
    )


def _crawl_in_child(
    settings_json: dict[str, Any], source: SourceConfig, since: str | None, timeout: float
) -> SourceReport:
    with tempfile.TemporaryDirectory(prefix="pantau-crawl-") as tmp:
        job, report = Path(tmp) / "job.json", Path(tmp) / "report.json"
        job.write_text(
            json.dumps({"settings": settings_json, "source": source.model_dump(), "since": since}),
            "utf-8",
        )
        env = {
            **os.environ,
            "PANTAU_CRAWL_PARENT": str(os.getpid()),
            "PANTAU_CRAWL_LOG_LEVEL": logging.getLevelName(logging.getLogger().level),
        }
        command = [sys.executable, "-m", "flows.crawl_child", str(job), str(report)]
        with _Children.lock:
            if _Children.interrupted.is_set():
                return _shutdown_report(source)
            child = subprocess.Popen(command, env=env, start_new_session=True)
            _Children.running.add(child)
        try:
            try:
                returncode = child.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGINT)  # stop gracefully: keep what was fetched
                try:
                    child.wait(timeout=STOP_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
                message = f"crawl of {source.name} took more than {timeout:.0f} s"
                raise TimeoutError(message) from None
        finally:
            with _Children.lock:
                _Children.running.discard(child)
            if child.poll() is None:  # an exception (KeyboardInterrupt) got us here
                child.kill()
                child.wait()
        if report.exists():
            crawled = SourceReport.model_validate_json(report.read_text("utf-8"))
            if _Children.interrupted.is_set():
                # Whatever the crawl says (a Ctrl-C during its start reads as "failed to
                # start"), the cause is the interrupt: the run ends as interrupted (130).
                crawled = crawled.model_copy(update={"finish_reason": "shutdown"})
            return crawled
        if _Children.interrupted.is_set():
            return _shutdown_report(source)
        raise RuntimeError(f"crawl process of {source.name} ended with {returncode}, no report")


# -- tasks -------------------------------------------------------------------------------


@task(name="crawl", cache_policy=NO_CACHE)
def crawl_source(
    settings_json: dict[str, Any], source: SourceConfig, since: str | None = None
) -> tuple[SourceReport, float]:
    """Crawl one source in a child process; raises (and is retried) only when the process
    crashed or timed out. A site that answers with errors is a report, not an exception."""
    settings = Settings(**settings_json)
    with crawl_slots(settings.flow.max_parallel_sources):
        started = time.monotonic()
        report = _crawl_in_child(settings_json, source, since, settings.flow.crawl_timeout)
    get_run_logger().info(
        "%s: %s, %d pages, %d new", source.name, report.status, report.pages_fetched, report.new
    )
    return report, time.monotonic() - started


@task(name="tag", cache_policy=NO_CACHE)
def tag_source(
    store_path: Path, label: str | None, rules_path: str | None = None
) -> tuple[TagSummary, float]:
    """Tag what is untagged (for this model and text) of one source (all when label is None)."""
    started = time.monotonic()
    tagger = RuleTagger(Path(rules_path)) if rules_path else RuleTagger()
    with ArticleStore(store_path) as store:
        summary = tag_pending(store, tagger, source=label)
    return summary, time.monotonic() - started


@task(name="index", cache_policy=NO_CACHE)
def index_all(settings_json: dict[str, Any], rebuild: bool = False) -> tuple[IndexSummary, float]:
    """Bring the index in line with the store. Once per run, after every source is tagged:
    it reconciles the whole index (or drains the outbox), so per-source calls running at
    the same time would only repeat each other's work."""
    settings = Settings(**settings_json)
    started = time.monotonic()
    with ArticleStore(settings.store_path) as store:
        search_index = open_index(settings)
        try:
            if rebuild:
                stale = list(search_index.versions())
                if stale:
                    search_index.delete(stale)
            summary = index_pending(store, search_index)
        finally:
            search_index.close()
    return summary, time.monotonic() - started


# -- the run record ----------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def close_abandoned_runs(store: ArticleStore) -> list[int]:
    """Runs still 'running' whose process on this host is gone (killed, power cut) are
    marked 'crashed': their work is finished by the run that notices them."""
    host = socket.gethostname()
    closed = []
    for record in store.last_runs(limit=100):
        summary = record["summary"]
        if record["status"] != "running" or not isinstance(summary, dict):
            continue
        pid = summary.get("pid")
        if summary.get("host") == host and isinstance(pid, int) and not _alive(pid):
            summary["error"] = "the process ended without finishing the run (killed?)"
            store.finish_run(int(str(record["id"])), "crashed", summary)
            closed.append(int(str(record["id"])))
    return closed


def _start_record(settings: Settings, kind: str, names: list[str]) -> int:
    with ArticleStore(settings.store_path) as store:
        closed = close_abandoned_runs(store)
        if closed:
            get_run_logger().warning("runs %s had been killed; marked crashed", closed)
        return store.start_run(
            kind,
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "flow_run_id": str(current_flow_run.id or ""),
                "source_names": names,
            },
        )


def _finish_record(settings: Settings, kind: str, summary: RunSummary) -> str:
    record = summary.as_dict()
    status = run_status(record)
    with ArticleStore(settings.store_path) as store:
        store.finish_run(summary.run_id, status, record)
    logger = get_run_logger()
    for line in render_log_lines(summary.run_id, kind, status, record):
        logger.info(line)
    create_markdown_artifact(
        key=f"pantau-{kind}",
        markdown=render_markdown(summary.run_id, kind, status, record),
        description=f"Pantau {kind} run {summary.run_id}",
    )
    return status


@contextmanager
def _recorded(settings: Settings, kind: str, run_id: int) -> Iterator[None]:
    """A run that raises is recorded as failed with the reason (KeyboardInterrupt: as
    interrupted), so `pantau status` never shows a run that silently vanished."""
    try:
        yield
    except BaseException as exc:
        status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
        with ArticleStore(settings.store_path) as store:
            store.finish_run(run_id, status, {"error": f"{type(exc).__name__}: {exc}"})
        raise


# -- flows -------------------------------------------------------------------------------


def _settings(settings: dict[str, Any] | None) -> Settings:
    return Settings(**settings) if settings is not None else load_settings()


def _ingest(
    settings: Settings, names: list[str] | None, kind: str, since: str | None
) -> RunSummary:
    """crawl → tag per source (sources in parallel), then index once, recorded as a run."""
    sources = settings.enabled_sources(names)
    settings_json = settings.model_dump(mode="json")
    started = time.monotonic()
    run_id = _start_record(settings, kind, [s.name for s in sources])
    with _recorded(settings, kind, run_id):
        flow_cfg = settings.flow
        crawl_futures = {}
        tag_futures = {}
        for source in sources:
            domain = urlsplit(source.url).hostname or source.name
            crawl = crawl_source.with_options(
                name=f"crawl {source.name}",
                # Tag concurrency limits (`prefect concurrency-limit create domain:<host> 1`)
                # keep two runs, or two workers, off one site at the same time.
                tags=["crawl", f"domain:{domain}", f"source:{source.name}"],
                retries=flow_cfg.crawl_retries,
                retry_delay_seconds=exponential_backoff(backoff_factor=flow_cfg.retry_delay),
            )
            crawl_futures[source.name] = crawl.submit(settings_json, source, since)
            # Tag what this source stored, even when its crawl failed after storing some.
            tag_futures[source.name] = tag_source.with_options(
                name=f"tag {source.name}",
                tags=["tag", f"source:{source.name}"],
            ).submit(
                settings.store_path,
                source.label,
                wait_for=[allow_failure(crawl_futures[source.name])],
                return_state=False,
            )
        reports: list[SourceReport] = []
        tagging = TagSummary()
        per_source: dict[str, dict[str, Any]] = {}
        for source in sources:
            detail: dict[str, Any] = {}
            crawled = crawl_futures[source.name].result(raise_on_failure=False)
            if isinstance(crawled, BaseException):
                detail["error"] = f"{type(crawled).__name__}: {crawled}"
                report = SourceReport(
                    source=source.name,
                    label=source.label,
                    url=source.url,
                    status="failed",
                    failed=1,
                    failures={f"crawl process: {type(crawled).__name__}: {crawled}": 1},
                )
            else:
                report, detail["crawl_seconds"] = crawled
            tagged = tag_futures[source.name].result(raise_on_failure=False)
            if isinstance(tagged, BaseException):
                detail["error"] = f"tagging: {type(tagged).__name__}: {tagged}"
            else:
                source_tagging, detail["tag_seconds"] = tagged
                detail["tagging"] = asdict(source_tagging)
                tagging.add(source_tagging)
            reports.append(report)
            per_source[source.name] = detail
        indexing, index_seconds = index_all(settings_json)
        summary = RunSummary(
            run_id,
            reports,
            tagging,
            indexing,
            time.monotonic() - started,
            extra={
                "per_source": per_source,
                "index_seconds": round(index_seconds, 2),
                "flow_run_id": str(current_flow_run.id or ""),
                **({"since": since} if since else {}),
            },
        )
        _finish_record(settings, kind, summary)
    for hook in RUN_HOOKS:
        try:
            hook(summary, settings)
        except Exception:
            get_run_logger().exception("run hook %s failed", getattr(hook, "__name__", hook))
    return summary


# Replaced per run by task_runner(settings) (run_ingest, the deployments).
_DEFAULT_RUNNER: Any = ThreadPoolTaskRunner(max_workers=8)


@flow(name="ingest", task_runner=_DEFAULT_RUNNER)
def ingest_flow(
    settings: dict[str, Any] | None = None, sources: list[str] | None = None, kind: str = "run"
) -> RunSummary:
    """Per source: crawl → tag; then index. Sources in parallel (flow.max_parallel_sources);
    one failing source never blocks the others."""
    return _ingest(_settings(settings), sources, kind, since=None)


@flow(name="backfill", task_runner=_DEFAULT_RUNNER)
def backfill_flow(
    since: str,
    settings: dict[str, Any] | None = None,
    sources: list[str] | None = None,
) -> RunSummary:
    """Ingest, walking listings back to `since` (YYYY-MM-DD): the spiders' `since` walks
    listings to their end (bounded) instead of stopping at known articles. Articles newer
    than the range are stored too: the store keeps everything it fetched."""
    return _ingest(_settings(settings), sources, "backfill", since=since)


@flow(name="retag")
def retag_flow(settings: dict[str, Any] | None = None, rules_path: str | None = None) -> RunSummary:
    """After a model update: re-tag every article whose tag is not from the current model
    (name, version) for its current text, then bring the index in line."""
    cfg = _settings(settings)
    started = time.monotonic()
    run_id = _start_record(cfg, "retag", [])
    with _recorded(cfg, "retag", run_id):
        tagging, tag_seconds = tag_source(cfg.store_path, None, rules_path)
        indexing, index_seconds = index_all(cfg.model_dump(mode="json"))
        summary = RunSummary(
            run_id,
            [],
            tagging,
            indexing,
            time.monotonic() - started,
            extra={"tag_seconds": round(tag_seconds, 2), "index_seconds": round(index_seconds, 2)},
        )
        _finish_record(cfg, "retag", summary)
    return summary


@flow(name="reindex")
def reindex_flow(settings: dict[str, Any] | None = None, rebuild: bool = False) -> RunSummary:
    """Bring the index in line with the store; `rebuild` empties it first (a new backend,
    a changed mapping)."""
    cfg = _settings(settings)
    started = time.monotonic()
    run_id = _start_record(cfg, "reindex", [])
    with _recorded(cfg, "reindex", run_id):
        indexing, index_seconds = index_all(cfg.model_dump(mode="json"), rebuild)
        summary = RunSummary(
            run_id,
            [],
            TagSummary(),
            indexing,
            time.monotonic() - started,
            extra={"index_seconds": round(index_seconds, 2)},
        )
        _finish_record(cfg, "reindex", summary)
    return summary


@flow(name="digest")
def digest_flow(
    settings: dict[str, Any] | None = None,
    week: str | None = None,
    region: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """The weekly digest (Mondays 07:00 Asia/Jakarta; flows/digest.py): the last complete
    week (or `week`, e.g. '2026-W47') for digest.region (or `region`), saved under the data
    directory and sent once by SMTP when configured. Failed delivery (after its retries)
    fails the flow run; the run record (`runs`, kind 'digest') says why."""
    from flows.digest import Week, run_digest

    cfg = _settings(settings)
    result = run_digest(
        cfg,
        week=Week.parse(week) if week else None,
        region=region,
        force=force,
        extra={"flow_run_id": str(current_flow_run.id or "")},
    )
    create_markdown_artifact(
        key="pantau-digest",
        markdown=result.markdown(),
        description=f"Pantau digest {result.week} ({result.region})",
    )
    if result.error:
        raise RuntimeError(result.error)
    get_run_logger().info(
        "digest %s (%s): %d incidents, delivery %s",
        result.week,
        result.region,
        result.incidents,
        result.delivery.status,
    )
    return result.record()


def task_runner(settings: Settings) -> Any:
    """Threads for every crawl slot and as many for tagging (see crawl_slots). Typed Any:
    Prefect's TaskRunner generic is invariant, so its own runners do not type-check as the
    `task_runner` argument of flows."""
    return ThreadPoolTaskRunner(max_workers=2 * settings.flow.max_parallel_sources)


def run_ingest(
    settings: Settings,
    sources: list[SourceConfig] | None = None,
    kind: str = "run",
    since: str | None = None,
) -> RunSummary:
    """The ingest (or backfill) flow once, in this process, with the configured parallelism;
    the flow sees exactly these settings and sources."""
    if sources is not None:
        settings = settings.model_copy(update={"sources": sources})
    runner = task_runner(settings)
    settings_json = settings.model_dump(mode="json")
    names = [s.name for s in sources] if sources is not None else None
    if since is not None:
        return backfill_flow.with_options(task_runner=runner)(
            since=since, settings=settings_json, sources=names
        )
    return ingest_flow.with_options(task_runner=runner)(
        settings=settings_json, sources=names, kind=kind
    )
