"""The Elasticsearch backend: the same interface, query language and results as the embedded
index, for deployments that outgrow one machine.

Layout: documents live in a versioned index (`pantau-articles-v1`) behind an alias
(`pantau-articles`); an index template holds the explicit mapping, so a new version is a
new index plus an alias swap (`reindex`). Text is indexed as the terms of Pantau's own
Indonesian analyzer (`nlp.analysis.analyze`, joined by spaces) with the `whitespace`
analyzer, exactly what the embedded index stores, so stemming, stop words and phrases agree
on both backends; the original title and text are kept in `_source` for display (the
analysed terms are indexed but left out of `_source`), and snippets come from
`index.highlight` as on the embedded index. Where the cluster has the
built-in `indonesian` analyzer, the original text is also indexed with it (`title.id`,
`text.id`) for ad-hoc use in Kibana; Pantau's queries never depend on it.

Writes lose nothing: bulk requests are keyed by article id (re-sending is idempotent),
retried with backoff on 429/5xx and connection errors, failed items are retried alone, and
items that stay rejected are reported with the server's reason (`RejectedDocuments`).
A large load runs inside `bulk_load()` (no refreshes until it ends).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime
from functools import partial
from itertools import chain
from typing import Any, TypeVar
from urllib.parse import urlsplit

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TlsError
from elasticsearch import (
    ApiError,
    AuthenticationException,
    AuthorizationException,
    Elasticsearch,
    NotFoundError,
    helpers,
)

from index.analysis_pool import analyze_fields, iter_analyzed
from index.base import (
    FacetValue,
    IndexBackendError,
    IndexDocument,
    RejectedDocuments,
    SearchHit,
    SearchRequest,
    SearchResult,
    decode_cursor,
    encode_cursor,
)
from index.embedded import CATEGORY_LABELS, DATE_FACETS, WIB, week_label
from index.highlight import highlight, snippet
from index.query import ParsedQuery, TextClause, parse_query
from nlp.gazetteer import load_gazetteer
from pantau.models import Region

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_ALIAS = "pantau-articles"
MAPPING_VERSION = 1
TITLE_BOOST = 4.0  # as the embedded index's bm25(fts, 4.0, 1.0)
RETRY_STATUSES = {429, 500, 502, 503, 504}
FACET_SIZES = {"relevance": 20, "source": 200, "category": 50, "victim_group": 50}
REGION_FACET_SIZE = 1000  # every province and kabupaten/kota fits
MULTI_VALUED = {"category": "categories", "victim_group": "victim_groups", "region": "region_codes"}
# An upsert is sent as up to this many bulk requests, each prepared while the one before it
# is in flight (bench/index_bench.py), but none smaller than the minimum (per-request cost)
# nor larger than the bulk size (documents per request; measured in docs/benchmarks.md).
PIPELINE_CHUNKS = 4
PIPELINE_MIN_CHUNK = 50
BULK_SIZE = 2000
BULK_REFRESH_INTERVAL = "30s"  # during `bulk_load`
# The analysed fields are indexed, not stored: nothing reads them back (search excludes them
# from hits, highlights come from the original text), and storing each text twice costs
# `_source` compression and disk on every write. `reindex` analyses them again.
ANALYSED_FIELDS = ("title_terms", "text_terms")


class IndexUnavailable(IndexBackendError):
    """The cluster cannot be reached or refuses us; the message says what to check."""


class MappingConflict(IndexBackendError):
    """The existing index or template does not match the mapping this Pantau writes."""


def mappings(indonesian: bool = False) -> dict[str, Any]:
    """The explicit mapping; `strict`, so a field we do not know is an error, not a guess."""
    display: dict[str, Any] = {"type": "text", "index": False}
    if indonesian:
        display = {"type": "text", "index": False, "fields": {"id": {"type": "text"}}}
        display["fields"]["id"]["analyzer"] = "indonesian"
    terms = {"type": "text", "analyzer": "whitespace"}
    # Keywords that are only filtered on (or only kept) need no doc values, which exist for
    # sorting and aggregating; `id` keeps them, it breaks sort ties.
    return {
        "dynamic": "strict",
        "_source": {"excludes": list(ANALYSED_FIELDS)},
        "properties": {
            "id": {"type": "keyword"},
            "version": {"type": "keyword", "doc_values": False},
            "url": {"type": "keyword", "index": False, "doc_values": False},
            "source": {"type": "keyword"},
            # case-folded, filters match like NOCASE
            "source_key": {"type": "keyword", "doc_values": False},
            "title": display,
            "text": display,
            "title_terms": terms,
            "text_terms": terms,
            "published": {"type": "date"},
            "day": {"type": "date", "format": "yyyy-MM-dd"},  # the day in WIB
            "relevance": {"type": "keyword"},
            "categories": {"type": "keyword"},
            "victim_groups": {"type": "keyword"},
            "region_codes": {"type": "keyword"},
            "places": {"type": "keyword", "doc_values": False},  # every mentioned region
            "primary_location": {"type": "object", "enabled": False},
            "record": {"type": "object", "enabled": False},  # the tagged record, kept whole
        },
    }


def index_settings() -> dict[str, Any]:
    # One shard holds tens of millions of news articles; replicas are set per deployment
    # (docs/scaling.md). `auto_expand_replicas` keeps a single node green.
    return {"number_of_shards": 1, "auto_expand_replicas": "0-1", "refresh_interval": "1s"}


def to_source(doc: IndexDocument, terms: tuple[str, str] | None = None) -> dict[str, Any]:
    """The document as indexed; `terms` are its title's and text's analysed terms when
    they were worked out already (`index.analysis_pool`)."""
    places = sorted({mention.code for mention in doc.record.locations if mention.code})
    title_terms, text_terms = terms if terms is not None else analyze_fields((doc.title, doc.text))
    return {
        "id": doc.id,
        "version": doc.version,
        "url": doc.url,
        "source": doc.source,
        "source_key": doc.source.casefold(),
        "title": doc.title,
        "text": doc.text,
        "title_terms": title_terms,
        "text_terms": text_terms,
        "published": doc.published.isoformat() if doc.published else None,
        "day": doc.published.astimezone(WIB).date().isoformat() if doc.published else None,
        "relevance": doc.relevance,
        "categories": doc.categories,
        "victim_groups": doc.victim_groups,
        "region_codes": doc.region_codes,
        "places": places,
        "primary_location": doc.primary_location.model_dump(mode="json")
        if doc.primary_location
        else None,
        "record": doc.record.model_dump(mode="json"),
    }


class ElasticIndex:
    """`SearchIndex` on Elasticsearch 9 (the official client), TLS and basic auth."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        ca_certs: str | None = None,
        alias: str = DEFAULT_ALIAS,
        refresh: bool = True,
        max_attempts: int = 6,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        request_timeout: float = 30.0,
        bulk_size: int = BULK_SIZE,
        client: Elasticsearch | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not an Elasticsearch URL: {url}")
        host = urlsplit(url).hostname or ""
        if url.startswith("http://") and password and host not in ("127.0.0.1", "localhost", "::1"):
            # A password over plain HTTP is readable by anyone on the path.
            raise IndexUnavailable(
                f"{url}: refusing to send a password over plain http://; use https://"
            )
        self.url = url
        self.alias = alias
        self.refresh = refresh
        self.bulk_size = max(1, bulk_size)
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        options: dict[str, Any] = {
            "request_timeout": request_timeout,
            # Retries are ours (with backoff and per-item handling), not the transport's.
            "max_retries": 0,
            "retry_on_timeout": False,
        }
        if username is not None:
            options["basic_auth"] = (username, password or "")
        if ca_certs:
            options["ca_certs"] = ca_certs
        self.client = client or Elasticsearch(url, **options)
        self._ready = False

    # -- connection and layout ---------------------------------------------------------

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> ElasticIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def versioned_name(self, version: int = MAPPING_VERSION) -> str:
        return f"{self.alias}-v{version}"

    def _call(self, what: str, fn: Callable[[], T], retry: bool = False) -> T:
        """One API call, with errors turned into messages a person can act on."""
        attempts = self.max_attempts if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                return fn()
            except AuthenticationException as exc:
                raise IndexUnavailable(
                    f"{self.url}: authentication failed (401) — check index_username and "
                    "index_password"
                ) from exc
            except AuthorizationException as exc:
                raise IndexUnavailable(
                    f"{self.url}: the user may not {what} (403) — give it the privileges in "
                    f"docs/scaling.md on '{self.alias}*' ({_short(exc)})"
                ) from exc
            except TlsError as exc:
                raise IndexUnavailable(
                    f"{self.url}: TLS failed ({_short(exc)}) — the server certificate is not "
                    "trusted: set index_ca_certs to the cluster's CA certificate"
                ) from exc
            except (TransportConnectionError, ConnectionTimeout) as exc:
                if attempt == attempts:
                    raise IndexUnavailable(
                        f"{self.url}: cannot reach Elasticsearch while trying to {what} "
                        f"({_short(exc)})"
                    ) from exc
            except ApiError as exc:
                if exc.meta.status not in RETRY_STATUSES or attempt == attempts:
                    raise
            self._sleep(attempt)
        raise AssertionError("unreachable")

    def _sleep(self, attempt: int) -> None:
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        time.sleep(delay * (0.5 + random.random() / 2))  # jitter: clients do not stampede

    def ensure_index(self) -> None:
        """Template, first versioned index and alias, created once; verified each start."""
        if self._ready:
            return
        client = self.client
        indonesian = self._has_indonesian_analyzer()
        template: dict[str, Any] = {
            "index_patterns": [f"{self.alias}-v*"],
            "template": {"settings": index_settings(), "mappings": mappings(indonesian)},
            "priority": 100,
            "_meta": {"pantau_mapping_version": MAPPING_VERSION},
        }
        self._call(
            "put the index template",
            lambda: client.indices.put_index_template(name=self.alias, **template),
            retry=True,
        )
        exists = self._call(
            "check the alias", lambda: client.indices.exists_alias(name=self.alias), retry=True
        )
        if not exists:
            if self._call(
                "check the index", lambda: client.indices.exists(index=self.alias), retry=True
            ):
                raise MappingConflict(
                    f"'{self.alias}' is a concrete index, not an alias: Pantau needs the name for "
                    "its alias; reindex it into a versioned index or delete it"
                )
            name = self.versioned_name()
            try:
                self._call(
                    "create the index",
                    lambda: client.indices.create(
                        index=name, aliases={self.alias: {"is_write_index": True}}
                    ),
                    retry=True,
                )
            except ApiError as exc:
                if _error_type(exc) != "resource_already_exists_exception":
                    raise
                client.indices.put_alias(index=name, name=self.alias)
        self._check_mapping()
        self._ready = True

    def _has_indonesian_analyzer(self) -> bool:
        try:
            self._call(
                "probe analyzers",
                lambda: self.client.indices.analyze(analyzer="indonesian", text="perdagangan"),
            )
            return True
        except ApiError:
            return False  # this build has no analysis-common module

    def _check_mapping(self) -> None:
        """Fail clearly when the live index maps a field differently from what we write."""
        live = self._call(
            "read the mapping", lambda: self.client.indices.get_mapping(index=self.alias)
        )
        expected = mappings()["properties"]
        for index_name, body in live.body.items():
            properties = body.get("mappings", {}).get("properties", {})
            wrong = [
                f"{name} is {properties[name].get('type', 'object')}, expected {spec['type']}"
                for name, spec in expected.items()
                if name in properties and properties[name].get("type", "object") != spec["type"]
            ]
            if wrong:
                raise MappingConflict(
                    f"index {index_name} (alias {self.alias}) has an incompatible mapping: "
                    f"{'; '.join(wrong)} — reindex into a new version (pantau index --reindex) "
                    "or delete it"
                )

    # -- writing ---------------------------------------------------------------------

    def upsert(self, documents: list[IndexDocument]) -> int:
        """Index or replace documents by id; raises RejectedDocuments for any that stay
        rejected (after the others are indexed) and IndexUnavailable when the cluster is
        down after every retry."""
        if not documents:
            return 0
        self.ensure_index()
        unique = list({doc.id: doc for doc in documents}.values())  # the last copy wins
        indexed: list[str] = []
        rejected: dict[str, str] = {}
        # Pipelined: while one chunk's bulk request is in flight (network and the cluster's
        # own threads), the next chunk is prepared here; a large batch is analysed ahead in
        # worker processes (`index.analysis_pool`). One sender thread keeps the chunks in
        # order, so a later copy of a document still wins.
        chunk_size = min(
            self.bulk_size, max(PIPELINE_MIN_CHUNK, -(-len(unique) // PIPELINE_CHUNKS))
        )
        analysed = chain.from_iterable(iter_analyzed([(doc.title, doc.text) for doc in unique]))
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pantau-bulk") as sender:
            in_flight: Future[tuple[list[str], dict[str, str]]] | None = None
            for chunk in _chunks(unique, chunk_size):
                actions = {
                    doc.id: {"_id": doc.id, "_source": to_source(doc, next(analysed))}
                    for doc in chunk
                }
                if in_flight is not None:
                    _merge(in_flight.result(), indexed, rejected)
                in_flight = sender.submit(self._bulk_index, actions)
            if in_flight is not None:
                _merge(in_flight.result(), indexed, rejected)
        if self.refresh:
            self._refresh()
        if rejected:
            raise RejectedDocuments(indexed, rejected)
        return len(indexed)

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """For a large load (a first indexing, a backfill): the index is refreshed only
        every BULK_REFRESH_INTERVAL while it runs — every refresh writes a small segment
        that must later be merged — then its refresh interval is restored and it is
        refreshed once, also when the load fails. Writes are as durable as ever (the
        translog is untouched); only their visibility to search waits. Not `-1`: if this
        process dies mid-load, the index still refreshes, just less often, until the
        next load ends and sets Pantau's own interval again."""
        self.ensure_index()
        client = self.client
        live = self._call(
            "read the index settings",
            lambda: client.indices.get_settings(index=self.alias, name="index.refresh_interval"),
            retry=True,
        )
        previous = {
            name: body.get("settings", {}).get("index", {}).get("refresh_interval")
            for name, body in live.body.items()
        }
        for name, interval in previous.items():
            if interval == BULK_REFRESH_INTERVAL:
                # Left by a load whose process died: what it should go back to is ours.
                previous[name] = index_settings()["refresh_interval"]
        for name in previous:
            self._set_refresh_interval("pause refreshes", name, BULK_REFRESH_INTERVAL)
        refresh, self.refresh = self.refresh, False
        try:
            yield
        finally:
            self.refresh = refresh
            for name, interval in previous.items():
                # None: the setting was not set on the index, so it goes back to unset.
                self._set_refresh_interval("restore refreshes", name, interval)
            self._refresh()

    def _set_refresh_interval(self, what: str, index: str, interval: str | None) -> None:
        client = self.client
        self._call(
            what,
            partial(
                client.indices.put_settings, index=index, settings={"refresh_interval": interval}
            ),
            retry=True,
        )

    def _bulk_index(self, actions: dict[str, dict[str, Any]]) -> tuple[list[str], dict[str, str]]:
        pending = dict(actions)
        indexed: list[str] = []
        rejected: dict[str, str] = {}
        for attempt in range(1, self.max_attempts + 1):
            operations: list[dict[str, Any]] = []
            for doc_id, action in pending.items():
                operations.append({"index": {"_index": self.alias, "_id": doc_id}})
                operations.append(action["_source"])
            try:
                response = self.client.bulk(operations=operations)
            except (TransportConnectionError, ConnectionTimeout) as exc:
                if attempt == self.max_attempts:
                    raise IndexUnavailable(
                        f"{self.url}: cannot reach Elasticsearch to index {len(pending)} "
                        f"document(s) after {attempt} attempts ({_short(exc)})"
                    ) from exc
                log.warning("bulk request failed (%s); retrying", _short(exc))
                self._sleep(attempt)
                continue
            except ApiError as exc:
                if exc.meta.status not in RETRY_STATUSES or attempt == self.max_attempts:
                    raise
                log.warning("bulk request got %s; retrying", exc.meta.status)
                self._sleep(attempt)
                continue
            retry: dict[str, dict[str, Any]] = {}
            for item in response["items"]:
                result = item["index"]
                doc_id = result["_id"]
                status = int(result.get("status", 500))
                if status < 300:
                    indexed.append(doc_id)
                elif status in RETRY_STATUSES:
                    retry[doc_id] = pending[doc_id]
                    rejected[doc_id] = _reason(result.get("error"))
                else:
                    rejected[doc_id] = _reason(result.get("error"))
            for doc_id in indexed:
                rejected.pop(doc_id, None)
            if not retry:
                return indexed, rejected
            log.warning("%d bulk item(s) failed temporarily; retrying them", len(retry))
            pending = retry
            if attempt < self.max_attempts:
                self._sleep(attempt)
        return indexed, rejected

    def delete(self, ids: list[str]) -> int:
        if not ids:
            return 0
        self.ensure_index()
        operations = [{"delete": {"_index": self.alias, "_id": doc_id}} for doc_id in ids]
        response = self._call(
            "delete documents", lambda: self.client.bulk(operations=operations), retry=True
        )
        deleted = sum(1 for item in response["items"] if item["delete"].get("result") == "deleted")
        if self.refresh:
            self._refresh()
        return deleted

    def _refresh(self) -> None:
        self._call("refresh", lambda: self.client.indices.refresh(index=self.alias), retry=True)

    # -- reading ---------------------------------------------------------------------

    def versions(self) -> dict[str, str]:
        self.ensure_index()

        def scan() -> dict[str, str]:
            hits = helpers.scan(self.client, index=self.alias, _source=["version"], size=5000)
            return {hit["_id"]: hit["_source"]["version"] for hit in hits}

        return self._call("read the indexed versions", scan, retry=True)

    def count(self) -> int:
        self.ensure_index()
        response = self._call("count", lambda: self.client.count(index=self.alias), retry=True)
        return int(response["count"])

    def search(self, request: SearchRequest) -> SearchResult:
        self.ensure_index()
        parsed = parse_query(request.q)
        body = self.search_body(parsed, request)
        response = self._call(
            "search", lambda: self.client.search(index=self.alias, **body), retry=True
        )
        terms = parsed.highlight_terms()
        scored = parsed.has_text
        raw_hits = response["hits"]["hits"]
        hits = [self._hit(hit, terms, scored) for hit in raw_hits]
        facets = self._facets(response.get("aggregations", {})) if request.facets else {}
        total = int(response["hits"]["total"]["value"])
        before = (
            int(decode_cursor(request.cursor).get("seen", 0))
            if request.cursor
            else (request.page - 1) * request.size
        )
        seen = before + len(hits)
        next_cursor = None
        if raw_hits and seen < total:
            # search_after: the next page starts after this one's last sort values, however
            # deep (from + size is capped at 10,000 by index.max_result_window).
            next_cursor = encode_cursor({"after": raw_hits[-1]["sort"], "seen": seen})
        return SearchResult(
            total=total,
            page=request.page,
            size=request.size,
            hits=hits,
            facets=facets,
            next_cursor=next_cursor,
        )

    def search_body(self, parsed: ParsedQuery, request: SearchRequest) -> dict[str, Any]:
        """The request body for a parsed query (no user text reaches the query DSL unparsed)."""
        must = [
            {"bool": {"should": [_clause(c) for c in group], "minimum_should_match": 1}}
            for group in parsed.required
        ]
        must_not = [_clause(clause) for clause in parsed.excluded]
        filters: list[dict[str, Any]] = []
        wanted = {
            "source_key": [
                v.casefold() for v in [*request.sources, *parsed.filters.get("source", [])]
            ],
            "relevance": [
                v.lower() for v in [*request.relevance, *parsed.filters.get("relevance", [])]
            ],
            "categories": [*request.categories, *parsed.filters.get("category", [])],
            "victim_groups": [*request.victim_groups, *parsed.filters.get("victim_group", [])],
            "region_codes": [*request.regions, *parsed.filters.get("region", [])],
        }
        for name, values in wanted.items():
            if values:
                filters.append({"terms": {name: values}})
        date_from = max((d for d in (request.date_from, parsed.date_from) if d), default=None)
        date_to = min((d for d in (request.date_to, parsed.date_to) if d), default=None)
        if date_from or date_to:
            bounds: dict[str, str] = {"format": "yyyy-MM-dd"}
            if date_from:
                bounds["gte"] = date_from.isoformat()
            if date_to:
                bounds["lte"] = date_to.isoformat()
            filters.append({"range": {"day": bounds}})
        query: dict[str, Any] = {
            "bool": {"must": must or [{"match_all": {}}], "must_not": must_not, "filter": filters}
        }
        if parsed.has_text and request.sort == "relevance":
            sort: list[Any] = [
                {"_score": "desc"},
                {"published": {"order": "desc", "missing": "_last"}},
                {"id": "asc"},
            ]
        else:
            sort = [{"published": {"order": "desc", "missing": "_last"}}, {"id": "desc"}]
        body: dict[str, Any] = {
            "query": query,
            "sort": sort,
            "from_": (request.page - 1) * request.size,
            "size": request.size,
            "track_total_hits": True,
            "track_scores": parsed.has_text,
            "source_excludes": ["title_terms", "text_terms", "record"],
        }
        if request.cursor:
            state = decode_cursor(request.cursor)
            body["search_after"] = state["after"]
            body["from_"] = 0
        if request.facets:
            body["aggs"] = _aggregations()
        return body

    def _hit(self, hit: dict[str, Any], terms: set[str], scored: bool) -> SearchHit:
        source = hit["_source"]
        published = source.get("published")
        location = source.get("primary_location")
        score = hit.get("_score")
        return SearchHit(
            id=source["id"],
            score=float(score) if scored and score is not None else None,
            url=source["url"],
            source=source["source"],
            title=source["title"],
            title_html=highlight(source["title"], terms),
            snippet_html=snippet(source["text"], terms),
            published=datetime.fromisoformat(published) if published else None,
            relevance=source["relevance"],
            categories=source.get("categories") or [],
            victim_groups=source.get("victim_groups") or [],
            primary_location=Region.model_validate(location) if location else None,
        )

    def _facets(self, aggregations: dict[str, Any]) -> dict[str, list[FacetValue]]:
        facets: dict[str, list[FacetValue]] = {}
        for name in ("relevance", "source", *MULTI_VALUED):
            buckets = aggregations.get(name, {}).get("buckets", [])
            facets[name] = sorted(
                (
                    FacetValue(value=b["key"], label=_label(name, b["key"]), count=b["doc_count"])
                    for b in buckets
                ),
                key=lambda v: (-v.count, v.value),
            )
        for name in DATE_FACETS:
            facets[name] = [
                FacetValue(
                    value=b["key_as_string"],
                    label=_label(name, b["key_as_string"]),
                    count=b["doc_count"],
                )
                for b in aggregations.get(name, {}).get("buckets", [])
                if b["doc_count"] > 0
            ]
        return facets

    # -- maintenance -------------------------------------------------------------------

    def current_index(self) -> str:
        self.ensure_index()
        aliases = self._call(
            "read the alias", lambda: self.client.indices.get_alias(name=self.alias)
        )
        return sorted(aliases.body)[-1]

    def reindex(self, new_version: int | None = None, batch: int = 1000) -> str:
        """Copy every document into a new versioned index (client-side scroll + bulk; this
        build has no reindex API), then move the alias in one atomic step: searches see the
        old index until the new one is complete, never an empty one."""
        old = self.current_index()
        number = new_version or int(old.rsplit("-v", 1)[1]) + 1
        new = self.versioned_name(number)
        client = self.client
        if client.indices.exists(index=new):
            raise MappingConflict(f"{new} already exists; delete it or pick another version")
        client.indices.create(index=new, settings={"refresh_interval": "-1"})
        copied = 0
        for chunk in _chunks(helpers.scan(client, index=old, size=batch), batch):
            operations: list[dict[str, Any]] = []
            # The analysed fields are not in `_source` (ANALYSED_FIELDS): analysed again here,
            # with the analysis of this Pantau (what a reindex after an analyzer change wants).
            fields = [(hit["_source"]["title"], hit["_source"]["text"]) for hit in chunk]
            for hit, (title_terms, text_terms) in zip(
                chunk, chain.from_iterable(iter_analyzed(fields)), strict=True
            ):
                source = {**hit["_source"], "title_terms": title_terms, "text_terms": text_terms}
                operations.append({"index": {"_index": new, "_id": hit["_id"]}})
                operations.append(source)
            response = self._call(
                "copy documents", partial(client.bulk, operations=operations), retry=True
            )
            if response["errors"]:
                failed = {
                    i["index"]["_id"]: _reason(i["index"].get("error"))
                    for i in response["items"]
                    if i["index"].get("status", 500) >= 300
                }
                raise RejectedDocuments([], failed)
            copied += len(chunk)
        client.indices.put_settings(index=new, settings={"refresh_interval": "1s"})
        client.indices.refresh(index=new)
        client.indices.update_aliases(
            actions=[
                {"add": {"index": new, "alias": self.alias, "is_write_index": True}},
                {"remove": {"index": old, "alias": self.alias}},
            ]
        )
        log.info("reindexed %d documents from %s into %s", copied, old, new)
        return new

    def drop(self) -> None:
        """Delete every versioned index and the template (tests and `reindex` clean-up)."""
        try:
            names = list(self.client.indices.get(index=f"{self.alias}-v*").body)
            for name in names:
                self.client.indices.delete(index=name)
            self.client.indices.delete_index_template(name=self.alias)
        except NotFoundError:
            pass
        self._ready = False


def _merge(
    result: tuple[list[str], dict[str, str]], indexed: list[str], rejected: dict[str, str]
) -> None:
    chunk_indexed, chunk_rejected = result
    indexed += chunk_indexed
    rejected.update(chunk_rejected)


def _clause(clause: TextClause) -> dict[str, Any]:
    """A term or phrase on the analysed fields; the text is Pantau's own terms, joined."""
    return {
        "multi_match": {
            "query": " ".join(clause.terms),
            "type": "phrase",
            "fields": [f"title_terms^{TITLE_BOOST}", "text_terms"],
        }
    }


def _aggregations() -> dict[str, Any]:
    aggs: dict[str, Any] = {
        "relevance": {"terms": {"field": "relevance", "size": FACET_SIZES["relevance"]}},
        "source": {"terms": {"field": "source", "size": FACET_SIZES["source"]}},
        "category": {"terms": {"field": "categories", "size": FACET_SIZES["category"]}},
        "victim_group": {"terms": {"field": "victim_groups", "size": FACET_SIZES["victim_group"]}},
        "region": {"terms": {"field": "region_codes", "size": REGION_FACET_SIZE}},
        "month": {
            "date_histogram": {
                "field": "day",
                "calendar_interval": "month",
                "format": "yyyy-MM",
                "min_doc_count": 1,
            }
        },
        # Weeks start on Monday (ISO), keyed by that Monday as the embedded index keys them.
        "week": {
            "date_histogram": {
                "field": "day",
                "calendar_interval": "week",
                "format": "yyyy-MM-dd",
                "min_doc_count": 1,
            }
        },
    }
    return aggs


def _label(field: str, value: str) -> str:
    if field == "week":
        return week_label(value)
    if field == "category":
        return CATEGORY_LABELS.get(value, value)
    if field == "region":
        place = load_gazetteer().get(value)
        return place.name if place else value
    return value


def _reason(error: Any) -> str:
    """The server's reason, shortened: reasons can quote the whole offending value."""
    if isinstance(error, dict):
        reason = f"{error.get('type', 'error')}: {_clip(str(error.get('reason', '')))}"
        cause = error.get("caused_by")
        if isinstance(cause, dict):
            reason += f" ({cause.get('type')}: {_clip(str(cause.get('reason')))})"
        return reason
    return _clip(str(error))


def _clip(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _error_type(exc: ApiError) -> str | None:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error")
    return error.get("type") if isinstance(error, dict) else None


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 300 else text[:300] + "…"


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def day_of(published: datetime | None) -> date | None:
    return published.astimezone(WIB).date() if published else None
