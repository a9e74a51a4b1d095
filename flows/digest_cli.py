"""`pantau digest`: make (and send) the weekly digest now. Registered in pantau/cli.py;
light to import (the work is imported when the command runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

EXIT_DELIVERY_FAILED = 4


def digest_command(
    week: Annotated[
        str | None,
        typer.Option(
            help="ISO week, e.g. 2026-W47 (Monday–Sunday, Asia/Jakarta); default: the last "
            "complete week."
        ),
    ] = None,
    region: Annotated[
        str | None,
        typer.Option(
            help="Region code of the scope, e.g. 15 (Jambi province, the default "
            "digest.region) or 15.71 (Kota Jambi)."
        ),
    ] = None,
    to_dir: Annotated[
        Path | None,
        typer.Option("--to-dir", help="Also copy the HTML, text, PDF, JSON and .eml here."),
    ] = None,
    send: Annotated[
        bool | None,
        typer.Option(
            "--send/--no-send",
            help="Send by SMTP (default: when digest.smtp_host and digest.recipients are set).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Send again even if this week's digest was already sent.")
    ] = False,
) -> None:
    """Make the weekly digest (HTML e-mail, text, PDF, JSON) and send it once by SMTP.

    Saved under <data_dir>/digests/<week>/. Victims' names are masked in every output. A
    digest already sent for the week and region is not sent again unless --force; exit
    status 4 when sending failed after its retries (the run record says why)."""
    from flows.digest import DigestError, run_digest
    from flows.digest_model import Week
    from pantau.cli import EXIT_CONFIG, State, _interruptible

    settings = State.settings()
    try:
        parsed_week = Week.parse(week) if week else None
    except ValueError as exc:
        typer.echo(f"pantau digest: {exc}", err=True)
        raise typer.Exit(EXIT_CONFIG) from exc
    with _interruptible("digest"):
        try:
            result = run_digest(
                settings, week=parsed_week, region=region, to_dir=to_dir, send=send, force=force
            )
        except DigestError as exc:
            typer.echo(f"pantau digest: {exc}", err=True)
            raise typer.Exit(EXIT_CONFIG) from exc
    incidents = f"{result.incidents} incident{'' if result.incidents == 1 else 's'}"
    typer.echo(f"digest {result.week} for region {result.region}: {incidents}")
    for path in result.copies or result.files:
        typer.echo(f"  {path}")
    delivery = result.delivery
    if delivery.status == "sent":
        typer.echo(
            f"sent to {', '.join(delivery.recipients)} ({delivery.attempts} attempt(s))"
            + (f"; refused: {delivery.refused}" if delivery.refused else "")
        )
    elif delivery.status == "already_sent":
        typer.echo(f"not sent again: {delivery.note}")
    elif delivery.status == "not_sent":
        typer.echo("not sent (--send with digest.smtp_host and digest.recipients to send)")
    typer.echo(f"run {result.run_id} {result.status} in {result.seconds:.1f} s")
    if result.error:
        typer.echo(f"pantau digest: {result.error}", err=True)
        for error in delivery.errors:
            typer.echo(f"  {error}", err=True)
        raise typer.Exit(EXIT_DELIVERY_FAILED)
