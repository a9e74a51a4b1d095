"""The embedded index: SQLite FTS5 in one file beside the article store, no server.

Why FTS5: it ships inside Python's sqlite3, ranks with BM25, supports phrase queries and
column weights, and handles hundreds of thousands of news articles on one machine. What it
lacks for Indonesian (stemming, stop words) is done before it: the FTS table holds the
terms of `nlp.analysis.analyze`, the same analysis the Elasticsearch backend indexes, while
the original text is kept for display and snippets. Filters and facets are plain indexed
columns and a (field, value) table, so they need no full-text work.

Speed (docs/benchmarks.md): the wide `docs` rows (text, record) are read only for the page
of hits shown; filtering, sorting and facets read the narrow `meta` table. Facets are counted
per *combination*: documents with the same relevance, source, categories, victim groups and
regions share one `combos` row, so a search counts its hits per combination and per day in
two grouped passes over its own hits table, and expands those few groups into every facet
(month and week from the days) in Python. Queries without text (the empty query, filters
only, exclusions) do not look at their hits at all: `counts` holds the documents per (day,
combination), updated in the same transaction as the documents, so their totals and facets
cost the number of groups, and their page is read by walking the index on `published`
newest first (LIMIT/OFFSET), or, for a narrow filter, the few matching rows through the
index on `combo`. The counts of the empty query are cached until the index changes.

Indexing analyses a large batch in worker processes (`index.analysis_pool`) while this
process writes the chunks already analysed, so a bulk load uses every core.
"""

from __future__ import annotations

import json
import sqlite3
import string
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from index.analysis_pool import iter_analyzed
from index.base import (
    FacetValue,
    IndexBackendError,
    IndexDocument,
    SearchHit,
    SearchRequest,
    SearchResult,
    decode_cursor,
    encode_cursor,
)
from index.highlight import highlight, snippet
from index.query import ParsedQuery, TextClause, parse_query
from nlp.gazetteer import load_gazetteer
from pantau.models import Region
from pantau.sqlite import connect, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    version TEXT NOT NULL,
    url TEXT NOT NULL,
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    published TEXT,
    day TEXT,
    relevance TEXT NOT NULL,
    primary_location TEXT,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    rowid INTEGER PRIMARY KEY,
    published TEXT,
    day TEXT,
    relevance TEXT NOT NULL,
    source TEXT NOT NULL,
    combo INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS meta_day ON meta(day);
CREATE INDEX IF NOT EXISTS meta_published ON meta(published);
CREATE INDEX IF NOT EXISTS meta_combo ON meta(combo, published);
CREATE TABLE IF NOT EXISTS counts (
    day TEXT NOT NULL,
    combo INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (day, combo)
) WITHOUT ROWID;
-- Totals per combination over all days read this in order, without sorting.
CREATE INDEX IF NOT EXISTS counts_combo ON counts(combo, n);
CREATE TABLE IF NOT EXISTS combos (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS doc_values (
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    rowid INTEGER NOT NULL,
    PRIMARY KEY (field, value, rowid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS doc_values_rowid ON doc_values(rowid);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    title, body, tokenize = "unicode61 remove_diacritics 0"
);
"""
# Version 2 added `meta` and `combos` (and dropped version 1's indexes on `docs`, which
# searches no longer read). Version 3 added `counts` (documents per day and combination,
# kept in the same transaction as the documents; '' is the day of undated ones), indexes
# on meta's `published` and `combo`, and made meta's `published` a sort key (UTC, fixed
# width, so text order is time order and a day range is a key range). `_migrate` brings an
# older file up to date from its own tables (no re-analysis of the text, no rebuild).
SCHEMA_VERSION = 3
UNDATED = ""  # the day of an undated document in `counts`
MATCHING_CACHE_SIZE = 256  # distinct filters remembered per connection
INLINE_COMBOS = 5000  # up to this many combinations are written into a query as `IN (…)`
# Title matches count more than body matches.
BM25 = "bm25(fts, 4.0, 1.0)"
# Days are counted in Jambi's time zone, so an article of 23:30 WIB belongs to its day.
WIB = timezone(timedelta(hours=7))
MULTI_VALUED = {"category": "categories", "victim_group": "victim_groups", "region": "region_codes"}
# Facets in the order results carry them; the date histograms are in date order, the others
# most frequent first.
FACET_ORDER = ("relevance", "source", *MULTI_VALUED, "month", "week")
DATE_FACETS = ("month", "week")
CATEGORY_LABELS = {
    "tppo": "TPPO (perdagangan orang)",
    "kekerasan_seksual": "Kekerasan seksual",
    "kekerasan_fisik": "Kekerasan fisik",
    "kekerasan_psikis": "Kekerasan psikis",
    "eksploitasi": "Eksploitasi",
    "penelantaran": "Penelantaran",
}


def fts_expression(clause: TextClause) -> str:
    """One clause as an FTS5 string token (quoted, so no user text is FTS5 syntax)."""
    return '"' + " ".join(term.replace('"', '""') for term in clause.terms) + '"'


def week_of(day: date) -> date:
    """The Monday of a day's ISO week: the week facet's value (as Elasticsearch buckets)."""
    return day - timedelta(days=day.weekday())


def week_label(monday: str) -> str:
    """'2026-11-16' → '2026-W47': the ISO week, as the dashboard's weekly counts name it."""
    year, week, _ = date.fromisoformat(monday).isocalendar()
    return f"{year}-W{week:02d}"


def combo_key(relevance: str, source: str, multi: dict[str, list[str]]) -> str:
    """The facet values of a document other than its date, as one canonical string (each
    multi-valued field's values deduplicated and sorted, as a facet counts them once)."""
    fields = {"relevance": relevance, "source": source}
    return json.dumps(
        [fields, {field: sorted(set(multi.get(field, []))) for field in MULTI_VALUED}],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def sort_key(published: datetime) -> str:
    """meta's `published`: UTC at fixed width, so text order is time order (whatever offset
    a source wrote) and a range of days in WIB is a range of keys."""
    return published.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def combo_values(key: str) -> list[tuple[str, str]]:
    """(field, value) pairs of a combination key."""
    single, multi = json.loads(key)
    return [*single.items(), *((f, v) for f, values in multi.items() for v in values)]


def match_expression(groups: list[list[TextClause]]) -> str:
    return " AND ".join(
        "(" + " OR ".join(fts_expression(clause) for clause in group) + ")" for group in groups
    )


class EmbeddedIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect(path)
        # A larger page cache and memory-mapped reads: search touches the same index pages
        # again and again (measured in bench/index_bench.py).
        self._db.execute("PRAGMA cache_size=-65536")
        self._db.execute("PRAGMA mmap_size=268435456")
        self._db.execute("PRAGMA temp_store=MEMORY")
        # A bulk load's large transactions grow the write-ahead log; once checkpointed it
        # is cut back to this size instead of keeping its peak on disk.
        self._db.execute("PRAGMA journal_size_limit=16777216")
        try:
            self._migrate()
        except BaseException:
            self._db.close()
            raise
        self._writes = 0  # this connection's commits; with data_version, keys the cache
        self._all_groups: tuple[tuple[int, int], Groups] | None = None
        # Combination id → its (field, value) pairs and its values as filters compare them:
        # ids never change meaning, so this cache needs no invalidation, only new rows.
        self._combos: dict[int, list[tuple[str, str]]] = {}
        self._combo_filters: dict[int, ComboValues] = {}
        self._combos_loaded = 0  # the highest combination id read
        # Filters → the combinations they let through (valid while no new combination is
        # read); and the facets of the cached whole-index groups.
        self._matching: dict[Filters, tuple[int, list[int]]] = {}
        self._all_facets: tuple[Groups, dict[str, list[tuple[str, str, int]]]] | None = None

    def _migrate(self) -> None:
        db = self._db
        if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        with transaction(db):
            # Checked again inside the write lock: another process may have just done it.
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return
            if version > SCHEMA_VERSION:
                raise IndexBackendError(
                    f"{self.path} was written by a newer Pantau (index schema {version}, this "
                    f"one reads {SCHEMA_VERSION}): upgrade Pantau or delete the file and run "
                    "`pantau index` to rebuild it"
                )
            existing = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'docs'"
            ).fetchone()
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            if existing is not None and version < 2:
                self._migrate_1_to_2()
            if existing is not None and version < 3:
                self._migrate_2_to_3()
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _migrate_1_to_2(self) -> None:
        db = self._db
        multi: dict[int, dict[str, list[str]]] = {}
        for field, value, rowid in db.execute("SELECT field, value, rowid FROM doc_values"):
            multi.setdefault(rowid, {}).setdefault(field, []).append(value)
        for name in ("docs_day", "docs_source", "docs_relevance"):
            db.execute(f"DROP INDEX IF EXISTS {name}")
        combos: dict[str, int] = {}
        rows = db.execute("SELECT rowid, published, day, relevance, source FROM docs").fetchall()
        for rowid, published, day, relevance, source in rows:
            combo = self._combo_id(combo_key(relevance, source, multi.get(rowid, {})), combos)
            db.execute(
                "INSERT OR REPLACE INTO meta (rowid, published, day, relevance, source, combo) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (rowid, published, day, relevance, source, combo),
            )

    def _migrate_2_to_3(self) -> None:
        db = self._db
        rows = db.execute("SELECT rowid, published FROM docs WHERE published IS NOT NULL")
        db.executemany(
            "UPDATE meta SET published = ? WHERE rowid = ?",
            [(sort_key(datetime.fromisoformat(published)), rowid) for rowid, published in rows],
        )
        db.execute("DELETE FROM counts")
        db.execute(
            "INSERT INTO counts (day, combo, n) "
            f"SELECT coalesce(day, '{UNDATED}'), combo, count(*) FROM meta GROUP BY 1, 2"
        )

    def _combo_id(self, key: str, known: dict[str, int]) -> int:
        """The id of a combination, created on first use (inside the caller's transaction;
        `known` lives only as long as it, so a rolled-back id is never reused)."""
        combo = known.get(key)
        if combo is None:
            self._db.execute("INSERT OR IGNORE INTO combos (key) VALUES (?)", (key,))
            row = self._db.execute("SELECT id FROM combos WHERE key = ?", (key,)).fetchone()
            combo = int(row[0])
            known[key] = combo
        return combo

    def bulk_load(self) -> AbstractContextManager[None]:
        """Nothing to defer: each upsert is one transaction, searchable when committed."""
        return nullcontext()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> EmbeddedIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------

    def upsert(self, documents: list[IndexDocument]) -> int:
        """Add or replace documents by id, all in one transaction. A large batch is analysed
        in a process pool (`index.analysis_pool`) while the analysed chunks are written."""
        db = self._db
        self._writes += 1
        combos: dict[str, int] = {}
        counts: dict[tuple[str, int], int] = {}
        analysed = iter_analyzed([(doc.title, doc.text) for doc in documents])
        with transaction(db):
            position = 0
            for chunk in analysed:
                for doc, (title_terms, text_terms) in zip(
                    documents[position : position + len(chunk)], chunk, strict=True
                ):
                    self._insert_one(doc, title_terms, text_terms, combos, counts)
                position += len(chunk)
            self._apply_counts(counts)
        return len(documents)

    def _insert_one(
        self,
        doc: IndexDocument,
        title_terms: str,
        text_terms: str,
        combos: dict[str, int],
        counts: dict[tuple[str, int], int],
    ) -> None:
        db = self._db
        self._delete_one(doc.id, counts)
        day = doc.published.astimezone(WIB).date().isoformat() if doc.published else None
        published = doc.published.isoformat() if doc.published else None
        cursor = db.execute(
            """INSERT INTO docs (id, version, url, source, title, text, published, day,
               relevance, primary_location, record) VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
            (
                doc.id,
                doc.version,
                doc.url,
                doc.source,
                doc.title,
                doc.text,
                published,
                day,
                doc.relevance,
                doc.primary_location.model_dump_json() if doc.primary_location else None,
                doc.record.model_dump_json(),
            ),
        )
        rowid = cursor.lastrowid
        multi = {field: getattr(doc, name) for field, name in MULTI_VALUED.items()}
        combo = self._combo_id(combo_key(doc.relevance, doc.source, multi), combos)
        db.execute(
            "INSERT INTO meta (rowid, published, day, relevance, source, combo) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                rowid,
                sort_key(doc.published) if doc.published else None,
                day,
                doc.relevance,
                doc.source,
                combo,
            ),
        )
        group = (day or UNDATED, combo)
        counts[group] = counts.get(group, 0) + 1
        db.execute(
            "INSERT INTO fts (rowid, title, body) VALUES (?, ?, ?)",
            (rowid, title_terms, text_terms),
        )
        db.executemany(
            "INSERT OR IGNORE INTO doc_values VALUES (?, ?, ?)",
            [(field, value, rowid) for field, values in multi.items() for value in values],
        )

    def _apply_counts(self, counts: dict[tuple[str, int], int]) -> None:
        """Add a transaction's changes to the per-(day, combination) counts; groups that
        reach zero are removed, so the table stays as small as the groups in use."""
        changes = [(day, combo, n) for (day, combo), n in counts.items() if n]
        self._db.executemany(
            "INSERT INTO counts (day, combo, n) VALUES (?, ?, ?) "
            "ON CONFLICT (day, combo) DO UPDATE SET n = n + excluded.n",
            changes,
        )
        self._db.executemany(
            "DELETE FROM counts WHERE day = ? AND combo = ? AND n <= 0",
            [(day, combo) for day, combo, n in changes if n < 0],
        )

    def delete(self, ids: list[str]) -> int:
        self._writes += 1
        counts: dict[tuple[str, int], int] = {}
        with transaction(self._db):
            deleted = sum(self._delete_one(doc_id, counts) for doc_id in ids)
            self._apply_counts(counts)
        return deleted

    def _delete_one(self, doc_id: str, counts: dict[tuple[str, int], int]) -> int:
        row = self._db.execute(
            "SELECT docs.rowid, meta.day, meta.combo FROM docs "
            "LEFT JOIN meta ON meta.rowid = docs.rowid WHERE docs.id = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            return 0
        rowid, day, combo = row
        if combo is not None:
            group = (day or UNDATED, combo)
            counts[group] = counts.get(group, 0) - 1
        self._db.execute("DELETE FROM fts WHERE rowid = ?", (rowid,))
        self._db.execute("DELETE FROM doc_values WHERE rowid = ?", (rowid,))
        self._db.execute("DELETE FROM meta WHERE rowid = ?", (rowid,))
        self._db.execute("DELETE FROM docs WHERE rowid = ?", (rowid,))
        return 1

    # -- reading ---------------------------------------------------------------------

    def versions(self) -> dict[str, str]:
        return {
            row["id"]: row["version"] for row in self._db.execute("SELECT id, version FROM docs")
        }

    def count(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM docs").fetchone()[0])

    def search(self, request: SearchRequest) -> SearchResult:
        parsed = parse_query(request.q)
        filters = Filters.of(parsed, request)
        # A cursor here is an offset: SQLite skips rows cheaply enough at Pantau's sizes.
        offset = (
            int(decode_cursor(request.cursor).get("offset", 0))
            if request.cursor
            else (request.page - 1) * request.size
        )
        rows: dict[int, sqlite3.Row] = {}
        # One read transaction: counts, page and rows are of the same moment, even while
        # another process writes (WAL readers see a snapshot and block no writer).
        self._db.execute("BEGIN")
        try:
            if parsed.has_text:
                total, page, groups = self._search_text(parsed, filters, request, offset)
            else:
                total, page, groups = self._search_without_text(parsed, filters, request, offset)
            if page:
                # Only the page's wide rows (text, record) are read.
                marks = ",".join("?" * len(page))
                for row in self._db.execute(
                    f"SELECT rowid, * FROM docs WHERE rowid IN ({marks})", [r[0] for r in page]
                ):
                    rows[row[0]] = row
        finally:
            if self._db.in_transaction:  # an error may have ended it already
                self._db.execute("COMMIT")
        terms = parsed.highlight_terms()
        hits = [self._hit(rows[rowid], score, terms) for rowid, score in page]
        seen = offset + len(hits)
        return SearchResult(
            total=total,
            page=request.page,
            size=request.size,
            hits=hits,
            facets=self._facets(groups) if groups is not None else {},
            next_cursor=encode_cursor({"offset": seen}) if seen < total else None,
        )

    def _search_text(
        self, parsed: ParsedQuery, filters: Filters, request: SearchRequest, offset: int
    ) -> tuple[int, list[tuple[int, float | None]], Groups | None]:
        """Text queries: the hits (with scores) into a narrow temp table, ordered there."""
        db = self._db
        combos = self._matching_combos(filters)
        if combos == []:
            return 0, [], _no_groups() if request.facets else None
        where, params = _meta_conditions(filters, self._combo_set(combos))
        expression = match_expression(parsed.required)
        if parsed.excluded:
            # FTS5's own NOT drops the excluded documents while merging the doclists, far
            # cheaper than a NOT IN over every document a common word excludes; a phrase
            # that matches nothing adds nothing to bm25, so scores are the same.
            expression = f"({expression}) NOT ({_exclusion(parsed)})"
        where.insert(0, "fts MATCH ?")
        params.insert(0, expression)
        self._new_hits_table()
        inserted = db.execute(
            f"INSERT INTO temp.hits SELECT meta.rowid, {BM25}, meta.published, meta.day, "
            f"meta.combo FROM fts JOIN meta ON meta.rowid = fts.rowid WHERE {' AND '.join(where)}",
            params,
        )
        total = int(inserted.rowcount)
        order = (
            "score ASC, published DESC"
            if request.sort == "relevance"
            else "published IS NULL, published DESC, rowid DESC"
        )
        # Order the narrow hits table first; read the wide rows of the page alone.
        page = db.execute(
            f"SELECT rowid, score FROM temp.hits ORDER BY {order} LIMIT ? OFFSET ?",
            (request.size, offset),
        ).fetchall()
        groups = self._hit_groups() if request.facets else None
        return total, [(rowid, score) for rowid, score in page], groups

    def _search_without_text(
        self, parsed: ParsedQuery, filters: Filters, request: SearchRequest, offset: int
    ) -> tuple[int, list[tuple[int, float | None]], Groups | None]:
        """The empty query and filters without text: totals and facets from `counts`, in the
        number of (day, combination) groups rather than hits; the page by walking the index
        on `published` (newest first) with LIMIT/OFFSET, never materialising every hit.
        Exclusions (`-narkoba`) subtract the few excluded documents' own groups."""
        db = self._db
        combos = self._matching_combos(filters)
        if combos == []:
            return 0, [], _no_groups() if request.facets else None
        ranged = filters.date_from is not None or filters.date_to is not None
        if combos is None and not ranged:
            groups, in_range = self._count_all(), None
        else:
            groups, in_range = self._count_groups(filters, combos)
        where, params = _meta_conditions(filters, self._combo_set(combos))
        if parsed.excluded:
            # The excluded documents among the filtered ones: few, for a typical exclusion.
            self._new_hits_table()
            db.execute(
                "INSERT INTO temp.hits SELECT meta.rowid, NULL, meta.published, meta.day, "
                "meta.combo FROM fts JOIN meta ON meta.rowid = fts.rowid WHERE "
                + " AND ".join(["fts MATCH ?", *where]),
                [_exclusion(parsed), *params],
            )
            groups = _subtract(groups, self._hit_groups())
            where.append("meta.rowid NOT IN (SELECT rowid FROM temp.hits)")
        _, day_counts, undated = groups
        dated = sum(day_counts.values())
        total = dated + undated
        page: list[tuple[int, float | None]] = []
        conditions = "".join(f" AND {condition}" for condition in where)
        if offset < dated:
            # Walk the dates newest first, unless the filter is so narrow that reading its
            # few documents through their combinations and sorting them costs less.
            walked = (offset + request.size) * (in_range or dated) / max(dated, 1)
            index = "meta_combo" if combos is not None and walked > 4 * dated else "meta_published"
            page += db.execute(
                f"SELECT meta.rowid, NULL FROM meta INDEXED BY {index} "
                f"WHERE meta.published IS NOT NULL{conditions} "
                "ORDER BY meta.published DESC, meta.rowid DESC LIMIT ? OFFSET ?",
                [*params, request.size, offset],
            ).fetchall()
        if len(page) < request.size and undated:
            # Undated documents come last, newest row first (as they sort on Elasticsearch).
            page += db.execute(
                "SELECT meta.rowid, NULL FROM meta INDEXED BY meta_published "
                f"WHERE meta.published IS NULL{conditions} "
                "ORDER BY meta.rowid DESC LIMIT ? OFFSET ?",
                [*params, request.size - len(page), max(0, offset - dated)],
            ).fetchall()
        return (
            total,
            [(rowid, score) for rowid, score in page],
            (groups if request.facets else None),
        )

    def _combo_set(self, combos: list[int] | None) -> tuple[str, list[object]] | None:
        """`IN (…)` for a set of combinations, with its parameters; a large set goes into a
        temp table instead (SQLite caps the parameters of a statement, and a national
        index can have tens of thousands of combinations)."""
        if combos is None:
            return None
        if len(combos) <= INLINE_COMBOS:
            return f"IN ({','.join('?' * len(combos))})", list(combos)
        self._db.execute("DROP TABLE IF EXISTS temp.wanted")
        self._db.execute("CREATE TEMP TABLE wanted (combo INTEGER PRIMARY KEY)")
        self._db.executemany("INSERT INTO temp.wanted VALUES (?)", [(c,) for c in combos])
        return "IN temp.wanted", []

    def _new_hits_table(self) -> None:
        self._db.execute("DROP TABLE IF EXISTS temp.hits")
        self._db.execute(
            "CREATE TEMP TABLE hits (rowid INTEGER PRIMARY KEY, score REAL, published TEXT, "
            "day TEXT, combo INTEGER)"
        )

    def _matching_combos(self, filters: Filters) -> list[int] | None:
        """The combinations the filters let through (None: no filter on them, so all)."""
        if not filters.on_combos:
            return None
        self._load_combos()
        cached = self._matching.get(filters)
        if cached is not None and cached[0] == self._combos_loaded:
            return cached[1]
        matching = [
            combo for combo, values in self._combo_filters.items() if filters.matches(values)
        ]
        if len(self._matching) >= MATCHING_CACHE_SIZE:
            self._matching.clear()
        self._matching[filters] = (self._combos_loaded, matching)
        return matching

    def _load_combos(self) -> None:
        for combo, key in self._db.execute(
            "SELECT id, key FROM combos WHERE id > ? ORDER BY id", (self._combos_loaded,)
        ):
            pairs = self._combos[combo] = combo_values(key)
            self._combo_filters[combo] = ComboValues.of(pairs)
            self._combos_loaded = max(self._combos_loaded, combo)

    def _hit(self, row: sqlite3.Row, score: float | None, terms: set[str]) -> SearchHit:
        record = json.loads(row["record"])
        return SearchHit(
            id=row["id"],
            score=-score if score is not None else None,
            url=row["url"],
            source=row["source"],
            title=row["title"],
            title_html=highlight(row["title"], terms),
            snippet_html=snippet(row["text"], terms),
            published=datetime.fromisoformat(row["published"]) if row["published"] else None,
            relevance=row["relevance"],
            categories=record.get("categories", []),
            victim_groups=record.get("victim_groups", []),
            primary_location=Region.model_validate_json(row["primary_location"])
            if row["primary_location"]
            else None,
        )

    def _facets(self, groups: Groups) -> dict[str, list[FacetValue]]:
        """Every facet's values and counts, expanded from documents per combination and
        per day (month and week from the days)."""
        if self._all_groups is not None and groups is self._all_groups[1]:
            # The empty query's (cached) groups: expanded once until the index changes
            # (new FacetValues each time: callers own what they get).
            if self._all_facets is None or self._all_facets[0] is not groups:
                self._all_facets = (groups, self._expand(groups))
            expanded = self._all_facets[1]
        else:
            expanded = self._expand(groups)
        return {
            field: [FacetValue(value=value, label=label, count=n) for value, label, n in values]
            for field, values in expanded.items()
        }

    def _expand(self, groups: Groups) -> dict[str, list[tuple[str, str, int]]]:
        """field → (value, label, count), in the order facets list them."""
        combo_counts, day_counts, _ = groups
        counted: dict[str, dict[str, int]] = {field: {} for field in FACET_ORDER}
        for combo, n in combo_counts.items():
            if n <= 0:
                continue
            for field, value in self._combo(combo):
                field_counts = counted[field]
                field_counts[value] = field_counts.get(value, 0) + n
        months, weeks = counted["month"], counted["week"]
        for day, n in day_counts.items():
            if n <= 0:
                continue
            month, week = _month_and_week(day)
            months[month] = months.get(month, 0) + n
            weeks[week] = weeks.get(week, 0) + n
        facets: dict[str, list[tuple[str, str, int]]] = {}
        for field in FACET_ORDER:
            values = counted[field].items()
            if field in DATE_FACETS:
                ordered = sorted(values)
            else:
                ordered = sorted(values, key=lambda pair: (-pair[1], pair[0]))
            facets[field] = [(value, self._label(field, value), n) for value, n in ordered]
        return facets

    def _hit_groups(self) -> Groups:
        """Documents per combination and per day among the hits (`temp.hits`)."""
        db = self._db
        combo_counts = dict(db.execute("SELECT combo, count(*) FROM temp.hits GROUP BY combo"))
        day_counts = dict(
            db.execute(
                "SELECT day, count(*) FROM temp.hits WHERE day IS NOT NULL GROUP BY day"
            ).fetchall()
        )
        return combo_counts, day_counts, sum(combo_counts.values()) - sum(day_counts.values())

    def _count_groups(self, filters: Filters, combos: list[int] | None) -> tuple[Groups, int]:
        """Documents per combination and per day from `counts`, for filters without text;
        and how many documents the date range holds, whatever their combination."""
        where: list[str] = ["1"]
        params: list[object] = []
        if filters.date_from is not None or filters.date_to is not None:
            where.append(f"day != '{UNDATED}'")
        if filters.date_from is not None:
            where.append("day >= ?")
            params.append(filters.date_from.isoformat())
        if filters.date_to is not None:
            where.append("day <= ?")
            params.append(filters.date_to.isoformat())
        clause = " AND ".join(where)
        in_range = 0
        combo_counts: dict[int, int] = {}
        wanted = set(combos) if combos is not None else None
        for combo, n in self._db.execute(
            f"SELECT combo, sum(n) FROM counts WHERE {clause} GROUP BY combo", params
        ):
            in_range += n
            if wanted is None or combo in wanted:
                combo_counts[combo] = n
        day_clause, day_params = clause, list(params)
        if combos is not None:
            members, member_params = self._combo_set(combos) or ("", [])
            day_clause += f" AND combo {members}"
            day_params += member_params
        day_counts = dict(
            self._db.execute(
                f"SELECT day, sum(n) FROM counts WHERE {day_clause} AND day != '{UNDATED}' "
                "GROUP BY day",
                day_params,
            ).fetchall()
        )
        undated = sum(combo_counts.values()) - sum(day_counts.values())
        return (combo_counts, day_counts, undated), in_range

    def _combo(self, combo: int) -> list[tuple[str, str]]:
        if combo not in self._combos:
            self._load_combos()
        return self._combos[combo]

    def _count_all(self) -> Groups:
        """The groups of the whole index (the empty query: every dashboard's first view),
        cached until this or another connection writes (PRAGMA data_version)."""
        key = (int(self._db.execute("PRAGMA data_version").fetchone()[0]), self._writes)
        if self._all_groups is None or self._all_groups[0] != key:
            self._all_groups = (key, self._count_groups(Filters(), None)[0])
        return self._all_groups[1]

    def _label(self, field: str, value: str) -> str:
        if field == "week":
            return week_label(value)
        if field == "category":
            return CATEGORY_LABELS.get(value, value)
        if field == "region":
            place = load_gazetteer().get(value)
            return place.name if place else value
        return value


@lru_cache(maxsize=20_000)
def _month_and_week(day: str) -> tuple[str, str]:
    """'2026-11-18' → ('2026-11', '2026-11-16'): the month, and the week by its Monday."""
    return day[:7], week_of(date.fromisoformat(day)).isoformat()


def _latest(*days: date | None) -> date | None:
    return max((d for d in days if d), default=None)


def _earliest(*days: date | None) -> date | None:
    return min((d for d in days if d), default=None)


# Documents per combination, per day (dated ones), and how many are undated.
Groups = tuple[dict[int, int], dict[str, int], int]


def _no_groups() -> Groups:
    return {}, {}, 0


def _subtract(groups: Groups, removed: Groups) -> Groups:
    combo_counts, day_counts, undated = groups
    combos = dict(combo_counts)
    for combo, n in removed[0].items():
        combos[combo] = combos.get(combo, 0) - n
    days = dict(day_counts)
    for day, n in removed[1].items():
        days[day] = days.get(day, 0) - n
    return (
        {combo: n for combo, n in combos.items() if n > 0},
        {day: n for day, n in days.items() if n > 0},
        undated - removed[2],
    )


def _exclusion(parsed: ParsedQuery) -> str:
    return " OR ".join(fts_expression(clause) for clause in parsed.excluded)


# SQLite's NOCASE folds ASCII letters only; filters on combinations compare the same way.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _nocase(value: str) -> str:
    return value.translate(_ASCII_LOWER)


@dataclass(frozen=True)
class ComboValues:
    """A combination's values as filters compare them."""

    relevance: str
    source: str
    multi: dict[str, frozenset[str]]

    @classmethod
    def of(cls, pairs: list[tuple[str, str]]) -> ComboValues:
        single = dict(pair for pair in pairs if pair[0] not in MULTI_VALUED)
        multi: dict[str, set[str]] = {field: set() for field in MULTI_VALUED}
        for field, value in pairs:
            if field in MULTI_VALUED:
                multi[field].add(value)
        return cls(
            relevance=_nocase(single.get("relevance", "")),
            source=_nocase(single.get("source", "")),
            multi={field: frozenset(values) for field, values in multi.items()},
        )


@dataclass(frozen=True)
class Filters:
    """A request's filters (form fields and `field:value` in the query, combined): each
    field lets through documents with any of its values; fields combine with AND."""

    relevance: frozenset[str] = frozenset()  # NOCASE
    sources: frozenset[str] = frozenset()  # NOCASE
    multi: tuple[tuple[str, frozenset[str]], ...] = ()  # field, any of these values
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def of(cls, parsed: ParsedQuery, request: SearchRequest) -> Filters:
        wanted = {
            "category": [*request.categories, *parsed.filters.get("category", [])],
            "victim_group": [*request.victim_groups, *parsed.filters.get("victim_group", [])],
            "region": [*request.regions, *parsed.filters.get("region", [])],
        }
        return cls(
            relevance=frozenset(
                _nocase(v) for v in [*request.relevance, *parsed.filters.get("relevance", [])]
            ),
            sources=frozenset(
                _nocase(v) for v in [*request.sources, *parsed.filters.get("source", [])]
            ),
            multi=tuple((field, frozenset(values)) for field, values in wanted.items() if values),
            date_from=_latest(request.date_from, parsed.date_from),
            date_to=_earliest(request.date_to, parsed.date_to),
        )

    @property
    def on_combos(self) -> bool:
        return bool(self.relevance or self.sources or self.multi)

    def matches(self, combo: ComboValues) -> bool:
        if self.relevance and combo.relevance not in self.relevance:
            return False
        if self.sources and combo.source not in self.sources:
            return False
        return all(not values.isdisjoint(combo.multi[field]) for field, values in self.multi)


def _meta_conditions(
    filters: Filters, combos: tuple[str, list[object]] | None
) -> tuple[list[str], list[object]]:
    """SQL conditions on `meta` for the filters: the matching combinations, and a date range
    both as days and as sort keys (the latter lets the index on `published` skip to it)."""
    where: list[str] = []
    params: list[object] = []
    if combos is not None:
        where.append(f"meta.combo {combos[0]}")
        params += combos[1]
    if filters.date_from is not None:
        start = datetime.combine(filters.date_from, time(), WIB)
        where += ["meta.day >= ?", "meta.published >= ?"]
        params += [filters.date_from.isoformat(), sort_key(start)]
    if filters.date_to is not None:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), WIB)
        where += ["meta.day <= ?", "meta.published < ?"]
        params += [filters.date_to.isoformat(), sort_key(end)]
    return where, params
