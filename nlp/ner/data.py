"""Reading the Indonesian NER sets, mapping their labels onto one scheme, and building the
training/test splits the IndoLEM protocol needs.

Every set is token-per-line CoNLL with BIO tags. Labels are mapped onto the IndoLEM NER-UGM
scheme (PERSON, ORGANIZATION, LOCATION, TIME, QUANTITY). A set that does not annotate a label
cannot say a token is *not* that label, so in sets without TIME/QUANTITY the tokens that look
like times or quantities are marked missing ("-"), not outside ("O"): spaCy then neither
rewards nor punishes the model there.

Pure functions on in-memory sentences, plus the file readers and the DocBin writer at the edge.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from pantau.export.labels import LabelledArticle
    from pantau.models import ArticleIn, Entity

LABELS: Final = ("PERSON", "ORGANIZATION", "LOCATION", "TIME", "QUANTITY")
MISSING: Final = "-"


@dataclass(frozen=True)
class DatasetSpec:
    """One NER set on disk: where it is, how its lines split, how its labels map."""

    name: str
    folder: str
    label_map: dict[str, str]
    # Labels of LABELS this set annotates; the others are missing, not O.
    annotates: frozenset[str]
    fields: str = "tab"  # "tab": token<TAB>tag; "space": token POS tag
    lowercased: bool = False


_FULL: Final = frozenset(LABELS)
_PLO: Final = frozenset({"PERSON", "ORGANIZATION", "LOCATION"})

DATASETS: Final[dict[str, DatasetSpec]] = {
    "nerugm": DatasetSpec("nerugm", "indolem-nerugm", {label: label for label in LABELS}, _FULL),
    "nerui": DatasetSpec(
        "nerui",
        "indolem-nerui",
        {label: label for label in ("PERSON", "ORGANIZATION", "LOCATION")},
        _PLO,
    ),
    "idner": DatasetSpec(
        "idner",
        "idner-news-2k",
        {"PER": "PERSON", "ORG": "ORGANIZATION", "LOC": "LOCATION"},
        _PLO,
        fields="space",
    ),
    "nergrit": DatasetSpec(
        "nergrit",
        "indonlu-nergrit",
        {"PERSON": "PERSON", "PLACE": "LOCATION", "ORGANISATION": "ORGANIZATION"},
        _PLO,
    ),
}

# Files of each set that hold sentences; the IndoLEM sets are split into folds instead.
EXTRA_FILES: Final[dict[str, tuple[str, ...]]] = {
    "idner": ("train.txt", "dev.txt"),
    "nergrit": ("train_preprocess.txt", "valid_preprocess.txt", "test_preprocess.txt"),
}
FOLD_SETS: Final = ("nerugm", "nerui")
FOLDS: Final = (1, 2, 3, 4, 5)


class NerDataError(ValueError):
    """A data file that cannot be read as token-per-line NER."""


@dataclass
class Sentence:
    words: list[str]
    # BIO tags in the LABELS scheme; MISSING for tokens whose label is unknown.
    tags: list[str]
    source: str = ""
    annotates: frozenset[str] = field(default_factory=lambda: _FULL)

    @property
    def key(self) -> str:
        return normalised_text(self.words)


def normalised_text(words: Sequence[str]) -> str:
    """The text two sets share when they hold the same sentence, whatever their tokenisation
    or casing: lower-case letters and digits only."""
    text = unicodedata.normalize("NFKC", "".join(words)).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def read_conll(path: Path, spec: DatasetSpec) -> list[Sentence]:
    """Sentences of one file, labels mapped; unknown labels (e.g. NERP's EVT) become O."""
    sentences: list[Sentence] = []
    words: list[str] = []
    tags: list[str] = []
    with path.open(encoding="utf-8-sig") as handle:
        for number, raw in enumerate(handle, 1):
            line = raw.rstrip("\r\n").rstrip("\r")
            if not line.strip():
                if words:
                    sentences.append(Sentence(words, tags, spec.name, spec.annotates))
                    words, tags = [], []
                continue
            parts = line.split("\t") if spec.fields == "tab" else line.split()
            if len(parts) < 2:
                raise NerDataError(f"{path}:{number}: expected a token and a tag, got {line!r}")
            word, tag = parts[0].strip(), parts[-1].strip()
            if not word:
                continue
            words.append(word)
            tags.append(_map_tag(tag, spec.label_map))
    if words:
        sentences.append(Sentence(words, tags, spec.name, spec.annotates))
    return [_repair_bio(sentence) for sentence in sentences]


def _map_tag(tag: str, label_map: dict[str, str]) -> str:
    if tag == "O" or "-" not in tag:
        return "O"
    prefix, label = tag.split("-", 1)
    mapped = label_map.get(label)
    if mapped is None or prefix not in ("B", "I"):
        return "O"
    return f"{prefix}-{mapped}"


def _repair_bio(sentence: Sentence) -> Sentence:
    """I- after O or after another label starts an entity (some files have such slips)."""
    previous = "O"
    repaired: list[str] = []
    for tag in sentence.tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        repaired.append(tag)
        previous = tag
    sentence.tags = repaired
    return sentence


# -- missing labels --------------------------------------------------------------------

_NUMBERISH: Final = re.compile(r"^[\d.,:/\-]*\d[\d.,:/\-%]*$")


def time_quantity_lexicon(sentences: Iterable[Sentence], min_count: int = 3) -> frozenset[str]:
    """Lower-cased words that mostly occur inside TIME or QUANTITY entities in a set that
    annotates them: where a set without those labels has such a word, its O is not evidence.

    Derived from the training sentences given, so a fold never looks at its test file."""
    inside: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for sentence in sentences:
        if not {"TIME", "QUANTITY"} <= sentence.annotates:
            continue
        for word, tag in zip(sentence.words, sentence.tags, strict=True):
            lowered = word.casefold()
            total[lowered] += 1
            if tag[2:] in ("TIME", "QUANTITY"):
                inside[lowered] += 1
    return frozenset(
        word
        for word, count in inside.items()
        if count >= min_count and count / total[word] >= 0.3 and any(ch.isalnum() for ch in word)
    )


def mark_unannotated(sentence: Sentence, lexicon: frozenset[str]) -> Sentence:
    """Tokens tagged O that look like a time or quantity become MISSING in a set that does
    not annotate TIME/QUANTITY (together with the punctuation between two such tokens)."""
    if {"TIME", "QUANTITY"} <= sentence.annotates:
        return sentence
    looks = [
        tag == "O" and (word.casefold() in lexicon or bool(_NUMBERISH.match(word)))
        for word, tag in zip(sentence.words, sentence.tags, strict=True)
    ]
    tags = list(sentence.tags)
    for i, flagged in enumerate(looks):
        if flagged or (
            tags[i] == "O"
            and 0 < i < len(looks) - 1
            and looks[i - 1]
            and looks[i + 1]
            and not any(ch.isalnum() for ch in sentence.words[i])
        ):
            tags[i] = MISSING
    return Sentence(sentence.words, tags, sentence.source, sentence.annotates)


# -- splits -----------------------------------------------------------------------------


def dataset_path(data_dir: Path, name: str) -> Path:
    return data_dir / "ner" / DATASETS[name].folder


def read_fold(data_dir: Path, name: str, part: str, fold: int) -> list[Sentence]:
    """`part` is train, dev or test; fold 1..5 (files `part.0k.tsv`)."""
    path = dataset_path(data_dir, name) / f"{part}.{fold:02d}.tsv"
    if not path.is_file():
        raise NerDataError(f"missing NER file {path}")
    return read_conll(path, DATASETS[name])


def read_extra(data_dir: Path, name: str) -> list[Sentence]:
    folder = dataset_path(data_dir, name)
    sentences: list[Sentence] = []
    for filename in EXTRA_FILES[name]:
        path = folder / filename
        if not path.is_file():
            raise NerDataError(f"missing NER file {path}")
        sentences.extend(read_conll(path, DATASETS[name]))
    return sentences


def read_fold_set_all(data_dir: Path, name: str) -> list[Sentence]:
    """Every sentence of an IndoLEM set once (fold 1's train, dev and test partition it)."""
    return [
        sentence
        for part in ("train", "dev", "test")
        for sentence in read_fold(data_dir, name, part, 1)
    ]


def without_overlap(
    sentences: Iterable[Sentence], held_out: Iterable[Sentence]
) -> tuple[list[Sentence], int]:
    """Training sentences minus any whose normalised text is in the held-out sentences, and
    minus repeats; returns the kept ones and how many were dropped for overlap."""
    forbidden = {sentence.key for sentence in held_out}
    seen: set[str] = set()
    kept: list[Sentence] = []
    dropped = 0
    for sentence in sentences:
        key = sentence.key
        if key in forbidden:
            dropped += 1
            continue
        if key in seen or not key:
            continue
        seen.add(key)
        kept.append(sentence)
    return kept, dropped


@dataclass
class Split:
    """Sentences to train on, to pick the best checkpoint on, and to report on."""

    train: list[Sentence]
    dev: list[Sentence]
    test: dict[str, list[Sentence]]
    dropped_for_overlap: int = 0

    def describe(self) -> dict[str, object]:
        return {
            "train_sentences": len(self.train),
            "dev_sentences": len(self.dev),
            "test_sentences": {name: len(items) for name, items in self.test.items()},
            "train_dropped_for_test_overlap": self.dropped_for_overlap,
            "train_by_source": dict(Counter(sentence.source for sentence in self.train)),
        }


def fold_split(
    data_dir: Path,
    fold: int,
    extra: Sequence[str] = ("idner", "nergrit"),
    added: Sequence[Sentence] = (),
) -> Split:
    """Fold k of the IndoLEM protocol for both IndoLEM sets at once: train on train.0k of
    NER-UGM and NER-UI (plus the `extra` sets and the `added` sentences, e.g. the store's),
    pick checkpoints on dev.0k, test on test.0k. Any training or dev sentence whose text
    occurs in either test file is removed."""
    test = {name: read_fold(data_dir, name, "test", fold) for name in FOLD_SETS}
    held_out = [sentence for items in test.values() for sentence in items]
    train_raw = [s for name in FOLD_SETS for s in read_fold(data_dir, name, "train", fold)]
    train_raw += [s for name in extra for s in read_extra(data_dir, name)]
    train_raw += list(added)
    dev_raw = [s for name in FOLD_SETS for s in read_fold(data_dir, name, "dev", fold)]
    dev, dropped_dev = without_overlap(dev_raw, held_out)
    # A training copy of a dev sentence (idner-news-2k re-annotates most of NER-UGM) would
    # make checkpoint choice optimistic; such copies are dropped too.
    train, dropped = without_overlap(train_raw, [*held_out, *dev])
    return finish_split(Split(train, dev, test, dropped + dropped_dev))


def full_split(
    data_dir: Path, extra: Sequence[str] = ("idner", "nergrit"), dev_fold: int = 1
) -> Split:
    """The shipped model: every sentence of every set. A small slice (NER-UGM/NER-UI
    dev.0k of `dev_fold`) also serves as the dev set for checkpoint choice; there is no
    test here, the 5-fold numbers are the model's evaluation."""
    everything = [s for name in FOLD_SETS for s in read_fold_set_all(data_dir, name)]
    everything += [s for name in extra for s in read_extra(data_dir, name)]
    train, _ = without_overlap(everything, [])
    dev = [s for name in FOLD_SETS for s in read_fold(data_dir, name, "dev", dev_fold)]
    return finish_split(Split(train, dev, {}, 0))


def add_sentences(split: Split, added: Sequence[Sentence]) -> Split:
    """The split with `added` appended to its training sentences, minus those whose text is
    already there or in its dev or test sentences."""
    tested = [s for items in split.test.values() for s in items]
    kept, _ = without_overlap(added, [*split.train, *split.dev, *tested])
    split.train = split.train + kept
    return split


def finish_split(split: Split) -> Split:
    lexicon = time_quantity_lexicon(split.train)
    split.train = [mark_unannotated(sentence, lexicon) for sentence in split.train]
    split.dev = [mark_unannotated(sentence, lexicon) for sentence in split.dev]
    return split


def sentences_digest(sentences: Iterable[Sentence]) -> str:
    digest = hashlib.sha256()
    for sentence in sentences:
        digest.update(("\t".join(sentence.words) + "\n" + "\t".join(sentence.tags)).encode())
    return digest.hexdigest()[:12]


# -- spaCy documents --------------------------------------------------------------------


def to_docbin(sentences: Iterable[Sentence], path: Path) -> int:
    """Writes the sentences as a spaCy DocBin (one Doc per sentence); returns their count."""
    from spacy.tokens import Doc, DocBin
    from spacy.vocab import Vocab

    # A bare vocabulary: spacy.blank("id") would index 16,000 tokenizer exceptions for nothing.
    vocab = Vocab()
    docbin = DocBin(attrs=["ORTH", "ENT_IOB", "ENT_TYPE"])
    count = 0
    for sentence in sentences:
        ents = ["" if tag == MISSING else tag for tag in sentence.tags]
        docbin.add(Doc(vocab, words=sentence.words, ents=ents))
        count += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    docbin.to_disk(path)
    return count


# -- the store: Label Studio annotations -------------------------------------------------

STORE_SOURCE: Final = "store"


@dataclass
class StoreSentences:
    """Training sentences from the store's annotated articles, and which articles were left
    out and why."""

    sentences: list[Sentence] = field(default_factory=list)
    article_ids: list[str] = field(default_factory=list)
    left_out: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, object]:
        return {
            "articles": len(self.article_ids),
            "sentences": len(self.sentences),
            "entities": sum(tag.startswith("B-") for s in self.sentences for tag in s.tags),
            "left_out": dict(sorted(self.left_out.items())),
            "article_ids": list(self.article_ids),
        }


def article_sentences(
    title: str, text: str, entities: Sequence[Entity], source: str = STORE_SOURCE
) -> list[Sentence]:
    """An annotated article as training sentences: the title, then the text's sentences
    (news tokenizer and sentencizer), BIO tags from the entities' character offsets. An
    annotator judged the whole text, so unmarked tokens are O; tokens of a span that does
    not fall on token boundaries, or that overlaps another span, are MISSING instead."""
    from nlp.ner.language import news_tokenizer_nlp

    nlp = news_tokenizer_nlp()
    sentences: list[Sentence] = []
    for field_name, value in (("title", title), ("text", text)):
        if not value.strip():
            continue
        doc = nlp(value)
        tags = ["O"] * len(doc)
        spans = sorted(
            (e.start, e.end, e.label)
            for e in entities
            if e.field == field_name and e.label in LABELS
        )
        taken = [False] * len(doc)
        for start, end, label in spans:
            covered = [t.i for t in doc if t.idx < end and t.idx + len(t.text) > start]
            if not covered:
                continue
            first, last = doc[covered[0]], doc[covered[-1]]
            fits = first.idx == start and last.idx + len(last.text) == end
            if not fits or any(taken[i] for i in covered):
                for i in covered:
                    tags[i] = MISSING
            else:
                for i in covered:
                    tags[i] = f"I-{label}"
                tags[covered[0]] = f"B-{label}"
            for i in covered:
                taken[i] = True
        for sent in doc.sents:
            kept = [t for t in sent if not t.is_space]
            if kept:
                words = [t.text for t in kept]
                tagged = Sentence(words, [tags[t.i] for t in kept], source, _FULL)
                sentences.append(_repair_bio(tagged))
    return sentences


class ExcludesHeldOut(Protocol):
    def excludes(self, article: ArticleIn) -> str | None: ...


def store_sentences(
    labelled: Iterable[LabelledArticle], held_out: ExcludesHeldOut | None = None
) -> StoreSentences:
    """Training sentences from every store article whose entities a person annotated
    (`provenance.is_gold("entities")`: an imported Label Studio annotation), in article id
    order; an article `held_out` excludes (the annotated set's test split and its cases)
    is left out."""
    from nlp.training_data import store_article

    result = StoreSentences()
    for item in sorted(labelled, key=lambda entry: entry.article.id):
        if not item.provenance.is_gold("entities"):
            continue
        article = store_article(item)
        reason = held_out.excludes(article) if held_out is not None else None
        if reason is not None:
            result.left_out[reason] += 1
            continue
        result.article_ids.append(item.article.id)
        result.sentences += article_sentences(article.title, article.text, item.tagged.entities)
    return result
