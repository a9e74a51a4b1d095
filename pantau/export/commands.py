"""The `pantau export` and `pantau annotate` commands (registered in pantau/cli.py)."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

EXIT_REFUSED = 2


def _settings() -> Any:
    from pantau.cli import State

    return State.settings()


def _fail(message: str) -> typer.Exit:
    typer.echo(f"pantau: {message}", err=True)
    return typer.Exit(EXIT_REFUSED)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise _fail(f"{option}: give a date as YYYY-MM-DD, not {value!r}") from exc


def export_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (new or empty).")],
    formats: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="Comma-separated: jsonl, csv, parquet, conll, spacy, hf.",
        ),
    ] = "jsonl,csv,parquet,conll,spacy,hf",
    date_from: Annotated[
        str | None, typer.Option("--from", help="Published on or after (YYYY-MM-DD, WIB).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Published on or before (YYYY-MM-DD, WIB).")
    ] = None,
    relevance: Annotated[
        list[str] | None, typer.Option(help="incident, aggregate, none (repeatable).")
    ] = None,
    form: Annotated[
        list[str] | None, typer.Option("--form", help="A form of violence, e.g. tppo (repeatable).")
    ] = None,
    region: Annotated[
        list[str] | None,
        typer.Option("--region", help="Kemendagri code of the primary location, e.g. 15.71."),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Configured source name or its label (repeatable)."),
    ] = None,
    model_version: Annotated[
        str | None, typer.Option(help="Only articles tagged by this model version.")
    ] = None,
    corrected_only: Annotated[
        bool, typer.Option(help="Only articles an analyst corrected or an annotator labelled.")
    ] = False,
    no_text: Annotated[
        bool, typer.Option("--no-text", help="Leave titles and texts out: labels and metadata.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the train/dev/test split.")] = 20261127,
    unmasked: Annotated[
        bool,
        typer.Option(
            help="Keep victims' names (analyst or admin only: needs --user and the password)."
        ),
    ] = False,
    user: Annotated[
        str | None, typer.Option(help="Your web account, for --unmasked (asks the password).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier export in --out.")] = False,
) -> None:
    """Write a research dataset: train/dev/test split by story cluster, victims
    pseudonymised, a datasheet (README.md) with checksums. See docs/datasets.md."""
    from pydantic import ValidationError

    from pantau.export.build import ExportError, export_dataset, parse_formats
    from pantau.export.dataset import ExportFilters, ExportOptions
    from pantau.store import ArticleStore

    settings = _settings()
    try:
        format_list = parse_formats(formats)
        labels = {s.name: s.label for s in settings.sources}
        filters = ExportFilters(
            date_from=_day(date_from, "--from"),
            date_to=_day(date_to, "--to"),
            relevance=relevance or [],
            forms=form or [],
            regions=region or [],
            sources=[labels.get(name, name) for name in source or []],
            model_version=model_version,
            corrected_only=corrected_only,
        )
    except ValidationError as exc:
        messages = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise _fail(f"export: {messages}") from exc
    except ExportError as exc:
        raise _fail(f"export: {exc}") from exc
    unmasked_by = None
    if unmasked:
        unmasked_by = _authorise_unmasked(settings, user, password_stdin, out)
    options = ExportOptions(masked=not unmasked, include_text=not no_text, seed=seed)
    with ArticleStore(settings.store_path) as store:
        try:
            result = export_dataset(
                store, out, format_list, filters, options, unmasked_by, overwrite
            )
        except ExportError as exc:
            raise _fail(f"export: {exc}") from exc
    counts = ", ".join(f"{split} {n}" for split, n in sorted(result.counts.items()))
    typer.echo(
        f"exported {len(result.records)} articles ({counts or 'none'}) as "
        f"{', '.join(format_list)} to {out}/ (datasheet: {out / 'README.md'})"
    )


def _authorise_unmasked(settings: Any, user: str | None, from_stdin: bool, out: Path) -> str:
    """An unmasked export: only an analyst or admin account, with its password; audited."""
    from pantau.export.build import ExportError, check_unmasked
    from web.accounts import Accounts

    if not user:
        raise _fail("export: --unmasked needs --user (an analyst or admin web account)")
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True)
    with Accounts.open(settings) as accounts:
        account = accounts.authenticate(user, password)
        if account is None:
            accounts.audit(user, "export_unmasked_refused", str(out), {"reason": "login"})
            raise _fail("export: wrong user or password")
        try:
            check_unmasked(account.role)
        except ExportError as exc:
            accounts.audit(user, "export_unmasked_refused", str(out), {"role": account.role})
            raise _fail(f"export: {exc}") from exc
        accounts.audit(user, "export_unmasked", str(out), {"pid": os.getpid()})
    return user


annotate_app = typer.Typer(
    help="The annotation round trip with Label Studio (docs/datasets.md).", no_args_is_help=True
)


@annotate_app.command("export")
def annotate_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Tasks JSON file to write.")],
    limit: Annotated[
        int | None, typer.Option(min=1, help="At most this many tasks (the most uncertain).")
    ] = None,
    include_annotated: Annotated[
        bool, typer.Option(help="Also articles already annotated in Label Studio.")
    ] = False,
) -> None:
    """Label Studio tasks with the model's pre-annotations, most uncertain first, and the
    labelling config beside them (<out>.labeling-config.xml). The texts are not masked:
    keep the file inside the team's own Label Studio."""
    from pantau.export.annotate import LABELING_CONFIG, label_studio_tasks
    from pantau.export.labels import effective_labels
    from pantau.store import ArticleStore

    settings = _settings()
    with ArticleStore(settings.store_path) as store:
        tasks = label_studio_tasks(effective_labels(store), limit, include_annotated)
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_private(out, json.dumps(tasks, ensure_ascii=False, indent=1) + "\n")
    config = out.with_name(out.stem + ".labeling-config.xml")
    config.write_text(LABELING_CONFIG, encoding="utf-8")
    typer.echo(
        f"wrote {len(tasks)} tasks to {out} and the labelling config to {config}; the texts "
        "carry victims' names: keep them in the team's Label Studio"
    )


def _write_private(path: Path, content: str) -> None:
    # Owner-only: the tasks hold unmasked texts.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(content)


@annotate_app.command("import")
def annotate_import(
    file: Annotated[
        Path, typer.Argument(help="Label Studio's JSON export (tasks with annotations).")
    ],
) -> None:
    """Store completed Label Studio annotations as gold labels (who, when, source
    label-studio); exports and training use them from now on."""
    from pantau.export.annotate import import_annotations
    from pantau.store import ArticleStore

    try:
        tasks = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise _fail(f"annotate import: cannot read {file}: {exc}") from exc
    settings = _settings()
    with ArticleStore(settings.store_path) as store:
        try:
            report = import_annotations(store, tasks)
        except ValueError as exc:
            raise _fail(f"annotate import: {exc}") from exc
    for reason in report.skipped:
        typer.echo(f"skipped {reason}", err=True)
    typer.echo(
        f"imported {report.imported} annotations, updated {report.updated}, "
        f"skipped {len(report.skipped)}"
    )
