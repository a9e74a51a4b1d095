"""Shared set-up of the web tests: a data directory filled by `pantau demo`, accounts made
with `pantau users add`, a planted hostile article, and a logged-in client per role."""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from flows.ingest import index_pending, tag_pending
from index import open_index
from pantau.config import Settings, load_settings
from pantau.models import ExtractedArticle
from pantau.store import ArticleStore
from tests.helpers import pantau

PASSWORDS = {
    "analis": ("analyst", "kata-sandi-analis-1"),
    "peneliti": ("researcher", "kata-sandi-peneliti-1"),
    "adminku": ("admin", "kata-sandi-admin-01"),
}
HOSTILE_TITLE = "<script>alert('judul')</script> Siswi SMP dicabuli ayah tiri di Kota Jambi"
HOSTILE_TEXT = (
    "JAMBI - Seorang siswi SMP bernama Siti Aminah (14) dicabuli ayah tirinya di Kecamatan "
    "Jelutung, Kota Jambi. <script>alert('teks')</script> <img src=x onerror=alert(1)>\n\n"
    "Polresta Jambi menangkap pelaku pada Senin. Kanit PPA mengatakan korban Siti Aminah "
    "kini didampingi DPMPPA."
)
HOSTILE_URL = "https://hostile.example/berita/siswi-smp-dicabuli"
VICTIM_NAME = "Siti Aminah"


def pantau_cli(
    *args: str, data_dir: Path, stdin: str | None = None, timeout: int = 180
) -> subprocess.CompletedProcess[str]:
    return pantau(*args, data_dir=data_dir, stdin=stdin, timeout=timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_data_copy(data_dir: Path) -> str:
    """A private copy (in `data_dir`) of demo data built once per test session: the web
    test modules change what they get (corrections, users), and `pantau demo` is the slow
    part. Returns the hostile article's id."""
    pristine, hostile_id = _pristine_demo()
    shutil.copytree(pristine, data_dir, ignore=shutil.ignore_patterns("prefect"))
    return hostile_id


@functools.cache
def _pristine_demo() -> tuple[Path, str]:
    root = Path(tempfile.mkdtemp(prefix="pantau-web-demo-"))
    atexit.register(shutil.rmtree, root, True)
    data_dir = root / "data"
    hostile_id = build_demo_data(data_dir)
    # Fold the WAL into the main files so a plain copy holds everything.
    for name in ("pantau.sqlite", "index.sqlite"):
        db = sqlite3.connect(data_dir / name)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
    return data_dir, hostile_id


def build_demo_data(data_dir: Path) -> str:
    """Run `pantau demo`, add one user per role, plant a hostile child-victim article and
    put two demo articles in one story cluster. Returns the hostile article's id."""
    result = pantau_cli("demo", "--port", "0", data_dir=data_dir, timeout=500)
    assert result.returncode == 0, result.stderr[-3000:]
    for username, (role, password) in PASSWORDS.items():
        added = pantau_cli(
            "users",
            "add",
            username,
            "--role",
            role,
            "--password-stdin",
            data_dir=data_dir,
            stdin=password + "\n",
        )
        assert added.returncode == 0, added.stderr
    settings = settings_for(data_dir)
    hostile = ExtractedArticle(
        url=HOSTILE_URL,
        canonical_url=HOSTILE_URL,
        source="Hostile Example",
        title=HOSTILE_TITLE,
        text=HOSTILE_TEXT,
        published=datetime(2026, 11, 16, 3, 0, tzinfo=UTC),
    )
    with ArticleStore(settings.store_path) as store:
        store.upsert_article(hostile)
        tag_pending(store)
        index = open_index(settings)
        try:
            index_pending(store, index)
        finally:
            index.close()
    # Two articles of the demo about the same case become one story (what the crawl's
    # near-duplicate detection records in articles.story_id).
    db = sqlite3.connect(settings.store_path)
    ids = [row[0] for row in db.execute("SELECT id FROM articles ORDER BY id LIMIT 2")]
    db.executemany("UPDATE articles SET story_id = 'story-1' WHERE id = ?", [(i,) for i in ids])
    db.commit()
    db.close()
    return hostile.id


def settings_for(data_dir: Path, secure: bool = False) -> Settings:
    return load_settings(
        {"data_dir": data_dir, "web": {"cookie_secure": secure}}, path=Path(os.devnull)
    )


def login(client: TestClient, username: str, password: str | None = None) -> TestClient:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password if password is not None else PASSWORDS[username][1],
            "csrf_token": token.group(1),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client
