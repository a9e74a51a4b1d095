"""Keeps the raw HTML of every article page in the article store, so extraction can be
re-run later without fetching again."""

from __future__ import annotations

from pathlib import Path

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from pantau.store import ArticleStore


class PageArchiveMiddleware:
    def __init__(self, store_path: Path | None, crawler: Crawler) -> None:
        self.store = ArticleStore(store_path) if store_path else None
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PageArchiveMiddleware:
        path = crawler.settings.get("PANTAU_STORE_PATH")
        middleware = cls(Path(path) if path else None, crawler)
        crawler.signals.connect(middleware.close, signal="spider_closed")
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        if self.store is not None and request.meta.get("archive"):
            headers = {
                key.decode("latin-1"): b", ".join(values).decode("latin-1")
                for key, values in response.headers.items()
            }
            source = self.crawler.spider.name if self.crawler.spider else "?"
            self.store.save_page(response.url, source, response.status, headers, response.body)
        return response

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
