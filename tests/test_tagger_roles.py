"""Roles of named persons (victim / perpetrator / other), on which masking in digests and
exports depends, and where a trafficking case is placed (where it happened, not where the
victims were to be sent)."""

from __future__ import annotations

from typing import cast

import pytest

from nlp.gazetteer import load_gazetteer
from nlp.ner import Recognizer
from nlp.places import mention_role
from nlp.tagger import RuleTagger
from pantau.models import ArticleIn, Relevance, TaggedArticle


@pytest.fixture(scope="module")
def tagger() -> RuleTagger:
    # Without the NER model: these tests are about the rules and the classifier, and
    # loading spaCy would cost more than the whole file (tests/test_ner* cover it).
    return RuleTagger(ner=None)


def persons(result: TaggedArticle) -> dict[str, str | None]:
    return {e.text: e.role for e in result.entities if e.label == "PERSON"}


def tag(tagger: RuleTagger, title: str, text: str) -> TaggedArticle:
    return tagger.tag(ArticleIn(id="r", title=title, text=text, published="2026-11-18"))


def test_victim_and_perpetrator_initials(tagger: RuleTagger) -> None:
    result = tag(
        tagger,
        "Siswi SMP di Muaro Jambi Dicabuli Ayah Tiri",
        "SENGETI – Seorang siswi SMP berinisial M (14) di Kecamatan Sekernan menjadi korban "
        "pencabulan oleh ayah tirinya. Kapolsek Sekernan mengatakan pelaku berinisial SP (41) "
        "ditangkap di rumahnya pada Senin (16/11) malam.",
    )
    assert persons(result) == {"M": "victim", "SP": "perpetrator"}


def test_a_list_of_victims_shares_the_victim_cue(tagger: RuleTagger) -> None:
    result = tag(
        tagger,
        "Tiga Anak Jadi Korban Pencabulan Tetangga di Kota Jambi",
        "JAMBI – Tiga dari empat korban masih di bawah umur, masing-masing berinisial SN (15), "
        "AP (16), dan WL (17). Pelaku, tetangga para korban, ditangkap polisi.",
    )
    assert persons(result) == {"SN": "victim", "AP": "victim", "WL": "victim"}


@pytest.mark.parametrize(
    ("sentence", "name", "role"),
    [
        # What follows the name says the role.
        (
            "Mereka adalah perempuan berinisial YN (34) yang berperan sebagai perekrut.",
            "YN",
            "perpetrator",
        ),
        # A relative of the victim, in a sentence about the crime.
        ("Ia dianiaya suaminya berinisial BS (35) menggunakan sebatang kayu.", "BS", "perpetrator"),
        ("Ayah tiri korban berinisial RT (40) diamankan di rumahnya.", "RT", "perpetrator"),
        # Whoever undergoes the violence is the victim, even without the word 'korban'.
        ("Seorang pria berinisial AD (28) mengalami luka robek setelah dipukul.", "AD", "victim"),
        # Who acts first decides: arrested, then the victims.
        (
            "Seorang guru mengaji berinisial AM (51) ditangkap karena mencabuli tiga murid.",
            "AM",
            "perpetrator",
        ),
        # Witnesses and officials are neither.
        ("Bayi itu dibungkus kain, kata saksi berinisial MN (52) kepada wartawan.", "MN", "other"),
    ],
)
def test_role_from_the_context_of_the_name(
    tagger: RuleTagger, sentence: str, name: str, role: str
) -> None:
    result = tag(tagger, "Kasus Kekerasan di Kota Jambi", "JAMBI – " + sentence)
    assert persons(result)[name] == role


def test_only_persons_get_a_role(tagger: RuleTagger) -> None:
    result = tag(
        tagger,
        "Polres Merangin Tangkap Pelaku Pencabulan",
        "BANGKO – Unit PPA Satreskrim Polres Merangin menangkap pelaku berinisial AM (51) "
        "pada Rabu (28/10/2026) karena mencabuli korban berinisial N (8).",
    )
    assert {e.role for e in result.entities if e.label != "PERSON"} == {None}
    assert persons(result) == {"AM": "perpetrator", "N": "victim"}


BATAM_CASE = (
    "Sindikat Perdagangan Orang Rekrut Remaja Jadi Pemandu Lagu di Batam, 4 Korban Diselamatkan",
    "MUARO JAMBI - Direktorat Reserse Kriminal Umum Polda Jambi membongkar sindikat "
    "perdagangan orang yang merekrut remaja perempuan untuk dikirim dan dijadikan pemandu "
    "lagu di tempat karaoke di Batam, Kepulauan Riau. Empat korban diselamatkan dari sebuah "
    "rumah penampungan di Kecamatan Jambi Luar Kota, Kabupaten Muaro Jambi, pada Selasa "
    "(6/10/2026) malam.\n\nDirreskrimum Polda Jambi mengatakan para korban dijanjikan bekerja "
    "di sebuah rumah makan di Batam dengan gaji Rp5 juta per bulan.",
)


def test_trafficking_destination_is_not_where_the_case_happened(tagger: RuleTagger) -> None:
    result = tag(tagger, *BATAM_CASE)
    assert result.primary_location is not None
    assert result.primary_location.code == "15.05"  # Muaro Jambi: where victims were rescued
    roles = {location.code: location.role for location in result.locations}
    assert roles["21.71"] == "destination"  # Kota Batam
    assert roles["15.05"] == "incident"


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("para korban dijanjikan bekerja di sebuah rumah makan di Batam", "destination"),
        ("remaja itu dikirim dan dijadikan pemandu lagu di Batam", "destination"),
        ("korban dikirim ke Malaysia namun diamankan petugas di Batam", "incident"),
        ("siswi itu dicabuli di rumahnya di Batam", "incident"),
        ("pelaku ditetapkan tersangka di Batam", "incident"),
    ],
)
def test_a_bare_di_after_a_sending_verb_is_a_destination(text: str, role: str) -> None:
    found = load_gazetteer().find_many([text])[0]
    batam = [match for match in found if match.place.code == "21.71"]
    assert batam, "the gazetteer finds Batam"
    assert mention_role(text, batam[-1]) == role


def test_a_victim_stays_a_victim_in_every_mention(tagger: RuleTagger) -> None:
    """Later mentions without a cue ('kata Mahrus, suami Lily') keep the victim's role,
    also by first or last name; initials match only as a whole."""
    from nlp.tagger import _field, _with_person_roles
    from pantau.models import Entity

    text = (
        "Seorang TKW bernama Lily Wahidin (34) tewas di Malaysia. "
        "Keluarga menunggu kabar, kata Mahrus, suami Lily. "
        "Saksi berinisial LW (40) juga diperiksa."
    )

    def person(name: str, occurrence: int = 0) -> Entity:
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(name, start + 1)
        return Entity(field="text", start=start, end=start + len(name), label="PERSON", text=name)

    entities = [person("Lily Wahidin"), person("Mahrus"), person("Lily", 1), person("LW")]
    rules = tagger.rules
    fields = [_field("title", "", rules.neutralize, tagger._finder)]
    fields.append(_field("text", text, rules.neutralize, tagger._finder))
    roles = {e.text: e.role for e in _with_person_roles(entities, fields, rules.person_roles)}
    assert roles["Lily Wahidin"] == "victim"
    assert roles["Lily"] == "victim"
    assert roles["Mahrus"] == "other"
    assert roles["LW"] == "other"


# -- articles that report no specific case (aggregate / none) ---------------------------


def _roles_in(
    tagger: RuleTagger, text: str, relevance: Relevance, spans: dict[str, int]
) -> dict[str, str]:
    """Roles the rules give to the PERSON spans named in `spans` (name -> occurrence) of a
    text, as if the article had relevance `relevance` (NER output stands in as spans)."""
    from nlp.tagger import _field, _with_person_roles
    from pantau.models import Entity

    rules = tagger.rules
    entities = []
    for name, occurrence in spans.items():
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(name, start + 1)
        entities.append(
            Entity(field="text", start=start, end=start + len(name), label="PERSON", text=name)
        )
    fields = [
        _field("title", "", rules.neutralize, tagger._finder),
        _field("text", text, rules.neutralize, tagger._finder),
    ]
    tagged = _with_person_roles(
        entities, fields, rules.person_roles, None, no_case=relevance != "incident"
    )
    return {e.text: str(e.role) for e in tagged}


STATISTICS = (
    "Kepala DPMPPA Kota Jambi Novita Sari di Jambi, Rabu, mengatakan rumah aman diperuntukkan "
    "bagi korban kekerasan seksual dan korban perdagangan orang. Novita menjelaskan, korban "
    "akan didampingi psikolog. Pemerhati anak Desi Ratnasari menyambut baik rumah aman itu."
)


def test_officials_in_a_statistics_article_are_not_victims(tagger: RuleTagger) -> None:
    """The bug behind '[nama disamarkan]' in aggregate headlines: the sentence talks about
    victims, but the persons named are an official who speaks and an observer."""
    roles = _roles_in(
        tagger, STATISTICS, "aggregate", {"Novita Sari": 0, "Novita": 1, "Desi Ratnasari": 0}
    )
    assert roles == {"Novita Sari": "other", "Novita": "other", "Desi Ratnasari": "other"}


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Tahun lalu, korban bernama Lily Wahidin (34) tewas di Malaysia.", "Lily Wahidin"),
        ("Kasus siswi berinisial SN (15), korban pencabulan, kini disidangkan.", "SN"),
        ("Data itu termasuk kasus TKW Rena Wati yang meninggal di Malaysia.", "Rena Wati"),
        (
            "Kematian Lily Wahidin (28), tenaga kerja wanita asal Ternate, masih misterius.",
            "Lily Wahidin",
        ),
    ],
)
def test_a_statistics_article_keeps_a_victim_named_as_one(
    tagger: RuleTagger, text: str, name: str
) -> None:
    assert _roles_in(tagger, text, "aggregate", {name: 0})[name] == "victim"


def test_the_same_sentence_in_an_incident_article_still_finds_the_victim(
    tagger: RuleTagger,
) -> None:
    """Masking leans to the victim where a case is reported: the sentence's words count
    there, and only evidence at the name elsewhere."""
    text = "Melati datang ke kantor polisi bersama anak-anak yang menjadi korban."
    assert _roles_in(tagger, text, "incident", {"Melati": 0})["Melati"] == "victim"
    assert _roles_in(tagger, text, "aggregate", {"Melati": 0})["Melati"] == "other"


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        # The bug: 'membunuh' made every name in the sentence a perpetrator, the woman
        # killed too, and masking protects no perpetrator.
        (
            "Suhendra didakwa membunuh Sri di Kebon Bawang. Menurut jaksa, Sri menagih utang.",
            {"Suhendra": 0, "Sri": 0},
            {"Suhendra": "perpetrator", "Sri": "victim"},
        ),
        (
            "Pelaku mengaku tega menghabisi nyawa nenek Iyah karena sakit hati.",
            {"Iyah": 0},
            {"Iyah": "victim"},
        ),
        (
            "Kasus pembunuhan terhadap Iyah (60) ditangani Polres Garut.",
            {"Iyah": 0},
            {"Iyah": "victim"},
        ),
        (
            "Seorang nenek bernama Iyah (60) ditemukan tewas, pelaku ditangkap.",
            {"Iyah": 0},
            {"Iyah": "victim"},
        ),
        # The doer before the verb stays the perpetrator.
        (
            "Sebelumnya Andi menganiaya istrinya hingga luka.",
            {"Andi": 0},
            {"Andi": "perpetrator"},
        ),
    ],
)
def test_the_one_a_violent_act_is_done_to_is_the_victim(
    tagger: RuleTagger, text: str, spans: dict[str, int], expected: dict[str, str]
) -> None:
    assert _roles_in(tagger, text, "incident", spans) == expected


class _FakeNer:
    """Stands in for the NER model: returns the PERSON spans it was given."""

    digest = "fake"

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        found = []
        for name in self.names:
            start = text.find(name)
            while start != -1:
                found.append((start, start + len(name), "PERSON"))
                start = text.find(name, start + 1)
        return found


@pytest.mark.parametrize(
    ("span", "kept"),
    [
        ("Anak", None),
        ("Gugus Tugas", None),
        ("Gugus Tugas Pencegahan", None),
        ("Lentera Anak", None),
        ("Jual Remaja", None),
        ("Dimulai", None),
        ("Mucikari Open BO Ditangkap", None),
        ("Kotabaru", None),  # a kecamatan the article names
        ("Lily Dibunuh", "Lily"),  # the name runs into the predicate
        ("Kapolres AKBP Guntur Wicaksono", "Guntur Wicaksono"),
        ("Guntur Wicaksono", "Guntur Wicaksono"),  # 'Guntur' is also a kecamatan elsewhere
        ("Diana Putri", "Diana Putri"),  # names that look like affixed words stay names
    ],
)
def test_words_that_are_never_names_are_not_persons(
    tagger: RuleTagger, span: str, kept: str | None
) -> None:
    from nlp.places import extract_places
    from nlp.tagger import _entities, _field

    rules = tagger.rules
    text = (
        f"Laporan itu menyebut {span} dalam rapat. Kasus terbanyak di Kecamatan Jambi "
        "Selatan dan Kotabaru, Kota Jambi."
    )
    locations, _ = extract_places("", text, "aggregate")
    field = _field("text", text, rules.neutralize, tagger._finder)
    found = _entities(
        [field],
        locations,
        cast("Recognizer", _FakeNer([span])),
        rules.person_roles.not_name_words,
    )
    persons_found = [e.text for e in found if e.label == "PERSON"]
    assert persons_found == ([kept] if kept else [])
