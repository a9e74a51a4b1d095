"""Users, sessions, the audit log, label corrections and export requests, in the article
store's SQLite file (tables from migration 3 in `pantau/store.py`).

Why server-side sessions: a session can be revoked (logout, `pantau users remove`,
password change) at once, and the cookie carries only a random token. The database keeps
an HMAC of that token, so a copy of the database does not let anyone log in.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from pantau.config import Settings
from pantau.sqlite import connect, transaction
from pantau.store import ArticleStore

Role = Literal["analyst", "researcher", "admin"]
ROLES: tuple[str, ...] = get_args(Role)
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a login takes as long either way and
# does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("pantau-no-such-user")


class AccountError(ValueError):
    """A request about accounts that cannot be done, phrased for the person who asked."""


@dataclass(frozen=True)
class User:
    username: str
    role: Role


@dataclass(frozen=True)
class Session:
    user: User
    csrf_token: str
    expires_at: datetime


def now_utc() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def secret_key(settings: Settings) -> bytes:
    """The configured key, else a random one kept (mode 0600) in the data directory."""
    if settings.web.secret_key:
        return settings.web.secret_key.encode("utf-8")
    path = settings.data_dir / "web-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


class Accounts:
    """One connection to the store file; one instance per thread, like `ArticleStore`."""

    def __init__(self, store_path: Path, key: bytes) -> None:
        # Opening the store applies pending migrations (the tables used here are in #3).
        ArticleStore(store_path).close()
        self._db: sqlite3.Connection = connect(store_path)
        self._key = key

    @classmethod
    def open(cls, settings: Settings) -> Accounts:
        return cls(settings.store_path, secret_key(settings))

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Accounts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- users ---------------------------------------------------------------------------

    def add_user(self, username: str, password: str, role: str) -> User:
        username = username.strip()
        if (
            not username
            or len(username) > 64
            or not username.replace(".", "").replace("_", "").replace("-", "").isalnum()
        ):
            raise AccountError("username: 1–64 letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}")
        _check_password(password)
        stamp = _iso(now_utc())
        try:
            self._db.execute(
                "INSERT INTO users (username, password_hash, role, created_at, "
                "password_changed_at) VALUES (?, ?, ?, ?, ?)",
                (username, _hasher.hash(password), role, stamp, stamp),
            )
        except sqlite3.IntegrityError as exc:
            raise AccountError(f"user {username} exists already") from exc
        self.audit(None, "user_add", username, {"role": role})
        return User(username, role)  # type: ignore[arg-type]

    def remove_user(self, username: str) -> None:
        # Sessions go with the user (ON DELETE CASCADE), so a removed user is logged out.
        cursor = self._db.execute("DELETE FROM users WHERE username = ?", (username,))
        if not cursor.rowcount:
            raise AccountError(f"no user {username}")
        self.audit(None, "user_remove", username)

    def set_password(self, username: str, password: str) -> None:
        _check_password(password)
        with transaction(self._db):
            cursor = self._db.execute(
                "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ?",
                (_hasher.hash(password), _iso(now_utc()), username),
            )
            if not cursor.rowcount:
                raise AccountError(f"no user {username}")
            # A new password ends every open session of that user.
            self._db.execute("DELETE FROM sessions WHERE username = ?", (username,))
        self.audit(None, "user_passwd", username)

    def list_users(self) -> list[dict[str, str]]:
        rows = self._db.execute(
            "SELECT username, role, created_at, password_changed_at FROM users ORDER BY username"
        )
        return [dict(row) for row in rows]

    def authenticate(self, username: str, password: str) -> User | None:
        row = self._db.execute(
            "SELECT username, role, password_hash FROM users WHERE username = ?", (username,)
        ).fetchone()
        stored_hash = row["password_hash"] if row else _DUMMY_HASH
        try:
            _hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(stored_hash):
            self._db.execute(
                "UPDATE users SET password_hash = ? WHERE username = ?",
                (_hasher.hash(password), username),
            )
        return User(row["username"], row["role"])

    # -- sessions ------------------------------------------------------------------------

    def _token_hash(self, token: str) -> str:
        return hmac.new(self._key, token.encode("utf-8"), hashlib.sha256).hexdigest()

    def create_session(self, user: User, hours: float) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        created = now_utc()
        expires = created + timedelta(hours=hours)
        self._db.execute("DELETE FROM sessions WHERE expires_at < ?", (_iso(created),))
        self._db.execute(
            "INSERT INTO sessions (token_hash, username, csrf_token, created_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (self._token_hash(token), user.username, csrf, _iso(created), _iso(expires)),
        )
        return token, Session(user, csrf, expires)

    def session(self, token: str | None) -> Session | None:
        if not token or len(token) > 200:
            return None
        row = self._db.execute(
            """SELECT s.csrf_token, s.expires_at, u.username, u.role FROM sessions s
               JOIN users u ON u.username = s.username WHERE s.token_hash = ?""",
            (self._token_hash(token),),
        ).fetchone()
        if row is None:
            return None
        expires = datetime.fromisoformat(row["expires_at"])
        if expires <= now_utc():
            return None
        return Session(User(row["username"], row["role"]), row["csrf_token"], expires)

    def end_session(self, token: str) -> None:
        self._db.execute("DELETE FROM sessions WHERE token_hash = ?", (self._token_hash(token),))

    # -- audit log -----------------------------------------------------------------------

    def audit(
        self,
        username: str | None,
        action: str,
        target: str | None = None,
        detail: dict[str, Any] | None = None,
        ip: str | None = None,
    ) -> None:
        self._db.execute(
            "INSERT INTO audit_log (at, username, action, target, detail, ip) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                _iso(now_utc()),
                username,
                action,
                target,
                json.dumps(detail or {}, ensure_ascii=False, default=str),
                ip,
            ),
        )

    def audit_entries(self, limit: int = 100, action: str | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM audit_log"
        params: tuple[Any, ...] = ()
        if action:
            query += " WHERE action = ?"
            params = (action,)
        rows = self._db.execute(query + " ORDER BY id DESC LIMIT ?", (*params, limit))
        return [{**dict(row), "detail": json.loads(row["detail"])} for row in rows]

    # -- label corrections ---------------------------------------------------------------

    def add_correction(
        self, article_id: str, username: str, changes: dict[str, Any], note: str | None
    ) -> dict[str, Any]:
        stamp = _iso(now_utc())
        cursor = self._db.execute(
            "INSERT INTO label_corrections (article_id, username, created_at, changes, note) "
            "VALUES (?, ?, ?, ?, ?)",
            (article_id, username, stamp, json.dumps(changes, ensure_ascii=False), note),
        )
        return {
            "id": int(cursor.lastrowid or 0),
            "article_id": article_id,
            "username": username,
            "created_at": stamp,
            "changes": changes,
            "note": note,
        }

    def corrections(self, article_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT * FROM label_corrections WHERE article_id = ? ORDER BY id", (article_id,)
        )
        return [{**dict(row), "changes": json.loads(row["changes"])} for row in rows]

    # -- export requests -----------------------------------------------------------------

    def queue_export(self, username: str, request: dict[str, Any]) -> dict[str, Any]:
        stamp = _iso(now_utc())
        cursor = self._db.execute(
            "INSERT INTO export_requests (username, created_at, request) VALUES (?, ?, ?)",
            (username, stamp, json.dumps(request, ensure_ascii=False, default=str)),
        )
        return {
            "id": int(cursor.lastrowid or 0),
            "username": username,
            "created_at": stamp,
            "request": request,
            "status": "queued",
        }


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise AccountError("password: at most 1024 characters")


class LoginLimiter:
    """Failed logins per (username, address) in a sliding window, in memory.

    Why in memory: `pantau serve` is one process; a restart forgets the count, which is an
    acceptable loss against an attacker who would need the server restarted every 5 tries."""

    def __init__(self, attempts: int, window: timedelta) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[tuple[str, str], list[datetime]] = {}

    def _recent(self, key: tuple[str, str]) -> list[datetime]:
        cutoff = now_utc() - self.window
        recent = [moment for moment in self._failures.get(key, []) if moment > cutoff]
        self._failures[key] = recent
        return recent

    def blocked(self, username: str, ip: str) -> bool:
        return len(self._recent((username.lower(), ip))) >= self.attempts

    def failed(self, username: str, ip: str) -> None:
        self._recent((username.lower(), ip)).append(now_utc())

    def succeeded(self, username: str, ip: str) -> None:
        self._failures.pop((username.lower(), ip), None)
