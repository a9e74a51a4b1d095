"""The embedded index: SQLite FTS5 in one file beside the article store, no server.

Why FTS5: it ships inside Python's sqlite3, ranks with BM25, supports phrase queries and
column weights, and handles hundreds of thousands of news articles on one machine. What it
lacks for Indonesian (stemming, stop words) is done before it: the FTS table holds the
terms of `nlp.analysis.analyze`, the same analysis the Elasticsearch backend indexes, while
the original text is kept for display and snippets. Filters and facets are plain indexed
columns and a (field, value) table, so they need no full-text work.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from index.base import (
    FacetValue,
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
CREATE INDEX IF NOT EXISTS docs_day ON docs(day);
CREATE INDEX IF NOT EXISTS docs_source ON docs(source);
CREATE INDEX IF NOT EXISTS docs_relevance ON docs(relevance);
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
# Title matches count more than body matches.
BM25 = "bm25(fts, 4.0, 1.0)"
# Days are counted in Jambi's time zone, so an article of 23:30 WIB belongs to its day.
WIB = timezone(timedelta(hours=7))
MULTI_VALUED = {"category": "categories", "victim_group": "victim_groups", "region": "region_codes"}
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


def match_expression(groups: list[list[TextClause]]) -> str:
    return " AND ".join(
        "(" + " OR ".join(fts_expression(clause) for clause in group) + ")" for group in groups
    )


class EmbeddedIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect(path)
        self._db.executescript(SCHEMA)

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
        with transaction(db):
            for doc in documents:
                self._delete_one(doc.id)
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
                        doc.published.isoformat() if doc.published else None,
                        doc.published.astimezone(WIB).date().isoformat() if doc.published else None,
                        doc.relevance,
                        doc.primary_location.model_dump_json() if doc.primary_location else None,
                        doc.record.model_dump_json(),
                    ),
                )
                rowid = cursor.lastrowid
                db.execute(
                    "INSERT INTO fts (rowid, title, body) VALUES (?, ?, ?)",
                    (rowid, " ".join(analyze(doc.title)), " ".join(analyze(doc.text))),
                )
                values = [
                    (field, value, rowid)
                    for field, attribute in MULTI_VALUED.items()
                    for value in getattr(doc, attribute)
                ]
                db.executemany("INSERT OR IGNORE INTO doc_values VALUES (?, ?, ?)", values)
        return len(documents)

    def delete(self, ids: list[str]) -> int:
        with transaction(self._db):
            return sum(self._delete_one(doc_id) for doc_id in ids)

    def _delete_one(self, doc_id: str) -> int:
        row = self._db.execute("SELECT rowid FROM docs WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            return 0
        rowid = row["rowid"]
        self._db.execute("DELETE FROM fts WHERE rowid = ?", (rowid,))
        self._db.execute("DELETE FROM doc_values WHERE rowid = ?", (rowid,))
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
        db.execute("DROP TABLE IF EXISTS temp.hits")
        db.execute("CREATE TEMP TABLE hits (rowid INTEGER PRIMARY KEY, score REAL)")
        if scored:
            select = f"SELECT docs.rowid, {BM25} FROM fts JOIN docs ON docs.rowid = fts.rowid"
        else:
            select = "SELECT docs.rowid, NULL FROM docs"
        db.execute(f"INSERT INTO temp.hits {select} WHERE {' AND '.join(where) or '1'}", params)
        total = int(db.execute("SELECT count(*) FROM temp.hits").fetchone()[0])
        order = (
            "hits.score ASC, docs.published DESC"
            if scored and request.sort == "relevance"
            else "docs.published IS NULL, docs.published DESC, docs.rowid DESC"
        )
        # A cursor here is an offset: SQLite skips rows cheaply enough at Pantau's sizes.
        offset = (
            int(decode_cursor(request.cursor).get("offset", 0))
            if request.cursor
            else (request.page - 1) * request.size
        )
        rows = db.execute(
            f"""SELECT docs.*, hits.score FROM temp.hits hits JOIN docs ON docs.rowid = hits.rowid
                ORDER BY {order} LIMIT ? OFFSET ?""",
            (request.size, offset),
        ).fetchall()
        terms = parsed.highlight_terms()
        hits = [self._hit(row, terms) for row in rows]
        facets = self._facets() if request.facets else {}
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
            where.append("docs.rowid NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
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
                    f"docs.rowid IN (SELECT rowid FROM doc_values WHERE field = ? "
                    f"AND value IN ({marks}))"
                )
                params += [field, *values]
            else:
                where.append(f"docs.{field} COLLATE NOCASE IN ({marks})")
                params += values
        date_from = _latest(request.date_from, parsed.date_from)
        date_to = _earliest(request.date_to, parsed.date_to)
        if date_from:
            where.append("docs.day >= ?")
            params.append(date_from.isoformat())
        if date_to:
            where.append("docs.day <= ?")
            params.append(date_to.isoformat())
        return where, params, scored

    def _hit(self, row: sqlite3.Row, terms: set[str]) -> SearchHit:
        record = json.loads(row["record"])
        return SearchHit(
            id=row["id"],
            score=-row["score"] if row["score"] is not None else None,
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

    def _facets(self) -> dict[str, list[FacetValue]]:
        db = self._db
        facets: dict[str, list[FacetValue]] = {}
        for field in ("relevance", "source"):
            rows = db.execute(
                f"""SELECT docs.{field} AS value, count(*) AS n FROM temp.hits hits
                    JOIN docs ON docs.rowid = hits.rowid GROUP BY value ORDER BY n DESC, value"""
            )
            facets[field] = [
                FacetValue(value=r["value"], label=r["value"], count=r["n"]) for r in rows
            ]
        for field in MULTI_VALUED:
            rows = db.execute(
                """SELECT v.value AS value, count(*) AS n FROM temp.hits hits
                   JOIN doc_values v ON v.rowid = hits.rowid AND v.field = ?
                   GROUP BY v.value ORDER BY n DESC, v.value""",
                (field,),
            )
            facets[field] = [
                FacetValue(value=r["value"], label=self._label(field, r["value"]), count=r["n"])
                for r in rows
            ]
        rows = db.execute(
            """SELECT substr(docs.day, 1, 7) AS value, count(*) AS n FROM temp.hits hits
               JOIN docs ON docs.rowid = hits.rowid WHERE docs.day IS NOT NULL
               GROUP BY value ORDER BY value"""
        )
        facets["month"] = [
            FacetValue(value=r["value"], label=r["value"], count=r["n"]) for r in rows
        ]
        return facets

    def _label(self, field: str, value: str) -> str:
        if field == "category":
            return CATEGORY_LABELS.get(value, value)
        if field == "region":
            place = load_gazetteer().get(value)
            return place.name if place else value
        return value


def _latest(*days: date | None) -> date | None:
    return max((d for d in days if d), default=None)


def _earliest(*days: date | None) -> date | None:
    return min((d for d in days if d), default=None)
