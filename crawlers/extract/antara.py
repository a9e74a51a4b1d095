"""Antara Jambi: newer `.wrap__article-detail-content` and older `div.post-content` bodies."""

from __future__ import annotations

from parsel import Selector

from crawlers.extract.common import LayoutMismatch, PageExtract, canonical_of, first, paragraphs_of
from crawlers.extract.dates import parse_date


def extract(html: str, url: str) -> PageExtract:
    page = Selector(text=html)
    title = first(page, "h1.wrap__article-detail-title::text") or first(page, "h1.post-title::text")
    body = page.css(".wrap__article-detail-content") or page.css("div.post-content.clearfix")
    if not title or not body:
        raise LayoutMismatch("no article title or .wrap__article-detail-content body")
    credits = " ".join(body.css("p.text-muted ::text").getall())
    raw_date = first(page, ".wrap__article-detail-info span.article__date::text")
    published = parse_date(raw_date) or parse_date(
        first(page, "meta[property='article:published_time']::attr(content)")
    )
    return PageExtract(
        title=title,
        paragraphs=paragraphs_of(body.xpath("./p[not(contains(@class, 'text-muted'))]")),
        canonical_url=canonical_of(page, url),
        published=published,
        raw_date=raw_date,
        author=_credit(credits, "Pewarta:"),
        editor=_credit(credits, "Editor:"),
        category=next(iter(page.css("ul.breadcrumbs li a::text").getall()[1:2]), None),
        tags=[t.strip() for t in page.css("ul.tags-list a::text").getall() if t.strip()],
    )


def _credit(credits: str, label: str) -> str | None:
    """ "Pewarta: A Editor: B COPYRIGHT …" → the name after `label`."""
    if label not in credits:
        return None
    rest = credits.split(label, 1)[1]
    for stop in ("Pewarta:", "Editor:", "COPYRIGHT"):
        rest = rest.split(stop, 1)[0]
    return " ".join(rest.split()) or None


def listing_links(html: str) -> list[str]:
    return Selector(text=html).css(".card__post__title h3 a::attr(href)").getall()
