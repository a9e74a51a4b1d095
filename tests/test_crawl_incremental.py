"""Story clusters, re-fetching recent articles, backfills and crash recovery: real crawls
(`pantau crawl` in a subprocess) against the demo sites on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest

from crawlers.demo_site.server import DemoArticle, DemoSite, Fault, SiteKey
from tests.test_cli_pipeline import PANTAU, pantau

SPIDER: dict[SiteKey, str] = {
    "jambiekspres": "disway",
    "tribunjambi": "tribun",
    "antarajambi": "antara",
}
SYNDICATED = "22"  # the Kuala Tungkal case, reported by all three demo sites


def write_config(path: Path, sites: dict[SiteKey, DemoSite], crawl: str = "") -> Path:
    text = "[crawl]\ndownload_delay = 0\nautothrottle = false\ntimeout = 5\n" + crawl
    for key, site in sites.items():
        text += (
            f'[[sources]]\nname = "{key}"\nlabel = "{key}"\nspider = "{SPIDER[key]}"\n'
            f'url = "{site.base_url}"\n'
        )
        if SPIDER[key] == "disway":
            categories = sorted({a.category for a in site.articles})
            text += f"categories = {categories!r}\n".replace("'", '"')
    path.write_text(text, encoding="utf-8")
    return path


def is_syndicated(title: str) -> bool:
    return "22" in title and "PMI" in title and "Kuala Tungkal" in title


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[SiteKey, DemoSite]]:
    """The three demo sites crawled once into a fresh store; the sites keep running."""
    tmp = tmp_path_factory.mktemp("stories")
    sites: dict[SiteKey, DemoSite] = {
        key: DemoSite(key).start() for key in ("jambiekspres", "tribunjambi", "antarajambi")
    }
    config = write_config(tmp / "pantau.toml", sites, "refetch_days = 36500\n")
    result = pantau("crawl", data_dir=tmp / "data", config=config, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    yield tmp / "data", config, sites  # type: ignore[misc]
    for site in sites.values():
        site.stop()


def stories(data_dir: Path) -> dict[str, tuple[str, str]]:
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    rows = db.execute("SELECT title, id, story_id FROM articles").fetchall()
    return {title: (article_id, story_id) for title, article_id, story_id in rows}


def test_syndicated_reports_share_one_story_and_unrelated_ones_do_not(
    stored: tuple[Path, Path, dict[SiteKey, DemoSite]],
) -> None:
    data_dir, _, sites = stored
    by_title = stories(data_dir)
    assert len(by_title) == sum(len(site.articles) for site in sites.values())
    syndicated = {t: v for t, v in by_title.items() if is_syndicated(t)}
    assert len(syndicated) == 3
    story_ids = {story for _, story in syndicated.values()}
    assert len(story_ids) == 1
    # The story is named after one of its own articles.
    assert story_ids <= {article_id for article_id, _ in syndicated.values()}
    for title, (article_id, story) in by_title.items():
        if title not in syndicated:
            assert story == article_id, f"{title} was put in a story it is not part of"
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    assert db.execute("SELECT count(*) FROM article_signatures").fetchone()[0] == len(by_title)


@dataclass
class Changes:
    """What changed on the demo sites between the first crawl and the second."""

    original: DemoArticle  # a syndicated article, stored by the first crawl
    copy: DemoArticle  # a later near-copy of it, new in the second crawl
    corrected: DemoArticle  # an article whose text was corrected after the first crawl
    old_last: str
    result: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def recrawled(stored: tuple[Path, Path, dict[SiteKey, DemoSite]]) -> Changes:
    """The sites change, and a new `pantau` process (a restart) crawls them again."""
    data_dir, config, sites = stored
    antara = sites["antarajambi"]
    original = next(a for a in antara.articles if is_syndicated(a.title))
    copy = replace(
        original,
        id=original.id + 1000,
        slug=original.slug + "-lengkap",
        title=original.title + " (Lengkap)",
        paragraphs=[*original.paragraphs[:-1], "Kasus ini terus dikembangkan penyidik."],
    )
    antara.articles.insert(0, copy)
    antara._by_path["/" + copy.path] = copy
    antara._position = {a.path: n for n, a in enumerate(antara.articles)}
    corrected = next(a for a in sites["tribunjambi"].articles if not is_syndicated(a.title))
    old_last = corrected.paragraphs[-1]
    corrected.paragraphs = [*corrected.paragraphs[:-1], old_last + " (Ralat: usia 9 tahun.)"]
    result = pantau("crawl", data_dir=data_dir, config=config, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return Changes(original, copy, corrected, old_last, result)


def test_a_later_copy_joins_the_stored_story_after_a_restart(
    stored: tuple[Path, Path, dict[SiteKey, DemoSite]], recrawled: Changes
) -> None:
    by_title = stories(stored[0])
    story = by_title[recrawled.original.title][1]
    assert by_title[recrawled.copy.title][1] == story
    assert by_title[recrawled.copy.title][0] != story


def test_an_updated_recent_article_is_stored_as_a_new_revision(
    stored: tuple[Path, Path, dict[SiteKey, DemoSite]], recrawled: Changes
) -> None:
    db = sqlite3.connect(stored[0] / "pantau.sqlite")
    title = recrawled.corrected.title
    article_id, revision, text = db.execute(
        "SELECT id, revision, text FROM articles WHERE title = ?", (title,)
    ).fetchone()
    assert revision == 2 and "Ralat" in text
    (old_text,) = db.execute(
        "SELECT text FROM article_revisions WHERE article_id = ? AND revision = 1", (article_id,)
    ).fetchone()
    assert old_text.endswith(recrawled.old_last) and "Ralat" not in old_text
    # Every article was re-fetched (all are within refetch_days), the others unchanged:
    # no other revisions, nothing stored twice.
    assert db.execute("SELECT count(*) FROM article_revisions").fetchone()[0] == 1
    assert db.execute("SELECT count(*) FROM articles WHERE title = ?", (title,)).fetchone()[0] == 1
    assert "upd" in recrawled.result.stdout


def test_since_walks_listings_to_the_end_and_reads_each_daily_index(tmp_path: Path) -> None:
    sites: dict[SiteKey, DemoSite] = {
        "jambiekspres": DemoSite("jambiekspres", listing_size=2).start(),
        "tribunjambi": DemoSite("tribunjambi", listing_size=2).start(),
    }
    # No feeds: only listings and daily indexes lead to articles.
    for path in ("/rss", "/sitemap_news.xml"):
        for site in sites.values():
            site.faults[path] = Fault(status=404)
    config = write_config(tmp_path / "pantau.toml", sites, "max_listing_pages = 1\n")
    data_dir = tmp_path / "data"
    try:
        first = pantau("crawl", data_dir=data_dir, config=config)
        db = sqlite3.connect(data_dir / "pantau.sqlite")
        shallow = db.execute(
            "SELECT count(*) FROM articles WHERE source = 'jambiekspres'"
        ).fetchone()[0]
        oldest = min(a.published.date() for a in sites["tribunjambi"].articles)
        since = pantau("crawl", "--since", oldest.isoformat(), data_dir=data_dir, config=config)
    finally:
        for site in sites.values():
            site.stop()
    assert first.returncode == 0 and since.returncode == 0, since.stderr[-3000:]
    assert shallow < len(sites["jambiekspres"].articles)
    for key, site in sites.items():
        count = db.execute("SELECT count(*) FROM articles WHERE source = ?", (key,)).fetchone()[0]
        assert count == len(site.articles), key
    days = {
        request.split("date=")[1].split("&")[0]
        for request in sites["tribunjambi"].requests
        if request.startswith("/index-news")
    }
    for article in sites["tribunjambi"].articles:
        day = article.published.date()
        assert f"{day.year}-{day.month}-{day.day}" in days
    assert (date.today() - oldest).days + 1 <= len(days) + 1


def test_a_crawl_killed_mid_way_and_rerun_stores_each_article_once(tmp_path: Path) -> None:
    site = DemoSite("jambiekspres").start()
    site.article_delay = 0.3
    config = write_config(
        tmp_path / "pantau.toml", {"jambiekspres": site}, "concurrent_per_domain = 1\n"
    )
    data_dir = tmp_path / "data"
    env = {**os.environ, "PANTAU_DATA_DIR": str(data_dir), "PANTAU_CONFIG": str(config)}
    try:
        process = subprocess.Popen(
            [*PANTAU, "crawl"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        count = 0
        while time.monotonic() < deadline and count < 3:
            time.sleep(0.05)
            try:
                count = (
                    sqlite3.connect(data_dir / "pantau.sqlite")
                    .execute("SELECT count(*) FROM articles")
                    .fetchone()[0]
                )
            except sqlite3.OperationalError:
                count = 0
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        db = sqlite3.connect(data_dir / "pantau.sqlite")
        interrupted = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        assert 3 <= interrupted < len(site.articles)
        site.article_delay = 0
        rerun = pantau("crawl", data_dir=data_dir, config=config)
    finally:
        site.stop()
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    total, urls, titles, with_story = db.execute(
        "SELECT count(*), count(DISTINCT canonical_url), count(DISTINCT title), count(story_id)"
        " FROM articles"
    ).fetchone()
    assert total == urls == titles == with_story == len(site.articles)
    assert db.execute("SELECT count(*) FROM article_signatures").fetchone()[0] == total
