"""`pantau crawl --spider … --url … --output FILE`: any site checked without configuration,
the articles written as JSONL in the contract's input format."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from crawlers.demo_site.server import DemoSite, SiteKey
from tests.test_cli_pipeline import pantau

CASES: list[tuple[str, SiteKey]] = [
    ("disway", "jambiekspres"),
    ("tribun", "tribunjambi"),
    ("antara", "antarajambi"),
    ("generic", "tribunjambi"),
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
        if spider != "generic":  # the site spiders stitch multi-page articles whole
            assert paragraphs[1:] == article.paragraphs[1:]
    # Nothing was written to the store.
    assert not (tmp_path / "data" / "pantau.sqlite").exists()
