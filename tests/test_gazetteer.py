"""The gazetteer tables and the place matcher (nlp/gazetteer.py).

All tests but the rebuild test read only the committed files under nlp/data/gazetteer/.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import pytest

from nlp.gazetteer import (
    GAZETTEER_DIR,
    HOME_PROVINCE_CODE,
    Gazetteer,
    PlaceMatch,
    load_gazetteer,
)
from tests.helpers import load_script


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


def codes(
    gazetteer: Gazetteer,
    text: str,
    *,
    home_province: str | None = HOME_PROVINCE_CODE,
    context: Sequence[str] = (),
) -> list[str]:
    matches = gazetteer.find(text, home_province=home_province, context=context)
    return [match.place.code for match in matches]


def only_match(gazetteer: Gazetteer, text: str) -> PlaceMatch:
    matches = gazetteer.find(text)
    assert len(matches) == 1, [(m.text, m.place.code) for m in matches]
    return matches[0]


def tsv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        lines = [line for line in handle if line.strip() and not line.startswith("#")]
    return list(csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE))


# ---- the tables --------------------------------------------------------------------------


def test_regions_table_has_every_level_with_coordinates() -> None:
    header, *rows = tsv_rows(GAZETTEER_DIR / "regions.tsv")
    assert header == ["code", "name", "level", "province_code", "parent_code", "lat", "lon"]
    by_level: dict[str, int] = {}
    for code, _name, level, province_code, parent_code, lat, lon in rows:
        by_level[level] = by_level.get(level, 0) + 1
        assert code.split(".")[0] == province_code
        assert parent_code == ".".join(code.split(".")[:-1])
        assert lat and lon, f"{code} has no coordinates"
    assert by_level == {"provinsi": 38, "kabupaten_kota": 514, "kecamatan": 7285}
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)
    assert (GAZETTEER_DIR / "regions.tsv").stat().st_size < 1_000_000


def test_jambi_regions_have_their_official_names(gazetteer: Gazetteer) -> None:
    assert gazetteer["15"].name == "Jambi"
    assert gazetteer["15"].level == "provinsi"
    assert gazetteer["15.06"].name == "Kabupaten Tanjung Jabung Barat"
    assert gazetteer["15.07"].name == "Kabupaten Tanjung Jabung Timur"
    assert gazetteer["15.71"].name == "Kota Jambi"
    assert gazetteer["15.71.01"].name == "Telanaipura"
    assert gazetteer["15.71.01"].parent_code == "15.71"
    assert [p.code for p in gazetteer.ancestors(gazetteer["15.71.01"])] == ["15.71", "15"]
    assert [p.code for p in gazetteer.by_name("Tanjabbar")] == ["15.06"]
    assert {p.code for p in gazetteer.by_name("Jambi")} == {"15", "15.71"}


def test_every_alias_points_to_a_real_region() -> None:
    regions = {row[0] for row in tsv_rows(GAZETTEER_DIR / "regions.tsv")[1:]}
    header, *aliases = tsv_rows(GAZETTEER_DIR / "aliases.tsv")
    assert header == ["alias", "code", "kind"]
    assert aliases
    for alias, code, kind in aliases:
        assert kind in {"name", "capital", "police", "block"}, alias
        if kind == "block":
            assert code == "-", alias
        else:
            assert code in regions, f"alias {alias!r} -> unknown code {code!r}"


def test_countries_table_has_the_trafficking_destinations(gazetteer: Gazetteer) -> None:
    header, *rows = tsv_rows(GAZETTEER_DIR / "countries.tsv")
    assert header == ["code", "name", "name_en", "aliases", "lat", "lon"]
    iso_codes = {row[0] for row in rows}
    # Destinations of trafficking and of non-procedural migrant work from Indonesia.
    expected = {"MY", "KH", "MM", "TH", "SG", "BN", "PH", "LA", "VN", "TW", "HK"}
    expected |= {"JP", "KR", "CN", "SA", "AE", "QA", "KW", "OM", "TR", "TL", "AU"}
    assert expected <= iso_codes
    assert all(len(code) == 2 and code.isupper() for code in iso_codes)
    assert gazetteer["KH"].name == "Kamboja"
    assert gazetteer["KH"].level == "negara"


def test_load_gazetteer_is_cached() -> None:
    assert load_gazetteer() is load_gazetteer()


# ---- aliases and cue words ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        ("Dua pelaku ditangkap di Tanjabbar pada Senin malam.", "15.06"),
        ("Kasus ini terjadi di Tanjab Barat, kata polisi.", "15.06"),
        ("Korban tinggal di Tanjung Jabung Barat sejak kecil.", "15.06"),
        ("Polisi di Tanjabtim menerima laporan itu.", "15.07"),
        ("Seorang ibu di Tanjab Timur melapor ke polisi.", "15.07"),
        ("Balita itu ditemukan di Muarojambi dalam keadaan lemas.", "15.05"),
        ("Pelaku diringkus di Muaro Jambi setelah buron sebulan.", "15.05"),
        ("Banjir kembali melanda Batanghari pekan ini.", "15.04"),
        ("Warga Batang Hari diminta waspada terhadap calo PMI.", "15.04"),
        ("Pelaku berasal dari Sungaipenuh.", "15.72"),
        ("Kapal itu bersandar di Kuala Tungkal sore hari.", "15.06"),
        ("Sidang digelar di Pengadilan Negeri Muara Bulian.", "15.04"),
        ("Rapat koordinasi diadakan di Sengeti, Selasa.", "15.05"),
        ("Bocah itu dibawa ke RSUD Bangko.", "15.02"),
        ("Polisi berjaga di terminal Muara Bungo.", "15.08"),
        ("Razia digelar di Muara Tebo tadi malam.", "15.09"),
        ("Tersangka ditahan di Sarolangun.", "15.03"),
        ("Kapal bersandar di Muarasabak.", "15.07"),
    ],
)
def test_jambi_aliases(gazetteer: Gazetteer, sentence: str, code: str) -> None:
    match = only_match(gazetteer, sentence)
    assert match.place.code == code
    assert sentence[match.start : match.end] == match.text


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        ("Polda Jambi menggagalkan pengiriman 22 PMI ilegal.", "15"),
        ("Kasus ditangani Polresta Jambi.", "15.71"),
        ("Tim Polres Kerinci mengamankan pelaku.", "15.01"),
        ("Polres Merangin menahan dua orang.", "15.02"),
        ("Polres Sarolangun menerima laporan ibu korban.", "15.03"),
        ("Polres Batanghari membongkar sindikat itu.", "15.04"),
        ("Polres Batang Hari membongkar sindikat itu.", "15.04"),
        ("Polres Muaro Jambi menangkap seorang mucikari.", "15.05"),
        ("Polres Tanjab Barat menggagalkan keberangkatan.", "15.06"),
        ("Polres Tanjabbar menggagalkan keberangkatan.", "15.06"),
        ("Kapolres Tanjung Jabung Barat memimpin konferensi pers.", "15.06"),
        ("Polres Tanjabtim menyelidiki kasus itu.", "15.07"),
        ("Polres Tanjab Timur menyelidiki kasus itu.", "15.07"),
        ("Polres Bungo menetapkan tersangka.", "15.08"),
        ("Polres Tebo menetapkan tersangka.", "15.09"),
        # generic rules, outside Jambi
        ("Polda Riau menyelamatkan 30 calon PMI.", "14"),
        ("Polres Kampar menangkap pelaku.", "14.01"),
        ("Polresta Pekanbaru menangkap pelaku.", "14.71"),
        ("Polres Metro Jakarta Selatan menangkap pelaku.", "31.74"),
        ("Polda Metro Jaya menangkap pelaku.", "31"),
        # The police of a kota that shares its name with a kabupaten, named after it;
        # "Polres Probolinggo" alone is the kabupaten's.
        ("Polres Probolinggo Kota menyelidiki kasus itu.", "35.74"),
        ("Polres Probolinggo menyelidiki kasus itu.", "35.13"),
        ("Kasat Reskrim Polres Sukabumi Kota mengatakan, laporan diterima.", "32.72"),
        ("Korban melapor ke Polresta Jogja.", "34.71"),
    ],
)
def test_police_units(gazetteer: Gazetteer, sentence: str, code: str) -> None:
    match = only_match(gazetteer, sentence)
    assert match.place.code == code
    assert match.police


def test_polsek_names_a_kecamatan_of_the_province_in_context(gazetteer: Gazetteer) -> None:
    match = only_match(gazetteer, "Anggota Polsek Telanaipura mendatangi lokasi.")
    assert (match.place.code, match.police, match.cue) == ("15.71.01", True, "Polsek")
    # Kumpeh is a kecamatan of Muaro Jambi; no cue and no context: no match.
    assert codes(gazetteer, "Warga Kumpeh resah.") == []
    assert codes(gazetteer, "Kapolsek Kumpeh membenarkan kejadian itu.") == ["15.05.03"]


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        ("Seorang siswi di Kota Jambi dicabuli.", "15.71"),
        ("Warga kota Jambi diminta melapor.", "15.71"),
        ("Pemkot Jambi membuka rumah aman.", "15.71"),
        ("Wali Kota Jambi meninjau lokasi.", "15.71"),
        ("Gubernur Jambi meresmikan UPTD PPA.", "15"),
        ("DPPPA Provinsi Jambi mencatat 300 kasus.", "15"),
        ("Data Prov. Jambi menunjukkan kenaikan.", "15"),
        ("Angka kekerasan di Jambi meningkat.", "15"),
        ("JAMBI, JAMBIEKSPRES.CO.ID - Polisi menangkap pelaku.", "15"),
    ],
)
def test_kota_jambi_and_province_jambi(gazetteer: Gazetteer, sentence: str, code: str) -> None:
    assert codes(gazetteer, sentence) == [code]


@pytest.mark.parametrize(
    "sentence",
    [
        "Pelaku ditangkap di Kabupaten Muaro Jambi.",
        "Pelaku ditangkap di Kab. Muaro Jambi.",
        "Pelaku ditangkap di Kab Muaro Jambi.",
        "Pelaku ditangkap di kabupaten Muaro Jambi.",
        "PELAKU DITANGKAP DI KABUPATEN MUARO JAMBI",
        "Pemkab Muaro Jambi menyediakan pendampingan.",
        "Bupati Muaro Jambi menjenguk korban.",
    ],
)
def test_kabupaten_forms(gazetteer: Gazetteer, sentence: str) -> None:
    match = only_match(gazetteer, sentence)
    assert match.place.code == "15.05"
    assert match.place.name == "Kabupaten Muaro Jambi"


def test_kota_bare_name_only_when_unambiguous(gazetteer: Gazetteer) -> None:
    assert codes(gazetteer, "Ia bekerja di Pekanbaru.") == ["14.71"]  # only a kota
    assert codes(gazetteer, "Ia bekerja di Bogor.") == ["32.01"]  # kabupaten and kota
    assert codes(gazetteer, "Ia bekerja di Kota Bogor.") == ["32.71"]
    assert codes(gazetteer, "Ia bekerja di Kabupaten Bogor.") == ["32.01"]


def test_sungai_penuh_is_the_kota_unless_a_kecamatan_cue(gazetteer: Gazetteer) -> None:
    assert codes(gazetteer, "Ia tinggal di Sungai Penuh.") == ["15.72"]
    assert codes(gazetteer, "Ia tinggal di Kecamatan Sungai Penuh.") == ["15.72.01"]
    assert codes(gazetteer, "Ia tinggal di Kota Sungai Penuh.") == ["15.72"]


# ---- ambiguity, context, case -------------------------------------------------------------


def test_kecamatan_shared_by_provinces_resolved_by_context(gazetteer: Gazetteer) -> None:
    # Tebing Tinggi is a kecamatan in Tanjung Jabung Barat (Jambi), Empat Lawang (Sumatera
    # Selatan) and three more provinces, and a kota in Sumatera Utara.
    jambi = "Seorang anak dicabuli di Kecamatan Tebing Tinggi, Kabupaten Tanjab Barat."
    assert codes(gazetteer, jambi) == ["15.06.06", "15.06"]
    sumsel = "Seorang anak dicabuli di Kecamatan Tebing Tinggi, Kabupaten Empat Lawang."
    assert codes(gazetteer, sumsel) == ["16.11.04", "16.11"]
    # Bare, with its kabupaten elsewhere in the text: the kecamatan, not the Sumut kota.
    assert codes(gazetteer, "Warga Tebing Tinggi, Tanjab Barat, geger.") == ["15.06.06", "15.06"]
    # Bare, with nothing else: the only kabupaten/kota of that name.
    assert codes(gazetteer, "Ia merantau ke Tebing Tinggi.") == ["12.76"]
    # With a cue and no context: the home province decides; without one it stays unknown.
    assert codes(gazetteer, "Camat Tebing Tinggi hadir.") == ["15.06.06"]
    assert codes(gazetteer, "Camat Tebing Tinggi hadir.", home_province="16") == ["16.11.04"]
    assert codes(gazetteer, "Camat Tebing Tinggi hadir.", home_province=None) == []


def test_kecamatan_context_can_come_from_the_title(gazetteer: Gazetteer) -> None:
    # Air Hitam: a kecamatan of Sarolangun (Jambi) and of Lampung Barat (Lampung).
    body = "Peristiwa itu terjadi di Air Hitam pada Minggu dini hari."
    assert codes(gazetteer, body) == []
    assert codes(gazetteer, body, context=["Bocah Dianiaya di Sarolangun"]) == ["15.03.07"]
    assert codes(gazetteer, body, context=["Bocah Dianiaya di Lampung Barat"]) == ["18.04.19"]


def test_a_name_cannot_be_its_own_context(gazetteer: Gazetteer) -> None:
    # "Jambi Selatan" (kecamatan of Kota Jambi) contains "Jambi"; that "Jambi" must not
    # vouch for the kecamatan. Alone it is the provinsi; with Kota Jambi it is the kecamatan.
    assert codes(gazetteer, "Ia warga Jambi Selatan.") == ["15"]
    assert codes(gazetteer, "Ia warga Jambi Selatan, Kota Jambi.") == ["15.71.02", "15.71"]


@pytest.mark.parametrize(
    "sentence",
    [
        "Ia memotong batang hari ini juga.",
        "Mereka membangun kota baru di pinggir sungai.",
        "Serang warga dengan parang, pria ini ditangkap.",
        "Malang nian nasib bocah itu.",
        "Tribun Jambi memberitakan kasus itu kemarin.",
        "Kapal tanker itu melintas di Selat Malaka.",
        "Rumahnya di Jalan Bengkulu nomor 5.",
    ],
)
def test_no_place_in_ordinary_words(gazetteer: Gazetteer, sentence: str) -> None:
    assert codes(gazetteer, sentence) == []


def test_capitalised_place_matches_where_lowercase_does_not(gazetteer: Gazetteer) -> None:
    assert codes(gazetteer, "Sungai di Batang Hari meluap.") == ["15.04"]
    assert codes(gazetteer, "sungai di batang hari meluap.") == []
    assert codes(gazetteer, "Kota Serang menetapkan status darurat.") == ["36.73"]


def test_all_caps_datelines(gazetteer: Gazetteer) -> None:
    assert codes(gazetteer, "KUALA TUNGKAL, JAMBIEKSPRES.CO.ID - Polisi") == ["15.06"]
    assert codes(gazetteer, "TRIBUNJAMBI.COM, MUARASABAK - Polisi") == ["15.07"]


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        ("Korban dijanjikan kerja di Malaysia.", "MY"),
        ("Mereka dipekerjakan di Kamboja sebagai scammer.", "KH"),
        ("Ia dibawa ke Cambodia lewat Bangkok.", "KH"),
        ("Perusahaan itu beroperasi di Phnom Penh.", "KH"),
        ("Korban dikirim ke Korea Selatan.", "KR"),
        ("Ia bekerja di Uni Emirat Arab.", "AE"),
        ("PMI asal Jambi dipulangkan dari Tiongkok.", "CN"),
        ("Perbatasan Papua Nugini dijaga ketat.", "PG"),
    ],
)
def test_countries(gazetteer: Gazetteer, sentence: str, code: str) -> None:
    assert code in codes(gazetteer, sentence)
    if code == "PG":
        assert "91" not in codes(gazetteer, sentence)  # not the provinsi Papua


def test_offsets_are_valid(gazetteer: Gazetteer) -> None:
    text = (
        "KUALA TUNGKAL, JAMBIEKSPRES.CO.ID – Polres Tanjab Barat menggagalkan keberangkatan\n"
        "12 warga Kerinci ke Malaysia. Mereka tinggal di Kec. Keliling Danau, Kab. Kerinci,\n"
        "dan dijanjikan bekerja di Johor oleh calo asal Kota Jambi (Jambi Selatan)."
    )
    matches = gazetteer.find(text)
    assert [m.text for m in matches] == [
        "KUALA TUNGKAL",
        "Polres Tanjab Barat",
        "Kerinci",
        "Malaysia",
        "Kec. Keliling Danau",
        "Kab. Kerinci",
        "Johor",
        "Kota Jambi",
        "Jambi Selatan",
    ]
    previous_end = 0
    for match in matches:
        assert text[match.start : match.end] == match.text
        assert match.start >= previous_end
        previous_end = match.end


def test_a_two_megabyte_text_finds_every_repeated_place(gazetteer: Gazetteer) -> None:
    # Speed is measured in bench/ (a timed assertion here failed on a busy CI machine);
    # this checks that a very long text is scanned to its end with every place found.
    paragraph = (
        "Polres Tanjab Barat menggagalkan pengiriman 12 calon pekerja migran ilegal yang "
        "akan diberangkatkan ke Malaysia melalui Pelabuhan Kuala Tungkal. Menurut Kapolres, "
        "para korban dijanjikan pekerjaan di perkebunan dengan gaji besar, namun tidak "
        "memiliki dokumen resmi. Sebagian korban merupakan warga Kecamatan Kumpeh, "
        "Kabupaten Muaro Jambi, sementara lainnya berasal dari Kota Jambi dan Sarolangun. "
        "Petugas kemudian membawa mereka ke kantor polisi untuk dimintai keterangan, dan "
        "pemerintah daerah menyiapkan pendampingan psikologis bagi para korban.\n"
    )
    repeats = 2_000_000 // len(paragraph) + 1
    text = paragraph * repeats
    per_paragraph = [m.text for m in gazetteer.find(paragraph)]
    matches = gazetteer.find(text)
    assert len(text) >= 2_000_000
    assert len(per_paragraph) >= 5
    assert len(matches) == len(per_paragraph) * repeats
    last = matches[-1]
    assert last.start >= len(text) - len(paragraph)
    assert text[last.start : last.end] == last.text


# ---- reproducibility ----------------------------------------------------------------------


def test_rebuild_from_shared_data_matches_committed_files(data_dir: Path, tmp_path: Path) -> None:
    build_gazetteer = load_script("build_gazetteer")
    report = build_gazetteer.build(data_dir, tmp_path)
    assert report.missing_coordinates == []
    for name in ("regions.tsv", "ATTRIBUTION.md"):
        rebuilt = (tmp_path / name).read_bytes()
        assert rebuilt == (GAZETTEER_DIR / name).read_bytes(), f"{name} is stale: rebuild it"
