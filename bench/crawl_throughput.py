"""Crawl throughput: a real `pantau crawl` (Scrapy, store, page archive, story clusters)
against a local mirror of Jambi Ekspres (Disway layout) holding click-id articles, politeness
delays off (no download delay, no AutoThrottle; robots.txt still read, 2 requests per domain).

    nice -n 10 .venv/bin/python bench/crawl_throughput.py [--pages 10000] [--no-baseline]
        [--write-batch 1 --write-batch 100]   # crawls with these crawl.write_batch values

Baseline, in the same run against the same mirror: a bare Scrapy spider with Pantau's Scrapy
settings (same downloader, robots.txt, 2 requests per domain) that fetches the listing and
article pages and does nothing with them: the ceiling Scrapy itself sets on this machine.

`--pages` counts article pages: the corpus has about 7,700 usable articles, so for more
pages some articles are served in two pages (Disway's multi-page articles, stitched by the
crawler). The mirror runs in a process of its own. Reported: pages/s over the crawl itself
(spider start to close, Scrapy's elapsed time) and over the whole process (start-up
included; this environment sets PYTHONDONTWRITEBYTECODE, so every start compiles Scrapy &
co. again); CPU seconds per page of the crawl process (rusage, its story worker included;
and from spider start to close alone) and of the mirror (/proc), which say what the rate
would be on an idle machine; peak RSS of the crawl process (wait4) and of the crawl process
and its story worker together (sampled); the load average before and after, since the
machine is shared.
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
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from crawl_pages import articles

from crawlers.demo_site.server import DemoArticle, DemoSite

LISTING_SIZE = 100


def mirror_articles(pages: int) -> list[DemoArticle]:
    """Articles for `pages` article pages: one page each while the corpus lasts (about 7,700
    usable click-id articles), then some split in two pages, as Disway serves long articles
    (the crawler stitches them)."""
    mirror = [replace(a, site="jambiekspres") for a in articles(pages)]
    wanted = pages - len(mirror)
    for article in mirror:
        if wanted <= 0:
            break
        if len(article.paragraphs) >= 4:
            article.page_breaks = [len(article.paragraphs) // 2]
            wanted -= 1
    return mirror


def serve(pages: int, ready: multiprocessing.Queue) -> None:
    mirror = mirror_articles(pages)
    site = DemoSite("jambiekspres", listing_size=LISTING_SIZE, articles=mirror).start()
    ready.put((site.base_url, len(mirror)))
    while True:
        time.sleep(3600)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants (the crawl's story worker), MB."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue  # ended meanwhile
        total += next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")),
            0,
        )
        todo.extend(int(child) for child in children)
    return total / 1024


PEAK_TREE_RSS: dict[str, float] = {}


def run_child(args: list[str], env: dict[str, str]) -> tuple[str, float, float, float]:
    """stdout, wall seconds, CPU seconds and peak RSS (MB) of a child process; the peak
    RSS of the child and its own children together, sampled every 0.1 s, goes into
    PEAK_TREE_RSS["last"]."""
    started = time.perf_counter()
    child = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.1):
            peak = max(peak, tree_rss_mb(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert child.stdout is not None
    stdout = child.stdout.read()
    done.set()
    sampler.join()
    PEAK_TREE_RSS["last"] = peak
    _, status, usage = os.wait4(child.pid, 0)
    if status:
        raise SystemExit(f"{args[:4]} exited with status {status >> 8}")
    return (
        stdout,
        time.perf_counter() - started,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
    )


def bare_crawl(base_url: str) -> None:
    """The baseline (run in a child): Scrapy alone, with Pantau's Scrapy settings."""
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Response

    from crawlers import settings as pantau_scrapy_settings
    from crawlers.extract import disway

    class BareSpider(scrapy.Spider):
        name = "bare"

        async def start(self) -> Any:
            yield scrapy.Request(base_url + "/kategori/kriminal", self.parse_listing)

        def parse_listing(self, response: Response) -> Any:
            for href in disway.listing_links(response.text):
                yield response.follow(href, self.parse_article)
            next_page = response.css("ul.pagination a::attr(href)").get()
            if next_page:
                yield response.follow(next_page, self.parse_listing)

        def parse_article(self, response: Response) -> Any:
            # The further pages of a multi-page article (Scrapy's filter drops repeats).
            for href in response.css("ul.pagination li a::attr(href)").getall():
                yield response.follow(href, self.parse_article)

    settings = {
        key: getattr(pantau_scrapy_settings, key)
        for key in dir(pantau_scrapy_settings)
        if key.isupper() and key not in ("ITEM_PIPELINES", "DOWNLOADER_MIDDLEWARES")
    }
    settings.update(DOWNLOAD_DELAY=0, AUTOTHROTTLE_ENABLED=False, LOG_LEVEL="WARNING")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    print(
        json.dumps(
            {
                "pages": stats.get("response_received_count", 0),
                "elapsed_s": stats.get("elapsed_time_seconds"),
            }
        )
    )


def pantau_crawl_child(marks_path: str) -> None:
    """`pantau -q crawl` as the command line runs it, noting the process's CPU seconds when
    the spider starts and closes (so start-up is told apart from crawling)."""
    import runpy

    from crawlers.spiders.base import NewsSpider

    marks: dict[str, float] = {}
    start = NewsSpider.start

    async def timed_start(self: NewsSpider) -> Any:
        marks["cpu_start"] = time.process_time()
        async for request in start(self):
            yield request

    def closed(self: NewsSpider, reason: str) -> None:
        marks["cpu_close"] = time.process_time()

    NewsSpider.start = timed_start  # type: ignore[method-assign]
    NewsSpider.closed = closed  # type: ignore[attr-defined]
    sys.argv = ["pantau", "-q", "crawl"]
    try:
        runpy.run_module("pantau", run_name="__main__")
    finally:
        Path(marks_path).write_text(json.dumps(marks))


def report_line(name: str, pages: int, elapsed: float, wall: float, cpu: float, rss: float) -> str:
    return (
        f"{name}: {pages} pages; crawl {elapsed:.1f} s = {pages / elapsed:.0f} pages/s; "
        f"whole process {wall:.1f} s = {pages / wall:.0f} pages/s; "
        f"crawler CPU {cpu:.1f} s ({1000 * cpu / pages:.2f} ms/page); peak RSS {rss:.0f} MB"
    )


def pantau_run(
    base_url: str, count: int, server_pid: int, write_batch: int | None, bare: dict[str, Any] | None
) -> tuple[str, float]:
    """One measured `pantau crawl` of the mirror; (its write_batch, crawl pages/s)."""
    batch_name = str(write_batch) if write_batch else "default"
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "pantau.toml"
        config.write_text(
            "[crawl]\ndownload_delay = 0\nautothrottle = false\nconcurrent_per_domain = 2\n"
            f"max_pages = {count * 2}\nmax_listing_pages = {count // LISTING_SIZE + 2}\n"
            + (f"write_batch = {write_batch}\n" if write_batch else "")
            + f'[[sources]]\nname = "mirror"\nlabel = "Mirror"\nspider = "disway"\n'
            f'url = "{base_url}"\ncategories = ["kriminal"]\n',
            encoding="utf-8",
        )
        env = {**os.environ, "PANTAU_DATA_DIR": str(Path(tmp) / "data")}
        env["PANTAU_CONFIG"] = str(config)
        server_cpu = cpu_seconds(server_pid)
        marks_path = Path(tmp) / "cpu.json"
        stdout, wall, cpu, rss = run_child(
            [sys.executable, __file__, "--pantau-child", str(marks_path)], env
        )
        marks = json.loads(marks_path.read_text())
        mirror_ms = 1000 * (cpu_seconds(server_pid) - server_cpu)
        report = json.loads(
            sorted((Path(tmp) / "data" / "reports").glob("crawl-*.json"))[-1].read_text()
        )[0]
    fetched = report["pages_fetched"]
    name = f"pantau crawl (write_batch {batch_name})"
    print(stdout.strip())
    print(
        report_line(name, fetched, report["elapsed_s"], wall, cpu, rss)
        + f"; mirror CPU {mirror_ms / fetched:.2f} ms/page; {report['new']} articles stored"
    )
    print(
        f"{name} with its story worker: peak RSS {PEAK_TREE_RSS['last']:.0f} MB "
        "(sampled every 0.1 s, the two processes together)"
    )
    crawl_cpu = marks["cpu_close"] - marks["cpu_start"]
    print(
        f"{name}, spider start to close: crawler CPU {crawl_cpu:.1f} s = "
        f"{1000 * crawl_cpu / fetched:.2f} ms/page (one core: at most "
        f"{fetched / crawl_cpu:.0f} pages/s on an idle machine)"
    )
    rate = fetched / report["elapsed_s"]
    if bare is not None:
        ratio = rate / (bare["pages"] / bare["elapsed_s"])
        print(f"{name} / bare Scrapy (crawl pages/s): {ratio:.2f}")
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return batch_name, rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=10000)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--write-batch",
        type=int,
        action="append",
        help="crawl.write_batch of a measured crawl, repeatable (1: a commit per page and "
        "per article, as before batching); default: one crawl with Pantau's default",
    )
    parser.add_argument("--bare", help=argparse.SUPPRESS)  # the baseline's child
    parser.add_argument("--pantau-child", help=argparse.SUPPRESS)  # the measured crawl
    args = parser.parse_args()
    if args.bare:
        bare_crawl(args.bare)
        return
    if args.pantau_child:
        pantau_crawl_child(args.pantau_child)
        return
    ready: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(args.pages, ready), daemon=True)
    server.start()
    assert server.pid is not None
    base_url, count = ready.get(timeout=600)
    print(f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    bare: dict[str, Any] = {}
    if not args.no_baseline:
        server_cpu = cpu_seconds(server.pid)
        stdout, wall, cpu, rss = run_child(
            [sys.executable, __file__, "--bare", base_url], dict(os.environ)
        )
        bare = json.loads(stdout.strip().splitlines()[-1])
        mirror_ms = 1000 * (cpu_seconds(server.pid) - server_cpu) / bare["pages"]
        print(
            report_line("baseline, bare Scrapy", bare["pages"], bare["elapsed_s"], wall, cpu, rss)
            + f"; mirror CPU {mirror_ms:.2f} ms/page"
        )
    results = [
        pantau_run(base_url, count, server.pid, batch, bare or None)
        for batch in (args.write_batch or [None])
    ]
    server.terminate()
    if len(results) > 1:
        first, *rest = results
        for other in rest:
            print(
                f"pages/s write_batch {other[0]} / write_batch {first[0]}: "
                f"{other[1] / first[1]:.2f}"
            )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
