"""Politeness holds with delays off: a crawl never has more requests in flight to one site
than `crawl.concurrent_per_domain` (Scrapy's own downloader let a delay-less crawl send
all its queued requests to a site at once; see crawlers.downloader). The crawl is the
issue's "must show": `pantau crawl --source jambiekspres` against the mirror fills the
store, and prints and saves its report."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from crawlers.demo_site.server import DemoSite
from tests.test_cli_pipeline import pantau


def test_no_more_requests_in_flight_than_allowed_per_domain(tmp_path: Path) -> None:
    site = DemoSite("jambiekspres").start()
    # Slow article pages, so requests sent together are answered together.
    site.article_delay = 0.1
    categories = sorted({a.category for a in site.articles})
    config = tmp_path / "pantau.toml"
    config.write_text(
        "[crawl]\ndownload_delay = 0\nautothrottle = false\nconcurrent_per_domain = 2\n"
        f'[[sources]]\nname = "jambiekspres"\nlabel = "Jambi Ekspres"\nspider = "disway"\n'
        f'url = "{site.base_url}"\ncategories = {categories!r}\n'.replace("'", '"')
        # Not crawled: --source names the other one (nothing listens here).
        + '[[sources]]\nname = "tribunjambi"\nlabel = "Tribun Jambi"\nspider = "tribun"\n'
        'url = "http://127.0.0.1:9"\n',
        encoding="utf-8",
    )
    try:
        result = pantau(
            "crawl", "--source", "jambiekspres", data_dir=tmp_path / "data", config=config
        )
    finally:
        site.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    assert site.max_in_flight <= 2
    stored = sqlite3.connect(tmp_path / "data" / "pantau.sqlite")
    assert stored.execute("SELECT count(*) FROM articles").fetchone()[0] == len(site.articles)
    assert "Crawl report" in result.stdout and "jambiekspres" in result.stdout
    (report_file,) = (tmp_path / "data" / "reports").glob("crawl-*.json")
    (report,) = json.loads(report_file.read_text("utf-8"))
    assert report["source"] == "jambiekspres" and report["new"] == len(site.articles)
