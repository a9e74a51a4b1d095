"""Pantau's query language, the same for every index backend.

    perdagangan orang                 both terms (stemmed: "diperdagangkan" matches)
    "perdagangan orang"               the phrase
    tppo OR "perdagangan orang"       either side
    -narkoba  -"harga emas"           leave out
    source:"Jambi Ekspres"  relevance:incident  form:tppo  group:anak  region:15.71
    date:2026-11  date:2026-11-01..2026-11-30  date:>=2026-11-16

Parsing is pure: a string in, a `ParsedQuery` out. Backends translate the parsed query,
never the raw string, so nothing a user types reaches the engine unescaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from nlp.analysis import analyze

FIELD_ALIASES = {
    "source": "source",
    "sumber": "source",
    "relevance": "relevance",
    "relevansi": "relevance",
    "form": "category",
    "category": "category",
    "bentuk": "category",
    "kategori": "category",
    "group": "victim_group",
    "korban": "victim_group",
    "region": "region",
    "wilayah": "region",
    "date": "date",
    "tanggal": "date",
}

_TOKEN = re.compile(r'(-?)(?:(\w+):)?(?:"([^"]*)"?|(\S+))')


class QueryError(ValueError):
    """A query that cannot mean anything, phrased for the person who typed it."""


@dataclass(frozen=True)
class TextClause:
    """A term or a phrase, as index terms (analysed the same way as documents)."""

    terms: tuple[str, ...]
    original: str

    @property
    def is_phrase(self) -> bool:
        return len(self.terms) > 1


@dataclass
class ParsedQuery:
    # Every group must match; a group matches when any of its clauses does (OR).
    required: list[list[TextClause]] = field(default_factory=list)
    excluded: list[TextClause] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None  # inclusive

    @property
    def has_text(self) -> bool:
        return bool(self.required)

    def highlight_terms(self) -> set[str]:
        return {term for group in self.required for clause in group for term in clause.terms}


def parse_query(text: str) -> ParsedQuery:
    query = ParsedQuery()
    pending_or = False
    for match in _TOKEN.finditer(text):
        negated, field_name, quoted, bare = match.groups()
        value = quoted if quoted is not None else bare
        if field_name is None and quoted is None and bare == "OR":
            pending_or = bool(query.required)
            continue
        if field_name is not None and field_name.lower() in FIELD_ALIASES:
            _add_filter(query, FIELD_ALIASES[field_name.lower()], value, bool(negated))
            pending_or = False
            continue
        if field_name is not None:  # "http://…" or "jam:10" typed as text
            value = f"{field_name}:{value}"
        terms = tuple(analyze(value))
        if not terms:
            continue  # stop words only ("yang", "di")
        clause = TextClause(terms, value)
        if negated:
            query.excluded.append(clause)
        elif pending_or:
            query.required[-1].append(clause)
        else:
            query.required.append([clause])
        pending_or = False
    return query


def _add_filter(query: ParsedQuery, name: str, value: str, negated: bool) -> None:
    if negated:
        raise QueryError(f"'-{name}:' is not supported; filter on the values you want instead")
    if name == "date":
        start, end = parse_date_range(value)
        query.date_from = max(filter(None, (query.date_from, start)), default=None)
        query.date_to = min(filter(None, (query.date_to, end)), default=None)
        return
    query.filters.setdefault(name, []).append(value)


def parse_date_range(value: str) -> tuple[date | None, date | None]:
    """'2026-11', '2026-11-16', 'A..B', '>=A', '<=B', '>A', '<B' → inclusive bounds."""
    try:
        if ".." in value:
            start, end = value.split("..", 1)
            return (_period(start)[0] if start else None, _period(end)[1] if end else None)
        for operator in (">=", "<=", ">", "<"):
            if value.startswith(operator):
                low, high = _period(value[len(operator) :])
                return {
                    ">=": (low, None),
                    ">": (high + timedelta(days=1), None),
                    "<=": (None, high),
                    "<": (None, low - timedelta(days=1)),
                }[operator]
        return _period(value)
    except ValueError as exc:
        raise QueryError(
            f"date:{value} is not a date; use YYYY, YYYY-MM, YYYY-MM-DD, A..B or >=A"
        ) from exc


def _period(text: str) -> tuple[date, date]:
    parts = text.split("-")
    if len(parts) == 1:
        year = int(parts[0])
        return date(year, 1, 1), date(year, 12, 31)
    if len(parts) == 2:
        year, month = int(parts[0]), int(parts[1])
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        return first, following - timedelta(days=1)
    day = date.fromisoformat(text)
    return day, day
