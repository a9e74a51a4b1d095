"""`pantau export`: select, split, protect, write every format, then the datasheet."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pantau.export.dataset import ExportFilters, ExportOptions, ExportRecord, build_records
from pantau.export.datasheet import DatasheetInputs, checksums_section, datasheet
from pantau.export.labels import effective_labels
from pantau.export.writers import (
    FORMATS,
    TEXT_FORMATS,
    aggregate_rows,
    write_aggregates,
    write_csv,
    write_hf,
    write_jsonl,
    write_parquet,
    write_token_formats,
)
from pantau.store import ArticleStore

log = logging.getLogger(__name__)

# Roles that may export unmasked (only from the command line, authenticated, audited).
UNMASKED_ROLES = frozenset({"analyst", "admin"})


class ExportError(ValueError):
    """An export that cannot be made as asked (bad options, a refused role)."""


@dataclass(frozen=True)
class ExportResult:
    out: Path
    records: list[ExportRecord]
    files: list[Path]

    @property
    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for record in self.records:
            found[record.split] = found.get(record.split, 0) + 1
        return found


def parse_formats(value: str | Sequence[str]) -> list[str]:
    names = value.split(",") if isinstance(value, str) else list(value)
    formats = [n.strip().lower() for n in names if n.strip()]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise ExportError(
            f"format {', '.join(unknown) or '(none)'}: choose from {', '.join(FORMATS)}"
        )
    return [name for name in FORMATS if name in formats]  # fixed order


def check_unmasked(role: str | None) -> None:
    """Unmasked exports only for analysts and admins; researchers get masked exports."""
    if role not in UNMASKED_ROLES:
        raise ExportError(
            f"an unmasked export needs an analyst or admin account (role: {role or 'none'}); "
            "researchers get masked exports only"
        )


def export_dataset(
    store: ArticleStore,
    out: Path,
    formats: Sequence[str],
    filters: ExportFilters | None = None,
    options: ExportOptions | None = None,
    unmasked_by: str | None = None,
    overwrite: bool = False,
) -> ExportResult:
    """Write the export to `out` (created; it must be empty unless `overwrite`). The caller
    checks who asked: `options.masked=False` needs `unmasked_by` (an allowed account)."""
    filters = filters or ExportFilters()
    options = options or ExportOptions()
    formats = parse_formats(formats)
    if not options.masked and not unmasked_by:
        raise ExportError("an unmasked export must name the account that asked for it")
    if not options.include_text and TEXT_FORMATS & set(formats):
        raise ExportError(
            f"{', '.join(sorted(TEXT_FORMATS & set(formats)))} need the text; "
            "leave them out with --no-text"
        )
    _prepare(out, overwrite)
    records = build_records(effective_labels(store), filters, options)
    files: list[Path] = []
    if "jsonl" in formats:
        files += write_jsonl(records, out / "jsonl")
    if "csv" in formats:
        files += write_csv(records, out / "csv")
    if "parquet" in formats:
        files += write_parquet(records, out / "parquet", options.include_text)
    if TEXT_FORMATS & set(formats):
        files += write_token_formats(records, set(formats), out)
    rows = aggregate_rows(records, options.k_anonymity)
    files += write_aggregates(rows, out / "aggregates")
    inputs = DatasheetInputs(records, filters, options, formats, rows, unmasked_by)
    body = datasheet(inputs)
    if "hf" in formats:
        files += write_hf(
            records,
            out / "hf",
            options.include_text,
            body + "\nChecksums of every file: `../README.md`.\n",
        )
    readme = out / "README.md"
    with readme.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(body + "\n" + checksums_section(out, files))
    log.info("exported %d articles to %s", len(records), out)
    return ExportResult(out, records, [*files, readme])


def _prepare(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; give a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise ExportError(f"{out} is not empty; give a new folder or --overwrite")
        # Only what an export writes: a folder someone pointed here by mistake keeps the rest.
        import shutil

        for name in ("jsonl", "csv", "parquet", "conll", "spacy", "hf", "aggregates"):
            if (out / name).is_dir():
                shutil.rmtree(out / name)
        (out / "README.md").unlink(missing_ok=True)
        if any(out.iterdir()):
            raise ExportError(f"{out} holds files an export did not write; give a new folder")
    out.mkdir(parents=True, exist_ok=True)
