"""What the news spiders share: sources from Pantau's configuration, incremental listing
walks, multi-page stitching, the generic fallback for changed layouts, the per-site error
budget, and failures recorded with their reasons for the crawl report."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from typing import Any
from urllib.parse import urljoin

import scrapy
from parsel import Selector
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import sitemap_urls_from_robots
from twisted.python.failure import Failure

from crawlers.extract import generic, pagination
from crawlers.extract.common import LayoutMismatch, PageExtract, canonicalize_url, page_text
from pantau.config import SourceConfig
from pantau.models import ExtractedArticle

Extractor = Callable[[str, str], PageExtract]
log = logging.getLogger(__name__)
# A backfill (--since) walks listings to their end, but not forever.
BACKFILL_LISTING_PAGES = 500
ERROR_BUDGET_REASON = "error_budget"


class NewsSpider(scrapy.Spider):
    """A spider for one configured source. Subclasses say where listings are and which
    extractor reads an article page."""

    extractor: Extractor
    # Listing pages are walked until one holds only known articles, or this many pages.
    max_listing_pages = 5
    # Pages of one article read and stitched at most (crawl.max_article_pages).
    max_article_pages = 20
    # Whether pagination is looked for on every article page (the generic spider), not only
    # when the site's selectors fail (site extractors name their article's pages).
    detects_pagination = False

    def __init__(
        self,
        source: SourceConfig,
        known_urls: set[str] | None = None,
        max_listing_pages: int | None = None,
        since: date | None = None,
        error_budget: int = 20,
        max_article_pages: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.base_url = source.url
        self.known_urls = known_urls or set()
        self.since = since
        if max_listing_pages is not None:
            self.max_listing_pages = max_listing_pages
        if since is not None:
            self.max_listing_pages = max(self.max_listing_pages, BACKFILL_LISTING_PAGES)
        self.error_budget = error_budget
        if max_article_pages is not None:
            self.max_article_pages = max_article_pages
        self.budget_spent = False
        # Reason → count, for the crawl report.
        self.failures: dict[str, int] = {}
        self.layout_mismatches = 0
        # Pages read by the generic extractor because the site's selectors did not match.
        self.layout_fallbacks = 0
        self.pages_parsed = 0
        # Article URLs requested in this run: feeds and listings name the same articles.
        self.requested: set[str] = set()

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
        one held only articles seen before (incremental crawling). A backfill (`since`)
        walks on past known articles: it is looking for older ones."""
        self.pages_parsed += 1
        unknown = 0
        for href in links:
            url = canonicalize_url(urljoin(response.url, href))
            if url in self.known_urls:
                continue
            unknown += 1
            if url not in self.requested:
                self.requested.add(url)
                yield self.article_request(url)
        walk_on = unknown > 0 or self.since is not None
        if next_url and walk_on and depth + 1 < self.max_listing_pages:
            yield scrapy.Request(
                urljoin(response.url, next_url),
                callback=self.parse_listing,
                errback=self.on_error,
                cb_kwargs={"depth": depth + 1},
            )

    def parse_listing(self, response: Response, depth: int = 0) -> Iterator[scrapy.Request]:
        raise NotImplementedError

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """RSS 2.0 items and news sitemap entries: article links, newest first. A sitemap
        index's sitemaps are followed as feeds."""
        feed = Selector(text=response.text, type="xml")
        feed.remove_namespaces()
        for sitemap in feed.xpath("//sitemapindex/sitemap/loc/text()").getall():
            yield scrapy.Request(sitemap.strip(), self.parse_feed, errback=self.on_error)
        links = feed.xpath("//item/link/text() | //urlset/url/loc/text()").getall()
        yield from self.follow_listing(response, [link.strip() for link in links], None, 0)

    def robots_sitemaps_request(self) -> scrapy.Request:
        """robots.txt read for its `Sitemap:` lines (sitemaps at addresses nobody would
        guess). Scrapy's robots.txt middleware reads the rules; this is a second fetch of
        the same small file. A site without robots.txt is not a failure."""
        return scrapy.Request(
            f"{self.base_url}/robots.txt", self.parse_robots, errback=self.on_probe_error
        )

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        for url in sitemap_urls_from_robots(response.body, base_url=response.url):
            if self.wants_sitemap(url):
                # Scrapy's duplicate filter drops a sitemap requested already.
                yield scrapy.Request(url, self.parse_feed, errback=self.on_error)

    def wants_sitemap(self, url: str) -> bool:
        """Whether a sitemap named in robots.txt is worth reading (all, by default)."""
        return True

    def on_probe_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        log.debug("nothing at %s", request.url if request is not None else "?")

    # -- articles ------------------------------------------------------------------------

    def article_request(self, url: str) -> scrapy.Request:
        # Not through Scrapy's duplicate filter (`self.requested` does that job): the filter
        # would silently drop a redirect back to a URL already seen, so a redirect loop
        # would lose the article without a word; unfiltered, it ends at REDIRECT_MAX_TIMES
        # with a failure in the report.
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            meta={"archive": True},
            dont_filter=True,
        )

    def extract_page(self, response: Response, root: str) -> PageExtract | None:
        """The site extractor's reading of the page; the generic extractor's, with a
        warning, when the site's selectors no longer match (a redesign); None (a recorded
        failure) when neither finds an article. `root` is the article's first page: the
        further pages found on this page are pages of that article."""
        html = page_text(response.body, response.text)
        try:
            page = self.extractor(html, response.url)
        except LayoutMismatch as exc:
            site_error = exc
        else:
            if self.detects_pagination:
                page.next_pages = self.page_links(Selector(text=html), response.url, root)
            return page
        try:
            page = generic.extract(html, response.url)
        except LayoutMismatch:
            self.layout_mismatches += 1
            self.record_failure(f"layout not recognised ({site_error})", response.url)
            return None
        # The site's own pagination links usually survive a redesign of the article body.
        page.next_pages = self.page_links(Selector(text=html), response.url, root)
        self.layout_fallbacks += 1
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("pantau/layout_fallback")
        log.warning(
            "%s: layout changed? %s at %s; read with the generic extractor",
            self.source.name,
            site_error,
            response.url,
        )
        return page

    def page_links(self, page: Selector, url: str, root: str) -> list[str]:
        """Further pages of the article at `root` linked from this page, in page order:
        what any site shows (rel="next", "?page=2", "/2/", "Halaman 2"); a site spider
        adds the pagination it knows. Used by the generic spider on every page, and by a
        site spider whose selectors no longer match."""
        return pagination.further_pages(page, url, root)

    def parse_article(
        self,
        response: Response,
        parts: list[PageExtract] | None = None,
        root: str | None = None,
        pending: list[str] | None = None,
        seen: set[str] | None = None,
    ) -> Iterator[scrapy.Request | ExtractedArticle]:
        """One page of an article; its further pages are fetched one after the other, in
        page order, and the text stitched in that order. `seen` (the pages read so far, and
        the URLs that led to them) stops loops: a page redirected to one already read, or
        pages linking back; at most `max_article_pages` pages are read."""
        here = canonicalize_url(response.url)
        if parts and seen is not None and here in seen:
            # Redirected to a page already read (a site sending out-of-range pages back to
            # page 1): nothing new here.
            log.debug("%s: page %s read already", self.source.name, response.url)
            collected = parts
        else:
            root = root or here
            page = self.extract_page(response, root)
            if page is None:
                return
            self.pages_parsed += 1
            collected = [*(parts or []), page]
        root = root or here
        seen = {*(seen or ()), here}
        if response.request is not None:  # the URL asked for, before any redirect
            seen.add(canonicalize_url(response.request.url))
        # Pages named by this page and not read or requested yet, in page order.
        queue = list(pending or [])
        queued = {canonicalize_url(link) for link in queue}
        for link in collected[-1].next_pages:
            key = canonicalize_url(link)
            if key not in seen and key not in queued:
                queue.append(link)
                queued.add(key)
        queue.sort(key=lambda link: pagination.page_number(link, root) or 0)
        if queue and len(collected) >= self.max_article_pages:
            log.warning(
                "%s: %s has more than %d pages; stored the first %d",
                self.source.name,
                root,
                self.max_article_pages,
                self.max_article_pages,
            )
            queue = []
        if queue:
            next_url, *rest = queue
            yield scrapy.Request(
                next_url,
                callback=self.parse_article,
                errback=self.on_error,
                cb_kwargs={
                    "parts": collected,
                    "root": root,
                    "pending": rest,
                    "seen": seen,
                },
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
        explained = request.meta.get("pantau_failure") if request is not None else None
        self.record_failure(explained or failure_reason(failure, self.crawler.settings), url)

    def record_failure(self, reason: str, url: str) -> None:
        self.failures[reason] = self.failures.get(reason, 0) + 1
        log.warning("%s: %s (%s)", self.source.name, reason, url)
        failed = sum(self.failures.values())
        # The budget stops a site that mostly fails (down, blocking us, redesigned beyond
        # the fallback) without stopping the other sites of the run; a large site with a
        # few broken pages goes on.
        if self.budget_spent:
            return  # already closing; requests in flight still end here
        if failed >= self.error_budget and failed > self.pages_parsed:
            self.budget_spent = True
            reason = f"error budget spent: {failed} failures, {self.pages_parsed} pages read"
            self.failures[reason] = 1
            log.error("%s: stopping this source, %s", self.source.name, reason)
            raise CloseSpider(ERROR_BUDGET_REASON)


def failure_reason(failure: Failure, settings: Any) -> str:
    """A short reason a person understands, the same for the same cause, so the crawl
    report can count them."""
    value = failure.value
    if failure.check(HttpError):
        return f"HTTP {value.response.status}"
    name = failure.type.__name__ if failure.type else "error"
    detail = str(value)
    if name in ("DownloadTimeoutError", "TimeoutError", "TCPTimedOutError"):
        return f"timeout (no answer within {settings.getfloat('DOWNLOAD_TIMEOUT'):g} s)"
    if name == "ResponseDataLossError" or "DataLoss" in detail:
        return "truncated response (connection closed before the announced length)"
    if name == "DownloadCancelledError" and "max size" in detail.lower():
        return f"page larger than crawl.max_page_bytes ({settings.getint('DOWNLOAD_MAXSIZE')})"
    if failure.check(IgnoreRequest):
        if "redirection" in detail:
            return "redirect loop (too many redirections)"
        if "robots.txt" in detail:
            return "forbidden by robots.txt"
    return f"{name}: {detail[:120]}" if detail else name
