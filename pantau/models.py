"""Typed models at Pantau's boundaries.

The field names of `ArticleIn` and `TaggedArticle` follow `../shared/contracts/` exactly:
code may add fields, never rename or drop them.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Relevance = Literal["incident", "aggregate", "none"]
Category = Literal[
    "tppo",
    "kekerasan_seksual",
    "kekerasan_fisik",
    "kekerasan_psikis",
    "eksploitasi",
    "penelantaran",
]
CATEGORIES: tuple[Category, ...] = (
    "tppo",
    "kekerasan_seksual",
    "kekerasan_fisik",
    "kekerasan_psikis",
    "eksploitasi",
    "penelantaran",
)
VictimGroup = Literal["anak", "perempuan"]
Relation = Literal["keluarga", "pasangan", "kenalan", "orang_asing", "sindikat"]
RegionLevel = Literal["negara", "provinsi", "kabupaten_kota", "kecamatan"]
LocationRole = Literal["incident", "origin", "destination", "mentioned"]
EntityLabel = Literal["PERSON", "ORGANIZATION", "LOCATION", "TIME", "QUANTITY"]
# An added field (the contract allows additions): what a PERSON is in the reported case.
# Masking reads it: a victim's name never leaves an analyst's own screen.
PersonRole = Literal["victim", "perpetrator", "other"]


class ArticleIn(BaseModel):
    """One input article of `pantau tag` (contracts/article.schema.json)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1)
    title: str = ""
    text: str
    url: str | None = None
    source: str | None = None
    published: str | None = None
    language: str | None = None


class Region(BaseModel):
    """A normalised place: a Kemendagri region or a foreign country."""

    name: str
    code: str | None = None
    level: RegionLevel
    province_code: str | None = None
    lat: float | None = None
    lon: float | None = None


class LocationMention(Region):
    role: LocationRole = "mentioned"


def regency_code(code: str | None) -> str | None:
    """The kabupaten/kota of a Kemendagri code: '15.71.01' -> '15.71' (a kecamatan counts
    for its kabupaten/kota); a province code stays as it is."""
    if not code:
        return None
    parts = code.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else code


def within_region(code: str | None, region: str) -> bool:
    """`code` is `region` or lies under it (a province holds its kabupaten/kota)."""
    return bool(code) and (code == region or str(code).startswith(region + "."))


def majority_place(codes: Sequence[str | None]) -> str | None:
    """The place a case's reports name most, ties to the earliest report's: the reports'
    codes oldest first (the digest's and the dashboard's rule for a case's place)."""
    named = Counter(code for code in codes if code)
    first_seen = {code: n for n, code in reversed(list(enumerate(codes)))}
    return min(named, key=lambda code: (-named[code], first_seen[code])) if named else None


class Entity(BaseModel):
    field: Literal["title", "text"]
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    label: EntityLabel
    text: str
    role: PersonRole | None = None


class Victims(BaseModel):
    count: int | None = None
    children: int | None = None
    female: int | None = None


class Perpetrators(BaseModel):
    count: int | None = None
    relation: Relation | None = None


class ModelInfo(BaseModel):
    name: str
    version: str
    # With a trained classifier: the P(incident) (`scores.incident`) from which its incident
    # head calls an article a case. An article over it that the tagger still files as an
    # aggregate (it reads as cases in general) is masked as a case (web.masking).
    incident_threshold: float | None = None


class TaggedArticle(BaseModel):
    """What `pantau tag` writes per article (contracts/tagged-article.schema.json)."""

    id: str
    language: str | None = None
    relevance: Relevance
    categories: list[Category] = Field(default_factory=list)
    domestic: bool | None = None
    victim_groups: list[VictimGroup] = Field(default_factory=list)
    victims: Victims = Field(default_factory=Victims)
    perpetrators: Perpetrators = Field(default_factory=Perpetrators)
    primary_location: Region | None = None
    locations: list[LocationMention] = Field(default_factory=list)
    incident_date: str | None = None
    entities: list[Entity] = Field(default_factory=list)
    scores: dict[str, float] = Field(default_factory=dict)
    model: ModelInfo


class TagError(BaseModel):
    """The output line for an input line that could not be tagged."""

    id: str | None
    error: str


class ExtractedArticle(BaseModel):
    """An article as a crawler extracted it from a page, before tagging."""

    url: str
    canonical_url: str
    source: str
    title: str
    text: str
    published: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    editor: str | None = None
    category: str | None = None
    tags: list[str] = Field(default_factory=list)
    language: str = "id"
    pages: int = 1

    @property
    def id(self) -> str:
        return article_id(self.canonical_url)

    @property
    def content_hash(self) -> str:
        return content_hash(self.title, self.text)

    def to_article_in(self) -> ArticleIn:
        return ArticleIn(
            id=self.id,
            title=self.title,
            text=self.text,
            url=self.canonical_url,
            source=self.source,
            published=self.published.isoformat() if self.published else None,
            language=self.language,
        )


def article_id(canonical_url: str) -> str:
    """Stable article id: a short hash of the canonical URL (same URL, same id, forever)."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:20]


def content_hash(title: str, text: str) -> str:
    normalised = " ".join((title + "\n" + text).split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()
