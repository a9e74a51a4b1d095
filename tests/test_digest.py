"""The weekly digest (flows/digest.py): what recipients get, that no victim's name reaches
any output, and that delivery is retried, reported and done once per week.

The store is built directly (no crawl) with cases whose numbers are known by hand; a real
SMTP server (aiosmtpd) on 127.0.0.1 receives the messages.
"""

from __future__ import annotations

import email
import io
import json
import re
import shutil
import socket
import sqlite3
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from PIL import Image, ImageStat
from pydantic import SecretStr
from typer.testing import CliRunner

from flows.digest import DigestResult, run_digest
from flows.digest_model import Week, extractive_summary, sentences
from index.elastic_server import make_certificates
from pantau.cli import app
from pantau.config import DigestConfig, Settings, load_settings
from pantau.models import Entity, ExtractedArticle, ModelInfo, Region, TaggedArticle, Victims
from pantau.store import ArticleStore
from tests.conftest import REPO_ROOT
from tests.helpers import pantau
from web.masking import MASK

ARTIFACTS = REPO_ROOT / "build" / "test-artifacts" / "digest"
WEEK = Week.parse("2026-W47")  # Monday 16 – Sunday 22 November 2026
NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # Monday 07:00 WIB

# Names that must never leave: victims, and every person of a case about children.
CHILD_VICTIM = "Putri Maharani"
CHILD_CASE_PERPETRATOR = "Bambang Sutejo"
ADULT_VICTIM = "Sri Wahyuni"
OTHER_CHILD = "Nadia Kirana"
MASKED_NAMES = [CHILD_VICTIM, CHILD_CASE_PERPETRATOR, ADULT_VICTIM, OTHER_CHILD]
# An adult case's perpetrator is reported by name, as the news does.
ADULT_CASE_PERPETRATOR = "Joko Santoso"

TITLE_A1 = "Remaja 15 Tahun Dijual Lewat Aplikasi di Kota Jambi, Mucikari Ditangkap"
TITLE_A2 = "Polresta Jambi Bongkar Jual Beli Remaja Lewat Aplikasi Kencan"
TITLE_B = "Ibu Rumah Tangga di Muaro Jambi Dianiaya Suami dengan Kayu"
TITLE_C_FOLLOW_UP = "Sidang Perdana Kasus Pencabulan Siswi di Tebo Digelar"
TITLE_OUT_OF_SCOPE = "Polda Sumut Ungkap Pengiriman PMI Ilegal dari Medan"
TITLE_AGGREGATE = "DPMPPA Kota Jambi Catat 149 Kasus Kekerasan hingga Oktober"


# -- the store ---------------------------------------------------------------------------


@dataclass
class Case:
    key: str
    title: str
    text: str
    published: str  # ISO 8601 with offset
    relevance: str = "incident"
    forms: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    victims: int | None = None
    children: int | None = None
    place: str | None = "15.71"
    persons: dict[str, str | None] = field(default_factory=dict)  # name → role
    story: str | None = None
    source: str = "Jambi Ekspres"
    slug: str | None = None


PLACES = {
    "15.71": ("Kota Jambi", "kabupaten_kota"),
    "15.05": ("Kabupaten Muaro Jambi", "kabupaten_kota"),
    "15.09": ("Kabupaten Tebo", "kabupaten_kota"),
    "15.08": ("Kabupaten Bungo", "kabupaten_kota"),
    "12.71": ("Kota Medan", "kabupaten_kota"),
}

CASES = [
    # A: a new TPPO case about a child, reported by two outlets (one story). The second
    # outlet's tag misses the victim's name, and its address spells it.
    Case(
        "a1",
        TITLE_A1,
        f"JAMBI - Seorang remaja perempuan bernama {CHILD_VICTIM} (15) dijual melalui aplikasi "
        "kencan daring di Kota Jambi. Polisi menangkap mucikari berinisial "
        f"{CHILD_CASE_PERPETRATOR} (34) di sebuah hotel di Kecamatan Jelutung pada Senin. "
        "Dua korban lain yang juga masih di bawah umur diselamatkan. "
        f'"Kami masih mendalami jaringan ini," kata Kapolresta. {CHILD_VICTIM} kini '
        "didampingi UPTD PPA.",
        "2026-11-17T09:00:00+07:00",
        forms=["tppo", "eksploitasi"],
        groups=["anak", "perempuan"],
        victims=3,
        children=2,
        persons={CHILD_VICTIM: "victim", CHILD_CASE_PERPETRATOR: "perpetrator"},
        story="story-a",
    ),
    Case(
        "a2",
        TITLE_A2,
        f"Polresta Jambi membongkar praktik jual beli remaja. Korban {CHILD_VICTIM} ditawarkan "
        f"oleh {CHILD_CASE_PERPETRATOR} kepada pria hidung belang melalui aplikasi. Tiga korban "
        "diselamatkan dan tersangka ditahan.",
        "2026-11-17T15:00:00+07:00",
        forms=["tppo"],
        groups=["anak"],
        victims=3,
        persons={},
        story="story-a",
        source="Tribun Jambi",
        slug="putri-maharani-dijual-lewat-aplikasi",
    ),
    # B: an adult woman (victim named, role victim), first published 00:30 WIB on Monday
    # (still Sunday in UTC): it belongs to this week.
    Case(
        "b",
        TITLE_B,
        f"MUARO JAMBI - Seorang ibu rumah tangga, {ADULT_VICTIM} (32), dianiaya suaminya "
        f"{ADULT_CASE_PERPETRATOR} dengan kayu di Kecamatan Sekernan. Korban mengalami luka di "
        "kepala dan dirawat di rumah sakit. Pelaku ditangkap polisi tidak lama kemudian.",
        "2026-11-15T17:30:00+00:00",
        forms=["kekerasan_fisik"],
        groups=["perempuan"],
        victims=1,
        place="15.05",
        persons={ADULT_VICTIM: "victim", ADULT_CASE_PERPETRATOR: "perpetrator"},
    ),
    # C: a child case first reported in the week before, still in the news this week.
    Case(
        "c1",
        "Siswi SMP di Tebo Dicabuli Tetangga",
        f"TEBO - Siswi SMP bernama {OTHER_CHILD} (13) dicabuli tetangganya di Kecamatan Rimbo "
        "Bujang. Pelaku ditangkap setelah orang tua korban melapor ke polisi.",
        "2026-11-14T10:00:00+07:00",
        forms=["kekerasan_seksual"],
        groups=["anak"],
        victims=1,
        children=1,
        place="15.09",
        persons={OTHER_CHILD: None},
        story="story-c",
    ),
    Case(
        "c2",
        TITLE_C_FOLLOW_UP,
        f"Sidang perdana kasus pencabulan {OTHER_CHILD} digelar di Pengadilan Negeri Tebo. "
        "Jaksa mendakwa pelaku dengan Undang-Undang Perlindungan Anak. Korban didampingi "
        "petugas UPTD PPA selama persidangan.",
        "2026-11-18T11:00:00+07:00",
        forms=["kekerasan_seksual"],
        groups=["anak"],
        victims=1,
        children=1,
        place="15.09",
        persons={OTHER_CHILD: None},
        story="story-c",
        source="Antara Jambi",
    ),
    # I: tagged "none", corrected by an analyst to an incident of psychological violence.
    Case(
        "i",
        "Warga Kota Jambi Diteror Lewat Pesan Singkat",
        "Seorang perempuan di Kota Jambi melapor ke polisi karena terus diteror dan diancam "
        "melalui pesan singkat oleh mantan kekasihnya selama sebulan terakhir.",
        "2026-11-20T08:00:00+07:00",
        relevance="none",
    ),
    # Outside the scope (Sumatera Utara), and an incident with no recognised place.
    Case(
        "d",
        TITLE_OUT_OF_SCOPE,
        "MEDAN - Polda Sumatera Utara menggagalkan pengiriman 12 PMI ilegal ke Malaysia.",
        "2026-11-18T10:00:00+07:00",
        forms=["tppo"],
        victims=12,
        place="12.71",
    ),
    Case(
        "e",
        "Bayi Ditemukan di Teras Rumah Warga",
        "Seorang bayi perempuan ditemukan di teras rumah warga. Polisi mencari orang tuanya.",
        "2026-11-19T07:00:00+07:00",
        forms=["penelantaran"],
        groups=["anak"],
        place=None,
    ),
    # Aggregate news, and an article that is not about these crimes at all.
    Case(
        "agg",
        TITLE_AGGREGATE,
        "DPMPPA Kota Jambi mencatat 149 kasus kekerasan terhadap perempuan dan anak.",
        "2026-11-19T10:00:00+07:00",
        relevance="aggregate",
        forms=["kekerasan_seksual"],
    ),
    Case(
        "none",
        "Harga Cabai di Pasar Angso Duo Turun",
        "Harga cabai merah di Pasar Angso Duo turun.",
        "2026-11-18T09:00:00+07:00",
        relevance="none",
    ),
    # The weeks before (the trend and the mean of the previous 4 weeks).
    Case(
        "f",
        "Anak Dipaksa Mengemis di Simpang Kota Jambi",
        "Seorang anak dipaksa mengemis oleh pamannya di simpang lampu merah Kota Jambi.",
        "2026-11-12T10:00:00+07:00",
        forms=["eksploitasi"],
        groups=["anak"],
        victims=1,
    ),
    Case(
        "g",
        "Lima Warga Bungo Jadi Korban Perdagangan Orang",
        "Lima warga Kabupaten Bungo menjadi korban perdagangan orang di Kamboja.",
        "2026-11-04T10:00:00+07:00",
        forms=["tppo"],
        groups=["perempuan"],
        victims=5,
        place="15.08",
    ),
    Case(
        "h",
        "Perempuan di Kota Jambi Diintimidasi Atasan",
        "Seorang pegawai perempuan di Kota Jambi diintimidasi atasannya di tempat kerja.",
        "2026-10-21T10:00:00+07:00",
        forms=["kekerasan_psikis"],
        groups=["perempuan"],
        victims=1,
    ),
]
# Hand counts for 2026-W47 in Jambi province (15): A, B, C (follow-up) and I (corrected).
EXPECTED = {
    "incidents": (4, 1.0),  # previous 4 weeks: W43 h, W44 -, W45 g, W46 c + f
    "victims": (6, 2.0),  # 3 + 1 + 1 + 1;  1, 0, 5, 2
    "children": (3, 0.5),  # 2 + 0 + 1 + 0;  0, 0, 0, 2
}


def _entities(case: Case) -> list[Entity]:
    found = []
    for name, role in case.persons.items():
        for fld, content in (("title", case.title), ("text", case.text)):
            start = content.find(name)
            if start >= 0:
                found.append(
                    Entity(
                        field=fld,
                        start=start,
                        end=start + len(name),
                        label="PERSON",
                        text=name,
                        role=role,
                    )
                )
    return found


def build_store(data_dir: Path) -> dict[str, str]:
    """The cases above in a fresh store; returns case key → article id."""
    ids = {}
    with ArticleStore(data_dir / "pantau.sqlite") as store:
        for case in CASES:
            slug = case.slug or re.sub(r"\W+", "-", case.title.lower()).strip("-")
            url = f"https://{case.source.lower().replace(' ', '')}.example/{case.key}/{slug}"
            article = ExtractedArticle(
                url=url,
                canonical_url=url,
                source=case.source,
                title=case.title,
                text=case.text,
                published=datetime.fromisoformat(case.published),
            )
            store.upsert_article(article)
            location = None
            if case.place:
                name, level = PLACES[case.place]
                location = Region(name=name, code=case.place, level=level, province_code="15")
            tagged = TaggedArticle(
                id=article.id,
                relevance=case.relevance,
                categories=case.forms,
                victim_groups=case.groups,
                victims=Victims(count=case.victims, children=case.children),
                primary_location=location,
                entities=_entities(case),
                model=ModelInfo(name="test", version="1"),
            )
            store.save_tag(tagged, article.content_hash)
            store.save_story(article.id, case.story or article.id, b"sig", [])
            ids[case.key] = article.id
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    db.execute(
        "INSERT INTO label_corrections (article_id, username, created_at, changes) "
        "VALUES (?, 'analis', '2026-11-21T00:00:00', ?)",
        (ids["i"], json.dumps({"relevance": "incident", "categories": ["kekerasan_psikis"]})),
    )
    db.commit()
    db.close()
    return ids


# -- a real SMTP server ------------------------------------------------------------------


class Inbox:
    """An aiosmtpd handler: answers 451 to the first `failures` messages (-1: all), then
    accepts and keeps them."""

    def __init__(self, failures: int = 0, code: str = "451 4.3.0 try again later") -> None:
        self.failures = failures
        self.code = code
        self.tries = 0
        self.received: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        if self.failures < 0 or self.tries <= self.failures:
            return self.code
        self.received.append(bytes(envelope.original_content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def settings_for(data_dir: Path, port: int | None = None, **digest: Any) -> Settings:
    defaults: dict[str, Any] = {
        "smtp_host": "127.0.0.1" if port else None,
        "smtp_port": port or 587,
        "starttls": False,  # aiosmtpd speaks plain SMTP here unless a test asks for TLS
        "sender": "pantau@dpmppa.example",
        "recipients": ["gugus-tugas@jambikota.example", "dpmppa@jambikota.example"] if port else [],
        "retry_delay": 0.01,
    }
    config = DigestConfig(**{**defaults, **digest})
    return load_settings(
        {"data_dir": data_dir, "digest": config.model_dump()}, path=Path("/dev/null")
    )


# -- the digest that was sent ------------------------------------------------------------


@dataclass
class Sent:
    result: DigestResult
    message: EmailMessage
    raw: bytes
    envelope: tuple[str, list[str]]
    data_dir: Path
    ids: dict[str, str]
    second: DigestResult  # the same week run again
    received_after_rerun: int


@pytest.fixture(scope="module")
def sent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sent]:
    data_dir = tmp_path_factory.mktemp("digest") / "data"
    data_dir.mkdir()
    ids = build_store(data_dir)
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = settings_for(data_dir, port)
        result = run_digest(settings, WEEK, send=None, now=NOW)
        second = run_digest(settings, WEEK, send=True, now=NOW)
        received_after_rerun = len(handler.received)
    finally:
        controller.stop()
    raw = handler.received[0]
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    yield Sent(
        result, message, raw, handler.envelopes[0], data_dir, ids, second, received_after_rerun
    )


def _parts(message: EmailMessage, content_type: str) -> list[EmailMessage]:
    return [part for part in message.walk() if part.get_content_type() == content_type]


def _output(sent: Sent, suffix: str) -> Path:
    (path,) = [p for p in sent.result.files if p.suffix == suffix]
    return path


def pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


# -- tests -------------------------------------------------------------------------------


def test_the_digest_is_delivered_by_smtp_with_subject_numbers_and_charts(sent: Sent) -> None:
    message = sent.message
    assert sent.result.status == "ok" and sent.result.delivery.status == "sent"
    assert sent.envelope == (
        "pantau@dpmppa.example",
        ["gugus-tugas@jambikota.example", "dpmppa@jambikota.example"],
    )
    assert message["Subject"] == (
        "Pantau: ringkasan mingguan 2026-W47 (16 Nov – 22 Nov 2026), Provinsi Jambi: 4 insiden"
    )
    # The text part: the headline numbers with their change against the 4 weeks before.
    (text_part,) = _parts(message, "text/plain")
    text = text_part.get_content()
    assert re.search(r"Insiden:\s+4 \(\+3 dari rata-rata 1\)", text), text
    assert re.search(r"Korban dilaporkan:\s+6 \(\+4 dari rata-rata 2\)", text)
    assert re.search(r"Korban anak:\s+3 \(\+2,5 dari rata-rata 0,5\)", text)
    assert "Kota Jambi: 2" in text and "Kabupaten Muaro Jambi: 1" in text
    # The HTML part shows each inline image by its Content-ID; the images are charts.
    (html_part,) = _parts(message, "text/html")
    html = html_part.get_content()
    images = _parts(message, "image/png")
    assert len(images) == 2
    for image in images:
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html
        picture = Image.open(io.BytesIO(image.get_content()))
        assert picture.width > 300 and ImageStat.Stat(picture.convert("L")).stddev[0] > 5
    # A plain client shows the text part; the HTML also says the numbers without images.
    assert message.get_body(("plain",)) is text_part
    assert "Insiden" in html and "(+3 dari rata-rata 1)" in html
    (pdf_part,) = _parts(message, "application/pdf")
    assert pdf_part.get_filename() == "pantau-digest-2026-W47-15.pdf"


def test_cases_appear_once_per_story_tppo_first_with_every_source(sent: Sent) -> None:
    content = json.loads(_output(sent, ".json").read_text("utf-8"))
    assert content["subject"] == sent.message["Subject"] and content["empty"] is False
    assert [s["title"] for s in content["tppo"]] == [TITLE_A1]
    story = content["tppo"][0]
    assert [link["source"] for link in story["sources"]] == ["Jambi Ekspres", "Tribun Jambi"]
    assert story["place"] == "Kota Jambi" and story["forms"] == ["tppo", "eksploitasi"]
    assert (story["victims"], story["children"], story["new"]) == (3, 2, True)
    # The second outlet's address spells the victim's name: its link is left out.
    assert story["sources"][1]["url"] is None
    assert 2 <= len(sentences(story["summary"])) <= 3
    others = {s["title"]: s for s in content["other"]}
    # New cases first; the follow-up of last week's case after them, with its first day.
    assert list(others)[-1] == "Siswi SMP di Tebo Dicabuli Tetangga"
    follow_up = others["Siswi SMP di Tebo Dicabuli Tetangga"]
    assert follow_up["new"] is False and follow_up["first_reported"] == "2026-11-14"
    assert len(follow_up["sources"]) == 2
    assert TITLE_B in others and "Warga Kota Jambi Diteror Lewat Pesan Singkat" in others
    assert [a["title"] for a in content["aggregate"]] == [TITLE_AGGREGATE]
    assert content["unplaced"] == 1
    assert [(r["name"], r["count"]) for r in content["regions"]] == [
        ("Kota Jambi", 2),
        ("Kabupaten Muaro Jambi", 1),
        ("Kabupaten Tebo", 1),
    ]
    assert [w["incidents"] for w in content["weekly"][-5:]] == [1, 0, 1, 2, 4]
    html = _output(sent, ".html").read_text("utf-8")
    assert html.index(TITLE_A1) < html.index(TITLE_B) < html.index(TITLE_AGGREGATE)
    assert html.count(TITLE_A1) == 1  # one case, however many outlets reported it
    assert story["sources"][1]["title"] == TITLE_A2
    for output in (html, _output(sent, ".txt").read_text("utf-8"), json.dumps(content)):
        assert TITLE_OUT_OF_SCOPE not in output
        assert "Harga Cabai" not in output


def message_text(raw: bytes, scratch: Path) -> str:
    """Everything a recipient can read in a message: the raw bytes, every decoded text
    part, and the text of the attached PDF."""
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    texts = [raw.decode("utf-8", "replace")]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            texts.append(part.get_content())
        elif part.get_content_type() == "application/pdf":
            scratch.write_bytes(part.get_content())
            texts.append(pdf_text(scratch))
    return "\n".join(texts)


def test_no_victim_name_reaches_any_output(sent: Sent) -> None:
    scratch = sent.data_dir / "attached.pdf"
    outputs = {
        "html": _output(sent, ".html").read_text("utf-8"),
        "text": _output(sent, ".txt").read_text("utf-8"),
        "json": _output(sent, ".json").read_text("utf-8"),
        "pdf": pdf_text(_output(sent, ".pdf")),
        "eml": message_text(_output(sent, ".eml").read_bytes(), scratch),
        "smtp": message_text(sent.raw, scratch),
    }
    for where, content in outputs.items():
        # Text and PDF lines wrap: a name split over two lines must not slip through.
        content = " ".join(content.split())
        for name in MASKED_NAMES:
            assert name not in content, f"{name} in the {where} output"
            assert name.lower().replace(" ", "-") not in content.lower(), (name, where)
        # Masked, not dropped: the sentences are there, and named people of adult cases too.
        assert MASK in content and ADULT_CASE_PERPETRATOR in content, where


def test_a_rerun_does_not_send_again(sent: Sent) -> None:
    assert sent.second.delivery.status == "already_sent"
    assert sent.received_after_rerun == 1
    with ArticleStore(sent.data_dir / "pantau.sqlite") as store:
        runs = [r for r in store.last_runs(10) if r["kind"] == "digest"]
        record = store.digest_delivery("2026-W47", "15")
    assert [r["status"] for r in runs] == ["ok", "ok"]
    assert record is not None and record["status"] == "sent" and record["attempts"] == 1


def test_pdf_pages_are_not_blank(sent: Sent) -> None:
    pdf = _output(sent, ".pdf")
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    shutil.copy2(pdf, ARTIFACTS / pdf.name)
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(ARTIFACTS / "page")], check=True)
    pages = sorted(ARTIFACTS.glob("page-*.png"))
    assert pages
    for page in pages:
        picture = Image.open(page).convert("L")
        # Blank would be all white: ink covers a part of every page.
        inked = sum(picture.histogram()[:200])
        assert inked > 0.01 * picture.width * picture.height, page
    text = pdf_text(pdf)
    assert "Ringkasan mingguan 2026-W47" in text and TITLE_A1.split(",")[0] in text


def test_an_empty_week_gives_a_short_digest_not_an_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    build_store(data_dir)
    to_dir = tmp_path / "out"
    result = run_digest(
        settings_for(data_dir), Week.parse("2026-W30"), to_dir=to_dir, send=None, now=NOW
    )
    assert result.status == "ok" and result.incidents == 0
    assert result.delivery.status == "not_sent"
    assert sorted(p.suffix for p in to_dir.iterdir()) == [".eml", ".html", ".json", ".pdf", ".txt"]
    text = (to_dir / "pantau-digest-2026-W30-15.txt").read_text("utf-8")
    assert "Tidak ada insiden yang dilaporkan di Provinsi Jambi" in text
    content = json.loads((to_dir / "pantau-digest-2026-W30-15.json").read_text("utf-8"))
    assert content["headline"]["incidents"]["current"] == 0
    assert content["empty"] is True and content["subject"].endswith("tidak ada insiden")
    assert content["tppo"] == content["other"] == content["aggregate"] == []
    assert "Tidak ada insiden yang dilaporkan" in pdf_text(to_dir / "pantau-digest-2026-W30-15.pdf")


def test_transient_smtp_failures_are_retried_with_backoff(
    tmp_path: Path, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    handler.failures = 2
    data_dir = tmp_path / "data"
    build_store(data_dir)
    waits: list[float] = []
    result = run_digest(
        settings_for(data_dir, port, retry_delay=5.0), WEEK, send=True, now=NOW, sleep=waits.append
    )
    assert result.delivery.status == "sent" and result.delivery.attempts == 3
    assert waits == [5.0, 10.0]
    assert len(handler.received) == 1 and handler.tries == 3
    assert [e.split(":")[0] for e in result.delivery.errors] == ["attempt 1", "attempt 2"]


def test_a_failed_delivery_is_reported_and_a_rerun_sends_once(
    tmp_path: Path, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    handler.failures = -1
    data_dir = tmp_path / "data"
    build_store(data_dir)
    settings = settings_for(data_dir, port, send_attempts=3)
    failed = run_digest(settings, WEEK, send=True, now=NOW, sleep=lambda _: None)
    assert failed.status == "failed" and failed.delivery.attempts == 3
    assert handler.tries == 3 and not handler.received
    with ArticleStore(data_dir / "pantau.sqlite") as store:
        (run,) = store.last_runs(1)
        record = store.digest_delivery("2026-W47", "15")
    assert run["kind"] == "digest" and run["status"] == "failed"
    assert "451" in run["summary"]["error"]  # type: ignore[index]
    assert record is not None and record["status"] == "failed"
    # The server is fixed: the next run sends, the one after does not.
    handler.failures = 0
    resent = run_digest(settings, WEEK, send=True, now=NOW, sleep=lambda _: None)
    again = run_digest(settings, WEEK, send=True, now=NOW, sleep=lambda _: None)
    assert (resent.delivery.status, again.delivery.status) == ("sent", "already_sent")
    assert len(handler.received) == 1
    # --force sends it again.
    forced = run_digest(settings, WEEK, send=True, force=True, now=NOW)
    assert forced.delivery.status == "sent" and len(handler.received) == 2


def test_a_permanent_refusal_is_not_retried(tmp_path: Path, inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    handler.failures, handler.code = -1, "554 5.7.1 rejected"
    data_dir = tmp_path / "data"
    build_store(data_dir)
    result = run_digest(settings_for(data_dir, port), WEEK, send=True, now=NOW)
    assert result.status == "failed" and result.delivery.attempts == 1
    assert "554" in (result.error or "")


def test_starttls_and_login_are_used_and_refused_credentials_are_not_retried(
    tmp_path: Path,
) -> None:
    ca, cert, key = make_certificates(tmp_path / "tls")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        good = (data.login, data.password) == (b"pantau", b"rahasia-smtp")
        return AuthResult(success=good, handled=False)  # not handled: the server answers 535

    handler, port = Inbox(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_tls,
        require_starttls=True,
        authenticator=authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        settings = settings_for(
            tmp_path / "data", port, starttls=True, smtp_ca_certs=ca, username="pantau", timeout=10
        )
        digest = settings.digest
        right = settings.model_copy(
            update={"digest": digest.model_copy(update={"password": SecretStr("rahasia-smtp")})}
        )
        wrong = settings.model_copy(
            update={"digest": digest.model_copy(update={"password": SecretStr("salah")})}
        )
        refused = run_digest(wrong, WEEK, send=True, now=NOW)
        sent = run_digest(right, WEEK, send=True, now=NOW)
    finally:
        controller.stop()
    assert refused.status == "failed" and refused.delivery.attempts == 1
    assert "535" in (refused.error or "")
    assert sent.delivery.status == "sent" and len(handler.received) == 1


def test_pantau_digest_command_writes_the_outputs(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    build_store(data_dir)
    done = pantau("digest", "--week", "2026-W47", "--to-dir", "out", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"  # relative to the working directory, data_dir's parent
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        f"pantau-digest-2026-W47-15{s}" for s in (".eml", ".html", ".json", ".pdf", ".txt")
    ]
    assert "4 incidents" in done.stdout and "not sent" in done.stdout
    assert (data_dir / "digests" / "2026-W47" / "pantau-digest-2026-W47-15.pdf").is_file()


def test_pantau_digest_exits_non_zero_when_sending_fails(
    tmp_path: Path, inbox: tuple[Inbox, int]
) -> None:
    # In this process (CliRunner): a second `pantau` process would only repeat the imports.
    handler, port = inbox
    handler.failures = -1
    data_dir = tmp_path / "data"
    build_store(data_dir)
    config = tmp_path / "pantau.toml"
    config.write_text(
        f'[digest]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nstarttls = false\n'
        'recipients = ["a@example.id"]\nsend_attempts = 2\nretry_delay = 0\n'
    )
    options = ["--config", str(config), "--data-dir", str(data_dir)]
    failed = CliRunner().invoke(app, [*options, "digest", "--week", "2026-W47"])
    assert failed.exit_code == 4, failed.output
    assert "delivery failed after 2 attempt(s)" in failed.stderr
    with ArticleStore(data_dir / "pantau.sqlite") as store:
        (run,) = store.last_runs(1)
    assert run["status"] == "failed" and "delivery failed" in str(run["summary"])
    bad = CliRunner().invoke(app, [*options, "digest", "--week", "2026-47"])
    assert bad.exit_code == 2 and "ISO week" in bad.stderr
    unknown = CliRunner().invoke(app, [*options, "digest", "--region", "99"])
    assert unknown.exit_code == 2 and "unknown region code" in unknown.stderr


# -- pure parts --------------------------------------------------------------------------


def test_weeks_are_iso_weeks_in_jakarta_time() -> None:
    assert (WEEK.start.isoformat(), WEEK.end.isoformat()) == ("2026-11-16", "2026-11-22")
    # Monday 07:00 WIB (Sunday 00:00 UTC would still be the week before in UTC).
    assert Week.last_complete(NOW, "Asia/Jakarta").iso == "2026-W47"
    assert Week.last_complete(datetime(2026, 11, 22, 16, 59, tzinfo=UTC), "Asia/Jakarta").iso == (
        "2026-W46"
    )
    assert Week.parse("2020-W53").end.isoformat() == "2021-01-03"
    for bad in ("2026-47", "2026-W54", "W47"):
        with pytest.raises(ValueError, match=r"ISO week|has no week"):
            Week.parse(bad)


def test_summaries_are_sentences_of_the_article() -> None:
    text = (
        "JAMBI - Kombes Pol. Andri Wibisono mengatakan empat korban diselamatkan dari rumah "
        "penampungan di Kota Jambi. Pelaku berinisial YN (34) ditangkap pada Selasa.\n\n"
        '"Kami akan usut tuntas," kata Andri. Cuaca cerah sepanjang hari di kota itu dan '
        "jalanan ramai. Korban kini didampingi UPTD PPA dan polisi memeriksa tersangka lain."
    )
    summary = extractive_summary(text)
    assert summary == (
        "Kombes Pol. Andri Wibisono mengatakan empat korban diselamatkan dari rumah "
        "penampungan di Kota Jambi. Pelaku berinisial YN (34) ditangkap pada Selasa. "
        "Korban kini didampingi UPTD PPA dan polisi memeriksa tersangka lain."
    )


def test_a_link_is_left_out_only_where_its_address_spells_a_masked_name() -> None:
    from flows.digest_model import _safe_url

    names = {"AS", "Siti Aminah"}
    # Initials are a word of the address, not letters inside one ("kasus").
    kept = "https://example.com/read/123/kasus-pencabulan-di-tebo"
    assert _safe_url(kept, names) == kept
    for spelled in (
        "https://example.org/2026/11/20/as-dicabuli-tetangga",
        "https://example.org/2026/11/20/siti-aminah-dianiaya",
        "https://example.com/berita/sitiaminah",
    ):
        assert _safe_url(spelled, names) is None
