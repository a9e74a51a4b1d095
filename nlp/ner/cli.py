"""`pantau train ner` and `pantau eval ner` (registered in pantau/cli.py).

Imports of spaCy, torch and transformers happen inside the commands, so `pantau --help`
stays fast.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Final

import typer

from nlp.ner.data import DATASETS, FOLDS, StoreSentences
from nlp.ner.vectors import read_info

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
RECORDED_FOLDS: Final = REPO_ROOT / "models" / "ner-id" / "folds.json"
SHIPPED_MODEL: Final = REPO_ROOT / "models" / "ner-id" / "model"
FOLDS_COMMAND: Final = "make ner-folds"
EXIT_USAGE: Final = 2

# The shared data folder option of the training commands.
SharedDataOption = Annotated[
    Path | None,
    typer.Option("--shared-data", help="Shared data folder (else shared_data_dir, …)."),
]

train_app = typer.Typer(help="Train the models.", no_args_is_help=True)
log = logging.getLogger(__name__)


def _data_dir(option: Path | None) -> Path:
    from pantau.cli import _shared_data_dir

    path = _shared_data_dir(option)
    if not (path / "ner").is_dir():
        typer.echo(f"pantau: no NER data in {path / 'ner'} (give --shared-data)", err=True)
        raise typer.Exit(EXIT_USAGE)
    return path


def _overrides(values: list[str] | None) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        if not sep:
            typer.echo(f"pantau: --set {item}: expected KEY=VALUE", err=True)
            raise typer.Exit(EXIT_USAGE)
        try:
            overrides[key] = json.loads(raw)
        except json.JSONDecodeError:
            overrides[key] = raw
    return overrides


def _dataset(name: str) -> str:
    if name not in DATASETS:
        typer.echo(f"pantau: unknown --dataset {name}; one of {', '.join(DATASETS)}", err=True)
        raise typer.Exit(EXIT_USAGE)
    return name


@train_app.command("ner")
def train_ner(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the model.")],
    shared_data: SharedDataOption = None,
    fold: Annotated[
        list[int] | None,
        typer.Option(
            help="Run the IndoLEM protocol for these folds (1-5, repeatable): a model per fold "
            "in OUTPUT/foldK, scores merged into --results."
        ),
    ] = None,
    results: Annotated[
        Path, typer.Option(help="With --fold: the JSON the fold scores go to.")
    ] = RECORDED_FOLDS,
    train_file: Annotated[
        Path | None,
        typer.Option("--train-file", help="Train on this CoNLL file only (else: all sets)."),
    ] = None,
    dev_file: Annotated[
        Path | None, typer.Option("--dev-file", help="With --train-file: checkpoint choice.")
    ] = None,
    dataset: Annotated[
        str, typer.Option(help="Format and labels of --train-file/--dev-file.")
    ] = "nerugm",
    limit: Annotated[
        int | None, typer.Option(min=1, help="Train on the first N sentences (smoke runs).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="spaCy config (default nlp/ner/config.cfg).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Config override KEY=VALUE, e.g. training.max_steps=200."),
    ] = None,
    backbone: Annotated[
        str | None,
        typer.Option(
            help="Fine-tune this Hugging Face encoder (folder or cached hub name) instead of "
            "the spaCy pipeline, e.g. indobenchmark/indobert-base-p1."
        ),
    ] = None,
    epochs: Annotated[float, typer.Option(help="--backbone: epochs.")] = 3.0,
    max_steps: Annotated[
        int | None, typer.Option(help="--backbone: stop after this many steps.")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="--backbone: sentences per batch.")] = 16,
    learning_rate: Annotated[float, typer.Option(help="--backbone: peak learning rate.")] = 5e-5,
    threads: Annotated[int, typer.Option(help="--backbone: torch CPU threads.")] = 1,
    vectors: Annotated[
        Path | None,
        typer.Option(
            help="Static word vectors (a folder from `pantau train ner-vectors`). Default: "
            "counted once from the shared news and cached (~/.cache/pantau/ner)."
        ),
    ] = None,
    store: Annotated[
        bool | None,
        typer.Option(
            "--store/--no-store",
            help="Add the store's articles whose entities were annotated in Label Studio "
            "(`pantau annotate import`). Default: when the configured store holds any, except "
            "with --fold (the IndoLEM protocol stays comparable unless --store is given).",
        ),
    ] = None,
) -> None:
    """Train the NER: the spaCy pipeline of nlp/ner/config.cfg (default) or, with --backbone,
    a transformers token classifier. Without --fold or --train-file it trains on every
    sentence of NER-UGM, NER-UI, idner-news-2k and NERGrit (the shipped model), plus the
    store's annotated articles (never one of the annotated set's held-out test split)."""
    from nlp.ner import data as ner_data
    from nlp.ner import train as ner_train

    ner_train.single_thread()
    logging.basicConfig(level=logging.INFO)
    config_path = config or ner_train.CONFIG_PATH
    overrides = _overrides(set_)
    if backbone is not None:
        trainer = ner_train.transformer_trainer(
            backbone,
            epochs=epochs,
            max_steps=max_steps,
            batch_size=batch_size,
            learning_rate=learning_rate,
            seed=seed,
            threads=threads,
        )
        settings: dict[str, Any] = {"backbone": backbone, "epochs": epochs, "seed": seed}
    else:
        settings = {"config": str(config_path), "seed": seed, "overrides": dict(overrides)}
        if "paths.vectors" not in overrides and ner_train.uses_static_vectors(
            config_path, overrides
        ):
            vectors_dir = vectors or _cached_vectors(shared_data)
            overrides["paths.vectors"] = str(vectors_dir)
            settings["vectors"] = read_info(vectors_dir)
        trainer = ner_train.spacy_trainer(config_path, seed, overrides)

    from_store = _store_sentences(False if fold and store is None else store, shared_data)
    if from_store.article_ids or from_store.left_out:
        settings["from_store"] = from_store.summary()
    if fold:
        unknown = [k for k in fold if k not in FOLDS]
        if unknown:
            typer.echo(f"pantau: --fold must be 1-5, got {unknown}", err=True)
            raise typer.Exit(EXIT_USAGE)
        outcome = ner_train.run_folds(
            _data_dir(shared_data),
            output,
            folds=fold,
            results_path=results,
            trainer=trainer,
            settings=settings,
            limit=limit,
            added=from_store.sentences,
        )
        typer.echo(json.dumps(outcome["summary"], indent=2))
        return

    if train_file is not None:
        spec = ner_data.DATASETS[_dataset(dataset)]
        train_sentences = ner_data.read_conll(train_file, spec)
        dev_sentences = ner_data.read_conll(dev_file, spec) if dev_file else []
        split = ner_data.Split(train_sentences, dev_sentences, {})
        split = ner_data.finish_split(split)
    else:
        split = ner_data.full_split(_data_dir(shared_data))
    if limit is not None:
        split.train = split.train[:limit]
    before = len(split.train)
    split = ner_data.add_sentences(split, from_store.sentences)
    typer.echo(
        f"train ner: {before} corpus + {len(split.train) - before} store sentences "
        f"(from {len(from_store.article_ids)} annotated articles)",
        err=True,
    )
    summary = None
    if from_store.article_ids or from_store.left_out:
        # Sentences whose text a corpus already holds are not added twice.
        summary = from_store.summary() | {"sentences_added": len(split.train) - before}
    with tempfile.TemporaryDirectory(prefix="pantau-ner-run-") as work:
        model_dir, seconds = trainer(split, Path(work) / "run")
        if backbone is None:
            # Every sentence is trained on: the last checkpoint, not one chosen on data
            # the model has seen.
            last = Path(work) / "run" / "model-last"
            chosen = last if train_file is None or dev_file is None else model_dir
            ner_train.finish_shipped_model(
                chosen, output, RECORDED_FOLDS, summary, settings.get("vectors")
            )
        else:
            if output.exists():
                shutil.rmtree(output)
            shutil.copytree(model_dir, output)
            if summary:
                _record_store(output, summary)
    typer.echo(f"saved {output} ({seconds:.0f} s of training)")


def _cached_vectors(shared_data: Path | None) -> Path:
    from nlp.ner.train import default_cache_dir
    from nlp.ner.vectors import cached_vectors

    try:
        return cached_vectors(_data_dir(shared_data), default_cache_dir())
    except FileNotFoundError as exc:
        typer.echo(f"pantau: vectors: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from exc


@train_app.command("ner-vectors")
def train_ner_vectors(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the vectors.")],
    shared_data: SharedDataOption = None,
    max_documents: Annotated[
        int, typer.Option(min=0, help="Count from the first N texts only (0: all).")
    ] = 0,
    dimensions: Annotated[int, typer.Option(min=2, help="Vector width.")] = 100,
) -> None:
    """Count the NER's static word vectors from the shared news (PPMI + SVD, no download):
    what `pantau train ner` builds and caches by itself when not given --vectors."""
    from nlp.ner.vectors import VectorSettings, build_vectors

    logging.basicConfig(level=logging.INFO)
    settings = VectorSettings(dimensions=dimensions, max_documents=max_documents)
    try:
        build_vectors(_data_dir(shared_data), output, settings)
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"pantau: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from exc
    info = read_info(output)
    typer.echo(
        f"saved {output}: {info.get('words')} words × {dimensions} from {info.get('tokens')} tokens"
    )


def _store_sentences(use_store: bool | None, shared_data: Path | None) -> StoreSentences:
    """Training sentences from the store's Label Studio entity annotations (none when
    `use_store` is False, or it is None and the configured store has no annotations)."""
    from nlp.ner.data import store_sentences
    from nlp.training_data import HeldOutCases
    from pantau.cli import State, _shared_data_dir
    from pantau.export.labels import gold_labelled

    try:
        labelled = gold_labelled(State.settings().store_path, use_store)
    except FileNotFoundError as exc:
        typer.echo(f"pantau: --store: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from exc
    labelled = [item for item in labelled if item.provenance.is_gold("entities")]
    if not labelled:
        return StoreSentences()
    shared = _shared_data_dir(shared_data)
    # The held-out test split's texts come from the shared data; without it, its ids and
    # URLs (kept in the repository) still exclude it.
    texts = shared if (shared / "news").is_dir() and (shared / "incidents").is_dir() else None
    if texts is None:
        log.warning("no shared data in %s: held-out articles excluded by id and URL only", shared)
    return store_sentences(labelled, HeldOutCases(texts))


def _record_store(model_dir: Path, summary: dict[str, Any]) -> None:
    """Which store annotations a transformers model learned from, in its pantau_ner.json."""
    from nlp.ner.transformer import META_FILE

    path = model_dir / META_FILE
    meta = json.loads(path.read_text()) if path.is_file() else {}
    meta["training_from_store"] = summary
    path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")


def eval_ner(
    model: Annotated[
        Path | None,
        typer.Option(help="Evaluate this model folder (spaCy or transformers) on --test."),
    ] = None,
    test: Annotated[
        Path | None, typer.Option(help="CoNLL test file, e.g. …/indolem-nerugm/test.01.tsv.")
    ] = None,
    dataset: Annotated[
        str,
        typer.Option(help="Format and labels of --test: nerugm, nerui, idner, nergrit."),
    ] = "nerugm",
    results: Annotated[
        Path, typer.Option(help="Recorded 5-fold results to print.")
    ] = RECORDED_FOLDS,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Per-label and micro P/R/F1 of the NER. Without --model/--test: the recorded IndoLEM
    5-fold results (re-run with `make ner-folds`). With them: a real evaluation."""
    from nlp.ner.evaluate import format_fold_table, format_scores
    from nlp.ner.train import SET_TITLES, evaluate_model_dir

    if (model is None) != (test is None):
        if test is not None and model is None:
            model = SHIPPED_MODEL
        else:
            typer.echo("pantau eval ner: --model needs --test", err=True)
            raise typer.Exit(EXIT_USAGE)
    if model is not None and test is not None:
        if not test.is_file():
            typer.echo(f"pantau eval ner: no test file {test}", err=True)
            raise typer.Exit(EXIT_USAGE)
        try:
            scores = evaluate_model_dir(model, test, _dataset(dataset))
        except (OSError, ValueError, RuntimeError) as exc:
            typer.echo(f"pantau eval ner: {exc}", err=True)
            raise typer.Exit(EXIT_USAGE) from exc
        if as_json:
            typer.echo(json.dumps(scores, indent=2))
        else:
            title = f"{model} on {test} ({scores['sentences']} sentences)"
            typer.echo(format_scores(scores, title))
        return
    if not results.is_file():
        typer.echo(
            f"pantau eval ner: no recorded results at {results}; run `{FOLDS_COMMAND}`",
            err=True,
        )
        raise typer.Exit(EXIT_USAGE)
    recorded = json.loads(results.read_text())
    if as_json:
        typer.echo(json.dumps(recorded.get("summary", {}), indent=2))
        return
    shown = results.relative_to(REPO_ROOT) if results.is_relative_to(REPO_ROOT) else results
    typer.echo(
        f"RECORDED result from {shown} "
        f"(not re-computed now; `{FOLDS_COMMAND}` re-trains the fold models and rewrites it, "
        "`pantau eval ner --model DIR --test FILE` evaluates a model for real).\n"
        f"Protocol: {recorded.get('protocol', '')}\n"
    )
    typer.echo(format_fold_table(recorded, SET_TITLES))
