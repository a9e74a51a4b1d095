"""What every layout shares: the page model, paragraph cleaning and URL canonicalisation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from parsel import Selector, SelectorList

from crawlers.extract.boilerplate import NOISE_PARAGRAPH


class LayoutMismatch(ValueError):
    """The page does not have the parts this layout's selectors expect."""


@dataclass
class PageExtract:
    """The parts of one article page."""

    title: str
    paragraphs: list[str]
    canonical_url: str
    published: datetime | None = None
    updated: datetime | None = None
    raw_date: str | None = None
    author: str | None = None
    editor: str | None = None
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    # Further pages of a multi-page article, in order, as absolute URLs.
    next_pages: list[str] = field(default_factory=list)


def clean_text(text: str) -> str:
    return " ".join(text.replace("\xa0", " ").split())


def paragraphs_of(nodes: list[Selector]) -> list[str]:
    """Visible text of each <p>, whitespace folded, empty and noise paragraphs dropped."""
    paragraphs = []
    for node in nodes:
        text = clean_text(" ".join(node.xpath(".//text()[not(ancestor::script)]").getall()))
        if text and not NOISE_PARAGRAPH.match(text):
            paragraphs.append(text)
    return paragraphs


def first(selector: Selector | SelectorList[Selector], query: str) -> str | None:
    value = selector.css(query).get()
    return clean_text(value) if value else None


def canonicalize_url(url: str) -> str:
    """One spelling per article: lower-case host, no fragment, no double slashes."""
    parts = urlsplit(url.strip())
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, parts.query, ""))


def canonical_of(selector: Selector, page_url: str) -> str:
    """The page's rel=canonical when it names the same host, else the page URL itself."""
    declared = selector.css("link[rel=canonical]::attr(href)").get()
    if declared and urlsplit(declared).netloc == urlsplit(page_url).netloc:
        return canonicalize_url(declared)
    return canonicalize_url(page_url)


def page_text(body: bytes, declared: str) -> str:
    """The page's text. Sites declare a wrong charset (latin-1 in the header over a UTF-8
    body) or none at all; a body that decodes as UTF-8 is UTF-8 (latin-1 text with accents
    almost never is), anything else is left to the declared or sniffed charset in
    `declared` (Scrapy's `response.text`)."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return declared
