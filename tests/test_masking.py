"""Pseudonyms for protected persons (web.masking.pseudonymise): consistent within an
article, in text and entities alike, offsets recomputed; and names_to_mask honours the
PERSON role the tagger gives."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pantau.models import Entity, ModelInfo, TaggedArticle
from tests.helpers import SCRIPTS_DIR, load_script
from web.masking import MASK, aged_person_names, mask_victims, names_to_mask, pseudonymise

MODEL = ModelInfo(name="m", version="1")


def tag(
    title: str,
    text: str,
    people: list[tuple[str, str, str | None]],
    groups: list[str],
    relevance: str = "incident",
) -> TaggedArticle:
    entities = []
    for field, name, role in people:
        value = title if field == "title" else text
        start = value.index(name)
        entities.append(
            Entity.model_validate(
                {
                    "field": field,
                    "start": start,
                    "end": start + len(name),
                    "label": "PERSON",
                    "text": name,
                    "role": role,
                }
            )
        )
    return TaggedArticle.model_validate(
        {
            "id": "a",
            "relevance": relevance,
            "victim_groups": groups,
            "entities": entities,
            "model": MODEL,
        }
    )


def test_victims_get_numbered_pseudonyms_and_offsets_fit() -> None:
    title = "SITI AMINAH dan Rina dianiaya"
    text = (
        "Korban Siti Aminah (14) dan Rina Wati (15) dianiaya oleh Hendra. Polresta Jambi "
        "menahan Hendra. Siti kini dirawat; Rina Wati pulang."
    )
    tagged = tag(
        title,
        text,
        [
            ("text", "Siti Aminah", "victim"),
            ("text", "Rina Wati", "victim"),
            ("text", "Hendra", "perpetrator"),
        ],
        [],
    )
    tagged.entities.append(
        Entity(
            field="text",
            start=text.index("Polresta"),
            end=text.index("Polresta") + 14,
            label="ORGANIZATION",
            text="Polresta Jambi",
        )
    )
    result = pseudonymise(
        title, text, tagged, others={"url": "https://x.example/siti-aminah-dianiaya"}
    )
    assert result.title == "[KORBAN-1] dan [KORBAN-2] dianiaya"
    assert result.text == (
        "Korban [KORBAN-1] (14) dan [KORBAN-2] (15) dianiaya oleh Hendra. Polresta Jambi "
        "menahan Hendra. [KORBAN-1] kini dirawat; [KORBAN-2] pulang."
    )
    assert result.others["url"] == "https://x.example/korban-1-dianiaya"
    # Adults who are not victims keep their names.
    assert [e.text for e in result.tagged.entities] == [
        "[KORBAN-1]",
        "[KORBAN-2]",
        "Hendra",
        "Polresta Jambi",
    ]
    for entity in result.tagged.entities:
        value = result.title if entity.field == "title" else result.text
        assert value[entity.start : entity.end] == entity.text
    assert result.pseudonyms == 2


def test_in_child_cases_every_person_is_masked() -> None:
    text = "Siswi Ayu (12) dicabuli. Gurunya, Pak Darman, melapor bersama ibu Ayu."
    tagged = tag("", text, [("text", "Ayu", None), ("text", "Darman", "other")], ["anak"])
    result = pseudonymise("", text, tagged)
    assert (
        result.text
        == "Siswi [ORANG-1] (12) dicabuli. Gurunya, Pak [ORANG-2], melapor bersama ibu [ORANG-1]."
    )
    listed = pseudonymise("", text, tagged, victim_names=["Ayu"])
    assert "[KORBAN-1]" in listed.text and "[ORANG-1]" in listed.text and "Ayu" not in listed.text


def test_names_to_mask_includes_tagged_victims_and_mask_victims_uses_it() -> None:
    text = "Rina Marlina dianiaya suaminya Hendra."
    tagged = tag(
        "", text, [("text", "Rina Marlina", "victim"), ("text", "Hendra", "perpetrator")], []
    )
    # The name and each of its words: the article may call her "Rina" further on.
    assert names_to_mask(tagged) == {"Rina Marlina", "Rina", "Marlina"}
    assert mask_victims(text, tagged) == f"{MASK} dianiaya suaminya Hendra."
    assert mask_victims(f"{text} Rina dirawat.", tagged) == (
        f"{MASK} dianiaya suaminya Hendra. {MASK} dirawat."
    )


def test_where_the_tagger_saw_no_victim_its_perpetrators_are_masked_too() -> None:
    # A celebrity's own account, read as her accusing someone: the tagger found no victim
    # group and no victim, and took her for the perpetrator.
    text = "Bebby Fey mengaku dilecehkan. Bebby melaporkan kasus itu ke polisi."
    untrusted = tag("", text, [("text", "Bebby Fey", "perpetrator")], [])
    assert "Bebby" not in mask_victims(text, untrusted, names_to_mask(untrusted, (), "", text))
    # Once it has found a victim, its perpetrators stay visible (adults, not protected).
    trusted = tag(
        "",
        text,
        [("text", "Bebby Fey", "perpetrator")],
        ["perempuan"],
    )
    assert "Bebby Fey" in mask_victims(text, trusted, names_to_mask(trusted, (), "", text))


def test_a_name_the_ner_cut_short_is_masked_whole_in_the_body_not_widened_in_a_headline() -> None:
    title = "Santri Bintang Balqis Maulana Tewas Dianiaya"
    text = "Keluarga santri Bintang Balqis Maulana melapor. Menurut Bintang, ia dipukul."
    tagged = tag(
        title,
        text,
        [("title", "Balqis Maulana", "victim"), ("text", "Balqis Maulana", "victim")],
        [],
    )
    names = names_to_mask(tagged, (), title, text)
    assert "Bintang Balqis Maulana" in names and "Bintang" in names
    assert mask_victims(text, tagged, names) == (
        f"Keluarga santri {MASK} melapor. Menurut {MASK}, ia dipukul."
    )
    # The headline's capitalised verbs stay; the whole name comes from the body.
    assert mask_victims(title, tagged, names, field="title") == f"Santri {MASK} Tewas Dianiaya"


def test_initials_next_to_a_victim_word_are_protected_in_incidents_about_children() -> None:
    text = (
        "RB, siswi sekolah dasar, hamil. Korban berinisial PTA masih 9 tahun. Pelaku "
        "menyetubuhi WB di rumah. Kapolres AKBP Budi dan tim SD Negeri datang."
    )
    from web.masking import victim_initials

    assert victim_initials(text) == ["RB", "PTA", "WB"]
    tagged = tag("", text, [], ["anak"])
    masked = mask_victims(text, tagged)
    assert not {"RB", "PTA", "WB"} & set(re.findall(r"[A-Z]{2,}", masked))
    assert "AKBP" in masked and "SD Negeri" in masked


def test_exposure_counts_the_listed_victims_words_left_visible() -> None:
    from web.masking import victim_name_exposure

    text = "Tiga Setia Gara dipukul suaminya. Tiga orang melihat. Setia mengadu."
    tagged = tag("", text, [("text", "Setia Gara", None)], [], relevance="aggregate")
    # Word by word, as written: "Tiga" twice (once the number: counted all the same),
    # "Setia" twice, "Gara" once. No victim role, no case: nothing is masked.
    exposure = victim_name_exposure("", text, tagged, ["Tiga Setia Gara"])
    assert (exposure.mentions, exposure.visible) == (5, 5)
    # An incident, whether or not the tagger found the victim group (the taxonomy makes
    # every incident a case of a woman, a child or trafficking): the person the tagger
    # left open is protected, whole.
    for groups in (["perempuan"], []):
        incident = tag("", text, [("text", "Setia Gara", None)], groups)
        exposure = victim_name_exposure("", text, incident, ["Tiga Setia Gara"])
        assert (exposure.mentions, exposure.visible) == (5, 0)


def test_exposure_counts_names_not_the_word_alias() -> None:
    from web.masking import victim_name_exposure

    text = "Ayah berinisial S membanting anaknya, K alias Awan (10). Awan tewas."
    tagged = tag("", text, [], ["anak"])
    # "K" is too short to count, "alias" is no name: only "Awan", twice, both masked.
    exposure = victim_name_exposure("", text, tagged, ["K alias Awan"])
    assert (exposure.mentions, exposure.visible) == (2, 0)


def test_names_with_an_age_are_found_and_can_be_protected() -> None:
    text = (
        "Ibu korban, Yuliana Safitri (36), melapor. Pelaku berinisial AS (40) ditangkap "
        "Senin (12/10/2026). Yuliana kini tenang."
    )
    assert aged_person_names(text) == ["Yuliana Safitri", "AS"]
    tagged = tag("", text, [], [])
    result = pseudonymise("", text, tagged, other_names=aged_person_names(text))
    assert result.text == (
        "Ibu korban, [ORANG-1] (36), melapor. Pelaku berinisial [ORANG-2] (40) ditangkap "
        "Senin (12/10/2026). [ORANG-1] kini tenang."
    )


def test_other_ways_news_introduces_a_victim_are_protected_in_an_incident() -> None:
    """Names the NER missed, from how the article introduces a person: an age in any of
    the bracket forms, "bernama", "alias", ", warga", a name set off after a victim word.
    A place set off the same way, or a tagged perpetrator, is not masked."""
    from web.masking import introduced_person_names, victim_appositions

    text = (
        "Herina Kinal (perempuan/32 tahun) dan AM (3,5) terluka. Sari Bintang, warga Jalan "
        "Bersama, ditemukan tewas. Anaknya, K alias Awan, dibanting. Seorang siswa SMP di "
        "Grobogan, ABP, tewas. Putra mereka, Shaquille Kaili Danuarta, dianiaya pengasuh. "
        "Seorang anak di Kecamatan Mamajang, Makassar, juga dianiaya. Pelaku bernama Darto "
        "ditangkap di Makassar."
    )
    assert aged_person_names(text) == ["Herina Kinal", "AM"]
    assert introduced_person_names(text) == ["Sari Bintang", "Awan", "Darto"]
    assert victim_appositions(text) == ["ABP", "Shaquille Kaili Danuarta", "Makassar"]
    tagged = TaggedArticle.model_validate(
        {
            **tag("", text, [("text", "Darto", "perpetrator")], ["perempuan"]).model_dump(),
            "locations": [
                {"name": "Mamajang", "code": "73.71.02", "level": "kecamatan"},
                {"name": "Kota Makassar", "code": "73.71", "level": "kabupaten_kota"},
            ],
        }
    )
    masked = mask_victims(text, tagged, names_to_mask(tagged, (), "", text))
    for name in ("Herina", "Kinal", "AM", "Sari", "Bintang", "Awan", "ABP", "Shaquille"):
        assert name not in masked, name
    assert "Makassar," in masked and "Darto" in masked
    # Not in an article that reports no case: there such names are officials and sources.
    aggregate = tagged.model_copy(update={"relevance": "aggregate"})
    assert mask_victims(text, aggregate, names_to_mask(aggregate, (), "", text)) == text


def test_victim_cues_written_from_train_split_leaks() -> None:
    """Ways a victim is named that digests left visible on the train split (names here
    are made up): initials after "anak kandungnya" or "anak lelakinya" (all capitals:
    "KAK" is initials, not the title "Kak"), after "memerkosa", a sentence-final name set
    off after a victim word, and a name that "menjadi korban" in the body. Not a pronoun,
    and not "Provinsi" before a province's name."""
    from web.masking import became_victims, victim_appositions, victim_initials

    text = (
        "Ia memerkosa anak kandungnya, KFD. Pelaku memerkosa WTR berkali-kali. Ia juga "
        "menjambak anak lelakinya, KAK, 6. Rumini menjadi korban kekejaman suaminya. "
        "Ia anak di Kota Bengkulu, Provinsi Bengkulu. Ia menjadi korban."
    )
    assert victim_initials(text) == ["KFD", "WTR", "KAK"]
    assert victim_appositions(text) == ["KFD", "KAK", "Bengkulu"]
    assert became_victims(text) == ["Rumini"]
    tagged = TaggedArticle.model_validate(
        {
            **tag("", text, [], ["anak"]).model_dump(),
            "locations": [{"name": "Bengkulu", "code": "17", "level": "provinsi"}],
        }
    )
    masked = mask_victims(text, tagged, names_to_mask(tagged, (), "", text))
    for name in ("KFD", "WTR", "KAK", "Rumini"):
        assert name not in masked, name
    assert "Kota Bengkulu, Provinsi Bengkulu." in masked and masked.count("Ia ") == 4


def test_an_aggregate_the_incident_head_flagged_is_masked_as_a_case() -> None:
    """The classifier files an article whose P(incident) passed its threshold as an
    aggregate when, given that it is relevant, it reads as cases in general. That decides
    the filing, not the protection: its persons are masked as in an incident."""
    text = "KPAI menyoroti kasus Luluk. Korban, Nuri Andini (12), kini didampingi psikolog."
    flagged_model = ModelInfo(name="m", version="1", incident_threshold=0.2)
    people = [("text", "Luluk", None)]

    def filed_aggregate(incident_score: float) -> TaggedArticle:
        return tag("", text, people, ["anak"], relevance="aggregate").model_copy(
            update={
                "model": flagged_model,
                "scores": {"incident": incident_score, "aggregate": 0.6},
            }
        )

    flagged = filed_aggregate(0.35)
    masked = mask_victims(text, flagged, names_to_mask(flagged, (), "", text))
    assert "Nuri" not in masked and "Luluk" not in masked
    # Under the threshold it is an aggregate like any other: officials stay named.
    plain = filed_aggregate(0.1)
    assert mask_victims(text, plain, names_to_mask(plain, (), "", text)) == text


def test_an_article_without_protected_persons_is_unchanged() -> None:
    text = "Hendra ditangkap polisi."
    tagged = tag("", text, [("text", "Hendra", "perpetrator")], [])
    result = pseudonymise("Judul", text, tagged)
    assert (result.title, result.text, result.pseudonyms) == ("Judul", text, 0)
    assert result.tagged.entities == tagged.entities


words = st.sampled_from(
    ["Siti", "Aminah", "dan", "Budi", "di", "Jambi", "AS", "(14)", "korban", "Siti Aminah"]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(words, min_size=1, max_size=25), st.data())
def test_offsets_always_fit_after_masking(tokens: list[str], data: st.DataObject) -> None:
    text = " ".join(tokens)
    entities = []
    for _ in range(data.draw(st.integers(0, 4))):
        start = data.draw(st.integers(0, len(text) - 1))
        end = data.draw(st.integers(start + 1, len(text)))
        label = data.draw(st.sampled_from(["PERSON", "LOCATION"]))
        role = data.draw(st.sampled_from([None, "victim", "other"])) if label == "PERSON" else None
        entities.append(
            Entity.model_validate(
                {
                    "field": "text",
                    "start": start,
                    "end": end,
                    "label": label,
                    "text": text[start:end],
                    "role": role,
                }
            )
        )
    groups = data.draw(st.sampled_from([[], ["anak"]]))
    tagged = TaggedArticle(
        id="a", relevance="incident", victim_groups=groups, entities=entities, model=MODEL
    )
    result = pseudonymise("", text, tagged)
    for entity in result.tagged.entities:
        assert result.text[entity.start : entity.end] == entity.text
    protected = {
        e.text.strip()
        for e in entities
        if e.label == "PERSON" and (e.role == "victim" or groups) and len(e.text.strip()) >= 2
    }
    for name in protected:
        if name in text:
            assert not any(e.text == name and e.label == "PERSON" for e in result.tagged.entities)


def _with_entities(text: str, entities: list[tuple[str, str]], relevance: str) -> TaggedArticle:
    """An article whose body holds the given (label, text) entities, each at its first
    occurrence."""
    return TaggedArticle.model_validate(
        {
            "id": "a",
            "relevance": relevance,
            "entities": [
                {
                    "field": "text",
                    "start": text.index(name),
                    "end": text.index(name) + len(name),
                    "label": label,
                    "text": name,
                }
                for label, name in entities
            ],
            "model": MODEL,
        }
    )


def test_a_person_the_ner_typed_as_a_place_or_organisation_is_masked_in_a_case() -> None:
    from web.masking import mistyped_person_names, victim_name_exposure

    text = (
        "Shaquille dipukul pengasuhnya saat ibunya di Amerika Serikat. Utang keluarga itu "
        "tak terkait. Polres Kerinci dan KPAI memeriksa RJ, teman Shaquille, di Jambi."
    )
    entities = [
        ("LOCATION", "Shaquille"),  # the victim, typed a place
        ("ORGANIZATION", "RJ"),  # initials, typed an organisation
        ("LOCATION", "Amerika Serikat"),  # a place of the NER sets' gold
        ("LOCATION", "Utang"),  # a common word that starts a sentence
        ("ORGANIZATION", "Polres Kerinci"),  # an institution's word
        ("ORGANIZATION", "KPAI"),  # an acronym
        ("LOCATION", "Jambi"),  # a gazetteer name
    ]
    case = _with_entities(text, entities, "incident")
    assert mistyped_person_names(case) == ["Shaquille", "RJ"]
    masked = mask_victims(text, case)
    assert "Shaquille" not in masked and "RJ" not in masked
    for kept in ("Amerika Serikat", "Utang", "Polres Kerinci", "KPAI", "Jambi"):
        assert kept in masked
    exposure = victim_name_exposure("", text, case, ["Shaquille"])
    assert (exposure.mentions, exposure.visible, exposure.masks) == (2, 0, 3)
    # Not a case: the names stay (aggregate articles name officials, not victims).
    aggregate = _with_entities(text, entities, "aggregate")
    assert mistyped_person_names(aggregate) == []
    assert mask_victims(text, aggregate) == text


def test_a_common_word_typed_as_an_organisation_is_masked_as_part_of_a_name() -> None:
    from web.masking import mistyped_person_names

    text = "Tiga Setia Gara dipukul suaminya. Kata Tiga, ia takut. Utang mereka lunas."
    entities = [
        ("ORGANIZATION", "Tiga Setia Gara"),
        ("ORGANIZATION", "Tiga"),  # "tiga" is a common word (three): a name only here
        ("LOCATION", "Utang"),  # a common word, no name's part
    ]
    case = _with_entities(text, entities, "incident")
    assert mistyped_person_names(case) == ["Tiga Setia Gara", "Tiga"]
    assert mask_victims(text, case) == f"{MASK} dipukul suaminya. Kata {MASK}, ia takut. " + (
        "Utang mereka lunas."
    )


def test_known_entities_are_places_and_organisations_never_persons() -> None:
    module = load_script("build_known_entities")
    labels = {
        "Amerika Serikat": {"LOCATION"},
        "Telkom": {"ORGANIZATION"},
        "Jordan": {"LOCATION", "PERSON"},  # a country and a person's name: not known
        "Budi": {"PERSON"},
        "Sumatera Utara—Medan": {"LOCATION"},  # not ASCII: masking never sees this shape
    }
    assert module.known_entities(labels) == ["Amerika Serikat", "Telkom"]


def test_known_entities_rebuild_from_shared_data_matches_committed_file(
    data_dir: Path, tmp_path: Path
) -> None:
    from nlp.gazetteer import KNOWN_ENTITIES_FILE

    out = tmp_path / "known-entities.tsv"
    subprocess.run(
        [
            sys.executable,
            str(SCRIPTS_DIR / "build_known_entities.py"),
            "--data-dir",
            str(data_dir),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == KNOWN_ENTITIES_FILE.read_bytes(), "stale: rerun the script"
