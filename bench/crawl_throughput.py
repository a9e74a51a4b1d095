"""Crawl throughput: a real `pantau crawl` (Scrapy, store, story clusters) against a local
mirror of Jambi Ekspres (Disway layout) holding click-id articles, politeness delays off
(no download delay, no AutoThrottle; robots.txt still read, 2 requests per domain).

    .venv/bin/python bench/crawl_throughput.py [--pages 10000]

The mirror runs in a process of its own; the crawler's peak RSS is read from the kernel
(wait4) when it exits. Pages/s counts every page fetched (listings, feeds, articles).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from crawl_pages import articles

from crawlers.demo_site.server import DemoSite

LISTING_SIZE = 100


def serve(pages: int, ready: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    mirror = [replace(a, site="jambiekspres") for a in articles(pages)]
    site = DemoSite("jambiekspres", listing_size=LISTING_SIZE, articles=mirror).start()
    ready.put((site.base_url, len(mirror)))
    while True:
        time.sleep(3600)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=10000)
    args = parser.parse_args()
    ready: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(target=serve, args=(args.pages, ready), daemon=True)
    server.start()
    base_url, count = ready.get(timeout=600)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "pantau.toml"
        config.write_text(
            "[crawl]\ndownload_delay = 0\nautothrottle = false\nconcurrent_per_domain = 2\n"
            f"max_pages = {count * 2}\nmax_listing_pages = {count // LISTING_SIZE + 2}\n"
            f'[[sources]]\nname = "mirror"\nlabel = "Mirror"\nspider = "disway"\n'
            f'url = "{base_url}"\ncategories = ["kriminal"]\n',
            encoding="utf-8",
        )
        env = {**os.environ, "PANTAU_DATA_DIR": str(Path(tmp) / "data")}
        env["PANTAU_CONFIG"] = str(config)
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "pantau", "-q", "crawl"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert child.stdout is not None
        stdout = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        report = json.loads(
            sorted((Path(tmp) / "data" / "reports").glob("crawl-*.json"))[-1].read_text()
        )[0]
    server.terminate()
    fetched = report["pages_fetched"]
    print(stdout.strip())
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(
        f"mirror of {count} articles: {fetched} pages, {report['new']} articles stored in "
        f"{seconds:.1f} s (process start included) = {fetched / seconds:.0f} pages/s; "
        f"crawler peak RSS {usage.ru_maxrss / 1024:.0f} MB; exit status {status >> 8}"
    )


if __name__ == "__main__":
    main()
