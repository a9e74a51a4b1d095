"""The effective labels of every tagged article: the model's tag, then analysts' web
corrections and imported gold annotations applied in the order they were made, with
provenance per field. Training and research exports read labels only through here."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pantau.models import Entity, TaggedArticle
from pantau.store import ArticleStore, StoredArticle

log = logging.getLogger(__name__)

LabelOrigin = Literal["model", "web", "label-studio"]
# The fields a correction or an annotation can set, as named in provenance.
LABEL_FIELDS = (
    "relevance",
    "categories",
    "victim_groups",
    "primary_location",
    "victims_count",
    "entities",
)


@dataclass(frozen=True)
class LabelSource:
    """Where one field's value came from: the model (who = "name version"), an analyst's
    correction in the web app (who = username), or a Label Studio annotation (who =
    annotator); `when` is ISO 8601 UTC (None for the model's tag)."""

    origin: LabelOrigin
    who: str
    when: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"source": self.origin, "who": self.who, "when": self.when}


@dataclass(frozen=True)
class Provenance:
    """Per field of LABEL_FIELDS, the source of its effective value."""

    fields: dict[str, LabelSource] = field(default_factory=dict)

    @property
    def corrected(self) -> bool:
        """True when any field was set by a person (web correction or annotation)."""
        return any(source.origin != "model" for source in self.fields.values())

    def is_gold(self, name: str) -> bool:
        """True when a person set this field (not the model)."""
        source = self.fields.get(name)
        return source is not None and source.origin != "model"

    def as_dict(self) -> dict[str, dict[str, str | None]]:
        return {name: self.fields[name].as_dict() for name in LABEL_FIELDS if name in self.fields}


class LabelledArticle(NamedTuple):
    article: StoredArticle
    tagged: TaggedArticle
    provenance: Provenance
    story_id: str
    model_tagged: TaggedArticle


def effective_labels(store: ArticleStore) -> Iterator[LabelledArticle]:
    """Every article with a current tag, in article id order, as
    `(article, tagged, provenance, story_id, model_tagged)` (a NamedTuple: unpack the
    first three or use the names).

    - `tagged`: the model's tag (contract TaggedArticle) with the gold overrides applied,
      oldest first so the latest word wins: analysts' web corrections (store table
      label_corrections: relevance, categories, primary_location, victims_count) and
      Label Studio annotations (store table annotations, from `pantau annotate import`:
      a complete judgement of relevance, categories, victim_groups and entities, with
      PERSON roles). Entity offsets index the article's current title/text.
    - `provenance.fields[name]`: who set each field (origin "model", "web" or
      "label-studio", who, when); `provenance.is_gold("entities")` tells a human-checked
      NER example from a model pre-annotation, `provenance.corrected` any human label.
    - An annotation made on an older text of the article (its content hash differs) is
      skipped with a warning: its offsets no longer fit.

    Texts are NOT masked here: this is for training on the analysts' own machine. Anything
    leaving it goes through `pantau.export` (pseudonymised)."""
    corrections = store.label_corrections()
    annotations = store.annotations()
    stories = store.story_ids()
    for stored, model_tagged in store.iter_tagged():
        tagged, provenance = apply_gold(
            stored,
            model_tagged,
            corrections.get(stored.id, []),
            annotations.get(stored.id, []),
        )
        yield LabelledArticle(
            stored, tagged, provenance, stories.get(stored.id, stored.id), model_tagged
        )


def apply_gold(
    stored: StoredArticle,
    model_tagged: TaggedArticle,
    corrections: list[dict[str, Any]],
    annotations: list[dict[str, Any]],
) -> tuple[TaggedArticle, Provenance]:
    """The tag with corrections and annotations applied in time order (pure)."""
    from web.service import apply_corrections

    model = LabelSource("model", f"{model_tagged.model.name} {model_tagged.model.version}")
    sources: dict[str, LabelSource] = dict.fromkeys(LABEL_FIELDS, model)
    events: list[tuple[datetime, int, str, dict[str, Any]]] = []
    for correction in corrections:
        events.append((_moment(str(correction["created_at"])), 0, "web", correction))
    for annotation in annotations:
        if annotation["content_hash"] != stored.content_hash:
            log.warning(
                "annotation %s of article %s was made on an older text; skipped",
                annotation.get("external_id"),
                stored.id,
            )
            continue
        events.append((_moment(str(annotation["annotated_at"])), 1, "label-studio", annotation))
    tagged = model_tagged.model_copy(deep=True)
    for _, _, origin, event in sorted(events, key=lambda item: (item[0], item[1])):
        if origin == "web":
            tagged = apply_corrections(tagged, [event])
            source = LabelSource("web", str(event["username"]), _iso(str(event["created_at"])))
            changed = set(event["changes"])
        else:
            labels = event["labels"]
            tagged = apply_annotation(tagged, labels)
            source = LabelSource(
                "label-studio", str(event["annotator"]), _iso(str(event["annotated_at"]))
            )
            changed = {name for name in labels if name in LABEL_FIELDS}
        for name in changed & set(LABEL_FIELDS):
            sources[name] = source
    return tagged, Provenance(sources)


def apply_annotation(tagged: TaggedArticle, labels: dict[str, Any]) -> TaggedArticle:
    """A stored annotation's labels over a tag (only the keys present change)."""
    update: dict[str, Any] = {}
    if "relevance" in labels:
        update["relevance"] = labels["relevance"]
    if "categories" in labels:
        update["categories"] = list(dict.fromkeys(labels["categories"]))
    if "victim_groups" in labels:
        update["victim_groups"] = list(dict.fromkeys(labels["victim_groups"]))
    if "entities" in labels:
        update["entities"] = [Entity.model_validate(e) for e in labels["entities"]]
    record = tagged.model_copy(update=update, deep=True)
    return TaggedArticle.model_validate(record.model_dump())


def _moment(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(stamp: str) -> str:
    return _moment(stamp).astimezone(UTC).isoformat(timespec="seconds")


def gold_labelled(store_path: Path, use_store: bool | None = None) -> list[LabelledArticle]:
    """The store's articles that a person labelled (web correction or annotation), in
    article id order, for `pantau train`. `use_store` False: none; None: the store's, when
    it exists (nothing is created); True: the store must exist (FileNotFoundError)."""
    if use_store is False:
        return []
    if not store_path.is_file():
        if use_store:
            raise FileNotFoundError(f"no article store at {store_path}")
        return []
    with ArticleStore(store_path) as store:
        if not store.label_corrections() and not store.annotations():
            return []
        found = [item for item in effective_labels(store) if item.provenance.corrected]
    return sorted(found, key=lambda item: item.article.id)
