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

from nlp.gazetteer import known_entity_names, load_gazetteer
from nlp.stemmer import root_words
from pantau.models import TaggedArticle

MASK = "[nama disamarkan]"
# Names shorter than this (initials such as "M") are masked only where the tagger found
# them, not wherever the letters occur, which would mangle ordinary words.
MIN_GLOBAL_NAME = 2


def names_to_mask(
    tagged: TaggedArticle, victim_names: Iterable[str] = (), title: str = "", text: str = ""
) -> set[str]:
    """Names never shown beyond an analyst's screen: those listed, every PERSON the tagger
    marked as a victim (`Entity.role`), every PERSON of an incident article about
    children (the taxonomy's rule), and in any incident (a case of a woman, a child or
    trafficking, by the taxonomy) the persons `protected_persons` adds (with
    `title`/`text`, also the untagged "Name (age)"). An incident here is also an
    aggregate that may report a case (`may_report_a_case`). Not in other aggregate
    articles: they name officials, and the NER's mistakes on title-case headlines
    ("Anak", "Gugus Tugas" taken for names) would be masked all through the text."""
    names = {name.strip() for name in victim_names if name.strip()}
    names |= {e.text.strip() for e in tagged.entities if e.label == "PERSON" and e.role == "victim"}
    if "anak" in tagged.victim_groups and may_report_a_case(tagged):
        names |= {e.text.strip() for e in tagged.entities if e.label == "PERSON"}
    names |= {name.strip() for name in protected_persons(title, text, tagged)}
    names = {name for name in names if name}
    if text and names:
        # A name the NER cut short ("Bintang [Balqis Maulana]") is masked whole, and each
        # of its words where the article uses one alone.
        names |= {text[start:end] for start, end in _widened_spans(text, tagged, names)}
    return names | _name_parts(names, tagged)


def may_report_a_case(tagged: TaggedArticle) -> bool:
    """Masked as a case: an incident, or an aggregate whose P(incident) passed the incident
    threshold (`ModelInfo.incident_threshold`): the tagger filed it as an aggregate because,
    given that it is relevant, it reads as cases in general. That decides how an article
    is filed, not whom masking protects: a missed victim's name cannot be taken back."""
    if tagged.relevance == "incident":
        return True
    threshold = tagged.model.incident_threshold
    return (
        tagged.relevance == "aggregate"
        and threshold is not None
        and tagged.scores.get("incident", 0.0) >= threshold
    )


def protected_persons(title: str, text: str, tagged: TaggedArticle) -> list[str]:
    """Persons protected beyond the tagged victims, in an incident (by the taxonomy a case
    with a woman or child victim, or trafficking, whether or not the tagger found the
    victim group): every PERSON the tagger did not tag as a perpetrator (victims it failed
    to recognise, often the subject of the story: a singer's own account of abuse), and
    names the NER did not tag, found by how news introduces a person: "Name (age)"
    (`aged_person_names`), initials next to a word for the victim (`victim_initials`), a
    name set off after one (`victim_appositions`), a name that "menjadi korban" in the body
    (`became_victims`), "bernama"/"alias Name" and "Name, warga"
    (`introduced_person_names`), and names the NER typed as a place or an organisation
    (`mistyped_person_names`); unless they name a tagged perpetrator (and where the tagger
    saw no victim at all, perpetrators too).
    Over-masking an official costs a reader little; a missed victim's name cannot be taken
    back (measured by `victim_name_exposure` in `pantau eval tag`)."""
    if not may_report_a_case(tagged):
        return []
    persons = [e for e in tagged.entities if e.label == "PERSON"]
    # Where the tagger found neither a victim group nor a person it calls a victim, it did
    # not see who the victims are, and its perpetrator roles are no safer: every person is
    # protected (a celebrity's own account of abuse, read as her accusing someone).
    trusted_roles = bool(tagged.victim_groups) or any(e.role == "victim" for e in persons)
    names = [e.text for e in persons if e.role != "perpetrator" or not trusted_roles]
    perpetrators = {_name_key(e.text) for e in persons if e.role == "perpetrator" and trusted_roles}
    both = f"{title}\n{text}"
    for name in [*aged_person_names(both), *victim_initials(both)]:
        # "AS (14)" is a person even where the NER took "AS" for a place (Amerika Serikat).
        if _name_key(name) not in perpetrators and name not in names:
            names.append(name)
    # Without an age the cues are weaker: a name set off after a victim word may be where
    # the victim lives ("anak di Kecamatan Mamajang, Makassar, …"), so not one that is
    # mostly a place the tagger resolved (initials are never a place: "ABP"); after
    # "bernama" or before ", warga", not one mostly a place or organisation the tagger
    # found either (the NER's ORG of a name set off after a victim word is often wrong:
    # "putra mereka, Shaquille Kaili Danuarta, …").
    regions = [location.name.split() for location in tagged.locations]
    entities = regions + [e.text.split() for e in tagged.entities if e.label != "PERSON"]
    for candidates, places in (
        (victim_appositions(both), regions),
        (became_victims(text), regions),
        (introduced_person_names(both), entities),
    ):
        for name in candidates:
            words = name.split()
            if (
                _name_key(name) not in perpetrators
                and name not in names
                and (name.isupper() or not any(_mostly_within(words, p) for p in places))
            ):
                names.append(name)
    for name in mistyped_person_names(tagged):
        if _name_key(name) not in perpetrators and name not in names:
            names.append(name)
    return names


# -- persons the NER typed as a place or an organisation ----------------------------------

# Words of an organisation's, a unit's or a facility's name: a place or organisation the
# NER found that holds one of them is what it says ("Polres Kerinci", "Stadion Maguwoharjo").
_INSTITUTION_WORDS = frozenset(
    [
        "polres",
        "polresta",
        "polrestabes",
        "polsek",
        "polda",
        "polri",
        "mapolres",
        "mapolresta",
        "mapolrestabes",
        "mapolsek",
        "mapolda",
        "mabes",
        "bareskrim",
        "satreskrim",
        "reskrim",
        "resmob",
        "densus",
        "brimob",
        "unit",
        "tim",
        "satgas",
        "kapolres",
        "kapolresta",
        "kapolsek",
        "kapolda",
        "kasat",
        "kanit",
        "kapendam",
        "kades",
        "kepala",
        "ketua",
        "dinas",
        "disdik",
        "dinsos",
        "dikbud",
        "kementerian",
        "pemkab",
        "pemkot",
        "pemprov",
        "pemerintah",
        "badan",
        "lembaga",
        "komisi",
        "komnas",
        "dewan",
        "majelis",
        "mahkamah",
        "pengadilan",
        "kejaksaan",
        "kejari",
        "kejati",
        "kejagung",
        "lapas",
        "rutan",
        "penjara",
        "kedutaan",
        "konsulat",
        "balai",
        "kantor",
        "pos",
        "posko",
        "rumah",
        "rs",
        "rsu",
        "rsud",
        "rsup",
        "puskesmas",
        "klinik",
        "universitas",
        "university",
        "institut",
        "kampus",
        "fakultas",
        "sekolah",
        "school",
        "sd",
        "sdn",
        "smp",
        "smpn",
        "sma",
        "sman",
        "smk",
        "smkn",
        "mts",
        "madrasah",
        "pondok",
        "ponpes",
        "pesantren",
        "panti",
        "yayasan",
        "pt",
        "cv",
        "bank",
        "hotel",
        "resort",
        "mal",
        "kafe",
        "cafe",
        "restoran",
        "pasar",
        "terminal",
        "stasiun",
        "bandara",
        "pelabuhan",
        "stadion",
        "lapangan",
        "gedung",
        "gereja",
        "katedral",
        "basilika",
        "masjid",
        "musala",
        "jalan",
        "jl",
        "gang",
        "desa",
        "kelurahan",
        "kecamatan",
        "kabupaten",
        "kota",
        "provinsi",
        "kampung",
        "kp",
        "dusun",
        "lingkungan",
        "afdeling",
        "perumahan",
        "komplek",
        "kompleks",
        "bukit",
        "gunung",
        "sungai",
        "pulau",
        "danau",
        "pantai",
        "taman",
        "negara",
        "bagian",
        "distrik",
        "partai",
        "organisasi",
        "forum",
        "komunitas",
        "karang",
        "taruna",
        "ikatan",
        "asosiasi",
        "persatuan",
        "himpunan",
        "serikat",
        "federasi",
        "fc",
        "club",
        "united",
        "entertainment",
        "news",
        "media",
        "tv",
        "radio",
        "koran",
        "harian",
        "post",
        "times",
        "daily",
        "the",
        "national",
        "international",
        "undang-undang",
        "uu",
        "pasal",
    ]
)


def mistyped_person_names(tagged: TaggedArticle) -> list[str]:
    """Places and organisations the NER found in the body of an article that may report a
    case that nothing shows to be one: the NER often types a person's name as a place or
    an organisation ("Shaquille" a place, "Tiga Setia Gara" and the initials "RJ" an
    organisation), and a missed victim's name cannot be taken back. Not a name of the
    gazetteer (regions, aliases, countries), nor one the shared NER sets label a place or
    organisation and never a person ("Amerika Serikat", "Juventus"), nor one holding an
    institution's word ("Polres Kerinci", "Stadion Maguwoharjo"), nor an acronym of three
    letters or more ("KPAI"), nor one of common words only ("Seleb", "Utang": a sentence
    that starts with a noun the NER took for a name). In order of first appearance."""
    if not may_report_a_case(tagged):
        return []
    gazetteer, known, common = load_gazetteer(), known_entity_names(), root_words()
    found: list[str] = []
    ordinary: list[str] = []  # words that are also common words or known places
    for entity in tagged.entities:
        name = entity.text.strip()
        if (
            entity.field != "text"
            or entity.label not in ("ORGANIZATION", "LOCATION")
            or name in found
            or not _NAME_SHAPE.fullmatch(name)
            or (len(name) >= 3 and name.isupper())
            or name in _NOT_INITIALS
        ):
            continue
        words = name.split()
        if any(word.casefold() in _INSTITUTION_WORDS for word in words):
            continue
        if all(
            word in known or word.casefold() in common or gazetteer.by_name(word)
            for word in words
            if word.casefold() not in _NAME_PARTICLES
        ):
            ordinary.append(name)
        elif name not in known and not gazetteer.by_name(name):
            found.append(name)
    # A common word is a name where the article uses it alone for a name it gives whole:
    # "Tiga" after "Tiga Setia Gara".
    words_of_names = {word for name in found if " " in name for word in name.split()}
    return found + [name for name in dict.fromkeys(ordinary) if name in words_of_names]


# Initials right after a word for the victim or the act ("korban berinisial PTA", "siswi
# SD RB", "menyetubuhi WB", "memerkosa anak kandungnya, KFD", "keponakannya sendiri, AP",
# "anak lelakinya, KAK") or before an apposition naming
# the victim ("RB, siswi sekolah dasar"). Cue words match in any case, initials only in
# capitals.
_VICTIM_INITIALS = re.compile(
    r"(?:(?<!\w)(?i:korban|siswi|siswa|murid|pelajar|bocah|balita|bayi|anak|keponakan|cucu"
    r"|putri|putra|adik|santri|santriwati|remaja|gadis)(?i:nya)?"
    r"(?:[ \t]+(?i:sendiri|kandung|tiri|perempuan|laki-laki|lelaki|sd|smp|sma)(?i:nya)?)?,?"
    r"[ \t]+(?:(?i:ber)?(?i:inisial|inisal)[ \t]+)?"
    r"|(?<!\w)(?i:menyetubuhi|mencabuli|memperkosa|memerkosa|merudapaksa|menganiaya|menjual|"
    r"menyekap|menculik)[ \t]+)"
    r"([A-Z]{1,4})(?![\w(])"
    r"|(?<![\w-])([A-Z]{2,4}),[ \t]+(?i:siswi|siswa|bocah|balita|korban|seorang|pelajar)"
)


# Capitals that follow those words and are not a person: schools ("siswi SMP"), units.
# Not "MA"/"MI" (madrasahs): as initials they are too common to let through.
_NOT_INITIALS = frozenset(
    [
        "SD",
        "SDN",
        "SMP",
        "SMPN",
        "MTS",
        "SMA",
        "SMAN",
        "SMK",
        "SMKN",
        "MAN",
        "SLB",
        "TK",
        "PAUD",
        "RT",
        "RW",
        "PPA",
        "UPTD",
        "TKI",
        "TKW",
        "PMI",
        "CPMI",
        "WNI",
        "WNA",
        "WIB",
        "DPR",
        "KPAI",
        "KDRT",
    ]
)


def victim_initials(text: str) -> list[str]:
    """Initials written next to a word for the victim ("korban berinisial PTA", "RB,
    siswi …"), in order of first appearance. A pure function."""
    found: list[str] = []
    for match in _VICTIM_INITIALS.finditer(text):
        initials = match.group(1) or match.group(2)
        if initials not in found and initials not in _NOT_INITIALS:
            found.append(initials)
    return found


def mask_victims(
    text: str,
    tagged: TaggedArticle,
    victim_names: Iterable[str] = (),
    field: Literal["title", "text"] = "text",
) -> str:
    """`text` (the article's title or text, as tagged) with victims' names replaced. An
    untagged "Name (age)" is found in `text` itself; pass `names_to_mask(tagged, (),
    title, text)` as `victim_names` to mask one found in the other field too."""
    victim_names = list(victim_names)
    if field == "text":
        names = names_to_mask(tagged, victim_names, text=text)
        spans = _widened_spans(text, tagged, names)
    else:
        # Headlines Capitalise Every Word: no widening there (it would take the verb);
        # the body's whole names come in `victim_names` (see above).
        names = names_to_mask(tagged, victim_names, title=text)
        spans = sorted(
            (e.start, e.end)
            for e in tagged.entities
            if e.field == field
            and e.label == "PERSON"
            and e.text.strip() in names
            and text[e.start : e.end] == e.text
        )
    if not names:
        return text
    # The tagged mentions and every other whole-word occurrence of a name (one repeated
    # later, a part used alone), as one set of spans: two names side by side ("Bintang"
    # before "Balqis Maulana") become one mask.
    longer = sorted((n for n in names if len(n) >= MIN_GLOBAL_NAME), key=len, reverse=True)
    if longer:
        pattern = re.compile(
            r"(?<!\w)(?:" + "|".join(re.escape(name) for name in longer) + r")(?!\w)"
        )
        spans = sorted([*spans, *(m.span() for m in pattern.finditer(text))])
    masked = text
    for start, end in reversed(_merge(spans, text)):  # right to left: offsets stay valid
        masked = masked[:start] + MASK + masked[end:]
    return masked


# A capitalised word (or "bin"/"binti" before one) right next to a masked name.
_NEXT_NAME_WORD = re.compile(r"[ \t]+((?:bin|binti)[ \t]+)?[A-Z][a-z\u2019']+")
_PREVIOUS_NAME_WORD = re.compile(r"[A-Z][a-z\u2019']+[ \t]+$")
_MAX_EXTRA_WORDS = 2


def _widened_spans(text: str, tagged: TaggedArticle, names: set[str]) -> list[tuple[int, int]]:
    """The body's PERSON mentions of `names`, each widened by `_whole_name`."""
    others = [
        (e.start, e.end) for e in tagged.entities if e.field == "text" and e.label != "PERSON"
    ]
    return sorted(
        _whole_name(text, e.start, e.end, others)
        for e in tagged.entities
        if e.field == "text"
        and e.label == "PERSON"
        and e.text.strip() in names
        and text[e.start : e.end] == e.text
    )


def _whole_name(text: str, start: int, end: int, others: list[tuple[int, int]]) -> tuple[int, int]:
    """A PERSON span widened over up to two capitalised words directly before and after
    it ("Tiga [Setia Gara]", "[Ranti] binti Kanita"), never into another entity (a place,
    an organisation) and never across a sentence end. Over-masking a word costs a reader
    little; half a name is still a name."""

    def free(a: int, b: int) -> bool:
        return not any(a < other_end and other_start < b for other_start, other_end in others)

    for _ in range(_MAX_EXTRA_WORDS):
        before = _PREVIOUS_NAME_WORD.search(text, max(0, start - 40), start)
        if (
            before is None
            or not free(before.start(), start)
            or before.group().split()[0] in (_SENTENCE_STARTERS)
        ):
            break
        start = before.start()
    for _ in range(_MAX_EXTRA_WORDS):
        after = _NEXT_NAME_WORD.match(text, end)
        if after is None or not free(end, after.end()):
            break
        end = after.end()
    return start, end


# Capitalised words often written right before a name that are not part of it.
_SENTENCE_STARTERS = frozenset(
    [
        "Menurut",
        "Kata",
        "Ujar",
        "Dalam",
        "Saat",
        "Ketika",
        "Sementara",
        "Sedangkan",
        "Namun",
        "Tetapi",
        "Kemudian",
        "Lalu",
        "Selain",
        "Bagi",
        "Untuk",
        "Oleh",
        "Dengan",
        "Dari",
        "Kepada",
        "Pada",
        "Di",
        "Ke",
        "Dan",
        "Atau",
        "Bahwa",
        "Sebelumnya",
        "Akhirnya",
        "Bahkan",
        "Hingga",
        "Sejak",
        "Setelah",
        "Sebelum",
        "Meski",
        "Jika",
        "Apabila",
        "Karena",
        "Sebab",
    ]
)


def _name_parts(names: set[str], tagged: TaggedArticle) -> set[str]:
    """The words of each multi-word name ("Bintang" of "Bintang Balqis Maulana"): an
    article calls the victim by one of them too. Not a word of a place or organisation the
    article names, nor a particle or a short word."""
    entity_words = {word for e in tagged.entities if e.label != "PERSON" for word in e.text.split()}
    return {
        word
        for name in names
        if len(name.split()) > 1
        for word in name.split()
        if len(word) >= _MIN_NAME_PART
        and word[0].isupper()
        and word.casefold() not in _NAME_PARTICLES
        and word not in entity_words
    }


@dataclass(frozen=True)
class NameExposure:
    """How many mentions of known victims' names a masked text still shows; and how many
    masks it holds in all, victims' names or not (the price in reading)."""

    mentions: int = 0
    visible: int = 0
    masks: int = 0

    def __add__(self, other: NameExposure) -> NameExposure:
        return NameExposure(
            self.mentions + other.mentions,
            self.visible + other.visible,
            self.masks + other.masks,
        )


def _mentions(text: str, word: str) -> int:
    # As written or in capitals (a headline "SITI"), never lower-cased: "Tiga" in "Tiga
    # Setia Gara" is a name, "tiga" in a sentence is the number three.
    spellings = "|".join(re.escape(w) for w in dict.fromkeys((word, word.upper())))
    return len(re.findall(r"(?<!\w)(?:" + spellings + r")(?!\w)", text))


def victim_name_exposure(
    title: str, text: str, tagged: TaggedArticle, known_victims: Iterable[str]
) -> NameExposure:
    """Mentions of `known_victims` (names an annotator listed) in the article, and how many
    of them `mask_victims` leaves visible when it knows only what the tagger found, as in a
    digest of this one article. Counted word by word ("Siti Aminah": "Siti" and "Aminah"),
    as written or in capitals, so a name masked only in part still counts as visible."""
    words = {
        word
        for name in known_victims
        for word in name.split()
        if len(word) >= MIN_GLOBAL_NAME and word.casefold() not in _NAME_PARTICLES
    }
    names = names_to_mask(tagged, (), title, text)  # what a digest of the article masks
    masked_title = mask_victims(title, tagged, names, field="title")
    masked_text = mask_victims(text, tagged, names, field="text")
    exposure = NameExposure(masks=masked_title.count(MASK) + masked_text.count(MASK))
    for word in sorted(words):
        exposure += NameExposure(
            _mentions(title, word) + _mentions(text, word),
            _mentions(masked_title, word) + _mentions(masked_text, word),
        )
    return exposure


def _merge(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Sorted spans joined where they overlap or only blanks separate them."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and (start <= merged[-1][1] or not text[merged[-1][1] : start].strip(" \t")):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# -- pseudonyms with offsets recomputed (research exports) ------------------------------

VICTIM_PREFIX = "KORBAN"
PERSON_PREFIX = "ORANG"
# Parts of a multi-word name that are not names themselves ("Siti binti Ahmad", "K alias Awan").
_NAME_PARTICLES = frozenset({"bin", "binti", "van", "der", "de", "al", "el", "alias"})
# A name as news writes one: capitalised ASCII words, with the particles of names between.
_NAME_SHAPE = re.compile(
    r"[A-Z][A-Za-z'-]*(?: (?:[A-Z][A-Za-z'-]*|" + "|".join(sorted(_NAME_PARTICLES)) + r"))*"
)
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
    about_children = "anak" in tagged.victim_groups and may_report_a_case(tagged)
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
# One to four such words: a written-out name or initials.
_NAME_PHRASE = _NAME_WORD + r"(?:[ \t]+" + _NAME_WORD + r"){0,3}"
_AGED_NAME = re.compile(
    r"(?<![\w-])("
    + _NAME_PHRASE
    + r")[ \t]*\([ \t]*"
    # "(14)", "(14 tahun)", "(3,5)", "(perempuan/36 tahun)"
    + r"(?:(?i:perempuan|perempun|laki-laki|pria|wanita|[LP])[ \t]*[/,][ \t]*)?"
    + r"\d{1,2}(?:[.,]\d)?(?:[ \t]*(?:tahun|th|bulan))?[ \t]*\)"
)
# Other ways news introduces a person: "bernama Iyah", "K alias Awan", "Sari Bintang,
# warga Jalan …". Not ", seorang": a place starts that sentence as often ("Di Muaro
# Jambi, seorang …").
_INTRODUCED_NAME = re.compile(
    r"(?<!\w)(?i:bernama|alias)[ \t]+(?P<after>"
    + _NAME_PHRASE
    + r")(?!\w)"
    + r"|(?<![\w-])(?P<before>"
    + _NAME_PHRASE
    + r"),[ \t]+warga(?!\w)"
)
# A name set off by commas right after a word for the victim: "seorang siswa SMP di
# Grobogan, ABP, diduga …", "putra mereka, Shaquille Kaili Danuarta, mengalami …".
_APPOSED_TO_VICTIM = re.compile(
    r"(?<!\w)(?i:siswi|siswa|pelajar|murid|santri|santriwati|bocah|balita|korban|remaja"
    r"|gadis|anak|putra|putri)[^.,\n]{0,40},[ \t]+(" + _NAME_PHRASE + r")[,.]"
)
# A name as the subject of "(men)jadi korban": "Septiani menjadi korban kekejaman suaminya".
_BECAME_VICTIM = re.compile(
    r"(?<![\w-])(" + _NAME_PHRASE + r")[ \t]+(?i:menjadi|jadi)[ \t]+(?i:korban)(?!\w)"
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
        "ia",
        "dia",
        "beliau",
        "mereka",
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
        "provinsi",
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
    return _person_names(match.group(1) for match in _AGED_NAME.finditer(text))


def introduced_person_names(text: str) -> list[str]:
    """Names news introduces without an age: after "bernama" or "alias", before ", warga";
    in order of first appearance. A pure function."""
    return _person_names(
        match.group("after") or match.group("before") for match in _INTRODUCED_NAME.finditer(text)
    )


def victim_appositions(text: str) -> list[str]:
    """Names set off by a comma right after a word for the victim ("putra mereka,
    Shaquille Kaili Danuarta, mengalami …", "anak kandungnya, KFD."), in order of first
    appearance. A pure function."""
    return _person_names(match.group(1) for match in _APPOSED_TO_VICTIM.finditer(text))


def became_victims(text: str) -> list[str]:
    """Names that "(men)jadi korban" ("Septiani menjadi korban kekejaman suaminya"), in
    order of first appearance. For a body, not a headline: a headline capitalises every
    word ("Sudah Tiga Orang Melapor Jadi Korban"). A pure function."""
    return _person_names(match.group(1) for match in _BECAME_VICTIM.finditer(text))


def _person_names(candidates: Iterable[str]) -> list[str]:
    """The candidates without leading non-name words ("Korban", "Namun") and without
    acronyms (_NOT_INITIALS), each once, in order."""
    found: list[str] = []
    for candidate in candidates:
        words = candidate.split()
        while words and (
            (words[0].casefold() in _NOT_NAMES and not _initials(words[0]))
            or words[0] in _SENTENCE_STARTERS
        ):
            words = words[1:]
        name = " ".join(words)
        if name and name not in found and name not in _NOT_INITIALS:
            found.append(name)
    return found


def _initials(word: str) -> bool:
    """Three or four capitals ("KAK", "ABP"): initials, even where the letters spell a
    word that is not a name in any other case ("Kak", a title)."""
    return 3 <= len(word) <= 4 and word.isupper() and word not in _NOT_INITIALS


def _mostly_within(words: list[str], entity_words: list[str]) -> bool:
    """More than half of `words` are words of the entity ("Tangerang Selatan" of the place
    "Kota Tangerang Selatan"; not "Shaquille Kaili Danuarta", though Kaili is a place)."""
    return 2 * sum(word in entity_words for word in words) > len(words)
