"""Masking throughput: what digests, shared links and research exports do to each article,
against the plainest masking (the baseline), on the same real articles, in the same run.

    OMP_NUM_THREADS=1 .venv/bin/python bench/masking_speed.py --data-dir ../shared/data

The articles are the child-abuse set's (`incidents/child-abuse-news.dev.jsonl`: every one a
case, so masking does its whole work), tagged once by the full tagger (`RuleTagger()`, NER
included) before the clock starts. Then, per article, title and text:

- "person entities" (baseline): the tagger's PERSON entities replaced wherever they occur,
  `mask_victims` given just those names;
- "digest": what a digest and a shared link do, `names_to_mask` (every cue, the mistyped
  persons included) then `mask_victims`;
- "export": what a research export does, `protected_persons` then `pseudonymise`.

Each variant runs over every article `--repeats` times; the best pass counts (the machine's
own noise only ever slows a pass).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.tagger import RuleTagger
from pantau.models import ArticleIn, TaggedArticle
from web.masking import (
    mask_victims,
    names_to_mask,
    protected_persons,
    pseudonymise,
)

Tagged = tuple[ArticleIn, TaggedArticle]


def person_entities(article: ArticleIn, tagged: TaggedArticle) -> None:
    names = {e.text for e in tagged.entities if e.label == "PERSON"}
    mask_victims(article.title, tagged, names, field="title")
    mask_victims(article.text, tagged, names, field="text")


def digest(article: ArticleIn, tagged: TaggedArticle) -> None:
    names = names_to_mask(tagged, (), article.title, article.text)
    mask_victims(article.title, tagged, names, field="title")
    mask_victims(article.text, tagged, names, field="text")


def export(article: ArticleIn, tagged: TaggedArticle) -> None:
    others = protected_persons(article.title, article.text, tagged)
    pseudonymise(
        article.title, article.text, tagged, others={"url": article.url or ""}, other_names=others
    )


VARIANTS: dict[str, Callable[[ArticleIn, TaggedArticle], None]] = {
    "person entities": person_entities,
    "digest": digest,
    "export": export,
}


def best_pass(
    variant: Callable[[ArticleIn, TaggedArticle], None], articles: list[Tagged], repeats: int
) -> float:
    best = float("inf")
    for _ in range(repeats):
        begin = time.perf_counter()
        for article, tagged in articles:
            variant(article, tagged)
        best = min(best, time.perf_counter() - begin)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    parser.add_argument("--articles", type=int, default=478)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    path = args.data_dir / "incidents" / "child-abuse-news.dev.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    tagger = RuleTagger()
    articles: list[Tagged] = []
    for row in rows[: args.articles]:
        article = ArticleIn(
            id=str(row["id"]), title=row.get("title") or "", text=row["text"], url=row.get("url")
        )
        articles.append((article, tagger.tag(article)))
    for variant in VARIANTS.values():  # load the gazetteer, root words and the like once
        variant(*articles[0])
    print(f"{platform.machine()}, {len(articles)} tagged articles, best of {args.repeats}")
    print("| variant | articles/s | ms an article | vs baseline |")
    print("|---|---:|---:|---:|")
    baseline = None
    for name, variant in VARIANTS.items():
        seconds = best_pass(variant, articles, args.repeats)
        rate = len(articles) / seconds
        baseline = baseline or rate
        per_article = 1000 * seconds / len(articles)
        print(f"| {name} | {rate:.1f} | {per_article:.2f} | {rate / baseline:.2f}x |")


if __name__ == "__main__":
    main()
