"""Dashboard statistics cache benchmark: /api/stats over a 50,000-article store, the first
call (reads every tagged article's labels) against cached calls (same labels generation),
and the call right after an analyst's correction (a new generation: read again). Not a
test: it prints the timings, for docs/benchmarks.md.

    nice -n 10 .venv/bin/python bench/dashboard_stats.py                  # temporary store
    nice -n 10 .venv/bin/python bench/dashboard_stats.py --keep /tmp/dash50k   # build once ...
    nice -n 10 .venv/bin/python bench/dashboard_stats.py --reuse /tmp/dash50k  # ... time again

The store holds bench/index_bench.py's click-id corpus (as bench/web_load.py's index
does), with its cheap deterministic tags; two in three articles share a story with a
neighbour (cases of several reports). The app runs in this process (FastAPI's TestClient,
no sockets), so the times are the route's own: session check, statistics, JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from index_bench import corpus  # noqa: E402

from pantau.config import Settings, load_settings  # noqa: E402
from pantau.models import ExtractedArticle  # noqa: E402
from pantau.store import ArticleStore  # noqa: E402
from web import service  # noqa: E402
from web.accounts import Accounts  # noqa: E402
from web.app import create_app  # noqa: E402

USERNAME, PASSWORD = "bench-analis", "bench-password-1"
BUILT_MARKER = "dashboard-stats-built.json"


def settings_of(data_dir: Path) -> Settings:
    return load_settings(
        {"data_dir": data_dir, "web": {"cookie_secure": False}}, path=Path(os.devnull)
    )


def build(data_dir: Path, size: int) -> float:
    shared = Path(os.environ.get("PANTAU_SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))
    documents = corpus(shared / "news" / "click-id", size)
    started = time.perf_counter()
    settings = settings_of(data_dir)
    with ArticleStore(settings.store_path) as store, store.write_batch():
        for n, document in enumerate(documents):
            # The corpus resamples its rows past its end: a distinct URL and text each.
            url = f"{document.url}#{n}"
            extracted = ExtractedArticle(
                url=url,
                canonical_url=url,
                source=document.source,
                title=document.title,
                text=f"{document.text} [{n}]",
                published=document.published,
            )
            store.upsert_article(extracted)
            stored = store.get_article(extracted.id)
            assert stored is not None
            store.save_tag(
                document.record.model_copy(update={"id": extracted.id}), stored.content_hash
            )
            if n % 3:
                store.save_story(extracted.id, f"story-{n // 3}", b"", [])
    with Accounts.open(settings) as accounts:
        accounts.add_user(USERNAME, PASSWORD, "analyst")
    elapsed = time.perf_counter() - started
    (data_dir / BUILT_MARKER).write_text(json.dumps({"docs": size, "build_s": round(elapsed)}))
    return elapsed


def logged_in(data_dir: Path) -> TestClient:
    client = TestClient(create_app(settings_of(data_dir)), base_url="http://127.0.0.1")
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/login",
        data={"username": USERNAME, "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    if response.status_code != 303:
        raise RuntimeError(f"login failed: {response.status_code}")
    return client


def timed_stats(client: TestClient) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    response = client.get("/api/stats")
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"/api/stats: {response.status_code} {response.text[:200]}")
    return elapsed, response.json()


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run(data_dir: Path, calls: int) -> dict[str, object]:
    settings = settings_of(data_dir)
    with ArticleStore(settings.store_path) as store:
        articles = store.count_tags()
        # The baseline: what the routes did on every request before the cache (the
        # median of 3, after one call that loads the gazetteer and warms SQLite's pages).
        uncached = service.statistics(store._db, store.label_corrections())
        baseline = []
        for _ in range(3):
            started = time.perf_counter()
            service.statistics(store._db, store.label_corrections())
            baseline.append(time.perf_counter() - started)
        uncached_s = statistics.median(baseline)
        # What one cached generation holds (the case articles and the corrections).
        tracemalloc.start()
        held = service.load_case_articles(store._db, store.label_corrections())
        cached_mib = tracemalloc.get_traced_memory()[0] / 2**20
        tracemalloc.stop()
        del held
        # An article to correct: an incident (as corrected so far) becomes "none" (each
        # run with --reuse corrects another one).
        target = next(
            a.id
            for a in service.load_case_articles(store._db, store.label_corrections())
            if a.relevance == "incident"
        )
    client = logged_in(data_dir)
    first_s, first = timed_stats(client)
    if first["articles"] != uncached.articles:
        raise RuntimeError("the route and the baseline disagree")
    cached = [timed_stats(client) for _ in range(calls)]
    if any(body != first for _, body in cached):
        raise RuntimeError("a cached answer differs from the first")
    token = client.get("/api/me").json()["csrf_token"]
    response = client.post(
        f"/api/articles/{target}/corrections",
        json={"relevance": "none"},
        headers={"X-CSRF-Token": token},
    )
    if response.status_code != 201:
        raise RuntimeError(f"correction: {response.status_code} {response.text[:200]}")
    after_s, after = timed_stats(client)
    if after["articles"] != first["articles"] - 1:
        raise RuntimeError("the correction did not show in the next response")
    again = [timed_stats(client)[0] for _ in range(calls)]
    median = statistics.median(t for t, _ in cached)
    return {
        "tagged_articles": articles,
        "cases": first["cases"],
        "incident_articles": first["articles"],
        "baseline_uncached_statistics_median3_ms": round(uncached_s * 1000, 1),
        "first_call_ms": round(first_s * 1000, 1),
        "cached_median_ms": round(median * 1000, 2),
        "cached_max_ms": round(max(t for t, _ in cached) * 1000, 2),
        "speedup_first_over_cached": round(first_s / median),
        "after_correction_ms": round(after_s * 1000, 1),
        "after_correction_articles": f"{first['articles']} -> {after['articles']}",
        "cached_again_median_ms": round(statistics.median(again) * 1000, 2),
        "cached_labels_mib": round(cached_mib, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--calls", type=int, default=20, help="cached calls timed (median)")
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--keep", type=Path, help="build the data directory here and keep it")
    kept.add_argument("--reuse", type=Path, help="a data directory built with --keep")
    args = parser.parse_args()
    load_start = loadavg()
    with tempfile.TemporaryDirectory(prefix="pantau-dash-") as scratch:
        data_dir = args.reuse or args.keep or Path(scratch) / "data"
        if args.reuse is None:
            print(f"building {args.docs} tagged articles in {data_dir} ...", file=sys.stderr)
            print(f"built in {build(data_dir, args.docs):.0f} s", file=sys.stderr)
        elif not (data_dir / BUILT_MARKER).exists():
            parser.error(f"{data_dir} was not built with --keep")
        result = run(data_dir, args.calls)
    result = {
        "python": platform.python_version(),
        "load_before": load_start,
        **result,
        "load_after": loadavg(),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
