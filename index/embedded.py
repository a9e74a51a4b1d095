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
(month and week from the days) in Python. The counts of the empty query are cached until
the index changes.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

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
from nlp.analysis import analyze
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
# searches no longer read); `_migrate` brings a version-1 file up to date from its own
# tables (no re-analysis of the text, so no rebuild is needed).
SCHEMA_VERSION = 2
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
        try:
            self._migrate()
        except BaseException:
            self._db.close()
            raise
        self._writes = 0  # this connection's commits; with data_version, keys the cache
        self._all_facets: tuple[tuple[int, int], dict[str, dict[str, int]]] | None = None
        # Combination id → its (field, value) pairs: ids never change meaning, so this cache
        # needs no invalidation.
        self._combos: dict[int, list[tuple[str, str]]] = {}

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

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> EmbeddedIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------

    def upsert(self, documents: list[IndexDocument]) -> int:
        """Add or replace documents by id, all in one transaction."""
        db = self._db
        self._writes += 1
        combos: dict[str, int] = {}
        with transaction(db):
            for doc in documents:
                self._delete_one(doc.id)
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
                    (rowid, published, day, doc.relevance, doc.source, combo),
                )
                db.execute(
                    "INSERT INTO fts (rowid, title, body) VALUES (?, ?, ?)",
                    (rowid, " ".join(analyze(doc.title)), " ".join(analyze(doc.text))),
                )
                db.executemany(
                    "INSERT OR IGNORE INTO doc_values VALUES (?, ?, ?)",
                    [(field, value, rowid) for field, values in multi.items() for value in values],
                )
        return len(documents)

    def delete(self, ids: list[str]) -> int:
        self._writes += 1
        with transaction(self._db):
            return sum(self._delete_one(doc_id) for doc_id in ids)

    def _delete_one(self, doc_id: str) -> int:
        row = self._db.execute("SELECT rowid FROM docs WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return 0
        rowid = row["rowid"]
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
        where, params, scored = self._conditions(parsed, request)
        db = self._db
        if where:
            db.execute("DROP TABLE IF EXISTS temp.hits")
            db.execute(
                "CREATE TEMP TABLE hits (rowid INTEGER PRIMARY KEY, score REAL, published TEXT, "
                "day TEXT, combo INTEGER)"
            )
            columns = "meta.published, meta.day, meta.combo"
            if scored:
                select = (
                    f"SELECT meta.rowid, {BM25}, {columns} FROM fts "
                    "JOIN meta ON meta.rowid = fts.rowid"
                )
            else:
                select = f"SELECT meta.rowid, NULL, {columns} FROM meta"
            inserted = db.execute(
                f"INSERT INTO temp.hits {select} WHERE {' AND '.join(where)}", params
            )
            total = int(inserted.rowcount)
            hits_table = "temp.hits"
        else:
            # Everything matches (the first view of search and dashboards): no hits table.
            total = int(db.execute("SELECT count(*) FROM meta").fetchone()[0])
            hits_table = "(SELECT rowid, NULL AS score, published FROM meta)"
        order = (
            "score ASC, published DESC"
            if scored and request.sort == "relevance"
            else "published IS NULL, published DESC, rowid DESC"
        )
        # A cursor here is an offset: SQLite skips rows cheaply enough at Pantau's sizes.
        offset = (
            int(decode_cursor(request.cursor).get("offset", 0))
            if request.cursor
            else (request.page - 1) * request.size
        )
        # Order the narrow hits table first; read the wide rows of the page alone.
        page = db.execute(
            f"SELECT rowid, score FROM {hits_table} ORDER BY {order} LIMIT ? OFFSET ?",
            (request.size, offset),
        ).fetchall()
        rows: dict[int, sqlite3.Row] = {}
        if page:
            marks = ",".join("?" * len(page))
            for row in db.execute(
                f"SELECT rowid, * FROM docs WHERE rowid IN ({marks})", [r[0] for r in page]
            ):
                rows[row[0]] = row
        terms = parsed.highlight_terms()
        hits = [self._hit(rows[rowid], score, terms) for rowid, score in page]
        facets = self._facets(everything=not where) if request.facets else {}
        seen = offset + len(hits)
        return SearchResult(
            total=total,
            page=request.page,
            size=request.size,
            hits=hits,
            facets=facets,
            next_cursor=encode_cursor({"offset": seen}) if seen < total else None,
        )

    def _conditions(
        self, parsed: ParsedQuery, request: SearchRequest
    ) -> tuple[list[str], list[object], bool]:
        where: list[str] = []
        params: list[object] = []
        scored = parsed.has_text
        if scored:
            where.append("fts MATCH ?")
            params.append(match_expression(parsed.required))
        if parsed.excluded:
            where.append("meta.rowid NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
            params.append(" OR ".join(fts_expression(clause) for clause in parsed.excluded))
        wanted = {
            "source": [*request.sources, *parsed.filters.get("source", [])],
            "relevance": [*request.relevance, *parsed.filters.get("relevance", [])],
            "category": [*request.categories, *parsed.filters.get("category", [])],
            "victim_group": [*request.victim_groups, *parsed.filters.get("victim_group", [])],
            "region": [*request.regions, *parsed.filters.get("region", [])],
        }
        for field, values in wanted.items():
            if not values:
                continue
            marks = ",".join("?" * len(values))
            if field in MULTI_VALUED:
                where.append(
                    f"meta.rowid IN (SELECT rowid FROM doc_values WHERE field = ? "
                    f"AND value IN ({marks}))"
                )
                params += [field, *values]
            else:
                where.append(f"meta.{field} COLLATE NOCASE IN ({marks})")
                params += values
        date_from = _latest(request.date_from, parsed.date_from)
        date_to = _earliest(request.date_to, parsed.date_to)
        if date_from:
            where.append("meta.day >= ?")
            params.append(date_from.isoformat())
        if date_to:
            where.append("meta.day <= ?")
            params.append(date_to.isoformat())
        return where, params, scored

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

    def _facets(self, everything: bool) -> dict[str, list[FacetValue]]:
        """Counts of every facet's values among the hits (`temp.hits`)."""
        counted = self._count_all() if everything else self._count("temp.hits")
        facets: dict[str, list[FacetValue]] = {}
        for field in FACET_ORDER:
            values = counted.get(field, {}).items()
            if field in DATE_FACETS:
                ordered = sorted(values)
            else:
                ordered = sorted(values, key=lambda pair: (-pair[1], pair[0]))
            facets[field] = [
                FacetValue(value=value, label=self._label(field, value), count=n)
                for value, n in ordered
            ]
        return facets

    def _count(self, table: str) -> dict[str, dict[str, int]]:
        """field → value → documents, over a table of documents with `combo` and `day`."""
        db = self._db
        counts: dict[str, dict[str, int]] = {field: {} for field in FACET_ORDER}
        for combo, n in db.execute(f"SELECT combo, count(*) FROM {table} GROUP BY combo"):
            for field, value in self._combo(combo):
                values = counts[field]
                values[value] = values.get(value, 0) + n
        months, weeks = counts["month"], counts["week"]
        for day, n in db.execute(
            f"SELECT day, count(*) FROM {table} WHERE day IS NOT NULL GROUP BY day"
        ):
            month, week = _month_and_week(day)
            months[month] = months.get(month, 0) + n
            weeks[week] = weeks.get(week, 0) + n
        return counts

    def _combo(self, combo: int) -> list[tuple[str, str]]:
        values = self._combos.get(combo)
        if values is None:
            row = self._db.execute("SELECT key FROM combos WHERE id = ?", (combo,)).fetchone()
            values = self._combos[combo] = combo_values(row[0])
        return values

    def _count_all(self) -> dict[str, dict[str, int]]:
        """Facet counts of the whole index (the empty query: every dashboard's first view),
        cached until this or another connection writes (PRAGMA data_version)."""
        key = (int(self._db.execute("PRAGMA data_version").fetchone()[0]), self._writes)
        if self._all_facets is None or self._all_facets[0] != key:
            self._all_facets = (key, self._count("meta"))
        return self._all_facets[1]

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
