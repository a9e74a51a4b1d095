"""The analysis cache is a speed-up only: on real Indonesian news prose (the demo site's
articles) the cached path gives exactly the tokens and terms of analysing every word anew."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from nlp import analysis
from nlp.analysis import TOKEN_PATTERN, analyze, analyze_word_uncached, token_spans, tokens


def news_texts() -> list[str]:
    source = resources.files("crawlers.demo_site").joinpath("articles.yaml").read_text("utf-8")
    articles = yaml.safe_load(source)
    texts = [a["title"] + "\n\n" + "\n\n".join(a["paragraphs"]) for a in articles]
    assert len(texts) > 20 and sum(map(len, texts)) > 40_000  # a real sample, not a toy
    return texts


def uncached(text: str) -> list[tuple[str | None, int, int]]:
    return [
        (analyze_word_uncached(m.group()), m.start(), m.end()) for m in TOKEN_PATTERN.finditer(text)
    ]


@pytest.fixture(scope="module")
def reference() -> list[tuple[str, list[tuple[str | None, int, int]]]]:
    return [(text, uncached(text)) for text in news_texts()]


@pytest.mark.parametrize("cache_size", [analysis.TERM_CACHE_SIZE, 50])
def test_cached_analysis_equals_uncached_on_news_text(
    monkeypatch: pytest.MonkeyPatch,
    reference: list[tuple[str, list[tuple[str | None, int, int]]]],
    cache_size: int,
) -> None:
    # 50: the cache fills and starts over many times on the way.
    monkeypatch.setattr(analysis, "TERM_CACHE_SIZE", cache_size)
    analysis._TERMS.clear()
    for _ in range(2):  # a cold cache, then a warm one
        for text, expected in reference:
            assert token_spans(text) == expected
            assert [(t.term, t.start, t.end) for t in tokens(text)] == expected
            assert analyze(text) == [term for term, _, _ in expected if term is not None]
    assert len(analysis._TERMS) <= max(cache_size, 1)
