"""Masking victims' names (shared/contracts/taxonomy.md, "Protecting victims").

Indonesian law forbids publishing the identity of child victims. Whatever Pantau shows
beyond an analyst's own reading (researchers, digests, exports) passes text through
`mask_victims`: every PERSON entity of an incident article about children, and any name
listed as a victim, becomes MASK.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from pantau.models import TaggedArticle

MASK = "[nama disamarkan]"
# Names shorter than this (initials such as "M") are masked only where the tagger found
# them, not wherever the letters occur, which would mangle ordinary words.
MIN_GLOBAL_NAME = 2


def names_to_mask(tagged: TaggedArticle, victim_names: Iterable[str] = ()) -> set[str]:
    names = {name.strip() for name in victim_names if name.strip()}
    if "anak" in tagged.victim_groups:
        names |= {e.text.strip() for e in tagged.entities if e.label == "PERSON"}
    return {name for name in names if name}


def mask_victims(
    text: str,
    tagged: TaggedArticle,
    victim_names: Iterable[str] = (),
    field: Literal["title", "text"] = "text",
) -> str:
    """`text` (the article's title or text, as tagged) with victims' names replaced."""
    victim_names = list(victim_names)
    names = names_to_mask(tagged, victim_names)
    if not names:
        return text
    spans = sorted(
        (e.start, e.end)
        for e in tagged.entities
        if e.field == field
        and e.label == "PERSON"
        and e.text.strip() in names
        and text[e.start : e.end] == e.text
    )
    # Exact spans first, right to left so earlier offsets stay valid.
    masked = text
    for start, end in reversed(_merge(spans)):
        masked = masked[:start] + MASK + masked[end:]
    # Then every other whole-word occurrence (a name repeated later in the text).
    longer = sorted((n for n in names if len(n) >= MIN_GLOBAL_NAME), key=len, reverse=True)
    if longer:
        pattern = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(name) for name in longer) + r")(?!\w)"
        )
        masked = pattern.sub(MASK, masked)
    return masked


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
