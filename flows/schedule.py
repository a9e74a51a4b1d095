"""`pantau schedule`: the deployments Pantau serves, and serving them.

By default `serve` runs against Prefect's ephemeral API (a local SQLite database under
<data_dir>/prefect), so one command on one machine runs the whole service. With
PREFECT_API_URL pointing at a Prefect server the same deployments register there
(docs/scaling.md). Import after `flows.prefect_env.prepare_prefect`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.schedules import Cron

from flows.export import export_deployment
from flows.pipeline import digest_flow, ingest_flow, task_runner
from pantau.config import Settings

INGEST_DEPLOYMENT = "ingest-hourly"
DIGEST_DEPLOYMENT = "digest-weekly"


def deployments(settings: Settings) -> list[Any]:
    """ingest every hour, the digest on Mondays 07:00, in flow.timezone (Asia/Jakarta):
    cron in the task force's local time, so "Monday 07:00" stays Monday 07:00 there; and
    queued export requests every ten minutes."""
    timezone = settings.flow.timezone
    # No settings parameter: parameters are stored and shown by Prefect, and the settings
    # hold secrets (index and web credentials). Each scheduled run, a subprocess of
    # `pantau schedule`, reads the same settings from the environment it inherits
    # (serve_deployments exports the command-line options to it).
    ingest = ingest_flow.with_options(task_runner=task_runner(settings)).to_deployment(
        name=INGEST_DEPLOYMENT,
        schedules=[Cron(settings.flow.ingest_cron, timezone=timezone)],
        # An hour's crawl that runs long must not overlap the next one (two writers on the
        # same sources): the next run is cancelled and the one after picks up the work.
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
        parameters={"kind": "scheduled"},
        tags=["pantau"],
        description="Crawl → tag → index every configured source.",
    )
    digest = digest_flow.to_deployment(
        name=DIGEST_DEPLOYMENT,
        schedules=[Cron(settings.flow.digest_cron, timezone=timezone)],
        # One digest at a time; a late one waits rather than being dropped (it is sent once
        # per week anyway, see flows/digest.py).
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
        ),
        tags=["pantau"],
        description="Weekly digest of last week's reported cases, sent by SMTP (docs/digest.md).",
    )
    return [ingest, digest, export_deployment(settings)]


def serve_deployments(settings: Settings, config_path: Path | None = None) -> None:
    """Serve until Ctrl-C: runs each scheduled flow run in a subprocess of this one, which
    loads its settings as this process did (the options of `pantau schedule` exported)."""
    os.environ["PANTAU_DATA_DIR"] = str(settings.data_dir)
    os.environ["PANTAU_INDEX_URL"] = settings.index_url
    if config_path is not None:
        os.environ["PANTAU_CONFIG"] = str(config_path.resolve())
    serve(*deployments(settings))
