"""What the news spiders share: sources from Pantau's configuration, incremental listing
walks, multi-page stitching, and failures recorded for the crawl report."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from parsel import Selector
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers.extract.common import LayoutMismatch, PageExtract, canonicalize_url
from pantau.config import SourceConfig
from pantau.models import ExtractedArticle

Extractor = Callable[[str, str], PageExtract]
log = logging.getLogger(__name__)


class NewsSpider(scrapy.Spider):
    """A spider for one configured source. Subclasses say where listings are and which
    extractor reads an article page."""

    extractor: Extractor
    # Listing pages are walked until one holds only known articles, or this many pages.
    max_listing_pages = 5

    def __init__(
        self,
        source: SourceConfig,
        known_urls: set[str] | None = None,
        max_listing_pages: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.base_url = source.url
        self.known_urls = known_urls or set()
        if max_listing_pages is not None:
            self.max_listing_pages = max_listing_pages
        # Reason → count, for the crawl report.
        self.failures: dict[str, int] = {}
        self.layout_mismatches = 0

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.initial_requests():
            yield request

    def initial_requests(self) -> Iterator[scrapy.Request]:
        """Feeds and listing pages where this site's articles are found."""
        raise NotImplementedError

    # -- listings ------------------------------------------------------------------------

    def follow_listing(
        self,
        response: Response,
        links: list[str],
        next_url: str | None,
        depth: int,
    ) -> Iterator[scrapy.Request]:
        """Request the unknown articles of a listing page, then the next page unless this
        one held only articles seen before (incremental crawling)."""
        unknown = 0
        for href in links:
            url = canonicalize_url(urljoin(response.url, href))
            if url in self.known_urls:
                continue
            unknown += 1
            yield self.article_request(url)
        if next_url and unknown and depth + 1 < self.max_listing_pages:
            yield scrapy.Request(
                urljoin(response.url, next_url),
                callback=self.parse_listing,
                errback=self.on_error,
                cb_kwargs={"depth": depth + 1},
            )

    def parse_listing(self, response: Response, depth: int = 0) -> Iterator[scrapy.Request]:
        raise NotImplementedError

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """RSS 2.0 items and news sitemap entries: article links, newest first."""
        feed = Selector(text=response.text, type="xml")
        feed.remove_namespaces()
        links = feed.xpath("//item/link/text() | //url/loc/text()").getall()
        yield from self.follow_listing(response, [link.strip() for link in links], None, 0)

    # -- articles ------------------------------------------------------------------------

    def article_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.on_error, meta={"archive": True}
        )

    def parse_article(
        self, response: Response, parts: list[PageExtract] | None = None
    ) -> Iterator[scrapy.Request | ExtractedArticle]:
        try:
            page = self.extractor(response.text, response.url)
        except LayoutMismatch as exc:
            self.layout_mismatches += 1
            self.record_failure(f"layout not recognised ({exc})", response.url)
            return
        collected = [*(parts or []), page]
        # The first page lists every further page; fetch them one after the other so the
        # text is stitched in order.
        further_pages = collected[0].next_pages
        fetched = len(collected) - 1
        if fetched < len(further_pages):
            yield scrapy.Request(
                further_pages[fetched],
                callback=self.parse_article,
                errback=self.on_error,
                cb_kwargs={"parts": collected},
                meta={"archive": True},
                dont_filter=True,
            )
            return
        yield self.build_article(response.url, collected)

    def build_article(self, url: str, pages: list[PageExtract]) -> ExtractedArticle:
        first = pages[0]
        if first.published is None:
            log.warning("%s: unrecognised date %r, storing published = null", url, first.raw_date)
        return ExtractedArticle(
            url=first.canonical_url,
            canonical_url=first.canonical_url,
            source=self.source.label,
            title=first.title,
            text="\n\n".join(p for page in pages for p in page.paragraphs),
            published=first.published,
            updated=first.updated,
            author=first.author,
            editor=first.editor,
            category=first.category,
            tags=first.tags,
            pages=len(pages),
        )

    # -- failures ------------------------------------------------------------------------

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if failure.check(HttpError):
            reason = f"HTTP {failure.value.response.status}"
        else:
            reason = failure.type.__name__ if failure.type else "error"
            detail = str(failure.value)
            if detail:
                reason = f"{reason}: {detail[:120]}"
        self.record_failure(reason, url)

    def record_failure(self, reason: str, url: str) -> None:
        self.failures[reason] = self.failures.get(reason, 0) + 1
        log.warning("%s: %s (%s)", self.source.name, reason, url)
