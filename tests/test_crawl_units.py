"""The crawler's pure parts: the generic extractor on redesigned pages, story clustering,
Retry-After, charset handling."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from parsel import Selector
from scrapy import Request
from scrapy.http import HtmlResponse

from crawlers.demo_site.server import DemoSite, Fault, SiteKey, load_articles
from crawlers.extract import antara, disway, generic, pagination, tribun
from crawlers.extract.common import LayoutMismatch, page_text
from crawlers.middlewares import retry_after_seconds
from crawlers.spiders.generic import GenericSpider
from crawlers.store_writer import StoreWriter
from crawlers.stories import StoryIndex, from_bytes, signature, to_bytes
from pantau.config import SourceConfig
from pantau.models import ExtractedArticle
from pantau.store import ArticleStore, UpsertOutcome

SITE_EXTRACTORS = {
    "jambiekspres": disway.extract,
    "tribunjambi": tribun.extract,
    "antarajambi": antara.extract,
}


@pytest.mark.parametrize("key", ["jambiekspres", "tribunjambi", "antarajambi"])
def test_a_redesigned_page_is_read_by_the_generic_extractor_as_well_as_before(
    key: SiteKey,
) -> None:
    site = DemoSite(key)  # not started: pages are rendered directly
    try:
        for article in site.articles:
            if article.page_count > 1:
                continue
            path = "/" + article.path + ("?page=all" if key == "tribunjambi" else "")
            before = SITE_EXTRACTORS[key](site.respond(path).body.decode(), article.url)
            site.faults["/" + article.path] = Fault(layout_change=True)
            redesigned = site.respond(path).body.decode()
            with pytest.raises(LayoutMismatch):
                SITE_EXTRACTORS[key](redesigned, article.url)
            after = generic.extract(redesigned, article.url)
            assert after.title == article.title
            assert after.published == article.published
            assert after.paragraphs == before.paragraphs
            assert after.canonical_url == before.canonical_url
    finally:
        site.stop()


def test_the_generic_extractor_refuses_a_page_without_an_article() -> None:
    with pytest.raises(LayoutMismatch):
        generic.extract("<html><body><h1>404</h1><p>Tidak ada.</p></body></html>", "http://x/")


def _syndicated() -> list[tuple[str, str, str, datetime]]:
    return [
        (str(a.id), a.title, "\n\n".join(a.paragraphs), a.published)
        for a in load_articles()
        if "22" in a.title and "Kuala Tungkal" in a.title
    ]


def test_syndicated_reports_form_one_story_in_any_order() -> None:
    reports = _syndicated()
    assert len(reports) == 3
    for order in itertools.permutations(reports):
        index = StoryIndex(threshold=0.2, window_days=7)
        for article_id, title, text, published in order:
            index.assign(article_id, signature(title, text), published)
        members = index._members
        assert {m.story for m in members.values()} == {order[0][0]}


def test_unrelated_articles_stay_apart_and_old_news_does_not_join() -> None:
    index = StoryIndex(threshold=0.2, window_days=7)
    stories = {
        str(a.id): index.assign(
            str(a.id), signature(a.title, "\n\n".join(a.paragraphs)), a.published
        ).story_id
        for a in load_articles()
        if not ("22" in a.title and "Kuala Tungkal" in a.title)
    }
    assert all(story == article_id for article_id, story in stories.items())
    # The same report a month later is a new story (a different event, or a re-run).
    article_id, title, text, published = _syndicated()[0]
    index.assign(article_id, signature(title, text), published)
    late = index.assign("late", signature(title, text), published + timedelta(days=30))
    assert late.story_id == "late"


def test_signatures_survive_storage() -> None:
    _, title, text, _ = _syndicated()[0]
    minhash = signature(title, text)
    assert from_bytes(to_bytes(minhash)).jaccard(minhash) == 1.0


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert retry_after_seconds(b"120") == 120
    assert retry_after_seconds(b"Fri, 27 Nov 2026 12:00:30 GMT", now=now) == 30
    assert retry_after_seconds(b"Fri, 27 Nov 2026 11:00:00 GMT", now=now) == 0
    assert retry_after_seconds(b"soon") is None
    assert retry_after_seconds(None) is None


def test_a_utf8_page_declared_latin1_is_read_as_utf8() -> None:
    text = "Rp6–8 juta “tidak resmi”, café"
    body = text.encode("utf-8")
    assert page_text(body, body.decode("latin-1")) == text
    cp1252 = text.encode("cp1252")
    assert page_text(cp1252, cp1252.decode("cp1252")) == text


def _rendered(site: DemoSite, url: str) -> HtmlResponse:
    path = url.removeprefix(site.base_url)
    return HtmlResponse(url, body=site.respond(path).body, encoding="utf-8", request=Request(url))


def test_pagination_finds_the_pages_of_this_article_and_nothing_else() -> None:
    site = DemoSite("beritajambi")  # rendered directly, not served
    tribun_site = DemoSite("tribunjambi")
    try:
        article = next(a for a in site.articles if a.page_count == 3)
        pages = [article.page_url(n) for n in (1, 2, 3)]
        first = Selector(text=site.respond("/" + article.path).body.decode())
        # rel="next", "Halaman 2" and "Selanjutnya" name page 2 thrice; the related
        # article's link is not a page.
        assert pagination.further_pages(first, pages[0], pages[0]) == pages[1:]
        second = Selector(text=_rendered(site, pages[1]).text)
        assert pagination.further_pages(second, pages[1], pages[0]) == [pages[2]]
        multi = next(a for a in tribun_site.articles if a.page_count > 1)
        html = tribun_site.respond("/" + multi.path).body.decode()
        # "?page=2" is a page; "?page=all" (the whole article) is not.
        assert pagination.further_pages(Selector(text=html), multi.url, multi.url) == [
            f"{multi.url}?page={n}" for n in range(2, multi.page_count + 1)
        ]
    finally:
        site.stop()
        tribun_site.stop()
    root = "http://127.0.0.1/berita/123/slug"
    assert pagination.page_number(root + "?page=3", root) == 3
    assert pagination.page_number(root + "/2/", root) == 2
    assert pagination.page_number(root + "?page=all", root) is None
    assert pagination.page_number("http://127.0.0.1/berita/124/slug", root) is None
    assert pagination.page_number("http://example.org/berita/123/slug/2", root) is None
    # WordPress's /?p=123: /?p=124 is the next post, not page 124.
    assert pagination.page_number("http://127.0.0.1/?p=124", "http://127.0.0.1/?p=123") is None
    assert pagination.page_number("http://127.0.0.1/?p=123&page=2", "http://127.0.0.1/?p=123") == 2


def _spider(site: DemoSite, **kwargs: Any) -> GenericSpider:
    source = SourceConfig(name="b", label="Berita Jambi", spider="generic", url=site.base_url)
    return GenericSpider(source=source, **kwargs)


def test_stitching_stops_at_a_page_read_before_and_at_the_page_cap() -> None:
    site = DemoSite("beritajambi")
    try:
        article = next(a for a in site.articles if a.page_count == 3)
        pages = [article.page_url(n) for n in (1, 2, 3)]
        spider = _spider(site)
        (to_page_2,) = spider.parse_article(_rendered(site, pages[0]))
        assert isinstance(to_page_2, Request) and to_page_2.url == pages[1]
        # Page 2 redirected back to page 1 (read already): page 3 is next, page 1 not again.
        redirected = HtmlResponse(
            pages[0], body=site.respond("/" + article.path).body, encoding="utf-8",
            request=to_page_2,
        )  # fmt: skip
        (to_page_3,) = spider.parse_article(redirected, **to_page_2.cb_kwargs)
        assert isinstance(to_page_3, Request) and to_page_3.url == pages[2]
        (stitched,) = spider.parse_article(_rendered(site, pages[2]), **to_page_3.cb_kwargs)
        assert isinstance(stitched, ExtractedArticle) and stitched.pages == 2
        assert stitched.text == "\n\n".join(article.page_paragraphs(1) + article.page_paragraphs(3))
        # At most max_article_pages pages.
        capped = _spider(site, max_article_pages=2)
        (to_page_2,) = capped.parse_article(_rendered(site, pages[0]))
        assert isinstance(to_page_2, Request)
        (two_pages,) = capped.parse_article(_rendered(site, pages[1]), **to_page_2.cb_kwargs)
        assert isinstance(two_pages, ExtractedArticle) and two_pages.pages == 2
        assert two_pages.text == "\n\n".join(article.paragraphs[: article.page_breaks[1]])
    finally:
        site.stop()


def test_the_crawl_commits_pages_and_articles_in_batches_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "pantau.sqlite"
    writer = StoreWriter(path, max_items=4, max_wait_s=3600)
    outcomes: list[tuple[str, UpsertOutcome]] = []
    story = ExtractedArticle(
        url="http://127.0.0.1/a", canonical_url="http://127.0.0.1/a", source="s",
        title="Judul", text="Isi berita.",
    )  # fmt: skip
    copy = story.model_copy(
        update={"url": "http://127.0.0.1/b", "canonical_url": "http://127.0.0.1/b"}
    )
    writer.save_page(story.url, "s", 200, {}, b"<html></html>")
    writer.upsert_article(story, lambda item, outcome: outcomes.append((item.url, outcome)))
    writer.upsert_article(copy, lambda item, outcome: outcomes.append((item.url, outcome)))
    reader = ArticleStore(path)
    try:
        # Nothing committed before the batch is full: a crash now loses these three, and
        # the next crawl fetches them again (they are not "known").
        assert reader.count_articles() == 0 and reader.get_page(story.url) is None
        assert outcomes == []
        writer.save_page(copy.url, "s", 200, {}, b"<html></html>")  # the 4th write: commit
        assert reader.count_articles() == 1 and reader.get_page(copy.url) is not None
        # The same text under another URL, in the same batch, is a duplicate.
        assert outcomes == [(story.url, UpsertOutcome.NEW), (copy.url, UpsertOutcome.DUPLICATE)]
        writer.upsert_article(story, lambda item, outcome: outcomes.append((item.url, outcome)))
        writer.close()  # a spider closing commits what is pending
        assert outcomes[-1] == (story.url, UpsertOutcome.UNCHANGED)
        assert writer.batches == 2
    finally:
        reader.close()
