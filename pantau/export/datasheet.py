"""The datasheet (README.md) of an export: what, when, from where, made by which versions,
label definitions, counts, protection, biases and gaps, licence, and checksums."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pantau import __version__
from pantau.export.dataset import SPLITS, ExportFilters, ExportOptions, ExportRecord, label_counts

# From shared/contracts/taxonomy.md (the annotation guide), condensed.
LABEL_DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "`relevance: incident`",
        "The article reports one or more specific cases: a victim, an arrest, a raid, a "
        "rescue, a foiled departure, a trial or verdict, the repatriation of named or "
        "counted victims.",
    ),
    (
        "`relevance: aggregate`",
        "About these crimes in general (statistics, policy, meetings, campaigns, laws) "
        "without a specific new case.",
    ),
    (
        "`relevance: none`",
        "Anything else, including violence where no victim is a woman or a child (unless "
        "trafficking).",
    ),
    (
        "`tppo`",
        "Trafficking in persons (UU 21/2007), any victim: recruiting, moving, harbouring,"
        " sending or receiving a person by force, deceit, debt or abuse of vulnerability "
        "for exploitation; non-procedural migrant placement treated as trafficking, baby "
        "selling, child prostitution arranged by others.",
    ),
    (
        "`kekerasan_seksual`",
        "Sexual violence (UU TPKS 12/2022): rape, molestation, intercourse with a child, "
        "harassment, online sexual abuse, forced marriage.",
    ),
    (
        "`kekerasan_fisik`",
        "Physical violence against a woman or child: beating, torture, wounding, killing.",
    ),
    (
        "`kekerasan_psikis`",
        "Psychological violence: threats, intimidation, bullying, humiliation.",
    ),
    (
        "`eksploitasi`",
        "Economic or sexual exploitation of a woman or child: child labour, forced "
        "begging, prostitution of a minor.",
    ),
    (
        "`penelantaran`",
        "Neglect or abandonment.",
    ),
    (
        "`victim_groups: anak`",
        "Any victim under 18. `perempuan`: any victim female.",
    ),
    (
        "`domestic`",
        "The perpetrator is family, household member or intimate partner (KDRT).",
    ),
    (
        "`victims.count`",
        "Number of victims of the reported case(s) when stated; 1 for a plainly single "
        "victim; else null.",
    ),
    (
        "`primary_location`",
        "Where the case happened, Kemendagri region (kabupaten/kota, else provinsi).",
    ),
    (
        "entities",
        "PERSON, ORGANIZATION, LOCATION, TIME, QUANTITY (IndoLEM NER-UGM guidelines); a "
        "PERSON may carry `role` victim / perpetrator / other.",
    ),
)
LABEL_NOTE = (
    "Violence forms count only when a victim is a woman or a child; `tppo` counts for any "
    "victim. The full guide is `taxonomy.md` of the Pantau contracts."
)

FORMAT_NOTES = {
    "jsonl": "`jsonl/{train,dev,test}.jsonl`: one JSON object per article: the Pantau "
    "tagged-article contract (relevance, categories, victim_groups, victims, perpetrators, "
    "primary_location, locations, incident_date, entities with character offsets, scores, "
    "model) plus `title`, `text`, `url`, `source`, `published`, `split`, `story_id`, "
    "`label_provenance`.",
    "csv": "`csv/articles.csv`: one row per article, flat fields (lists joined with `;`), "
    "a `split` column.",
    "parquet": "`parquet/{train,dev,test}.parquet`: the flat fields plus nested `entities`, "
    "`locations`, `scores` (zstd-compressed).",
    "conll": "`conll/{train,dev,test}.conll`: CoNLL-2003 style NER, `token TAG` per line "
    "(BIO tags), `-DOCSTART- O` before each article (title, blank line, text), a blank "
    "line after each sentence; tokens from spaCy's blank `id` tokenizer.",
    "spacy": "`spacy/{train,dev,test}.spacy`: spaCy `DocBin` (same tokens and entities; "
    "`doc.cats` relevance and forms; `doc.user_data` id, split, story_id).",
    "hf": "`hf/`: a Hugging Face dataset folder: `datasets.load_dataset('hf')` gives "
    "train/validation/test (Parquet files under `hf/data/`).",
}


@dataclass(frozen=True)
class DatasheetInputs:
    records: Sequence[ExportRecord]
    filters: ExportFilters
    options: ExportOptions
    formats: Sequence[str]
    aggregate_rows: list[dict[str, str]]
    unmasked_by: str | None = None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums_section(root: Path, files: Sequence[Path]) -> str:
    lines = ["## Checksums", "", "sha256 of every other file of this export:", "", "```"]
    for path in sorted(files, key=lambda p: p.relative_to(root).as_posix()):
        lines.append(f"{sha256_of(path)}  {path.relative_to(root).as_posix()}")
    lines += ["```", ""]
    return "\n".join(lines)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def datasheet(inputs: DatasheetInputs) -> str:
    """The datasheet's Markdown, without checksums (added by the caller)."""
    records, options = inputs.records, inputs.options
    dates = sorted(r.published[:10] for r in records if r.published)
    sources = Counter(r.source for r in records)
    models = Counter(f"{r.tagged.model.name} {r.tagged.model.version}" for r in records)
    corrected = sum(1 for r in records if r.provenance.corrected)
    origins: Counter[str] = Counter()
    for record in records:
        for name, source in record.provenance.fields.items():
            origins[f"{name}: {source.origin}"] += 1
    split_sizes = Counter(r.split for r in records)
    stories = {split: len({r.story_id for r in records if r.split == split}) for split in SPLITS}
    masked = options.masked
    out: list[str] = [
        "# Pantau research export: Indonesian news on trafficking and violence against "
        "women and children",
        "",
    ]
    if masked:
        out += [
            "Victims are protected in this export: see *Protection* below. Research use only.",
            "",
        ]
    else:
        out += [
            f"**UNMASKED export** made by `{inputs.unmasked_by}`: it holds victims' names. "
            "For the analysts' own use only; never share it.",
            "",
        ]
    out += [
        "## What",
        "",
        f"{len(records)} news articles from Indonesian online media, crawled by Pantau and "
        "labelled with the Pantau taxonomy (relevance, forms of violence, victims, "
        "perpetrators, places, dates, named entities). Labels are the model's, replaced "
        "field by field where an analyst corrected them in the web app or an annotator "
        "labelled the article in Label Studio (`label_provenance` says which, who and when).",
        "",
        "## When",
        "",
        f"Articles published {dates[0]} to {dates[-1]} (dates as published, UTC offset kept)."
        if dates
        else "No dated articles.",
    ]
    undated = sum(1 for r in records if not r.published)
    if undated:
        out.append(f"{undated} articles have no publication date.")
    out += ["", "## Sources", ""]
    out += _table(["source", "articles"], sorted(sources.items()))
    out += [
        "",
        "## Versions",
        "",
        f"Crawled and exported by Pantau {__version__}. Models that made the tags:",
        "",
    ]
    out += _table(["model", "articles"], sorted(models.items()))
    out += [
        "",
        f"{corrected} of {len(records)} articles carry at least one label set by a person.",
        "",
    ]
    out += _table(["field: label source", "articles"], sorted(origins.items()))
    out += [
        "",
        "## Selection",
        "",
        "Filters (the same filters on the same store give byte-identical files):",
        "",
        "```json",
        json.dumps(
            inputs.filters.model_dump(mode="json", exclude_defaults=True, exclude={"ids"}),
            indent=2,
            sort_keys=True,
        ),
        "```",
        "",
        *(
            [f"Restricted to the {len(inputs.filters.ids)} hits of a search query.", ""]
            if inputs.filters.ids is not None
            else []
        ),
        f"Options: masked={str(masked).lower()}, text={str(options.include_text).lower()}, "
        f"seed={options.seed}, ratios={list(options.ratios)}, k={options.k_anonymity}.",
        "",
        "## Splits",
        "",
        "Articles about the same case (a story cluster: syndicated copies and follow-ups "
        "the crawler grouped, `story_id`) are never divided between splits. Clusters are "
        "stratified by form (their first form in taxonomy order, else relevance) and "
        "dealt, in an order fixed by the seed, to the split furthest below its share "
        f"({', '.join(f'{s} {r:.0%}' for s, r in zip(SPLITS, options.ratios, strict=True))}).",
        "",
    ]
    out += _table(
        ["split", "articles", "story clusters"],
        [(s, split_sizes.get(s, 0), stories[s]) for s in SPLITS],
    )
    out += ["", "## Counts per split and label", ""]
    counts = label_counts(records)
    out += _table(
        ["label", *SPLITS, "all"],
        [
            (label, *(by.get(s, 0) for s in SPLITS), sum(by.values()))
            for label, by in counts.items()
        ],
    )
    out += ["", "## Files", ""]
    out += [f"- {FORMAT_NOTES[name]}" for name in inputs.formats]
    out += [
        f"- `aggregates/incidents_region_form_month.csv`: incident cases (story "
        f"clusters) and their articles per kabupaten/kota × form × month (WIB); a cell "
        f"with under {options.k_anonymity} cases shows `<{options.k_anonymity}` and no "
        "article count.",
        "",
        "## Labels",
        "",
        *_table(["label", "meaning"], LABEL_DEFINITIONS),
        "",
        LABEL_NOTE,
        "",
        "## Protection",
        "",
    ]
    if masked:
        out += [
            "Indonesian law forbids identifying child victims (UU 11/2012 SPPA, UU 35/2014) "
            "and protects victims of sexual violence (UU TPKS). In this export every PERSON "
            "the tagger or an annotator marked as a victim is replaced by a pseudonym "
            "`[KORBAN-n]`, and in articles about children every other PERSON by `[ORANG-n]` "
            "— in titles, texts, URLs and entities alike, consistently within an article "
            "(numbered per article, not across articles), with entity offsets recomputed. "
            "Later mentions of a protected name, and the parts of a multi-word name, are "
            "replaced too. Names the tagger did not recognise as persons cannot be masked: "
            "report any you find to the Pantau team and do not publish them.",
            "",
        ]
    else:
        out += ["Not masked (see the warning at the top).", ""]
    if not options.include_text:
        out += ["Titles and texts are left out (`--no-text`): labels and metadata only.", ""]
    out += [
        f"Aggregate cells with fewer than k={options.k_anonymity} cases are suppressed (the "
        "practice of the Counter Trafficking Data Collaborative). A case is a story "
        "cluster: the articles of all outlets on one incident count once.",
        "",
    ]
    shown = inputs.aggregate_rows[:40]
    if shown:
        out += _table(
            ["region", "name", "form", "month", "incident cases", "articles"],
            [tuple(row.values()) for row in shown],
        )
        if len(inputs.aggregate_rows) > len(shown):
            out.append(f"\n({len(inputs.aggregate_rows) - len(shown)} more rows in the CSV.)")
        out.append("")
    out += [
        "## Known biases and gaps",
        "",
        "- Only what the press reported: cases that are not reported, or reported by "
        "sources Pantau does not crawl, are missing; sensational and urban cases are "
        "over-represented.",
        f"- Sources: {len(sources)} outlet(s), mostly local media of Jambi province; other "
        "provinces appear only as they report on them.",
        "- Counts are of articles, not of cases or victims: a case reported by several "
        "outlets or over several days appears several times (grouped by `story_id`).",
        "- Labels not marked as set by a person are a model's (a rule-based tagger at "
        "first): expect errors, especially in forms, victim counts and locations.",
        "- Person names the tagger missed are neither tagged nor masked.",
        "- Publication dates are as the sites state them; some articles are undated.",
        "",
        "## Licence",
        "",
        "The article texts belong to their publishers. This export is for research by the "
        "person who requested it only: no redistribution, no republication of texts, no "
        "attempt to re-identify anyone. The labels are Pantau's. Cite the publishers "
        "(`source`, `url`) when quoting.",
        "",
    ]
    return "\n".join(out)
