"""Fault injection: a real `pantau crawl` (Scrapy, in a subprocess) against the demo sites on
127.0.0.1 while they misbehave. The crawl must finish, report every failure with its reason,
and store every good article exactly."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from crawlers.demo_site.server import DemoArticle, DemoSite, Fault, SiteKey
from tests.test_cli_pipeline import pantau

ACCENTED = "Kepala BP3MI menyebut biaya Rp6–8 juta “tidak resmi”; café dan naïve tetap utuh."


def _article(site: DemoSite, article_id: int) -> DemoArticle:
    return next(a for a in site.articles if a.id == article_id)


def _path(article: DemoArticle) -> str:
    return "/" + article.path


class Crawl:
    def __init__(self, tmp: Path) -> None:
        self.sites: dict[SiteKey, DemoSite] = {
            key: DemoSite(key, listing_size=5).start()
            for key in ("jambiekspres", "tribunjambi", "antarajambi")
        }
        self.data_dir = tmp / "data"
        # Articles whose page fails for good (the rest must all be stored).
        self.lost: set[str] = set()
        self.accented: dict[str, str] = {}
        self.fallback_title = ""
        # A two-page article redesigned on both pages (its pagination kept).
        self.multipage_fallback: DemoArticle | None = None
        self.result: Any = None

    def fault(self, key: SiteKey, article_id: int, fault: Fault, lost: bool) -> DemoArticle:
        article = _article(self.sites[key], article_id)
        self.sites[key].faults[_path(article)] = fault
        if lost:
            self.lost.add(article.title)
        return article

    def accent(self, article: DemoArticle) -> None:
        # Non-ASCII text, so a wrong charset would show as mojibake.
        article.paragraphs = [*article.paragraphs, ACCENTED]
        self.accented[article.title] = ACCENTED

    @property
    def good(self) -> list[DemoArticle]:
        return [
            a
            for key in ("jambiekspres", "tribunjambi")
            for a in self.sites[key].articles  # type: ignore[index]
            if a.title not in self.lost
        ]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Any:
    run = Crawl(tmp_path_factory.mktemp("faults"))
    je: SiteKey = "jambiekspres"
    tj: SiteKey = "tribunjambi"
    run.fault(je, 715672, Fault(status=500), lost=True)
    run.fault(je, 715652, Fault(status=429, retry_after=1, times=1), lost=False)
    run.fault(je, 715648, Fault(delay=3.0), lost=True)  # past the 1.5 s timeout
    run.fault(je, 715626, Fault(truncate=True), lost=True)
    run.accent(run.fault(je, 715623, Fault(charset="iso-8859-1"), lost=False))
    run.fallback_title = run.fault(je, 715611, Fault(layout_change=True), lost=False).title
    multipage = run.fault(je, 715661, Fault(layout_change=True), lost=False)
    run.sites[je].faults[_path(multipage) + "/15"] = Fault(layout_change=True)
    run.multipage_fallback = multipage
    redirect = _article(run.sites[je], 715607)
    run.fault(je, 715607, Fault(status=302, location=_path(redirect)), lost=True)
    run.fault(je, 715604, Fault(status=404), lost=True)
    run.fault(tj, 1070, Fault(status=503, times=1), lost=False)
    run.fault(tj, 1063, Fault(pad_bytes=300_000), lost=True)
    missing = run.fault(
        tj, 1060, Fault(charset="", strip_meta_charset=True, encoding="cp1252"), lost=False
    )
    missing.paragraphs = [*missing.paragraphs, "Harga naik ± 5 persen, kata pedagang café."]
    run.accented[missing.title] = missing.paragraphs[-1]
    run.fault(tj, 1056, Fault(status=429, retry_after=3600), lost=True)
    # A site whose every article fails: stopped by its error budget, the others go on.
    for article in run.sites["antarajambi"].articles:
        run.sites["antarajambi"].faults[_path(article)] = Fault(status=500)

    config = run.data_dir.parent / "pantau.toml"
    sources = "".join(
        f'[[sources]]\nname = "{key}"\nlabel = "{key}"\nspider = "{spider}"\n'
        f'url = "{run.sites[key].base_url}"\n'  # type: ignore[index]
        + ('categories = ["kriminal", "jambi", "ekonomi"]\n' if spider == "disway" else "")
        for key, spider in (
            ("jambiekspres", "disway"),
            ("tribunjambi", "tribun"),
            ("antarajambi", "antara"),
        )
    )
    config.write_text(
        "[crawl]\ndownload_delay = 0\nautothrottle = false\ntimeout = 1.5\nretries = 1\n"
        "retry_backoff = 0.1\nmax_retry_after = 5\nmax_page_bytes = 200000\n"
        "error_budget = 4\nmax_listing_pages = 10\n" + sources,
        encoding="utf-8",
    )
    try:
        run.result = pantau("crawl", data_dir=run.data_dir, config=config, timeout=120)
    finally:
        for site in run.sites.values():
            site.stop()
    return run


def _report(run: Crawl) -> dict[str, dict[str, Any]]:
    path = sorted((run.data_dir / "reports").glob("crawl-*.json"))[-1]
    return {r["source"]: r for r in json.loads(path.read_text("utf-8"))}


def test_the_crawl_completes_and_exits_2_for_the_failed_site(crawl: Crawl) -> None:
    assert crawl.result.returncode == 2, crawl.result.stderr[-3000:]
    assert "Traceback" not in crawl.result.stderr
    assert "Crawl report" in crawl.result.stdout


def test_every_good_article_is_stored_exactly(crawl: Crawl) -> None:
    db = sqlite3.connect(crawl.data_dir / "pantau.sqlite")
    stored = dict(db.execute("SELECT title, text FROM articles").fetchall())
    for article in crawl.good:
        assert article.title in stored, f"lost {article.title}"
        text = stored[article.title]
        assert article.paragraphs[-1] in text
        assert text.count("\n\n") == len(article.paragraphs) - 1
    for title in crawl.lost:
        assert title not in stored
    for title, accented in crawl.accented.items():
        assert accented in stored[title].split("\n\n")


def test_each_failure_is_reported_with_its_reason(crawl: Crawl) -> None:
    report = _report(crawl)
    je, tj = report["jambiekspres"], report["tribunjambi"]
    assert je["status"] == "partial" and tj["status"] == "partial"
    je_reasons = " | ".join(je["failures"])
    for reason in ("HTTP 500", "timeout", "truncated response", "redirect loop", "HTTP 404"):
        assert reason in je_reasons, je["failures"]
    tj_reasons = " | ".join(tj["failures"])
    assert "page larger than crawl.max_page_bytes" in tj_reasons, tj["failures"]
    assert "Retry-After 3600 s" in tj_reasons, tj["failures"]
    # The transient 429 and 503 were retried after waiting as asked / backing off.
    assert je["retry_wait_s"] >= 1.0
    assert tj["retry_wait_s"] > 0
    assert "HTTP 429" not in je_reasons and "HTTP 503" not in tj_reasons
    # The printed report shows the same reasons.
    assert "truncated response" in crawl.result.stdout


def test_a_changed_layout_falls_back_to_the_generic_extractor_with_a_warning(
    crawl: Crawl,
) -> None:
    report = _report(crawl)["jambiekspres"]
    assert report["layout_fallbacks"] == 3  # a one-page article, and both pages of another
    assert "read with the generic extractor" in crawl.result.stderr
    assert "read with the generic extractor" in crawl.result.stdout
    db = sqlite3.connect(crawl.data_dir / "pantau.sqlite")
    (published,) = db.execute(
        "SELECT published FROM articles WHERE title = ?", (crawl.fallback_title,)
    ).fetchone()
    expected = next(a for a in crawl.good if a.title == crawl.fallback_title).published
    assert published == expected.isoformat()
    # The redesigned multi-page article is stitched through the site's pagination.
    multipage = crawl.multipage_fallback
    assert multipage is not None and multipage.page_count == 2
    text, pages = db.execute(
        "SELECT text, pages FROM articles WHERE title = ?", (multipage.title,)
    ).fetchone()
    assert pages == 2
    assert text.split("\n\n")[1:] == multipage.paragraphs[1:]
    assert multipage.paragraphs[0] in text.split("\n\n")[0]


def test_a_failing_site_is_stopped_by_its_error_budget_without_stopping_the_others(
    crawl: Crawl,
) -> None:
    report = _report(crawl)
    antara = report["antarajambi"]
    assert antara["status"] == "failed"
    assert antara["finish_reason"] == "error_budget"
    assert len([r for r in antara["failures"] if "error budget spent" in r]) == 1
    assert report["jambiekspres"]["new"] > 0 and report["tribunjambi"]["new"] > 0
