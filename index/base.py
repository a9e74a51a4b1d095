"""The search interface every index backend implements, and its typed shapes."""

from __future__ import annotations

import base64
import json
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from pantau.models import Region, TaggedArticle
from pantau.store import StoredArticle

SortOrder = Literal["relevance", "date"]
# Date histograms: "month" keyed YYYY-MM, "week" keyed by its Monday (YYYY-MM-DD).
FACET_FIELDS = ("relevance", "category", "victim_group", "region", "source", "month", "week")


class IndexDocument(BaseModel):
    """What is indexed for one article: its text, its tags and the fields to filter on."""

    id: str
    version: str = Field(description="Content hash and model version: changes when either does.")
    url: str
    source: str
    title: str
    text: str
    published: datetime | None
    relevance: str
    categories: list[str]
    victim_groups: list[str]
    region_codes: list[str] = Field(
        description="The primary location's code and its ancestors ('15.71' → '15', '15.71')."
    )
    primary_location: Region | None
    record: TaggedArticle

    @classmethod
    def from_store(cls, stored: StoredArticle, tagged: TaggedArticle) -> IndexDocument:
        article = stored.article
        location = tagged.primary_location
        return cls(
            id=stored.id,
            version=f"{stored.content_hash[:16]}:{tagged.model.name}:{tagged.model.version}",
            url=article.canonical_url,
            source=article.source,
            title=article.title,
            text=article.text,
            published=article.published,
            relevance=tagged.relevance,
            categories=list(tagged.categories),
            victim_groups=list(tagged.victim_groups),
            region_codes=region_ancestry(location.code) if location and location.code else [],
            primary_location=location,
            record=tagged,
        )


def region_ancestry(code: str) -> list[str]:
    """'15.71.01' → ['15', '15.71', '15.71.01']: a filter on a province matches its regions."""
    parts = code.split(".")
    return [".".join(parts[: n + 1]) for n in range(len(parts))]


class SearchRequest(BaseModel):
    q: str = ""
    sources: list[str] = Field(default_factory=list)
    relevance: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    victim_groups: list[str] = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    sort: SortOrder = "relevance"
    page: int = Field(default=1, ge=1)
    size: int = Field(default=10, ge=1, le=100)
    facets: bool = True
    cursor: str | None = Field(
        default=None,
        description="A result's next_cursor: the page after it (deep pagination, search_after "
        "on Elasticsearch); `page` is ignored when given.",
    )


class SearchHit(BaseModel):
    id: str
    score: float | None
    url: str
    source: str
    title: str
    title_html: str
    snippet_html: str
    published: datetime | None
    relevance: str
    categories: list[str]
    victim_groups: list[str]
    primary_location: Region | None


class FacetValue(BaseModel):
    value: str
    label: str
    count: int


class SearchResult(BaseModel):
    total: int
    page: int
    size: int
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]] = Field(default_factory=dict)
    next_cursor: str | None = Field(default=None, description="Pass as cursor for the next page.")


def encode_cursor(state: dict[str, Any]) -> str:
    """An opaque, URL-safe cursor (backends put what they need to resume in it)."""
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("invalid cursor: pass next_cursor from the previous page") from exc
    if not isinstance(state, dict):
        raise ValueError("invalid cursor: pass next_cursor from the previous page")
    return state


class SearchIndex(Protocol):
    """One search interface, several backends (embedded SQLite FTS5; Elasticsearch later)."""

    def upsert(self, documents: list[IndexDocument]) -> int: ...

    def delete(self, ids: list[str]) -> int: ...

    def versions(self) -> dict[str, str]: ...

    def count(self) -> int: ...

    def search(self, request: SearchRequest) -> SearchResult: ...

    def bulk_load(self) -> AbstractContextManager[None]:
        """Around a large load (a first indexing, a backfill, a new cluster): what the
        backend may defer until the load ends (Elasticsearch: refreshes)."""
        ...

    def close(self) -> None: ...


class IndexBackendError(RuntimeError):
    """A search backend failed in a way the person running Pantau can act on (the message
    says how): unreachable, refused credentials or certificate, incompatible mapping."""


class RejectedDocuments(IndexBackendError):
    """Some documents were permanently rejected by the backend; the others were indexed."""

    def __init__(self, indexed: list[str], rejected: dict[str, str]) -> None:
        self.indexed = indexed
        self.rejected = rejected
        sample = "; ".join(f"{doc_id}: {reason}" for doc_id, reason in list(rejected.items())[:5])
        super().__init__(f"{len(rejected)} document(s) rejected by the index: {sample}")
