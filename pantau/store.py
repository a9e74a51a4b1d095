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
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

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
    # 3: the web app (web/): accounts, server-side sessions, the audit log, analysts' label
    # corrections (kept as a history: the effective label is the tag with every correction
    # applied in order) and queued export requests.
    """
    CREATE TABLE users (
        username TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('analyst', 'researcher', 'admin')),
        created_at TEXT NOT NULL,
        password_changed_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(username);
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        username TEXT,
        action TEXT NOT NULL,
        target TEXT,
        detail TEXT NOT NULL DEFAULT '{}',
        ip TEXT
    );
    CREATE INDEX audit_log_at ON audit_log(at);
    CREATE TABLE label_corrections (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        username TEXT NOT NULL,
        created_at TEXT NOT NULL,
        changes TEXT NOT NULL,
        note TEXT
    );
    CREATE INDEX label_corrections_article ON label_corrections(article_id);
    CREATE TABLE export_requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL,
        created_at TEXT NOT NULL,
        request TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued'
    );
    """,
    # 4: weekly digest deliveries (flows/digest.py), one row per week and region scope, so
    # a re-run does not send the same digest twice.
    """
    CREATE TABLE digest_deliveries (
        week TEXT NOT NULL,
        scope TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        recipients TEXT NOT NULL DEFAULT '[]',
        message_id TEXT,
        updated_at TEXT NOT NULL,
        sent_at TEXT,
        PRIMARY KEY (week, scope)
    );
    """,
    # 5: research datasets (pantau/export/): gold labels imported from Label Studio, with
    # provenance (who, when, from where) and the text they were made on; and what became
    # of an export request (its output folder, when it finished, why it failed).
    """
    CREATE TABLE annotations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        source TEXT NOT NULL,
        external_id TEXT,
        annotator TEXT NOT NULL,
        annotated_at TEXT NOT NULL,
        imported_at TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        labels TEXT NOT NULL,
        UNIQUE (source, external_id)
    );
    CREATE INDEX annotations_article ON annotations(article_id);
    ALTER TABLE export_requests ADD COLUMN output TEXT;
    ALTER TABLE export_requests ADD COLUMN finished_at TEXT;
    ALTER TABLE export_requests ADD COLUMN error TEXT;
    """,
    # 6: an export request is claimed (status 'running', started_at) by the one process
    # that makes it: the web app's background task or the scheduled export flow.
    """
    ALTER TABLE export_requests ADD COLUMN started_at TEXT;
    """,
    # 7: the labels generation, a counter that changes with anything the statistics read
    # (web.service.load_case_articles: tags, label_corrections, and the id, story, source,
    # date and text hash of tagged articles), so the web app can cache them safely
    # (web/stats_cache.py). It starts at a random value: a store deleted and made again
    # at the same path does not repeat the old numbers. No trigger on INSERT INTO
    # articles or pages (the crawl's hot path): an article without a tag is in no
    # statistic, and a story set on one (`save_story`) changes nothing either.
    """
    CREATE TABLE labels_generation (n INTEGER NOT NULL);
    INSERT INTO labels_generation (n) VALUES (abs(random() % 1000000000000));
    CREATE TRIGGER labels_generation_tag_insert AFTER INSERT ON tags
    BEGIN UPDATE labels_generation SET n = n + 1; END;
    CREATE TRIGGER labels_generation_tag_update AFTER UPDATE ON tags
    BEGIN UPDATE labels_generation SET n = n + 1; END;
    CREATE TRIGGER labels_generation_tag_delete AFTER DELETE ON tags
    BEGIN UPDATE labels_generation SET n = n + 1; END;
    CREATE TRIGGER labels_generation_correction_insert AFTER INSERT ON label_corrections
    BEGIN UPDATE labels_generation SET n = n + 1; END;
    CREATE TRIGGER labels_generation_correction_update AFTER UPDATE ON label_corrections
    BEGIN UPDATE labels_generation SET n = n + 1; END;
    CREATE TRIGGER labels_generation_correction_delete AFTER DELETE ON label_corrections
    BEGIN UPDATE labels_generation SET n = n + 1; END;
    CREATE TRIGGER labels_generation_article_update
    AFTER UPDATE OF id, story_id, source, published, content_hash ON articles
    WHEN (OLD.id IS NOT NEW.id OR OLD.story_id IS NOT NEW.story_id
          OR OLD.source IS NOT NEW.source OR OLD.published IS NOT NEW.published
          OR OLD.content_hash IS NOT NEW.content_hash)
      AND EXISTS (SELECT 1 FROM tags WHERE article_id IN (OLD.id, NEW.id))
    BEGIN UPDATE labels_generation SET n = n + 1; END;
    CREATE TRIGGER labels_generation_article_delete AFTER DELETE ON articles
    BEGIN UPDATE labels_generation SET n = n + 1; END;
    """,
]


# An export claimed longer ago than this is taken to be abandoned (its process died): the
# largest exports take minutes.
EXPORT_CLAIM_STALE = timedelta(hours=1)
_CLAIMABLE = "status = 'queued' OR (status = 'running' AND started_at < :stale)"


def _stale_claim_before() -> str:
    return (datetime.now(UTC) - EXPORT_CLAIM_STALE).isoformat(timespec="seconds")


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


def index_version(content_hash: str, model_name: str, model_version: str) -> str:
    """The search document's version (`index.base.IndexDocument.version`)."""
    return f"{content_hash[:16]}:{model_name}:{model_version}"


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
        text → updated (revision + 1, the previous text kept in `article_revisions`); same
        text under another URL → duplicate, not stored."""
        article_id = article.id
        digest = article.content_hash
        now = utc_now()
        # Inside a caller's `write_batch` it joins that transaction (the crawl's batches).
        with nullcontext() if self._db.in_transaction else transaction(self._db):
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
                    """INSERT OR IGNORE INTO article_revisions
                       (article_id, revision, content_hash, title, text, fetched_at)
                       SELECT id, revision, content_hash, title, text, fetched_at
                       FROM articles WHERE id = ?""",
                    (article_id,),
                )
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

    def revisions(self, article_id: str) -> list[dict[str, object]]:
        """Earlier texts of an article, oldest first."""
        rows = self._db.execute(
            "SELECT * FROM article_revisions WHERE article_id = ? ORDER BY revision",
            (article_id,),
        )
        return [dict(row) for row in rows.fetchall()]

    def write_batch(self) -> AbstractContextManager[None]:
        """One write transaction around several `save_page` and `upsert_article` calls: the
        crawl commits its pages and articles in batches (crawlers.store_writer), all or
        nothing, so a crash loses a whole batch, fetched again by the next run."""
        return transaction(self._db)

    # -- story clusters ------------------------------------------------------------------

    def story_transaction(self) -> AbstractContextManager[None]:
        """One write transaction around reading the latest signatures and saving a story, so
        crawls of several sources in parallel processes see each other's articles."""
        return transaction(self._db)

    def save_story(
        self, article_id: str, story_id: str, signature: bytes, merged: list[str]
    ) -> int:
        """An article's story and signature; the members of `merged` stories join it.
        Returns the signature's row (see `iter_signatures`)."""
        with nullcontext() if self._db.in_transaction else transaction(self._db):
            row = self._db.execute(
                """INSERT INTO article_signatures (article_id, signature) VALUES (?, ?)
                   ON CONFLICT(article_id) DO UPDATE SET signature = excluded.signature
                   RETURNING rowid""",
                (article_id, signature),
            ).fetchone()[0]
            self._db.execute(
                "UPDATE articles SET story_id = ? WHERE id = ?", (story_id, article_id)
            )
            for old in merged:
                self._db.execute(
                    "UPDATE articles SET story_id = ? WHERE story_id = ?", (story_id, old)
                )
        return int(row)

    def iter_signatures(self, after: int = 0) -> Iterator[tuple[int, str, str, str | None, bytes]]:
        """(signature row, article id, story id, published, signature) of the signatures
        saved after row `after`, in the order articles were first stored, so the first
        article of each story comes first."""
        rows = self._db.execute(
            """SELECT s.rowid, a.id, coalesce(a.story_id, a.id), a.published, s.signature
               FROM articles a JOIN article_signatures s ON s.article_id = a.id
               WHERE s.rowid > ? ORDER BY a.first_seen_at, a.rowid""",
            (after,),
        )
        for row in rows:
            yield row[0], row[1], row[2], row[3], bytes(row[4])

    def articles_without_signature(self) -> list[StoredArticle]:
        """Articles stored before story clustering, or by a crawl killed in between."""
        rows = self._db.execute(
            """SELECT a.* FROM articles a LEFT JOIN article_signatures s ON s.article_id = a.id
               WHERE s.article_id IS NULL ORDER BY a.first_seen_at, a.rowid"""
        ).fetchall()
        return [self._stored(row) for row in rows]

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
        # The index outbox: the index learns of every new tag, even one made while the
        # search cluster is down (`flows.ingest.index_pending` drains it). Should a crash
        # fall between the two statements, index_pending's reconciliation still finds it.
        self.enqueue_index(
            [(tagged.id, index_version(content_hash, tagged.model.name, tagged.model.version))]
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

    # -- index outbox --------------------------------------------------------------------

    def enqueue_index(self, entries: list[tuple[str, str]]) -> None:
        """Queue (article id, document version) for the search index; a newer version
        replaces a queued one and resets its attempts."""
        self._outbox_write(
            """INSERT INTO index_outbox (article_id, version, enqueued_at) VALUES (?, ?, ?)
               ON CONFLICT(article_id) DO UPDATE SET version=excluded.version,
                   enqueued_at=excluded.enqueued_at, attempts=0, last_error=NULL
               WHERE index_outbox.version != excluded.version""",
            [(article_id, version, utc_now()) for article_id, version in entries],
        )

    def _outbox_write(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        # One transaction per batch (not per row), unless the caller already holds one.
        if not rows:
            return
        if self._db.in_transaction:
            self._db.executemany(sql, rows)
            return
        with transaction(self._db):
            self._db.executemany(sql, rows)

    def outbox(self, limit: int, after: str = "") -> list[tuple[str, str]]:
        """Queued (article id, version), in id order after `after` (for batching)."""
        rows = self._db.execute(
            "SELECT article_id, version FROM index_outbox WHERE article_id > ? "
            "ORDER BY article_id LIMIT ?",
            (after, limit),
        ).fetchall()
        return [(row["article_id"], row["version"]) for row in rows]

    def outbox_done(self, entries: list[tuple[str, str]]) -> None:
        """Forget entries the index has taken; a version queued since then stays."""
        self._outbox_write(
            "DELETE FROM index_outbox WHERE article_id = ? AND version = ?", list(entries)
        )

    def outbox_failed(self, errors: dict[str, str]) -> None:
        self._outbox_write(
            "UPDATE index_outbox SET attempts = attempts + 1, last_error = ? WHERE article_id = ?",
            [(error[:2000], article_id) for article_id, error in errors.items()],
        )

    def outbox_status(self) -> dict[str, int]:
        row = self._db.execute(
            "SELECT count(*), sum(last_error IS NOT NULL) FROM index_outbox"
        ).fetchone()
        return {"queued": int(row[0]), "failing": int(row[1] or 0)}

    def tagged_article(self, article_id: str) -> tuple[StoredArticle, TaggedArticle] | None:
        """The article with its current tag, or None (gone, or its tag is of older text)."""
        row = self._db.execute(
            """SELECT a.*, t.record FROM articles a JOIN tags t ON t.article_id = a.id
               WHERE a.id = ? AND t.content_hash = a.content_hash""",
            (article_id,),
        ).fetchone()
        if row is None:
            return None
        return self._stored(row), TaggedArticle.model_validate_json(row["record"])

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

    def recent_urls(self, source: str, since: str) -> set[str]:
        """URLs of the source's articles published (or, undated, first seen) at or after
        `since` (ISO 8601): the ones a crawl re-fetches to catch updates."""
        rows = self._db.execute(
            """SELECT url, canonical_url FROM articles
               WHERE source = ? AND coalesce(published, first_seen_at) >= ?""",
            (source, since),
        )
        recent: set[str] = set()
        for row in rows:
            recent.update((row["url"], row["canonical_url"]))
        return recent

    # -- runs ----------------------------------------------------------------------------

    def start_run(self, kind: str, summary: dict[str, object] | None = None) -> int:
        # The initial summary names the process (pid, host), so a later run can tell a run
        # that is still going from one whose process was killed.
        cursor = self._db.execute(
            "INSERT INTO runs (kind, started_at, status, summary) VALUES (?, ?, 'running', ?)",
            (kind, utc_now(), json.dumps(summary or {}, ensure_ascii=False, default=str)),
        )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, summary: dict[str, object]) -> None:
        self._db.execute(
            "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
            (utc_now(), status, json.dumps(summary, ensure_ascii=False, default=str), run_id),
        )

    def count_index_outbox(self) -> int:
        """Articles waiting in the index outbox (filled by the index stage)."""
        return int(self._db.execute("SELECT count(*) FROM index_outbox").fetchone()[0])

    def last_runs(self, limit: int = 5) -> list[dict[str, object]]:
        rows = self._db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,))
        return [{**dict(row), "summary": json.loads(row["summary"])} for row in rows.fetchall()]

    # -- digest deliveries ---------------------------------------------------------------

    def digest_delivery(self, week: str, scope: str) -> dict[str, object] | None:
        """The delivery record of a week's digest for a region scope (flows/digest.py)."""
        row = self._db.execute(
            "SELECT * FROM digest_deliveries WHERE week = ? AND scope = ?", (week, scope)
        ).fetchone()
        if row is None:
            return None
        return {**dict(row), "recipients": json.loads(row["recipients"])}

    def record_digest_delivery(
        self,
        week: str,
        scope: str,
        status: str,
        attempts: int,
        recipients: list[str],
        error: str | None = None,
        message_id: str | None = None,
    ) -> None:
        """Record a delivery attempt's outcome ('sent' or 'failed'); attempts add up."""
        now = utc_now()
        self._db.execute(
            """INSERT INTO digest_deliveries (week, scope, status, attempts, last_error,
                   recipients, message_id, updated_at, sent_at) VALUES (?,?,?,?,?,?,?,?,?)
               ON CONFLICT(week, scope) DO UPDATE SET status=excluded.status,
                   attempts=digest_deliveries.attempts + excluded.attempts,
                   last_error=excluded.last_error, recipients=excluded.recipients,
                   message_id=coalesce(excluded.message_id, digest_deliveries.message_id),
                   updated_at=excluded.updated_at,
                   sent_at=coalesce(excluded.sent_at, digest_deliveries.sent_at)""",
            (
                week,
                scope,
                status,
                attempts,
                error[:2000] if error else None,
                json.dumps(recipients),
                message_id,
                now,
                now if status == "sent" else None,
            ),
        )

    def story_ids(self) -> dict[str, str]:
        """Article id → story id (an article in no story is its own story)."""
        rows = self._db.execute("SELECT id, coalesce(story_id, id) FROM articles")
        return {row[0]: row[1] for row in rows}

    def label_corrections(self) -> dict[str, list[dict[str, Any]]]:
        """Analysts' corrections per article, oldest first (web.service.apply_corrections)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for row in self._db.execute("SELECT * FROM label_corrections ORDER BY id"):
            found.setdefault(row["article_id"], []).append(
                {**dict(row), "changes": json.loads(row["changes"])}
            )
        return found

    def labels_generation(self) -> int:
        """A number that changes (triggers of migration 7) whenever tags, corrections or
        the story, source, date or text of a tagged article change, in any process: equal
        numbers mean the statistics' inputs are unchanged (web/stats_cache.py)."""
        return int(self._db.execute("SELECT n FROM labels_generation").fetchone()[0])

    # -- research datasets (pantau/export/) ------------------------------------------------

    def add_annotation(
        self,
        article_id: str,
        source: str,
        external_id: str | None,
        annotator: str,
        annotated_at: str,
        content_hash: str,
        labels: dict[str, object],
    ) -> bool:
        """Store one imported gold annotation; the same (source, external id) imported again
        replaces the earlier import (an annotation edited in Label Studio). True if new."""
        with transaction(self._db):
            existed = external_id is not None and (
                self._db.execute(
                    "SELECT 1 FROM annotations WHERE source = ? AND external_id = ?",
                    (source, external_id),
                ).fetchone()
                is not None
            )
            self._db.execute(
                """INSERT INTO annotations (article_id, source, external_id, annotator,
                       annotated_at, imported_at, content_hash, labels)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(source, external_id) DO UPDATE SET
                       article_id=excluded.article_id, annotator=excluded.annotator,
                       annotated_at=excluded.annotated_at, imported_at=excluded.imported_at,
                       content_hash=excluded.content_hash, labels=excluded.labels""",
                (
                    article_id,
                    source,
                    external_id,
                    annotator,
                    annotated_at,
                    utc_now(),
                    content_hash,
                    json.dumps(labels, ensure_ascii=False, sort_keys=True),
                ),
            )
        return not existed

    def annotations(self) -> dict[str, list[dict[str, object]]]:
        """Imported annotations per article, in the order they were made."""
        found: dict[str, list[dict[str, object]]] = {}
        rows = self._db.execute("SELECT * FROM annotations ORDER BY annotated_at, id")
        for row in rows:
            found.setdefault(row["article_id"], []).append(
                {**dict(row), "labels": json.loads(row["labels"])}
            )
        return found

    def export_request(self, request_id: int) -> dict[str, object] | None:
        row = self._db.execute(
            """SELECT r.*, u.role FROM export_requests r
               LEFT JOIN users u ON u.username = r.username WHERE r.id = ?""",
            (request_id,),
        ).fetchone()
        return {**dict(row), "request": json.loads(row["request"])} if row else None

    def queued_export_requests(self) -> list[int]:
        """Requests waiting to be made: queued, or claimed by a run that died (stale)."""
        rows = self._db.execute(
            f"SELECT id FROM export_requests WHERE {_CLAIMABLE} ORDER BY id",
            {"stale": _stale_claim_before()},
        )
        return [int(row[0]) for row in rows]

    def claim_export_request(self, request_id: int) -> bool:
        """Take a request to make it (status 'running'); False when another process has it
        or it is finished. A claim older than EXPORT_CLAIM_STALE is taken over: the process
        that held it was stopped before it could record the outcome."""
        with transaction(self._db):
            cursor = self._db.execute(
                "UPDATE export_requests SET status = 'running', started_at = :now "
                f"WHERE id = :id AND ({_CLAIMABLE})",
                {"id": request_id, "now": utc_now(), "stale": _stale_claim_before()},
            )
        return cursor.rowcount == 1

    def export_requests(self, username: str | None = None) -> list[dict[str, object]]:
        """Export requests, newest first: one account's, or everyone's (None); `request`
        is what was asked for (formats and filters)."""
        rows = self._db.execute(
            """SELECT id, username, created_at, status, finished_at, error, request
               FROM export_requests WHERE ? IS NULL OR username = ? ORDER BY id DESC""",
            (username, username),
        )
        return [{**dict(row), "request": json.loads(row["request"])} for row in rows]

    def finish_export_request(
        self, request_id: int, status: str, output: str | None, error: str | None = None
    ) -> None:
        self._db.execute(
            "UPDATE export_requests SET status = ?, output = ?, error = ?, finished_at = ? "
            "WHERE id = ?",
            (status, output, error, utc_now(), request_id),
        )
