"""The article store: one SQLite file in WAL mode that holds everything Pantau knows.

Fetched pages (raw HTML, zlib-compressed, with status and headers), extracted articles
(keyed by a stable id from the canonical URL), tags per the contract with the model that
made them, and crawl state. Every write is an idempotent upsert inside a transaction, so a
crash or Ctrl-C leaves the file consistent and a re-run adds nothing twice.

Schema changes are numbered migrations; `PRAGMA user_version` records the one applied.
"""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from pantau.models import ExtractedArticle, TaggedArticle
from pantau.sqlite import connect, transaction

# Each entry moves the schema from version i to i+1. Never edit a released migration:
# append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE pages (
        url TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        status INTEGER NOT NULL,
        headers TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        body BLOB NOT NULL
    );
    CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        canonical_url TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        source TEXT NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        published TEXT,
        updated TEXT,
        author TEXT,
        editor TEXT,
        category TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        language TEXT,
        pages INTEGER NOT NULL DEFAULT 1,
        content_hash TEXT NOT NULL,
        revision INTEGER NOT NULL DEFAULT 1,
        first_seen_at TEXT NOT NULL,
        fetched_at TEXT NOT NULL
    );
    CREATE INDEX articles_content_hash ON articles(content_hash);
    CREATE INDEX articles_source_published ON articles(source, published);
    CREATE TABLE tags (
        article_id TEXT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
        content_hash TEXT NOT NULL,
        model_name TEXT NOT NULL,
        model_version TEXT NOT NULL,
        tagged_at TEXT NOT NULL,
        record TEXT NOT NULL
    );
    CREATE TABLE crawl_state (
        source TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (source, key)
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '{}'
    );
    """,
    # 2: what the crawl, index and flow stages build on (revisions of updated articles,
    # story clusters of syndicated copies, the index outbox).
    """
    ALTER TABLE articles ADD COLUMN story_id TEXT;
    CREATE INDEX articles_story ON articles(story_id);
    CREATE TABLE article_revisions (
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        revision INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (article_id, revision)
    );
    CREATE TABLE article_signatures (
        article_id TEXT PRIMARY KEY REFERENCES articles(id) ON DELETE CASCADE,
        signature BLOB NOT NULL
    );
    CREATE TABLE index_outbox (
        article_id TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        enqueued_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT
    );
    """,
]


class UpsertOutcome(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class StoredArticle:
    article: ExtractedArticle
    id: str
    content_hash: str
    revision: int
    fetched_at: str


@dataclass(frozen=True)
class StoredPage:
    url: str
    source: str
    status: int
    headers: dict[str, str]
    fetched_at: str
    html: bytes


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ArticleStore:
    """Typed access to the store file. One instance per thread (sqlite3 connections are not
    shared across threads); several processes may open the same file thanks to WAL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = connect(path)
        self._migrate()

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ArticleStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise RuntimeError(
                f"{self.path} has schema version {current}, newer than this Pantau "
                f"({len(MIGRATIONS)}); upgrade Pantau"
            )
        for version in range(current, len(MIGRATIONS)):
            # executescript commits first, so run each migration as one explicit transaction.
            self._db.executescript(
                f"BEGIN; {MIGRATIONS[version]}; PRAGMA user_version = {version + 1}; COMMIT;"
            )

    # -- pages ---------------------------------------------------------------------------

    def save_page(
        self, url: str, source: str, status: int, headers: dict[str, str], html: bytes
    ) -> None:
        self._db.execute(
            """INSERT INTO pages (url, source, status, headers, fetched_at, body)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT(url) DO UPDATE SET status=excluded.status, headers=excluded.headers,
                   fetched_at=excluded.fetched_at, body=excluded.body, source=excluded.source""",
            (url, source, status, json.dumps(headers), utc_now(), zlib.compress(html, 6)),
        )

    def get_page(self, url: str) -> StoredPage | None:
        row = self._db.execute("SELECT * FROM pages WHERE url = ?", (url,)).fetchone()
        if row is None:
            return None
        return StoredPage(
            url=row["url"],
            source=row["source"],
            status=row["status"],
            headers=json.loads(row["headers"]),
            fetched_at=row["fetched_at"],
            html=zlib.decompress(row["body"]),
        )

    # -- articles ------------------------------------------------------------------------

    def upsert_article(self, article: ExtractedArticle) -> UpsertOutcome:
        """Store an article once: same canonical URL and text → unchanged; same URL, new
        text → updated (revision + 1); same text under another URL → duplicate, not stored."""
        article_id = article.id
        digest = article.content_hash
        now = utc_now()
        with transaction(self._db):
            existing = self._db.execute(
                "SELECT content_hash FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
            if existing is not None:
                if existing["content_hash"] == digest:
                    self._db.execute(
                        "UPDATE articles SET fetched_at = ? WHERE id = ?", (now, article_id)
                    )
                    return UpsertOutcome.UNCHANGED
                self._db.execute(
                    """UPDATE articles SET url=?, source=?, title=?, text=?, published=?,
                       updated=?, author=?, editor=?, category=?, tags=?, language=?, pages=?,
                       content_hash=?, revision=revision+1, fetched_at=? WHERE id=?""",
                    (*self._article_values(article)[2:], digest, now, article_id),
                )
                return UpsertOutcome.UPDATED
            twin = self._db.execute(
                "SELECT id FROM articles WHERE content_hash = ? LIMIT 1", (digest,)
            ).fetchone()
            if twin is not None:
                return UpsertOutcome.DUPLICATE
            self._db.execute(
                """INSERT INTO articles (id, canonical_url, url, source, title, text, published,
                   updated, author, editor, category, tags, language, pages, content_hash,
                   revision, first_seen_at, fetched_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)""",
                (article_id, *self._article_values(article)[1:], digest, now, now),
            )
            return UpsertOutcome.NEW

    @staticmethod
    def _article_values(article: ExtractedArticle) -> tuple[object, ...]:
        return (
            article.id,
            article.canonical_url,
            article.url,
            article.source,
            article.title,
            article.text,
            article.published.isoformat() if article.published else None,
            article.updated.isoformat() if article.updated else None,
            article.author,
            article.editor,
            article.category,
            json.dumps(article.tags, ensure_ascii=False),
            article.language,
            article.pages,
        )

    def get_article(self, article_id: str) -> StoredArticle | None:
        row = self._db.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return self._stored(row) if row is not None else None

    def iter_articles(self, source: str | None = None) -> Iterator[StoredArticle]:
        query = "SELECT * FROM articles"
        params: tuple[str, ...] = ()
        if source is not None:
            query += " WHERE source = ?"
            params = (source,)
        for row in self._db.execute(query + " ORDER BY id", params):
            yield self._stored(row)

    def count_articles(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM articles").fetchone()[0])

    @staticmethod
    def _stored(row: sqlite3.Row) -> StoredArticle:
        article = ExtractedArticle(
            url=row["url"],
            canonical_url=row["canonical_url"],
            source=row["source"],
            title=row["title"],
            text=row["text"],
            published=row["published"],
            updated=row["updated"],
            author=row["author"],
            editor=row["editor"],
            category=row["category"],
            tags=json.loads(row["tags"]),
            language=row["language"] or "id",
            pages=row["pages"],
        )
        return StoredArticle(
            article=article,
            id=row["id"],
            content_hash=row["content_hash"],
            revision=row["revision"],
            fetched_at=row["fetched_at"],
        )

    # -- tags ----------------------------------------------------------------------------

    def articles_to_tag(self, model_name: str, model_version: str) -> Iterator[StoredArticle]:
        """Articles with no tag, or whose tag is from another model or an older text."""
        rows = self._db.execute(
            """SELECT a.* FROM articles a LEFT JOIN tags t ON t.article_id = a.id
               WHERE t.article_id IS NULL OR t.content_hash != a.content_hash
                  OR t.model_name != ? OR t.model_version != ?
               ORDER BY a.id""",
            (model_name, model_version),
        ).fetchall()
        for row in rows:
            yield self._stored(row)

    def save_tag(self, tagged: TaggedArticle, content_hash: str) -> None:
        self._db.execute(
            """INSERT INTO tags (article_id, content_hash, model_name, model_version, tagged_at,
                   record) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT(article_id) DO UPDATE SET content_hash=excluded.content_hash,
                   model_name=excluded.model_name, model_version=excluded.model_version,
                   tagged_at=excluded.tagged_at, record=excluded.record""",
            (
                tagged.id,
                content_hash,
                tagged.model.name,
                tagged.model.version,
                utc_now(),
                tagged.model_dump_json(),
            ),
        )

    def get_tag(self, article_id: str) -> TaggedArticle | None:
        row = self._db.execute(
            "SELECT record FROM tags WHERE article_id = ?", (article_id,)
        ).fetchone()
        return TaggedArticle.model_validate_json(row["record"]) if row else None

    def iter_tagged(self) -> Iterator[tuple[StoredArticle, TaggedArticle]]:
        """Every article with its current tag (tags of an older text are left out)."""
        rows = self._db.execute(
            """SELECT a.*, t.record FROM articles a JOIN tags t ON t.article_id = a.id
               WHERE t.content_hash = a.content_hash ORDER BY a.id"""
        ).fetchall()
        for row in rows:
            yield self._stored(row), TaggedArticle.model_validate_json(row["record"])

    def count_tags(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM tags").fetchone()[0])

    # -- crawl state ---------------------------------------------------------------------

    def get_state(self, source: str, key: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM crawl_state WHERE source = ? AND key = ?", (source, key)
        ).fetchone()
        return row["value"] if row else None

    def set_state(self, source: str, key: str, value: str) -> None:
        self._db.execute(
            """INSERT INTO crawl_state (source, key, value, updated_at) VALUES (?, ?, ?, ?)
               ON CONFLICT(source, key) DO UPDATE SET value=excluded.value,
                   updated_at=excluded.updated_at""",
            (source, key, value, utc_now()),
        )

    def known_urls(self, source: str) -> set[str]:
        rows = self._db.execute(
            "SELECT url, canonical_url FROM articles WHERE source = ?", (source,)
        )
        known: set[str] = set()
        for row in rows:
            known.update((row["url"], row["canonical_url"]))
        return known

    # -- runs ----------------------------------------------------------------------------

    def start_run(self, kind: str) -> int:
        cursor = self._db.execute(
            "INSERT INTO runs (kind, started_at, status) VALUES (?, ?, 'running')",
            (kind, utc_now()),
        )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, summary: dict[str, object]) -> None:
        self._db.execute(
            "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
            (utc_now(), status, json.dumps(summary, ensure_ascii=False, default=str), run_id),
        )

    def last_runs(self, limit: int = 5) -> list[dict[str, object]]:
        rows = self._db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))
        return [{**dict(row), "summary": json.loads(row["summary"])} for row in rows.fetchall()]
