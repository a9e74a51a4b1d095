"""End to end through the `pantau` command, as a person runs it: the demo sites on
127.0.0.1, crawl → tag → index, search, and the failure paths."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from crawlers.demo_site.server import DemoSite, load_articles
from tests.helpers import PANTAU, pantau, wait_for_articles


def free_port_block(size: int = 3) -> int:
    """The first of `size` consecutive ports that are free now."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + size > 65535:
            continue
        try:
            sockets = []
            for port in range(first, first + size):
                s = socket.socket()
                s.bind(("127.0.0.1", port))
                sockets.append(s)
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
        return first
    raise RuntimeError("no free block of ports")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    port = free_port_block()
    # The path a person takes: `pantau demo` with its own temporary Prefect API.
    result = pantau("demo", "--port", str(port), data_dir=data_dir, ephemeral=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return data_dir, port, result.stdout


def test_demo_crawls_tags_and_indexes_every_demo_article(demo: tuple[Path, int, str]) -> None:
    data_dir, _, output = demo
    expected = len(load_articles())
    assert expected >= 20
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == expected
    assert db.execute("SELECT count(*) FROM tags").fetchone()[0] == expected
    # Multi-page articles are stitched: every paragraph of every page is in the text.
    for article in load_articles():
        (text,) = db.execute(
            "SELECT text FROM articles WHERE title = ?", (article.title,)
        ).fetchone()
        assert article.paragraphs[-1] in text
        assert text.count("\n\n") == len(article.paragraphs) - 1
    index = sqlite3.connect(data_dir / "index.sqlite")
    assert index.execute("SELECT count(*) FROM docs").fetchone()[0] == expected
    assert "Crawl report" in output and 'pantau search "perdagangan orang"' in output


def test_search_finds_the_demo_articles_about_trafficking(demo: tuple[Path, int, str]) -> None:
    data_dir, _, _ = demo
    result = pantau("search", "perdagangan orang", "--json", "--size", "50", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    titles = {hit["title"] for hit in found["hits"]}
    literal = {
        a.title
        for a in load_articles()
        if "perdagangan orang" in (a.title + " " + " ".join(a.paragraphs)).lower()
    }
    assert literal <= titles
    assert all(
        "<mark>" in hit["snippet_html"] or "<mark>" in hit["title_html"] for hit in found["hits"]
    )
    # The human-readable form shows titles, sources and snippets with the matches marked.
    text = pantau("search", '"perdagangan orang"', data_dir=data_dir).stdout
    assert "articles found" in text and "[perdagangan] [orang]" in text.lower()


def test_search_filters_on_incidents_in_a_region(demo: tuple[Path, int, str]) -> None:
    data_dir, _, _ = demo
    result = pantau(
        "search", "relevance:incident region:15", "--json", "--size", "100", data_dir=data_dir
    )
    hits = json.loads(result.stdout)["hits"]
    assert hits
    assert all(hit["relevance"] == "incident" for hit in hits)
    assert all(hit["primary_location"]["code"].startswith("15") for hit in hits)


def test_second_run_adds_nothing_twice(demo: tuple[Path, int, str]) -> None:
    data_dir, port, _ = demo
    before = (
        sqlite3.connect(data_dir / "pantau.sqlite")
        .execute("SELECT count(*) FROM articles")
        .fetchone()[0]
    )
    again = pantau("demo", "--port", str(port), data_dir=data_dir)
    assert again.returncode == 0, again.stderr[-3000:]
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == before
    assert db.execute("SELECT max(revision) FROM articles").fetchone()[0] == 1
    report = sorted((data_dir / "reports").glob("run-*.json"))[-1]
    sources = json.loads(report.read_text())["sources"]
    assert sum(s["new"] for s in sources) == 0
    assert (
        sqlite3.connect(data_dir / "index.sqlite")
        .execute("SELECT count(*) FROM docs")
        .fetchone()[0]
        == before
    )


def test_status_shows_counts_and_runs(demo: tuple[Path, int, str]) -> None:
    data_dir, _, _ = demo
    result = pantau("status", data_dir=data_dir)
    assert result.returncode == 0
    assert f"articles: {len(load_articles())}" in result.stdout
    assert "run 1 run ok" in result.stdout


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_retag_re_tags_what_an_older_model_tagged_and_records_the_run(
    demo: tuple[Path, int, str],
) -> None:
    data_dir, _, _ = demo
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    current = db.execute("SELECT DISTINCT model_version FROM tags").fetchall()
    assert len(current) == 1
    with db:  # three articles as an older model left them
        db.execute(
            "UPDATE tags SET model_version = 'old' WHERE article_id IN "
            "(SELECT article_id FROM tags ORDER BY article_id LIMIT 3)"
        )
    result = pantau("retag", data_dir=data_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Re-tagged 3 articles (0 failed)" in result.stdout
    assert db.execute("SELECT DISTINCT model_version FROM tags").fetchall() == current
    assert db.execute("SELECT count(*) FROM tags").fetchone()[0] == len(load_articles())
    kind, status = db.execute("SELECT kind, status FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    assert (kind, status) == ("retag", "ok")


def test_backfill_refuses_a_date_that_is_not_one(tmp_path: Path) -> None:
    result = pantau("backfill", "--since", "2026-13-01", data_dir=tmp_path / "data")
    assert result.returncode == 2
    assert "--since '2026-13-01' is not a date (YYYY-MM-DD)" in result.stderr


def test_unreachable_source_is_reported_and_exits_2(tmp_path: Path) -> None:
    site = DemoSite("antarajambi").start()
    try:
        config = tmp_path / "pantau.toml"
        config.write_text(
            "[crawl]\ndownload_delay = 0\nautothrottle = false\nretries = 0\n"
            '[[sources]]\nname = "gone"\nlabel = "Gone"\nspider = "disway"\n'
            f'url = "http://127.0.0.1:{closed_port()}"\n'
            '[[sources]]\nname = "antara"\nlabel = "Antara Jambi"\nspider = "antara"\n'
            f'url = "{site.base_url}"\n',
            encoding="utf-8",
        )
        result = pantau("run", data_dir=tmp_path / "data", config=config)
    finally:
        site.stop()
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert "gone could not be crawled" in result.stdout
    assert "ConnectionRefusedError" in result.stdout
    lines = {
        line.split()[0]: line.split()
        for line in result.stdout.splitlines()
        if line.startswith("  ") and len(line.split()) == 8
    }
    assert lines["gone"][1] == "failed"
    assert lines["antara"][1] == "ok" and int(lines["antara"][3]) == len(site.articles)


def test_malformed_config_names_the_key_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "pantau.toml"
    config.write_text("[crawl]\nmax_pagez = 3\n", encoding="utf-8")
    result = pantau("status", data_dir=tmp_path / "data", config=config)
    assert result.returncode == 2
    assert "crawl.max_pagez" in result.stderr
    assert "Traceback" not in result.stderr


def test_tag_output_validates_against_the_contract(tmp_path: Path, shared: Path) -> None:
    schema = json.loads((shared / "contracts" / "tagged-article.schema.json").read_text())
    validator = Draft202012Validator(schema)
    articles = [
        {
            "id": str(a.id),
            "title": a.title,
            "text": "\n\n".join(a.paragraphs),
            "published": a.published.isoformat(),
            "source": a.site,
        }
        for a in load_articles()
    ]
    source = tmp_path / "articles.jsonl"
    source.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles), "utf-8")
    result = pantau("tag", "--input", str(source), "--output", "-", data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == [a["id"] for a in articles]
    for record in records:
        validator.validate(record)
        for entity in record["entities"]:
            field = next(a for a in articles if a["id"] == record["id"])[entity["field"]]
            assert field[entity["start"] : entity["end"]] == entity["text"]


def test_tag_warns_of_an_unreadable_publication_date_and_exits_0(tmp_path: Path) -> None:
    line = json.dumps(
        {"id": "a", "text": "Polisi menangkap mucikari kemarin.", "published": "kemarin"}
    )
    result = pantau("tag", "-i", "-", "-o", "-", data_dir=tmp_path / "data", stdin=line + "\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "a"
    assert "pantau tag: warning: line 1: article a: 'published' is not an ISO 8601" in (
        result.stderr
    )


def test_tag_reports_bad_lines_and_exits_3(tmp_path: Path) -> None:
    lines = '{"id": "a", "text": "Polisi menangkap mucikari."}\nnot json\n{"id": "b"}\n'
    result = pantau("tag", "-i", "-", "-o", "-", data_dir=tmp_path / "data", stdin=lines)
    assert result.returncode == 3
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 3
    assert out[0]["id"] == "a" and "error" not in out[0]
    assert out[1]["id"] is None and out[1]["error"]
    assert out[2]["id"] == "b" and out[2]["error"]
    assert "line 2" in result.stderr and "line 3" in result.stderr


def test_ctrl_c_leaves_a_consistent_store_and_a_rerun_finishes(tmp_path: Path) -> None:
    site = DemoSite("jambiekspres").start()
    site.article_delay = 0.4
    config = tmp_path / "pantau.toml"
    config.write_text(
        "[crawl]\ndownload_delay = 0\nautothrottle = false\nconcurrent_per_domain = 1\n"
        '[[sources]]\nname = "je"\nlabel = "Jambi Ekspres"\nspider = "disway"\n'
        f'url = "{site.base_url}"\ncategories = ["kriminal", "jambi", "ekonomi", "olahraga"]\n',
        encoding="utf-8",
    )
    data_dir = tmp_path / "data"
    env = {**os.environ, "PANTAU_DATA_DIR": str(data_dir), "PANTAU_CONFIG": str(config)}
    try:
        process = subprocess.Popen(
            [*PANTAU, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        # Generous: a loaded machine needs a while to start the flow and its first crawl.
        wait_for_articles(data_dir / "pantau.sqlite", 2, seconds=180)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 130, stderr[-2000:]
        assert "Traceback" not in stderr
        db = sqlite3.connect(data_dir / "pantau.sqlite")
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        interrupted = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        assert 2 <= interrupted < len(site.articles)

        site.article_delay = 0
        rerun = pantau("run", data_dir=data_dir, config=config)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
    finally:
        site.stop()
    db = sqlite3.connect(data_dir / "pantau.sqlite")
    assert db.execute("SELECT count(*) FROM articles").fetchone()[0] == len(site.articles)
    assert db.execute("SELECT count(DISTINCT canonical_url) FROM articles").fetchone()[0] == len(
        site.articles
    )
    assert db.execute("SELECT count(*) FROM tags").fetchone()[0] == len(site.articles)
