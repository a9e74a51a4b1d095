"""Index benchmark: both backends, the same documents and queries, in one run.

    .venv/bin/python bench/index_bench.py                      # ≥ 20k click-id articles
    .venv/bin/python bench/index_bench.py --scale 200000 --embedded-only

Reads the click-id news CSVs (`../shared/data/news/click-id/*.csv`, or
$PANTAU_SHARED_DATA_DIR/news/click-id), builds one IndexDocument per article with cheap
deterministic tags (keyword rules and a rotating region: the benchmark measures the index,
not the tagger), then for each backend: indexing throughput (docs/s, Pantau's analysis
included, batches of 500) and search latency p50/p95 over 50 fixed queries with facets
(3 rounds after a warm-up). `--scale N` resamples the corpus to N documents (new ids and
dates) to see how latency grows; `--growth 20000,50000,100000,200000` grows one embedded
index step by step and measures search and size at each step. Elasticsearch is a local
single node (512 MB heap, TLS and a password) started by index/elastic_server.py.

The machine is shared, so next to wall-clock numbers the report gives this process's CPU
time (docs per CPU second, CPU ms per query) and the load average: wall numbers are only
comparable between runs made under similar load, CPU numbers much more so (for
Elasticsearch they leave out the server's own CPU).
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
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
csv.field_size_limit(10_000_000)

from index.base import IndexDocument, SearchIndex, SearchRequest, region_ancestry  # noqa: E402
from index.elastic import ElasticIndex  # noqa: E402
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


def bench_index(index: SearchIndex, documents: list[IndexDocument], batch: int) -> dict[str, float]:
    started, cpu = time.perf_counter(), time.process_time()
    for first in range(0, len(documents), batch):
        index.upsert(documents[first : first + batch])
    if isinstance(index, ElasticIndex):
        index.client.indices.refresh(index=index.alias)
    elapsed, cpu_used = time.perf_counter() - started, time.process_time() - cpu
    return {
        "index_docs_per_s": round(len(documents) / elapsed),
        "index_docs_per_cpu_s": round(len(documents) / cpu_used),
    }


def percentile(samples: list[float], share: float) -> float:
    return round(samples[int(len(samples) * share) - 1], 1)


def bench_search(index: SearchIndex, rounds: int) -> dict[str, float]:
    for q in QUERIES:  # warm caches, as a running service has them
        index.search(SearchRequest(q=q, facets=True))
    wall, cpu = [], []
    for _ in range(rounds):
        for q in QUERIES:
            started, cpu_started = time.perf_counter(), time.process_time()
            index.search(SearchRequest(q=q, facets=True))
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - cpu_started) * 1000)
    wall.sort()
    cpu.sort()
    return {
        "p50_ms": round(statistics.median(wall), 1),
        "p95_ms": percentile(wall, 0.95),
        "max_ms": round(wall[-1], 1),
        "cpu_p50_ms": round(statistics.median(cpu), 1),
        "cpu_p95_ms": percentile(cpu, 0.95),
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
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--embedded-only", action="store_true")
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
    with tempfile.TemporaryDirectory() as tmp:
        embedded = EmbeddedIndex(Path(tmp) / "index.sqlite")
        results["embedded"] = bench_index(embedded, documents, args.batch)
        results["embedded"] |= bench_search(embedded, args.rounds)
        embedded.close()
        size_bytes = sum(p.stat().st_size for p in Path(tmp).glob("index.sqlite*"))
        results["embedded"]["size_mb"] = round(size_bytes / 1e6, 1)
    if not args.embedded_only:
        server = start(security=True)
        try:
            elastic = ElasticIndex(
                server.url,
                username=server.username,
                password=server.password,
                ca_certs=str(server.ca_certs),
                alias="pantau-bench",
                refresh=False,  # one refresh at the end, as a bulk load would
            )
            results["elasticsearch"] = bench_index(elastic, documents, args.batch)
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
