"""Orchestration overhead: the same ingest of ~2,000 article pages through the Prefect flow
(`flows.pipeline.run_ingest`: ephemeral API, one crawl process per source, tasks) and with
the stages called directly in one process (`flows.ingest.ingest`: one Scrapy process for
all sources, then tag, then index). One run each, on the same local mirror sites.

    .venv/bin/python bench/flow_overhead.py [--per-site 700]

The mirror: the three demo sites (crawlers/demo_site) serving `--per-site` articles each,
made from the demo articles with a numbered closing paragraph (so every text is distinct),
on 127.0.0.1. Results go to stdout as JSON and a Markdown line for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from crawlers.demo_site.server import (
    SITE_KEYS,
    SITE_LABELS,
    SITE_SPIDERS,
    DemoArticle,
    DemoSite,
    SiteKey,
    load_articles,
)
from flows.prefect_env import prepare_prefect
from pantau.config import CrawlConfig, FlowConfig, Settings, SourceConfig


def mirror_articles(key: SiteKey, count: int) -> list[DemoArticle]:
    templates = load_articles(key)
    articles = []
    for number in range(count):
        template = templates[number % len(templates)]
        articles.append(
            dataclasses.replace(
                template,
                id=100_000 + number,
                slug=f"{template.slug}-{number}",
                title=f"{template.title} ({number})",
                published=template.published - timedelta(hours=number),
                paragraphs=[
                    *template.paragraphs,
                    f"Berkas laporan ini bernomor {number} di meja redaksi.",
                ],
            )
        )
    return sorted(articles, key=lambda a: a.published, reverse=True)


def settings_for(data_dir: Path, sites: list[DemoSite]) -> Settings:
    sources = [
        SourceConfig(
            name=site.key,
            label=SITE_LABELS[site.key],
            spider=SITE_SPIDERS[site.key],
            url=site.base_url,
            categories=sorted({a.category for a in site.articles}),
        )
        for site in sites
    ]
    return Settings(
        data_dir=data_dir,
        sources=sources,
        crawl=CrawlConfig(
            download_delay=0,
            autothrottle=False,
            max_pages=20_000,
            max_listing_pages=1_000,
        ),
        flow=FlowConfig(max_parallel_sources=len(sources)),
    )


def counts(data_dir: Path) -> dict[str, int]:
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    index = sqlite3.connect(data_dir / "index.sqlite")
    return {
        "articles": db.execute("SELECT count(*) FROM articles").fetchone()[0],
        "tags": db.execute("SELECT count(*) FROM tags").fetchone()[0],
        "indexed": index.execute("SELECT count(*) FROM docs").fetchone()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-site", type=int, default=700)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pantau-bench-flow-"))
    prepare_prefect(work)  # PREFECT_HOME in the bench's folder, no telemetry
    sites = [
        DemoSite(key, articles=mirror_articles(key, args.per_site)).start() for key in SITE_KEYS
    ]
    results: dict[str, object] = {
        "per_site": args.per_site,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}",
    }
    try:
        # Direct: the stages in this process (the reactor can run once: this comes first).
        from flows.ingest import ingest

        direct_dir = work / "direct"
        started = time.perf_counter()
        direct = ingest(settings_for(direct_dir, sites), settings_for(direct_dir, sites).sources)
        direct_seconds = time.perf_counter() - started
        direct_pages = sum(r.pages_fetched for r in direct.sources)

        # Through the flow. Importing Prefect and starting its ephemeral API is timed apart:
        # `pantau run` pays it once per run, `pantau schedule` once per service start.
        flow_dir = work / "flow"
        started = time.perf_counter()
        from flows.pipeline import run_ingest
        from flows.prefect_env import detach_ephemeral_api

        detach_ephemeral_api()
        api_seconds = time.perf_counter() - started
        started = time.perf_counter()
        flowed = run_ingest(settings_for(flow_dir, sites))
        flow_seconds = time.perf_counter() - started
        flow_pages = sum(r.pages_fetched for r in flowed.sources)
    finally:
        for site in sites:
            site.stop()
    results.update(
        direct={"seconds": round(direct_seconds, 1), "pages": direct_pages, **counts(direct_dir)},
        flow={
            "seconds": round(flow_seconds, 1),
            "api_start_seconds": round(api_seconds, 1),
            "pages": flow_pages,
            **counts(flow_dir),
        },
        # With the API already up (pantau schedule, a Prefect server).
        overhead=round(flow_seconds / direct_seconds - 1, 3),
        # A cold `pantau run`: Prefect's import and ephemeral API start included.
        overhead_cold=round((api_seconds + flow_seconds) / direct_seconds - 1, 3),
    )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
