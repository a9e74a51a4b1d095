"""Masking victims' names (shared/contracts/taxonomy.md, "Protecting victims").

Indonesian law forbids publishing the identity of child victims. Whatever Pantau shows
beyond an analyst's own reading (researchers, digests, exports) passes text through
`mask_victims`: every PERSON entity of an incident article about children, and any name
listed as a victim, becomes MASK.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pantau.models import TaggedArticle

MASK = "[nama disamarkan]"
# Names shorter than this (initials such as "M") are masked only where the tagger found
# them, not wherever the letters occur, which would mangle ordinary words.
MIN_GLOBAL_NAME = 2


def names_to_mask(tagged: TaggedArticle, victim_names: Iterable[str] = ()) -> set[str]:
    """Names never shown beyond an analyst's screen: those listed, every PERSON the tagger
    marked as a victim (`Entity.role`), and every PERSON of an incident article about
    children (the taxonomy's rule: an aggregate article — statistics, policy — names
    officials, and the NER's mistakes on its title-case headlines, such as "Anak" or
    "Gugus Tugas" taken for names, would be masked all through the text)."""
    names = {name.strip() for name in victim_names if name.strip()}
    names |= {e.text.strip() for e in tagged.entities if e.label == "PERSON" and e.role == "victim"}
    if "anak" in tagged.victim_groups and tagged.relevance == "incident":
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


# -- pseudonyms with offsets recomputed (research exports) ------------------------------

VICTIM_PREFIX = "KORBAN"
PERSON_PREFIX = "ORANG"
# Parts of a multi-word name that are not names themselves ("Siti binti Ahmad").
_NAME_PARTICLES = frozenset({"bin", "binti", "van", "der", "de", "al", "el"})
# Names (or parts) this long or longer are matched ignoring case ("SITI AMINAH" in a
# headline); shorter ones (initials "AS", "M") only as written, so "as" stays a word.
_CASELESS_FROM = 4
_MIN_NAME_PART = 3


@dataclass(frozen=True)
class Pseudonymised:
    """An article with its protected persons replaced by pseudonyms such as "[KORBAN-1]".

    `tagged.entities` point into the new `title` and `text` (offsets recomputed, and
    `field[start:end] == entity.text` holds for every entity); `others` are the extra
    strings given (a URL, whose slug may carry a name) with the names replaced too."""

    title: str
    text: str
    tagged: TaggedArticle
    others: dict[str, str]
    pseudonyms: int


@dataclass(frozen=True)
class _Replacement:
    start: int
    end: int
    new: str


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def pseudonymise(
    title: str,
    text: str,
    tagged: TaggedArticle,
    victim_names: Iterable[str] = (),
    others: dict[str, str] | None = None,
    other_names: Iterable[str] = (),
) -> Pseudonymised:
    """Replace victims' names by "[KORBAN-n]" and, in incident articles about children
    ("anak" in victim_groups), every other PERSON by "[ORANG-n]": in the title, the text,
    the entities and `others`. A pure function.

    Consistent within the article: one person keeps one pseudonym everywhere, numbered in
    order of first mention (title first). Besides the tagged spans, every whole-word
    occurrence of a protected name, and of each part of a multi-word name ("Siti" of
    "Siti Aminah"), is replaced, so a later mention the tagger missed does not leak.
    `other_names` are protected too, as "[ORANG-n]" (persons the caller chose to protect:
    of unknown role, or found by `aged_person_names`)."""
    victim_names = list(victim_names)
    other_names = [n for n in other_names if n.strip()]
    victims = {_name_key(n) for n in victim_names if n.strip()}
    victims |= {
        _name_key(e.text) for e in tagged.entities if e.label == "PERSON" and e.role == "victim"
    }
    # The taxonomy's rule, as in names_to_mask: every PERSON of an incident about children.
    about_children = "anak" in tagged.victim_groups and tagged.relevance == "incident"
    fields = {"title": title, "text": text}

    # Pseudonyms in order of first mention: tagged mentions, then listed names as found.
    mentions: list[tuple[int, int, str, str]] = []  # (field order, start, key, surface)
    for entity in tagged.entities:
        key = _name_key(entity.text)
        if entity.label == "PERSON" and key and (key in victims or about_children):
            mentions.append((0 if entity.field == "title" else 1, entity.start, key, entity.text))
    for name in [*victim_names, *other_names]:
        key = _name_key(name)
        if not key:
            continue
        positions = [
            (order, match.start())
            for order, value in enumerate((title, text))
            for match in [re.search(re.escape(name.strip()), value, re.IGNORECASE)]
            if match
        ]
        order, start = min(positions, default=(2, 0))
        mentions.append((order, start, key, name.strip()))
    pseudonym_of: dict[str, str] = {}
    surfaces: dict[str, set[str]] = {}
    counters = {VICTIM_PREFIX: 0, PERSON_PREFIX: 0}
    for _, _, key, surface in sorted(mentions):
        surfaces.setdefault(key, set()).add(" ".join(surface.split()))
        if key not in pseudonym_of:
            prefix = VICTIM_PREFIX if key in victims else PERSON_PREFIX
            counters[prefix] += 1
            pseudonym_of[key] = f"[{prefix}-{counters[prefix]}]"
    if not pseudonym_of:
        return Pseudonymised(title, text, tagged.model_copy(deep=True), dict(others or {}), 0)

    patterns = _name_patterns(pseudonym_of, surfaces)
    replacements: dict[str, list[_Replacement]] = {}
    for field_name, value in fields.items():
        taken: list[_Replacement] = []
        for entity in tagged.entities:
            key = _name_key(entity.text)
            if (
                entity.field == field_name
                and entity.label == "PERSON"
                and key in pseudonym_of
                and value[entity.start : entity.end] == entity.text
            ):
                _take(taken, _Replacement(entity.start, entity.end, pseudonym_of[key]))
        for pattern, pseudonym in patterns:
            for match in pattern.finditer(value):
                _take(taken, _Replacement(match.start(), match.end(), pseudonym))
        replacements[field_name] = sorted(taken, key=lambda r: r.start)

    new_fields = {name: _apply(value, replacements[name]) for name, value in fields.items()}
    entities = []
    for entity in tagged.entities:
        spans = replacements[entity.field]
        start = _new_position(entity.start, spans, is_end=False)
        end = max(start, _new_position(entity.end, spans, is_end=True))
        new_value = new_fields[entity.field]
        entities.append(
            entity.model_copy(update={"start": start, "end": end, "text": new_value[start:end]})
        )
    masked_others = {
        name: _mask_other(value, pseudonym_of, surfaces, patterns)
        for name, value in (others or {}).items()
    }
    return Pseudonymised(
        title=new_fields["title"],
        text=new_fields["text"],
        tagged=tagged.model_copy(update={"entities": entities}, deep=True),
        others=masked_others,
        pseudonyms=len(pseudonym_of),
    )


def _name_patterns(
    pseudonym_of: dict[str, str], surfaces: dict[str, set[str]]
) -> list[tuple[re.Pattern[str], str]]:
    """Whole-word patterns for each protected name and its parts, longest first; a part
    shared by two persons belongs to the first."""
    literals: dict[str, str] = {}
    for key, pseudonym in pseudonym_of.items():
        for surface in sorted(surfaces.get(key, {key})):
            literals.setdefault(surface, pseudonym)
    for key, pseudonym in pseudonym_of.items():
        for surface in sorted(surfaces.get(key, {key})):
            words = surface.split()
            if len(words) < 2:
                continue
            for word in words:
                if len(word) >= _MIN_NAME_PART and word.casefold() not in _NAME_PARTICLES:
                    literals.setdefault(word, pseudonym)
    patterns = []
    for literal in sorted(literals, key=lambda item: (-len(item), item)):
        if len(literal) < MIN_GLOBAL_NAME:
            continue
        body = r"\s+".join(re.escape(word) for word in literal.split())
        flags = re.IGNORECASE if len(literal) >= _CASELESS_FROM else 0
        patterns.append((re.compile(r"(?<!\w)" + body + r"(?!\w)", flags), literals[literal]))
    return patterns


def _take(taken: list[_Replacement], candidate: _Replacement) -> None:
    if candidate.end <= candidate.start:
        return
    if any(r.start < candidate.end and candidate.start < r.end for r in taken):
        return  # overlaps a span already replaced (a tagged span or a longer name)
    taken.append(candidate)


def _apply(value: str, spans: list[_Replacement]) -> str:
    pieces: list[str] = []
    position = 0
    for span in spans:
        pieces.append(value[position : span.start])
        pieces.append(span.new)
        position = span.end
    pieces.append(value[position:])
    return "".join(pieces)


def _new_position(position: int, spans: list[_Replacement], is_end: bool) -> int:
    """Where `position` of the old string lands in the new one. A start inside a replaced
    span moves to the pseudonym's start, an end inside one to its end, so an entity that
    covered part of a name covers the whole pseudonym."""
    shift = 0
    for span in spans:
        new_start = span.start + shift
        if is_end and span.start < position <= span.end:
            return new_start + len(span.new)
        if not is_end and span.start <= position < span.end:
            return new_start
        if span.end <= position:
            shift += len(span.new) - (span.end - span.start)
        else:
            break
    return position + shift


def _mask_other(
    value: str,
    pseudonym_of: dict[str, str],
    surfaces: dict[str, set[str]],
    patterns: list[tuple[re.Pattern[str], str]],
) -> str:
    """A URL or other string: names as words and as slugs ("siti-aminah") replaced."""
    for key, pseudonym in pseudonym_of.items():
        slug_pseudonym = pseudonym.strip("[]").lower()
        for surface in surfaces.get(key, {key}):
            for part in [surface, *surface.split()]:
                slug = re.sub(r"[^0-9a-z]+", "-", part.casefold()).strip("-")
                if len(slug) < _MIN_NAME_PART or part.casefold() in _NAME_PARTICLES:
                    continue
                value = re.sub(
                    r"(?<![0-9a-z])" + re.escape(slug) + r"(?![0-9a-z])",
                    slug_pseudonym,
                    value,
                    flags=re.IGNORECASE,
                )
    for pattern, pseudonym in patterns:
        value = pattern.sub(pseudonym, value)
    return value


# "Yuliana Safitri (36)", "berinisial AS (14)": Indonesian news gives a person's age in
# brackets after the name; a net for names the tagger did not mark as PERSON.
_NAME_WORD = r"(?:[A-Z][a-z\u2019']+|[A-Z]{1,4})"
_AGED_NAME = re.compile(
    r"(?<![\w-])("
    + _NAME_WORD
    + r"(?:[ \t]+"
    + _NAME_WORD
    + r"){0,3})[ \t]*\(\d{1,2}(?:[ \t]*(?:tahun|th))?\)"
)
# Capitalised words that start a sentence or a title before a name, never names themselves.
_NOT_NAMES = frozenset(
    [
        "korban",
        "pelaku",
        "tersangka",
        "terdakwa",
        "saksi",
        "ibu",
        "bapak",
        "ayah",
        "pak",
        "bu",
        "kak",
        "adik",
        "anak",
        "siswi",
        "siswa",
        "warga",
        "bocah",
        "balita",
        "remaja",
        "gadis",
        "pria",
        "wanita",
        "perempuan",
        "seorang",
        "salah",
        "satunya",
        "sementara",
        "kata",
        "ujar",
        "jelas",
        "tutur",
        "menurut",
        "dan",
        "atau",
        "yakni",
        "yaitu",
        "kapolres",
        "kapolresta",
        "kasat",
        "kanit",
        "kepala",
        "kades",
        "lurah",
        "camat",
        "bupati",
        "wali",
        "gubernur",
        "polisi",
        "polres",
        "polresta",
        "polda",
        "kota",
        "kabupaten",
        "kecamatan",
        "desa",
        "kelurahan",
        "jalan",
        "jl",
        "rt",
        "rw",
        "pt",
        "cv",
        "uu",
        "pasal",
        "senin",
        "selasa",
        "rabu",
        "kamis",
        "jumat",
        "sabtu",
        "minggu",
        "jambi",
    ]
)


def aged_person_names(text: str) -> list[str]:
    """Names written with an age in brackets ("Yuliana Safitri (36)"), in order of first
    appearance, leading non-name words ("Korban", "Ibu") dropped. A pure function."""
    found: list[str] = []
    for match in _AGED_NAME.finditer(text):
        words = match.group(1).split()
        while words and words[0].casefold() in _NOT_NAMES:
            words = words[1:]
        name = " ".join(words)
        if name and name not in found:
            found.append(name)
    return found
