"""`pantau crawl --spider … --url … --output FILE`: any site checked without configuration,
the articles written as JSONL in the contract's input format. Each spider against the demo
site in its layout; the generic spider against a site in no known layout (beritajambi:
articles listed only in a sitemap that robots.txt names, multi-page articles paged `/2/`
with rel="next" and "Halaman 2" links). The generic extractor on the other layouts is
tested in test_crawl_units (and, as the fallback, in test_crawl_faults)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from crawlers.demo_site.server import GENERIC_SITEMAP, DemoSite, SiteKey
from tests.test_cli_pipeline import pantau

CASES: list[tuple[str, SiteKey]] = [
    ("disway", "jambiekspres"),
    ("tribun", "tribunjambi"),
    ("antara", "antarajambi"),
    ("generic", "beritajambi"),
]


@pytest.mark.parametrize(("spider", "key"), CASES)
def test_crawl_to_jsonl_in_the_contract_format(
    tmp_path: Path, shared: Path, spider: str, key: SiteKey
) -> None:
    validator = Draft202012Validator(
        json.loads((shared / "contracts" / "article.schema.json").read_text("utf-8"))
    )
    site = DemoSite(key).start()
    output = tmp_path / "articles.jsonl"
    # A local site: no politeness delay (the defaults, 1 s a page, made this test 3× slower).
    config = tmp_path / "pantau.toml"
    config.write_text("[crawl]\ndownload_delay = 0\nautothrottle = false\n", encoding="utf-8")
    try:
        result = pantau(
            "crawl",
            "--spider",
            spider,
            "--url",
            site.base_url + "/",
            "--output",
            str(output),
            data_dir=tmp_path / "data",
            config=config,
        )
    finally:
        site.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in output.read_text("utf-8").splitlines()]
    for record in records:
        validator.validate(record)
        for extra in ("url", "published", "source", "language", "author", "story_id"):
            assert record.get(extra), (extra, record)
    assert len({r["id"] for r in records}) == len(records)
    by_title = {r["title"]: r for r in records}
    assert set(by_title) == {a.title for a in site.articles}
    for article in site.articles:
        record = by_title[article.title]
        assert datetime.fromisoformat(record["published"]) == article.published
        assert record["author"] == article.author
        assert record["url"].startswith(site.base_url)
        paragraphs = record["text"].split("\n\n")
        assert article.paragraphs[0] in paragraphs[0]  # after the dateline
        # Multi-page articles stitched whole, pages in order.
        assert paragraphs[1:] == article.paragraphs[1:]
        # Tribun's articles are read whole from one page (`?page=all`).
        assert record["pages"] == (1 if spider == "tribun" else article.page_count)
        if key == "beritajambi":  # no dateline in this layout: the exact text
            assert record["text"] == "\n\n".join(article.paragraphs)
    if key == "beritajambi":
        assert any(a.page_count > 1 for a in site.articles)
        # Found through robots.txt's Sitemap: line; nothing at the usual feed addresses.
        assert GENERIC_SITEMAP in site.requests
    # Nothing was written to the store.
    assert not (tmp_path / "data" / "pantau.sqlite").exists()
