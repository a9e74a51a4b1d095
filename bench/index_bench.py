"""Index benchmark: both backends, the same documents and queries, in one run.

    .venv/bin/python bench/index_bench.py                      # ≥ 20k click-id articles
    .venv/bin/python bench/index_bench.py --scale 200000 --embedded-only

Reads the click-id news CSVs (`../shared/data/news/click-id/*.csv`, or
$PANTAU_SHARED_DATA_DIR/news/click-id), builds one IndexDocument per article with cheap
deterministic tags (keyword rules and a rotating region: the benchmark measures the index,
not the tagger), then for each backend: indexing throughput (docs/s, Pantau's analysis
included, upserts of 8,000 documents, which Elasticsearch sends as pipelined bulk
requests of 2,000) and search latency p50/p95 over 50 fixed queries with facets
(3 rounds after a warm-up). `--scale N` resamples the corpus to N documents (new ids and
dates) to see how latency grows; `--growth 20000,50000,100000,200000` grows one embedded
index step by step and measures search and size at each step. Elasticsearch is a local
single node (512 MB heap, TLS and a password) started by index/elastic_server.py; before
it is measured it indexes `--es-warmup` documents into a throwaway index (a fresh JVM
spends its first minute compiling: a running cluster is warm), reported as `warmup`.

The machine is shared, so next to wall-clock numbers the report gives this process's CPU
time (docs per CPU second, CPU ms per query; with the analysis workers' CPU added, see
`index.analysis_pool`) and the load average: wall numbers are only comparable between runs
made under similar load, CPU numbers much more so (for Elasticsearch they leave out the
server's own CPU, which is reported apart as `server_cpu_s`).

    PANTAU_ANALYSIS_WORKERS=0 .venv/bin/python bench/index_bench.py   # analysis in-process
    .venv/bin/python bench/index_bench.py --elastic-only --bulk-sizes 500,1000,2000,500,1000,2000
    .venv/bin/python bench/index_bench.py --batch 500 --bulk-size 500 --no-bulk-load  # as before
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
csv.field_size_limit(10_000_000)

from index import analysis_pool  # noqa: E402
from index.base import IndexDocument, SearchIndex, SearchRequest, region_ancestry  # noqa: E402
from index.elastic import BULK_SIZE, ElasticIndex  # noqa: E402
from index.elastic_server import start  # noqa: E402
from index.embedded import EmbeddedIndex  # noqa: E402
from pantau.models import ModelInfo, Region, TaggedArticle  # noqa: E402

WIB = timezone(timedelta(hours=7))
EXCEL_EPOCH = datetime(1899, 12, 30, tzinfo=WIB)
REGIONS = [
    ("15.71", "Kota Jambi"),
    ("15.06", "Kabupaten Tanjung Jabung Barat"),
    ("31.71", "Kota Administrasi Jakarta Pusat"),
    ("32.73", "Kota Bandung"),
    ("35.78", "Kota Surabaya"),
    ("12.71", "Kota Medan"),
    ("73.71", "Kota Makassar"),
    ("51.71", "Kota Denpasar"),
]
RULES = {
    "tppo": ("perdagangan orang", "tppo", "human trafficking", "pekerja migran ilegal"),
    "kekerasan_seksual": ("pelecehan", "pemerkosaan", "perkosa", "pencabulan", "cabul"),
    "kekerasan_fisik": ("penganiayaan", "dianiaya", "kdrt", "pukul"),
    "eksploitasi": ("eksploitasi", "prostitusi", "mucikari"),
    "penelantaran": ("penelantaran", "ditelantarkan", "telantar"),
}
QUERIES = [
    "perdagangan orang",
    '"perdagangan orang"',
    "tppo OR trafficking",
    "kekerasan anak",
    '"kekerasan seksual"',
    "pelecehan -artis",
    "polisi tangkap pelaku",
    "korban perempuan",
    "pemerkosaan OR pencabulan",
    "kdrt istri",
    "pekerja migran",
    '"pekerja migran" malaysia',
    "narkoba",
    "korupsi -politik",
    "banjir jakarta",
    "presiden jokowi",
    "harga emas",
    "pilkada",
    "gempa",
    "sepak bola",
    "timnas indonesia",
    "film OR musik",
    "resep masakan",
    "kesehatan anak",
    "pendidikan sekolah",
    "relevance:incident",
    "form:tppo",
    "form:kekerasan_seksual group:anak",
    "region:15",
    "region:31.71 banjir",
    "region:32 sekolah",
    "date:2019",
    "date:2019-09",
    "date:2019-09-01..2019-09-30 polisi",
    "date:>=2019-10-01 korban",
    "source:kompas.com korupsi",
    "source:tempo.co jokowi",
    "group:perempuan",
    "relevance:incident region:35",
    '"anak di bawah umur"',
    "penganiayaan -tawuran",
    "mucikari OR prostitusi",
    "penculikan anak",
    "bayi dibuang",
    "bullying OR perundungan",
    "pernikahan dini",
    "ekonomi indonesia",
    "teknologi digital",
    "",
    "-politik form:kekerasan_fisik",
]
assert len(QUERIES) == 50


def read_corpus(directory: Path) -> Iterator[dict[str, str]]:
    for path in sorted(directory.glob("*.csv")):
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("title") and row.get("content"):
                    yield row


def published(row: dict[str, str]) -> datetime | None:
    try:
        day = EXCEL_EPOCH + timedelta(days=int(float(row["date"])))
    except (KeyError, ValueError):
        return None
    try:
        hour, minute = (int(x) for x in row.get("time", "").split()[0].split(":"))
    except (ValueError, IndexError):
        hour, minute = 12, 0
    return day.replace(hour=hour, minute=minute)


def to_document(n: int, row: dict[str, str], shift_days: int = 0) -> IndexDocument:
    text = row["content"]
    lowered = (row["title"] + " " + text).lower()
    categories = [name for name, words in RULES.items() if any(w in lowered for w in words)]
    groups = [
        group
        for group, words in {
            "anak": ("anak",),
            "perempuan": ("perempuan", "istri", "wanita"),
        }.items()
        if categories and any(w in lowered for w in words)
    ]
    relevance = (
        "incident" if categories and "polisi" in lowered else "aggregate" if categories else "none"
    )
    code, name = REGIONS[n % len(REGIONS)]
    region = Region(name=name, code=code, level="kabupaten_kota", province_code=code[:2])
    doc_id = f"a{n:07d}"
    when = published(row)
    if when is not None and shift_days:
        when -= timedelta(days=shift_days)
    record = TaggedArticle(
        id=doc_id,
        relevance=relevance,  # type: ignore[arg-type]
        categories=categories,  # type: ignore[arg-type]
        victim_groups=groups,  # type: ignore[arg-type]
        primary_location=region,
        model=ModelInfo(name="bench", version="1"),
    )
    return IndexDocument(
        id=doc_id,
        version=f"{doc_id}:1",
        url=row.get("url") or f"https://click.example/{n}",
        source=row.get("source") or "unknown",
        title=row["title"],
        text=text,
        published=when,
        relevance=relevance,
        categories=categories,
        victim_groups=groups,
        region_codes=region_ancestry(code),
        primary_location=region,
        record=record,
    )


def corpus(directory: Path, size: int) -> list[IndexDocument]:
    rows = list(read_corpus(directory))
    documents = []
    for n in range(size):
        # Past the corpus: resample it, a year earlier per pass, as new articles.
        documents.append(to_document(n, rows[n % len(rows)], 365 * (n // len(rows))))
    return documents


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a live process (/proc), e.g. an analysis worker."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_cpu_s(group: int) -> float:
    """CPU seconds of every live process in a process group (the Elasticsearch launcher
    and its server JVM: the server is started in a session of its own)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def client_cpu_s() -> float:
    """This process's CPU time plus its analysis workers' (alive, so not in os.times())."""
    pool = analysis_pool._pool
    workers = list(getattr(pool, "_processes", None) or {}) if pool is not None else []
    return time.process_time() + sum(process_cpu_s(pid) for pid in workers)


def bench_index(
    index: SearchIndex,
    documents: list[IndexDocument],
    batch: int,
    server_pid: int | None = None,
    bulk_load: bool = True,
) -> dict[str, float]:
    started, cpu = time.perf_counter(), client_cpu_s()
    server_cpu = group_cpu_s(server_pid) if server_pid else 0.0
    if isinstance(index, ElasticIndex):
        with index.bulk_load() if bulk_load else nullcontext():  # no refreshes until the end
            for first in range(0, len(documents), batch):
                index.upsert(documents[first : first + batch])
    else:
        for first in range(0, len(documents), batch):
            index.upsert(documents[first : first + batch])
    elapsed, cpu_used = time.perf_counter() - started, client_cpu_s() - cpu
    result: dict[str, float] = {
        "index_docs_per_s": round(len(documents) / elapsed),
        "index_docs_per_cpu_s": round(len(documents) / cpu_used),
        "analysis_workers": len(getattr(analysis_pool._pool, "_processes", None) or {}),
    }
    if isinstance(index, ElasticIndex) and not bulk_load:
        index.client.indices.refresh(index=index.alias)
        elapsed = time.perf_counter() - started
        result["index_docs_per_s"] = round(len(documents) / elapsed)
    if server_pid:
        result["server_cpu_s"] = round(group_cpu_s(server_pid) - server_cpu, 1)
    return result


def percentile(samples: list[float], share: float) -> float:
    return round(samples[int(len(samples) * share) - 1], 1)


def bench_search(index: SearchIndex, rounds: int) -> dict[str, Any]:
    for q in QUERIES:  # warm caches, as a running service has them
        index.search(SearchRequest(q=q, facets=True))
    wall, cpu = [], []
    for _ in range(rounds):
        for q in QUERIES:
            started, cpu_started = time.perf_counter(), time.process_time()
            index.search(SearchRequest(q=q, facets=True))
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
    slowest = sorted(
        ((wall[n], QUERIES[n % len(QUERIES)]) for n in range(len(wall))), reverse=True
    )[:5]
    wall.sort()
    cpu.sort()
    return {
        "p50_ms": round(statistics.median(wall), 1),
        "p95_ms": percentile(wall, 0.95),
        "max_ms": round(wall[-1], 1),
        "cpu_p50_ms": round(statistics.median(cpu), 1),
        "cpu_p95_ms": percentile(cpu, 0.95),
        "slowest": [f"{ms:.1f} ms {q!r}" for ms, q in slowest],
    }


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def growth(rows: list[dict[str, str]], sizes: list[int], batch: int, rounds: int) -> list[Any]:
    """One embedded index grown through `sizes` (resampled past the corpus), measured at each."""
    steps: list[Any] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index.sqlite"
        embedded = EmbeddedIndex(path)
        done = 0
        for size in sizes:
            documents = [
                to_document(n, rows[n % len(rows)], 365 * (n // len(rows)))
                for n in range(done, size)
            ]
            step: dict[str, Any] = {"documents": size, "load_before": load()}
            step |= bench_index(embedded, documents, batch)
            del documents
            done = size
            step |= bench_search(embedded, rounds)
            size_bytes = sum(p.stat().st_size for p in Path(tmp).glob("index.sqlite*"))
            step["size_mb"] = round(size_bytes / 1e6, 1)
            step["load_after"] = load()
            print(json.dumps(step), flush=True)
            steps.append(step)
        embedded.close()
    return steps


def warm_up(
    server: Any, documents: list[IndexDocument], args: argparse.Namespace
) -> dict[str, Any]:
    """Index into a throwaway index first, so the measured load runs on a warm JVM."""
    elastic = ElasticIndex(
        server.url,
        username=server.username,
        password=server.password,
        ca_certs=str(server.ca_certs),
        alias="pantau-warmup",
        refresh=False,
        bulk_size=args.bulk_size,
    )
    run: dict[str, Any] = {"documents": len(documents), "load_before": load()}
    run |= bench_index(elastic, documents, args.batch, server.process.pid)
    elastic.drop()
    elastic.close()
    return run


def compare_bulk_sizes(
    server: Any, documents: list[IndexDocument], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Indexing alone with each bulk size (documents per bulk request), one fresh index each,
    on the same server; the index is dropped after, so each starts from empty."""
    runs = []
    for n, bulk_size in enumerate(int(size) for size in args.bulk_sizes.split(",")):
        elastic = ElasticIndex(
            server.url,
            username=server.username,
            password=server.password,
            ca_certs=str(server.ca_certs),
            alias=f"pantau-bulk-{n}",
            refresh=False,
            bulk_size=bulk_size,
        )
        run: dict[str, Any] = {"bulk_size": bulk_size, "load_before": load()}
        run |= bench_index(
            elastic, documents, args.batch, server.process.pid, not args.no_bulk_load
        )
        run["count"] = elastic.count()
        print(json.dumps(run), flush=True)
        runs.append(run)
        elastic.drop()
        elastic.close()
    return runs


def main() -> int:
    parser = argparse.ArgumentParser()
    shared = Path(
        os.environ.get(
            "PANTAU_SHARED_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"
        )
    )
    parser.add_argument("--data", type=Path, default=shared / "news" / "click-id")
    parser.add_argument(
        "--size", type=int, default=None, help="documents (default: the corpus, ≥ 20k)"
    )
    parser.add_argument("--scale", type=int, default=None, help="resample to this many documents")
    parser.add_argument(
        "--growth",
        default=None,
        help="comma-separated sizes: grow one embedded index through them (e.g. 20000,200000)",
    )
    parser.add_argument("--batch", type=int, default=8000, help="documents per upsert")
    parser.add_argument(
        "--es-warmup", type=int, default=5000, help="documents to warm the server up with"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--embedded-only", action="store_true")
    parser.add_argument("--elastic-only", action="store_true")
    parser.add_argument(
        "--no-bulk-load",
        action="store_true",
        help="index without ElasticIndex.bulk_load (refreshes every second, as before)",
    )
    parser.add_argument(
        "--bulk-sizes",
        default=None,
        help="comma-separated bulk sizes to index with first, each into its own index, "
        "in the order given (e.g. 500,1000,2000,500,1000,2000); needs --batch ≥ the largest",
    )
    parser.add_argument(
        "--bulk-size", type=int, default=BULK_SIZE, help="documents per Elasticsearch bulk request"
    )
    args = parser.parse_args()
    if args.growth:
        sizes = sorted(int(n) for n in args.growth.split(","))
        corpus_rows = list(read_corpus(args.data))
        report = {
            "corpus_rows": len(corpus_rows),
            "growth": growth(corpus_rows, sizes, args.batch, args.rounds),
        }
        print(json.dumps(report, indent=2))
        return 0
    rows = sum(1 for _ in read_corpus(args.data))
    size = args.scale or args.size or rows
    documents = corpus(args.data, size)
    results: dict[str, Any] = {
        "documents": len(documents),
        "corpus_rows": rows,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpu, "
        f"Python {platform.python_version()}",
        "load_before": load(),
    }
    if not args.elastic_only:
        with tempfile.TemporaryDirectory() as tmp:
            embedded = EmbeddedIndex(Path(tmp) / "index.sqlite")
            results["embedded"] = bench_index(embedded, documents, args.batch)
            results["embedded"]["load_after_indexing"] = load()
            results["embedded"] |= bench_search(embedded, args.rounds)
            embedded.close()
            size_bytes = sum(p.stat().st_size for p in Path(tmp).glob("index.sqlite*"))
            results["embedded"]["size_mb"] = round(size_bytes / 1e6, 1)
    if not args.embedded_only:
        server = start(security=True)
        try:
            if args.es_warmup:
                results["warmup"] = warm_up(server, documents[: args.es_warmup], args)
            if args.bulk_sizes:
                results["bulk_sizes"] = compare_bulk_sizes(server, documents, args)
            elastic = ElasticIndex(
                server.url,
                username=server.username,
                password=server.password,
                ca_certs=str(server.ca_certs),
                alias="pantau-bench",
                refresh=False,  # one refresh at the end, as a bulk load would
                bulk_size=args.bulk_size,
            )
            results["elasticsearch_bulk_size"] = args.bulk_size
            results["load_before_elasticsearch"] = load()
            server_group = server.process.pid if server.process else None
            results["elasticsearch"] = bench_index(
                elastic, documents, args.batch, server_group, not args.no_bulk_load
            )
            results["elasticsearch"]["load_after_indexing"] = load()
            results["elasticsearch"] |= bench_search(elastic, args.rounds)
            stats = elastic.client.indices.stats(index=elastic.alias, metric="store")
            results["elasticsearch"]["size_mb"] = round(
                stats["_all"]["primaries"]["store"]["size_in_bytes"] / 1e6, 1
            )
            results["elasticsearch"]["count"] = elastic.count()
            elastic.close()
        finally:
            server.cleanup()
    results["load_after"] = load()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
