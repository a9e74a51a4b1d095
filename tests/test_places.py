"""Places of an article: roles and primary location (nlp/places.py, taxonomy.md)."""

from __future__ import annotations

import inspect

import pytest

from nlp.places import dateline_span, extract_places
from pantau.models import LocationMention, Region, Relevance


def roles(locations: list[LocationMention]) -> dict[str | None, str]:
    return {location.code: location.role for location in locations}


def primary_code(title: str, text: str, relevance: Relevance = "incident") -> str | None:
    primary = extract_places(title, text, relevance)[1]
    return primary.code if primary else None


def test_signature_is_the_stubs() -> None:
    parameters = inspect.signature(extract_places).parameters
    assert list(parameters)[:3] == ["title", "text", "relevance"]


def test_foiled_departure_origin_destination_and_incident() -> None:
    title = "12 Calon PMI Ilegal Digagalkan di Pelabuhan"
    text = (
        "Sebanyak 12 warga Kerinci yang akan diberangkatkan ke Malaysia melalui Pelabuhan "
        "Kuala Tungkal berhasil diamankan petugas, Sabtu (16/5). Mereka dijanjikan bekerja "
        "di perkebunan sawit dengan gaji Rp 6 juta per bulan."
    )
    locations, primary = extract_places(title, text, "incident")
    assert roles(locations) == {"15.01": "origin", "MY": "destination", "15.06": "incident"}
    assert primary == Region(
        name="Kabupaten Tanjung Jabung Barat",
        code="15.06",
        level="kabupaten_kota",
        province_code="15",
        lat=primary.lat if primary else None,
        lon=primary.lon if primary else None,
    )
    assert primary is not None and primary.lat is not None and primary.lon is not None
    malaysia = next(location for location in locations if location.code == "MY")
    assert (malaysia.name, malaysia.level, malaysia.province_code) == ("Malaysia", "negara", None)


def test_police_unit_is_where_the_case_is_handled() -> None:
    text = "Polres Tanjab Barat menggagalkan pengiriman 22 PMI ilegal asal Kerinci."
    locations, primary = extract_places("", text, "incident")
    assert roles(locations) == {"15.06": "incident", "15.01": "origin"}
    assert primary is not None and primary.code == "15.06"


def test_province_police_alone_gives_the_province() -> None:
    text = (
        "Polda Jambi menggagalkan pengiriman lima PMI ilegal. Para korban merupakan warga "
        "Kabupaten Kerinci."
    )
    locations, primary = extract_places("PMI Ilegal Digagalkan", text, "incident")
    assert roles(locations) == {"15": "incident", "15.01": "origin"}
    assert primary is not None and (primary.code, primary.name) == ("15", "Jambi")


def test_address_chain_carries_the_origin_cue() -> None:
    text = (
        "Korban merupakan warga Desa Pulau Tengah, Kecamatan Keliling Danau, Kabupaten "
        "Kerinci. Ia telah dipulangkan ke Kabupaten Merangin, tempat orang tuanya tinggal."
    )
    locations, _ = extract_places("", text, "incident")
    assert roles(locations) == {"15.01.08": "origin", "15.01": "origin", "15.02": "origin"}
    kecamatan = locations[0]
    assert (kecamatan.name, kecamatan.level, kecamatan.province_code) == (
        "Keliling Danau",
        "kecamatan",
        "15",
    )


def test_story_place_beats_the_dateline() -> None:
    text = (
        "JAMBI, JAMBIEKSPRES.CO.ID - Seorang siswi SMP dicabuli tetangganya di Desa Sungai "
        "Duren, Kecamatan Jambi Luar Kota, Kabupaten Muaro Jambi, Rabu (13/11)."
    )
    locations, primary = extract_places("Siswi SMP Dicabuli Tetangga", text, "incident")
    assert roles(locations) == {"15": "mentioned", "15.05.01": "incident", "15.05": "incident"}
    assert primary is not None and primary.code == "15.05"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("MUARASABAK (ANTARA) - Polisi menangkap pria yang mencabuli anak tirinya.", "15.07"),
        ("KUALA TUNGKAL, JAMBIEKSPRES.CO.ID - Polisi menangkap seorang mucikari.", "15.06"),
        ("TRIBUNJAMBI.COM, MUARA BULIAN – Seorang ibu melaporkan penganiayaan anaknya.", "15.04"),
        ("Jambi (ANTARA) - Seorang bocah dianiaya ayah kandungnya.", "15"),
    ],
)
def test_dateline_is_the_fallback(text: str, code: str) -> None:
    locations, primary = extract_places("Pelaku Ditangkap", text, "incident")
    assert roles(locations) == {code: "mentioned"}
    assert primary is not None and primary.code == code


def test_dateline_span() -> None:
    text = "KUALA TUNGKAL, JAMBIEKSPRES.CO.ID - Polisi menangkap pelaku."
    start, end = dateline_span(text)
    assert text[start:end] == "KUALA TUNGKAL, JAMBIEKSPRES.CO.ID"
    assert dateline_span("Seorang anak di Muko-muko - begitu kata polisi.") == (0, 0)
    assert dateline_span("Tidak ada dateline di sini.") == (0, 0)


def test_kecamatan_maps_up_to_its_kota() -> None:
    text = "Seorang bocah dianiaya ibu tirinya di rumah mereka di Kecamatan Telanaipura."
    locations, primary = extract_places("Bocah Dianiaya Ibu Tiri", text, "incident")
    assert roles(locations) == {"15.71.01": "incident"}
    assert primary is not None
    assert (primary.code, primary.name, primary.level) == ("15.71", "Kota Jambi", "kabupaten_kota")


def test_title_place_counts() -> None:
    assert primary_code("Siswi SMP di Tebo Dicabuli Ayah Tiri", "Polisi menahan pelaku.") == "15.09"


def test_foreign_country_is_never_primary() -> None:
    text = "Dua warga Jambi menjadi korban TPPO di Kamboja dan kini telah dipulangkan."
    locations, primary = extract_places("", text, "incident")
    assert roles(locations) == {"15": "origin", "KH": "destination"}
    assert primary is not None and primary.code == "15"
    only_abroad = "Korban dipulangkan dari Malaysia setelah tiga bulan bekerja tanpa gaji."
    locations, primary = extract_places("", only_abroad, "incident")
    assert roles(locations) == {"MY": "destination"}
    assert primary is None


def test_aggregate_about_the_province() -> None:
    text = (
        "DPPPA Provinsi Jambi mencatat 300 kasus kekerasan terhadap perempuan dan anak di "
        "Provinsi Jambi sepanjang 2024, terbanyak di Kota Jambi dan Kabupaten Muaro Jambi."
    )
    assert primary_code("300 Kasus Kekerasan Sepanjang 2024", text, "aggregate") == "15"


def test_aggregate_about_the_city() -> None:
    title = "149 Kasus Kekerasan Perempuan dan Anak di Kota Jambi hingga Oktober"
    text = "Dinas PPPA mencatat 149 kasus, sebagian besar kekerasan seksual terhadap anak."
    assert primary_code(title, text, "aggregate") == "15.71"


def test_relevance_none_lists_places_as_mentioned() -> None:
    text = (
        "Banjir melanda Kabupaten Kerinci. Ratusan rumah di Kerinci terendam, dan jalan "
        "menuju Sungai Penuh terputus."
    )
    locations, primary = extract_places("Banjir di Kerinci", text, "none")
    assert roles(locations) == {"15.01": "mentioned", "15.72": "mentioned"}
    assert primary is not None and primary.code == "15.01"


def test_no_place_no_primary() -> None:
    assert extract_places("", "Polisi menangkap pelaku pencabulan.", "incident") == ([], None)
    assert extract_places("", "", "none") == ([], None)


def test_locations_are_deduplicated_in_reading_order_with_the_strongest_role() -> None:
    title = "Warga Kerinci Jadi Korban Pencabulan"
    text = (
        "Seorang remaja asal Kerinci dicabuli di Kota Jambi. Pelaku ditangkap di Kerinci "
        "saat pulang kampung. Kasus di Kota Jambi ini ditangani Polresta Jambi."
    )
    locations, primary = extract_places(title, text, "incident")
    assert [location.code for location in locations] == ["15.01", "15.71"]
    assert roles(locations) == {"15.01": "incident", "15.71": "incident"}
    assert primary is not None and primary.code == "15.71"


def test_locations_validate_as_contract_regions() -> None:
    text = "Warga Kecamatan Kumpeh, Muaro Jambi, hendak dikirim ke Kamboja lewat Batam."
    locations, primary = extract_places("", text, "incident")
    assert roles(locations) == {
        "15.05.03": "origin",
        "15.05": "origin",
        "KH": "destination",
        "21.71": "incident",
    }
    for location in locations:
        dumped = location.model_dump()
        assert set(dumped) == {"name", "code", "level", "province_code", "lat", "lon", "role"}
        if location.level == "negara":
            assert location.province_code is None
        else:
            assert location.code is not None and location.province_code is not None
            assert location.code.startswith(location.province_code)
            assert location.lat is not None and location.lon is not None
    assert primary is not None and primary.level in ("provinsi", "kabupaten_kota")


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        # A national debate names where a statement was made and who made it: no place.
        (
            "Komnas Perempuan Desak RUU PKS Segera Disahkan",
            "JAKARTA – Gubernur Jawa Tengah mendukung desakan itu, katanya di Semarang, Rabu.",
            None,
        ),
        # A local body's statistics are its place's, headline or not.
        (
            "Kasus Kekerasan terhadap Anak Meningkat",
            "JAMBI – DPMPPA Kota Jambi mencatat 149 kasus hingga Oktober 2026.",
            "15.71",
        ),
        ("Pelajar SMA di Kuala Tungkal Dibekali Pengetahuan Cegah TPPO", "Sosialisasi.", "15.06"),
    ],
)
def test_aggregate_is_about_a_place_only_when_local(
    title: str, text: str, expected: str | None
) -> None:
    assert primary_code(title, text, "aggregate") == expected
