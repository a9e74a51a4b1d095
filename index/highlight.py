"""Highlighted snippets: the passage of a text where the query's terms are densest, HTML-
escaped, with each matching word (in any inflection: terms are compared after analysis)
wrapped in <mark>. Shared by every backend so results read the same everywhere."""

from __future__ import annotations

from html import escape

from nlp.analysis import token_spans

Span = tuple[str | None, int, int]  # (term, start, end), as nlp.analysis.token_spans

SNIPPET_TOKENS = 36


def highlight(text: str, terms: set[str]) -> str:
    """The whole text, escaped, with matches marked (for titles)."""
    return _render(text, token_spans(text), terms, 0, None)


def snippet(text: str, terms: set[str], size: int = SNIPPET_TOKENS) -> str:
    """About `size` words around the densest cluster of matches; the opening without any."""
    found = token_spans(text)
    if not found:
        return ""
    hits = [i for i, (term, _, _) in enumerate(found) if term in terms]
    start = 0
    if hits:
        best, best_count = hits[0], 0
        right = 0
        for left_index, left in enumerate(hits):
            while right < len(hits) and hits[right] < left + size:
                right += 1
            if right - left_index > best_count:
                best, best_count = left, right - left_index
        start = max(0, best - size // 4)
    end = min(len(found), start + size)
    return _render(text, found, terms, start, end)


def _render(text: str, found: list[Span], terms: set[str], start: int, end: int | None) -> str:
    window = found[start:end]
    if not window:
        return escape(text)
    begin = 0 if start == 0 else window[0][1]
    finish = len(text) if end is None or end >= len(found) else window[-1][2]
    out: list[str] = ["… " if begin > 0 else ""]
    cursor = begin
    for term, token_start, token_end in window:
        if term in terms:
            out.append(escape(text[cursor:token_start]))
            out.append(f"<mark>{escape(text[token_start:token_end])}</mark>")
            cursor = token_end
    out.append(escape(text[cursor:finish]))
    if finish < len(text):
        out.append(" …")
    return "".join(out).replace("\n\n", " ¶ ").replace("\n", " ")
