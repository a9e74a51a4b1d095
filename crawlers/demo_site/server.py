"""The demo news sites: fictional articles served on 127.0.0.1 in the real layouts of
Jambi Ekspres (Disway CMS), Tribun Jambi and Antara Jambi.

`pantau demo` crawls them to show the whole pipeline offline, and the tests crawl them as
real HTTP servers. The article texts are in `articles.yaml` (written for Pantau, all people
fictional); the page layouts in `templates/` follow what `../shared/sources.md` records of
each site: listing pages, multi-page articles, RSS, a news sitemap and robots.txt.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import format_datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import yaml
from jinja2 import Environment, PackageLoader, select_autoescape

# "beritajambi" is a site in no layout Pantau knows (WordPress-like: `/2026/11/slug/`,
# pages `/2/`, rel="next", "Halaman 2" links; no RSS, its sitemap only named in
# robots.txt), for the generic spider. It is not one of `pantau demo`'s sites (SITE_KEYS);
# it serves the Jambi Ekspres articles.
SiteKey = Literal["jambiekspres", "tribunjambi", "antarajambi", "beritajambi"]
SITE_KEYS: tuple[SiteKey, ...] = ("jambiekspres", "tribunjambi", "antarajambi")
SITE_LABELS: dict[SiteKey, str] = {
    "jambiekspres": "Jambi Ekspres",
    "tribunjambi": "Tribun Jambi",
    "antarajambi": "Antara Jambi",
    "beritajambi": "Berita Jambi",
}
SITE_SPIDERS: dict[SiteKey, str] = {
    "jambiekspres": "disway",
    "tribunjambi": "tribun",
    "antarajambi": "antara",
    "beritajambi": "generic",
}
LAYOUTS: dict[SiteKey, str] = {
    "jambiekspres": "disway",
    "tribunjambi": "tribun",
    "antarajambi": "antara",
    "beritajambi": "generic",
}
GENERIC_SITEMAP = "/peta-situs/berita-terbaru.xml"  # named only in beritajambi's robots.txt
ROBOTS: dict[SiteKey, str] = {
    "jambiekspres": "User-agent: *\nDisallow: /search/\n",
    "tribunjambi": "User-agent: *\nDisallow: /search\nDisallow: /tag/\nDisallow: /topic/\n",
    "antarajambi": "User-agent: *\nDisallow: /cari\n",
    "beritajambi": "User-agent: *\nDisallow: /cari/\n\nSitemap: {base}" + GENERIC_SITEMAP + "\n",
}
DAYS_ID = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
MONTHS_ID = [
    "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
    "Agustus", "September", "Oktober", "November", "Desember",
]  # fmt: skip
DISWAY_PAGE_STEP = 15  # Jambi Ekspres appends /15, /30, … for pages 2, 3, …


@dataclass
class DemoArticle:
    """One article of articles.yaml, with what each layout needs to render it."""

    site: SiteKey
    id: int
    slug: str
    category: str
    title: str
    published: datetime
    author: str
    editor: str
    city: str
    paragraphs: list[str]
    page_breaks: list[int]
    tags: list[str]
    gold: dict[str, Any]
    base: str = ""

    @property
    def path(self) -> str:
        if self.site == "jambiekspres":
            return f"{self.category}/read/{self.id}/{self.slug}"
        if self.site == "tribunjambi":
            return f"{self.published:%Y/%m/%d}/{self.slug}"
        if self.site == "beritajambi":
            return f"{self.published:%Y/%m}/{self.slug}"
        return f"berita/{self.id}/{self.slug}"

    @property
    def url(self) -> str:
        return f"{self.base}/{self.path}"

    @property
    def canonical(self) -> str:
        return self.url

    @property
    def page_count(self) -> int:
        return len(self.page_breaks) + 1

    def page_url(self, number: int) -> str:
        if number <= 1:
            return self.url
        if self.site == "jambiekspres":
            return f"{self.url}/{DISWAY_PAGE_STEP * (number - 1)}"
        if self.site == "beritajambi":
            return f"{self.url}/{number}/"
        return f"{self.url}?page={number}"

    def page_paragraphs(self, number: int) -> list[str]:
        bounds = [0, *self.page_breaks, len(self.paragraphs)]
        return self.paragraphs[bounds[number - 1] : bounds[number]]

    @property
    def disway_date(self) -> str:  # "Minggu 17-05-2026,06:57 WIB"
        return f"{DAYS_ID[self.published.weekday()]} {self.published:%d-%m-%Y,%H:%M} WIB"

    @property
    def tribun_date(self) -> str:  # "Minggu, 17 Mei 2026 06:57 WIB"
        p = self.published
        return f"{DAYS_ID[p.weekday()]}, {p.day} {MONTHS_ID[p.month - 1]} {p.year} {p:%H:%M} WIB"

    antara_date = tribun_date

    @property
    def rfc822_date(self) -> str:
        return format_datetime(self.published)

    @property
    def json_ld(self) -> str:
        return json.dumps(
            {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": self.title,
                "datePublished": self.published.isoformat(),
                "dateModified": self.published.isoformat(),
                "articleSection": self.category,
                "keywords": ",".join(self.tags),
                "author": {"@type": "Person", "name": self.author},
                "mainEntityOfPage": self.canonical,
            },
            ensure_ascii=False,
        ).replace("</", "<\\/")


@cache
def _articles_yaml() -> list[dict[str, Any]]:
    text = resources.files("crawlers.demo_site").joinpath("articles.yaml").read_text("utf-8")
    loaded: list[dict[str, Any]] = yaml.safe_load(text)
    return loaded


def load_articles(site: SiteKey | None = None) -> list[DemoArticle]:
    """The demo articles (of one site), newest first."""
    articles = [
        DemoArticle(**{**raw, "published": datetime.fromisoformat(raw["published"])})
        for raw in _articles_yaml()
        if site is None or raw["site"] == site
    ]
    return sorted(articles, key=lambda a: a.published, reverse=True)


@cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("crawlers.demo_site", "templates"),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait before answering (a slow page).
    delay: float = 0.0
    # Announce the whole body, send half of it, then close the connection.
    truncate: bool = False


@dataclass
class Fault:
    """What goes wrong on one path of a demo site (the tests' fault injection).

    Fields combine: e.g. `Fault(status=429, retry_after=1, times=1)` answers 429 once,
    then serves the page normally."""

    status: int | None = None  # answer this status instead of the page
    retry_after: int | None = None  # with a Retry-After header (seconds)
    location: str | None = None  # with a Location header (redirects; a loop if it points back)
    delay: float = 0.0  # seconds before answering (past the crawler's timeout: a slow page)
    truncate: bool = False  # the connection drops half-way through the body
    charset: str | None = None  # declare this charset in Content-Type ("" declares none)
    encoding: str = "utf-8"  # encode the body in this codec
    strip_meta_charset: bool = False  # remove <meta charset> from the HTML
    pad_bytes: int = 0  # append this many bytes of HTML comment (an oversized page)
    layout_change: bool = False  # serve the page in a redesigned layout (new class names)
    times: int | None = None  # apply this many times, then serve normally (None: always)

    def applies(self) -> bool:
        if self.times is None:
            return True
        if self.times <= 0:
            return False
        self.times -= 1
        return True


# A redesign of each layout: the same content under class names the site selectors do not
# know, so the crawler must fall back to the generic extractor.
LAYOUT_CHANGES: dict[str, list[tuple[str, str]]] = {
    "disway": [("post text-black-1", "article-wrap"), ('class="text-black"', 'class="title"')],
    "tribun": [('id="arttitle"', 'class="headline"'), ("txt-article", "article-body")],
    "antara": [("wrap__article-detail-title", "news-title"), ("wrap__article-detail", "news")],
}


def render_article(
    article: DemoArticle,
    base: str,
    page_number: int = 1,
    all_pages: bool = False,
    related: DemoArticle | None = None,
) -> str:
    """One page of `article` in its site's layout (also used by the benchmarks)."""
    return (
        _templates()
        .get_template(f"{LAYOUTS[article.site]}/article.html")
        .render(
            a=article,
            base=base,
            page_number=page_number,
            page_count=article.page_count,
            all_pages=all_pages,
            page_paragraphs=article.paragraphs
            if all_pages
            else article.page_paragraphs(page_number),
            related=related,
        )
    )


class DemoSite:
    """One demo news site served on 127.0.0.1 (port 0: any free port)."""

    def __init__(
        self,
        key: SiteKey,
        port: int = 0,
        listing_size: int = 30,
        host: str = "127.0.0.1",
        articles: list[DemoArticle] | None = None,
    ) -> None:
        self.key = key
        self.layout = LAYOUTS[key]
        self.listing_size = listing_size
        self.requests: list[str] = []
        # Paths answered with this status instead of the page: the tests' way to make a
        # site fail ("*" for every path).
        self.failures: dict[str, int] = {}
        # Path → what goes wrong there ("*" for every path): see `Fault`.
        self.faults: dict[str, Fault] = {}
        # Seconds to wait before answering article pages: a slow site, for interrupt tests.
        self.article_delay = 0.0
        # Requests being answered at this moment, and the most at once so far: how polite
        # the crawler was (its per-domain concurrency limit).
        self.in_flight = 0
        self.max_in_flight = 0
        self._in_flight_lock = threading.Lock()
        self._server = _MirrorServer((host, port), _handler_for(self))
        self._thread: threading.Thread | None = None
        if articles is None:
            articles = (
                [replace(a, site=key) for a in load_articles("jambiekspres")]
                if key == "beritajambi"
                else load_articles(key)
            )
        self.articles = articles
        for article in self.articles:
            article.base = self.base_url
        # Path → article, so a mirror of thousands of articles answers in constant time.
        self._by_path = {"/" + article.path: article for article in self.articles}
        self._position = {article.path: n for n, article in enumerate(self.articles)}

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DemoSite:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"demo-{self.key}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for serve_forever to return
            self._server.shutdown()
        self._server.server_close()
        # Kept-alive connections would go on answering: a stopped site answers nothing.
        self._server.close_connections()

    # -- routing -------------------------------------------------------------------------

    def respond(self, raw_path: str) -> Response:
        self.requests.append(raw_path)
        path = urlsplit(raw_path).path.rstrip("/") or "/"
        for pattern in (path, "*"):
            if pattern in self.failures:
                return Response(self.failures[pattern], b"<h1>Server error</h1>")
        fault = self.faults.get(path) or self.faults.get("*")
        if fault is None or not fault.applies():
            return self._route(raw_path)
        return self._faulty(raw_path, fault)

    def _faulty(self, raw_path: str, fault: Fault) -> Response:
        if fault.status is not None:
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            if fault.location is not None:
                headers["Location"] = self.base_url + fault.location
            body = f"<h1>{fault.status}</h1>".encode()
            return Response(fault.status, body, headers=headers, delay=fault.delay)
        response = self._route(raw_path)
        html = response.body.decode("utf-8")
        if fault.layout_change:
            for old, new in LAYOUT_CHANGES[self.layout]:
                html = html.replace(old, new)
        if fault.strip_meta_charset:
            html = html.replace('<meta charset="utf-8">', "")
        if fault.pad_bytes:
            html += "<!-- " + "x" * fault.pad_bytes + " -->"
        content_type = response.content_type.split(";")[0]
        if fault.charset:
            content_type += f"; charset={fault.charset}"
        elif fault.charset is None:
            content_type = response.content_type
        return Response(
            response.status,
            html.encode(fault.encoding),
            content_type,
            response.headers,
            delay=fault.delay,
            truncate=fault.truncate,
        )

    def _route(self, raw_path: str) -> Response:
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if path == "/robots.txt":
            robots = ROBOTS[self.key].replace("{base}", self.base_url)
            return Response(200, robots.encode(), "text/plain; charset=utf-8")
        if self.key == "beritajambi":
            if path == GENERIC_SITEMAP:
                return self._xml("sitemap_news.xml", items=self.articles)
            head, _, suffix = path.rpartition("/")
            if head in self._by_path and suffix.isdigit():
                return self._article(self._by_path[head], suffix)
        elif path in ("/rss", "/rss/terkini.xml"):
            return self._feed()
        if path == "/sitemap_news.xml" and self.key == "tribunjambi":
            return self._xml("sitemap_news.xml", items=self.articles)
        if path == "/":
            return self._listing("Berita Terkini", self.articles[: self.listing_size], None)
        segments = path.strip("/").split("/")
        if self.key == "jambiekspres" and segments[0] == "kategori" and len(segments) in (2, 3):
            offset = int(segments[2]) if len(segments) == 3 and segments[2].isdigit() else 0
            items = [a for a in self.articles if a.category == segments[1]]
            return self._paged_listing(items, offset, f"/kategori/{segments[1]}/{{offset}}")
        if self.key == "antarajambi" and segments[0] == "terkini" and len(segments) <= 2:
            page = int(segments[1]) if len(segments) == 2 and segments[1].isdigit() else 1
            offset = (page - 1) * self.listing_size
            return self._paged_listing(self.articles, offset, "/terkini/{page}", page_number=page)
        if self.key == "tribunjambi" and path == "/index-news":
            return self._tribun_index(query)
        if path in self._by_path:
            return self._article(self._by_path[path], query.get("page", "1"))
        head, _, suffix = path.rpartition("/")
        if (
            self.key == "jambiekspres"
            and head in self._by_path
            and suffix.isdigit()
            and int(suffix) % DISWAY_PAGE_STEP == 0
        ):
            return self._article(self._by_path[head], str(int(suffix) // DISWAY_PAGE_STEP + 1))
        return Response(404, b"<h1>404 Halaman tidak ditemukan</h1>")

    def _article(self, article: DemoArticle, page: str) -> Response:
        all_pages = page == "all" and self.key == "tribunjambi"
        number = 1 if all_pages or not page.isdigit() else int(page)
        if not 1 <= number <= article.page_count:
            return Response(404, b"<h1>404 Halaman tidak ditemukan</h1>")
        # Another article of the site, chosen as before the mirror needed constant time:
        # others[id % len(others)], with `others` the site's articles less this one.
        related = None
        if len(self.articles) > 1:
            index = article.id % (len(self.articles) - 1)
            related = self.articles[index if index < self._position[article.path] else index + 1]
        html = render_article(
            article,
            self.base_url,
            page_number=number,
            all_pages=all_pages,
            related=related,
        )
        return Response(200, html.encode("utf-8"))

    def _paged_listing(
        self,
        items: list[DemoArticle],
        offset: int,
        next_pattern: str,
        page_number: int = 1,
    ) -> Response:
        page = items[offset : offset + self.listing_size]
        has_next = offset + self.listing_size < len(items)
        next_url = (
            self.base_url
            + next_pattern.format(offset=offset + self.listing_size, page=page_number + 1)
            if has_next
            else None
        )
        return self._listing("Berita", page, next_url)

    def _tribun_index(self, query: dict[str, str]) -> Response:
        date = query.get("date", "")
        page = int(query["page"]) if query.get("page", "").isdigit() else 1
        items = [
            a
            for a in self.articles
            if f"{a.published.year}-{a.published.month}-{a.published.day}" == date
        ]
        offset = (page - 1) * self.listing_size
        next_pattern = f"/index-news?date={date}&page={{page}}"
        return self._paged_listing(items, offset, next_pattern, page_number=page)

    def _listing(self, heading: str, items: list[DemoArticle], next_url: str | None) -> Response:
        html = (
            _templates()
            .get_template(f"{self.layout}/listing.html")
            .render(heading=heading, items=items, next_url=next_url, base=self.base_url)
        )
        return Response(200, html.encode("utf-8"))

    def _feed(self) -> Response:
        return self._xml(
            "rss.xml", items=self.articles[:20], title=SITE_LABELS[self.key] + " (demo)"
        )

    def _xml(self, template: str, **context: Any) -> Response:
        xml = _templates().get_template(template).render(base=self.base_url, **context)
        return Response(200, xml.encode("utf-8"), "application/xml; charset=utf-8")


class _MirrorServer(ThreadingHTTPServer):
    """A thread per connection, as before, fit for a crawler at full speed: a listen queue
    that holds a burst of new connections (socketserver's default of 5 dropped the SYNs
    of a burst, which the client's kernel resends only after 1 s), and kept-alive
    connections, closed when the site stops."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


def _handler_for(site: DemoSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "PantauDemo/1.0"
        # Keep-alive, as real news sites: a crawler fetching thousands of pages does not pay
        # a new connection (and the server a new thread) for each.
        protocol_version = "HTTP/1.1"
        # An idle kept-alive connection ends after this many seconds (its thread with it).
        timeout = 30
        # Headers and body go out in two writes; with Nagle's algorithm the body waits for
        # the client's delayed ACK (~40 ms a page), which made the mirror, not the crawler,
        # the bottleneck of the crawl benchmark.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            with site._in_flight_lock:
                site.in_flight += 1
                site.max_in_flight = max(site.max_in_flight, site.in_flight)
            try:
                self._answer()
            finally:
                with site._in_flight_lock:
                    site.in_flight -= 1

        def _answer(self) -> None:
            if site.article_delay and any(
                self.path.startswith("/" + a.path) for a in site.articles
            ):
                time.sleep(site.article_delay)
            response = site.respond(self.path)
            if response.delay:
                time.sleep(response.delay)
            try:
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if response.truncate:
                    self.wfile.write(response.body[: len(response.body) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                # The crawler gave up (timeout, size limit): nothing left to answer.
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # The crawler logs what it fetched; the server stays quiet.

    return Handler


@contextmanager
def serve_demo_sites(
    ports: dict[SiteKey, int] | None = None, listing_size: int = 30
) -> Iterator[dict[SiteKey, DemoSite]]:
    """Start the three demo sites; stop them on exit."""
    sites = {
        key: DemoSite(key, port=(ports or {}).get(key, 0), listing_size=listing_size).start()
        for key in SITE_KEYS
    }
    try:
        yield sites
    finally:
        for site in sites.values():
            site.stop()
