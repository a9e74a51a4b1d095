"""What the pages and the API share: corrections applied to tags and pushed to the index,
article details, statistics, and the researcher's masked view of search results."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from html import escape, unescape
from typing import Any

from pydantic import BaseModel, Field, model_validator

from index.base import IndexDocument, SearchHit, SearchIndex, SearchRequest, SearchResult
from index.highlight import highlight, snippet
from index.query import parse_query
from nlp.gazetteer import load_gazetteer
from nlp.places import to_region
from pantau.models import (
    CATEGORIES,
    Category,
    Region,
    Relevance,
    TaggedArticle,
    majority_place,
    regency_code,
    within_region,
)
from pantau.store import ArticleStore
from web.masking import mask_victims, names_to_mask

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
#
# The task force counts incidents, not articles: one case reported by three outlets is one
# incident. A case is a story cluster (`articles.story_id`, set by the crawl's near-duplicate
# detection; an article in no story is a case of its own). Rules, with analysts'
# corrections applied to every article first:
#
# - a case counts for a relevance (e.g. `incident`) when at least one of its articles has
#   it; those articles are its members (to take a case out, correct each of its articles:
#   the article page lists the story);
# - its forms are the union of its members' forms, except that when an analyst corrected
#   the forms of any member, the union of the corrected members' forms decides (an analyst
#   who read the case overrules the model's reading of a copy of it);
# - its place is the kabupaten/kota of the member location an analyst corrected last, if
#   any; otherwise the kabupaten/kota most of its members name, ties to the earliest
#   member's (the weekly digest's rule, flows/digest_model.py);
# - its week or month is the one of its earliest dated member (first reported), so every
#   case counts once on a timeline; a case with no dated member counts in `undated_cases`.
#
# The article counts (`total`, `by_form`, `by_region`, `count`, `forms`, `undated`) are
# kept as they were (each article in its own week and place) next to the case counts.


@dataclass(frozen=True)
class CaseArticle:
    """One tagged article as the statistics read it: corrected labels, story and date."""

    id: str
    story_id: str
    source: str
    published: datetime | None
    relevance: str
    categories: tuple[str, ...]
    place: str | None  # kabupaten/kota code of the primary location
    forms_corrected: int  # id of the last correction of its forms (0: none)
    place_corrected: int  # id of the last correction of its location (0: none)


@dataclass
class Case:
    story_id: str
    members: list[CaseArticle]  # oldest first, undated last
    forms: tuple[str, ...]
    place: str | None

    @property
    def first_published(self) -> datetime | None:
        return self.members[0].published


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CASE_ARTICLES_SQL = """
    SELECT a.id, coalesce(a.story_id, a.id), a.source, a.published,
           json_extract(t.record, '$.relevance'), json_extract(t.record, '$.categories'),
           json_extract(t.record, '$.primary_location.code')
    FROM articles a JOIN tags t ON t.article_id = a.id
    WHERE t.content_hash = a.content_hash"""


def _published(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    # A date without a zone is taken as UTC, so dates sort and bucket the same everywhere.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_case_articles(
    db: sqlite3.Connection,
    corrections: dict[str, list[dict[str, Any]]],
    stories: list[str] | None = None,
) -> list[CaseArticle]:
    """Every tagged article's labels, read with SQLite's JSON functions (parsing 50,000
    whole tags in Python would take seconds); corrected articles go through
    `apply_corrections`, the rule every other reader uses. `stories` keeps those only."""
    sql = _CASE_ARTICLES_SQL
    params: tuple[str, ...] = ()
    if stories is not None:
        marks = ",".join("?" * len(stories))
        sql += f" AND (a.story_id IN ({marks}) OR a.id IN ({marks}))"
        params = (*stories, *stories)
    found = []
    for article_id, story_id, source, published, relevance, categories, code in db.execute(
        sql, params
    ):
        forms_corrected = place_corrected = 0
        article_corrections = corrections.get(article_id)
        if article_corrections:
            row = db.execute(
                "SELECT record FROM tags WHERE article_id = ?", (article_id,)
            ).fetchone()
            record = apply_corrections(
                TaggedArticle.model_validate_json(row[0]), article_corrections
            )
            relevance, categories = record.relevance, list(record.categories)
            code = record.primary_location.code if record.primary_location else None
            for correction in article_corrections:
                if "categories" in correction["changes"]:
                    forms_corrected = int(correction["id"])
                if "primary_location" in correction["changes"]:
                    place_corrected = int(correction["id"])
        else:
            categories = json.loads(categories) if categories else []
        found.append(
            CaseArticle(
                id=article_id,
                story_id=story_id,
                source=source,
                published=_published(published),
                relevance=relevance,
                categories=tuple(categories),
                place=regency_code(code),
                forms_corrected=forms_corrected,
                place_corrected=place_corrected,
            )
        )
    return found


def cases_of(articles: Iterable[CaseArticle], relevance: str = "incident") -> list[Case]:
    """The cases (story clusters) with at least one article of `relevance`, labelled by the
    rules above; oldest first."""
    stories: dict[str, list[CaseArticle]] = {}
    for article in articles:
        if article.relevance == relevance:
            stories.setdefault(article.story_id, []).append(article)
    cases = []
    for story_id, members in stories.items():
        members.sort(key=lambda a: (a.published is None, a.published or _EPOCH, a.id))
        corrected_forms = [m for m in members if m.forms_corrected]
        forms = {f for m in corrected_forms or members for f in m.categories}
        corrected_places = [m for m in members if m.place_corrected and m.place]
        if corrected_places:
            place: str | None = max(corrected_places, key=lambda m: m.place_corrected).place
        else:
            place = majority_place([m.place for m in members])
        cases.append(
            Case(
                story_id=story_id,
                members=members,
                forms=tuple(f for f in CATEGORIES if f in forms),
                place=place,
            )
        )
    cases.sort(key=lambda c: (c.first_published is None, c.first_published or _EPOCH))
    return cases


class StatBucket(BaseModel):
    period: str
    total: int = Field(description="Articles published in the period.")
    by_form: dict[str, int] = Field(description="Articles per form.")
    by_region: dict[str, int] = Field(description="Articles per kabupaten/kota code.")
    cases: int = Field(
        default=0, description="Cases (story clusters) first reported in the period."
    )
    cases_by_form: dict[str, int] = Field(default_factory=dict, description="Cases per form.")
    cases_by_region: dict[str, int] = Field(
        default_factory=dict, description="Cases per kabupaten/kota code (the case's place)."
    )


class RegionCount(BaseModel):
    code: str
    name: str
    count: int = Field(description="Articles whose primary location lies here.")
    cases: int = Field(default=0, description="Cases whose place is here.")


class Stats(BaseModel):
    period: str
    relevance: str
    region: str | None
    buckets: list[StatBucket]
    regions: list[RegionCount]
    forms: dict[str, int] = Field(description="Articles per form.")
    undated: int = Field(description="Articles without a publication date.")
    cases: int = Field(default=0, description="Cases (story clusters), dated or not.")
    articles: int = Field(default=0, description="Articles of the relevance, dated or not.")
    case_forms: dict[str, int] = Field(default_factory=dict, description="Cases per form.")
    undated_cases: int = Field(default=0, description="Cases with no dated article.")


def period_key(published: datetime, period: str) -> str:
    day = published.astimezone(WIB).date()
    if period == "month":
        return f"{day.year:04d}-{day.month:02d}"
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def _in_region(code: str | None, region: str | None) -> bool:
    return not region or within_region(code, region)


def statistics(
    db: sqlite3.Connection,
    corrections: dict[str, list[dict[str, Any]]],
    period: str = "week",
    relevance: str = "incident",
    region: str | None = None,
) -> Stats:
    """Cases and articles per period, form and kabupaten/kota (rules above)."""
    return statistics_of(load_case_articles(db, corrections), period, relevance, region)


def statistics_of(
    articles: list[CaseArticle],
    period: str = "week",
    relevance: str = "incident",
    region: str | None = None,
) -> Stats:
    buckets: dict[str, StatBucket] = {}

    def bucket_of(published: datetime) -> StatBucket:
        key = period_key(published, period)
        return buckets.setdefault(key, StatBucket(period=key, total=0, by_form={}, by_region={}))

    regions: Counter[str] = Counter()
    region_cases: Counter[str] = Counter()
    forms: Counter[str] = Counter()
    case_forms: Counter[str] = Counter()
    undated = undated_cases = article_total = case_total = 0
    for article in articles:
        if article.relevance != relevance or not _in_region(article.place, region):
            continue
        article_total += 1
        forms.update(article.categories)
        if article.place:
            regions[article.place] += 1
        if article.published is None:
            undated += 1
            continue
        bucket = bucket_of(article.published)
        bucket.total += 1
        for form in article.categories:
            bucket.by_form[form] = bucket.by_form.get(form, 0) + 1
        if article.place:
            bucket.by_region[article.place] = bucket.by_region.get(article.place, 0) + 1
    for case in cases_of(articles, relevance):
        if not _in_region(case.place, region):
            continue
        case_total += 1
        case_forms.update(case.forms)
        if case.place:
            region_cases[case.place] += 1
        if case.first_published is None:
            undated_cases += 1
            continue
        bucket = bucket_of(case.first_published)
        bucket.cases += 1
        for form in case.forms:
            bucket.cases_by_form[form] = bucket.cases_by_form.get(form, 0) + 1
        if case.place:
            bucket.cases_by_region[case.place] = bucket.cases_by_region.get(case.place, 0) + 1
    codes = sorted(
        set(regions) | set(region_cases), key=lambda c: (-region_cases[c], -regions[c], c)
    )
    return Stats(
        period=period,
        relevance=relevance,
        region=region,
        buckets=[buckets[key] for key in sorted(buckets)],
        regions=[
            RegionCount(code=c, name=region_name(c), count=regions[c], cases=region_cases[c])
            for c in codes
        ],
        forms=dict(forms.most_common()),
        undated=undated,
        cases=case_total,
        articles=article_total,
        case_forms=dict(case_forms.most_common()),
        undated_cases=undated_cases,
    )


class LatestCase(BaseModel):
    """One row of the dashboard's latest incidents: a case, shown by its latest article."""

    story_id: str
    latest: SearchHit
    first_published: datetime | None
    sources: list[str]
    articles: int


def latest_cases(
    db: sqlite3.Connection,
    corrections: dict[str, list[dict[str, Any]]],
    hits: list[SearchHit],
    form: str,
    limit: int,
) -> list[LatestCase]:
    """The cases of `hits` (newest first, from a search for incidents of `form`), one row
    each, with every outlet that reported it; a case whose form (by the rules above) is
    not `form` any more is left out."""
    ids = [hit.id for hit in hits]
    marks = ",".join("?" * len(ids))
    story_of_hit = dict(
        db.execute(
            f"SELECT id, coalesce(story_id, id) FROM articles WHERE id IN ({marks})", ids
        ).fetchall()
    )
    newest: dict[str, SearchHit] = {}
    for hit in hits:
        newest.setdefault(story_of_hit.get(hit.id, hit.id), hit)
    cases = {
        case.story_id: case
        for case in cases_of(load_case_articles(db, corrections, list(newest)), "incident")
    }
    rows = []
    for story_id, hit in newest.items():
        case = cases.get(story_id)
        if case is None or form not in case.forms:
            continue
        sources = dict.fromkeys(m.source for m in case.members)
        rows.append(
            LatestCase(
                story_id=story_id,
                latest=hit,
                first_published=case.first_published,
                sources=list(sources),
                articles=len(case.members),
            )
        )
        if len(rows) == limit:
            break
    return rows


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
        names = names_to_mask(tagged, (), stored.article.title, stored.article.text)
        title = mask_victims(stored.article.title, tagged, names, field="title")
        text = mask_victims(stored.article.text, tagged, names, field="text")
        hit.title = title
        hit.title_html = highlight(title, terms)
        hit.snippet_html = snippet(text, terms)
