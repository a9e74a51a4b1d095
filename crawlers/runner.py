"""Runs the spiders of the configured sources in one Scrapy process and reports, per source,
what was fetched, stored and what failed."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings as ScrapySettings

from crawlers import settings as default_scrapy_settings
from crawlers.spiders.antara import AntaraSpider
from crawlers.spiders.base import ERROR_BUDGET_REASON, NewsSpider
from crawlers.spiders.disway import DiswaySpider
from crawlers.spiders.generic import GenericSpider
from crawlers.spiders.tribun import TribunSpider
from pantau.config import Settings, SourceConfig
from pantau.store import ArticleStore

SPIDERS: dict[str, type[NewsSpider]] = {
    "disway": DiswaySpider,
    "tribun": TribunSpider,
    "antara": AntaraSpider,
    "generic": GenericSpider,
}
log = logging.getLogger(__name__)


class SourceReport(BaseModel):
    """What one crawl did for one source."""

    source: str
    label: str
    url: str
    status: Literal["ok", "partial", "failed"]
    pages_fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    failed: int = 0
    failures: dict[str, int] = Field(default_factory=dict)
    # Article pages read by the generic extractor because the site's selectors did not
    # match them (a redesign?): stored, but worth a look at the site's extractor.
    layout_fallbacks: int = 0
    # Seconds waited before retries, as Retry-After asked or as backoff.
    retry_wait_s: float = 0.0
    finish_reason: str | None = None
    # From the spider's start to its close (Scrapy's elapsed_time_seconds).
    elapsed_s: float | None = None


def scrapy_settings(settings: Settings, output: Path | None = None) -> ScrapySettings:
    crawl = settings.crawl
    values: dict[str, Any] = {
        "USER_AGENT": f"{crawl.user_agent} contact: {crawl.contact}",
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_per_domain,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "RETRY_TIMES": crawl.retries,
        "DOWNLOAD_MAXSIZE": crawl.max_page_bytes,
        "CLOSESPIDER_PAGECOUNT": crawl.max_pages,
        "LOG_INSTALL_ROOT_HANDLER": False,
        "PANTAU_RETRY_BACKOFF": crawl.retry_backoff,
        "PANTAU_MAX_RETRY_AFTER": crawl.max_retry_after,
        "PANTAU_STORY_THRESHOLD": crawl.story_threshold,
        "PANTAU_STORY_WINDOW_DAYS": crawl.story_window_days,
        "PANTAU_WRITE_BATCH": crawl.write_batch,
        "PANTAU_WRITE_BATCH_S": crawl.write_batch_s,
    }
    if output is None:
        values["PANTAU_STORE_PATH"] = str(settings.store_path)
    else:
        values["PANTAU_OUTPUT_PATH"] = str(output)
    scrapy = ScrapySettings()
    scrapy.setmodule(default_scrapy_settings, priority="project")
    scrapy.setdict(values, priority="cmdline")
    return scrapy


def run_crawl(
    settings: Settings,
    sources: list[SourceConfig],
    output: Path | None = None,
    since: date | None = None,
) -> list[SourceReport]:
    """Crawl every source once, in parallel, and return one report per source. Blocks until
    all spiders finish; Ctrl-C stops them gracefully (a second Ctrl-C forces).

    Articles stored before are not fetched again, except those published within
    `crawl.refetch_days` (to catch corrections: a changed text becomes a new revision).
    `since` is a backfill: listings are walked to their end and Tribun's daily index pages
    back to that day."""
    known: dict[str, set[str]] = {}
    if output is None:
        refetch_from = datetime.now(UTC) - timedelta(days=settings.crawl.refetch_days)
        with ArticleStore(settings.store_path) as store:
            for s in sources:
                recent = (
                    store.recent_urls(s.label, refetch_from.isoformat())
                    if settings.crawl.refetch_days
                    else set()
                )
                known[s.name] = store.known_urls(s.label) - recent
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("", encoding="utf-8")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_quiet_scrapy)
    process = CrawlerProcess(scrapy_settings(settings, output))
    crawlers: list[tuple[SourceConfig, Crawler]] = []
    for source in sources:
        crawler = process.create_crawler(SPIDERS[source.spider])
        process.crawl(
            crawler,
            source=source,
            known_urls=known.get(source.name, set()),
            max_listing_pages=settings.crawl.max_listing_pages,
            since=since,
            error_budget=settings.crawl.error_budget,
            max_article_pages=settings.crawl.max_article_pages,
        )
        crawlers.append((source, crawler))
        log.info("crawling %s (%s) with the %s spider", source.name, source.url, source.spider)
    process.start()
    return [_report(source, crawler) for source, crawler in crawlers]


def _quiet_scrapy(record: logging.LogRecord) -> bool:
    """Scrapy's own INFO lines (versions, settings, stats dumps) drown the crawl report, and
    its tracebacks repeat what the report says; `pantau -v` shows them all."""
    if not record.name.startswith(("scrapy", "twisted")):
        return True
    if logging.getLogger().getEffectiveLevel() <= logging.DEBUG:
        return True
    record.exc_info = None
    record.exc_text = None
    return record.levelno >= logging.WARNING


def _report(source: SourceConfig, crawler: Crawler) -> SourceReport:
    stats = crawler.stats.get_stats() if crawler.stats else {}
    spider = crawler.spider
    failures: dict[str, int] = dict(getattr(spider, "failures", {}))
    # A page over DOWNLOAD_MAXSIZE may never reach an errback (Scrapy drops it in the
    # downloader); its stat makes sure the report says so.
    oversized = int(stats.get("downloader/response_bytes_over_maxsize", 0) or 0)
    size_reason = next((k for k in failures if "max_page_bytes" in k), None)
    if oversized and size_reason is None:
        failures["page larger than crawl.max_page_bytes"] = oversized
    responses = sum(
        v for k, v in stats.items() if k.startswith("downloader/response_status_count/2")
    )
    failed = sum(failures.values())
    stored = {
        k.rsplit("/", 1)[1]: int(v) for k, v in stats.items() if k.startswith("pantau/articles/")
    }
    if not stats.get("finish_reason"):
        # The spider never ran to an end (an exception while opening it): say so rather
        # than report an empty success.
        failures["crawler failed to start or finish (see the log)"] = 1
        failed += 1
    if (failed and not responses) or stats.get("finish_reason") in (
        ERROR_BUDGET_REASON,
        None,
    ):
        status: Literal["ok", "partial", "failed"] = "failed"
    elif failed:
        status = "partial"
    else:
        status = "ok"
    return SourceReport(
        source=source.name,
        label=source.label,
        url=source.url,
        status=status,
        pages_fetched=int(stats.get("response_received_count", 0)),
        new=stored.get("new", 0),
        updated=stored.get("updated", 0),
        unchanged=stored.get("unchanged", 0),
        duplicates=stored.get("duplicate", 0),
        failed=failed,
        failures=failures,
        layout_fallbacks=int(getattr(spider, "layout_fallbacks", 0)),
        retry_wait_s=(
            int(stats.get("pantau/retry_after/ms", 0)) + int(stats.get("pantau/backoff/ms", 0))
        )
        / 1000,
        finish_reason=stats.get("finish_reason"),
        elapsed_s=stats.get("elapsed_time_seconds"),
    )
