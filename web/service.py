"""What the pages and the API share: corrections applied to tags and pushed to the index,
article details, statistics, and the researcher's masked view of search results."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import datetime, timedelta, timezone
from html import escape, unescape
from typing import Any

from pydantic import BaseModel, Field, model_validator

from index.base import IndexDocument, SearchIndex, SearchRequest, SearchResult
from index.highlight import highlight, snippet
from index.query import parse_query
from nlp.gazetteer import load_gazetteer
from nlp.places import to_region
from pantau.models import Category, Region, Relevance, TaggedArticle
from pantau.store import ArticleStore
from web.masking import mask_victims

WIB = timezone(timedelta(hours=7))
JAMBI_PROVINCE = "15"


class CorrectionIn(BaseModel):
    """An analyst's correction: only the fields given change; at least one must be."""

    relevance: Relevance | None = None
    categories: list[Category] | None = Field(default=None, max_length=6)
    primary_location: str | None = Field(
        default=None, max_length=20, description="Kemendagri code, e.g. '15.71' (Kota Jambi)."
    )
    victims_count: int | None = Field(default=None, ge=0, le=100_000)
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _something_changes(self) -> CorrectionIn:
        if not self.changes():
            raise ValueError(
                "give at least one of relevance, categories, primary_location, victims_count"
            )
        if (
            self.primary_location is not None
            and load_gazetteer().get(self.primary_location) is None
        ):
            raise ValueError(f"primary_location: unknown region code {self.primary_location}")
        return self

    def changes(self) -> dict[str, Any]:
        fields = ("relevance", "categories", "primary_location", "victims_count")
        return {name: getattr(self, name) for name in fields if getattr(self, name) is not None}


class Correction(BaseModel):
    id: int
    article_id: str
    username: str
    created_at: str
    changes: dict[str, Any]
    note: str | None


def region_of(code: str) -> Region:
    return to_region(load_gazetteer()[code])


def region_name(code: str) -> str:
    place = load_gazetteer().get(code)
    return place.name if place else code


def apply_corrections(tagged: TaggedArticle, corrections: list[dict[str, Any]]) -> TaggedArticle:
    """The tag as analysts corrected it, each correction applied in order (later wins)."""
    record = tagged.model_copy(deep=True)
    for correction in corrections:
        changes = correction["changes"]
        if "relevance" in changes:
            record.relevance = changes["relevance"]
        if "categories" in changes:
            record.categories = list(dict.fromkeys(changes["categories"]))
        if "primary_location" in changes:
            record.primary_location = region_of(changes["primary_location"])
        if "victims_count" in changes:
            record.victims = record.victims.model_copy(update={"count": changes["victims_count"]})
    return record


def reindex(
    store: ArticleStore, index: SearchIndex, article_id: str, corrections: list[dict[str, Any]]
) -> bool:
    """Put the corrected tag in the index, so search and facets show the correction at once.

    The document keeps the version of the stored tag: `pantau index` compares versions and
    leaves this document alone until the article's text or the model changes."""
    stored = store.get_article(article_id)
    tagged = store.get_tag(article_id)
    if stored is None or tagged is None:
        return False
    corrected = apply_corrections(tagged, corrections)
    index.upsert([IndexDocument.from_store(stored, corrected)])
    return True


def story_of(db: sqlite3.Connection, article_id: str) -> list[dict[str, Any]]:
    """The other articles of the same story cluster (`articles.story_id`), every source."""
    row = db.execute("SELECT story_id FROM articles WHERE id = ?", (article_id,)).fetchone()
    if row is None or not row["story_id"]:
        return []
    rows = db.execute(
        """SELECT id, source, title, canonical_url AS url, published FROM articles
           WHERE story_id = ? AND id != ? ORDER BY published""",
        (row["story_id"], article_id),
    )
    return [dict(r) for r in rows]


# -- statistics -----------------------------------------------------------------------


class StatBucket(BaseModel):
    period: str
    total: int
    by_form: dict[str, int]
    by_region: dict[str, int]


class RegionCount(BaseModel):
    code: str
    name: str
    count: int


class Stats(BaseModel):
    period: str
    relevance: str
    region: str | None
    buckets: list[StatBucket]
    regions: list[RegionCount]
    forms: dict[str, int]
    undated: int


def period_key(published: datetime, period: str) -> str:
    day = published.astimezone(WIB).date()
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def regency_code(region: Region | None) -> str | None:
    """The kabupaten/kota of a location (a kecamatan counts for its kabupaten/kota)."""
    if region is None or not region.code:
        return None
    parts = region.code.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else region.code


def statistics(
    store: ArticleStore,
    corrections: dict[str, list[dict[str, Any]]],
    period: str = "week",
    relevance: str = "incident",
    region: str | None = None,
) -> Stats:
    buckets: dict[str, StatBucket] = {}
    regions: Counter[str] = Counter()
    forms: Counter[str] = Counter()
    undated = 0
    for stored, tagged in store.iter_tagged():
        record = apply_corrections(tagged, corrections.get(stored.id, []))
        if record.relevance != relevance:
            continue
        code = regency_code(record.primary_location)
        if region and not (code and (code == region or code.startswith(region + "."))):
            continue
        forms.update(record.categories)
        if code:
            regions[code] += 1
        published = stored.article.published
        if published is None:
            undated += 1
            continue
        key = period_key(published, period)
        bucket = buckets.setdefault(key, StatBucket(period=key, total=0, by_form={}, by_region={}))
        bucket.total += 1
        for form in record.categories:
            bucket.by_form[form] = bucket.by_form.get(form, 0) + 1
        if code:
            bucket.by_region[code] = bucket.by_region.get(code, 0) + 1
    return Stats(
        period=period,
        relevance=relevance,
        region=region,
        buckets=[buckets[key] for key in sorted(buckets)],
        regions=[
            RegionCount(
                code=code,
                name=region_name(code),
                count=count,
            )
            for code, count in regions.most_common()
        ],
        forms=dict(forms.most_common()),
        undated=undated,
    )


# -- search results -------------------------------------------------------------------


def safe_marked(html_text: str) -> str:
    """Index HTML reduced to escaped text plus <mark>…</mark>, whatever a backend sent.

    Backends already escape; this makes sure nothing but <mark> can ever reach a page
    unescaped, even from a backend with a bug."""
    out: list[str] = []
    for part_index, part in enumerate(html_text.split("<mark>")):
        pieces = part.split("</mark>")
        if part_index == 0:
            out.append(escape(unescape("</mark>".join(pieces))))
            continue
        marked, rest = pieces[0], "</mark>".join(pieces[1:])
        out.append(f"<mark>{escape(unescape(marked))}</mark>{escape(unescape(rest))}")
    return "".join(out)


def mask_result(result: SearchResult, request: SearchRequest, store: ArticleStore) -> None:
    """Researchers' view: titles and snippets rebuilt from masked text (names of victims
    are gone before highlighting, so a search for a victim's name shows no name)."""
    terms = parse_query(request.q).highlight_terms()
    for hit in result.hits:
        stored = store.get_article(hit.id)
        tagged = store.get_tag(hit.id)
        if stored is None or tagged is None:
            hit.title_html = escape(hit.title)
            hit.snippet_html = ""
            continue
        title = mask_victims(stored.article.title, tagged, field="title")
        text = mask_victims(stored.article.text, tagged, field="text")
        hit.title = title
        hit.title_html = highlight(title, terms)
        hit.snippet_html = snippet(text, terms)
