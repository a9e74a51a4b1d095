"""Places: find Indonesian regions and foreign countries in an article, give each a role,
and choose the primary location (../shared/contracts/taxonomy.md).

Roles, from the words just before a mention (same sentence; an address chain such as
"warga Desa X, Kecamatan Y, Kabupaten Z" carries the cue to every place in it):
- destination: a foreign country (unless a cue says origin), or a place after "ke",
  "dikirim ke", "diberangkatkan ke", "tujuan", "menuju", or after "di" in a clause that
  sends victims there ("dijadikan pemandu lagu di Batam", "dijanjikan bekerja di ...");
- origin: after "asal", "berasal dari", "warga", "penduduk", "tinggal di", "dipulangkan ke";
- incident: after "di", "terjadi di", "diamankan di", "digagalkan di", "melalui", and every
  police unit ("Polres Tanjab Barat"), which handles the case where it happened;
- mentioned: anything else, and every place of an article whose relevance is "none".

Primary location: where the case happened (incident) or what the article is about
(aggregate, none), at kabupaten/kota level when the text allows, else provinsi. The dateline
("KUALA TUNGKAL, JAMBIEKSPRES.CO.ID -") is only a fallback: a place in the story wins. An
aggregate article (statistics, policy) is about a place only when its headline names one,
a local body reports from it ("DPMPPA Kota Jambi mencatat ...") or a police unit speaks;
a national debate that names where a statement was made is about no place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from nlp.gazetteer import HOME_PROVINCE_CODE, Gazetteer, Place, PlaceMatch, load_gazetteer
from pantau.models import LocationMention, LocationRole, Region, Relevance

# Cue phrases before a place and the role they give it. The regex below tries longer
# phrases first, so that "dipulangkan ke" (origin) wins over "ke" (destination).
_ROLE_CUE_PHRASES: Final[dict[str, LocationRole]] = {
    # origin: where a victim or a person comes from or lives
    "berasal dari": "origin",
    "asalnya dari": "origin",
    "asalnya di": "origin",
    "asal dari": "origin",
    "asal": "origin",
    "asalnya": "origin",
    "warga": "origin",
    "penduduk": "origin",
    "kelahiran": "origin",
    "tinggal di": "origin",
    "berdomisili di": "origin",
    "domisili": "origin",
    "kampung halamannya di": "origin",
    "dipulangkan ke": "origin",
    "dikembalikan ke": "origin",
    "pulang ke": "origin",
    # destination: where a victim was sent or was to be exploited
    "diberangkatkan ke": "destination",
    "dikirim ke": "destination",
    "dijual ke": "destination",
    "dibawa ke": "destination",
    "diselundupkan ke": "destination",
    "diterbangkan ke": "destination",
    "dipekerjakan di": "destination",
    "bekerja di": "destination",
    "negara tujuan": "destination",
    "tujuan": "destination",
    "menuju": "destination",
    "ke": "destination",
    # incident: where the case happened, was foiled or was handled
    "terjadi di": "incident",
    "diamankan di": "incident",
    "digagalkan di": "incident",
    "ditangkap di": "incident",
    "diringkus di": "incident",
    "dibekuk di": "incident",
    "ditemukan di": "incident",
    "dicegat di": "incident",
    "berangkat dari": "incident",
    "diberangkatkan dari": "incident",
    "diberangkatkan melalui": "incident",
    "wilayah hukum": "incident",
    "melalui": "incident",
    "lewat": "incident",
    "via": "incident",
    "di": "incident",
}
_ROLE_CUE_RE: Final = re.compile(
    r"(?<!\w)(?:"
    + "|".join(
        r"\s+".join(re.escape(word) for word in phrase.split())
        for phrase in sorted(_ROLE_CUE_PHRASES, key=len, reverse=True)
    )
    + r")(?!\w)",
    re.IGNORECASE,
)
# What may stand between a cue and the place it governs: an address ("warga Desa Pulau
# Tengah, Kecamatan Keliling Danau, Kabupaten Kerinci"), a port ("melalui Pelabuhan Roro
# Kuala Tungkal"). Capitalised words, numbers, punctuation and a few lowercase address words;
# any other lowercase word means a new clause, and the cue no longer applies.
_ADDRESS_GAP_RE: Final = re.compile(
    r"(?:\s+|[,./()\-]|\d+|[A-Z][\w'’\-]*"
    r"|(?:dan|serta|negara|negeri|daerah|wilayah|kawasan|kota|kabupaten|kab|provinsi|prov"
    r"|kecamatan|kec|desa|kelurahan|dusun|pelabuhan|bandara|rt|rw|no|jalan|jl)(?!\w))*"
)
# A sentence ends at . ! ? ; followed by space, or at a line break; not after the
# abbreviations of address words ("Kec. Kumpeh").
_SENTENCE_END_RE: Final = re.compile(
    r"(?<!\bKab)(?<!\bKec)(?<!\bProv)(?<!\bJl)(?<!\bKel)(?<!\bDs)(?<!\bNo)[.!?;]\s|\n"
)
_CUE_WINDOW_CHARS: Final = 120
# Trafficking verbs after which "di <place>" is where victims were to be exploited, not
# where the case happened (taxonomy: primary_location is where it happened or was foiled).
_DESTINATION_CONTEXT_RE: Final = re.compile(
    r"(?<!\w)(?:dikirim|dijadikan(?!\s+(?:tersangka|saksi))|dijanjikan|dipekerjakan|"
    r"bekerja|diberangkatkan|dijual|dipaksa\s+bekerja|"
    r"(?:di|me)?rekrut\w*(?:\s+\S+){0,4}?\s+(?:jadi|menjadi|sebagai|untuk))(?!\w)",
    re.IGNORECASE,
)
_EVENT_CONTEXT_RE: Final = re.compile(
    r"(?<!\w)(?:diamankan|ditangkap|diselamatkan|ditemukan|digerebek|digagalkan|terjadi|"
    r"diringkus|dibekuk|dicegat|tertangkap)(?!\w)",
    re.IGNORECASE,
)

# "KUALA TUNGKAL, JAMBIEKSPRES.CO.ID - ", "Jambi (ANTARA) - ", "TRIBUNJAMBI.COM, MUARASABAK -"
_DATELINE_RE: Final = re.compile(r"\A\s*(?P<dateline>[^\n]{1,100}?)\s*[-–—]{1,2}\s")
_DATELINE_MAX_WORDS: Final = 8
# A regional body right before a place: its statistics and programmes are that place's
# ("DPMPPA Kota Jambi", "Pemkab Tebo", "Dinas Sosial Provinsi Jambi", "UPTD PPA Kota Jambi").
_LOCAL_BODY_BEFORE_RE: Final = re.compile(
    r"(?<!\w)(?:dpmppa|dp3a|dpppa|dppppa|dp2kbp3a|dinsos|pemkot|pemkab|pemprov|pemda"
    r"|pemerintah(?:\s+(?:kota|kabupaten|provinsi|daerah))?|dinas(?:\s+[A-Z]\w*){0,6}"
    r"|dprd|uptd(?:\s+ppa)?|p2tp2a|satgas(?:\s+[A-Z]\w*){0,4}|gugus\s+tugas(?:\s+[A-Z]\w*){0,4}"
    r"|bp3mi|lpsk|kpad|kpai\w*|unit\s+ppa|ppa)\s*(?:kota|kabupaten|kab\.|provinsi|prov\.)?\s*$",
    re.IGNORECASE,
)

# How much one mention says about where the case happened. Origin and destination are
# kept apart: they say where victims came from or went, and count only when nothing else is
# known ("warga Kerinci ... dipulangkan dari Kamboja" is about Kerinci).
_ROLE_WEIGHT: Final[dict[LocationRole, float]] = {"incident": 3.0, "mentioned": 1.0}
_TITLE_BONUS: Final = 1.0
_ROLE_PRIORITY: Final[dict[LocationRole, int]] = {
    "incident": 3,
    "origin": 2,
    "destination": 1,
    "mentioned": 0,
}


@dataclass(frozen=True, slots=True)
class _Occurrence:
    field: Literal["title", "text"]
    match: PlaceMatch
    role: LocationRole
    in_dateline: bool
    order: int  # position in reading order (title first)


@dataclass(slots=True)
class _UnitScore:
    """Evidence that the case happened in one kabupaten/kota or provinsi."""

    place: Place
    story: float = 0.0  # incident and plain mentions
    movement: float = 0.0  # origin and destination mentions
    first_order: int = 1 << 30


def extract_places(
    title: str,
    text: str,
    relevance: Relevance,
    *,
    home_province: str = HOME_PROVINCE_CODE,
) -> tuple[list[LocationMention], Region | None]:
    """Return every normalised place mentioned (with its role) and the primary location."""
    gazetteer = load_gazetteer()
    title_matches, text_matches = gazetteer.find_many([title, text], home_province=home_province)
    dateline_end = dateline_span(text)[1]

    fields: tuple[tuple[Literal["title", "text"], str, list[PlaceMatch]], ...] = (
        ("title", title, title_matches),
        ("text", text, text_matches),
    )
    occurrences: list[_Occurrence] = []
    for field_name, body, matches in fields:
        for match in matches:
            in_dateline = field_name == "text" and match.end <= dateline_end
            if relevance == "none" or in_dateline:
                role: LocationRole = "mentioned"
            else:
                role = mention_role(body, match)
            occurrences.append(_Occurrence(field_name, match, role, in_dateline, len(occurrences)))

    locations = _deduplicate(occurrences)
    primary = _primary_location(occurrences, gazetteer, relevance, text)
    return locations, primary


def dateline_span(text: str) -> tuple[int, int]:
    """(start, end) of the dateline at the head of `text`, or (0, 0) when there is none."""
    found = _DATELINE_RE.match(text)
    if found is None:
        return 0, 0
    words = found.group("dateline").split()
    # A dateline is a few capitalised words (a place, an agency, a site's domain); a
    # lowercase word means a sentence that happens to contain a dash.
    if len(words) > _DATELINE_MAX_WORDS or any(
        word[0].islower() and "." not in word for word in words
    ):
        return 0, 0
    return found.start("dateline"), found.end("dateline")


def mention_role(body: str, match: PlaceMatch) -> LocationRole:
    """The role of one mention in a relevant article, from the cue words before it."""
    if match.place.level == "negara":
        return "origin" if role_cue_before(body, match.start) == "origin" else "destination"
    if match.police:
        return "incident"
    return role_cue_before(body, match.start) or "mentioned"


def role_cue_before(body: str, start: int) -> LocationRole | None:
    """The role that the nearest cue before `start` (same sentence) gives, if it governs
    the place: only an address-like stretch may lie between the cue and the place."""
    window = body[max(0, start - _CUE_WINDOW_CHARS) : start]
    return _role_in_window(_after_last_sentence_end(window))


def _after_last_sentence_end(window: str) -> str:
    last_end = 0
    for boundary in _SENTENCE_END_RE.finditer(window):
        last_end = boundary.end()
    return window[last_end:]


def _role_in_window(window: str) -> LocationRole | None:
    last_cue: re.Match[str] | None = None
    for cue in _ROLE_CUE_RE.finditer(window):
        last_cue = cue
    if last_cue is None:
        return None
    if _ADDRESS_GAP_RE.fullmatch(window, last_cue.end()) is None:
        return None
    phrase = " ".join(last_cue.group().lower().split())
    if phrase == "di" and _sent_there_before(window[: last_cue.start()]):
        return "destination"
    return _ROLE_CUE_PHRASES[phrase]


def _sent_there_before(clause: str) -> bool:
    """Does the clause before a bare "di" say the victims were sent or put to work there
    ("dikirim dan dijadikan pemandu lagu di tempat karaoke di Batam", "dijanjikan bekerja
    di sebuah rumah makan di Batam", "Rekrut Remaja Jadi Pemandu Lagu di Batam")? Then the
    place is a destination, unless an event verb ("diamankan", "diselamatkan") comes after
    the sending verb: that is where the case was stopped."""
    sending = [m.end() for m in _DESTINATION_CONTEXT_RE.finditer(clause)]
    if not sending:
        return False
    events = [m.end() for m in _EVENT_CONTEXT_RE.finditer(clause)]
    return not events or max(events) < max(sending)


def to_region(place: Place) -> Region:
    return Region(
        name=place.name,
        code=place.code,
        level=place.level,
        province_code=place.province_code,
        lat=place.lat,
        lon=place.lon,
    )


def _deduplicate(occurrences: Sequence[_Occurrence]) -> list[LocationMention]:
    """One mention per code, in reading order, with the strongest role it had."""
    roles: dict[str, LocationRole] = {}
    places: dict[str, Place] = {}
    for occurrence in occurrences:
        place = occurrence.match.place
        places.setdefault(place.code, place)
        previous = roles.get(place.code)
        if previous is None or _ROLE_PRIORITY[occurrence.role] > _ROLE_PRIORITY[previous]:
            roles[place.code] = occurrence.role
    return [
        LocationMention(**to_region(place).model_dump(), role=roles[code])
        for code, place in places.items()
    ]


def _primary_location(
    occurrences: Sequence[_Occurrence],
    gazetteer: Gazetteer,
    relevance: Relevance,
    text: str = "",
) -> Region | None:
    if relevance == "aggregate":
        # Statistics and policy are about a place when the headline names it or a local
        # body reports them ("DPMPPA Kota Jambi mencatat ..."); a national debate is about
        # no place, though it names where a statement was made ("katanya di Semarang")
        # or a governor who spoke.
        occurrences = [
            o
            for o in occurrences
            if o.field == "title"
            or o.match.police
            or (
                not o.in_dateline
                and _LOCAL_BODY_BEFORE_RE.search(text[max(0, o.match.start - 80) : o.match.start])
            )
        ]
        if not occurrences:
            return None
    story = [o for o in occurrences if not o.in_dateline and o.match.place.level != "negara"]
    if not story:
        dateline = [o for o in occurrences if o.in_dateline and o.match.place.level != "negara"]
        if not dateline:
            return None
        return to_region(_unit_of(dateline[0].match.place, gazetteer))

    provinces: dict[str, _UnitScore] = {}
    regencies: dict[str, _UnitScore] = {}
    for occurrence in story:
        place = occurrence.match.place
        unit = _unit_of(place, gazetteer)
        province = gazetteer.province_of(place) or place
        scores = [provinces.setdefault(province.code, _UnitScore(province))]
        if unit.level == "kabupaten_kota":
            scores.append(regencies.setdefault(unit.code, _UnitScore(unit)))
        for score in scores:
            if occurrence.role in _ROLE_WEIGHT:
                weight = _ROLE_WEIGHT[occurrence.role]
                if occurrence.field == "title":
                    weight += _TITLE_BONUS
                score.story += weight
            else:
                score.movement += 1.0
            score.first_order = min(score.first_order, occurrence.order)

    best_province = max(provinces.values(), key=_score_key)
    inside = [s for s in regencies.values() if s.place.province_code == best_province.place.code]
    with_story = [s for s in inside if s.story > 0]
    province_own_story = best_province.story - sum(s.story for s in inside)

    if with_story:
        best_regency = max(with_story, key=_score_key)
        # An article about the whole provinsi that also names several of its kabupaten
        # (statistics per kabupaten) is about the provinsi. A case is placed as finely
        # as the text allows.
        if (
            relevance != "incident"
            and len(with_story) > 1
            and province_own_story >= best_regency.story
        ):
            return to_region(best_province.place)
        return to_region(best_regency.place)
    if province_own_story > 0 or not inside:
        return to_region(best_province.place)
    # Only origins or destinations inside the provinsi are known ("warga Kerinci jadi
    # korban TPPO di Kamboja"): the kabupaten the story names is the best there is.
    return to_region(max(inside, key=_score_key).place)


def _score_key(score: _UnitScore) -> tuple[float, float, int]:
    return score.story, score.movement, -score.first_order


def _unit_of(place: Place, gazetteer: Gazetteer) -> Place:
    """The kabupaten/kota of a kecamatan; other places are their own unit."""
    if place.level == "kecamatan":
        return gazetteer.regency_of(place) or place
    return place
