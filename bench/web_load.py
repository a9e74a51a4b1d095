"""Web load benchmark (issue 8): 20 concurrent logged-in users searching a 50,000-article
index through `pantau serve` for 60 s, on 127.0.0.1. Not a test: it prints p50/p95/p99
latency, throughput and errors, for docs/benchmarks.md.

    .venv/bin/python bench/web_load.py                     # 50,000 click-id articles
    .venv/bin/python bench/web_load.py --docs 5000 --seconds 20

The index is built like bench/index_bench.py builds it (click-id news from
../shared/data/news/click-id or $PANTAU_SHARED_DATA_DIR, cheap deterministic tags), in a
temporary data directory; the users search with index_bench's 50 queries, page 1 with
facets, as the search page does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from index_bench import QUERIES, corpus  # noqa: E402

from index.embedded import EmbeddedIndex  # noqa: E402
from pantau.config import load_settings  # noqa: E402
from web.accounts import Accounts  # noqa: E402

PASSWORD = "bench-password-1"


def build(data_dir: Path, size: int) -> float:
    shared = Path(os.environ.get("PANTAU_SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))
    documents = corpus(shared / "news" / "click-id", size)
    started = time.perf_counter()
    with EmbeddedIndex(data_dir / "index.sqlite") as index:
        for n in range(0, len(documents), 500):
            index.upsert(documents[n : n + 500])
    settings = load_settings({"data_dir": data_dir}, path=Path(os.devnull))
    with Accounts.open(settings) as accounts:
        for n in range(20):
            accounts.add_user(f"bench{n}", PASSWORD, "analyst")
    return time.perf_counter() - started


async def user(
    number: int, base: str, until: float, latencies: list[float], errors: list[str]
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        page = await client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        await client.post(
            "/login",
            data={"username": f"bench{number}", "password": PASSWORD, "csrf_token": token.group(1)},
        )
        n = number
        while time.perf_counter() < until:
            query = QUERIES[n % len(QUERIES)]
            n += 1
            started = time.perf_counter()
            try:
                response = await client.get("/api/search", params={"q": query})
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {query}")
                else:
                    latencies.append(elapsed)
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__} {query}")


async def load(base: str, users: int, seconds: float) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(user(n, base, until, latencies, errors) for n in range(users)))
    return latencies, errors, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pantau-web-load-") as tmp:
        data_dir = Path(tmp) / "data"
        build_s = build(data_dir, args.docs)
        print(f"indexed {args.docs} documents in {build_s:.0f} s", flush=True)
        env = {**os.environ, "PANTAU_DATA_DIR": str(data_dir), "PANTAU_WEB__COOKIE_SECURE": "false"}
        env.pop("PANTAU_CONFIG", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "pantau", "serve", "--port", str(args.port)], env=env, cwd=tmp
        )
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/login").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            latencies, errors, wall = asyncio.run(load(base, args.users, args.seconds))
        finally:
            server.terminate()
            server.wait(timeout=10)
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else 0.0

    result = {
        "docs": args.docs,
        "users": args.users,
        "seconds": round(wall, 1),
        "requests": len(latencies) + len(errors),
        "errors": len(errors),
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(pct(0.50), 1),
        "p95_ms": round(pct(0.95), 1),
        "p99_ms": round(pct(0.99), 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0.0,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    print(json.dumps(result, indent=2))
    if errors:
        print("first errors:", errors[:5], file=sys.stderr)
    return 0 if not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
