"""Disway CMS sites: Jambi Ekspres by default, any Disway/Bacakoran site by configuration."""

from __future__ import annotations

from collections.abc import Iterator

import scrapy
from parsel import Selector
from scrapy.http import Response

from crawlers.extract import disway
from crawlers.spiders.base import NewsSpider


class DiswaySpider(NewsSpider):
    name = "disway"
    extractor = staticmethod(disway.extract)
    default_categories = ("kriminal",)

    def initial_requests(self) -> Iterator[scrapy.Request]:
        # RSS exists on sister Disway sites; a 404 here is recorded and the listings go on.
        yield scrapy.Request(f"{self.base_url}/rss", self.parse_feed, errback=self.on_error)
        for category in self.source.categories or self.default_categories:
            yield scrapy.Request(
                f"{self.base_url}/kategori/{category}",
                callback=self.parse_listing,
                errback=self.on_error,
            )

    def page_links(self, page: Selector, url: str, root: str) -> list[str]:
        # Disway's own page links first (they name every page); then any other pagination.
        known = disway.page_links(page, url)
        return known + [u for u in super().page_links(page, url, root) if u not in known]

    def parse_listing(self, response: Response, depth: int = 0) -> Iterator[scrapy.Request]:
        next_url = Selector(text=response.text).css("ul.pagination a::attr(href)").get()
        yield from self.follow_listing(
            response, disway.listing_links(response.text), next_url, depth
        )
