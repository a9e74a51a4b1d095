"""Disway CMS (Jambi Ekspres, Jambi Independent and ~260 regional sites)."""

from __future__ import annotations

import re
from urllib.parse import urljoin

from parsel import Selector

from crawlers.extract.common import (
    LayoutMismatch,
    PageExtract,
    canonical_of,
    canonicalize_url,
    first,
    paragraphs_of,
)
from crawlers.extract.dates import parse_date

# A page suffix on an article URL: /read/<id>/<slug>/<offset>.
PAGE_SUFFIX = re.compile(r"(/read/\d+/[^/]+)/\d+$")


def article_url(url: str) -> str:
    """The first-page URL of an article, whatever page `url` is."""
    return PAGE_SUFFIX.sub(r"\1", canonicalize_url(url))


def extract(html: str, url: str) -> PageExtract:
    page = Selector(text=html)
    post = page.css("div.post.text-black-1")
    title = first(post, "h1.text-black::text")
    body = post.xpath("./p[not(contains(@class, 'text-grey'))]")
    if not post or not title:
        raise LayoutMismatch("no div.post.text-black-1 with h1.text-black")
    raw_date = first(post, "div.post-info span.date::text")
    published = parse_date(raw_date) or parse_date(first(page, "meta[name=pubdate]::attr(content)"))
    return PageExtract(
        title=title,
        paragraphs=paragraphs_of(body),
        canonical_url=article_url(canonical_of(page, url)),
        published=published,
        raw_date=raw_date,
        author=first(post, "div#author strong::text"),
        editor=first(post, "div#editor strong::text"),
        category=first(page, "ul.breadcrumb a[href*='/kategori/']::text"),
        tags=[t.strip() for t in post.css("div.news-tags a::text").getall() if t.strip()],
        next_pages=page_links(page, url),
    )


def page_links(page: Selector, url: str) -> list[str]:
    """The other pages of the article (`/read/<id>/<slug>/15`, `/30`, …) named by the
    page's pagination, in order; they stay in place when the article body's markup
    changes."""
    base = article_url(url)
    pages: list[str] = []
    for href in page.css("ul.pagination li a::attr(href)").getall():
        absolute = canonicalize_url(urljoin(url, href))
        if absolute not in pages and article_url(absolute) == base and absolute != base:
            pages.append(absolute)
    return pages


def listing_links(html: str) -> list[str]:
    return Selector(text=html).css("div.media-content h2.media-heading a::attr(href)").getall()
