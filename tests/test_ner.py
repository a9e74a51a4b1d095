"""The Indonesian NER (nlp/ner): data mapping and the fold protocol, the news tokenizer,
the shipped model through the API and the tagger, bad input, and a smoke training of both
back ends (spaCy; a tiny BERT built offline) through `pantau train ner` / `pantau eval ner`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import spacy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nlp.ner import SHIPPED_MODEL_DIR, load_recognizer, recognize
from nlp.ner.data import (
    DATASETS,
    MISSING,
    Sentence,
    fold_split,
    mark_unannotated,
    read_conll,
    time_quantity_lexicon,
)
from nlp.ner.evaluate import bio_spans, score_spans
from nlp.ner.language import news_tokenizer_nlp
from nlp.ner.recognizer import chunks
from nlp.tagger import RuleTagger
from pantau.cli import app
from pantau.models import ArticleIn

runner = CliRunner()

NEWS = (
    "Kapolres Tanjung Jabung Barat AKBP Agung Wibowo mengatakan, tersangka ditangkap "
    "di Kuala Tungkal. Gubernur Jambi Al Haris menghadiri rapat di Jakarta pada Senin "
    "(16/11/2026). Komisi Pemberantasan Korupsi (KPK) memeriksa saksi."
)


# --- data: label mapping, missing labels, the fold protocol -----------------------------


def test_labels_map_onto_the_nerugm_scheme_and_unannotated_times_are_missing(
    tmp_path: Path,
) -> None:
    conll = tmp_path / "idner.txt"
    conll.write_text(
        "Budi PROPN B-PER\r\nke ADP O\r\nJambi PROPN B-LOC\r\npada ADP O\r\n"
        "2019 NUM O\r\n,\tPUNCT O\r\nbersama ADP O\r\n5 NUM O\r\norang NOUN O\r\n\r\n",
        encoding="utf-8",
    )
    (sentence,) = read_conll(conll, DATASETS["idner"])
    assert sentence.tags[:3] == ["B-PERSON", "O", "B-LOCATION"]
    ugm_like = Sentence(
        ["pada", "2019", "ada", "5", "orang"],
        ["O", "B-TIME", "O", "B-QUANTITY", "I-QUANTITY"],
    )
    lexicon = time_quantity_lexicon([ugm_like] * 3)
    marked = mark_unannotated(sentence, lexicon)
    # The idner set does not annotate TIME/QUANTITY: its O on "2019" and "5 orang" says
    # nothing, so those tokens are missing; its PERSON/LOCATION decisions stay.
    assert marked.tags[4] == MISSING and marked.tags[7:9] == [MISSING, MISSING]
    assert marked.tags[:4] == ["B-PERSON", "O", "B-LOCATION", "O"]
    assert mark_unannotated(ugm_like, lexicon).tags == ugm_like.tags


def test_a_fold_never_trains_on_a_sentence_of_either_test_file(data_dir: Path) -> None:
    split = fold_split(data_dir, 2)
    tested = {s.key for items in split.test.values() for s in items}
    assert tested and split.train and split.dev
    assert not tested & {s.key for s in split.train}
    assert not tested & {s.key for s in split.dev}
    # idner-news-2k re-annotates NER-UGM: its copies of test sentences were dropped.
    assert split.dropped_for_overlap > 100
    assert {"nerugm", "nerui", "nergrit"} <= {s.source for s in split.train}


def test_entity_scores_count_exact_spans_per_label() -> None:
    gold = bio_spans(["B-PERSON", "I-PERSON", "O", "B-LOCATION", "B-TIME"])
    predicted = {(0, 2, "PERSON"), (3, 4, "ORGANIZATION"), (4, 5, "TIME")}
    scores = score_spans([(gold, predicted)], ["PERSON", "LOCATION", "ORGANIZATION"])
    assert scores.micro.tp == 1 and scores.micro.fp == 1 and scores.micro.fn == 1
    assert scores.per_label["PERSON"].f1 == 1.0 and scores.per_label["LOCATION"].recall == 0


# --- tokenizer and sentences --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Kombes Pol. Budi", ["Kombes", "Pol.", "Budi"]),
        ("Kasat Reskrim Polres Tanjabbar", ["Kasat", "Reskrim", "Polres", "Tanjabbar"]),
        ("berinisial AS (37)", ["berinisial", "AS", "(", "37", ")"]),
        ("upah Rp2.918.000,-", ["upah", "Rp", "2.918.000", ",-"]),
        ("Rabu (13/11).", ["Rabu", "(", "13/11", ")", "."]),
        ("17-05-2026,06:57 WIB", ["17-05-2026", ",", "06:57", "WIB"]),
        (
            "Prof. Dr. H. Ahmad, S.H., M.H.",
            ["Prof.", "Dr.", "H.", "Ahmad", ",", "S.H.", ",", "M.H."],
        ),
    ],
)
def test_news_tokenizer(text: str, tokens: list[str]) -> None:
    assert [t.text for t in news_tokenizer_nlp()(text)] == tokens


def test_titles_with_a_period_do_not_end_a_sentence() -> None:
    doc = news_tokenizer_nlp()("Kombes Pol. Budi tiba di Jl. Sudirman. Ia lalu pulang.")
    assert [s.text for s in doc.sents] == [
        "Kombes Pol. Budi tiba di Jl. Sudirman.",
        "Ia lalu pulang.",
    ]


# --- the shipped model ------------------------------------------------------------------


def test_shipped_model_loads_with_plain_spacy_load() -> None:
    import spacy

    # The saved model names only spaCy's own tokenizer (the recognizer swaps in a faster
    # loader; `spacy.load(folder)` alone needs no Pantau code).
    config = spacy.util.load_config(SHIPPED_MODEL_DIR / "config.cfg", interpolate=False)
    assert config["nlp"]["tokenizer"]["@tokenizers"] == "spacy.Tokenizer.v1"
    nlp = load_recognizer().nlp  # type: ignore[attr-defined]
    assert nlp.meta["name"] == "id_pantau_ner"
    assert set(nlp.get_pipe("ner").labels) == {
        "PERSON",
        "ORGANIZATION",
        "LOCATION",
        "TIME",
        "QUANTITY",
    }
    size = sum(p.stat().st_size for p in SHIPPED_MODEL_DIR.rglob("*") if p.is_file())
    assert size <= 60 * 1024 * 1024


PREFIX_HEAVY = (
    '"(Budi)" [[Jambi]] ...Jakarta «KPK» ‘Polres’ $50 Rp.50.000 #kasus @polisi '
    "(16/11/2026), +62 --AKBP ¿¡x ((37)) 'AS' -- %5 ~Siti Tn. H. Ahmad,S.H."
)


PREFIX_HEAVY_TEXT = (
    st.lists(st.one_of(st.sampled_from(PREFIX_HEAVY.split()), st.text(max_size=6)), max_size=30)
    .map(" ".join)
    .filter(lambda text: "<a" not in text)
)  # the one documented difference


@settings(max_examples=60, deadline=None)
@given(text=PREFIX_HEAVY_TEXT)
def test_the_recognizer_tokenizes_like_the_news_tokenizer_it_was_trained_with(text: str) -> None:
    # The recognizer loads the model's tokenizer faster and with an anchored prefix search
    # (nlp.ner.language.LoadedNewsTokenizer): the tokens, hence the entities, must be those
    # of the plain news tokenizer.
    loaded = load_recognizer().nlp.tokenizer  # type: ignore[attr-defined]
    plain = news_tokenizer_nlp().tokenizer
    assert type(loaded).__name__ == "LoadedNewsTokenizer"
    for sample in (text, NEWS, PREFIX_HEAVY):
        assert [t.text for t in loaded(sample)] == [t.text for t in plain(sample)]


def test_recognize_finds_people_places_organisations_and_times() -> None:
    entities = recognize("Gubernur Al Haris Tinjau Banjir", NEWS)
    found = {(e.field, e.label, e.text) for e in entities}
    assert ("text", "PERSON", "Agung Wibowo") in found
    assert ("text", "PERSON", "Al Haris") in found
    assert ("text", "LOCATION", "Kuala Tungkal") in found
    assert ("text", "LOCATION", "Jakarta") in found
    assert ("text", "TIME", "Senin (16/11/2026)") in found
    # With or without the bracketed abbreviation after it (either is a right span).
    assert {
        ("text", "ORGANIZATION", "Komisi Pemberantasan Korupsi (KPK)"),
        (
            "text",
            "ORGANIZATION",
            "Komisi Pemberantasan Korupsi",
        ),
    } & found
    assert any(e.field == "title" and e.label == "PERSON" for e in entities)
    for entity in entities:
        field = "Gubernur Al Haris Tinjau Banjir" if entity.field == "title" else NEWS
        assert field[entity.start : entity.end] == entity.text


def test_a_rank_is_never_part_of_an_entity_and_marks_the_name_after_it() -> None:
    found = {(e.label, e.text) for e in recognize("", "Kombes Pol. Budi dan AKP Sri datang.")}
    assert ("PERSON", "Budi") in found and ("PERSON", "Sri") in found
    assert not any(text.startswith(("Kombes", "Pol.", "AKP")) for _, text in found)


MIXED_TEXT = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "Budi",
                "Santoso",
                "di",
                "Jambi",
                "Polres",
                "Rp2.918.000",
                "(13/11)",
                "Kombes",
                "Pol.",
                "AS",
                "(37)",
                "\n\n",
                "  ",
                "\x00",
                "\x07",
                "\u200b",
                "é",
                "北京",
                "Москва",
                "😀",
                "WIB,",
                "17-05-2026,06:57",
                "الله",
                "the",
                "police",
            ]
        ),
        st.text(max_size=8),
    ),
    max_size=40,
).map(" ".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=MIXED_TEXT, text=MIXED_TEXT)
def test_any_text_gives_valid_offsets(title: str, text: str) -> None:
    for entity in recognize(title, text):
        field = title if entity.field == "title" else text
        assert 0 <= entity.start < entity.end <= len(field)
        assert field[entity.start : entity.end] == entity.text


@given(text=st.text(max_size=300), size=st.integers(min_value=5, max_value=60))
def test_chunks_cover_the_text_exactly(text: str, size: int) -> None:
    pieces = list(chunks(text, size))
    assert "".join(piece for _, piece in pieces) == text
    assert all(text[offset : offset + len(piece)] == piece for offset, piece in pieces)


def test_a_2mb_article_is_tagged_with_valid_offsets() -> None:
    sentence = "Polisi menangkap Budi Santoso di Kota Jambi pada Rabu (13/11) malam. "
    text = (sentence * (2_000_000 // len(sentence) + 1))[:2_000_000]
    entities = recognize("", text[:70_000])  # more than one chunk of the model's input
    assert len({e.start for e in entities if e.text == "Budi Santoso"}) > 900
    tagged = RuleTagger().tag(ArticleIn(id="big", title="Penangkapan", text=text))
    assert tagged.entities
    for entity in tagged.entities:
        field = "Penangkapan" if entity.field == "title" else text
        assert field[entity.start : entity.end] == entity.text


def test_the_tagger_emits_model_entities_and_names_the_model_in_its_version() -> None:
    tagger = RuleTagger()
    with_model = tagger.tag(ArticleIn(id="n1", title="", text=NEWS))
    rules_only = RuleTagger(ner=None).tag(ArticleIn(id="n1", title="", text=NEWS))
    found = {(e.label, e.text) for e in with_model.entities}
    assert ("PERSON", "Agung Wibowo") in found
    assert ("PERSON", "Agung Wibowo") not in {(e.label, e.text) for e in rules_only.entities}
    assert re.search(r"\.ner[0-9a-f]{10}$", tagger.version)
    assert load_recognizer().digest in tagger.version

    # Where a rule pattern and the model overlap, the rule's exact span is kept (the model
    # alone reads "Rp2.918.000 kepada" as one quantity and initials as a place).
    text = "Calo berinisial AS (45) dijanjikan upah Rp2.918.000 kepada setiap orang."
    entities = tagger.tag(ArticleIn(id="n2", title="", text=text)).entities
    found = {(e.label, e.text) for e in entities}
    assert ("PERSON", "AS") in found and ("QUANTITY", "Rp2.918.000") in found
    assert all(
        not (e.start < f.end and f.start < e.end) for e in entities for f in entities if e is not f
    )


# --- `pantau eval ner` (recorded) and a smoke training of each back end -------------------


def test_eval_ner_prints_the_recorded_fold_table_and_how_to_rerun_it() -> None:
    result = runner.invoke(app, ["eval", "ner"])
    assert result.exit_code == 0, result.output
    assert "RECORDED" in result.output and "make ner-folds" in result.output
    assert "NER-UGM" in result.output and "IndoBERT 74.9" in result.output
    assert re.search(r"micro\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d", result.output)


def _small_files(data_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    folder = data_dir / "ner" / "indolem-nerugm"
    test_blocks = (folder / "test.01.tsv").read_text(encoding="utf-8").split("\n\n")[:120]
    test_file = tmp_path / "test.tsv"
    test_file.write_text("\n\n".join(test_blocks) + "\n", encoding="utf-8")
    return folder / "train.01.tsv", test_file


def test_smoke_training_train_save_load_eval(data_dir: Path, tmp_path: Path) -> None:
    train_file, test_file = _small_files(data_dir, tmp_path)
    vectors_dir = tmp_path / "vectors"
    counted = runner.invoke(
        app,
        [
            "train",
            "ner-vectors",
            "--output",
            str(vectors_dir),
            "--shared-data",
            str(data_dir),
            "--max-documents",
            "3000",
            "--dimensions",
            "16",
        ],
    )
    assert counted.exit_code == 0, counted.output
    model_dir = tmp_path / "model"
    trained = runner.invoke(
        app,
        [
            "train",
            "ner",
            "--vectors",
            str(vectors_dir),
            "--train-file",
            str(train_file),
            "--limit",
            "200",
            "--output",
            str(model_dir),
            "--set",
            "training.max_epochs=2",
            "--set",
            "training.max_steps=0",
            "--set",
            "training.batcher.size.start=120",
            "--set",
            "training.batcher.size.stop=120",
            "--set",
            "training.optimizer.learn_rate=0.004",
            "--set",
            "training.eval_frequency=1000",
        ],
    )
    assert trained.exit_code == 0, trained.output
    meta = json.loads((model_dir / "meta.json").read_text())
    assert meta["name"] == "id_pantau_ner"
    assert meta["static_vectors"]["dimensions"] == 16  # where its vectors came from
    # The model carries its vectors, one row for every spelling of a word.
    model = spacy.load(model_dir)
    assert model.vocab.vectors.shape[1] == 16
    jambi = [model.vocab["jambi"].vector, model.vocab["Jambi"].vector, model.vocab["JAMBI"].vector]
    assert jambi[0].any() and all((v == jambi[0]).all() for v in jambi)
    evaluated = runner.invoke(
        app, ["eval", "ner", "--model", str(model_dir), "--test", str(test_file), "--json"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    scores = json.loads(evaluated.stdout)
    assert scores["sentences"] == 120
    assert set(scores["per_label"]) == {"PERSON", "ORGANIZATION", "LOCATION", "TIME", "QUANTITY"}
    # Two short epochs are enough to find some entities, far from the real model.
    assert 0 < scores["micro"]["f1"] < 90


def _tiny_news(data_dir: Path) -> None:
    folder = data_dir / "news" / "click-id"
    folder.mkdir(parents=True)
    places = ["jambi", "padang", "medan", "bogor", "kupang"]
    foods = ["nasi", "mie", "sate", "soto", "bakso"]
    rows = ["title,content"]
    for i in range(60):
        place, food = places[i % 5], foods[(i * 2) % 5]
        rows.append(
            f"Berita {i},Warga di Kota {place.title()} makan {food} goreng pagi ini. "
            f"Polisi di Kota {place.title()} menangkap pencuri. Ibu membeli {food} hangat."
        )
    (folder / "tiny.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_vectors_put_words_of_the_same_contexts_together_and_are_cached(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from nlp.ner.vectors import VectorSettings, cached_vectors

    _tiny_news(tmp_path / "data")
    settings = VectorSettings(dimensions=4, min_count=2)
    built = cached_vectors(tmp_path / "data", tmp_path / "cache", settings)
    nlp = spacy.load(built)

    def similarity(a: str, b: str) -> float:
        return float(nlp.vocab[a].vector @ nlp.vocab[b].vector)

    # Places share "di Kota _", foods share "makan _ goreng": a place is nearer another
    # place than a food.
    assert similarity("jambi", "medan") > similarity("jambi", "sate")
    assert similarity("nasi", "soto") > similarity("nasi", "padang")
    assert (nlp.vocab["Jambi"].vector == nlp.vocab["jambi"].vector).all()
    with caplog.at_level("INFO", logger="nlp.ner.vectors"):
        again = cached_vectors(tmp_path / "data", tmp_path / "cache", settings)
    assert again == built and "reusing" in caplog.text
    # Nothing half-built is left beside the finished vectors.
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [built.name]


def test_tiny_bert_fine_tunes_offline_and_tags(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nlp.ner.transformer import build_tiny_backbone

    train_file, test_file = _small_files(data_dir, tmp_path)
    sentences = read_conll(train_file, DATASETS["nerugm"])[:200]
    backbone = build_tiny_backbone((" ".join(s.words) for s in sentences), tmp_path / "tiny")
    model_dir = tmp_path / "tiny-ner"
    trained = runner.invoke(
        app,
        [
            "train",
            "ner",
            "--backbone",
            str(backbone),
            "--train-file",
            str(train_file),
            "--limit",
            "200",
            "--max-steps",
            "40",
            "--batch-size",
            "8",
            "--learning-rate",
            "0.003",
            "--output",
            str(model_dir),
        ],
    )
    assert trained.exit_code == 0, trained.output
    assert (model_dir / "pantau_ner.json").is_file()
    evaluated = runner.invoke(
        app, ["eval", "ner", "--model", str(model_dir), "--test", str(test_file), "--json"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout)["micro"]["support"] > 0

    # The pipeline uses it when configured (ner.backend / ner.model_path).
    monkeypatch.setenv("PANTAU_NER__BACKEND", "transformers")
    monkeypatch.setenv("PANTAU_NER__MODEL_PATH", str(model_dir))
    recognizer = load_recognizer()
    assert type(recognizer).__name__ == "TransformerRecognizer"
    text = "Polisi menangkap Budi Santoso di Jambi pada Rabu (13/11).\x00 Lalu 北京."
    for entity in recognize("Judul", text, recognizer):
        field = "Judul" if entity.field == "title" else text
        assert field[entity.start : entity.end] == entity.text
