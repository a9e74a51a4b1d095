"""The further pages of a multi-page article, on any site: `rel="next"` links, "?page=2" /
"/2/" style links and "Halaman 2" links that lead to another page of the same article.

Only links that are pages of the article being read count: the same host, and either the
same path with a page parameter in the query (`?page=2`, `?hal=2`) or the article's path
with a page number appended (`/slug/2/`, Disway's `/slug/15`). And only links that look
like pagination: `rel="next"`, a page label ("2", "Halaman 2", "Selanjutnya", "»") or a
link inside a pagination block (class or id with "pag" or "halaman"). A link to another
article, or to the article's "show all" view (`?page=all`), is not a page.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

from parsel import Selector

from crawlers.extract.common import canonicalize_url, clean_text

PAGE_PARAMS = frozenset({"page", "p", "pg", "hal", "halaman", "paged"})
PAGE_LABEL = re.compile(
    r"^(?:(?:halaman|hal\.?|page)\s*)?\d{1,3}$"
    r"|^(?:selanjutnya|berikutnya|lanjut|next|lanjutkan)\b"
    r"|^(?:»|›|>|>>|→)$",
    re.IGNORECASE,
)
PAGE_SUFFIX = re.compile(r"(?:(?:page|halaman|hal)/)?(\d{1,5})")
# Anchors that may be pagination; the rest of the page's links are not looked at.
CANDIDATES = (
    "//a[@href][contains(concat(' ', normalize-space(@rel), ' '), ' next ')"
    " or ancestor-or-self::*[contains(@class, 'pag') or contains(@id, 'pag')"
    " or contains(@class, 'halaman') or contains(@id, 'halaman')]"
    " or string-length(normalize-space(.)) < 16]"
)


def page_number(url: str, root: str) -> int | None:
    """Which page of the article at `root` the URL `url` is (1 for `root` itself), or None
    when it is not a page of that article."""
    target, article = urlsplit(canonicalize_url(url)), urlsplit(canonicalize_url(root))
    if target.netloc != article.netloc:
        return None
    target_query, article_query = parse_qs(target.query), parse_qs(article.query)
    if target.path == article.path:
        extra = {k: v for k, v in target_query.items() if article_query.get(k) != v}
        # A parameter of the article's own URL changed (`/?p=123` → `/?p=124`) is another
        # article, not a page of this one.
        if set(article_query) - set(target_query) or set(extra) & set(article_query):
            return None
        if not extra:
            return 1
        if len(extra) == 1:
            (name, values), *_ = extra.items()
            if name.lower() in PAGE_PARAMS and values[-1].isdigit():
                return max(1, int(values[-1]))
        return None
    if target_query == article_query and target.path.startswith(article.path.rstrip("/") + "/"):
        suffix = PAGE_SUFFIX.fullmatch(target.path[len(article.path.rstrip("/")) + 1 :])
        if suffix:
            return max(1, int(suffix.group(1)))
    return None


def further_pages(page: Selector, page_url: str, root: str) -> list[str]:
    """Absolute URLs of the other pages of the article at `root` that this page (at
    `page_url`) links to, in page order, page 1 and this page left out."""
    here = canonicalize_url(page_url)
    hrefs = page.css("link[rel~=next]::attr(href)").getall()
    for anchor in page.xpath(CANDIDATES):
        rel = anchor.attrib.get("rel", "").split()
        label = clean_text(" ".join(anchor.xpath(".//text()").getall()))
        in_block = anchor.xpath(
            "ancestor-or-self::*[contains(@class, 'pag') or contains(@id, 'pag')"
            " or contains(@class, 'halaman') or contains(@id, 'halaman')]"
        )
        if "next" in rel or PAGE_LABEL.match(label) or in_block:
            hrefs.append(anchor.attrib["href"])
    found: dict[str, tuple[int, str]] = {}  # canonical URL → (page number, URL)
    for href in hrefs:
        url = urljoin(page_url, href.strip())
        key = canonicalize_url(url)
        number = page_number(url, root)
        if number is None or number == 1 or key == here or key in found:
            continue
        found[key] = (number, url)
    return [url for _, url in sorted(found.values())]
