"""The export formats. Every writer is deterministic: records in the order given, fixed
schemas, no timestamps, "\\n" line ends, so the same records give byte-identical files."""

from __future__ import annotations

import csv
import functools
import importlib
import io
import json
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pantau.export.dataset import SPLITS, WIB, ExportRecord, Split
from pantau.models import regency_code

if TYPE_CHECKING:
    import pyarrow as pa
    from spacy.language import Language
    from spacy.tokens import Doc

FORMATS = ("jsonl", "csv", "parquet", "conll", "spacy", "hf")
TEXT_FORMATS = frozenset({"conll", "spacy"})  # meaningless without the text
# Hugging Face names the development split "validation".
HF_SPLIT_NAMES: dict[Split, str] = {"train": "train", "dev": "validation", "test": "test"}


def by_split(records: Sequence[ExportRecord]) -> dict[Split, list[ExportRecord]]:
    return {split: [r for r in records if r.split == split] for split in SPLITS}


def _write_text(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(content)
    return path


# -- JSONL -----------------------------------------------------------------------------


def write_jsonl(records: Sequence[ExportRecord], folder: Path) -> list[Path]:
    written = []
    for split, rows in by_split(records).items():
        lines = [json.dumps(r.contract_record(), ensure_ascii=False) + "\n" for r in rows]
        written.append(_write_text(folder / f"{split}.jsonl", "".join(lines)))
    return written


# -- CSV and Parquet: flat rows ---------------------------------------------------------

FLAT_COLUMNS = (
    "id",
    "split",
    "story_id",
    "source",
    "url",
    "published",
    "title",
    "text",
    "language",
    "relevance",
    "categories",
    "victim_groups",
    "domestic",
    "victims_count",
    "victims_children",
    "victims_female",
    "perpetrators_count",
    "perpetrators_relation",
    "primary_location_code",
    "primary_location_name",
    "primary_location_level",
    "incident_date",
    "model_name",
    "model_version",
    "corrected",
)


def flat_row(record: ExportRecord) -> dict[str, Any]:
    tagged = record.tagged
    place = tagged.primary_location
    return {
        "id": record.id,
        "split": record.split,
        "story_id": record.story_id,
        "source": record.source,
        "url": record.url,
        "published": record.published,
        "title": record.title,
        "text": record.text,
        "language": tagged.language,
        "relevance": tagged.relevance,
        "categories": list(tagged.categories),
        "victim_groups": list(tagged.victim_groups),
        "domestic": tagged.domestic,
        "victims_count": tagged.victims.count,
        "victims_children": tagged.victims.children,
        "victims_female": tagged.victims.female,
        "perpetrators_count": tagged.perpetrators.count,
        "perpetrators_relation": tagged.perpetrators.relation,
        "primary_location_code": place.code if place else None,
        "primary_location_name": place.name if place else None,
        "primary_location_level": place.level if place else None,
        "incident_date": tagged.incident_date,
        "model_name": tagged.model.name,
        "model_version": tagged.model.version,
        "corrected": record.provenance.corrected,
    }


def write_csv(records: Sequence[ExportRecord], folder: Path) -> list[Path]:
    """One row per article (all splits, `split` column); lists joined with ';'."""
    include_text = any(r.text is not None for r in records) or not records
    columns = [c for c in FLAT_COLUMNS if include_text or c not in ("title", "text")]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        row = flat_row(record)
        writer.writerow(
            {
                c: ";".join(row[c])
                if isinstance(row[c], list)
                else ("" if row[c] is None else row[c])
                for c in columns
            }
        )
    return [_write_text(folder / "articles.csv", buffer.getvalue())]


def arrow_schema(include_text: bool = True) -> pa.Schema:
    import pyarrow as pa

    region = [
        ("name", pa.string()),
        ("code", pa.string()),
        ("level", pa.string()),
        ("province_code", pa.string()),
        ("role", pa.string()),
    ]
    entity = [
        ("field", pa.string()),
        ("start", pa.int64()),
        ("end", pa.int64()),
        ("label", pa.string()),
        ("text", pa.string()),
        ("role", pa.string()),
    ]
    types: dict[str, pa.DataType] = {
        "categories": pa.list_(pa.string()),
        "victim_groups": pa.list_(pa.string()),
        "domestic": pa.bool_(),
        "corrected": pa.bool_(),
        **{
            name: pa.int64()
            for name in (
                "victims_count",
                "victims_children",
                "victims_female",
                "perpetrators_count",
            )
        },
    }
    fields = [
        pa.field(c, types.get(c, pa.string()))
        for c in FLAT_COLUMNS
        if include_text or c not in ("title", "text")
    ]
    fields += [
        pa.field("locations", pa.list_(pa.struct(region))),
        pa.field("entities", pa.list_(pa.struct(entity))),
        pa.field("scores", pa.list_(pa.struct([("name", pa.string()), ("value", pa.float64())]))),
        pa.field("label_provenance", pa.string()),
    ]
    return pa.schema(fields)


def arrow_table(records: Sequence[ExportRecord], include_text: bool = True) -> pa.Table:
    import pyarrow as pa

    schema = arrow_schema(include_text)
    rows = []
    for record in records:
        row = flat_row(record)
        if not include_text:
            row.pop("title")
            row.pop("text")
        row["locations"] = [
            {k: getattr(place, k) for k in ("name", "code", "level", "province_code", "role")}
            for place in record.tagged.locations
        ]
        row["entities"] = [e.model_dump() for e in record.tagged.entities]
        row["scores"] = [
            {"name": name, "value": value} for name, value in sorted(record.tagged.scores.items())
        ]
        row["label_provenance"] = json.dumps(
            record.provenance.as_dict(), ensure_ascii=False, sort_keys=True
        )
        rows.append(row)
    # No pandas metadata, no timestamps: the schema as declared and nothing else.
    return pa.Table.from_pylist(rows, schema=schema)


def write_parquet_file(table: pa.Table, path: Path) -> Path:
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=9,
        use_dictionary=True,
        write_statistics=True,
        store_schema=False,
    )
    return path


def write_parquet(records: Sequence[ExportRecord], folder: Path, include_text: bool) -> list[Path]:
    return [
        write_parquet_file(arrow_table(rows, include_text), folder / f"{split}.parquet")
        for split, rows in by_split(records).items()
    ]


# -- spaCy documents: CoNLL and DocBin ---------------------------------------------------


@functools.cache
def blank_indonesian() -> Language:
    """spaCy's rule-based Indonesian tokenizer and a rule sentencizer: nothing to
    download, the same tokens on every machine with the same spaCy version. Built once
    per process: its 16,000 tokenizer exceptions take seconds to load."""
    importlib.import_module("nlp.ner")  # imports spaCy without PyTorch (see there)
    import spacy

    nlp = spacy.blank("id")
    nlp.add_pipe("sentencizer")
    return nlp


def document_text(record: ExportRecord) -> tuple[str, int]:
    """The document a token-level format holds: title, a blank line, the text; and the
    offset of the text in it."""
    title = record.title or ""
    prefix = f"{title}\n\n" if title else ""
    return prefix + (record.text or ""), len(prefix)


def to_doc(nlp: Language, record: ExportRecord) -> Doc:
    from spacy.util import filter_spans

    content, text_offset = document_text(record)
    doc = nlp(content)
    spans = []
    for entity in record.tagged.entities:
        offset = 0 if entity.field == "title" else text_offset
        if entity.field == "title" and not record.title:
            continue
        span = doc.char_span(
            entity.start + offset, entity.end + offset, label=entity.label, alignment_mode="expand"
        )
        if span is not None and span.text.strip():
            spans.append(span)
    doc.ents = filter_spans(spans)
    cats = {f"relevance:{name}": 0.0 for name in ("incident", "aggregate", "none")}
    cats[f"relevance:{record.tagged.relevance}"] = 1.0
    for category in ("tppo", "kekerasan_seksual", "kekerasan_fisik", "kekerasan_psikis"):
        cats[f"form:{category}"] = 0.0
    for category in ("eksploitasi", "penelantaran"):
        cats[f"form:{category}"] = 0.0
    for category in record.tagged.categories:
        cats[f"form:{category}"] = 1.0
    doc.cats = cats
    doc.user_data["id"] = record.id
    doc.user_data["split"] = record.split
    doc.user_data["story_id"] = record.story_id
    return doc


def conll_lines(doc: Doc) -> list[str]:
    """CoNLL-2003 style: a -DOCSTART- line per article, one 'token TAG' line per token
    (BIO tags), a blank line after each sentence; whitespace tokens left out."""
    lines = ["-DOCSTART- O", ""]
    for sentence in doc.sents:
        tokens = [t for t in sentence if not t.is_space]
        if not tokens:
            continue
        for token in tokens:
            tag = "O" if token.ent_iob_ in ("O", "") else f"{token.ent_iob_}-{token.ent_type_}"
            lines.append(f"{token.text} {tag}")
        lines.append("")
    return lines


def write_token_formats(
    records: Sequence[ExportRecord], formats: set[str], out: Path
) -> list[Path]:
    from spacy.tokens import DocBin

    nlp = blank_indonesian()
    written = []
    for split, rows in by_split(records).items():
        docs = [to_doc(nlp, record) for record in rows]
        if "conll" in formats:
            lines = [line for doc in docs for line in conll_lines(doc)]
            written.append(_write_text(out / "conll" / f"{split}.conll", "\n".join(lines) + "\n"))
        if "spacy" in formats:
            doc_bin = DocBin(attrs=["ORTH", "SPACY", "ENT_IOB", "ENT_TYPE", "SENT_START"])
            doc_bin.store_user_data = True
            for doc in docs:
                doc_bin.add(doc)
            path = out / "spacy" / f"{split}.spacy"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(doc_bin.to_bytes())
            written.append(path)
    return written


# -- Hugging Face --------------------------------------------------------------------------


def write_hf(
    records: Sequence[ExportRecord], folder: Path, include_text: bool, card_body: str
) -> list[Path]:
    """A folder `datasets.load_dataset(folder)` reads: Parquet data files per split and a
    README.md whose YAML `configs` names them (and the dataset card below it)."""
    written = []
    data_files = []
    for split, rows in by_split(records).items():
        name = HF_SPLIT_NAMES[split]
        path = write_parquet_file(
            arrow_table(rows, include_text), folder / "data" / f"{name}.parquet"
        )
        written.append(path)
        data_files.append(f"  - split: {name}\n    path: data/{name}.parquet\n")
    header = (
        "---\n"
        "language:\n- id\n"
        "license: other\n"
        "license_name: research-use-only\n"
        "pretty_name: Pantau news on violence against women and children (research export)\n"
        "task_categories:\n- text-classification\n- token-classification\n"
        "configs:\n- config_name: default\n  data_files:\n" + "".join(data_files) + "---\n\n"
    )
    written.append(_write_text(folder / "README.md", header + card_body))
    return written


# -- aggregate table ----------------------------------------------------------------------


def aggregate_rows(records: Sequence[ExportRecord], k: int) -> list[dict[str, str]]:
    """Incident cases (story clusters: one case however many outlets reported it) per
    kabupaten/kota × form × month (WIB), with their articles beside them. A cell with
    fewer than k cases shows '<k' and no article count, so a small count cannot point to
    one person (k-anonymity counts cases, not articles: ten reports of one case are one
    family)."""
    cases: dict[tuple[str, str, str, str], set[str]] = {}
    articles: Counter[tuple[str, str, str, str]] = Counter()
    for record in records:
        tagged = record.tagged
        if tagged.relevance != "incident" or record.published is None:
            continue
        month = datetime.fromisoformat(record.published).astimezone(WIB).strftime("%Y-%m")
        place = tagged.primary_location
        code = regency_code(place.code if place else None) or ""
        name = _region_name(code) if code else ""
        forms: list[str] = list(tagged.categories) or ["(no form)"]
        for form in forms:
            cell = (code or "unknown", name, form, month)
            cases.setdefault(cell, set()).add(record.story_id)
            articles[cell] += 1
    rows = []
    for cell, stories in sorted(cases.items()):
        code, name, form, month = cell
        shown = len(stories) >= k
        rows.append(
            {
                "region_code": code,
                "region_name": name,
                "form": form,
                "month": month,
                "cases": str(len(stories)) if shown else f"<{k}",
                "articles": str(articles[cell]) if shown else "",
            }
        )
    return rows


def _region_name(code: str) -> str:
    from nlp.gazetteer import load_gazetteer

    place = load_gazetteer().get(code)
    return place.name if place else ""


def write_aggregates(rows: list[dict[str, str]], folder: Path) -> list[Path]:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer,
        fieldnames=["region_code", "region_name", "form", "month", "cases", "articles"],
        lineterminator="\n",
    )
    writer.writeheader()
    writer.writerows(rows)
    return [_write_text(folder / "incidents_region_form_month.csv", buffer.getvalue())]
