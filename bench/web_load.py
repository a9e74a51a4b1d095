"""Web load benchmark (issue 8): 20 concurrent logged-in users searching a 50,000-article
index through `pantau serve` for 60 s, on 127.0.0.1. Not a test: it prints p50/p95/p99
latency, throughput and errors, for docs/benchmarks.md.

    .venv/bin/python bench/web_load.py                     # 50,000 click-id articles
    .venv/bin/python bench/web_load.py --docs 5000 --seconds 20
    .venv/bin/python bench/web_load.py --keep /tmp/web50k --build-only   # build once ...
    .venv/bin/python bench/web_load.py --reuse /tmp/web50k               # ... load many times

Two modes, reported separately because they answer different questions:

- realistic (`--think 1-3`, the default): each user waits a seeded uniform 1–3 s between
  the answer to one search and the next (locust's `between(1, 3)`), like an analyst who
  reads the results; latency under the load 20 analysts make.
- saturated (`--think 0`): each user fires the next search the moment the last answers
  (closed loop, no think time); the server's throughput limit, where latency is mostly
  queueing and grows with the number of users.

`--modes realistic,saturated` runs both against the same server, one after the other.
The load generator (httpx, asyncio, one process) runs on the same machine as the server:
its CPU time is reported next to the server's, as both share the cores.

The index is built like bench/index_bench.py builds it (click-id news from
../shared/data/news/click-id or $PANTAU_SHARED_DATA_DIR, cheap deterministic tags), in a
temporary data directory (or `--keep DIR`, reusable with `--reuse DIR`: building 50,000
documents takes minutes); the users search with index_bench's 50 queries, page 1 with
facets, as the search page does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
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
BUILT_MARKER = "web-load-built.json"
MODES = {"realistic", "saturated"}


def build(data_dir: Path, size: int, users: int) -> float:
    shared = Path(os.environ.get("PANTAU_SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))
    documents = corpus(shared / "news" / "click-id", size)
    started = time.perf_counter()
    data_dir.mkdir(parents=True, exist_ok=True)
    with EmbeddedIndex(data_dir / "index.sqlite") as index:
        for n in range(0, len(documents), 500):
            index.upsert(documents[n : n + 500])
    settings = load_settings({"data_dir": data_dir}, path=Path(os.devnull))
    with Accounts.open(settings) as accounts:
        for n in range(users):
            accounts.add_user(f"bench{n}", PASSWORD, "analyst")
    elapsed = time.perf_counter() - started
    (data_dir / BUILT_MARKER).write_text(
        json.dumps({"docs": size, "users": users, "build_s": round(elapsed)})
    )
    return elapsed


def parse_think(text: str) -> tuple[float, float]:
    """'1-3' → uniform between 1 and 3 s; '2' → always 2 s; '0' → no think time."""
    low, _, high = text.partition("-")
    bounds = (float(low), float(high or low))
    if bounds[0] < 0 or bounds[1] < bounds[0]:
        raise argparse.ArgumentTypeError(f"think time {text!r}: give SECONDS or MIN-MAX")
    return bounds


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def login(client: httpx.AsyncClient, number: int) -> None:
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if token is None:
        raise RuntimeError(f"no login form: {page.status_code}")
    response = await client.post(
        "/login",
        data={"username": f"bench{number}", "password": PASSWORD, "csrf_token": token.group(1)},
    )
    if "pantau_session" not in client.cookies:
        raise RuntimeError(f"login of bench{number} failed: {response.status_code}")


async def user(
    client: httpx.AsyncClient,
    number: int,
    until: float,
    think: tuple[float, float],
    rng: random.Random,
    samples: Samples,
) -> None:
    n = number
    if think[1] > 0:  # users do not all start at the same instant
        await asyncio.sleep(rng.uniform(0, think[1]))
    while time.perf_counter() < until:
        query = QUERIES[n % len(QUERIES)]
        n += 1
        started = time.perf_counter()
        try:
            response = await client.get("/api/search", params={"q": query})
            elapsed = time.perf_counter() - started
            if response.status_code != 200:
                samples.errors.append(f"{response.status_code} {query}")
            else:
                samples.latencies.append(elapsed)
        except httpx.HTTPError as exc:
            samples.errors.append(f"{type(exc).__name__} {query}")
        if think[1] > 0:  # not past the end: the run's length stays `seconds`
            await asyncio.sleep(min(rng.uniform(*think), max(0.0, until - time.perf_counter())))


async def load(
    base: str, users: int, seconds: float, think: tuple[float, float], seed: int
) -> tuple[Samples, float]:
    samples = Samples()
    clients = [httpx.AsyncClient(base_url=base, timeout=30) for _ in range(users)]
    try:
        await asyncio.gather(*(login(client, n) for n, client in enumerate(clients)))
        started = time.perf_counter()
        until = started + seconds
        await asyncio.gather(
            *(
                user(client, n, until, think, random.Random(seed * 1000 + n), samples)
                for n, client in enumerate(clients)
            )
        )
        return samples, time.perf_counter() - started
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0.0


def server_cpu_s(pid: int) -> float:
    """User + system CPU seconds so far of a process and its children (uvicorn's workers),
    from Linux /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def run_mode(base: str, server_pid: int, args: argparse.Namespace, mode: str) -> dict[str, object]:
    think = args.think if mode == "realistic" else (0.0, 0.0)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    server_cpu, client_cpu = server_cpu_s(server_pid), time.process_time()
    samples, wall = asyncio.run(load(base, args.users, args.seconds, think, args.seed))
    server_cpu = server_cpu_s(server_pid) - server_cpu
    client_cpu = time.process_time() - client_cpu
    ordered = sorted(samples.latencies)
    result: dict[str, object] = {
        "mode": mode,
        "think_s": "none" if think[1] == 0 else f"uniform {think[0]:g}-{think[1]:g}",
        "docs": args.docs,
        "users": args.users,
        "seconds": round(wall, 1),
        "requests": len(samples.latencies) + len(samples.errors),
        "errors": len(samples.errors),
        "rps": round(len(samples.latencies) / wall, 1),
        "p50_ms": round(percentile(ordered, 0.50), 1),
        "p95_ms": round(percentile(ordered, 0.95), 1),
        "p99_ms": round(percentile(ordered, 0.99), 1),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 1) if ordered else 0.0,
        "server_cpu_s": round(server_cpu, 1),
        "loadgen_cpu_s": round(client_cpu, 1),
        "loadavg_before": " ".join(load_before),
        "loadavg_after": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
    }
    if samples.errors:
        result["first_errors"] = samples.errors[:5]
    return result


def serve_and_load(data_dir: Path, args: argparse.Namespace) -> list[dict[str, object]]:
    env = {**os.environ, "PANTAU_DATA_DIR": str(data_dir), "PANTAU_WEB__COOKIE_SECURE": "false"}
    env.pop("PANTAU_CONFIG", None)
    command = [sys.executable, "-m", "pantau", "serve", "--port", str(args.port)]
    if args.workers > 1:
        command += ["--workers", str(args.workers)]
    server = subprocess.Popen(command, env=env, cwd=data_dir)
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/login").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        # Warm-up: the first searches open the index per server thread and fill caches, as
        # a running service has them.
        asyncio.run(load(base, args.users, 3.0, (0.0, 0.0), args.seed))
        return [run_mode(base, server.pid, args, mode) for mode in args.modes]
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--think",
        type=parse_think,
        default=(1.0, 3.0),
        help="think time of the realistic mode: SECONDS or MIN-MAX, uniform (default 1-3)",
    )
    parser.add_argument(
        "--modes",
        type=lambda text: [m for m in text.split(",") if m],
        default=["realistic", "saturated"],
        help="realistic (think time), saturated (none), or both comma-separated",
    )
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="`pantau serve --workers`")
    kept = parser.add_mutually_exclusive_group()
    kept.add_argument("--keep", type=Path, help="build the data directory here and keep it")
    kept.add_argument("--reuse", type=Path, help="a data directory built with --keep")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    # Before anything of this run (the server and its warm-up add to the later readings).
    load_at_start = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    if unknown := set(args.modes) - MODES:
        parser.error(f"unknown modes {sorted(unknown)}: choose from {sorted(MODES)}")
    if args.reuse is not None:
        marker = args.reuse / BUILT_MARKER
        if not marker.exists():
            parser.error(f"{args.reuse} was not built by --keep (no {BUILT_MARKER})")
        built = json.loads(marker.read_text())
        if built["docs"] != args.docs or built["users"] < args.users:
            parser.error(f"{args.reuse} holds {built}; pass matching --docs/--users")
        results = serve_and_load(args.reuse.resolve(), args)
    else:
        with tempfile.TemporaryDirectory(prefix="pantau-web-load-") as tmp:
            data_dir = (args.keep or Path(tmp) / "data").resolve()
            if args.keep is not None and (data_dir / BUILT_MARKER).exists():
                parser.error(f"{data_dir} is built already: use --reuse {data_dir}")
            build_s = build(data_dir, args.docs, args.users)
            print(f"indexed {args.docs} documents in {build_s:.0f} s", flush=True)
            if args.build_only:
                return 0
            results = serve_and_load(data_dir, args)
    print(
        json.dumps(
            {
                "results": results,
                "loadavg_at_start": load_at_start,
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "workers": args.workers,
            },
            indent=2,
        )
    )
    return 0 if not any(r["errors"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
