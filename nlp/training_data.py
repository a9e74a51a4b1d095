"""Where the incident classifier's examples come from, and the general-news sample that
measures its false positives. Texts are read from the shared data folder; nothing is copied.

Sources (each example has a weight and the labels its source knows):
- the annotated set's TRAIN split (`nlp.annotated`; the test split is never read here);
- the fictional demo articles (crawlers/demo_site/articles.yaml) with their gold;
- the child-abuse set (../shared/data/incidents): every article is about violence against a
  child: relevant, and taken as an incident report (the set is about individual abusers),
  at a lower weight; forms unknown;
- general news (click-id, detik 2025) that the rules find irrelevant: negatives. Only one
  half of click-id (by a hash of the article id) is ever used for training; the other half
  is where the false-positive rate is measured (`general_news_sample`);
- the store's articles whose relevance or forms a person set (analysts' web corrections,
  imported Label Studio annotations: `store_examples`), with only those fields as labels;
  never a held-out test article or one on the same case.

Every article of the annotation pool, train or test, is excluded from the weak sources, by
row and by URL: a held-out article must not come back as a negative or a weak positive. So
is every article on the same case as a held-out one (a rewrite or follow-up in another
outlet), by the word overlap the pool's own case groups use
(scripts/build_annotation_pool.py, SAME_CASE_JACCARD).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from crawlers.stories import features
from nlp.annotated import SharedRef, _rows, load_annotated, read_pool, shared_article
from pantau.models import ArticleIn, article_id

if TYPE_CHECKING:
    from pantau.export.labels import LabelledArticle

CHILD_ABUSE_FILE = "incidents/child-abuse-news.dev.jsonl"
DETIK_FILE = "news/detik-2025-aspects/data_berita.csv"
CLICK_ID_DIR = "news/click-id"
NewsHalf = Literal["train", "eval"]
# As in scripts/build_annotation_pool.py: word overlap at which two articles are one case.
SAME_CASE_JACCARD = 0.1


@dataclass(frozen=True)
class Example:
    article: ArticleIn
    labels: dict[str, Any]  # relevance and, when known, categories
    source: str
    weight: float


def news_half(identifier: str) -> NewsHalf:
    """Which half of the general news an article is in: `train` (negatives) or `eval`."""
    bucket = hashlib.sha256(f"pantau-news-half:{identifier}".encode()).digest()[0]
    return "train" if bucket < 128 else "eval"


def pool_exclusions(directory: Path | None = None) -> tuple[set[tuple[str, int]], set[str]]:
    """(file, row) and URL-based ids of every pool article, train and test."""
    pool = read_pool() if directory is None else read_pool(directory / "pool.jsonl")
    return {(item.ref.file, item.ref.row) for item in pool}, {item.id for item in pool}


class HeldOutCases:
    """Answers "is this article a held-out (test) pool article, or on the same case as one?"."""

    def __init__(self, data_dir: Path | None, articles: Iterable[ArticleIn] = ()) -> None:
        """The test split of the annotation pool (texts from `data_dir`), plus `articles`
        (tests give their own held-out articles with `data_dir=None`)."""
        held_out = list(articles)
        tests = [item for item in read_pool() if item.split == "test"]
        if data_dir is not None:
            for item in tests:
                shared = shared_article(data_dir, item.ref)
                held_out.append(
                    ArticleIn(id=item.id, title=shared.title, text=shared.text, url=item.url)
                )
        self._held_out: list[set[str]] = [features(a.title, a.text) for a in held_out]
        # The pool's own ids and URLs (in the repository) count even without the texts.
        self._ids = {a.id for a in held_out} | {item.id for item in tests}
        self._urls = {url_key(a.url) for a in held_out if a.url} | {url_key(i.url) for i in tests}
        self._texts = {text_key(a.title, a.text) for a in held_out}

    def same_case(self, article: ArticleIn) -> bool:
        words = features(article.title, article.text)
        for held_out in self._held_out:
            overlap = len(words & held_out)
            if overlap and overlap / (len(words) + len(held_out) - overlap) >= SAME_CASE_JACCARD:
                return True
        return False

    def excludes(self, article: ArticleIn) -> str | None:
        """Why `article` must not be trained on (None: it may be): it is a held-out article
        (same id, URL or normalised text) or on the same case as one."""
        if (
            article.id in self._ids
            or (article.url and url_key(article.url) in self._urls)
            or text_key(article.title, article.text) in self._texts
        ):
            return "held-out test article"
        if self.same_case(article):
            return "same case as a held-out test article"
        return None


def url_key(url: str) -> str:
    """A URL without scheme, `www.`, query, fragment and trailing slash, lower-cased host:
    the store's canonical URL and the shared data's URL of one article compare equal."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}"


def text_key(title: str, text: str) -> str:
    """A hash of the title and text, lower-cased letters and digits only (whitespace,
    punctuation and case differences of one text compare equal)."""
    normalised = "".join(ch for ch in f"{title}\n{text}".casefold() if ch.isalnum())
    return hashlib.sha256(normalised.encode()).hexdigest()


def _article(data_dir: Path, file: str, row: int) -> ArticleIn | None:
    shared = shared_article(data_dir, SharedRef(file=file, row=row))
    if not shared.url or len(shared.text) < 200:
        return None
    return ArticleIn(
        id=article_id(shared.url),
        title=shared.title,
        text=shared.text,
        url=shared.url,
        source=shared.source,
        published=shared.published,
    )


def shared_articles(data_dir: Path, file: str) -> Iterator[tuple[int, ArticleIn]]:
    for row in range(len(_rows(data_dir / file))):
        article = _article(data_dir, file, row)
        if article is not None:
            yield row, article


def click_id_files(data_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(data_dir)) for p in (data_dir / CLICK_ID_DIR).glob("*.csv"))


def general_news_rows(data_dir: Path, half: NewsHalf) -> Iterator[tuple[str, int, ArticleIn]]:
    """click-id articles of one half that are not in the annotation pool, with their file
    and row."""
    rows, ids = pool_exclusions()
    seen: set[str] = set()
    for file in click_id_files(data_dir):
        for row, article in shared_articles(data_dir, file):
            if (file, row) in rows or article.id in ids or article.id in seen:
                continue
            seen.add(article.id)
            if news_half(article.id) == half:
                yield file, row, article


def general_news(data_dir: Path, half: NewsHalf) -> Iterator[ArticleIn]:
    """click-id articles of one half that are not in the annotation pool."""
    for _, _, article in general_news_rows(data_dir, half):
        yield article


def detik_news_rows(data_dir: Path) -> Iterator[tuple[int, ArticleIn]]:
    """detik 2025 articles that are not in the annotation pool, with their row (all of them
    may be trained on: none is in the false-positive sample)."""
    rows, ids = pool_exclusions()
    for row, article in shared_articles(data_dir, DETIK_FILE):
        if (DETIK_FILE, row) not in rows and article.id not in ids:
            yield row, article


def general_news_sample(data_dir: Path, size: int = 2000) -> list[ArticleIn]:
    """A fixed pseudo-random sample of the evaluation half of click-id (never trained on):
    the `size` articles with the smallest hash of their id, so that a grown annotation
    pool (excluded) changes the sample by the few articles it takes, not entirely."""

    def order(article: ArticleIn) -> str:
        return hashlib.sha256(f"pantau-fp-sample:{article.id}".encode()).hexdigest()

    return sorted(general_news(data_dir, "eval"), key=order)[:size]


def annotated_train(data_dir: Path) -> Iterator[Example]:
    for annotated in load_annotated(data_dir, split="train"):
        yield Example(annotated.article, annotated.gold, "annotated-train", 3.0)


def demo_examples() -> Iterator[Example]:
    from crawlers.demo_site.server import load_articles

    for demo in load_articles():
        gold = dict(demo.gold)
        article = ArticleIn(
            id=f"demo-{demo.id}",
            title=demo.title,
            text=f"{demo.city} - " + "\n\n".join(demo.paragraphs),
            published=demo.published.isoformat(),
        )
        labels = {"relevance": gold["relevance"], "categories": list(gold.get("categories", []))}
        yield Example(article, labels, "demo", 1.0)


def child_abuse_examples(data_dir: Path) -> Iterator[Example]:
    rows, ids = pool_exclusions()
    for row, article in shared_articles(data_dir, CHILD_ABUSE_FILE):
        if (CHILD_ABUSE_FILE, row) in rows or article.id in ids:
            continue
        yield Example(article, {"relevance": "incident"}, "child-abuse", 0.5)


def negative_candidates(data_dir: Path, click_id_size: int, seed: int) -> Iterator[Example]:
    """General news candidates (the caller keeps those the rules find irrelevant)."""
    news = list(general_news(data_dir, "train"))
    random.Random(seed).shuffle(news)
    for article in news[:click_id_size]:
        yield Example(article, {"relevance": "none"}, "click-id", 1.0)
    for _, article in detik_news_rows(data_dir):
        yield Example(article, {"relevance": "none"}, "detik-2025", 1.0)


# -- the store: analysts' corrections and imported annotations -----------------------------

# A person's label weighs like the annotated set's (annotated_train).
STORE_WEIGHT = 3.0
StoreOrigin = Literal["corrected", "annotated"]


@dataclass
class StoreSelection:
    """The store articles a person labelled that the classifier may train on, and how many
    were left out and why (held out, already in the annotated set, no field it learns)."""

    examples: list[Example] = field(default_factory=list)
    left_out: Counter[str] = field(default_factory=Counter)

    def count(self, origin: StoreOrigin) -> int:
        return sum(1 for e in self.examples if e.source == f"store-{origin}")

    def summary(self) -> dict[str, Any]:
        return {
            "added": len(self.examples),
            "corrected": self.count("corrected"),
            "annotated": self.count("annotated"),
            "left_out": dict(sorted(self.left_out.items())),
            "article_ids": sorted(e.article.id for e in self.examples),
        }


def store_article(item: LabelledArticle) -> ArticleIn:
    article = item.article.article
    return ArticleIn(
        id=item.article.id,
        title=article.title,
        text=article.text,
        url=article.canonical_url,
        source=article.source,
        published=article.published.isoformat() if article.published else None,
    )


def classifier_labels(item: LabelledArticle) -> dict[str, Any]:
    """The fields the classifier learns (relevance; forms) that a person set; a field the
    model set is left out, so the trainer treats it as unknown, not as gold."""
    labels: dict[str, Any] = {}
    if item.provenance.is_gold("relevance"):
        labels["relevance"] = item.tagged.relevance
    if item.provenance.is_gold("categories"):
        labels["categories"] = list(item.tagged.categories)
    return labels


def label_origin(item: LabelledArticle, names: Iterable[str]) -> StoreOrigin:
    """'annotated' when a Label Studio annotation set any of these fields, else
    'corrected' (an analyst's correction in the web app)."""
    origins = {item.provenance.fields[name].origin for name in names}
    return "annotated" if "label-studio" in origins else "corrected"


def store_examples(labelled: Iterable[LabelledArticle], held_out: HeldOutCases) -> StoreSelection:
    """Classifier examples from the store's gold labels (`pantau.export.labels`), in article
    id order: every article whose relevance or forms a person set, minus held-out test
    articles and articles on their cases (the held-out scores must stay honest)."""
    selection = StoreSelection()
    for item in sorted(labelled, key=lambda entry: entry.article.id):
        labels = classifier_labels(item)
        if not labels:
            if item.provenance.corrected:
                selection.left_out["no relevance or forms label"] += 1
            continue
        article = store_article(item)
        reason = held_out.excludes(article)
        if reason is not None:
            selection.left_out[reason] += 1
            continue
        origin = label_origin(item, labels)
        selection.examples.append(Example(article, labels, f"store-{origin}", STORE_WEIGHT))
    return selection
