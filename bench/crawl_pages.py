"""Benchmark pages: real Indonesian news texts (../shared/data/news/click-id) rendered into
the demo sites' layouts (Jambi Ekspres / Disway, Tribun Jambi, Antara Jambi) by the demo
site's own rendering code, so the extractors read the markup they read in production."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from crawlers.demo_site.server import SITE_KEYS, DemoArticle, SiteKey

REPO = Path(__file__).resolve().parent.parent
CLICK_ID = Path(os.environ.get("PANTAU_SHARED_DATA_DIR", REPO.parent / "shared" / "data")).joinpath(
    "news", "click-id"
)
# Outlets whose rows carry an Excel day number and "HH:MM WIB": exact dates to check.
FILES = ("kompas.csv", "tempo.csv", "sindonews.csv")
EXCEL_EPOCH = datetime(1899, 12, 30)
WIB = datetime.fromisoformat("2020-01-01T00:00:00+07:00").tzinfo
# The dataset joins paragraphs with "," after the closing full stop.
PARAGRAPH_BREAK = re.compile(r'(?<=[.!?"])\s*,+(?=["A-Z])')


def _date(day: str, time: str) -> datetime | None:
    match = re.match(r"(\d{1,2}):(\d{2})", time.strip())
    if not day.strip().isdigit() or not match:
        return None
    moment = EXCEL_EPOCH + timedelta(
        days=int(day), hours=int(match.group(1)), minutes=int(match.group(2))
    )
    return moment.replace(tzinfo=WIB)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80] or "berita"


def articles(limit: int, base: str = "http://127.0.0.1:8000") -> Iterator[DemoArticle]:
    """Up to `limit` click-id articles, spread round-robin over the three layouts."""
    csv.field_size_limit(10**8)
    made = 0
    for name in FILES:
        with (CLICK_ID / name).open(encoding="utf-8", errors="replace", newline="") as handle:
            for row in csv.DictReader(handle):
                published = _date(row["date"], row["time"])
                paragraphs = [
                    " ".join(p.split())
                    for p in PARAGRAPH_BREAK.split(row["content"].strip(" ,-"))
                    if len(p.split()) >= 5
                ]
                title = " ".join(row["title"].split())
                if published is None or len(paragraphs) < 2 or not title:
                    continue
                site: SiteKey = SITE_KEYS[made % len(SITE_KEYS)]
                yield DemoArticle(
                    site=site,
                    id=700000 + made,
                    slug=_slug(title),
                    category="kriminal",
                    title=title,
                    published=published,
                    author="Redaksi",
                    editor="Redaksi",
                    city="JAMBI",
                    paragraphs=paragraphs,
                    page_breaks=[],
                    tags=[],
                    gold={},
                    base=base,
                )
                made += 1
                if made >= limit:
                    return
