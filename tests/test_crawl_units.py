"""The crawler's pure parts: the generic extractor on redesigned pages, story clustering,
Retry-After, charset handling."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from crawlers.demo_site.server import DemoSite, Fault, SiteKey, load_articles
from crawlers.extract import antara, disway, generic, tribun
from crawlers.extract.common import LayoutMismatch, page_text
from crawlers.middlewares import retry_after_seconds
from crawlers.stories import StoryIndex, from_bytes, signature, to_bytes

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
