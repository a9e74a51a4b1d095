"""Tribun Jambi: RSS, the news sitemap and daily index pages; articles read whole with
`?page=all`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import scrapy
from parsel import Selector
from scrapy.http import Response

from crawlers.extract import tribun
from crawlers.extract.dates import DEFAULT_ZONE
from crawlers.spiders.base import NewsSpider


class TribunSpider(NewsSpider):
    name = "tribun"
    extractor = staticmethod(tribun.extract)
    index_days = 2

    def initial_requests(self) -> Iterator[scrapy.Request]:
        yield scrapy.Request(f"{self.base_url}/rss", self.parse_feed, errback=self.on_error)
        yield scrapy.Request(
            f"{self.base_url}/sitemap_news.xml", self.parse_feed, errback=self.on_error
        )
        yield self.robots_sitemaps_request()
        today = datetime.now(DEFAULT_ZONE).date()
        # A backfill reads the daily index of every day back to `since`.
        days = (today - self.since).days + 1 if self.since else self.index_days
        for days_ago in range(days):
            day = today - timedelta(days=days_ago)
            yield scrapy.Request(
                f"{self.base_url}/index-news?date={day.year}-{day.month}-{day.day}&page=1",
                callback=self.parse_listing,
                errback=self.on_error,
            )

    def article_request(self, url: str) -> scrapy.Request:
        # The whole article on one page, so nothing needs stitching.
        request = super().article_request(url)
        return request.replace(url=url.split("?")[0] + "?page=all")

    def wants_sitemap(self, url: str) -> bool:
        # Only news sitemaps (the last days' articles): Tribun's other sitemaps index the
        # whole archive, which `max_pages` would cut at random.
        return "news" in url.rsplit("/", 1)[-1]

    def page_links(self, page: Selector, url: str, root: str) -> list[str]:
        # Articles are fetched whole (`?page=all`): no further pages to stitch, and the
        # page links of a redesigned page would only repeat the text.
        return []

    def parse_listing(self, response: Response, depth: int = 0) -> Iterator[scrapy.Request]:
        next_url = Selector(text=response.text).css("div.paging a::attr(href)").get()
        yield from self.follow_listing(
            response, tribun.listing_links(response.text), next_url, depth
        )
