"""The JSONL contract of `pantau tag`: one output line per input line, in order, every good
line valid against tagged-article.schema.json, every bad line an error object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from nlp.contract import TagLineResult, tag_jsonl
from nlp.tagger import RuleTagger


@pytest.fixture(scope="module")
def tagger() -> RuleTagger:
    return RuleTagger()


@pytest.fixture(scope="module")
def validator(shared: Path) -> Draft202012Validator:
    schema = json.loads((shared / "contracts" / "tagged-article.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def article(article_id: str, title: str, text: str, **extra: Any) -> str:
    return json.dumps({"id": article_id, "title": title, "text": text, **extra}) + "\n"


GOOD_INCIDENT = article(
    "a1",
    "Siswi SMP di Muaro Jambi Dicabuli Ayah Tiri",
    "SENGETI – Seorang siswi SMP berinisial M (14) di Kecamatan Sekernan, Muaro Jambi, "
    "menjadi korban pencabulan oleh ayah tirinya pada Senin (16/11) malam. Pelaku "
    "berinisial SP (41) sudah ditangkap.",
    published="2026-11-18T09:30:00+07:00",
    source="Jambi Ekspres",
    url="https://jambiekspres.disway.id/read/715566/contoh",
)
GOOD_AGGREGATE = article(
    "a2",
    "149 Kasus Kekerasan terhadap Perempuan dan Anak di Kota Jambi",
    "DPMPPA Kota Jambi mencatat 149 kasus kekerasan terhadap perempuan dan anak sepanjang "
    "2026. Sosialisasi pencegahan terus digencarkan.",
)
GOOD_NONE = article("a3", "Persijam Menang 2-1", "Persijam Jambi menang 2-1 di kandang.")
GOOD_ENGLISH = article("a4", "Match report", "The home side won two to one on Saturday.")
GOOD_EMPTY = json.dumps({"id": "a5", "text": ""}) + "\n"
GOOD_UNICODE = article("a6", "Ünïcødé 💔", "Bocah dianiaya \u200b ayah tirinya\x00 di Jambi.")
EXTRA_FIELDS = json.dumps({"id": "a7", "text": "Berita biasa.", "crawler": {"x": 1}}) + "\n"

MIXED_LINES: list[tuple[str, str | None, str | None]] = [
    # (input line, expected output id, expected error fragment or None)
    (GOOD_INCIDENT, "a1", None),
    ("{not json\n", None, "not valid JSON"),
    (GOOD_AGGREGATE, "a2", None),
    ("[1, 2, 3]\n", None, "not a JSON object"),
    ('"just a string"\n', None, "not a JSON object"),
    (json.dumps({"title": "no id", "text": "x"}) + "\n", None, "'id'"),
    (json.dumps({"id": "", "text": "x"}) + "\n", None, "'id'"),
    (json.dumps({"id": 42, "text": "x"}) + "\n", None, "'id'"),
    (json.dumps({"id": "b1", "title": "no text"}) + "\n", "b1", "'text'"),
    (json.dumps({"id": "b2", "text": None}) + "\n", "b2", "'text'"),
    (json.dumps({"id": "b3", "text": "x", "title": 7}) + "\n", "b3", "'title'"),
    ("\n", None, "blank line"),
    ("   \t \n", None, "blank line"),
    (GOOD_NONE, "a3", None),
    (GOOD_ENGLISH, "a4", None),
    (GOOD_EMPTY, "a5", None),
    (GOOD_UNICODE, "a6", None),
    (EXTRA_FIELDS, "a7", None),
    ('{"id": "b4", "text": "unterminated\n', None, "not valid JSON"),
]


def run(tagger: RuleTagger, lines: list[str]) -> list[TagLineResult]:
    return list(tag_jsonl(lines, tagger))


def test_one_result_per_line_in_order(tagger: RuleTagger, validator: Draft202012Validator) -> None:
    results = run(tagger, [line for line, _, _ in MIXED_LINES])
    assert [r.line_number for r in results] == list(range(1, len(MIXED_LINES) + 1))
    for result, (_, expected_id, expected_error) in zip(results, MIXED_LINES, strict=True):
        output = json.loads(result.output)
        assert "\n" not in result.output
        assert output["id"] == expected_id
        if expected_error is None:
            assert result.ok, result.error
            assert "error" not in output
            validator.validate(output)
        else:
            assert not result.ok
            assert set(output) == {"id", "error"}
            assert expected_error in output["error"]
            assert result.error is not None
            assert result.error.startswith(f"line {result.line_number}: ")
            assert expected_error in result.error


def test_good_lines_carry_the_decisions(tagger: RuleTagger) -> None:
    incident, aggregate, none, english = (
        json.loads(r.output)
        for r in run(tagger, [GOOD_INCIDENT, GOOD_AGGREGATE, GOOD_NONE, GOOD_ENGLISH])
    )
    assert incident["relevance"] == "incident"
    assert incident["categories"] == ["kekerasan_seksual"]
    assert incident["incident_date"] == "2026-11-16"
    assert incident["model"]["name"] == "pantau-rules"
    assert aggregate["relevance"] == "aggregate"
    assert none["relevance"] == "none"
    assert none["categories"] == []
    assert english["language"] == "en"
    assert english["relevance"] == "none"


def test_an_unreadable_publication_date_is_tagged_with_a_warning(tagger: RuleTagger) -> None:
    """Not ISO 8601 (a month-first "11/18/2026 09:30"): the article is tagged all the
    same, but a day without a year cannot be resolved, and stderr says why the date is
    missing."""
    fields = json.loads(GOOD_INCIDENT)
    odd = article("a8", fields["title"], fields["text"], published="11/18/2026 09:30")
    good, bad = run(tagger, [GOOD_INCIDENT, odd])
    assert good.ok and good.warning is None
    assert bad.ok, bad.error
    tagged = json.loads(bad.output)
    assert tagged["relevance"] == "incident"
    assert tagged["incident_date"] is None
    assert bad.warning is not None
    assert bad.warning.startswith("line 2: article a8: 'published' is not an ISO 8601 date")
    assert "11/18/2026 09:30" in bad.warning


def test_every_schema_property_is_written(tagger: RuleTagger, shared: Path) -> None:
    schema = json.loads((shared / "contracts" / "tagged-article.schema.json").read_text())
    output = json.loads(run(tagger, [GOOD_INCIDENT])[0].output)
    assert set(schema["properties"]) - {"error"} <= set(output)


def test_non_ascii_text_is_written_as_utf8(tagger: RuleTagger) -> None:
    line = article("berita–ü1", "Siswi dicabuli – “kejadian” di Jambi", "Seorang siswi dicabuli.")
    output = run(tagger, [line])[0].output
    assert '"id":"berita–ü1"' in output  # not \u-escaped


def test_lone_surrogates_still_give_a_writable_line(tagger: RuleTagger) -> None:
    line = '{"id": "s1", "title": "x", "text": "Bocah \\ud800 dianiaya ayah tirinya."}\n'
    result = run(tagger, [line])[0]
    assert result.ok
    result.output.encode("utf-8")  # writable: no lone surrogate left unescaped
    assert json.loads(result.output)["id"] == "s1"


def test_trailing_newline_is_not_a_line_but_an_empty_line_is(tagger: RuleTagger) -> None:
    text = GOOD_NONE + GOOD_ENGLISH  # as read from a file ending with "\n"
    assert [r.ok for r in run(tagger, text.splitlines(keepends=True))] == [True, True]
    with_blank = GOOD_NONE + "\n" + GOOD_ENGLISH
    assert [r.ok for r in run(tagger, with_blank.splitlines(keepends=True))] == [
        True,
        False,
        True,
    ]


def test_crlf_and_byte_order_mark(tagger: RuleTagger) -> None:
    lines = ["\ufeff" + GOOD_NONE.replace("\n", "\r\n"), GOOD_ENGLISH.replace("\n", "\r\n")]
    assert all(result.ok for result in run(tagger, lines))


def test_lines_are_tagged_lazily(tagger: RuleTagger) -> None:
    def endless() -> Any:
        while True:
            yield GOOD_NONE

    results = tag_jsonl(endless(), tagger)
    assert next(results).ok
    assert next(results).line_number == 2


def test_a_failing_tagger_costs_one_line(
    tagger: RuleTagger, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = tagger.tag

    def fragile(article: Any) -> Any:
        if article.id == "boom":
            raise RuntimeError("bug")
        return original(article)

    monkeypatch.setattr(tagger, "tag", fragile)
    results = run(tagger, [GOOD_NONE, json.dumps({"id": "boom", "text": "x"}), GOOD_ENGLISH])
    assert [r.ok for r in results] == [True, False, True]
    assert json.loads(results[1].output) == {"id": "boom", "error": "tagging failed: RuntimeError"}


def test_deeply_nested_json_is_an_error_line(tagger: RuleTagger) -> None:
    result = run(tagger, ["[" * 100_000 + "]" * 100_000])[0]
    assert not result.ok
    assert json.loads(result.output)["id"] is None
