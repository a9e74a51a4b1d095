"""Highlighted snippets: the passage of a text where the query's terms are densest, HTML-
escaped, with each matching word (in any inflection: terms are compared after analysis)
wrapped in <mark>. Shared by every backend so results read the same everywhere.

Snippets are a large part of a search's own CPU time (every hit's whole text must be
analysed to find where its matches are), so the text is analysed as plain strings
(`findall` and one cached term look-up per word) and token offsets are worked out only
for the window shown; without query terms only the opening is read at all."""

from __future__ import annotations

from html import escape
from itertools import islice

from nlp.analysis import TOKEN_PATTERN, term_list, token_spans

Span = tuple[str | None, int, int]  # (term, start, end), as nlp.analysis.token_spans

SNIPPET_TOKENS = 36


def highlight(text: str, terms: set[str]) -> str:
    """The whole text, escaped, with matches marked (for titles)."""
    return _render(text, token_spans(text), terms, 0, None)


def window_start(hits: list[int], size: int) -> int:
    """The first token of a `size`-token window around the densest cluster of matches
    (token indexes `hits`, ascending), a quarter of the window before it; 0 without any."""
    if not hits:
        return 0
    best, best_count, right = hits[0], 0, 0
    for left_index, left in enumerate(hits):
        while right < len(hits) and hits[right] < left + size:
            right += 1
        if right - left_index > best_count:
            best, best_count = left, right - left_index
    return max(0, best - size // 4)


def snippet(text: str, terms: set[str], size: int = SNIPPET_TOKENS) -> str:
    """About `size` words around the densest cluster of matches; the opening without any."""
    if not terms:
        # Nothing to mark (filters without text): the opening, without analysing the rest.
        opening: list[Span] = [
            (None, *m.span()) for m in islice(TOKEN_PATTERN.finditer(text), size + 1)
        ]
        return _render(text, opening, terms, 0, size) if opening else ""
    analysed = term_list(TOKEN_PATTERN.findall(text))
    if not analysed:
        return ""
    start = window_start([i for i, term in enumerate(analysed) if term in terms], size)
    end = min(len(analysed), start + size)
    # Offsets of the window's tokens only (the same pattern, so the same tokens).
    window: list[Span] = [
        (analysed[index], *match.span())
        for index, match in zip(
            range(start, end), islice(TOKEN_PATTERN.finditer(text), start, end), strict=True
        )
    ]
    return _render_window(text, window, terms, start == 0, end >= len(analysed))


def _render(text: str, found: list[Span], terms: set[str], start: int, end: int | None) -> str:
    window = found[start:end]
    if not window:
        return escape(text)
    return _render_window(text, window, terms, start == 0, end is None or end >= len(found))


def _render_window(
    text: str, window: list[Span], terms: set[str], from_start: bool, to_end: bool
) -> str:
    begin = 0 if from_start else window[0][1]
    finish = len(text) if to_end else window[-1][2]
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
