"""The rule tagger behind `pantau tag`: relevance, forms of violence, victims, perpetrators,
dates and a first set of entities, from transparent rules.

The words and weights live in `rules/incident_rules.yaml`, where an analyst can read and
change them; this module holds the mechanics (windows, counting, dates, entities). The
meaning of every output field is in ../shared/contracts/taxonomy.md.

Relevance and forms are decided by the trained incident classifier (nlp/classifier.py,
models/incident-classifier) when it is built: it reads the rules' margins as features
plus the article's words, and gives calibrated probabilities; without it, the rules
decide alone. Victims, perpetrators, places, dates, entities and the roles of named
persons (victim / perpetrator / other, from `person_roles` in the rules file) always come
from the rules.

Known limits are documented on `RuleTagger`.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
import re._constants as _sre
import re._parser as _sre_parser
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from crawlers.extract.boilerplate import TEASER_LEAD
from nlp.classifier import DEFAULT_MODEL_DIR, IncidentClassifier, load_default_classifier
from nlp.gazetteer import load_gazetteer
from nlp.language import detect_language
from nlp.ner import Recognizer, default_recognizer, with_model_spans
from nlp.numbers import NUMBER_PATTERN, number_before, parse_number
from nlp.places import extract_places
from nlp.stemmer import root_words, stem
from pantau.models import (
    CATEGORIES,
    ArticleIn,
    Category,
    Entity,
    EntityLabel,
    LocationMention,
    ModelInfo,
    Perpetrators,
    PersonRole,
    Relation,
    Relevance,
    TaggedArticle,
    VictimGroup,
    Victims,
)

TAGGER_NAME: Final = "pantau-rules"
# The tagger code's own part of the version: the rules file and the model add their hashes,
# but a change here that alters what is written must bump it, or `pantau retag` would leave
# stored articles with the old output (0.2.0: the incident-date rule of 2026-11-28; 0.3.0:
# the story's start as an event word for the incident date, the relation fallbacks; 0.3.1:
# teasers for other articles read as blanks).
BASE_VERSION: Final = "0.3.1"
DEFAULT_RULES_PATH: Final = Path(__file__).resolve().parent / "rules" / "incident_rules.yaml"
# Only this much of the body is analysed. News articles are below 50,000 characters; a
# longer "article" is a crawl accident, and reading its start keeps tagging fast and bounded.
MAX_ANALYSED_CHARS: Final = 200_000
MAX_TITLE_CHARS: Final = 2_000
# Counts above this are statistics or noise, never the victims of one reported case.
MAX_PLAUSIBLE_COUNT: Final = 5_000

FieldName = Literal["title", "text"]


# --------------------------------------------------------------------------------------
# Rules file: schema and compilation
# --------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeightedPatternSpec(_Strict):
    pattern: str
    weight: float = Field(gt=0)


class CategorySpec(_Strict):
    needs_victim_cue: bool
    patterns: list[WeightedPatternSpec]


class RelationSpec(_Strict):
    context_free: bool = False
    patterns: list[str]
    # Words of this relation for a member of the victim's household who is no relative (a
    # nanny, a maid): the case is domestic (the taxonomy's "household member").
    household: list[str] = Field(default_factory=list)


class VictimNounSpec(_Strict):
    pattern: str
    child: bool
    female: bool


class PerpetratorContextSpec(_Strict):
    passive: str
    active: str
    window: int = Field(gt=0, le=200)


class PersonRoleSpec(_Strict):
    window: int = Field(gt=0, le=300)
    after_perpetrator: str
    after_victim: str
    victim: str
    perpetrator: str
    kin: str
    other: str
    perpetrator_in_sentence: str
    passive_violence: str
    reporter_in_sentence: str
    speech_after: str
    victim_right_before: str
    not_name_words: list[str]
    # Roles need evidence at the name in an article that is not an incident with
    # P(incident) below this; 0 turns the strict roles off (see the rules file).
    strict_roles_below: float = Field(default=0.0, ge=0, le=1)


class ScoringSpec(_Strict):
    title_weight: float = Field(ge=1)
    max_hits_per_pattern: int = Field(ge=1)
    category_threshold: float = Field(gt=0)
    topic_threshold: float = Field(gt=0)
    victim_window: int = Field(gt=0, le=1000)
    max_child_age: int = Field(ge=0, le=17)
    incident_threshold: float = Field(gt=0)
    aggregate_penalty: float = Field(ge=0)
    relation_threshold: float = Field(gt=0)
    specific_person_bonus: float = Field(ge=0)
    score_slope: float = Field(gt=0)


class RulesSpec(_Strict):
    """The shape of incident_rules.yaml; a typo in a key fails loudly at load time."""

    scoring: ScoringSpec
    neutralize: list[str]
    categories: dict[Category, CategorySpec]
    topic: list[WeightedPatternSpec]
    victim_groups: dict[VictimGroup, list[str]]
    incident_cues: list[WeightedPatternSpec]
    aggregate_cues: list[WeightedPatternSpec]
    relations: dict[Relation, RelationSpec]
    perpetrator_context: PerpetratorContextSpec
    domestic_cues: list[str]
    undecided_relation_cues: dict[Relation, list[str]]
    trafficking_headlines: list[str]
    victim_nouns: list[VictimNounSpec]
    perpetrator_nouns: list[str]
    statistic_context: list[str]
    plural_victims: list[str]
    perpetrators_after_count: str
    perpetrators_before_count: str
    victims_named_after: str
    person_roles: PersonRoleSpec

    @model_validator(mode="after")
    def _every_category_has_rules(self) -> RulesSpec:
        missing = [category for category in CATEGORIES if category not in self.categories]
        if missing:
            raise ValueError(f"categories without rules: {', '.join(missing)}")
        return self


def _whole_words(pattern: str) -> str:
    return rf"(?<!\w)(?:{pattern})(?!\w)"


def _rule_flags(pattern: str) -> int:
    """Rules run on lower-cased text. A pattern written in lower case needs no IGNORECASE,
    which makes `re` slower; one with capitals ('TPPO', or an escape like '\\S') keeps it."""
    return 0 if pattern == pattern.lower() else re.IGNORECASE


def _compile_rule(pattern: str) -> re.Pattern[str]:
    """One rule pattern, validated: it must compile and must not capture (we number groups)."""
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"invalid rule pattern {pattern!r}: {exc}") from exc
    if compiled.groups:
        raise ValueError(f"rule pattern {pattern!r} has a capturing group; write (?:...)")
    return compiled


# --------------------------------------------------------------------------------------
# Fast matching: search only near literals that every match must contain
# --------------------------------------------------------------------------------------
#
# Python's `re` scans a text fast only for patterns that begin with a literal; a pattern
# that begins with a lookbehind (every whole-word rule) costs tens of nanoseconds per
# character, and the rules hold hundreds of patterns. Each regex is therefore analysed once
# for the literal strings that any match must contain ("triggers": 'cabul' for
# '\w*cabul\w*'); per text, one pass of a `TriggerFinder` locates every trigger of every
# regex, and each regex runs only in short windows around its own triggers (most run not
# at all). Matches are exactly those of a full scan as long as no match extends more than
# `TRIGGER_REACH` characters beyond its trigger (rules match words and short phrases). A
# regex without a usable trigger is scanned in full.

TRIGGER_REACH: Final = 120
# Above this share of the text, windows are not worth it: scan the whole text.
_FULL_SCAN_SHARE: Final = 0.6


def required_literals(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    """Lower-cased strings one of which every match contains, or None when unknown."""
    try:
        parsed = _sre_parser.parse(regex.pattern, regex.flags)
    except Exception:  # the private parser's API may change; fall back to full scans
        return None
    literals = _sequence_literals(parsed)
    if not literals:
        return None
    return tuple(sorted(literal.lower() for literal in literals))


# The parse tree of re._parser is untyped: (opcode, argument) pairs, nested.
_ParseItem = tuple[Any, Any]


def _sequence_literals(items: Iterable[_ParseItem]) -> set[str] | None:
    """Candidates of a sequence: a run of literal characters, or a required sub-part; the
    most selective (longest shortest string) wins."""
    candidates: list[set[str]] = []
    run: list[str] = []
    for op, value in items:
        if op is _sre.LITERAL:
            run.append(chr(value))
            continue
        if run:
            candidates.append({"".join(run)})
            run = []
        part: set[str] | None = None
        if op is _sre.SUBPATTERN:
            part = _sequence_literals(value[-1])
        elif op is _sre.BRANCH:
            part = _branch_literals(value[1])
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
            minimum, _, item = value
            part = _sequence_literals(item) if minimum >= 1 else None
        elif op is _sre.ATOMIC_GROUP:
            part = _sequence_literals(value)
        if part:
            candidates.append(part)
    if run:
        candidates.append({"".join(run)})
    if not candidates:
        return None
    return max(candidates, key=lambda literals: min(len(literal) for literal in literals))


def _branch_literals(alternatives: Iterable[Iterable[_ParseItem]]) -> set[str] | None:
    union: set[str] = set()
    for alternative in alternatives:
        literals = _sequence_literals(alternative)
        if not literals:
            return None  # one alternative without a trigger: the branch has none
        union |= literals
    return union


class TriggerFinder:
    """Finds every occurrence of a fixed vocabulary of literals in one pass.

    The vocabulary becomes one trie-shaped regex inside a lookahead, tried at every
    position; the longest literal starting at a position is reported, and the literals
    that are its prefixes are added from a table. One pass over the text replaces one
    `str.find` per literal.
    """

    def __init__(self, literals: Iterable[str]) -> None:
        self.vocabulary = frozenset(literal for literal in literals if literal)
        self._prefixes = {
            literal: [p for p in self.vocabulary if p != literal and literal.startswith(p)]
            for literal in self.vocabulary
        }
        self._regex = (
            re.compile(f"(?=({_trie_pattern(self.vocabulary)}))") if self.vocabulary else None
        )

    def find_all(self, text: str) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        if self._regex is None:
            return found
        for match in self._regex.finditer(text):
            position = match.start()
            literal = match.group(1)
            found.setdefault(literal, []).append(position)
            for prefix in self._prefixes[literal]:
                found.setdefault(prefix, []).append(position)
        return found


_TrieNode = dict[str, "_TrieNode"]


def _trie_pattern(literals: Iterable[str]) -> str:
    """A regex matching any of the literals, shaped as a trie, longest match first."""
    trie: _TrieNode = {}
    for literal in literals:
        node = trie
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: _TrieNode) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


class TriggerIndex:
    """Positions of trigger literals in one lower-cased text: those of the finder's
    vocabulary from one pass, any other literal by `str.find` on demand (cached)."""

    def __init__(self, lowered: str, finder: TriggerFinder | None = None) -> None:
        self.lowered = lowered
        self._vocabulary = finder.vocabulary if finder else frozenset()
        self._positions = finder.find_all(lowered) if finder else {}
        self._found = frozenset(self._positions)

    def lacks_all(self, triggers: frozenset[str]) -> bool:
        """True when none of the triggers occurs (answered without a search)."""
        return self._found.isdisjoint(triggers) and triggers <= self._vocabulary

    def positions(self, literal: str) -> list[int]:
        found = self._positions.get(literal)
        if found is None:
            found = []
            if literal not in self._vocabulary:
                find = self.lowered.find
                position = find(literal)
                while position >= 0:
                    found.append(position)
                    position = find(literal, position + 1)
            self._positions[literal] = found
        return found

    def windows(self, triggers: Sequence[str]) -> list[tuple[int, int]] | None:
        """Merged search windows around the triggers' occurrences (empty when none occurs);
        None: scan everything."""
        spans: list[tuple[int, int]] = []
        for trigger in triggers:
            length = len(trigger) + TRIGGER_REACH
            spans.extend(
                (position - TRIGGER_REACH, position + length)
                for position in self.positions(trigger)
            )
        if not spans:
            return spans
        text = self.lowered
        size = len(text)
        spans.sort()
        merged: list[tuple[int, int]] = []
        for low, high in spans:
            # End windows on a non-word character: `(?!\w)` at a window's end must not
            # succeed in the middle of a word.
            while high < size and (text[high].isalnum() or text[high] == "_"):
                high += 1
            low, high = max(0, low), min(high, size)
            if merged and low <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], high))
            else:
                merged.append((low, high))
        if sum(high - low for low, high in merged) > _FULL_SCAN_SHARE * size:
            return None
        return merged


class TriggeredRegex:
    """A compiled regex that searches only around its triggers (see above)."""

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex
        self.triggers = required_literals(regex)
        self._trigger_set = frozenset(self.triggers or ())

    def matches(self, text: str, index: TriggerIndex) -> list[re.Match[str]]:
        """All matches in `text`, a same-length view of index.lowered, in order."""
        if self.triggers is None:
            return list(self.regex.finditer(text))
        if index.lacks_all(self._trigger_set):
            return []
        windows = index.windows(self.triggers)
        if windows is None:
            return list(self.regex.finditer(text))
        found: list[re.Match[str]] = []
        for low, high in windows:
            found.extend(self.regex.finditer(text, low, high))
        return found

    def first(self, text: str, index: TriggerIndex) -> re.Match[str] | None:
        found = self.matches(text, index)
        return found[0] if found else None


@dataclass(frozen=True, slots=True)
class Hit:
    """Where one pattern of a PatternSet matched."""

    start: int
    end: int
    index: int


class PatternSet:
    """Several whole-word, case-insensitive rule patterns; each hit says which one matched.

    Where matches of several patterns overlap, the leftmost wins, and at the same start the
    pattern listed first: the same result as one alternation of all patterns, so a phrase
    and its parts ('kekerasan seksual', 'seksual') are counted once.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        for pattern in patterns:
            _compile_rule(pattern)
        self._regexes = [
            TriggeredRegex(re.compile(_whole_words(pattern), _rule_flags(pattern)))
            for pattern in patterns
        ]

    @property
    def regexes(self) -> Sequence[TriggeredRegex]:
        return self._regexes

    def find(self, text: str, index: TriggerIndex) -> list[Hit]:
        found = [
            Hit(match.start(), match.end(), i)
            for i, regex in enumerate(self._regexes)
            for match in regex.matches(text, index)
            if match.end() > match.start()
        ]
        found.sort(key=lambda hit: (hit.start, hit.index))
        kept: list[Hit] = []
        for hit in found:
            if not kept or hit.start >= kept[-1].end:
                kept.append(hit)
        return kept


@dataclass(frozen=True)
class WeightedSet:
    patterns: PatternSet
    weights: tuple[float, ...]

    @classmethod
    def of(cls, specs: Sequence[WeightedPatternSpec]) -> WeightedSet:
        return cls(PatternSet([s.pattern for s in specs]), tuple(s.weight for s in specs))


@dataclass(frozen=True)
class CompiledRules:
    """incident_rules.yaml, compiled once per tagger."""

    scoring: ScoringSpec
    neutralize: PatternSet
    categories: dict[Category, WeightedSet]
    needs_victim_cue: dict[Category, bool]
    topic: WeightedSet
    # One set per group: 'siswi' is a cue of both anak and perempuan.
    victim_cues: dict[VictimGroup, PatternSet]
    incident_cues: WeightedSet
    aggregate_cues: WeightedSet
    relation_words: PatternSet
    relation_of_word: tuple[Relation, ...]
    household_words: frozenset[int]  # indices into relation_words
    context_free_relations: frozenset[Relation]
    passive_context: TriggeredRegex
    active_context: TriggeredRegex
    context_window: int
    domestic_cues: PatternSet
    undecided_relation_cues: tuple[tuple[Relation, PatternSet], ...]
    trafficking_headlines: PatternSet
    victim_nouns: PatternSet
    victim_noun_flags: tuple[tuple[bool, bool], ...]
    perpetrator_nouns: PatternSet
    statistic_context: re.Pattern[str]
    plural_victims: PatternSet
    perpetrators_after_count: re.Pattern[str]
    perpetrators_before_count: re.Pattern[str]
    victims_named_after: TriggeredRegex
    person_roles: PersonRoleRules


@dataclass(frozen=True)
class PersonRoleRules:
    """person_roles of incident_rules.yaml, compiled (see `_person_role`)."""

    window: int
    after_perpetrator: re.Pattern[str]
    after_victim: re.Pattern[str]
    before: re.Pattern[str]  # named groups: victim, perpetrator, kin, other
    perpetrator_in_sentence: re.Pattern[str]
    victim_in_sentence: re.Pattern[str]
    passive_violence: re.Pattern[str]
    reporter_in_sentence: re.Pattern[str]
    speech_after: re.Pattern[str]
    victim_right_before: re.Pattern[str]
    not_name_words: frozenset[str]
    strict_roles_below: float

    @classmethod
    def of(cls, spec: PersonRoleSpec) -> PersonRoleRules:
        for pattern in vars(spec).values():
            if isinstance(pattern, str):
                _compile_rule(pattern)
        # Earlier alternatives win at the same position: 'ayah tiri korban' is kin, not
        # the victim word 'korban' inside it.
        before = (
            rf"(?P<kin>{_whole_words(spec.kin)})|(?P<perpetrator>{_whole_words(spec.perpetrator)})"
            rf"|(?P<victim>{_whole_words(spec.victim)})|(?P<other>{_whole_words(spec.other)})"
        )
        return cls(
            window=spec.window,
            after_perpetrator=re.compile(
                rf"\s*(?:\(\s*\d{{1,2}}\s*(?:th|thn|tahun)?\s*\))?\s*,?\s*(?:{spec.after_perpetrator})(?!\w)",
                re.IGNORECASE,
            ),
            after_victim=re.compile(
                rf"\s*(?:\(\s*\d{{1,2}}\s*(?:th|thn|tahun)?\s*\))?\s*,?\s*(?:{spec.after_victim})(?!\w)",
                re.IGNORECASE,
            ),
            before=re.compile(before, re.IGNORECASE),
            perpetrator_in_sentence=re.compile(
                _whole_words(spec.perpetrator_in_sentence), re.IGNORECASE
            ),
            victim_in_sentence=re.compile(_whole_words(spec.victim), re.IGNORECASE),
            passive_violence=re.compile(_whole_words(spec.passive_violence), re.IGNORECASE),
            reporter_in_sentence=re.compile(_whole_words(spec.reporter_in_sentence), re.IGNORECASE),
            speech_after=re.compile(
                rf"\s*(?:\(\s*\d{{1,2}}\s*(?:th|thn|tahun)?\s*\))?\s*,?\s*(?:{spec.speech_after})(?!\w)",
                re.IGNORECASE,
            ),
            victim_right_before=re.compile(
                rf"(?<!\w)(?:{spec.victim_right_before})\s*[,:]?\s*$", re.IGNORECASE
            ),
            not_name_words=frozenset(word.lower() for word in spec.not_name_words),
            strict_roles_below=spec.strict_roles_below,
        )


def _rule_regexes(rules: CompiledRules) -> Iterator[TriggeredRegex]:
    """Every triggered regex of the rules (for the tagger's trigger vocabulary)."""
    pattern_sets = [
        *(weighted.patterns for weighted in rules.categories.values()),
        rules.neutralize,
        rules.topic.patterns,
        *rules.victim_cues.values(),
        rules.incident_cues.patterns,
        rules.aggregate_cues.patterns,
        rules.relation_words,
        rules.domestic_cues,
        *(cues for _, cues in rules.undecided_relation_cues),
        rules.trafficking_headlines,
        rules.victim_nouns,
        rules.perpetrator_nouns,
    ]
    for pattern_set in pattern_sets:
        yield from pattern_set.regexes
    yield rules.passive_context
    yield rules.active_context
    yield rules.victims_named_after


def compile_rules(spec: RulesSpec) -> CompiledRules:
    """Compile and validate every pattern of the rules (a bad pattern fails here, once)."""
    relation_patterns: list[str] = []
    relation_of_word: list[Relation] = []
    household_words: set[int] = set()
    for relation, relation_spec in spec.relations.items():
        relation_patterns.extend(relation_spec.patterns)
        household_words.update(
            range(len(relation_patterns), len(relation_patterns) + len(relation_spec.household))
        )
        relation_patterns.extend(relation_spec.household)
        words = len(relation_spec.patterns) + len(relation_spec.household)
        relation_of_word.extend([relation] * words)
    for pattern in [
        *spec.statistic_context,
        spec.perpetrator_context.passive,
        spec.perpetrator_context.active,
    ]:
        _compile_rule(pattern)
    context = spec.perpetrator_context
    return CompiledRules(
        scoring=spec.scoring,
        neutralize=PatternSet(spec.neutralize),
        categories={c: WeightedSet.of(spec.categories[c].patterns) for c in CATEGORIES},
        needs_victim_cue={c: spec.categories[c].needs_victim_cue for c in CATEGORIES},
        topic=WeightedSet.of(spec.topic),
        victim_cues={group: PatternSet(p) for group, p in spec.victim_groups.items()},
        incident_cues=WeightedSet.of(spec.incident_cues),
        aggregate_cues=WeightedSet.of(spec.aggregate_cues),
        relation_words=PatternSet(relation_patterns),
        relation_of_word=tuple(relation_of_word),
        household_words=frozenset(household_words),
        context_free_relations=frozenset(
            relation for relation, r in spec.relations.items() if r.context_free
        ),
        passive_context=TriggeredRegex(
            re.compile(_whole_words(context.passive), _rule_flags(context.passive))
        ),
        active_context=TriggeredRegex(
            re.compile(_whole_words(context.active), _rule_flags(context.active))
        ),
        context_window=context.window,
        domestic_cues=PatternSet(spec.domestic_cues),
        undecided_relation_cues=tuple(
            (relation, PatternSet(cues)) for relation, cues in spec.undecided_relation_cues.items()
        ),
        trafficking_headlines=PatternSet(spec.trafficking_headlines),
        victim_nouns=PatternSet([noun.pattern for noun in spec.victim_nouns]),
        victim_noun_flags=tuple((noun.child, noun.female) for noun in spec.victim_nouns),
        perpetrator_nouns=PatternSet(spec.perpetrator_nouns),
        statistic_context=re.compile(
            "|".join(_whole_words(p) for p in spec.statistic_context) or r"(?!x)x", re.I
        ),
        plural_victims=PatternSet(spec.plural_victims),
        perpetrators_after_count=re.compile(spec.perpetrators_after_count, re.I),
        perpetrators_before_count=re.compile(spec.perpetrators_before_count, re.I),
        victims_named_after=TriggeredRegex(
            re.compile(spec.victims_named_after, _rule_flags(spec.victims_named_after))
        ),
        person_roles=PersonRoleRules.of(spec.person_roles),
    )


def load_rules(path: Path) -> tuple[RulesSpec, str]:
    """The rules and a short hash of the file's bytes (part of the tagger's version)."""
    raw = path.read_bytes()
    data = yaml.safe_load(raw.decode("utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return RulesSpec.model_validate(data), hashlib.sha256(raw).hexdigest()[:8]


# --------------------------------------------------------------------------------------
# Fixed patterns: ages, names, dates, entities (mechanics, not domain vocabulary)
# --------------------------------------------------------------------------------------

WEEKDAYS: Final[dict[str, int]] = {
    "senin": 0,
    "selasa": 1,
    "rabu": 2,
    "kamis": 3,
    "jumat": 4,
    "jum'at": 4,
    "sabtu": 5,
    "minggu": 6,
}
MONTHS: Final[dict[str, int]] = {
    **dict.fromkeys(("januari", "jan"), 1),
    **dict.fromkeys(("februari", "pebruari", "feb"), 2),
    **dict.fromkeys(("maret", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mei",), 5),
    **dict.fromkeys(("juni", "jun"), 6),
    **dict.fromkeys(("juli", "jul"), 7),
    **dict.fromkeys(("agustus", "agu", "agt", "ags"), 8),
    **dict.fromkeys(("september", "sept", "sep"), 9),
    **dict.fromkeys(("oktober", "okt"), 10),
    **dict.fromkeys(("november", "nopember", "nov"), 11),
    **dict.fromkeys(("desember", "des"), 12),
}
# Most fixed patterns run on the lower-cased text (faster without IGNORECASE, same offsets);
# those that need capitals (a weekday that is not "minggu" = week, names) run on the original.
_WEEKDAY = r"(?:Senin|Selasa|Rabu|Kamis|Jum'?at|Sabtu|Minggu)"
_WEEKDAY_LOWER = _WEEKDAY.lower()
_MONTH = "(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + ")"
_PARTS_OF_DAY = r"(?:pagi|siang|sore|malam|dini\s+hari|subuh|petang)"
_PART_OF_DAY = rf"(?:\s+{_PARTS_OF_DAY}(?!\w))?"

# "Rabu (18/11/2026)", "Senin, (16/11) malam", "(13/12)".
NUMERIC_DATE: Final = TriggeredRegex(
    re.compile(
        rf"(?:(?<!\w)(?P<wd>{_WEEKDAY_LOWER})\s*,?\s*)?\(\s*(?P<d>\d{{1,2}})\s*/\s*"
        rf"(?P<m>\d{{1,2}})(?:\s*/\s*(?P<y>\d{{4}}|\d{{2}}))?\s*\){_PART_OF_DAY}"
    )
)
# "Rabu, 18 November 2026", "18 Nov 2026", "18 November".
LONG_DATE: Final = TriggeredRegex(
    re.compile(
        rf"(?:(?<!\w)(?P<wd>{_WEEKDAY_LOWER})\s*,?\s*)?(?<![\d.,])(?P<d>\d{{1,2}})\s+"
        rf"(?P<mon>{_MONTH})\.?(?!\w)(?:\s+(?P<y>\d{{4}})(?!\w))?{_PART_OF_DAY}"
    )
)
# A span or list of days in one month ("17-19 Juli 2019", "22 dan 23 Januari 2023"): the
# act began on the first.
DAY_RANGE_DATE: Final = TriggeredRegex(
    re.compile(
        rf"(?<![\d.,])(?P<d>\d{{1,2}})\s*(?:-|–|hingga|sampai|dan|s\.?d\.?)\s*\d{{1,2}}\s+"
        rf"(?P<mon>{_MONTH})\.?(?!\w)(?:\s+(?P<y>\d{{4}})(?!\w))?"
    )
)
# A weekday on its own, capitalised ("minggu" is also "week"), where a date is expected:
# "pada Rabu", "Rabu malam", "hari Sabtu".
BARE_WEEKDAY: Final = TriggeredRegex(
    re.compile(
        rf"(?:(?<=[Pp]ada\s)|(?<=[Hh]ari\s)|(?<=[Ss]ejak\s)|(?<=,\s))"
        rf"(?P<wd>{_WEEKDAY})(?!\w)(?!\s*,?\s*\(?\s*\d){_PART_OF_DAY}"
        rf"|(?<!\w)(?P<wd2>{_WEEKDAY})\s+{_PARTS_OF_DAY}(?!\w)"
    )
)
YESTERDAY: Final = TriggeredRegex(re.compile(r"(?<!\w)kemarin(?!\w)(?:\s+lusa(?!\w))?"))
CLOCK_TIME: Final = TriggeredRegex(
    re.compile(r"(?<!\w)pukul\s+\d{1,2}[.:]\d{2}(?:\s*(?:wib|wita|wit)(?!\w))?")
)

# Context words around a date candidate (in the 60 lower-cased characters before it). Dates of
# statements and of the procedure (a trial; since the sixth session also an arrest, a report
# to the police, a reconstruction: "ditangkap pada Rabu (11/9)") are not the date of the
# incident; "terjadi pada" is: the taxonomy dates the act. A foiled departure
# ("digagalkan") is the case itself.
_DATE_EVENT_CONTEXT: Final = re.compile(
    r"terjadi|kejadian|peristiwa|insiden|digagalkan|"
    r"ditemukan|melakukan|beraksi|dilakukan|menimpa|dialami|tewas|meninggal|dicabuli|"
    r"diperkosa|dianiaya|dibuang|berangkat|diberangkatkan|sekitar pukul|malam itu|saat itu"
    # A foiled departure, a raid or a rescue is the trafficking case itself (taxonomy).
    r"|menggagalkan|penggagalan|digerebek|menggerebek|penggerebekan|diselamatkan|menyelamatkan"
    r"|mengalami"
    # The start of the story's account of the act: "bermula saat korban ... pada 31 Desember".
    r"|bermula|berawal|awalnya|kronologi"
)
_DATE_STATEMENT_CONTEXT: Final = re.compile(
    r"(?<!\w)(?:kata|ujar|ucap|ungkap|jelas|terang|tutur|sebut|tegas|imbuh|papar|katanya|"
    r"ujarnya|dihubungi|dikonfirmasi|ditemui|keterangan|konferensi pers|rilis|menjelaskan|"
    r"mengatakan|dikutip|diakses|mengungkapkan|dimintai|wawancara|menyampaikan|disampaikan)"
    r"(?!\w)"
)
# "(23/1) sekitar pukul 20.00", "kemarin sore": a time of day after a date tells of something
# that happened, not of when someone spoke. A part of the day that the date's own pattern
# takes in ("Minggu (17/12) malam") does not count again: counting it too lost one train
# article (266 -> 265).
_DATE_TIME_OF_DAY_AFTER: Final = re.compile(
    r"\)?,?\s*(?:(?:sekitar|sekira|kira-kira) )?(?:pukul|jam|pagi|siang|sore|malam|petang|subuh"
    r"|dini ?hari|tengah malam)(?!\w)"
)
# "pada Sabtu (11/10)", "pada tanggal 31 Desember 2023": a narrated day.
_DATE_NARRATED_BEFORE: Final = re.compile(r"(?<!\w)(?:pada|tanggal|hari)\s*$")
# "(17/12) lalu", "17 Februari 2019 silam": the date of something past, as an act is.
_DATE_PAST_AFTER: Final = re.compile(
    r"(?:\s*(?:\)|pagi|siang|sore|malam|dini hari))*\s+(?:lalu|silam)(?!\w)"
)
# Searched anywhere in the window, so a word covers its derivations: "sidang" also finds
# "persidangan", "vonis" "divonis", "tangkap" "ditangkap"/"penangkapan", "melapor" "melaporkan".
_DATE_PROCEDURE_CONTEXT: Final = re.compile(
    r"sidang|vonis|dituntut|putusan|tuntutan|dilimpahkan"
    r"|tangkap|diamankan|diringkus|dibekuk|mengamankan"
    r"|melapor|dilaporkan|laporan|rekonstruksi|gelar perkara|banding|gugatan"
)

# Ages. "(14)" after a capitalised word or initial; "berusia 14 tahun"; "Bocah 7 Tahun".
AGE_IN_BRACKETS: Final = TriggeredRegex(
    re.compile(r"(?P<who>[A-Z][\w.'’-]*)\s*\(\s*(?P<age>\d{1,2})\s*(?:th|thn|tahun)?\s*\)")
)
_NOT_A_PERSON_BEFORE_BRACKETS: Final = frozenset(
    {"ayat", "huruf", "angka", "butir", "poin", "pasal", "point", "tahap", "ke", "no", "nomor"}
)
AGE_IN_WORDS: Final = TriggeredRegex(
    re.compile(
        r"(?<!\w)(?:(?:berusia|berumur|usia(?:nya)?|umur(?:nya)?)\s+(?:sekitar\s+|baru\s+|masih\s+)?"
        r"|(?:anak|bocah|balita|siswi|siswa|remaja|gadis|korban|santri|santriwati|pelajar|abg)"
        rf"\s+(?:\w+\s+)?)(?P<age>\d{{1,2}}|{NUMBER_PATTERN})\s+tahun(?!\w)"
        r"(?!\s+(?:penjara|kurungan|hukuman|bui|lalu|silam|terakhir|lamanya|yang\s+lalu))"
    )
)

# Persons named in the article: "berinisial AS (30) dan RH", "bernama Budi Santoso".
_INITIALS_INTRO: Final = TriggeredRegex(re.compile(r"(?<!\w)(?:berinisial|inisial)\s+"))
_NAME_INTRO: Final = TriggeredRegex(re.compile(r"(?<!\w)bernama\s+"))
_INITIALS: Final = re.compile(r"[A-Z]{1,4}(?:\.[A-Z]{1,3})*(?!\w)")
_NAME: Final = re.compile(r"[A-Z][a-z'’]+(?:[ \t]+[A-Z][a-z'’]+){0,3}(?!\w)")
_AGE_AFTER_NAME: Final = re.compile(r"\s*\(\s*(?P<age>\d{1,2})\s*(?:th|thn|tahun)?\s*\)")
_LIST_SEPARATOR: Final = re.compile(r"\s*(?:,\s*(?:dan\s+|serta\s+)?|dan\s+|serta\s+|&\s*)")
_VICTIM_NAMED: Final = TriggeredRegex(
    re.compile(r"(?<!\w)korban(?:nya)?,?\s+(?:\w+\s+){0,2}?(?:berinisial|inisial|bernama)\s+")
)
_PERPETRATOR_NAMED: Final = TriggeredRegex(
    re.compile(
        r"(?<!\w)(?:pelaku|tersangka|terdakwa)(?:nya)?,?\s+(?:\w+\s+){0,2}?"
        r"(?:berinisial|inisial|bernama)\s+"
    )
)
# "korban sebanyak 5 orang": the number follows the noun (matched at the noun's end).
_AMOUNT_AFTER_NOUN: Final = re.compile(
    r"(?:nya)?\s+(?:\w+\s+)?(?:sebanyak|berjumlah|mencapai|ada|total)\s+"
    # Not "mencabuli korban sebanyak dua kali": how often, not how many.
    rf"(?P<number>{NUMBER_PATTERN})(?!\s+kali(?!\w))",
    re.IGNORECASE,
)
# "anak usia 8 tahun", "bocah berusia 7 tahun", "siswi (14)": matched at a noun's end.
_AGE_AFTER_NOUN: Final = re.compile(
    r"\s*(?:\((?P<bracketed>\d{1,2})\)|(?:yang\s+)?(?:masih\s+)?(?:berusia|berumur|usia|umur)?"
    rf"\s*(?P<age>\d{{1,2}}|{NUMBER_PATTERN})\s+tahun(?!\w))",
    re.IGNORECASE,
)
# "3 orang yang menjadi korban": matched in the 40 characters before 'korban'.
_BECAME_VICTIM_BEFORE: Final = re.compile(
    r"(?<!\w)orang\s+(?:yang\s+)?(?:(?:melapor|mengaku|telah|sudah)\s+)?(?:menjadi|jadi)\s+$"
)
# "menyiram air panas ke istri dan anak", "menganiaya istrinya dan dua anaknya": a wife and
# her children, counted together (the children's number, else one); matched at the end of
# a violent act (the rules' `perpetrator_context.active`), up to four words after it.
_WIFE_AND_CHILDREN_AFTER: Final = re.compile(
    r"(?:\s+\S+){0,4}?\s+(?:(?:ke|terhadap|kepada|pada)\s+)?"
    r"(?P<wife>istri)(?:nya)?(?:\s+sendiri)?\s+(?:dan|serta|beserta)\s+"
    rf"(?:(?P<number>{NUMBER_PATTERN})\s+)?(?:anak|bayi|balita)(?:nya)?(?![\w-])",
    re.IGNORECASE,
)
_ORANG_BEFORE: Final = re.compile(r"(?<!\w)orang\s+$")
# "ayah dua anak", "ibu tiga anak", "duda dengan dua anak", "mempunyai istri dan dua
# anak": the number describes a parent, not victims.
_PARENT_OF_COUNT: Final = re.compile(
    r"(?:(?:ayah|ibu|bapak)(?:\s+dari)?|beranak|memiliki|punya|mempunyai|dikaruniai|diberkahi"
    r"|dianugerahi|mengasuh"
    r"|(?:duda|janda)(?:\s+(?:dengan|dan))?|(?:istri|suami)\s+(?:dengan|dan)"
    r"|orang\s+tua(?:\s+dari)?)\s+$",
    re.I,
)

QUANTITY_MONEY: Final = TriggeredRegex(
    re.compile(
        r"(?<!\w)rp\.?\s?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?"
        r"(?:\s*(?:ribu|juta|miliar|milyar|triliun)(?!\w))?"
    )
)
# Units after a number ("22 orang", "dua korban", "14 tahun"): QUANTITY entities.
QUANTITY_UNIT: Final = TriggeredRegex(
    re.compile(
        r"(?<!\w)(?:orang|anak|korban|pelaku|tersangka|pmi|cpmi|tki|tkw|siswi|siswa|santri|"
        r"santriwati|bocah|balita|bayi|perempuan|wanita|pria|warga|wni|kasus|persen|unit|kg|"
        r"kilogram|gram|hari|bulan|minggu|pekan|jam|menit|tahun|kali|lembar|butir|paket|ekor)"
        r"(?!\w)"
    )
)
# Number words that are an article ("seorang siswi" = "a schoolgirl"), not a quantity.
_ARTICLE_NUMBERS: Final = frozenset({"seorang", "sebuah", "seekor"})
# A number after these words is an ordinal, a year, a legal reference, a phone line
# ('SAPA 129'), "one of" or a bound ("lebih dari satu anak": more than one).
_NOT_A_COUNT_AFTER: Final = re.compile(
    r"(?<!\w)(?:salah|tahun|ke|nomor|no|pasal|ayat|huruf|angka|pukul|tanggal|usia|umur|sapa|"
    r"hotline|telepon|(?:lebih|kurang)\s+dari)\s*$"
)
ORGANIZATION: Final = TriggeredRegex(
    re.compile(
        r"(?<!\w)(?:(?:Polda|Polresta|Polres|Polsekta|Polsek|Kejaksaan Negeri|"
        r"Kejaksaan Tinggi|Kejari|Kejati|Pengadilan Negeri|Pengadilan Tinggi|Kantor Imigrasi|"
        r"Lapas|Rutan)(?:[ \t]+(?!(?:Kombes|AKBP|AKP|Kompol|Iptu|Ipda|Aiptu|Aipda|Bripka|"
        r"Brigadir|Briptu|Bripda|Kapolres|Kapolsek|Kasat|Kanit|Kasi)(?!\w))[A-Z][a-z]+){1,3}"
        r"|DPMPPA|DPPPA|DP3A(?:PPKB)?|KemenPPPA|Kemen PPPA|KPAI|KPAD|BP2MI|BP3MI|P2TP2A|"
        r"UPTD PPA|Unit PPA|Satreskrim|Ditreskrimum|Bareskrim|Polri|Komnas Perempuan|"
        r"Komnas HAM|Komnas PA|LPSK)(?!\w)"
    )
)
_SENTENCE_BREAK: Final = re.compile(r"[.!?]\s|\n")
_FIXED_REGEXES: Final = (
    NUMERIC_DATE,
    LONG_DATE,
    DAY_RANGE_DATE,
    BARE_WEEKDAY,
    YESTERDAY,
    CLOCK_TIME,
    AGE_IN_BRACKETS,
    AGE_IN_WORDS,
    _INITIALS_INTRO,
    _NAME_INTRO,
    _VICTIM_NAMED,
    _PERPETRATOR_NAMED,
    QUANTITY_MONEY,
    QUANTITY_UNIT,
    ORGANIZATION,
)


# --------------------------------------------------------------------------------------
# Per-field analysis
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldText:
    """One field of the article, with the lower-cased views the rules read.

    `lowered` and `cue_text` have exactly the length of `original`, so every offset found in
    them is an offset into the original field (entities need that).
    """

    name: FieldName
    original: str
    lowered: str
    cue_text: str  # lowered, with institution names and boilerplate blanked (neutralize)
    index: TriggerIndex


def _same_length_lower(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    # A few characters lower-case to two ("İ" -> "i̇"); keep those as they are.
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)


# A teaser for another article, its headline quoted: "Simak juga Video 'Saat Jengkel …
# Aniaya 2 Anak Kandungnya':", "Tonton juga video "…" di sini". Its words are not this
# article's: the rules read it as blanks (the crawler drops such paragraphs; pasted and
# shared texts keep them inline).
_TEASER: Final = re.compile(
    rf"(?<!\w){TEASER_LEAD}(?: video)?\s*:?\s*"
    r"(?:\"[^\"]{1,200}\"|'[^']{1,200}'|\u201c[^\u201d]{1,200}\u201d|\u2018[^\u2019]{1,200}\u2019)"
)


def _without_teasers(lowered: str) -> str:
    return _TEASER.sub(lambda match: " " * len(match.group()), lowered)


def _field(name: FieldName, text: str, neutralize: PatternSet, finder: TriggerFinder) -> FieldText:
    lowered = _without_teasers(_same_length_lower(text))
    index = TriggerIndex(lowered, finder)
    blanked = neutralize.find(lowered, index)
    if blanked:
        parts: list[str] = []
        position = 0
        for hit in blanked:
            parts.append(lowered[position : hit.start])
            parts.append(" " * (hit.end - hit.start))
            position = hit.end
        parts.append(lowered[position:])
        cue_text = "".join(parts)
    else:
        cue_text = lowered
    return FieldText(name, text, lowered, cue_text, index)


@dataclass(frozen=True)
class Cue:
    start: int
    end: int
    group: VictimGroup


class CueIndex:
    """Victim cues of one field, sorted, for "is there a cue near this match?" queries."""

    def __init__(self, cues: Iterable[Cue]) -> None:
        self.cues = sorted(cues, key=lambda cue: cue.start)
        self._starts = [cue.start for cue in self.cues]

    def near(self, start: int, end: int, window: int) -> list[Cue]:
        low = bisect.bisect_left(self._starts, start - window)
        high = bisect.bisect_right(self._starts, end + window)
        return self.cues[low:high]


def _ages(field: FieldText, max_child_age: int) -> list[Cue]:
    """Ages below 18 written in the field, as `anak` cues."""
    cues: list[Cue] = []
    for match in AGE_IN_BRACKETS.matches(field.original, field.index):
        if match.group("who").lower().rstrip(".") in _NOT_A_PERSON_BEFORE_BRACKETS:
            continue
        if int(match.group("age")) <= max_child_age:
            cues.append(Cue(match.start("age"), match.end("age"), "anak"))
    for match in AGE_IN_WORDS.matches(field.lowered, field.index):
        age = parse_number(match.group("age"))
        if age is not None and age <= max_child_age:
            cues.append(Cue(match.start("age"), match.end("age"), "anak"))
    return cues


def _weighted_score(
    title_hits: Sequence[Hit], text_hits: Sequence[Hit], weights: Sequence[float], s: ScoringSpec
) -> float:
    """Σ weight × (title_weight if in the title + body hits up to max_hits_per_pattern)."""
    in_title = {hit.index for hit in title_hits}
    in_text = Counter(hit.index for hit in text_hits)
    score = sum(weights[i] * s.title_weight for i in in_title)
    score += sum(weights[i] * min(n, s.max_hits_per_pattern) for i, n in in_text.items())
    return score


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    exp_x = math.exp(x)
    return exp_x / (1.0 + exp_x)


# A decision whose victim condition fails gets this margin at most (score below 0.5).
_FAILED_CONDITION_MARGIN: Final = -1.0


@dataclass(frozen=True)
class Evidence:
    """Hits of one rule group in the title and in the body."""

    title: list[Hit]
    text: list[Hit]

    def __bool__(self) -> bool:
        return bool(self.title or self.text)

    def in_field(self, name: FieldName) -> list[Hit]:
        return self.title if name == "title" else self.text


@dataclass(frozen=True)
class Decisions:
    relevance: Relevance
    categories: list[Category]
    victim_groups: list[VictimGroup]
    scores: dict[str, float]
    # The rules' evidence as the classifier reads it (nlp.classifier.RULE_FEATURES).
    rule_features: dict[str, float] = dataclass_field(default_factory=dict)
    # Victim groups near each form's (or the general cues') evidence, met or not.
    groups_near: dict[str, set[VictimGroup]] = dataclass_field(default_factory=dict)


# --------------------------------------------------------------------------------------
# The tagger
# --------------------------------------------------------------------------------------


class RuleTagger:
    """Tags one article at a time from the rules in `incident_rules.yaml`.

    Known limits (the trained model is meant to lift them):
    - Evidence is lexical: negation ("bukan korban pencabulan"), hypotheticals and
      reported denials count like facts.
    - A victim cue near a violence word passes the victim condition even when the woman or
      child near it is a bystander or the perpetrator.
    - Relation needs a perpetrator context (a verb or "pelaku merupakan ..."); articles that
      name the relation only once, far from any verb, get null.
    - Victim counts take the title's count, else the first count in the body; an article
      about several cases reports one of them.
    - Incident dates prefer dates near event words and skip dates of statements and trials;
      "tadi malam", "pekan lalu" and month-only dates are not resolved.
    - Entities: exact rule patterns ("berinisial"/"bernama" names, money, dates, a short
      list of institutions, gazetteer places) win; the NER model (nlp/ner, models/ner-id)
      adds the rest, with its known errors (models/ner-id/README.md).
    - Only the first MAX_ANALYSED_CHARS characters of the body are read.
    """

    name: str = TAGGER_NAME

    def __init__(
        self,
        rules_path: Path | None = None,
        model_dir: Path | None = DEFAULT_MODEL_DIR,
        ner: Recognizer | Literal["configured"] | None = "configured",
    ) -> None:
        """`model_dir`: the trained classifier's folder (models/incident-classifier); None,
        or a folder without a built model, tags with the rules alone. `ner`: the entity
        model (nlp/ner; "configured": settings' ner.*, else the shipped one); None: rules."""
        self.rules_path = rules_path or DEFAULT_RULES_PATH
        spec, rules_hash = load_rules(self.rules_path)
        self.rules = compile_rules(spec)
        self.classifier: IncidentClassifier | None = (
            load_default_classifier(model_dir) if model_dir is not None else None
        )
        # A new rules file or a new model changes the version, which triggers re-tagging.
        self.version = f"{BASE_VERSION}+{rules_hash}"
        if self.classifier is not None:
            self.version += f".lr{self.classifier.digest}"
        self.ner = default_recognizer() if ner == "configured" else ner
        if self.ner is not None:
            self.version += f".ner{self.ner.digest}"
        regexes = [*_rule_regexes(self.rules), *_FIXED_REGEXES]
        self._finder = TriggerFinder(t for regex in regexes for t in regex.triggers or ())

    @property
    def model_info(self) -> ModelInfo:
        threshold = self.classifier.spec.heads["incident"].threshold if self.classifier else None
        return ModelInfo(name=self.name, version=self.version, incident_threshold=threshold)

    def tag(self, article: ArticleIn) -> TaggedArticle:
        title = article.title[:MAX_TITLE_CHARS]
        text = article.text[:MAX_ANALYSED_CHARS]
        language = _language(title, text, article.language)
        if not _is_indonesian(language) or not (title.strip() or text.strip()):
            return TaggedArticle(
                id=article.id, language=language, relevance="none", model=self.model_info
            )

        rules = self.rules
        fields = (
            _field("title", title, rules.neutralize, self._finder),
            _field("text", text, rules.neutralize, self._finder),
        )
        decisions = self._decide(fields)
        relevance = decisions.relevance

        locations, primary_location = extract_places(title, text, relevance)
        is_incident = relevance == "incident"
        relation, household = (
            self._relation(fields, decisions.categories) if is_incident else (None, False)
        )
        published = parse_published(article.published)
        return TaggedArticle(
            id=article.id,
            language=language,
            relevance=relevance,
            categories=decisions.categories,
            domestic=self._domestic(fields, relation, household) if is_incident else None,
            victim_groups=decisions.victim_groups,
            victims=self._victims(fields) if is_incident else Victims(),
            perpetrators=(
                Perpetrators(count=self._perpetrator_count(fields), relation=relation)
                if is_incident
                else Perpetrators()
            ),
            primary_location=primary_location,
            locations=locations,
            incident_date=(
                _incident_date(
                    fields, published, (rules.passive_context.regex, rules.active_context.regex)
                )
                if is_incident
                else None
            ),
            entities=_with_person_roles(
                _entities(fields, locations, self.ner, rules.person_roles.not_name_words),
                fields,
                rules.person_roles,
                relation,
                no_case=relevance != "incident"
                and decisions.scores.get("incident", 0.0) < rules.person_roles.strict_roles_below,
            ),
            scores=decisions.scores,
            model=self.model_info,
        )

    # -- relevance, categories, victim groups ------------------------------------------

    def _victim_cues(self, field: FieldText) -> CueIndex:
        cues = [
            Cue(hit.start, hit.end, group)
            for group, patterns in self.rules.victim_cues.items()
            for hit in patterns.find(field.cue_text, field.index)
        ]
        cues.extend(_ages(field, self.rules.scoring.max_child_age))
        return CueIndex(cues)

    def rule_evidence(self, article: ArticleIn) -> dict[str, float]:
        """The rules' evidence for an article, as the classifier reads it (for training)."""
        fields = (
            _field("title", article.title[:MAX_TITLE_CHARS], self.rules.neutralize, self._finder),
            _field("text", article.text[:MAX_ANALYSED_CHARS], self.rules.neutralize, self._finder),
        )
        return self._rule_decisions(fields).rule_features

    def _decide(self, fields: Sequence[FieldText]) -> Decisions:
        """The rules' decisions, revised by the trained classifier when there is one."""
        by_rules = self._rule_decisions(fields)
        if self.classifier is None:
            return by_rules
        title, text = fields
        prediction = self.classifier.predict(
            title.original, text.original, by_rules.rule_features, by_rules.scores
        )
        probability = prediction.probabilities
        relevance = prediction.relevance()
        categories: list[Category] = []
        groups: set[VictimGroup] = set()
        if (
            relevance == "none"
            and by_rules.relevance != "none"
            and self._trafficking_headline(title)
        ):
            # The classifier has no trafficking article without a case to learn from (the
            # task force's own news: meetings, a new unit, warnings); where a headline
            # names trafficking and the rules find the article relevant, it is kept as
            # `aggregate` (not a case: the incident head said no). `trafficking_headlines`
            # in the rules file.
            relevance = "aggregate"
        if relevance != "none":
            categories = [c for c in CATEGORIES if prediction.says(c)]
            for key in (*categories, "topic"):
                groups |= by_rules.groups_near.get(key, set())
        # `incident` is P(incident); `aggregate` is P(relevant) x P(aggregate | relevant)
        # (two calibrated heads). A form's score is P(form | relevant). An incident needs
        # P(incident) over its recall-leaning threshold and `incident_given_relevant` over
        # one half: an article with violence words that reads, given that it is relevant,
        # as cases in general is an aggregate.
        scores: dict[str, float] = {
            "incident": probability["incident"],
            "aggregate": probability["relevant"] * (1.0 - probability["incident_given_relevant"]),
            "relevant": probability["relevant"],
            "incident_given_relevant": probability["incident_given_relevant"],
            **{c: probability[c] for c in CATEGORIES},
        }
        return Decisions(
            relevance,
            categories,
            sorted(groups),
            scores,
            by_rules.rule_features,
            by_rules.groups_near,
        )

    def _trafficking_headline(self, title: FieldText) -> bool:
        return bool(self.rules.trafficking_headlines.find(title.lowered, title.index))

    def _rule_decisions(self, fields: Sequence[FieldText]) -> Decisions:
        rules, s = self.rules, self.rules.scoring
        cue_index = {field.name: self._victim_cues(field) for field in fields}

        def evidence(patterns: PatternSet, use_cue_text: bool = False) -> Evidence:
            title, text = fields
            return Evidence(
                patterns.find(title.cue_text if use_cue_text else title.lowered, title.index),
                patterns.find(text.cue_text if use_cue_text else text.lowered, text.index),
            )

        def victims_near(found: Evidence) -> set[VictimGroup]:
            """Victim groups within victim_window of the hits, in the same field."""
            near: set[VictimGroup] = set()
            for field in fields:
                index = cue_index[field.name]
                for hit in found.in_field(field.name):
                    near.update(c.group for c in index.near(hit.start, hit.end, s.victim_window))
            return near

        margins: dict[str, float] = {}
        groups_seen: set[VictimGroup] = set()
        groups_near: dict[str, set[VictimGroup]] = {}
        for category in CATEGORIES:
            weighted = rules.categories[category]
            found = evidence(weighted.patterns)
            score = _weighted_score(found.title, found.text, weighted.weights, s)
            margin = score - s.category_threshold
            near = victims_near(found) if found else set()
            if rules.needs_victim_cue[category] and not near:
                margin = min(margin, _FAILED_CONDITION_MARGIN)
            if margin >= 0:
                groups_seen |= near
            margins[category] = margin
            groups_near[category] = near

        topic_found = evidence(rules.topic.patterns, use_cue_text=True)
        topic_score = _weighted_score(topic_found.title, topic_found.text, rules.topic.weights, s)
        topic_near = victims_near(topic_found) if topic_found else set()
        topic_margin = topic_score - s.topic_threshold
        if not topic_near:
            topic_margin = min(topic_margin, _FAILED_CONDITION_MARGIN)
        elif topic_margin >= 0:
            groups_seen |= topic_near
        groups_near["topic"] = topic_near

        relevant_margin = max(topic_margin, *(margins[c] for c in CATEGORIES))
        incident_score = self._cue_score(rules.incident_cues, fields)
        if _names_a_person_with_age(fields):
            incident_score += s.specific_person_bonus
        aggregate_score = self._cue_score(rules.aggregate_cues, fields)
        incident_margin = incident_score - s.incident_threshold
        incident_margin -= s.aggregate_penalty * aggregate_score

        relevance: Relevance = "none"
        if relevant_margin >= 0:
            relevance = "incident" if incident_margin >= 0 else "aggregate"
        categories = [c for c in CATEGORIES if margins[c] >= 0] if relevance != "none" else []
        victim_groups = sorted(groups_seen) if relevance != "none" else []

        slope = s.score_slope
        scores = {
            "incident": _sigmoid(slope * min(relevant_margin, incident_margin)),
            "aggregate": _sigmoid(slope * min(relevant_margin, -incident_margin)),
            # For a classifier whose `relevant` head leaves the decision to the rules.
            "relevant": _sigmoid(slope * relevant_margin),
        }
        scores.update({c: _sigmoid(slope * margins[c]) for c in CATEGORIES})
        # A yes/no of the rules counts as a strong margin (tanh(8 / 4) = 0.96).
        rule_features = {
            **{f"margin:{c}": margins[c] for c in CATEGORIES},
            "margin:topic": topic_margin,
            "margin:relevant": relevant_margin,
            "margin:incident": incident_margin,
            "rule:relevant": 8.0 if relevance != "none" else -8.0,
            "rule:incident": 8.0 if relevance == "incident" else -8.0,
        }
        return Decisions(relevance, categories, victim_groups, scores, rule_features, groups_near)

    def _cue_score(self, weighted: WeightedSet, fields: Sequence[FieldText]) -> float:
        title, text = fields
        return _weighted_score(
            weighted.patterns.find(title.lowered, title.index),
            weighted.patterns.find(text.lowered, text.index),
            weighted.weights,
            self.rules.scoring,
        )

    # -- perpetrators --------------------------------------------------------------------

    def _relation(
        self, fields: Sequence[FieldText], categories: Sequence[Category]
    ) -> tuple[Relation | None, bool]:
        """The perpetrator relation with the most evidence, or None below the threshold;
        and whether a household member (`household` words of that relation: a nanny, a
        maid) is named as the perpetrator.

        Ties go to the relation listed first in the rules (keluarga before kenalan ...).
        Where no relation word reaches the threshold, the kind of case may decide
        (`undecided_relation_cues`: a bullying case is kenalan, its perpetrators are the
        victim's peers); else a trafficking case is sindikat (train split, seventh session:
        relation 190 -> 194 of 293).
        """
        rules = self.rules
        s = rules.scoring
        window = rules.context_window
        scores: dict[Relation, float] = dict.fromkeys(rules.relation_of_word, 0.0)
        context_free_hits: dict[Relation, float] = {}
        household_member: set[Relation] = set()
        for field in fields:
            weight = s.title_weight if field.name == "title" else 1.0
            text, index = field.lowered, field.index
            passive = list(rules.passive_context.matches(text, index))
            passive_ends = sorted(m.end() for m in passive)
            # 'sang kakak dicabuli', 'adiknya dicabuli': the subject of a passive verb is a
            # victim, whatever else stands near it.
            suffered_starts = sorted(m.start() for m in passive if _PASSIVE_VERB.match(m.group()))
            active = [(m.start(), m.end()) for m in rules.active_context.matches(text, index)]
            active_starts = sorted(start for start, _ in active)
            active_ends = sorted(end for _, end in active)
            for hit in rules.relation_words.find(text, index):
                relation = rules.relation_of_word[hit.index]
                if _STATISTIC_AFTER.match(text, hit.end) or _precedes(
                    suffered_starts, hit.end, 1, text
                ):
                    continue
                if relation in rules.context_free_relations:
                    context_free_hits[relation] = context_free_hits.get(relation, 0.0) + weight
                elif (
                    _follows(passive_ends, hit.start, window, text)
                    or _precedes(active_starts, hit.end, window, text)
                    # "menganiaya istrinya": the victim's relation to the perpetrator;
                    # not "membunuh ibu korban", another victim's relation to the first.
                    or (
                        _follows(active_ends, hit.start, window // 3, text)
                        and not _VICTIMS_RELATIVE.match(text, hit.end)
                    )
                ):
                    scores[relation] += 2.0 * weight
                    if hit.index in rules.household_words:
                        household_member.add(relation)
        trafficking_like = bool({"tppo", "eksploitasi"} & set(categories))
        for relation, hits in context_free_hits.items():
            # Calo, mucikari and sponsors are perpetrators in trafficking and exploitation
            # stories; strangers ("orang tak dikenal") in any story.
            if relation != "sindikat" or trafficking_like:
                scores[relation] += 1.5 * min(hits, float(s.max_hits_per_pattern))
        best = max(scores, key=lambda r: scores[r], default=None)
        if best is None or scores[best] < s.relation_threshold:
            # No relation word decides; the kind of case may (bullying is done by the
            # victim's peers), in the order the rules list them.
            for relation, cues in rules.undecided_relation_cues:
                if any(cues.find(f.lowered, f.index) for f in fields):
                    return relation, False
            # Whoever trafficks a person is a trafficker: the contract's `sindikat`
            # ("trafficker, agent, calo, sponsor, mucikari").
            if "tppo" in categories:
                return "sindikat", False
            return None, False
        return best, best in household_member

    def _domestic(
        self, fields: Sequence[FieldText], relation: Relation | None, household: bool = False
    ) -> bool | None:
        if household or relation in ("keluarga", "pasangan"):
            return True
        if any(self.rules.domestic_cues.find(field.lowered, field.index) for field in fields):
            return True
        if relation is not None:
            return False
        return None

    def _perpetrator_count(self, fields: Sequence[FieldText]) -> int | None:
        """'dua pelaku', '2 mucikari', 'kedua tersangka'; else the persons named after
        'pelaku berinisial'."""
        for field in fields:
            for hit in self.rules.perpetrator_nouns.find(field.lowered, field.index):
                found = _count_before(field.lowered, _skip_orang(field.lowered, hit.start))
                if found is not None:
                    return found[1]
        for field in fields:
            named = _PERPETRATOR_NAMED.first(field.lowered, field.index)
            if named:
                return len(_named_list(field.original, named.end())) or None
        return None

    # -- victims -----------------------------------------------------------------------

    def _victims(self, fields: Sequence[FieldText]) -> Victims:
        """Victims of the reported case: the title's count, else the first count in the
        body that is not a statistic, else the persons named after "korban", else one
        victim when a victim noun is followed by an age ("Bocah 7 Tahun Dianiaya"), else
        one victim when nothing speaks of several (the taxonomy: 1 when the article
        plainly describes a single victim), else unknown."""
        for field in fields:
            counts = sorted(self._victim_counts(field), key=lambda found: found[0])
            for position, victims in counts:
                if not self._is_statistic(field.lowered, position):
                    return victims
        named = self._named_victims(fields)
        if named is not None:
            return named
        for field in fields:
            single = self._single_victim_with_age(field)
            if single is not None:
                return single
        if not any(self.rules.plural_victims.find(f.lowered, f.index) for f in fields):
            return Victims(count=1)
        return Victims()

    def _named_victims(self, fields: Sequence[FieldText]) -> Victims | None:
        """'korban berinisial M (14)', 'korban, AS (12) dan RH (10)'; else persons with
        their ages named right after the act ('perundungan terhadap FF (14)')."""
        for field in fields:
            introduction = _VICTIM_NAMED.first(field.lowered, field.index)
            if not introduction:
                continue
            named = _named_list(field.original, introduction.end())
            if named:
                return self._named_count(named)
        for field in fields:
            for act in self.rules.victims_named_after.matches(field.lowered, field.index):
                named = _named_list(field.original, act.end())
                if named and all(age is not None for _, _, age in named):
                    return self._named_count(named)
        return None

    def _named_count(self, named: Sequence[tuple[int, int, int | None]]) -> Victims:
        ages = [age for _, _, age in named]
        children = None
        if all(age is not None for age in ages):
            limit = self.rules.scoring.max_child_age
            children = sum(1 for age in ages if age is not None and age <= limit)
        return Victims(count=len(named), children=children, female=None)

    def _single_victim_with_age(self, field: FieldText) -> Victims | None:
        """A victim noun in the singular followed by an age: 'Anak Usia 8 Tahun', 'bocah
        berusia 7 tahun', 'siswi (14)'. The article plainly describes one victim."""
        text = field.lowered
        limit = self.rules.scoring.max_child_age
        for hit in self.rules.victim_nouns.find(text, field.index):
            if "-" in text[hit.start : hit.end]:
                continue  # "anak-anak": plural
            age_match = _AGE_AFTER_NOUN.match(text, hit.end)
            if age_match is None:
                continue
            age = parse_number(age_match.group("bracketed") or age_match.group("age") or "")
            if age is None:
                continue
            child, female = self.rules.victim_noun_flags[hit.index]
            return Victims(
                count=1,
                children=1 if child or age <= limit else 0,
                female=1 if female else None,
            )
        return None

    def _victim_counts(self, field: FieldText) -> Iterator[tuple[int, Victims]]:
        """Counts written with a victim noun, at the position of their number:
        '22 orang PMI', 'dua korban', 'korban sebanyak 5 orang', '3 orang jadi korban'; and
        a wife with her children after a violent act ('aniaya istri dan anak': 2)."""
        text = field.lowered
        for act in self.rules.active_context.matches(text, field.index):
            family = _WIFE_AND_CHILDREN_AFTER.match(text, act.end())
            if family:
                children = parse_number(family.group("number") or "") or 1
                yield family.start("wife"), Victims(count=1 + children, children=children)
        for hit in self.rules.victim_nouns.find(text, field.index):
            child, female = self.rules.victim_noun_flags[hit.index]
            if self.rules.perpetrators_after_count.match(text, hit.end):
                continue  # '2 Siswa Pelaku Bully', 'lima remaja ditangkap'
            found = _count_before(text, _skip_orang(text, hit.start))
            if found is None:
                amount = _AMOUNT_AFTER_NOUN.match(text, hit.end)
                value = parse_number(amount.group("number")) if amount else None
                if amount and value and _plausible_count(value):
                    found = amount.start("number"), value
            if found is None:
                became = _BECAME_VICTIM_BEFORE.search(text, max(0, hit.start - 40), hit.start)
                if became:
                    found = _count_before(text, became.start())
            if found is not None:
                position, count = found
                if self.rules.perpetrators_before_count.search(
                    text, max(0, position - 40), position
                ):
                    continue  # 'menetapkan dua siswa sebagai tersangka', 'oleh empat perempuan'
                yield (
                    position,
                    Victims(
                        count=count,
                        children=count if child else None,
                        female=count if female else None,
                    ),
                )

    def _is_statistic(self, text: str, position: int) -> bool:
        """Is the number at `position` a statistic, or a parent's number of children?"""
        before = text[max(0, position - 60) : position]
        after = text[position : position + 80]
        return bool(
            _PARENT_OF_COUNT.search(before)
            or self.rules.statistic_context.search(before + " " + after)
        )


# --------------------------------------------------------------------------------------
# Helpers (pure functions)
# --------------------------------------------------------------------------------------


def _language(title: str, text: str, declared: str | None) -> str:
    detected = detect_language(f"{title}\n{text}")
    if detected == "und" and declared:
        return declared
    return detected


def _is_indonesian(language: str) -> bool:
    """Tag Indonesian, and text too short to tell (the rules only match Indonesian)."""
    primary = language.split("-")[0].lower()
    return primary in ("id", "in", "und")


def _names_a_person_with_age(fields: Sequence[FieldText]) -> bool:
    """A name or initial with an age in brackets ('M (14)') is a specific person: a case."""
    return any(
        match.group("who").lower().rstrip(".") not in _NOT_A_PERSON_BEFORE_BRACKETS
        for field in fields
        for match in AGE_IN_BRACKETS.matches(field.original, field.index)
    )


# After a kinship word: it names the victim's relative ("ibu korban"), not the perpetrator's.
_VICTIMS_RELATIVE: Final = re.compile(r"\s+(?:korban|para korban|kedua korban)(?!\w)")
# A passive verb alone ("dicabuli"; not "dilakukan oleh"), as the passive context matched it.
_PASSIVE_VERB: Final = re.compile(r"(?:di|ter)(?!lakukan)\w+$")
# After a relation word: a line of statistics ("orang tua sebanyak 73 kasus", "pacar/teman
# 65 kasus", "orang tak dikenal atau NA 44 kasus"), not who did this case.
_STATISTIC_AFTER: Final = re.compile(
    r"(?:\s*/\s*\w+)?(?:\s+atau\s+\w+)?\s*(?:sebanyak\s+)?\d[\d.,]*\s*(?:kasus|persen|%)"
)


def _follows(sorted_ends: Sequence[int], position: int, window: int, text: str) -> bool:
    """Does a match end within `window` characters before `position`, same sentence?"""
    i = bisect.bisect_right(sorted_ends, position) - 1
    if i < 0:
        return False
    end = sorted_ends[i]
    return position - end <= window and not _SENTENCE_BREAK.search(text, end, position)


def _precedes(sorted_starts: Sequence[int], position: int, window: int, text: str) -> bool:
    """Does a match start within `window` characters after `position`, same sentence?"""
    i = bisect.bisect_left(sorted_starts, position)
    if i >= len(sorted_starts):
        return False
    start = sorted_starts[i]
    return start - position <= window and not _SENTENCE_BREAK.search(text, position, start)


def _count_before(text: str, end: int) -> tuple[int, int] | None:
    """A plausible count written just before `end`: (start of the number, value)."""
    found = number_before(text, end)
    if found is None:
        return None
    start, value = found
    if not _plausible_count(value) or _NOT_A_COUNT_AFTER.search(text, max(0, start - 12), start):
        return None
    return found


def _plausible_count(value: int) -> bool:
    """Not zero, not a statistic-sized number, not a year ('2022 korban' is 'in 2022')."""
    return 0 < value <= MAX_PLAUSIBLE_COUNT and not 1900 <= value <= 2100


def _skip_orang(text: str, noun_start: int) -> int:
    """Where the number before a noun must end: before 'orang' in '22 orang PMI'."""
    found = _ORANG_BEFORE.search(text, max(0, noun_start - 8), noun_start)
    return found.start() if found else noun_start


def _named_list(text: str, position: int) -> list[tuple[int, int, int | None]]:
    """Initials or names listed from `position`: 'AS (30) dan RH (28)' -> spans and ages."""
    named: list[tuple[int, int, int | None]] = []
    while len(named) < 8:
        match = _INITIALS.match(text, position) or _NAME.match(text, position)
        if match is None:
            break
        age_match = _AGE_AFTER_NAME.match(text, match.end())
        age = int(age_match.group("age")) if age_match else None
        named.append((match.start(), match.end(), age))
        position = age_match.end() if age_match else match.end()
        separator = _LIST_SEPARATOR.match(text, position)
        if separator is None or separator.end() == position:
            break
        position = separator.end()
    return named


def parse_published(published: str | None) -> date | None:
    """The local publication date of an ISO 8601 date or date-time (its own offset); None
    when there is none or it is not ISO 8601 (days without a date then stay unresolved)."""
    if not published:
        return None
    value = published.strip()
    try:
        return datetime.fromisoformat(value).date()
    except ValueError:
        pass
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class DateMention:
    start: int
    end: int
    value: date | None  # None when it cannot be resolved (no publication date, bad day)
    relative: bool = False  # a day named without its date: "Senin", "kemarin"


def _date_mentions(field: FieldText, published: date | None) -> list[DateMention]:
    """Every date-like mention in a field, resolved against the publication date."""
    mentions: list[DateMention] = []
    original, lowered, index = field.original, field.lowered, field.index
    for match in NUMERIC_DATE.matches(lowered, index):
        value = _resolve_day(
            int(match.group("d")),
            int(match.group("m")),
            match.group("y"),
            published,
            _weekday_of(match),
        )
        mentions.append(DateMention(match.start(), match.end(), value))
    for match in DAY_RANGE_DATE.matches(lowered, index):
        month = MONTHS[match.group("mon").lower()]
        value = _resolve_day(int(match.group("d")), month, match.group("y"), published)
        mentions.append(DateMention(match.start(), match.end(), value))
    for match in LONG_DATE.matches(lowered, index):
        month = MONTHS[match.group("mon").lower()]
        value = _resolve_day(
            int(match.group("d")), month, match.group("y"), published, _weekday_of(match)
        )
        mentions.append(DateMention(match.start(), match.end(), value))
    for match in BARE_WEEKDAY.matches(original, index):
        weekday = WEEKDAYS[(match.group("wd") or match.group("wd2")).lower()]
        value = None
        if published is not None:
            value = published - timedelta(days=(published.weekday() - weekday) % 7)
        mentions.append(DateMention(match.start(), match.end(), value, relative=True))
    for match in YESTERDAY.matches(lowered, index):
        days_back = 2 if "lusa" in match.group() else 1
        value = published - timedelta(days=days_back) if published else None
        mentions.append(DateMention(match.start(), match.end(), value, relative=True))
    kept: list[DateMention] = []
    for mention in sorted(mentions, key=lambda m: (m.start, m.start - m.end)):
        if not kept or mention.start >= kept[-1].end:
            kept.append(mention)
    return kept


def _weekday_of(match: re.Match[str]) -> int | None:
    weekday = match.group("wd")
    return WEEKDAYS[weekday.lower()] if weekday else None


def _resolve_day(
    day: int,
    month: int,
    year_text: str | None,
    published: date | None,
    weekday: int | None = None,
) -> date | None:
    """A day and month, with the year written or else the latest one not after publication;
    but a day still to come in the publication's week or month when its weekday says so
    ("sidang digelar Senin (23/11)" in an article of Friday 20/11: that Monday, not a
    Sunday a year before)."""
    if year_text:
        year = int(year_text)
        if year < 100:
            year += 2000
        try:
            return date(year, month, day)
        except ValueError:
            return None
    if published is None:
        return None
    try:
        value = date(published.year, month, day)
    except ValueError:
        value = None
    if value is None or value > published:
        if value is not None and weekday is not None and value.weekday() == weekday:
            return value
        try:
            value = date(published.year - 1, month, day)
        except ValueError:  # 31/11, or 29/2 of no leap year
            return None
    return value


_STATEMENT_CLAUSE_CHARS: Final = 160


def _clause_before(lowered: str, start: int, chars: int) -> str:
    """Up to `chars` characters before `start`, cut at the last sentence break."""
    clause_start = max(0, start - chars)
    for boundary in _SENTENCE_BREAK.finditer(lowered, clause_start, start):
        clause_start = boundary.end()
    return lowered[clause_start:start]


def _is_statement_date(lowered: str, start: int) -> bool:
    """Is the date at `start` the day someone spoke ("…," ujar Kepala Polres Pelabuhan
    Belawan AKBP Janton Silaban di Medan, Rabu (27/3/2024))? A statement word earlier in
    the sentence, with no event word between it and the date ("Kapolres mengatakan, korban
    dicabuli pada Senin (13/11)" is the day of the act)."""
    clause = _clause_before(lowered, start, _STATEMENT_CLAUSE_CHARS)
    said = [match.end() for match in _DATE_STATEMENT_CONTEXT.finditer(clause)]
    return bool(said) and not _DATE_EVENT_CONTEXT.search(clause, said[-1])


# How far before a date an event word may stand ("peristiwa itu terjadi di rumah korban di
# Jalan Galang, Kecamatan Lubuk Pakam, Rabu (3/1/2024)"), within its sentence; and the score
# a date needs to be the incident's: an event word's, with nothing against it.
_DATE_EVENT_WINDOW: Final = 120
_DATE_PROCEDURE_WINDOW: Final = 60
_INCIDENT_DATE_MIN_SCORE: Final = 2.0


def _incident_date(
    fields: Sequence[FieldText],
    published: date | None,
    acts: Sequence[re.Pattern[str]] = (),
) -> str | None:
    """The date the case happened: the best-placed resolved date not after publication
    that an event word ties to the act ("terjadi pada", "dicabuli pada"; `acts`: the
    rules' violent verbs, "Ia mencabuli siswi … pada 17 Oktober"), else None.

    Dates of statements ("kata Kapolres, Kamis (14/12)") and of the procedure (a trial, an
    arrest, a report, a reconstruction) lose. A date no event word ties to the act is not
    taken for the incident's: on the train split those were mostly a statement's, an
    arrest's or a follow-up's day where the annotators gave none (seventh session: 232 ->
    266 of 333; wrong dates 83 -> 36, missing ones 18 -> 31). A day named without its date
    ("Senin", "kemarin") needs a second sign besides the event word: a time of day
    ("kemarin sore"), "pada", or "lalu"/"silam" after it (a past act's), each of which
    also favours a dated mention.
    """
    best: tuple[float, int, date] | None = None
    for order, field in enumerate(fields):
        for mention in _date_mentions(field, published):
            if mention.value is None or (published is not None and mention.value > published):
                continue
            before = _clause_before(field.lowered, mention.start, _DATE_EVENT_WINDOW)
            left = field.lowered[max(0, mention.start - _DATE_PROCEDURE_WINDOW) : mention.start]
            score = 0.0
            if _DATE_EVENT_CONTEXT.search(before) or any(a.search(before) for a in acts):
                score += 2.0
            if _is_statement_date(field.lowered, mention.start):
                score -= 3.0
            if _DATE_PROCEDURE_CONTEXT.search(left):
                score -= 2.0
            if mention.relative:
                score -= 1.0
            if _DATE_PAST_AFTER.match(field.lowered, mention.end):
                score += 1.0
            if _DATE_TIME_OF_DAY_AFTER.match(field.lowered, mention.end):
                score += 1.0
            narrated_from = max(0, mention.start - 14)
            if _DATE_NARRATED_BEFORE.search(field.lowered, narrated_from, mention.start):
                score += 1.0
            position = order * (MAX_ANALYSED_CHARS + MAX_TITLE_CHARS) + mention.start
            if best is None or (score, -position) > best[:2]:
                best = (score, -position, mention.value)
    if best is None or best[0] < _INCIDENT_DATE_MIN_SCORE:
        return None
    return best[2].isoformat()


def _entities(
    fields: Sequence[FieldText],
    locations: Sequence[LocationMention],
    ner: Recognizer | None = None,
    not_name_words: frozenset[str] = frozenset(),
) -> list[Entity]:
    """Rule entities plus the NER model's where no rule span overlaps them (see
    nlp.ner.with_model_spans), offsets into their field; overlapping rules keep the longer.
    The model's PERSON spans are cleaned of words that are never names (`_person_span`)."""
    location_patterns = _location_patterns(locations)
    place_codes = frozenset(location.code for location in locations if location.code)
    entities: list[Entity] = []
    for field in fields:
        found = list(_entity_spans(field, location_patterns))
        if ner is not None:
            from_rules = set(found)
            found = [
                cleaned
                for span in with_model_spans(field.original, found, ner)
                if (
                    cleaned := span
                    if span in from_rules or span[2] != "PERSON"
                    else _person_span(field.original, span, not_name_words, place_codes)
                )
                is not None
            ]
        spans = sorted(found, key=_leftmost_longest)
        last_end = -1
        for start, end, label in spans:
            if start < last_end:
                continue
            last_end = end
            entities.append(
                Entity(
                    field=field.name,
                    start=start,
                    end=end,
                    label=label,
                    text=field.original[start:end],
                )
            )
    return entities


# Evidence this close to a name is about that person ('AD (28) mengalami luka setelah
# dipukul'), not about the sentence in general.
_RIGHT_BEFORE_CHARS: Final = 25
_RIGHT_AFTER_CHARS: Final = 40
_SPAN_WORD: Final = re.compile(r"[^\s,;:()\"“”]+")
_DERIVED_PREFIXES: Final = ("di", "ter", "ber", "me", "pe", "ke", "se")
_DERIVED_SUFFIXES: Final = ("kan", "an", "i")
_VERB_PREFIXES: Final = ("di", "ter", "ber", "me")


def _person_span(
    text: str,
    span: tuple[int, int, EntityLabel],
    not_name_words: frozenset[str],
    place_codes: frozenset[str] = frozenset(),
) -> tuple[int, int, EntityLabel] | None:
    """A PERSON span of the NER model cleaned of what is not a name, or None when nothing
    of a name is left. On title-case headlines the model runs names into the predicate
    ('Lily Dibunuh' -> 'Lily': the span ends before a verb) and takes common words for
    names: words that are never names are trimmed off the front ('Kapolres AKBP Budi' ->
    'Budi'), and a span that still holds one is dropped ('Gugus Tugas', 'Lentera Anak',
    'Jual Remaja'), as is a span without a capital letter, or a place the article names
    ('Kotabaru').

    Only the model's spans are cleaned: the rules' ('berinisial SP') are names by
    construction. Dropping a real name would unmask it, so the word list holds no word
    that is also a given name, and a derived word counts only with a prefix, a suffix and
    a known root ('Dimulai', 'Pencegahan'; not 'Diana')."""
    start, end, label = span
    words = [(start + m.start(), start + m.end()) for m in _SPAN_WORD.finditer(text[start:end])]

    def word_at(word: tuple[int, int]) -> str:
        return text[word[0] : word[1]].strip(".'’-").lower()

    def never_a_name(word: tuple[int, int]) -> bool:
        lowered = word_at(word)
        return lowered in not_name_words or _derived_word(lowered)

    def is_predicate(word: tuple[int, int]) -> bool:
        return word_at(word).startswith(_VERB_PREFIXES) and never_a_name(word)

    for n, word in enumerate(words[1:], start=1):
        if is_predicate(word):
            words = words[:n]
            break
    while words and never_a_name(words[0]):
        words.pop(0)
    # Trailing numbers and punctuation ('M (60').
    while words and not any(character.isalpha() for character in word_at(words[-1])):
        words.pop()
    if not words or any(never_a_name(word) for word in words):
        return None
    new_start, new_end = words[0][0], words[-1][1]
    name = text[new_start:new_end]
    if not any(character.isupper() for character in name):
        return None
    # A place this article is about ('Kecamatan Jambi Selatan, Alam Barajo, dan Kotabaru');
    # a place name elsewhere in the country may be a given name ('Guntur').
    if any(place.code in place_codes for place in load_gazetteer().by_name(name)):
        return None
    return new_start, new_end, label


def _derived_word(word: str) -> bool:
    """An affixed verb or noun ('dimulai', 'dilaporkan', 'pencegahan'): prefix + known
    root of four letters or more + suffix, so that names such as 'Diana' stay names."""
    if not word.isalpha() or not word.startswith(_DERIVED_PREFIXES):
        return False
    if not word.endswith(_DERIVED_SUFFIXES):
        return False
    root = stem(word)
    return root != word and len(root) >= 4 and len(word) - len(root) >= 3 and root in root_words()


def _with_person_roles(
    entities: Sequence[Entity],
    fields: Sequence[FieldText],
    roles: PersonRoleRules,
    relation: Relation | None = None,
    no_case: bool = False,
) -> list[Entity]:
    """PERSON entities with their role in the case; other entities as they are.

    A person keeps one role through the article: once a mention is a victim ("TKW Lily",
    "korban berinisial S"), every other mention of that name is too ("kata Mahrus, suami
    Lily"; "Dini" after "Dini Sri Wahyuni"), so that masking misses none of them. Victim
    wins over perpetrator, perpetrator over other.

    `no_case`: the article surely reports no specific case (`aggregate`: statistics,
    policy; or `none`) with P(incident) below `strict_roles_below`. Such an article names
    officials, experts and people of other stories: there a person is a victim or a
    perpetrator only with evidence right at the name ("korban bernama X", "X (14), korban
    pencabulan", "X selaku mucikari"), not from the words of the sentence. An article the
    classifier is unsure about keeps the sentence-level roles: a missed incident must not
    unmask its victim."""
    originals = {field.name: field.original for field in fields}
    known_relative = relation in ("keluarga", "pasangan", "kenalan")
    strict = no_case
    found: dict[int, PersonRole] = {}
    for i, e in enumerate(entities):
        if e.label != "PERSON":
            continue
        role, local = _person_role(
            originals[e.field], e.start, e.end, roles, known_relative, no_case=strict
        )
        found[i] = role if local or not strict else "other"
    for role in ("victim", "perpetrator"):
        names = [_name_keys(entities[i].text) for i, r in found.items() if r == role]
        for i, current in found.items():
            if current == "other" or (role == "victim" and current == "perpetrator"):
                keys = _name_keys(entities[i].text)
                if any(keys & name for name in names):
                    found[i] = role
    return [
        entity.model_copy(update={"role": found[i]}) if i in found else entity
        for i, entity in enumerate(entities)
    ]


def _name_keys(name: str) -> set[str]:
    """What identifies a person across mentions: the whole name, and each word of three
    letters or more of a written-out name ("Dini Sri Wahyuni" -> dini, wahyuni); initials
    ("AS") only as a whole."""
    words = name.lower().split()
    keys = {" ".join(words)}
    if not name.isupper():
        keys |= {word for word in words if len(word) >= 3}
    return keys


def _person_role(
    text: str,
    start: int,
    end: int,
    roles: PersonRoleRules,
    relative_did_it: bool = False,
    no_case: bool = False,
) -> tuple[PersonRole, bool]:
    """The role of the person named at text[start:end] (rules: person_roles in the YAML),
    and whether the evidence is right at the name (what follows it, or a victim or
    perpetrator word just before it) rather than elsewhere in the sentence.
    `relative_did_it`: the article's perpetrator is a relative, partner or acquaintance."""
    sentence_start = 0
    for boundary in _SENTENCE_BREAK.finditer(text, max(0, start - 400), start):
        sentence_start = boundary.end()
    following = _SENTENCE_BREAK.search(text, end)
    sentence_end = following.start() if following else len(text)
    after = text[end:sentence_end]
    if roles.after_perpetrator.match(after):
        return "perpetrator", True
    if roles.after_victim.match(after):
        return "victim", True
    before = text[max(sentence_start, start - roles.window) : start]
    nearest: re.Match[str] | None = None
    for match in roles.before.finditer(before):
        nearest = match
    sentence = text[sentence_start:sentence_end]
    # 'korban berinisial X', but not 'ayah tiri korban berinisial X' (kin, below).
    if (nearest is None or nearest.lastgroup != "kin") and roles.victim_right_before.search(before):
        return "victim", True
    if nearest is not None:
        kind = nearest.lastgroup
        if kind == "kin":
            # 'suaminya berinisial BS' is at the name; 'ayah korban ... kata X' is not.
            at_name = len(before) - nearest.end() <= _RIGHT_BEFORE_CHARS
            if roles.perpetrator_in_sentence.search(sentence) or roles.passive_violence.search(
                sentence
            ):
                return "perpetrator", at_name
            if relative_did_it and not roles.reporter_in_sentence.search(sentence):
                return "perpetrator", at_name
            return "other", True
        if kind == "victim":
            return "victim", False
        if kind == "perpetrator":
            # 'tersangka berinisial X' is at the name; 'pelaku ... kata X' is not.
            return "perpetrator", len(before) - nearest.end() <= _RIGHT_BEFORE_CHARS
        if kind == "other":
            return "other", True
    # In an article without a case, whoever speaks right after the name ("Novita
    # menjelaskan, korban ...") is a source, not the one the sentence is about. In a case
    # report the victim may be the one who speaks: there the sentence still counts.
    if no_case and roles.speech_after.match(after):
        return "other", True
    # What the person does or undergoes next: "AM (51) ... ditangkap polisi karena diduga
    # mencabuli tiga murid" (perpetrator), "AD (28) mengalami luka setelah dipukul" (victim).
    firsts = [
        (found.start(), role)
        for pattern, role in (
            (roles.perpetrator_in_sentence, "perpetrator"),
            (roles.passive_violence, "victim"),
            (roles.victim_in_sentence, "victim_noun"),
        )
        if (found := pattern.search(after)) is not None
    ]
    if firsts:
        position, kind = min(firsts)
        # What the person undergoes or is accused of right after the name is about them;
        # a victim noun ('Fahri Hamzah: KPAI urus anak jalanan') is not.
        at_name = position <= _RIGHT_AFTER_CHARS and kind != "victim_noun"
        return ("perpetrator" if kind == "perpetrator" else "victim"), at_name
    has_victim = bool(
        roles.victim_in_sentence.search(sentence) or roles.passive_violence.search(sentence)
    )
    has_perpetrator = bool(roles.perpetrator_in_sentence.search(sentence))
    if has_victim and not has_perpetrator:
        return "victim", False
    if has_perpetrator and not has_victim:
        return "perpetrator", False
    return "other", False


def _leftmost_longest(span: tuple[int, int, EntityLabel]) -> tuple[int, int]:
    return span[0], span[0] - span[1]


def _entity_spans(
    field: FieldText, location_patterns: re.Pattern[str] | None
) -> Iterator[tuple[int, int, EntityLabel]]:
    original, lowered, index = field.original, field.lowered, field.index
    for match in QUANTITY_MONEY.matches(lowered, index):
        yield match.start(), match.end(), "QUANTITY"
    for match in QUANTITY_UNIT.matches(lowered, index):
        found = _count_before(lowered, match.start())
        if found is not None and lowered[found[0] : match.start()].strip() not in (
            _ARTICLE_NUMBERS
        ):
            yield found[0], match.end(), "QUANTITY"
    for regex in (NUMERIC_DATE, LONG_DATE, CLOCK_TIME):
        for match in regex.matches(lowered, index):
            yield match.start(), match.end(), "TIME"
    for match in BARE_WEEKDAY.matches(original, index):
        yield match.start(), match.end(), "TIME"
    for intro in (_INITIALS_INTRO, _NAME_INTRO):
        for match in intro.matches(lowered, index):
            for start, end, _ in _named_list(original, match.end()):
                yield start, end, "PERSON"
    for match in ORGANIZATION.matches(original, index):
        yield match.start(), match.end(), "ORGANIZATION"
    if location_patterns is not None:
        for match in location_patterns.finditer(original):
            yield match.start(), match.end(), "LOCATION"


_REGION_PREFIX: Final = re.compile(r"^(?:Kota|Kabupaten|Kab\.|Provinsi|Kecamatan)\s+")


def _location_patterns(locations: Sequence[LocationMention]) -> re.Pattern[str] | None:
    """One regex for every written form of the places found ('Kabupaten Muaro Jambi' is
    also written 'Muaro Jambi')."""
    names: set[str] = set()
    for location in locations:
        names.add(location.name.strip())
        names.add(_REGION_PREFIX.sub("", location.name.strip()))
    names = {name for name in names if len(name) >= 3}
    if not names:
        return None
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


__all__ = [
    "BASE_VERSION",
    "DEFAULT_RULES_PATH",
    "TAGGER_NAME",
    "CompiledRules",
    "PatternSet",
    "RuleTagger",
    "RulesSpec",
    "TriggeredRegex",
    "compile_rules",
    "load_rules",
    "required_literals",
]
