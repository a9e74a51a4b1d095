"""`pantau`: the one command-line entry point."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

import typer

from flows.digest_cli import digest_command
from nlp.ner.cli import eval_ner
from nlp.ner.cli import train_app as ner_train_app
from pantau import __version__
from pantau.config import ConfigError, Settings, SourceConfig, load_settings

if TYPE_CHECKING:
    from pantau.models import ArticleIn, TaggedArticle
    from web.masking import NameExposure

app = typer.Typer(
    help=(
        "Pantau reads Indonesian local news and finds reported cases of trafficking (TPPO) "
        "and of violence against women and children.\n\n"
        "Settings come from pantau.toml or $PANTAU_CONFIG and PANTAU_* environment variables "
        "(see docs/configuration.md)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
log = logging.getLogger("pantau")

EXIT_SOURCES_FAILED = 2
EXIT_CONFIG = 2
EXIT_LINES_FAILED = 3
EXIT_INTERRUPTED = 130


class State:
    """The global options of this invocation (one process runs one command)."""

    overrides: ClassVar[dict[str, Any]] = {}
    config_path: ClassVar[Path | None] = None

    @classmethod
    def settings(cls) -> Settings:
        try:
            return load_settings(cls.overrides, cls.config_path)
        except ConfigError as exc:
            typer.echo(f"pantau: {exc}", err=True)
            raise typer.Exit(EXIT_CONFIG) from exc


@app.callback()
def main_options(
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML settings file (else $PANTAU_CONFIG).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where the store and index live.")
    ] = None,
    index_url: Annotated[
        str | None, typer.Option("--index-url", help="'embedded' or an Elasticsearch URL.")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log more detail.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Log warnings only.")] = False,
) -> None:
    State.config_path = config
    State.overrides = {"data_dir": data_dir, "index_url": index_url}
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


@app.command()
def version() -> None:
    """Print Pantau's version."""
    typer.echo(__version__)


@contextmanager
def _interruptible(what: str) -> Iterator[None]:
    """Ctrl-C ends the command with a message, not a traceback; every write is transactional,
    so the store stays consistent and a re-run finishes the job."""
    try:
        yield
    except KeyboardInterrupt:
        typer.echo(
            f"\npantau: {what} interrupted; the store is consistent, run it again to finish",
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None


# -- crawl ------------------------------------------------------------------------------


@app.command()
def crawl(
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Configured source(s); default all.")
    ] = None,
    spider: Annotated[
        str | None,
        typer.Option(
            help=(
                "Crawl a site that is not configured with this spider: disway, tribun, "
                "antara, generic."
            )
        ),
    ] = None,
    url: Annotated[str | None, typer.Option(help="Base URL of that site (with --spider).")] = None,
    output: Annotated[
        Path | None,
        typer.Option(help="With --spider/--url: write articles as JSONL here, not to the store."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Backfill back to this day (YYYY-MM-DD): listings walked to the end."),
    ] = None,
) -> None:
    """Fetch new articles from the news sites into the article store, and print a report."""
    from crawlers.runner import run_crawl

    settings = State.settings()
    try:
        since_day = date.fromisoformat(since) if since else None
    except ValueError as exc:
        typer.echo(f"pantau: --since {since}: expected YYYY-MM-DD", err=True)
        raise typer.Exit(EXIT_CONFIG) from exc
    if spider or url:
        if not (spider and url):
            typer.echo("pantau: --spider and --url go together", err=True)
            raise typer.Exit(EXIT_CONFIG)
        try:
            adhoc = SourceConfig(name=spider, label=url, spider=spider, url=url)
        except ValueError as exc:
            typer.echo(f"pantau: {exc}", err=True)
            raise typer.Exit(EXIT_CONFIG) from exc
        sources = [adhoc]
    else:
        sources = _sources(settings, source)
    with _interruptible("crawl"):
        reports = run_crawl(settings, sources, output=output, since=since_day)
    _print_crawl_reports(reports)
    _save_report(settings, "crawl", [r.model_dump() for r in reports])
    if any(r.status == "failed" for r in reports):
        raise typer.Exit(EXIT_SOURCES_FAILED)


def _sources(settings: Settings, names: list[str] | None) -> list[SourceConfig]:
    try:
        return settings.enabled_sources(names)
    except ConfigError as exc:
        typer.echo(f"pantau: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from exc


def _print_crawl_reports(reports: list[Any]) -> None:
    width = max([len("source"), *(len(r.source) for r in reports)]) + 2
    typer.echo("\nCrawl report")
    typer.echo(
        f"  {'source':<{width}}{'status':<9}{'pages':>6}{'new':>6}{'upd':>6}{'same':>6}"
        f"{'dup':>6}{'fail':>6}"
    )
    for r in reports:
        typer.echo(
            f"  {r.source:<{width}}{r.status:<9}{r.pages_fetched:>6}{r.new:>6}{r.updated:>6}"
            f"{r.unchanged:>6}{r.duplicates:>6}{r.failed:>6}"
        )
        for reason, count in sorted(r.failures.items(), key=lambda kv: -kv[1]):
            typer.echo(f"      {count} × {reason}")
        if getattr(r, "layout_fallbacks", 0):
            typer.echo(
                f"      {r.layout_fallbacks} × layout not recognised, read with the generic "
                "extractor (check the site's selectors)"
            )
        if r.status == "failed":
            typer.echo(
                f"      {r.source} could not be crawled ({r.url}); check the network "
                "or the site address"
            )


def _save_report(settings: Settings, kind: str, content: Any) -> Path:
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = settings.reports_dir / f"{kind}-{stamp}.json"
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False, default=str), "utf-8")
    log.info("report saved to %s", path)
    return path


# -- tag --------------------------------------------------------------------------------


@app.command()
def tag(
    input: Annotated[str, typer.Option("--input", "-i", help="JSONL articles; '-' for stdin.")],
    output: Annotated[str, typer.Option("--output", "-o", help="JSONL out; '-' for stdout.")],
) -> None:
    """Tag articles per the contract (contracts/README.md): one JSON object per input line,
    in the same order. Bad lines are reported on stderr and written as error lines; the
    exit status is then 3."""
    from nlp.contract import tag_jsonl
    from nlp.tagger import RuleTagger

    tagger = RuleTagger()
    failed = 0
    with _open_in(input) as source, _open_out(output) as sink:
        for result in tag_jsonl(source, tagger):
            sink.write(result.output + "\n")
            if result.error is not None:
                failed += 1
                typer.echo(f"pantau tag: {result.error}", err=True)
            elif result.warning is not None:
                typer.echo(f"pantau tag: warning: {result.warning}", err=True)
    if failed:
        raise typer.Exit(EXIT_LINES_FAILED)


@contextmanager
def _open_in(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdin
        return
    try:
        handle = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
    except OSError as exc:
        typer.echo(f"pantau: cannot read {path}: {exc.strerror}", err=True)
        raise typer.Exit(EXIT_CONFIG) from exc
    with handle:
        yield handle


@contextmanager
def _open_out(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    with open(path, "w", encoding="utf-8") as handle:
        yield handle


# -- index and search -------------------------------------------------------------------


@app.command("index")
def index_command(
    retag: Annotated[bool, typer.Option(help="Tag untagged articles first.")] = True,
    reindex: Annotated[
        bool,
        typer.Option(help="Elasticsearch: copy into a new index version, then swap the alias."),
    ] = False,
) -> None:
    """Bring the search index in line with the article store (tagging what is untagged)."""
    from flows.ingest import index_pending, tag_pending
    from index.base import IndexBackendError
    from pantau.store import ArticleStore

    settings = State.settings()
    with _interruptible("index"), ArticleStore(settings.store_path) as store:
        if retag:
            tagging = tag_pending(store)
            typer.echo(f"tagged {tagging.tagged} articles ({tagging.failed} failed)")
        search_index = _open_index(settings)
        try:
            if reindex:
                if not hasattr(search_index, "reindex"):
                    typer.echo("pantau index: --reindex is for Elasticsearch", err=True)
                    raise typer.Exit(EXIT_CONFIG)
                typer.echo(f"reindexed into {search_index.reindex()}")
            summary = index_pending(store, search_index)
        except IndexBackendError as exc:
            # What was not indexed stays in the store's outbox for the next run.
            typer.echo(f"pantau index: {exc}", err=True)
            raise typer.Exit(1) from exc
        finally:
            search_index.close()
    typer.echo(
        f"indexed {summary.indexed}, removed {summary.removed}; {summary.total} articles searchable"
    )


def _open_index(settings: Settings) -> Any:
    from index import open_index

    try:
        return open_index(settings)
    except ConfigError as exc:
        typer.echo(f"pantau: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from exc


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='Words, "phrases", OR, -word, field:value.')] = "",
    source: Annotated[
        list[str] | None, typer.Option(help="Outlet name, e.g. 'Jambi Ekspres'.")
    ] = None,
    relevance: Annotated[
        list[str] | None, typer.Option(help="incident, aggregate or none.")
    ] = None,
    form: Annotated[list[str] | None, typer.Option(help="tppo, kekerasan_seksual, …")] = None,
    group: Annotated[list[str] | None, typer.Option(help="Victim group: anak, perempuan.")] = None,
    region: Annotated[list[str] | None, typer.Option(help="Kemendagri code: 15, 15.71, …")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD")] = None,
    sort: Annotated[str, typer.Option(help="relevance or date")] = "relevance",
    page: Annotated[int, typer.Option(min=1)] = 1,
    size: Annotated[int, typer.Option(min=1, max=100)] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Search the indexed articles.

    Query syntax: perdagangan orang (all words, any inflection) · "perdagangan orang"
    (phrase) · tppo OR pmi · -narkoba (leave out) · source:"Jambi Ekspres" relevance:incident
    form:tppo group:anak region:15.71 date:2026-11 date:2026-11-01..2026-11-30
    """
    from index.base import IndexBackendError, SearchRequest
    from index.query import QueryError

    settings = State.settings()
    try:
        request = SearchRequest(
            q=query,
            sources=source or [],
            relevance=relevance or [],
            categories=form or [],
            victim_groups=group or [],
            regions=region or [],
            date_from=date.fromisoformat(date_from) if date_from else None,
            date_to=date.fromisoformat(date_to) if date_to else None,
            sort=sort,
            page=page,
            size=size,
        )
    except ValueError as exc:
        typer.echo(f"pantau search: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from exc
    search_index = _open_index(settings)
    try:
        result = search_index.search(request)
    except QueryError as exc:
        typer.echo(f"pantau search: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from exc
    except IndexBackendError as exc:
        typer.echo(f"pantau search: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        search_index.close()
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    _print_result(result, sys.stdout.isatty())


def _print_result(result: Any, color: bool) -> None:
    def marks(html: str) -> str:
        import html as html_module

        opened, closed = ("\033[1;33m", "\033[0m") if color else ("[", "]")
        return html_module.unescape(html.replace("<mark>", opened).replace("</mark>", closed))

    first = (result.page - 1) * result.size + 1
    if not result.total:
        typer.echo("No articles found.")
        return
    last = first + len(result.hits) - 1
    typer.echo(f"{result.total} articles found, showing {first}–{last}\n")
    for number, hit in enumerate(result.hits, start=first):
        when = hit.published.date().isoformat() if hit.published else "date unknown"
        labels = ", ".join(hit.categories) or "-"
        place = hit.primary_location.name if hit.primary_location else "-"
        typer.echo(f"{number}. {marks(hit.title_html)}")
        typer.echo(f"   {hit.source} · {when} · {hit.relevance} · {labels} · {place}")
        typer.echo(f"   {marks(hit.snippet_html)}")
        typer.echo(f"   {hit.url}\n")
    for name in ("relevance", "category", "region", "source"):
        values = result.facets.get(name) or []
        if values:
            shown = ", ".join(f"{v.label} ({v.count})" for v in values[:8])
            typer.echo(f"{name}: {shown}")


# -- run, demo, status ------------------------------------------------------------------


@app.command()
def run(
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Configured source(s); default all.")
    ] = None,
) -> None:
    """Crawl → tag → index once for the configured sources (the main job)."""
    settings = State.settings()
    _run_pipeline(settings, _sources(settings, source))


@app.command()
def backfill(
    since: Annotated[str, typer.Option(help="Walk the listings back to this date (YYYY-MM-DD).")],
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Configured source(s); default all.")
    ] = None,
) -> None:
    """The ingest flow for a date range: listings are walked back to --since instead of
    stopping at known articles (a new source, or a gap after an outage)."""
    try:
        date.fromisoformat(since)
    except ValueError:
        typer.echo(f"pantau backfill: --since {since!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(EXIT_CONFIG) from None
    settings = State.settings()
    _run_pipeline(settings, _sources(settings, source), since=since)


@app.command()
def retag() -> None:
    """After a model or rules update: re-tag every article whose tag is from another model
    version, then bring the index in line (the `retag` flow, recorded like every run)."""
    settings = State.settings()
    from flows.prefect_env import detach_ephemeral_api, prepare_prefect

    prepare_prefect(settings.data_dir)
    from flows.pipeline import retag_flow

    with _interruptible("retag"):
        detach_ephemeral_api()
        summary = retag_flow(settings=settings.model_dump(mode="json"))
    tagging = summary.tagging
    typer.echo(
        f"Re-tagged {tagging.tagged} articles ({tagging.failed} failed); indexed "
        f"{summary.indexing.indexed}, {summary.indexing.total} searchable (run {summary.run_id})."
    )
    if tagging.failed:
        raise typer.Exit(1)


def _run_pipeline(
    settings: Settings, sources: list[SourceConfig], since: str | None = None
) -> None:
    # The ingest flow, run once in this process (Prefect's ephemeral API unless
    # PREFECT_API_URL names a server); Prefect is imported here only, it is slow to import.
    from flows.prefect_env import detach_ephemeral_api, prepare_prefect

    prepare_prefect(settings.data_dir)
    from flows.pipeline import forward_interrupts, run_ingest

    with _interruptible("run"), forward_interrupts():
        detach_ephemeral_api()
        summary = run_ingest(settings, sources, since=since)
    _print_crawl_reports(summary.sources)
    tagging = summary.tagging
    relevance = ", ".join(f"{k} {v}" for k, v in sorted(tagging.by_relevance.items()))
    typer.echo(
        f"\nTagged {tagging.tagged} articles ({tagging.failed} failed)"
        + (f": {relevance}" if relevance else "")
    )
    if tagging.by_category:
        typer.echo(
            "  forms: " + ", ".join(f"{k} {v}" for k, v in sorted(tagging.by_category.items()))
        )
    typer.echo(
        f"Indexed {summary.indexing.indexed}; {summary.indexing.total} articles searchable "
        f"in {settings.data_dir}"
    )
    typer.echo(f"Done in {summary.seconds:.1f} s (run {summary.run_id}).")
    typer.echo('\nSearch with:  pantau search "perdagangan orang"   (pantau search --help)')
    _save_report(settings, "run", summary.as_dict())
    if any(r.finish_reason == "shutdown" for r in summary.sources):
        typer.echo(
            "\npantau: the crawl was interrupted; what was fetched is stored, tagged and "
            "indexed — run it again to finish",
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED)
    if summary.failed_sources:
        names = ", ".join(r.source for r in summary.failed_sources)
        typer.echo(f"\npantau: could not crawl {names}; see the report above", err=True)
        raise typer.Exit(EXIT_SOURCES_FAILED)


@app.command()
def demo(
    port: Annotated[
        int, typer.Option(help="First of three local ports for the demo sites (0: any free).")
    ] = 8471,
    serve_only: Annotated[
        bool, typer.Option(help="Only serve the demo sites until Ctrl-C (to try other tools).")
    ] = False,
) -> None:
    """Run the whole pipeline offline against bundled demo news sites served on 127.0.0.1."""
    from crawlers.demo_site.server import SITE_KEYS, SITE_LABELS, SITE_SPIDERS, serve_demo_sites

    ports = {key: (port + n if port else 0) for n, key in enumerate(SITE_KEYS)}
    try:
        context = serve_demo_sites(ports)
        sites = context.__enter__()
    except OSError as exc:
        typer.echo(
            f"pantau demo: cannot listen on ports {port}–{port + 2}: {exc.strerror}; try --port 0",
            err=True,
        )
        raise typer.Exit(EXIT_CONFIG) from exc
    try:
        for key, site in sites.items():
            typer.echo(f"demo site {SITE_LABELS[key]} at {site.base_url}/")
        if serve_only:
            with _interruptible("demo"):
                import time

                while True:
                    time.sleep(3600)
        sources = [
            SourceConfig(
                name=f"{key}-demo",
                label=f"{SITE_LABELS[key]} (demo)",
                spider=SITE_SPIDERS[key],
                url=site.base_url,
                categories=sorted({a.category for a in site.articles}),
            )
            for key, site in sites.items()
        ]
        base = State.settings()
        # Local servers: no politeness delay needed, robots.txt still obeyed.
        settings = base.model_copy(
            update={
                "sources": sources,
                "crawl": base.crawl.model_copy(
                    update={"download_delay": 0.0, "autothrottle": False}
                ),
            }
        )
        _run_pipeline(settings, sources)
    finally:
        context.__exit__(None, None, None)


@app.command()
def status(
    runs: Annotated[int, typer.Option(help="How many of the last runs to show.", min=1)] = 5,
) -> None:
    """What is stored and indexed, what is pending, and the record of the last runs."""
    from flows.record import render_log_lines
    from nlp.tagger import RuleTagger
    from pantau.store import ArticleStore

    settings = State.settings()
    with ArticleStore(settings.store_path) as store:
        typer.echo(f"data dir: {settings.data_dir}")
        typer.echo(f"articles: {store.count_articles()}, tagged: {store.count_tags()}")
        search_index = _open_index(settings)
        try:
            typer.echo(f"indexed: {search_index.count()} ({settings.index_url})")
        finally:
            search_index.close()
        tagger = RuleTagger()
        untagged = sum(1 for _ in store.articles_to_tag(tagger.name, tagger.version))
        typer.echo(
            f"pending: {untagged} articles to tag with {tagger.name} {tagger.version}, "
            f"{store.count_index_outbox()} in the index outbox"
        )
        records = store.last_runs(limit=runs)
        for number, run_record in enumerate(records):
            typer.echo(
                f"run {run_record['id']} {run_record['kind']} {run_record['status']} "
                f"started {run_record['started_at']} finished {run_record['finished_at']}"
            )
            summary = run_record["summary"]
            if number == 0 and isinstance(summary, dict):
                # The last run's record in full: per source, what was fetched and found.
                if summary.get("error"):
                    typer.echo(f"  error: {summary['error']}")
                for line in render_log_lines(
                    int(str(run_record["id"])),
                    str(run_record["kind"]),
                    str(run_record["status"]),
                    summary,
                )[1:]:
                    typer.echo(line)


@app.command()
def schedule() -> None:
    """Serve the deployments until Ctrl-C: ingest every hour, the digest on Mondays 07:00
    (flow.timezone, Asia/Jakarta). Uses Prefect's local ephemeral API unless
    PREFECT_API_URL names a Prefect server (docs/scaling.md)."""
    from flows.prefect_env import prepare_prefect

    settings = State.settings()
    prepare_prefect(settings.data_dir)
    from flows.prefect_env import detach_ephemeral_api
    from flows.schedule import DIGEST_DEPLOYMENT, INGEST_DEPLOYMENT, serve_deployments

    flow = settings.flow
    typer.echo(
        f"serving {INGEST_DEPLOYMENT} ({flow.ingest_cron}) and {DIGEST_DEPLOYMENT} "
        f"({flow.digest_cron}), {flow.timezone}; Ctrl-C stops"
    )
    with _interruptible("schedule"):
        detach_ephemeral_api()
        serve_deployments(settings, State.config_path)


# The weekly digest (flows/digest_cli.py; docs/digest.md).
app.command("digest")(digest_command)


# -- web app and its accounts ------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default web.host, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Port (default web.port, 8000).")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="Server processes (searches are CPU-bound and Python runs one thread at a "
            "time per process: use up to one per core). The login rate limit counts per "
            "process.",
        ),
    ] = 1,
) -> None:
    """Serve the analysts' web app and API (log in with an account from `pantau users`)."""
    import uvicorn

    from web.app import create_app

    settings = State.settings()
    web_settings = settings.web.model_copy(
        update={k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    )
    settings = settings.model_copy(update={"web": web_settings})
    if not settings.web.cookie_secure and settings.web.host not in ("127.0.0.1", "localhost"):
        typer.echo(
            "pantau serve: web.cookie_secure is false while listening beyond localhost; "
            "session cookies would travel unencrypted",
            err=True,
        )
    typer.echo(f"Pantau web app on http://{settings.web.host}:{settings.web.port}/")
    if workers > 1:
        from pantau.store import ArticleStore
        from web.accounts import secret_key

        # Made once here, not raced by the workers: the migrations and the session key.
        ArticleStore(settings.store_path).close()
        secret_key(settings)
        os.environ[SERVE_OPTIONS_ENV] = json.dumps(
            {
                "config": str(State.config_path) if State.config_path else None,
                "overrides": State.overrides,
                "web": {"host": settings.web.host, "port": settings.web.port},
            },
            default=str,
        )
        uvicorn.run(
            "pantau.cli:serve_worker_app",
            factory=True,
            workers=workers,
            host=settings.web.host,
            port=settings.web.port,
            log_level="warning",
            proxy_headers=False,
        )
        return
    uvicorn.run(
        create_app(settings),
        host=settings.web.host,
        port=settings.web.port,
        log_level="warning",
        proxy_headers=False,
    )


SERVE_OPTIONS_ENV = "PANTAU_SERVE_OPTIONS"


def serve_worker_app() -> Any:
    """The app of one `pantau serve --workers N` process: each worker starts a fresh
    interpreter, so the command's options travel in an environment variable."""
    from web.app import create_app

    options = json.loads(os.environ[SERVE_OPTIONS_ENV])
    config = Path(options["config"]) if options["config"] else None
    settings = load_settings(options["overrides"], config)
    web_settings = settings.web.model_copy(update=options["web"])
    return create_app(settings.model_copy(update={"web": web_settings}))


users_app = typer.Typer(
    help="Accounts of the web app (roles: analyst, researcher, admin).", no_args_is_help=True
)
app.add_typer(users_app, name="users")


def _read_password(from_stdin: bool, confirm: bool = True) -> str:
    # Never an argument: arguments end up in shell history and the process list.
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return password


@contextmanager
def _accounts() -> Iterator[Any]:
    """The accounts store; an AccountError becomes a one-line message and exit status 2."""
    from web.accounts import AccountError, Accounts

    try:
        with Accounts.open(State.settings()) as accounts:
            yield accounts
    except AccountError as exc:
        typer.echo(f"pantau users: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from exc


PasswordFromStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")
]


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="analyst, researcher or admin.")] = "analyst",
    password_stdin: PasswordFromStdin = False,
) -> None:
    """Add a user; the password is asked for (or read from stdin), at least 10 characters."""
    password = _read_password(password_stdin)
    with _accounts() as accounts:
        accounts.add_user(username, password, role)
    typer.echo(f"added {username} ({role})")


@users_app.command("remove")
def users_remove(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Remove a user; their sessions end at once (their corrections stay, with their name)."""
    with _accounts() as accounts:
        accounts.remove_user(username)
    typer.echo(f"removed {username}")


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password_stdin: PasswordFromStdin = False,
) -> None:
    """Set a new password; the user's open sessions end."""
    password = _read_password(password_stdin)
    with _accounts() as accounts:
        accounts.set_password(username, password)
    typer.echo(f"password of {username} changed")


@users_app.command("list")
def users_list() -> None:
    """List the users and their roles."""
    with _accounts() as accounts:
        for user in accounts.list_users():
            typer.echo(f"{user['username']}\t{user['role']}\tcreated {user['created_at']}")


# Research datasets and the Label Studio round trip (pantau/export/commands.py).
from pantau.export.commands import annotate_app, export_command  # noqa: E402

app.command("export")(export_command)
app.add_typer(annotate_app, name="annotate")

eval_app = typer.Typer(help="Measure the models against gold labels.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
# The NER commands live beside the model code (nlp/ner/cli.py).
eval_app.command("ner")(eval_ner)
app.add_typer(ner_train_app, name="train")


@eval_app.command("tag")
def eval_tag(
    gold: Annotated[
        str,
        typer.Option(
            help="Gold JSONL (article fields plus a 'gold' object); or a named set: 'demo' "
            "(the fictional demo articles: a smoke test), 'annotated' (Pantau's annotated "
            "real articles, texts joined from the shared data; --split test is held out), "
            "'general-news' (2,000 click-id articles never trained on, all assumed "
            "irrelevant: the false-positive rate; flagged articles are listed)."
        ),
    ],
    split: Annotated[
        str, typer.Option(help="With --gold annotated: 'test' (held out) or 'train'.")
    ] = "test",
    shared_data: Annotated[
        Path | None,
        typer.Option(
            "--shared-data",
            help="The shared data folder (else shared_data_dir, ../shared/data).",
        ),
    ] = None,
    rules_only: Annotated[
        bool, typer.Option("--rules-only", help="Score the rules alone (no classifier, no NER).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
    intervals: Annotated[
        int,
        typer.Option(
            help="Also 95% intervals of the headline measures from this many bootstrap "
            "resamples of whole case groups (--gold annotated: the pool's case groups; "
            "else each article); 0: none.",
            min=0,
        ),
    ] = 0,
    by_source: Annotated[
        bool,
        typer.Option(
            "--by-source",
            help="With --gold annotated: also relevance, forms and victims' names left "
            "visible per collection of the shared data the articles came from (the "
            "child-abuse set, click-id, detik).",
        ),
    ] = False,
) -> None:
    """Score `pantau tag` field by field: relevance (accuracy, macro-F1, confusion matrix,
    incident precision/recall), forms, victim groups, domestic, relation, victims count and
    primary location (kabupaten/kota and province)."""
    from nlp.evaluate import (
        annotated_gold,
        evaluate,
        flagged,
        format_report,
        general_news_gold,
        read_gold,
    )
    from nlp.tagger import RuleTagger

    if gold == "demo":
        pairs = list(_demo_gold())
    elif gold in ("annotated", "general-news"):
        data_dir = _shared_data_dir(shared_data)
        if split not in ("test", "train"):
            typer.echo("pantau eval: --split must be 'test' or 'train'", err=True)
            raise typer.Exit(EXIT_CONFIG)
        try:
            pairs = (
                annotated_gold(data_dir, "test" if split == "test" else "train")
                if gold == "annotated"
                else general_news_gold(data_dir)
            )
        except (OSError, ValueError) as exc:
            typer.echo(f"pantau eval: cannot read the shared data in {data_dir}: {exc}", err=True)
            raise typer.Exit(EXIT_CONFIG) from exc
    else:
        with _open_in(gold) as handle:
            try:
                pairs = list(read_gold(handle))
            except ValueError as exc:
                typer.echo(f"pantau eval: {exc}", err=True)
                raise typer.Exit(EXIT_CONFIG) from exc
    # No NER model: no scored field depends on the entities (only masking below does).
    tagger = RuleTagger(model_dir=None, ner=None) if rules_only else RuleTagger(ner=None)
    tagged = [(article, labels, tagger.tag(article)) for article, labels in pairs]
    result = evaluate((labels, predicted) for _, labels, predicted in tagged)
    scores = result.as_dict()
    if intervals:
        scores["intervals"] = _case_group_intervals(tagged, intervals, gold == "annotated")
    collection_of = _collection_of_pool_articles() if by_source and gold == "annotated" else None
    if collection_of is not None:
        scores["by_source"] = _relevance_by_source(tagged, collection_of)
    named = [(article, labels) for article, labels in pairs if labels.get("victim_names")]
    if named and not rules_only:
        scores["victim_name_masking"] = _victim_name_masking(named, collection_of)
    if as_json:
        typer.echo(json.dumps(scores, indent=2))
    else:
        typer.echo(format_report(result))
        if intervals:
            typer.echo(
                f"95% intervals ({intervals} resamples of whole case groups): "
                + "; ".join(f"{k} {lo:.3f}-{hi:.3f}" for k, (lo, hi) in scores["intervals"].items())
            )
        for source, part in scores.get("by_source", {}).items():
            typer.echo(
                f"  {source:<28} {part['articles']:>4} articles, {part['incidents']:>3} "
                f"incidents: relevance macro-F1 {part['macro_f1']:.3f}, incident precision "
                f"{part['precision']:.3f} recall {part['recall']:.3f}, forms micro-F1 "
                f"{part['forms_micro_f1']:.3f}"
            )
        if "victim_name_masking" in scores:
            masking = scores["victim_name_masking"]
            typer.echo(
                f"victims' names left visible by digest masking (full tagger, NER included): "
                f"{masking['visible']} of {masking['mentions']} mentions "
                f"({masking['articles_with_visible']} of {masking['articles']} articles); in "
                f"those tagged incident or aggregate (what digests show): "
                f"{masking['relevant_visible']} of {masking['relevant_mentions']} "
                f"({masking['relevant_articles_with_visible']} of "
                f"{masking['relevant_articles']} articles), with "
                f"{masking['relevant_masks']} masks in all"
            )
            for source, part in masking.get("by_source", {}).items():
                typer.echo(
                    f"  {source:<28} {part['relevant_visible']:>4} of "
                    f"{part['relevant_mentions']:>4} mentions visible in what digests show "
                    f"({part['relevant_articles_with_visible']} of {part['relevant_articles']} "
                    "articles)"
                )
    if gold == "general-news" and not as_json:
        hits = flagged((article, predicted) for article, _, predicted in tagged)
        typer.echo(f"flagged relevant: {len(hits)} of {len(tagged)} (check them by hand)")
        for article, predicted in hits:
            typer.echo(f"  {predicted.relevance:<9} {article.url}  {article.title[:90]}")


@eval_app.command("agreement")
def eval_agreement(
    split: Annotated[
        str, typer.Option(help="'test' (held out), 'train', or 'all' of the annotated set.")
    ] = "test",
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Inter-annotator agreement on Pantau's annotated set: the second, independent
    annotation scored against the first with the measures of `pantau eval tag` (the ceiling
    for the tagger's numbers), and what adjudication of the disagreements changed. Reads the
    label files only."""
    from nlp.agreement import annotator_agreement
    from nlp.evaluate import format_report

    if split not in ("test", "train", "all"):
        typer.echo("pantau eval: --split must be 'test', 'train' or 'all'", err=True)
        raise typer.Exit(EXIT_CONFIG)
    try:
        report = annotator_agreement(
            None if split == "all" else ("test" if split == "test" else "train")
        )
    except ValueError as exc:
        typer.echo(f"pantau eval: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from exc
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    summary = report.adjudication
    typer.echo(
        f"{summary.double_annotated} of {summary.articles} articles labelled twice; the second "
        "annotation scored against the first (rows: first annotator, columns: second)"
    )
    typer.echo(format_report(report.between_annotators))
    typer.echo(
        "\nthe second annotation scored against the final, adjudicated gold (one careful "
        "reader on the measures the tagger is held to):"
    )
    typer.echo(format_report(report.second_against_gold))
    by_field = ", ".join(f"{k} {n}" for k, n in sorted(summary.disagreed_by_field.items()))
    typer.echo(
        f"\ndisagreed on a scored field: {summary.disagreed} articles ({by_field or 'none'}); "
        f"adjudicated {summary.adjudicated}, not yet {summary.disagreed_not_adjudicated}"
    )
    changed = ", ".join(f"{k} {n}" for k, n in sorted(summary.gold_changed_by_field.items()))
    typer.echo(f"final gold differs from the first annotation in: {changed or 'nothing'}")


def _case_group_intervals(
    tagged: list[tuple[ArticleIn, dict[str, Any], TaggedArticle]],
    resamples: int,
    pool_groups: bool,
) -> dict[str, tuple[float, float]]:
    """Bootstrap intervals of the headline measures; the annotated set's articles are
    resampled by their case group (articles on one case are not independent)."""
    from nlp.annotated import read_pool
    from nlp.evaluate import bootstrap_intervals, tagged_labels

    group_of = {item.id: item.group for item in read_pool()} if pool_groups else {}
    records = [
        (group_of.get(article.id, article.id), labels, tagged_labels(predicted))
        for article, labels, predicted in tagged
    ]
    return bootstrap_intervals(records, resamples)


def _collection_of_pool_articles() -> dict[str, str]:
    """Each annotated article's shared-data collection ("news/click-id", not the site)."""
    from nlp.annotated import read_pool

    def collection(file: str) -> str:
        parts = Path(file).parts
        return "/".join(parts[:2]) if len(parts) > 2 else str(Path(file).with_suffix(""))

    return {item.id: collection(item.ref.file) for item in read_pool()}


_Record = TypeVar("_Record")


def _by_collection(
    records: Iterable[tuple[str, _Record]], collection_of: dict[str, str]
) -> dict[str, list[_Record]]:
    """Records keyed by article id, grouped by collection (sorted by its name)."""
    parts: dict[str, list[_Record]] = {}
    for article_id, record in records:
        parts.setdefault(collection_of.get(article_id, "other"), []).append(record)
    return dict(sorted(parts.items()))


def _relevance_by_source(
    tagged: list[tuple[ArticleIn, dict[str, Any], TaggedArticle]], collection_of: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Relevance and forms scores per shared-data collection the annotated articles came
    from: the child-abuse set is regional crime news, nearly all cases; the general news
    was drawn for hard negatives, so precision is harder there."""
    from nlp.evaluate import evaluate

    parts = _by_collection(
        ((article.id, (labels, predicted)) for article, labels, predicted in tagged), collection_of
    )
    scores: dict[str, dict[str, Any]] = {}
    for source, records in parts.items():
        result = evaluate(records)
        precision, recall = result.incident_precision_recall()
        scores[source] = {
            "articles": len(records),
            "incidents": sum(1 for labels, _ in records if labels.get("relevance") == "incident"),
            "macro_f1": result.relevance_macro_f1(),
            "precision": precision,
            "recall": recall,
            "forms_micro_f1": result.categories.micro_f1,
        }
    return scores


def _victim_name_masking(
    named: list[tuple[ArticleIn, dict[str, Any]]], collection_of: dict[str, str] | None = None
) -> dict[str, Any]:
    """Annotators' victim names in the articles vs what digest masking leaves visible, with
    the full tagger (the NER model finds the persons the masking covers); also for the
    articles the tagger finds relevant only, the ones a digest can show; with
    `collection_of` (article id → collection), also per shared-data collection."""
    from nlp.tagger import RuleTagger
    from web.masking import victim_name_exposure

    full = RuleTagger()
    exposures = []
    for article, labels in named:
        tagged = full.tag(article)
        exposure = victim_name_exposure(article.title, article.text, tagged, labels["victim_names"])
        exposures.append((article.id, tagged.relevance != "none", exposure))
    summary: dict[str, Any] = _masking_summary([(r, e) for _, r, e in exposures])
    if collection_of is not None:
        parts = _by_collection(((a, (r, e)) for a, r, e in exposures), collection_of)
        summary["by_source"] = {key: _masking_summary(part) for key, part in parts.items()}
    return summary


def _masking_summary(exposures: list[tuple[bool, NameExposure]]) -> dict[str, int]:
    """Mentions and visible mentions, in all articles and in those tagged relevant."""
    from web.masking import NameExposure

    total, relevant = NameExposure(), NameExposure()
    articles_with_visible = relevant_articles = relevant_with_visible = 0
    for is_relevant, exposure in exposures:
        total += exposure
        articles_with_visible += int(exposure.visible > 0)
        if is_relevant:
            relevant += exposure
            relevant_articles += 1
            relevant_with_visible += int(exposure.visible > 0)
    return {
        "articles": len(exposures),
        "mentions": total.mentions,
        "visible": total.visible,
        "articles_with_visible": articles_with_visible,
        "relevant_articles": relevant_articles,
        "relevant_mentions": relevant.mentions,
        "relevant_visible": relevant.visible,
        "relevant_articles_with_visible": relevant_with_visible,
        "relevant_masks": relevant.masks,
    }


@ner_train_app.command("tagger")
def train_tagger(
    shared_data: Annotated[
        Path | None,
        typer.Option("--shared-data", help="Shared data folder (else shared_data_dir, …)."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Folder for model.json (default: the shipped one)."),
    ] = None,
    store: Annotated[
        bool | None,
        typer.Option(
            "--store/--no-store",
            help="Add the store's gold labels: analysts' web corrections and imported Label "
            "Studio annotations (default: when the configured store holds any).",
        ),
    ] = None,
) -> None:
    """Train the incident classifier (models/incident-classifier) from the annotated train
    split, the child-abuse set, general-news negatives, the demo articles and the store's
    corrected or annotated articles. Fixed seed: the same data gives the same model. The
    held-out test split, and any store article on one of its cases, is never trained on."""
    from nlp.classifier import DEFAULT_MODEL_DIR
    from nlp.classifier_training import train
    from pantau.export.labels import gold_labelled

    data_dir = _shared_data_dir(shared_data)
    if not (data_dir / "incidents").is_dir():
        typer.echo(f"pantau: no shared data in {data_dir} (give --shared-data)", err=True)
        raise typer.Exit(EXIT_CONFIG)
    try:
        labelled = gold_labelled(State.settings().store_path, store)
    except FileNotFoundError as exc:
        typer.echo(f"pantau: --store: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from exc
    train(data_dir, output or DEFAULT_MODEL_DIR, labelled)


def _shared_data_dir(option: Path | None) -> Path:
    # Not PANTAU_DATA_DIR: that is Pantau's own data (the store); the shared data is
    # `shared_data_dir` (PANTAU_SHARED_DATA_DIR), else ../shared/data beside the clone.
    if option is not None:
        return option
    configured = State.settings().shared_data_dir
    if configured is not None:
        return configured
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def _demo_gold() -> Iterator[tuple[Any, dict[str, Any]]]:
    from crawlers.demo_site.server import load_articles
    from pantau.models import ArticleIn

    for article in load_articles():
        labels = dict(article.gold)
        labels.pop("victim_names", None)
        relation = labels.pop("perpetrator_relation", None)
        if relation is not None:
            labels["perpetrator_relation"] = relation
        text = "\n\n".join(article.paragraphs)
        yield (
            ArticleIn(
                id=str(article.id),
                title=article.title,
                text=f"{article.city} - {text}",
                published=article.published.isoformat(),
            ),
            labels,
        )


def main() -> None:
    app()
