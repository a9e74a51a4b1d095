"""Training the spaCy NER (one model, the 5 IndoLEM folds, the shipped model) and
evaluating a saved model on a CoNLL test file.

Data is read from the shared data folder given by the caller; the DocBins spaCy trains on
are written to a cache folder outside the repository (or a temporary one), never into it.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from nlp.ner.data import (
    DATASETS,
    FOLD_SETS,
    FOLDS,
    Sentence,
    Split,
    fold_split,
    full_split,
    read_conll,
    sentences_digest,
    to_docbin,
)
from nlp.ner.evaluate import Predictor, Span, average, evaluate_sentences

log = logging.getLogger(__name__)

CONFIG_PATH: Final = Path(__file__).resolve().parent / "config.cfg"
PUBLISHED: Final = {
    "nerugm": {"BiLSTM-CRF": 70.9, "mBERT": 71.6, "IndoBERT": 74.9},
    "nerui": {"BiLSTM-CRF": 82.2, "IndoBERT": 90.1},
}
SET_TITLES: Final = {"nerugm": "NER-UGM", "nerui": "NER-UI"}


def single_thread() -> None:
    """The training machines are shared: one BLAS/torch thread per process."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
        os.environ.setdefault(name, "1")


STATIC_VECTORS_KEY: Final = "components.tok2vec.model.embed.include_static_vectors"


def uses_static_vectors(config_path: Path, overrides: dict[str, Any]) -> bool:
    """Whether the pipeline of `config_path` (with `overrides`) embeds static vectors, so
    that training needs `paths.vectors`."""
    if STATIC_VECTORS_KEY in overrides:
        return bool(overrides[STATIC_VECTORS_KEY])
    from spacy.util import load_config

    embed = load_config(config_path)["components"]["tok2vec"]["model"]["embed"]
    return bool(embed.get("include_static_vectors", False))


def default_cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "pantau" / "ner"


@dataclass
class TrainResult:
    model_dir: Path
    seconds: float
    split: dict[str, Any]


def train_spacy(
    split: Split,
    output_dir: Path,
    *,
    config_path: Path = CONFIG_PATH,
    seed: int = 7,
    overrides: dict[str, Any] | None = None,
    work_dir: Path | None = None,
) -> TrainResult:
    """Trains the pipeline of `config_path` on split.train (checkpoints chosen on split.dev)
    and returns the best model's folder (`output_dir/model-best`)."""
    single_thread()
    from spacy.cli.train import train as spacy_train

    import nlp.ner.language  # noqa: F401  (registers the tokenizer callback)

    temporary = work_dir is None
    folder = Path(tempfile.mkdtemp(prefix="pantau-ner-")) if work_dir is None else work_dir
    try:
        train_path = folder / "train.spacy"
        dev_path = folder / "dev.spacy"
        to_docbin(split.train, train_path)
        to_docbin(split.dev or split.train[:200], dev_path)
        settings: dict[str, Any] = {
            "paths.train": str(train_path),
            "paths.dev": str(dev_path),
            "system.seed": seed,
            "training.seed": seed,
        }
        settings.update(overrides or {})
        started = time.perf_counter()
        output_dir.mkdir(parents=True, exist_ok=True)
        spacy_train(config_path, output_dir, use_gpu=-1, overrides=settings)
        seconds = time.perf_counter() - started
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
    best = output_dir / "model-best"
    return TrainResult(
        best if best.is_dir() else output_dir / "model-last", seconds, split.describe()
    )


def spacy_predictor(model: Any) -> Predictor:
    """Predicts entity token spans on a given tokenisation with a loaded spaCy pipeline."""
    from spacy.tokens import Doc

    def predict(batch: list[list[str]]) -> list[set[Span]]:
        docs = (Doc(model.vocab, words=words) for words in batch)
        return [
            {(ent.start, ent.end, ent.label_) for ent in doc.ents}
            for doc in model.pipe(docs, batch_size=64)
        ]

    return predict


def evaluate_model_dir(model_dir: Path, test_file: Path, dataset: str = "nerugm") -> dict[str, Any]:
    """Scores a saved model (spaCy folder, or a transformers one) on one CoNLL test file,
    over the labels that file's set annotates."""
    from nlp.ner.recognizer import predictor_for

    sentences = read_conll(test_file, DATASETS[dataset])
    scores = evaluate_sentences(predictor_for(model_dir), sentences)
    return {
        "model": str(model_dir),
        "test": str(test_file),
        "sentences": len(sentences),
        **scores.as_dict(),
    }


Trainer = Callable[[Split, Path], tuple[Path, float]]


def spacy_trainer(
    config_path: Path = CONFIG_PATH, seed: int = 7, overrides: dict[str, Any] | None = None
) -> Trainer:
    def train(split: Split, output_dir: Path) -> tuple[Path, float]:
        result = train_spacy(
            split, output_dir, config_path=config_path, seed=seed, overrides=overrides
        )
        return result.model_dir, result.seconds

    return train


def transformer_trainer(backbone: str, **options: Any) -> Trainer:
    def train(split: Split, output_dir: Path) -> tuple[Path, float]:
        from nlp.ner.transformer import train_transformer

        result = train_transformer(split.train, backbone, output_dir, **options)
        return result.model_dir, result.seconds

    return train


def run_folds(
    data_dir: Path,
    output_dir: Path,
    *,
    folds: Sequence[int] = FOLDS,
    results_path: Path,
    trainer: Trainer | None = None,
    settings: dict[str, Any] | None = None,
    extra: Sequence[str] = ("idner", "nergrit"),
    limit: int | None = None,
    added: Sequence[Sentence] = (),
) -> dict[str, Any]:
    """The IndoLEM 5-fold protocol: for each fold k one model trained on train.0k of NER-UGM
    and NER-UI (plus the extra sets, minus every sentence of either test.0k file), scored on
    test.0k of each set. Results are merged into `results_path` after every fold, so an
    interrupted run keeps the folds it finished."""
    from nlp.ner.recognizer import predictor_for

    train_one = trainer or spacy_trainer()
    results = _load_results(results_path)
    for fold in folds:
        split = fold_split(data_dir, fold, extra, added)
        if limit is not None:
            split.train = split.train[:limit]
        log.info("fold %d: %s", fold, split.describe())
        model_dir, seconds = train_one(split, output_dir / f"fold{fold}")
        predict = predictor_for(model_dir)
        scores = {
            name: evaluate_sentences(predict, sentences).as_dict()
            for name, sentences in split.test.items()
        }
        results["folds"][str(fold)] = {
            "scores": scores,
            "train_seconds": round(seconds, 1),
            "split": split.describe(),
            "train_digest": sentences_digest(split.train),
        }
        results["summary"] = summarise(results["folds"])
        results["settings"] = (settings or {}) | {
            "extra_training_sets": list(extra),
            "machine": f"{platform.machine()} Python {platform.python_version()}",
        }
        results_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        log.info("fold %d done: %s", fold, {k: v["micro"] for k, v in scores.items()})
    return results


def summarise(folds: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name in FOLD_SETS:
        per_fold = [folds[k]["scores"][name] for k in sorted(folds) if name in folds[k]["scores"]]
        if per_fold:
            summary[name] = average(per_fold) | {"published_f1": PUBLISHED[name]}
    summary["folds_done"] = sorted(int(k) for k in folds)
    return summary


def _load_results(path: Path) -> dict[str, Any]:
    if path.is_file():
        loaded: dict[str, Any] = json.loads(path.read_text())
        loaded.setdefault("folds", {})
        return loaded
    return {"protocol": PROTOCOL, "folds": {}}


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path(__file__).resolve().parents[2]))
    except ValueError:
        return str(path)


PROTOCOL: Final = (
    "IndoLEM 5-fold: fold k trains on train.0k of NER-UGM and NER-UI plus idner-news-2k and "
    "NERGrit, after removing every sentence whose normalised text occurs in test.0k of either "
    "set (or in dev.0k, used to pick the checkpoint); it is scored on test.0k of each set, "
    "NER-UI over PERSON/LOCATION/ORGANIZATION only. Entity-level exact-match P/R/F1, mean "
    "over the folds."
)


def train_full(
    data_dir: Path,
    output_dir: Path,
    *,
    config_path: Path = CONFIG_PATH,
    seed: int = 7,
    overrides: dict[str, Any] | None = None,
    extra: Sequence[str] = ("idner", "nergrit"),
) -> TrainResult:
    """The shipped model: every sentence of every set (see data.full_split)."""
    split = full_split(data_dir, extra)
    log.info("full model: %s", split.describe())
    return train_spacy(split, output_dir, config_path=config_path, seed=seed, overrides=overrides)


MODEL_NAME: Final = "id_pantau_ner"
MODEL_VERSION: Final = "1.1.0"


def finish_shipped_model(
    trained: Path,
    output_dir: Path,
    folds_path: Path | None,
    from_store: dict[str, Any] | None = None,
    vectors: dict[str, Any] | None = None,
) -> Path:
    """Copies a trained spaCy model to `output_dir` with its name, version and the 5-fold
    scores in meta.json, `from_store` (which store annotations it learned from) when there
    were any, and what its static vectors were counted from."""
    if output_dir.exists():
        shutil.rmtree(output_dir)
    shutil.copytree(trained, output_dir)
    meta_path = output_dir / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta.update(
        {
            "name": MODEL_NAME,
            "version": MODEL_VERSION,
            "description": "Pantau Indonesian news NER (PERSON, ORGANIZATION, LOCATION, TIME, "
            "QUANTITY; IndoLEM NER-UGM scheme). See models/ner-id/README.md.",
            "license": "research use (IndoLEM, IndoNLU training data); code MIT",
            "sources": [
                {"name": "IndoLEM NER-UGM"},
                {"name": "IndoLEM NER-UI"},
                {"name": "idner-news-2k", "license": "MIT"},
                {"name": "IndoNLU NERGrit", "license": "Apache-2.0"},
            ],
        }
    )
    if folds_path is not None and folds_path.is_file():
        meta["performance_5fold"] = json.loads(folds_path.read_text()).get("summary", {})
    meta.pop("performance", None)
    if from_store:
        meta["training_from_store"] = from_store
    if vectors:
        # What the static vectors were counted from (nlp/ner/vectors.py), beside spaCy's
        # own shape summary in meta["vectors"].
        meta["static_vectors"] = vectors
    meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return output_dir
