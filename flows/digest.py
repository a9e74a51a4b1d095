"""The weekly digest: build it from the store, render it, save it, send it once.

`run_digest` is what `pantau digest` and the Prefect flow `digest` (flows/pipeline.py,
scheduled Mondays 07:00 Asia/Jakarta) both call. No Prefect import here: the command
runs without Prefect's start-up, the flow adds its schedule and artifact.

- Content: flows/digest_model.py (typed, masked, pure); renderings: flows/digest_render.py.
- Files: <data_dir>/digests/<week>/pantau-digest-<week>-<scope>.{html,txt,pdf,json,eml},
  copied to `to_dir` when given. Saved on every run (a re-run after a correction
  refreshes them); sending is what happens once.
- Delivery: SMTP (`digest.*` settings), idempotent per week and scope through the store's
  `digest_deliveries` table: a digest that was sent is not sent again unless forced.
  Transient failures (4xx replies, connection errors) are retried with exponential
  backoff; the outcome, with every error, goes into the run record (`runs`, kind
  'digest'), which `pantau status` shows.
"""

from __future__ import annotations

import logging
import os
import shutil
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from flows.digest_model import Digest, DigestArticle, Week, build_digest
from flows.digest_render import RenderedDigest, email_message, render
from nlp.gazetteer import load_gazetteer
from pantau.config import DigestConfig, Settings
from pantau.store import ArticleStore
from web.service import apply_corrections

log = logging.getLogger(__name__)

DeliveryStatus = Literal["sent", "already_sent", "failed", "not_sent"]


class DigestError(ValueError):
    """A digest that cannot be made as asked (unknown region, no SMTP configured)."""


# -- reading the store -------------------------------------------------------------------


def load_articles(store: ArticleStore) -> list[DigestArticle]:
    """Every tagged article with analysts' corrections applied and its story id."""
    corrections = store.label_corrections()
    stories = store.story_ids()
    articles = []
    for stored, tagged in store.iter_tagged():
        record = apply_corrections(tagged, corrections.get(stored.id, []))
        article = stored.article
        articles.append(
            DigestArticle(
                id=stored.id,
                story_id=stories.get(stored.id, stored.id),
                source=article.source,
                url=article.canonical_url,
                title=article.title,
                text=article.text,
                published=article.published,
                tagged=record,
            )
        )
    return articles


def region_name(code: str) -> str:
    """'15' → 'Provinsi Jambi', '15.71' → 'Kota Jambi'; an unknown code is an error."""
    place = load_gazetteer().get(code)
    if place is None:
        raise DigestError(f"unknown region code {code!r}; e.g. 15 (Jambi), 15.71 (Kota Jambi)")
    return f"Provinsi {place.name}" if place.level == "provinsi" else place.name


def _place_name(code: str) -> str:
    place = load_gazetteer().get(code)
    return place.name if place else code


def make_digest(
    store: ArticleStore, week: Week, region: str, timezone: str, now: datetime
) -> Digest:
    return build_digest(
        load_articles(store),
        week,
        region,
        region_name(region),
        _place_name,
        generated_at=now,
        timezone=timezone,
    )


# -- files -------------------------------------------------------------------------------


def file_stem(week: Week, region: str) -> str:
    return f"pantau-digest-{week.iso}-{region}"


def save_outputs(
    rendered: RenderedDigest, message: EmailMessage, directory: Path, stem: str
) -> list[Path]:
    """The HTML (charts embedded, opens in any browser), text, PDF, JSON and the e-mail as
    sent (.eml), written whole or not at all (temporary name, then rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    contents: dict[str, bytes] = {
        ".html": rendered.html_print.encode("utf-8"),
        ".txt": rendered.text.encode("utf-8"),
        ".pdf": rendered.pdf,
        ".json": rendered.json.encode("utf-8"),
        ".eml": message.as_bytes(),
    }
    paths = []
    for suffix, data in contents.items():
        path = directory / f"{stem}{suffix}"
        partial = path.with_name(path.name + ".part")
        partial.write_bytes(data)
        partial.replace(path)
        paths.append(path)
    return paths


# -- SMTP --------------------------------------------------------------------------------


class TransientSmtpError(Exception):
    """A failure worth retrying: a 4xx reply, a dropped or refused connection."""


def smtp_send(message: EmailMessage, config: DigestConfig) -> dict[str, tuple[int, bytes]]:
    """Send once; returns the refused recipients (some may be refused while others get
    it). Raises TransientSmtpError for what a retry may fix, SMTPException otherwise."""
    assert config.smtp_host
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout) as smtp:
            smtp.ehlo()
            if config.starttls:
                context = ssl.create_default_context(
                    cafile=str(config.smtp_ca_certs) if config.smtp_ca_certs else None
                )
                smtp.starttls(context=context)
                smtp.ehlo()
            if config.username:
                password = config.password.get_secret_value() if config.password else ""
                smtp.login(config.username, password)
            return smtp.send_message(message, config.sender, config.recipients)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            raise TransientSmtpError(f"recipients refused for now: {exc.recipients}") from exc
        raise
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise TransientSmtpError(f"{exc.smtp_code} {_text(exc.smtp_error)}") from exc
        raise
    except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError, socket.gaierror) as exc:
        raise TransientSmtpError(f"{type(exc).__name__}: {exc}") from exc


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


@dataclass
class Delivery:
    status: DeliveryStatus
    attempts: int = 0
    errors: list[str] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    message_id: str | None = None
    note: str = ""


def deliver(
    message: EmailMessage,
    config: DigestConfig,
    send: Callable[[EmailMessage, DigestConfig], dict[str, tuple[int, bytes]]] = smtp_send,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """Send with up to `send_attempts` tries, waiting retry_delay, 2×, 4×… in between;
    a permanent failure (5xx: bad credentials, unknown sender) is not retried."""
    delivery = Delivery("failed", recipients=list(config.recipients))
    for attempt in range(1, config.send_attempts + 1):
        delivery.attempts = attempt
        try:
            refused = send(message, config)
        except TransientSmtpError as exc:
            delivery.errors.append(f"attempt {attempt}: {exc}")
            log.warning("digest: sending failed (attempt %d): %s", attempt, exc)
            if attempt < config.send_attempts:
                sleep(config.retry_delay * 2 ** (attempt - 1))
            continue
        except (smtplib.SMTPException, OSError) as exc:
            delivery.errors.append(f"attempt {attempt}: {type(exc).__name__}: {exc}")
            log.error("digest: sending failed permanently: %s", exc)
            return delivery
        delivery.status = "sent"
        delivery.message_id = message["Message-ID"]
        delivery.refused = {rcpt: f"{code} {_text(text)}" for rcpt, (code, text) in refused.items()}
        return delivery
    return delivery


# -- the run -----------------------------------------------------------------------------


@dataclass
class DigestResult:
    run_id: int
    week: str
    region: str
    status: Literal["ok", "failed"]
    incidents: int
    files: list[Path]
    copies: list[Path]
    delivery: Delivery
    seconds: float

    @property
    def error(self) -> str | None:
        if self.status == "ok":
            return None
        return f"delivery failed after {self.delivery.attempts} attempt(s): " + "; ".join(
            self.delivery.errors[-3:]
        )

    def record(self) -> dict[str, Any]:
        """The run record (`runs.summary`)."""
        return {
            "week": self.week,
            "region": self.region,
            "incidents": self.incidents,
            "files": [str(p) for p in self.files],
            "copies": [str(p) for p in self.copies],
            "delivery": asdict(self.delivery),
            "seconds": round(self.seconds, 2),
            **({"error": self.error} if self.error else {}),
        }

    def markdown(self) -> str:
        """The Prefect artifact of the flow run."""
        delivery = self.delivery
        lines = [
            f"# Pantau digest {self.week} ({self.region}): {self.status}",
            "",
            f"- incidents: {self.incidents}",
            f"- delivery: {delivery.status}, {delivery.attempts} attempt(s)"
            + (f" — {delivery.note}" if delivery.note else ""),
            *[f"  - {error}" for error in delivery.errors],
            *[f"- file: `{path}`" for path in self.files],
        ]
        return "\n".join(lines) + "\n"


def run_digest(
    settings: Settings,
    week: Week | None = None,
    region: str | None = None,
    to_dir: Path | None = None,
    send: bool | None = None,
    force: bool = False,
    now: datetime | None = None,
    extra: dict[str, Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DigestResult:
    """Make, save and (unless `send` is False, or nothing is configured and `send` is None)
    send the digest of `week` (default: the last complete week) for `region` (default
    digest.region). Recorded as a run of kind 'digest'; an exception is recorded as a
    failed run and raised."""
    config = settings.digest
    now = now or datetime.now(UTC)
    week = week or Week.last_complete(now, settings.flow.timezone)
    region = region or config.region
    if send and not config.can_send:
        raise DigestError(
            "--send needs digest.smtp_host and digest.recipients (docs/configuration.md)"
        )
    region_name(region)  # an unknown region fails before anything is recorded
    sending = config.can_send if send is None else send
    started = time.monotonic()
    with ArticleStore(settings.store_path) as store:
        run_id = store.start_run(
            "digest",
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "week": week.iso,
                "region": region,
                **(extra or {}),
            },
        )
        try:
            result = _run(store, settings, week, region, to_dir, sending, force, now, sleep)
        except BaseException as exc:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            store.finish_run(run_id, status, {"error": f"{type(exc).__name__}: {exc}"})
            raise
        result.run_id = run_id
        result.seconds = time.monotonic() - started
        store.finish_run(run_id, result.status, {**result.record(), **(extra or {})})
    return result


def _run(
    store: ArticleStore,
    settings: Settings,
    week: Week,
    region: str,
    to_dir: Path | None,
    sending: bool,
    force: bool,
    now: datetime,
    sleep: Callable[[float], None],
) -> DigestResult:
    config = settings.digest
    digest = make_digest(store, week, region, settings.flow.timezone, now)
    rendered = render(digest)
    stem = file_stem(week, region)
    message = email_message(digest, rendered, config.sender, config.recipients, f"{stem}.pdf")
    files = save_outputs(rendered, message, settings.digests_dir / week.iso, stem)
    copies = []
    if to_dir is not None:
        to_dir.mkdir(parents=True, exist_ok=True)
        copies = [Path(shutil.copy2(path, to_dir / path.name)) for path in files]
    delivery = Delivery("not_sent", note="sending not asked for or not configured")
    if sending:
        previous = store.digest_delivery(week.iso, region)
        if previous and previous["status"] == "sent" and not force:
            delivery = Delivery(
                "already_sent",
                recipients=list(previous["recipients"]),  # type: ignore[call-overload]
                message_id=str(previous["message_id"]),
                note=f"sent at {previous['sent_at']}; --force sends it again",
            )
        else:
            delivery = deliver(message, config, sleep=sleep)
            store.record_digest_delivery(
                week.iso,
                region,
                "sent" if delivery.status == "sent" else "failed",
                delivery.attempts,
                delivery.recipients,
                error="; ".join(delivery.errors) or None,
                message_id=delivery.message_id,
            )
    return DigestResult(
        run_id=0,
        week=week.iso,
        region=region,
        status="failed" if delivery.status == "failed" else "ok",
        incidents=digest.headline.incidents.current,
        files=files,
        copies=copies,
        delivery=delivery,
        seconds=0.0,
    )
