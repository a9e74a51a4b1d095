"""Any news page, whatever its layout: trafilatura finds the body, title and author,
htmldate the date. The fallback when a site's own selectors no longer match (a redesign)
and the extractor of the `generic` spider, so adding a source is configuration.

Dates are read first from the page's own machine-readable fields with the exact parsers
(they keep the time and the offset), then by htmldate; nothing found gives
`published = None`, never "now".
"""

from __future__ import annotations

import re
from datetime import datetime

import trafilatura
from htmldate import find_date
from parsel import Selector

from crawlers.extract.common import (
    NOISE_PARAGRAPH,
    LayoutMismatch,
    PageExtract,
    canonical_of,
    clean_text,
)
from crawlers.extract.dates import parse_date
from crawlers.extract.tribun import news_article_ld

# Image captions and credits that trafilatura keeps as paragraphs: short lines opening
# with "Foto:", "Ilustrasi", "Dok." and the like.
CAPTION = re.compile(r"^(?:ilustrasi|foto|dok\.|caption)\b.{0,120}$", re.IGNORECASE)
# Credits trafilatura leaves in the author field ("Reporter Rizal Fahmi").
CREDIT_LABEL = re.compile(r"^(?:reporter|penulis|pewarta|oleh|by)\s*:?\s*", re.IGNORECASE)
DATE_FIELDS = (
    "meta[property='article:published_time']::attr(content)",
    "meta[name=pubdate]::attr(content)",
    "meta[name='publish-date']::attr(content)",
    "meta[itemprop=datePublished]::attr(content)",
    "time[datetime]::attr(datetime)",
)
MIN_TEXT_CHARS = 200


def extract(html: str, url: str) -> PageExtract:
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
    )
    text = str(getattr(document, "text", "") or "") if document is not None else ""
    title = clean_text(str(getattr(document, "title", "") or ""))
    paragraphs = [
        line
        for line in (clean_text(raw) for raw in text.split("\n"))
        if line
        and not NOISE_PARAGRAPH.match(line)
        and not CAPTION.match(line)
        # A summary box repeating the headline is not body text.
        and line.casefold() != title.casefold()
    ]
    if not title or sum(len(p) for p in paragraphs) < MIN_TEXT_CHARS:
        raise LayoutMismatch("no article body found by the generic extractor")
    page = Selector(text=html)
    raw_date, published = page_date(page, html)
    ld = news_article_ld(page)
    author = str(getattr(document, "author", "") or "") or None
    return PageExtract(
        title=title,
        paragraphs=paragraphs,
        canonical_url=canonical_of(page, url),
        published=published,
        updated=parse_date(str(ld.get("dateModified") or "") or None),
        raw_date=raw_date,
        author=(CREDIT_LABEL.sub("", author).strip() or None) if author else None,
        category=str(ld.get("articleSection") or "") or None,
        tags=[str(t) for t in (getattr(document, "tags", None) or []) if str(t).strip()],
    )


def page_date(page: Selector, html: str) -> tuple[str | None, datetime | None]:
    """(the date text found, its parsed value or None)."""
    ld_date = news_article_ld(page).get("datePublished")
    candidates = [str(ld_date)] if ld_date else []
    candidates += [value for query in DATE_FIELDS if (value := page.css(query).get())]
    for raw in candidates:
        parsed = parse_date(raw)
        if parsed is not None:
            return raw, parsed
    # htmldate's heuristics (URL, visible dates); only a day, read as WIB midnight.
    found = find_date(html, original_date=True, extensive_search=False)
    if isinstance(found, str):
        return found, parse_date(found)
    return (candidates[0] if candidates else None), None
