"""Tribun Jambi (Tribunnews network): JSON-LD dates, `?page=all` for the whole article."""

from __future__ import annotations

import json

from parsel import Selector

from crawlers.extract.common import LayoutMismatch, PageExtract, canonical_of, first, paragraphs_of
from crawlers.extract.dates import parse_date


def news_article_ld(page: Selector) -> dict[str, object]:
    for block in page.css("script[type='application/ld+json']::text").getall():
        try:
            data = json.loads(block)
        except json.JSONDecodeError:
            continue
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and item.get("@type") == "NewsArticle":
                return item
    return {}


def extract(html: str, url: str) -> PageExtract:
    page = Selector(text=html)
    title = first(page, "h1#arttitle::text")
    body = page.css("div.side-article.txt-article")
    if not title or not body:
        raise LayoutMismatch("no h1#arttitle or div.side-article.txt-article")
    ld = news_article_ld(page)
    keywords = str(ld.get("keywords") or "")
    tags = [t.strip() for t in page.css("h5.tagcloud3 a.rd2::text").getall() if t.strip()]
    raw_date = str(ld.get("datePublished") or "") or None
    return PageExtract(
        title=title,
        paragraphs=paragraphs_of(body.xpath("./p[not(contains(@class, 'baca'))]")),
        canonical_url=canonical_of(page, url).split("?")[0],
        published=parse_date(raw_date),
        updated=parse_date(str(ld.get("dateModified") or "") or None),
        raw_date=raw_date,
        author=first(page, "#penulis a::text"),
        editor=first(page, "#editor a::text"),
        category=str(ld.get("articleSection") or "") or None,
        tags=tags or [k.strip() for k in keywords.split(",") if k.strip()],
    )


def listing_links(html: str) -> list[str]:
    return Selector(text=html).css("ul.lsi h3 a::attr(href)").getall()
