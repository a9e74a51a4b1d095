"""The annotation round trip with Label Studio.

Out: `label_studio_tasks` — one task per article with the model's labels as
pre-annotations (`predictions`), the most uncertain first (active learning), and
`LABELING_CONFIG`, the labelling interface those results fit. In: `read_annotations`
parses Label Studio's JSON export (tasks with an `annotations` array) into typed gold
labels; `import_annotations` stores them with provenance (annotator, time,
source "label-studio"), and from then on `labels.effective_labels` and every export use
them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from pantau.export.labels import LabelledArticle
from pantau.models import CATEGORIES, Entity, EntityLabel, TaggedArticle
from pantau.store import ArticleStore

SOURCE = "label-studio"
ENTITY_LABELS: tuple[EntityLabel, ...] = ("PERSON", "ORGANIZATION", "LOCATION", "TIME", "QUANTITY")
ROLES = ("victim", "perpetrator", "other")
# from_name of each control in LABELING_CONFIG; the NER controls per text field.
NER_CONTROL = {"title": "title_entities", "text": "entities"}
ROLE_CONTROL = {"title": "title_role", "text": "role"}


def _choices(name: str, values: Iterable[str], choice: str, to: str = "text") -> str:
    options = "".join(f'<Choice value="{v}"/>' for v in values)
    return f'  <Choices name="{name}" toName="{to}" choice="{choice}">{options}</Choices>\n'


def _labels(name: str, to: str) -> str:
    options = "".join(f'<Label value="{v}"/>' for v in ENTITY_LABELS)
    return f'  <Labels name="{name}" toName="{to}">{options}</Labels>\n'


LABELING_CONFIG = (
    "<View>\n"
    '  <Header value="$source · $published"/>\n'
    + _labels(NER_CONTROL["title"], "title")
    + '  <Text name="title" value="$title"/>\n'
    + _labels(NER_CONTROL["text"], "text")
    + '  <Text name="text" value="$text"/>\n'
    + '  <Header value="PERSON role (select a PERSON span first)"/>\n'
    + _choices(ROLE_CONTROL["title"], ROLES, "single", "title").replace(
        "<Choices ", '<Choices perRegion="true" '
    )
    + _choices(ROLE_CONTROL["text"], ROLES, "single").replace(
        "<Choices ", '<Choices perRegion="true" '
    )
    + '  <Header value="Relevance"/>\n'
    + _choices("relevance", ("incident", "aggregate", "none"), "single")
    + '  <Header value="Forms of violence"/>\n'
    + _choices("categories", CATEGORIES, "multiple")
    + '  <Header value="Victim groups"/>\n'
    + _choices("victim_groups", ("anak", "perempuan"), "multiple")
    + "</View>\n"
)


# -- out: tasks ---------------------------------------------------------------------------


def uncertainty(tagged: TaggedArticle) -> float:
    """How unsure the model is: the largest binary entropy (bits) of its decision scores
    (1.0 for a score of 0.5, 0 for 0 or 1). No scores: 1.0, nothing is known."""
    if not tagged.scores:
        return 1.0
    return max(_entropy(p) for p in tagged.scores.values())


def _entropy(p: float) -> float:
    p = min(max(p, 0.0), 1.0)
    if p in (0.0, 1.0):
        return 0.0
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def prediction_results(tagged: TaggedArticle, title: str, text: str) -> list[dict[str, Any]]:
    """A tag as Label Studio results: NER spans (`labels`, char offsets) with PERSON roles
    per region, and relevance, forms and victim groups as `choices`."""
    fields = {"title": title, "text": text}
    results: list[dict[str, Any]] = []
    for number, entity in enumerate(tagged.entities):
        if fields[entity.field][entity.start : entity.end] != entity.text:
            continue  # an offset that does not fit this text would mislead the annotator
        region = f"e{number}"
        span = {"start": entity.start, "end": entity.end, "text": entity.text}
        results.append(
            {
                "id": region,
                "from_name": NER_CONTROL[entity.field],
                "to_name": entity.field,
                "type": "labels",
                "value": {**span, "labels": [entity.label]},
            }
        )
        if entity.label == "PERSON" and entity.role:
            results.append(
                {
                    "id": region,
                    "from_name": ROLE_CONTROL[entity.field],
                    "to_name": entity.field,
                    "type": "choices",
                    "value": {**span, "choices": [entity.role]},
                }
            )
    for name, values in (
        ("relevance", [tagged.relevance]),
        ("categories", list(tagged.categories)),
        ("victim_groups", list(tagged.victim_groups)),
    ):
        if values:
            results.append(
                {
                    "from_name": name,
                    "to_name": "text",
                    "type": "choices",
                    "value": {"choices": values},
                }
            )
    return results


def label_studio_tasks(
    labelled: Iterable[LabelledArticle], limit: int | None = None, include_annotated: bool = False
) -> list[dict[str, Any]]:
    """Label Studio tasks, most uncertain model first (ties: article id). Articles already
    annotated in Label Studio are left out unless `include_annotated`. Pre-annotations are
    the model's own labels (not analysts' corrections), so the annotator judges the model.

    Texts are NOT masked: annotators label names and their roles on the real text, in the
    team's own Label Studio; the file must not leave it."""
    candidates = []
    for item in labelled:
        if not include_annotated and any(
            source.origin == "label-studio" for source in item.provenance.fields.values()
        ):
            continue
        candidates.append((-uncertainty(item.model_tagged), item.article.id, item))
    candidates.sort(key=lambda entry: (entry[0], entry[1]))
    tasks = []
    for negative, _, item in candidates[:limit]:
        article, model = item.article.article, item.model_tagged
        tasks.append(
            {
                "data": {
                    "article_id": item.article.id,
                    "content_hash": item.article.content_hash,
                    "title": article.title,
                    "text": article.text,
                    "url": article.canonical_url,
                    "source": article.source,
                    "published": article.published.isoformat() if article.published else "",
                    "uncertainty": round(-negative, 4),
                },
                "predictions": [
                    {
                        "model_version": f"{model.model.name} {model.model.version}",
                        "score": round(1.0 + negative, 4),
                        "result": prediction_results(model, article.title, article.text),
                    }
                ],
            }
        )
    return tasks


# -- in: annotations ----------------------------------------------------------------------


class GoldLabels(BaseModel):
    """One completed annotation: a full judgement of the fields of LABELING_CONFIG."""

    relevance: Literal["incident", "aggregate", "none"]
    categories: list[str]
    victim_groups: list[str]
    entities: list[Entity]


@dataclass(frozen=True)
class ParsedAnnotation:
    article_id: str
    content_hash: str | None
    external_id: str | None
    annotator: str
    annotated_at: str
    labels: GoldLabels


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    skipped: list[str] = field(default_factory=list)


def _annotator(completed_by: Any) -> str:
    if isinstance(completed_by, dict):
        for key in ("email", "username", "id"):
            if completed_by.get(key):
                return str(completed_by[key])
    if completed_by in (None, ""):
        return "unknown"
    return (
        f"label-studio-user-{completed_by}" if isinstance(completed_by, int) else str(completed_by)
    )


def _stamp(annotation: dict[str, Any]) -> str:
    raw = annotation.get("updated_at") or annotation.get("created_at")
    if not raw:
        return datetime(1970, 1, 1, tzinfo=UTC).isoformat(timespec="seconds")
    moment = datetime.fromisoformat(str(raw))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_annotation(
    task: dict[str, Any], annotation: dict[str, Any], title: str, text: str
) -> GoldLabels:
    """Results of one annotation → gold labels; offsets are checked against the stored
    title and text (ValueError on a span that does not fit)."""
    fields = {"title": title, "text": text}
    relevance: list[str] = []
    categories: list[str] = []
    groups: list[str] = []
    spans: dict[str, tuple[str, int, int, str]] = {}
    roles: dict[str, str] = {}
    ner_fields = {v: k for k, v in NER_CONTROL.items()}
    role_fields = {v: k for k, v in ROLE_CONTROL.items()}
    for number, result in enumerate(annotation.get("result") or []):
        name, value = result.get("from_name"), result.get("value") or {}
        region = str(result.get("id") or f"r{number}")
        if result.get("type") == "labels" and name in ner_fields:
            field_name = ner_fields[name]
            start, end = int(value["start"]), int(value["end"])
            label = (value.get("labels") or [""])[0]
            if label not in ENTITY_LABELS:
                raise ValueError(f"unknown entity label {label!r}")
            if not 0 <= start < end <= len(fields[field_name]):
                raise ValueError(f"span {start}-{end} outside the {field_name}")
            if "text" in value and fields[field_name][start:end] != value["text"]:
                raise ValueError(f"span {start}-{end} is not {value['text']!r} in the stored text")
            spans[region] = (field_name, start, end, label)
        elif result.get("type") == "choices":
            chosen = [str(c) for c in value.get("choices") or []]
            if name in role_fields:
                roles[region] = chosen[0] if chosen else ""
            elif name == "relevance":
                relevance = chosen
            elif name == "categories":
                categories = chosen
            elif name == "victim_groups":
                groups = chosen
    if len(relevance) != 1:
        raise ValueError("no relevance chosen")
    entities = []
    for region, (field_name, start, end, label) in sorted(
        spans.items(), key=lambda item: (item[1][0] != "title", item[1][1], item[1][2])
    ):
        role = roles.get(region) if label == "PERSON" else None
        if role and role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        entities.append(
            Entity(
                field=field_name,
                start=start,
                end=end,
                label=label,
                text=fields[field_name][start:end],
                role=role or None,
            )
        )
    unknown = set(categories) - set(CATEGORIES) | set(groups) - {"anak", "perempuan"}
    if unknown:
        raise ValueError(f"unknown choices {sorted(unknown)}")
    return GoldLabels(
        relevance=relevance[0],
        categories=[c for c in CATEGORIES if c in categories],
        victim_groups=sorted(set(groups)),
        entities=entities,
    )


def import_annotations(store: ArticleStore, tasks: list[dict[str, Any]]) -> ImportReport:
    """Store every completed, not cancelled annotation of Label Studio's JSON export.
    Re-importing an export updates the annotations it already brought (same annotation
    id); a task whose article changed since the tasks were made, or an annotation that
    does not fit, is skipped and reported."""
    report = ImportReport()
    if not isinstance(tasks, list):
        raise ValueError("expected Label Studio's JSON export: a list of tasks")
    for position, task in enumerate(tasks):
        data = task.get("data") or {}
        article_id = str(data.get("article_id") or "")
        where = f"task {task.get('id', position + 1)} (article {article_id or '?'})"
        stored = store.get_article(article_id) if article_id else None
        if stored is None:
            report.skipped.append(f"{where}: no such article in the store")
            continue
        if data.get("content_hash") and data["content_hash"] != stored.content_hash:
            report.skipped.append(f"{where}: the article's text changed since export")
            continue
        for annotation in task.get("annotations") or []:
            if annotation.get("was_cancelled"):
                continue
            try:
                labels = parse_annotation(
                    task, annotation, stored.article.title, stored.article.text
                )
            except (ValueError, KeyError, TypeError, ValidationError) as exc:
                report.skipped.append(f"{where}, annotation {annotation.get('id')}: {exc}")
                continue
            external = annotation.get("id")
            new = store.add_annotation(
                article_id,
                SOURCE,
                f"{task.get('id', '')}:{external}" if external is not None else None,
                _annotator(annotation.get("completed_by")),
                _stamp(annotation),
                stored.content_hash,
                labels.model_dump(mode="json"),
            )
            if new:
                report.imported += 1
            else:
                report.updated += 1
    return report
