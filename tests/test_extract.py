"""Saved-page tests: each layout's extractor on a real page and on demo pages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawlers.demo_site.server import DemoSite, SiteKey
from crawlers.extract import antara, disway, tribun
from crawlers.extract.common import NOISE_PARAGRAPH, LayoutMismatch, canonicalize_url
from crawlers.extract.dates import parse_date

WIB = timezone(timedelta(hours=7))


def test_real_jambi_ekspres_fragment(data_dir: Path) -> None:
    html = (data_dir / "sites" / "jambiekspres-article-fragment.html").read_text("utf-8")
    url = (
        "https://jambiekspres.disway.id/ekonomi/read/715566/"
        "update-harga-emas-pegadaian-minggu-17-mei-2026-hari-ini-kompak-turun-lagi"
    )
    page = disway.extract(html, url)
    assert (
        page.title == "Update Harga Emas Pegadaian Minggu 17 Mei 2026, Hari Ini Kompak Turun Lagi"
    )
    assert page.published == datetime(2026, 5, 17, 6, 57, tzinfo=WIB)
    assert page.author == "Setya Novanto"
    assert page.editor == "Setya Novanto"
    assert page.paragraphs[0] == (
        "JAKARTA, JAMBIEKSPRES.CO.ID- Kabar kurang menggembirakan bagi para investor logam mulia."
    )
    assert page.paragraphs[1] == (
        "Harga emas di Pegadaian terpantau kompak mengalami penurunan yang cukup signifikan "
        "pada perdagangan hari Minggu (17/5)."
    )
    text = "\n".join(page.paragraphs)
    for noise in ("BACA JUGA", "Google News", "Ilustrasi Emas", "Sumber:"):
        assert noise not in text
    # The words of a link stay in their sentence (news links names and places this way;
    # a text without them breaks the sentence around a victim's name, as click-id's does).
    assert "rincian lengkap harga emas Pegadaian hari ini berdasarkan ukuran:" in text
    assert page.next_pages == [f"{url}/15", f"{url}/30", f"{url}/45"]


@pytest.fixture(scope="module")
def sites() -> dict[SiteKey, DemoSite]:
    started = {key: DemoSite(key).start() for key in ("jambiekspres", "tribunjambi", "antarajambi")}
    yield started  # type: ignore[misc]
    for site in started.values():
        site.stop()


EXTRACTORS = {
    "jambiekspres": disway.extract,
    "tribunjambi": tribun.extract,
    "antarajambi": antara.extract,
}


@pytest.mark.parametrize("key", ["jambiekspres", "tribunjambi", "antarajambi"])
def test_demo_pages_extract_exactly(sites: dict[SiteKey, DemoSite], key: SiteKey) -> None:
    site = sites[key]
    for article in site.articles:
        html = site.respond("/" + article.path + ("?page=all" if key == "tribunjambi" else ""))
        assert html.status == 200
        page = EXTRACTORS[key](html.body.decode(), article.url)
        assert page.title == article.title
        assert page.published == article.published
        assert page.author == article.author
        assert page.editor == article.editor
        assert page.canonical_url == article.url
        first_page = article.paragraphs if key != "jambiekspres" else article.page_paragraphs(1)
        assert page.paragraphs[1:] == first_page[1:]
        assert page.paragraphs[0].endswith(first_page[0])
        assert article.city.upper() in page.paragraphs[0][:40].upper()  # the dateline is kept
        if key == "jambiekspres":
            assert page.next_pages == [
                article.page_url(n) for n in range(2, article.page_count + 1)
            ]


def test_a_changed_layout_is_reported_not_guessed() -> None:
    with pytest.raises(LayoutMismatch):
        disway.extract("<html><body><h1>Judul</h1><p>teks</p></body></html>", "https://x/read/1/a")


@pytest.mark.parametrize(
    ("paragraph", "noise"),
    [
        ("BACA JUGA: Harga Emas Turun Lagi", True),
        ("Simak juga Video 'Pria di Gianyar Aniaya 2 Anak Kandungnya':", True),
        ('Tonton juga video "Polisi Gagalkan Pengiriman PMI Ilegal" di sini:', True),
        ("Lihat juga Video: KPK OTT Wamenaker", True),
        ("Polisi juga menyimak rekaman CCTV di sekitar rumah korban.", False),
    ],
)
def test_teasers_for_other_articles_are_not_article_text(paragraph: str, noise: bool) -> None:
    assert bool(NOISE_PARAGRAPH.match(paragraph)) is noise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Minggu 17-05-2026,06:57 WIB", datetime(2026, 5, 17, 6, 57, tzinfo=WIB)),
        ("Minggu, 17-05-2026, 06:57 WIB", datetime(2026, 5, 17, 6, 57, tzinfo=WIB)),
        ("2026-02-23 17:18:45", datetime(2026, 2, 23, 17, 18, 45, tzinfo=WIB)),
        ("2026-11-18T09:15:00+07:00", datetime(2026, 11, 18, 9, 15, tzinfo=WIB)),
        ("Rabu, 18 November 2026 09:15 WIB", datetime(2026, 11, 18, 9, 15, tzinfo=WIB)),
        ("Rabu, 04 Februari 2026 - 16:20:18 WIB", datetime(2026, 2, 4, 16, 20, 18, tzinfo=WIB)),
        ("Rabu, 1 April 2026 | 13:12 WIB", datetime(2026, 4, 1, 13, 12, tzinfo=WIB)),
        (
            "Senin, 16 Nop 2026 10:00 WITA",
            datetime(2026, 11, 16, 10, 0, tzinfo=timezone(timedelta(hours=8))),
        ),
        (
            "Kamis, 2 Okt 2026 21.00 WIT",
            datetime(2026, 10, 2, 21, 0, tzinfo=timezone(timedelta(hours=9))),
        ),
        ("Wed, 18 Nov 2026 09:15:00 +0700", datetime(2026, 11, 18, 9, 15, tzinfo=WIB)),
    ],
)
def test_every_known_date_format(text: str, expected: datetime) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text", ["", "21 Jam yang lalu", "Minggu", "31-02-2026,10:00 WIB", "kemarin sore", None]
)
def test_unknown_or_impossible_dates_are_none_never_now(text: str | None) -> None:
    assert parse_date(text) is None


def test_canonical_urls_fold_double_slashes_and_fragments() -> None:
    assert (
        canonicalize_url("HTTPS://JambiEkspres.disway.id//olahraga/read/715565/gamba#top")
        == "https://jambiekspres.disway.id/olahraga/read/715565/gamba"
    )
