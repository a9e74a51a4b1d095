"""Any other news site: its feeds (RSS/Atom advertised on the home page, or at the usual
addresses) and sitemaps (those named by robots.txt's `Sitemap:` lines, and at the usual
addresses), read with the generic extractor (trafilatura + htmldate); multi-page articles
followed through the pagination each page shows. Adding such a source is configuration:
`spider = "generic"` and its URL."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urljoin

import scrapy
from parsel import Selector
from scrapy.http import Response

from crawlers.extract import generic
from crawlers.spiders.base import NewsSpider

# Where sites usually keep feeds and sitemaps, tried when the home page names none.
WELL_KNOWN_FEEDS = ("/rss", "/feed", "/rss.xml", "/sitemap_news.xml", "/sitemap.xml")
FEED_LINKS = (
    "link[rel=alternate][type='application/rss+xml']::attr(href), "
    "link[rel=alternate][type='application/atom+xml']::attr(href)"
)


class GenericSpider(NewsSpider):
    name = "generic"
    extractor = staticmethod(generic.extract)

    # Multi-page articles are followed wherever a page shows its pagination.
    detects_pagination = True

    def initial_requests(self) -> Iterator[scrapy.Request]:
        yield scrapy.Request(f"{self.base_url}/", callback=self.parse_home, errback=self.on_error)
        yield self.robots_sitemaps_request()

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        self.pages_parsed += 1
        advertised = Selector(text=response.text).css(FEED_LINKS).getall()
        feeds = [urljoin(response.url, href) for href in advertised]
        # Without advertised feeds, probe the usual addresses; a missing one is not a
        # failure of the site, so those probes are not reported.
        probes = [] if feeds else [self.base_url + path for path in WELL_KNOWN_FEEDS]
        for url in dict.fromkeys(feeds):
            yield scrapy.Request(url, callback=self.parse_feed, errback=self.on_error)
        for url in probes:
            yield scrapy.Request(url, callback=self.parse_feed, errback=self.on_probe_error)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        feed = Selector(text=response.text, type="xml")
        feed.remove_namespaces()
        # Atom entries name their article in <link href>.
        atom = [href.strip() for href in feed.xpath("//entry/link/@href").getall()]
        if atom:
            yield from self.follow_listing(response, atom, None, 0)
        yield from super().parse_feed(response)

    def parse_listing(self, response: Response, depth: int = 0) -> Iterator[scrapy.Request]:
        yield from ()  # no listings: feeds and sitemaps only
