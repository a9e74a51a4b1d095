"""Downloader middlewares: the raw HTML of every article page kept in the article store (so
extraction can be re-run without fetching again), and Retry-After honoured on 429/503."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from crawlers import store_writer


class PageArchiveMiddleware:
    """Keeps the raw HTML of article pages; the writes go into the crawl's batches
    (crawlers.store_writer), committed with the articles."""

    def __init__(self, store_path: Path | None, crawler: Crawler) -> None:
        self.store_path = store_path
        self.writer = store_writer.acquire(store_path, crawler) if store_path else None
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageArchiveMiddleware:
        path = crawler.settings.get("PANTAU_STORE_PATH")
        middleware = cls(Path(path) if path else None, crawler)
        crawler.signals.connect(middleware.close, signal="spider_closed")
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        if self.writer is not None and request.meta.get("archive"):
            headers = {
                key.decode("latin-1"): b", ".join(values).decode("latin-1")
                for key, values in response.headers.items()
            }
            source = self.crawler.spider.name if self.crawler.spider else "?"
            self.writer.save_page(response.url, source, response.status, headers, response.body)
        return response

    def close(self) -> None:
        if self.writer is not None and self.store_path is not None:
            self.writer = None
            store_writer.release(self.store_path)


class RetryBackoffMiddleware:
    """Waits before Scrapy's RetryMiddleware retries a failed answer: as long as a 429 or
    503's Retry-After header asks, else exponentially longer after each 5xx/429
    (`PANTAU_RETRY_BACKOFF` × 2^retries so far). It sits between the downloader and
    RetryMiddleware (a higher order number), so it sees the response first; the wait is
    asynchronous, so other sites' requests go on meanwhile. A Retry-After longer than
    `PANTAU_MAX_RETRY_AFTER` is not waited for: the request is not retried and the failure
    says why (the site asked to be left alone for longer than one run should take)."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.max_wait = settings.getfloat("PANTAU_MAX_RETRY_AFTER", 60.0)
        self.backoff = settings.getfloat("PANTAU_RETRY_BACKOFF", 1.0)
        self.retry_codes = {int(code) for code in settings.getlist("RETRY_HTTP_CODES")}
        self.max_retries = settings.getint("RETRY_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryBackoffMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in self.retry_codes or request.meta.get("dont_retry"):
            return response
        retries = int(request.meta.get("retry_times", 0))
        if retries >= int(request.meta.get("max_retry_times", self.max_retries)):
            return response  # RetryMiddleware gives up now; nothing to wait for
        asked = None
        if response.status in (429, 503):
            asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        if asked is not None and asked > self.max_wait:
            # Retrying sooner than asked would be impolite; give up on this request now.
            request.meta["dont_retry"] = True
            request.meta["pantau_failure"] = (
                f"HTTP {response.status} with Retry-After {asked:.0f} s "
                f"(over crawl.max_retry_after {self.max_wait:.0f} s)"
            )
            return response
        wait = asked if asked is not None else self.backoff * 2**retries
        if self.crawler.stats is not None:
            key = "retry_after" if asked is not None else "backoff"
            self.crawler.stats.inc_value(f"pantau/{key}/waits")
            self.crawler.stats.inc_value(f"pantau/{key}/ms", round(wait * 1000))
        if wait > 0:
            await asyncio.sleep(wait)
        return response


def retry_after_seconds(value: bytes | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
