"""Pantau's own annotated set: real articles from the shared data, labelled by the team.

The repository keeps only references and labels (`nlp/data/annotated/`), never the article
texts, which belong to their publishers: `pool.jsonl` says where each article is in the
shared data (file and row) with a hash of its text, `labels-*.jsonl` hold the labels, and
`load_annotated` joins them back with the texts from the configured shared data folder.

Each article has a fixed split from a hash of its group (articles on the same case, found by
word-overlap clustering, form one group): `test` articles are held out — never used for
training or for tuning rules — and the model cards report numbers on them only.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict

from crawlers.extract.dates import MONTHS, parse_date
from pantau.models import ArticleIn

ANNOTATED_DIR = Path(__file__).parent / "data" / "annotated"
POOL_FILE = ANNOTATED_DIR / "pool.jsonl"
# The double annotation: a second annotator's labels, and the adjudicator's final records
# for the articles on which the two disagreed.
SECOND_DIR_NAME = "second"
ADJUDICATED_FILE_NAME = "adjudicated.jsonl"
Split = Literal["train", "test"]
# About 40% held out: enough TPPO articles in the test part to measure them at all.
TEST_SHARE_PERCENT = 40


class SharedRef(BaseModel):
    """Where an article lives in ../shared/data: a CSV row or a JSONL line (0-based)."""

    model_config = ConfigDict(extra="forbid")

    file: str
    row: int


class PoolItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    url: str
    ref: SharedRef
    text_sha256: str
    stratum: str
    # Articles on one case (near-duplicates, follow-ups) share a group and so a split:
    # otherwise the test part would hold copies of what the model trained on.
    group: str
    split: Split


def split_of(article_id: str) -> Split:
    bucket = int(hashlib.sha256(f"pantau-annotated:{article_id}".encode()).hexdigest(), 16) % 100
    return "test" if bucket < TEST_SHARE_PERCENT else "train"


def text_sha256(title: str, text: str) -> str:
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


@dataclass(frozen=True)
class SharedArticle:
    url: str
    title: str
    text: str
    published: str | None
    source: str


def _clean(value: str | None) -> str:
    return re.sub(r"[ \t]+", " ", (value or "").replace("\r", "")).strip()


@lru_cache(maxsize=16)
def _rows(path: Path) -> tuple[dict[str, Any], ...]:
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as handle:
            return tuple(json.loads(line) for line in handle if line.strip())
    csv.field_size_limit(1 << 30)
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        return tuple(csv.DictReader(handle))


# Spreadsheet serial days (click-id files converted from spreadsheets: 43718 = 2019-09-10).
_SPREADSHEET_EPOCH: Final = date(1899, 12, 30)
# The shared data's shapes that news pages do not use (crawlers.extract.dates reads the
# rest): "Oktober 19, 2019" / "Oct 2, 2019" (month first) and "10-Sep-19".
_MONTH_FIRST: Final = re.compile(r"([a-z]+) (\d{1,2}), (\d{4})")
_DAY_MONTH_SHORT_YEAR: Final = re.compile(r"(\d{1,2})-([a-z]+)-(\d{2})")


def iso_publication_date(value: str | None, day_first: bool = True) -> str | None:
    """The shared data's publication date as ISO 8601 (the article contract's format), or
    None where it cannot be read. Formats: spreadsheet serial days ("43718"), "16/09/2019"
    (day first; detik's "10/21/2025 20:43" is month first: `day_first=False`), "31 Juli
    2019", "Oktober 19, 2019", "Oct 2, 2019", "10-Sep-19". Only the day is kept: it is what
    the tagger resolves "Senin (16/9)" and "kemarin" against."""
    text = (value or "").strip().lower()
    parts: tuple[int, int, int] | None = None  # year, month, day
    if re.fullmatch(r"\d{5}", text):
        serial = _SPREADSHEET_EPOCH + timedelta(days=int(text))
        parts = serial.year, serial.month, serial.day
    elif not day_first and (numeric := re.match(r"(\d{1,2})/(\d{1,2})/(\d{4})\b", text)):
        month, day, year = (int(g) for g in numeric.groups())
        parts = year, month, day
    elif month_first := _MONTH_FIRST.fullmatch(text):
        month_name, day_text, year_text = month_first.groups()
        if month_name in MONTHS:
            parts = int(year_text), MONTHS[month_name], int(day_text)
    elif short_year := _DAY_MONTH_SHORT_YEAR.fullmatch(text):
        day_text, month_name, year_text = short_year.groups()
        if month_name in MONTHS:
            parts = 2000 + int(year_text), MONTHS[month_name], int(day_text)
    else:
        parsed = parse_date(text)  # "16/09/2019", "31 Juli 2019": as news pages write them
        return parsed.date().isoformat() if parsed else None
    if parts is None:
        return None
    try:
        return date(*parts).isoformat()
    except ValueError:
        return None


def _url_date(url: str) -> str | None:
    """The date in a URL such as kompas's /read/2019/09/12/…, if a valid one."""
    found = re.search(r"/(20\d\d)/(\d\d)/(\d\d)/", url)
    if found is None:
        return None
    try:
        return date(*(int(part) for part in found.groups())).isoformat()
    except ValueError:
        return None


def shared_article(data_dir: Path, ref: SharedRef) -> SharedArticle:
    """The article a reference points at, in one shape whatever the file's columns; the
    publication date in ISO 8601 whatever the file's format."""
    row = _rows(data_dir / ref.file)[ref.row]
    if "judul" in row:  # detik-2025-aspects
        return SharedArticle(
            row["tautan"],
            _clean(row["judul"]),
            row["isi_berita"].strip(),
            iso_publication_date(row.get("tanggal"), day_first=False),
            "detik.com",
        )
    if "content" in row:  # click-id
        return SharedArticle(
            row["url"],
            _clean(row["title"]),
            row["content"].strip(),
            # The publisher's own date in the URL first: kompas's spreadsheet serial days
            # have day and month swapped (every one of them, against its URL).
            _url_date(row["url"]) or iso_publication_date(row.get("date")),
            row["source"],
        )
    return SharedArticle(  # child-abuse JSONL
        row["url"], row["title"], row["text"], row.get("published"), row.get("source") or ""
    )


def read_pool(path: Path = POOL_FILE) -> list[PoolItem]:
    with path.open(encoding="utf-8") as handle:
        return [PoolItem.model_validate_json(line) for line in handle if line.strip()]


def _read_label_files(paths: Iterable[Path]) -> dict[str, dict[str, Any]]:
    """Label records by article id (a later file wins on a repeated id)."""
    labels: dict[str, dict[str, Any]] = {}
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: not JSON: {error}") from error
                labels[record["id"]] = record
    return labels


def read_labels(
    directory: Path = ANNOTATED_DIR, *, adjudicated: bool = True
) -> dict[str, dict[str, Any]]:
    """The gold labels by article id: the first annotation (`labels-*.jsonl`), replaced by
    the adjudicated record (`adjudicated.jsonl`) where a second annotator disagreed and an
    adjudicator decided. `adjudicated=False` gives the first annotation alone."""
    labels = _read_label_files(sorted(directory.glob("labels-*.jsonl")))
    return with_adjudication(labels, read_adjudicated(directory)) if adjudicated else labels


def with_adjudication(
    first: dict[str, dict[str, Any]], decided: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The first annotation with the adjudicated records in place of theirs."""
    unknown = sorted(set(decided) - set(first))
    if unknown:
        raise ValueError(f"{ADJUDICATED_FILE_NAME}: adjudicates unlabelled {unknown[:3]}")
    return {**first, **decided}


def read_adjudicated(directory: Path = ANNOTATED_DIR) -> dict[str, dict[str, Any]]:
    """The adjudicator's final records (`adjudicated.jsonl`) by article id."""
    path = directory / ADJUDICATED_FILE_NAME
    return _read_label_files([path]) if path.exists() else {}


def read_second_labels(directory: Path = ANNOTATED_DIR) -> dict[str, dict[str, Any]]:
    """The second, independent annotation (`second/labels-*.jsonl`) by article id."""
    return _read_label_files(sorted((directory / SECOND_DIR_NAME).glob("labels-*.jsonl")))


def label_disagreements(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """The scored fields on which two label records of one article differ, compared the way
    `pantau eval tag` compares them (sets for lists, kabupaten/kota for places). When both
    say `none`, nothing else is scored, so nothing else can disagree."""
    if first["relevance"] != second["relevance"]:
        return ["relevance", *(f for f in SCORED_FIELDS[1:] if _differs(f, first, second))]
    if first["relevance"] == "none":
        return []
    return [f for f in SCORED_FIELDS[1:] if _differs(f, first, second)]


def _differs(field_name: str, first: dict[str, Any], second: dict[str, Any]) -> bool:
    a, b = first.get(field_name), second.get(field_name)
    if field_name in ("categories", "victim_groups"):
        return set(a or ()) != set(b or ())
    if field_name == "domestic":
        return bool(a) != bool(b)
    if field_name == "primary_location":
        return _regency(a) != _regency(b)
    return bool(a != b)


def _regency(code: str | None) -> str | None:
    return ".".join(code.split(".")[:2]) if code else None


@dataclass(frozen=True)
class AnnotatedArticle:
    item: PoolItem
    article: ArticleIn
    gold: dict[str, Any]


def load_annotated(
    data_dir: Path, split: Split | None = None, directory: Path = ANNOTATED_DIR
) -> Iterator[AnnotatedArticle]:
    """Labelled pool articles joined with their texts; `split` keeps one part only.

    Fails when a referenced text changed (its hash no longer matches): labels made for one
    text must not silently apply to another.
    """
    labels = read_labels(directory)
    for item in read_pool(directory / POOL_FILE.name):
        if item.id not in labels or (split is not None and item.split != split):
            continue
        shared = shared_article(data_dir, item.ref)
        if text_sha256(shared.title, shared.text) != item.text_sha256:
            raise ValueError(f"{item.ref.file} row {item.ref.row} changed since it was labelled")
        article = ArticleIn(
            id=item.id,
            title=shared.title,
            text=shared.text,
            url=shared.url,
            source=shared.source,
            published=shared.published,
        )
        gold = {k: v for k, v in labels[item.id].items() if k in GOLD_FIELDS}
        yield AnnotatedArticle(item, article, gold)


# The label fields of a labels-*.jsonl record that `pantau eval tag` scores (relevance
# first: the others are moot for an article both sides call `none`).
SCORED_FIELDS = (
    "relevance",
    "categories",
    "victim_groups",
    "domestic",
    "victims_count",
    "perpetrator_relation",
    "primary_location",
)
# What `load_annotated` passes on as gold; `victim_names` is not a tagger field but what
# `pantau eval tag` checks digest masking against.
GOLD_FIELDS = (*SCORED_FIELDS, "incident_date", "victim_names")
