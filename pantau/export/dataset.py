"""What an export holds: the filters, the split of story clusters into train/dev/test,
and the records (protected unless an allowed account asked otherwise). Pure functions over
`effective_labels`; the writers and the datasheet only format these records."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from pantau.export.labels import LabelledArticle, Provenance
from pantau.models import CATEGORIES, Category, Relevance, TaggedArticle, VictimGroup
from web.masking import protected_persons, pseudonymise

WIB = timezone(timedelta(hours=7))
Split = Literal["train", "dev", "test"]
SPLITS: tuple[Split, ...] = ("train", "dev", "test")
DEFAULT_SEED = 20261127
DEFAULT_RATIOS = (0.8, 0.1, 0.1)


class ExportFilters(BaseModel):
    """Which articles an export holds. Every filter given must match (lists: any item)."""

    model_config = ConfigDict(extra="forbid")

    date_from: date | None = Field(default=None, description="Published on or after (WIB day).")
    date_to: date | None = Field(default=None, description="Published on or before (WIB day).")
    relevance: list[Relevance] = Field(default_factory=list)
    forms: list[Category] = Field(default_factory=list, description="Any of these forms.")
    victim_groups: list[VictimGroup] = Field(default_factory=list)
    regions: list[str] = Field(
        default_factory=list,
        description="Kemendagri codes of the primary location; '15' keeps Jambi province.",
    )
    sources: list[str] = Field(
        default_factory=list, description="Source labels as stored ('Tribun Jambi'), any case."
    )
    model_version: str | None = Field(default=None, description="Only tags of this version.")
    corrected_only: bool = Field(
        default=False, description="Only articles a person corrected or annotated."
    )
    ids: list[str] | None = Field(
        default=None, description="Only these article ids (a search query's hits)."
    )
    _ids_cache: frozenset[str] | None = PrivateAttr(default=None)

    @field_validator("regions")
    @classmethod
    def _region_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not code or not all(part.isdigit() for part in code.split(".")):
                raise ValueError(f"region {code!r}: give a Kemendagri code such as 15 or 15.71")
        return value

    def _id_set(self) -> frozenset[str]:
        if self._ids_cache is None:
            self._ids_cache = frozenset(self.ids or ())
        return self._ids_cache

    def matches(self, labelled: LabelledArticle) -> bool:
        stored, tagged, provenance = labelled.article, labelled.tagged, labelled.provenance
        article = stored.article
        if self.ids is not None and stored.id not in self._id_set():
            return False
        if self.date_from or self.date_to:
            if article.published is None:
                return False
            day = article.published.astimezone(WIB).date()
            if (self.date_from and day < self.date_from) or (self.date_to and day > self.date_to):
                return False
        if self.relevance and tagged.relevance not in self.relevance:
            return False
        if self.forms and not set(self.forms) & set(tagged.categories):
            return False
        if self.victim_groups and not set(self.victim_groups) & set(tagged.victim_groups):
            return False
        if self.regions:
            code = tagged.primary_location.code if tagged.primary_location else None
            if not code or not any(code == r or code.startswith(r + ".") for r in self.regions):
                return False
        if self.sources and article.source.casefold() not in {s.casefold() for s in self.sources}:
            return False
        if self.model_version and labelled.model_tagged.model.version != self.model_version:
            return False
        return not (self.corrected_only and not provenance.corrected)


@dataclass(frozen=True)
class ExportOptions:
    masked: bool = True
    include_text: bool = True
    seed: int = DEFAULT_SEED
    ratios: tuple[float, float, float] = DEFAULT_RATIOS
    k_anonymity: int = 11


@dataclass(frozen=True)
class ExportRecord:
    """One article as exported: text and tag protected (when masked), its split."""

    id: str
    story_id: str
    split: Split
    source: str
    url: str
    published: str | None
    title: str | None
    text: str | None
    tagged: TaggedArticle
    provenance: Provenance
    pseudonyms: int

    def contract_record(self) -> dict[str, Any]:
        """The JSONL line: the tagged-article contract plus the article and split fields."""
        record = self.tagged.model_dump(mode="json")
        record.update(
            {
                "title": self.title,
                "text": self.text,
                "url": self.url,
                "source": self.source,
                "published": self.published,
                "split": self.split,
                "story_id": self.story_id,
                "label_provenance": self.provenance.as_dict(),
            }
        )
        if self.text is None:
            del record["text"]
            del record["title"]
        return record


def stratum(categories: Iterable[str], relevance: Iterable[str]) -> str:
    """A story cluster's stratum: its first form in taxonomy order, else its relevance."""
    forms = set(categories)
    for category in CATEGORIES:
        if category in forms:
            return category
    seen = set(relevance)
    for name in ("incident", "aggregate"):
        if name in seen:
            return f"{name}:no-form"
    return "none"


def assign_splits(
    clusters: dict[str, tuple[str, int]],
    seed: int = DEFAULT_SEED,
    ratios: Sequence[float] = DEFAULT_RATIOS,
) -> dict[str, Split]:
    """Story cluster → split. `clusters` maps a cluster id to (stratum, article count).

    Within each stratum the clusters go, in an order fixed by the seed (a hash, not
    Python's random), to the split furthest below its share of the stratum's articles:
    stratified by form, reproducible, and a cluster is never divided."""
    if len(ratios) != 3 or abs(sum(ratios) - 1.0) > 1e-9 or min(ratios) < 0:
        raise ValueError("split ratios: three non-negative numbers that sum to 1")
    by_stratum: dict[str, list[str]] = defaultdict(list)
    for cluster, (name, _) in clusters.items():
        by_stratum[name].append(cluster)
    assigned: dict[str, Split] = {}
    overall = dict.fromkeys(SPLITS, 0)
    overall_total = 0
    for name in sorted(by_stratum):
        order = sorted(
            by_stratum[name],
            key=lambda c: hashlib.sha256(f"{seed}:{c}".encode()).hexdigest(),
        )
        filled = dict.fromkeys(SPLITS, 0)
        total = 0
        for cluster in order:
            size = clusters[cluster][1]
            total += size
            overall_total += size

            # The split furthest below its share of this stratum; ties (small strata) go
            # to the split furthest below its share overall, so dev and test fill too.
            best = max(
                SPLITS,
                key=lambda split: _deficit(
                    split, ratios, (total, filled), (overall_total, overall)
                ),
            )
            assigned[cluster] = best
            filled[best] += size
            overall[best] += size
    return assigned


def _deficit(
    split: Split,
    ratios: Sequence[float],
    stratum: tuple[int, dict[Split, int]],
    overall: tuple[int, dict[Split, int]],
) -> tuple[float, float, int]:
    share = ratios[SPLITS.index(split)]
    return (
        round(share * stratum[0] - stratum[1][split], 9),
        round(share * overall[0] - overall[1][split], 9),
        -SPLITS.index(split),
    )


def build_records(
    labelled: Iterable[LabelledArticle], filters: ExportFilters, options: ExportOptions
) -> list[ExportRecord]:
    """The export's records, ordered by split then article id (stable across runs)."""
    chosen = [item for item in labelled if filters.matches(item)]
    members: dict[str, list[LabelledArticle]] = defaultdict(list)
    for item in chosen:
        members[item.story_id].append(item)
    clusters = {
        story: (
            stratum(
                (c for item in items for c in item.tagged.categories),
                (item.tagged.relevance for item in items),
            ),
            len(items),
        )
        for story, items in members.items()
    }
    splits = assign_splits(clusters, options.seed, options.ratios)
    records = [_record(item, splits[item.story_id], options) for item in chosen]
    return sorted(records, key=lambda r: (SPLITS.index(r.split), r.id))


def _record(item: LabelledArticle, split: Split, options: ExportOptions) -> ExportRecord:
    article = item.article.article
    title, text, tagged, url, pseudonyms = (
        article.title,
        article.text,
        item.tagged,
        article.canonical_url,
        0,
    )
    if options.masked:
        protected = pseudonymise(
            title,
            text,
            tagged,
            others={"url": url},
            other_names=protected_persons(title, text, tagged),
        )
        title, text, tagged = protected.title, protected.text, protected.tagged
        url, pseudonyms = protected.others["url"], protected.pseudonyms
    return ExportRecord(
        id=item.article.id,
        story_id=_story_label(item.story_id),
        split=split,
        source=article.source,
        url=url,
        published=article.published.isoformat() if article.published else None,
        title=title if options.include_text else None,
        text=text if options.include_text else None,
        tagged=tagged,
        provenance=item.provenance,
        pseudonyms=pseudonyms,
    )


def _story_label(story_id: str) -> str:
    # Story ids are internal (an article id, or a cluster key): a short stable hash says
    # which articles share a case without exposing how the store keys it.
    return "story-" + hashlib.sha256(story_id.encode()).hexdigest()[:12]


def label_counts(records: Sequence[ExportRecord]) -> dict[str, dict[str, int]]:
    """Per label ("relevance:incident", "form:tppo", "group:anak", "entity:PERSON"),
    how many records of each split carry it."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for record in records:
        labels = [f"relevance:{record.tagged.relevance}"]
        labels += [f"form:{c}" for c in record.tagged.categories]
        labels += [f"group:{g}" for g in record.tagged.victim_groups]
        labels += sorted({f"entity:{e.label}" for e in record.tagged.entities})
        for label in labels:
            counts[label][record.split] += 1
    return {label: dict(counts[label]) for label in sorted(counts)}
