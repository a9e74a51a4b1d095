"""Antara Jambi: the `/rss/terkini.xml` feed and the `/terkini` listing."""

from __future__ import annotations

from collections.abc import Iterator

import scrapy
from parsel import Selector
from scrapy.http import Response

from crawlers.extract import antara
from crawlers.spiders.base import NewsSpider


class AntaraSpider(NewsSpider):
    name = "antara"
    extractor = staticmethod(antara.extract)

    def initial_requests(self) -> Iterator[scrapy.Request]:
        yield scrapy.Request(
            f"{self.base_url}/rss/terkini.xml", self.parse_feed, errback=self.on_error
        )
        yield scrapy.Request(
            f"{self.base_url}/terkini", callback=self.parse_listing, errback=self.on_error
        )

    def parse_listing(self, response: Response, depth: int = 0) -> Iterator[scrapy.Request]:
        next_url = (
            Selector(text=response.text).css("ul.pagination a[aria-label=Next]::attr(href)").get()
        )
        yield from self.follow_listing(
            response, antara.listing_links(response.text), next_url, depth
        )
