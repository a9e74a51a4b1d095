"""Finding entities in an article with the trained model: the `nlp.ner` API the tagger uses.

Two back ends give the same answer shape: the shipped spaCy pipeline (default, CPU) and a
fine-tuned transformers token classifier (`pantau train ner --backbone ...`). Offsets are
Python `str` indices into the text given, so `text[start:end] == entity.text` always.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal, Protocol, cast

from nlp.ner.evaluate import Predictor
from pantau.models import Entity, EntityLabel

log = logging.getLogger(__name__)

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
SHIPPED_MODEL_DIR: Final = REPO_ROOT / "models" / "ner-id" / "model"
ENTITY_LABELS: Final[frozenset[str]] = frozenset(
    {"PERSON", "ORGANIZATION", "LOCATION", "TIME", "QUANTITY"}
)
# spaCy refuses texts over nlp.max_length (1,000,000 characters) and its memory grows with
# the length of one call: long texts are cut into pieces of at most this many characters,
# at a line break or space where there is one.
CHUNK_CHARS: Final = 50_000

Backend = Literal["spacy", "transformers"]
FieldName = Literal["title", "text"]
CharSpan = tuple[int, int, str]


class NerModelError(RuntimeError):
    """The NER model is missing or cannot be loaded."""


class Recognizer(Protocol):
    # `<name>-<version>+<hash>` and the hash alone (see model_version).
    version: str
    digest: str

    def spans(self, text: str) -> list[CharSpan]:
        """Entity (start, end, label) character spans of one text."""
        ...

    def predictor(self) -> Predictor:
        """Predicts on a given tokenisation (for evaluation on CoNLL files)."""
        ...


def model_version(model_dir: Path) -> str:
    """`<name>-<version>+<hash>`: the hash covers every file of the model, so retraining
    changes it even when meta.json's version is left as it was."""
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(model_dir)).encode())
        digest.update(path.read_bytes())
    meta_path = model_dir / "meta.json"
    name, version = model_dir.name, "0"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        name, version = meta.get("name", name), meta.get("version", version)
    return f"{name}-{version}+{digest.hexdigest()[:10]}"


def chunks(text: str, size: int = CHUNK_CHARS) -> Iterator[tuple[int, str]]:
    """(offset, piece) pairs covering `text`, cut at a newline or space near `size`."""
    start = 0
    while start < len(text):
        end = min(len(text), start + size)
        if end < len(text):
            cut = max(
                text.rfind("\n", start + size // 2, end), text.rfind(" ", start + size // 2, end)
            )
            if cut > start:
                end = cut + 1
        yield start, text[start:end]
        start = end


def load_spacy_model(model_dir: Path) -> Any:
    """`spacy.load(model_dir)`, but a model with spaCy's standard tokenizer (every Pantau
    model) loads it as a `LoadedNewsTokenizer`: the same tokens from an anchored prefix
    search (a few percent faster overall) and about 3 s less CPU to load (2.9 s, not 6.2)."""
    import spacy

    from nlp.ner.language import LOADED_TOKENIZER

    config = spacy.util.load_config(model_dir / "config.cfg", interpolate=False)
    if config["nlp"].get("tokenizer", {}).get("@tokenizers") != "spacy.Tokenizer.v1":
        return spacy.load(model_dir)
    return spacy.load(model_dir, config={"nlp": {"tokenizer": {"@tokenizers": LOADED_TOKENIZER}}})


class SpacyRecognizer:
    def __init__(self, model_dir: Path) -> None:
        if not (model_dir / "meta.json").is_file():
            raise NerModelError(
                f"no spaCy NER model at {model_dir}; rebuild it with `make ner-model` "
                "or point ner.model_path at one"
            )
        self.model_dir = model_dir
        self.nlp = load_spacy_model(model_dir)
        self.version = model_version(model_dir)
        self.digest = self.version.rsplit("+", 1)[-1]

    def spans(self, text: str) -> list[CharSpan]:
        found: list[CharSpan] = []
        # spaCy hashes strings as UTF-8, which a lone surrogate (from a JSON "\ud800")
        # cannot be; one replacement character per code point keeps every offset.
        text = _LONE_SURROGATE.sub("\ufffd", text)
        pieces = list(chunks(text))
        docs = self.nlp.pipe(piece for _, piece in pieces)
        for (offset, _), doc in zip(pieces, docs, strict=True):
            for start, end, label in _without_ranks(doc):
                found.append((offset + start, offset + end, label))
        return found

    def predictor(self) -> Predictor:
        from nlp.ner.train import spacy_predictor

        return spacy_predictor(self.nlp)


# Police and military ranks: the training news (2010s national politics) has few of them, and
# the model tags "AKBP" alone as an organisation or "AKP Sri" as a place. A rank is never
# part of an entity; a capitalised name right after one is a person.
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_RANK_WORDS: Final = (
    "Jenderal Komjen Irjen Brigjen Kombes Kombespol AKBP Kompol AKP Iptu Ipda Aiptu Aipda "
    "Bripka Brigpol Brigadir Briptu Bripda Bharaka Bharatu Bharada Pol Pol. Letjen Mayjen "
    "Kolonel Kol. Letkol Mayor Kapten Lettu Letda Peltu Pelda Serma Serka Sertu Serda Kopka "
    "Kopda Koptu Praka Pratu Prada"
)
RANKS: Final = frozenset(_RANK_WORDS.split())


def _without_ranks(doc: Any) -> Iterator[CharSpan]:
    """The entities of a spaCy doc, leading rank words removed (see RANKS)."""
    for ent in doc.ents:
        tokens = list(ent)
        skip = 0
        while skip < len(tokens) and tokens[skip].text in RANKS:
            skip += 1
        if skip == 0:
            yield ent.start_char, ent.end_char, ent.label_
            continue
        rest = tokens[skip:]
        if not rest:
            continue
        label = ent.label_
        if len(rest) <= 4 and all(t.text[:1].isupper() and t.is_alpha for t in rest):
            label = "PERSON"
        yield rest[0].idx, rest[-1].idx + len(rest[-1].text), label


def _is_transformers_model(model_dir: Path) -> bool:
    config = model_dir / "config.json"
    return config.is_file() and not (model_dir / "meta.json").is_file()


def open_recognizer(model_dir: Path, backend: Backend | None = None) -> Recognizer:
    """A recognizer for a model folder; the back end is guessed from its files if not given."""
    if not model_dir.is_dir():
        raise NerModelError(f"NER model folder {model_dir} does not exist")
    chosen = backend or ("transformers" if _is_transformers_model(model_dir) else "spacy")
    if chosen == "transformers":
        from nlp.ner.transformer import TransformerRecognizer

        return TransformerRecognizer(model_dir)
    return SpacyRecognizer(model_dir)


def default_recognizer() -> Recognizer | None:
    """The configured recognizer, or None (with a logged warning) when its model is missing
    or unloadable: the tagger then finds entities with its rules alone."""
    try:
        return load_recognizer()
    except (NerModelError, OSError, ValueError) as exc:
        log.warning("NER model not loaded, entities come from rules only: %s", exc)
        return None


def predictor_for(model_dir: Path) -> Predictor:
    return open_recognizer(model_dir).predictor()


def _configured() -> tuple[Path, Backend]:
    from pantau.config import ConfigError, load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        log.warning("NER: configuration not readable (%s); using the shipped model", exc)
        return SHIPPED_MODEL_DIR, "spacy"
    ner = settings.ner
    return (ner.model_path or SHIPPED_MODEL_DIR), ner.backend


@lru_cache(maxsize=4)
def _cached(model_dir: Path, backend: Backend) -> Recognizer:
    return open_recognizer(model_dir, backend)


def load_recognizer(model_dir: Path | None = None, backend: Backend | None = None) -> Recognizer:
    """The recognizer of `model_dir` (default: the configured one, `ner.model_path` and
    `ner.backend`, else the shipped model), loaded once per process."""
    if model_dir is None:
        configured_dir, configured_backend = _configured()
        model_dir, backend = configured_dir, backend or configured_backend
    return _cached(model_dir.resolve(), backend or "spacy")


def _entities_of(field: FieldName, text: str, spans: Sequence[CharSpan]) -> list[Entity]:
    entities: list[Entity] = []
    for start, end, label in spans:
        if label not in ENTITY_LABELS or not 0 <= start < end <= len(text):
            continue
        entities.append(
            Entity(
                field=field,
                start=start,
                end=end,
                label=cast(EntityLabel, label),
                text=text[start:end],
            )
        )
    return entities


def recognize(title: str, text: str, recognizer: Recognizer | None = None) -> list[Entity]:
    """Entities of an article's title and text, offsets into each field."""
    model = recognizer or load_recognizer()
    return [
        *_entities_of("title", title, model.spans(title) if title.strip() else []),
        *_entities_of("text", text, model.spans(text) if text.strip() else []),
    ]


def with_model_spans(
    text: str, rule_spans: Sequence[tuple[int, int, Any]], recognizer: Recognizer | None = None
) -> list[tuple[int, int, Any]]:
    """The tagger's rule spans plus every model span that overlaps none of them.

    Rules win where both found something: their patterns are exact forms (money "Rp2.918.000",
    "pukul 21.00 WIB", "berinisial AS", gazetteer places) whose spans analysts and the
    victim masking rely on; the model adds the names, organisations, places and times the
    rules cannot know."""
    if not text.strip():
        return list(rule_spans)
    model = recognizer or load_recognizer()
    taken = sorted((start, end) for start, end, _ in rule_spans)
    merged = list(rule_spans)
    for start, end, label in model.spans(text):
        if label in ENTITY_LABELS and not _overlaps(taken, start, end):
            merged.append((start, end, label))
    return merged


def _overlaps(sorted_spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    import bisect

    i = bisect.bisect_left(sorted_spans, (end, end))
    # Spans starting before `end`: any of the nearest ones may reach past `start`.
    for j in range(i - 1, -1, -1):
        other_start, other_end = sorted_spans[j]
        if other_end > start:
            return True
        if other_start < start - 200:
            break
    return False
