"""Reading the shared data's articles: one shape, and the publication date the article
contract asks for (ISO 8601) whatever each file writes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from nlp.annotated import SharedRef, iso_publication_date, shared_article
from nlp.tagger import RuleTagger
from pantau.models import ArticleIn


@pytest.mark.parametrize(
    ("written", "day_first", "iso"),
    [
        ("43718", True, "2019-09-10"),  # spreadsheet serial day
        ("16/09/2019", True, "2019-09-16"),  # kompas: day first
        ("10/21/2025 20:43", False, "2025-10-21"),  # detik: month first, with a time
        ("31 Juli 2019", True, "2019-07-31"),
        ("Oktober 19, 2019", True, "2019-10-19"),
        (" Oct 2, 2019 ", True, "2019-10-02"),
        ("10-Sep-19", True, "2019-09-10"),
        # Unreadable or impossible: no date rather than a wrong one.
        ("31/02/2019", True, None),
        ("kemarin", True, None),
        ("", True, None),
        (None, True, None),
    ],
)
def test_publication_dates_of_every_shared_format_become_iso(
    written: str | None, day_first: bool, iso: str | None
) -> None:
    assert iso_publication_date(written, day_first=day_first) == iso


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_a_shared_news_article_carries_its_publication_date(tmp_path: Path) -> None:
    """kompas wrote 12 September as the serial day of 9 December (day and month swapped
    by a spreadsheet): the date in the publisher's URL wins. detik writes month first."""
    click_id = "news/click-id/kompas.csv"
    _write_csv(
        tmp_path / click_id,
        [
            {
                "title": "Bocah Dianiaya Ayah Tiri",
                "source": "kompas",
                "date": "43808",  # 2019-12-09 as a serial day
                "time": "21:48 WIB",
                "category": "news",
                "sub-category": "regional",
                "content": "Seorang bocah dianiaya ayah tirinya, Senin (9/9).",
                "url": "https://regional.kompas.com/read/2019/09/12/21480011/bocah-dianiaya",
            }
        ],
    )
    detik = "news/detik-2025-aspects/data_berita.csv"
    _write_csv(
        tmp_path / detik,
        [
            {
                "id": "1",
                "judul": "Siswi Dicabuli Guru",
                "tautan": "https://news.detik.com/berita/d-1/siswi-dicabuli-guru",
                "tanggal": "10/21/2025 20:43",
                "isi_berita": "Seorang siswi dicabuli gurunya kemarin sore.",
            }
        ],
    )
    kompas_article = shared_article(tmp_path, SharedRef(file=click_id, row=0))
    detik_article = shared_article(tmp_path, SharedRef(file=detik, row=0))
    assert kompas_article.published == "2019-09-12"
    assert detik_article.published == "2025-10-21"

    # With it, the tagger resolves a day without a year and "kemarin" (yesterday).
    tagger = RuleTagger(model_dir=None, ner=None)
    for shared, day in ((kompas_article, "2019-09-09"), (detik_article, "2025-10-20")):
        article = ArticleIn(
            id="a", title=shared.title, text=shared.text, published=shared.published
        )
        tagged = tagger.tag(article)
        assert tagged.relevance == "incident"
        assert tagged.incident_date == day
