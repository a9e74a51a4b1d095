"""The `export` flow: turn export requests (store table export_requests, queued by the web
app's POST /api/exports) into masked research exports in <data_dir>/exports/request-<id>/.

Small tasks: find the requests, run each (pantau.export.requests.run_export_request records
done/failed on the request). Import after `flows.prefect_env.prepare_prefect`, like the
other flows; `export_deployment` is served by `pantau schedule` beside the others: it
picks up requests whose web background task never ran (the web app was stopped)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pantau.config import Settings, load_settings
from pantau.store import ArticleStore

EXPORT_DEPLOYMENT = "export-requests"


def _settings(settings: dict[str, Any] | None) -> Settings:
    return Settings(**settings) if settings is not None else load_settings()


@task(name="queued-export-requests", cache_policy=NO_CACHE)
def queued_requests(settings_json: dict[str, Any]) -> list[int]:
    with ArticleStore(_settings(settings_json).store_path) as store:
        return store.queued_export_requests()


@task(name="export-request", cache_policy=NO_CACHE)
def run_request(settings_json: dict[str, Any], request_id: int) -> dict[str, Any] | None:
    from pantau.export.requests import run_export_request

    result = run_export_request(_settings(settings_json), request_id)
    if result is None:  # another run has it
        return None
    return {"request": request_id, "out": str(result.out), "articles": len(result.records)}


@flow(name="export")
def export_flow(
    request_id: int | None = None, settings: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Run one export request (`request_id`), or every request still queued."""
    cfg = _settings(settings)
    settings_json = cfg.model_dump(mode="json")
    ids = [request_id] if request_id is not None else queued_requests(settings_json)
    done = []
    for number in ids:
        try:
            if (made := run_request(settings_json, number)) is not None:
                done.append(made)
        except Exception as exc:  # recorded on the request; the other requests still run
            get_run_logger().warning("export request %s failed: %s", number, exc)
    return done


def export_deployment(settings: Settings, cron: str = "*/10 * * * *") -> Any:
    """A deployment that runs the queued export requests every ten minutes."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron

    return export_flow.to_deployment(
        name=EXPORT_DEPLOYMENT,
        schedules=[Cron(cron, timezone=settings.flow.timezone)],
        # Two runs at once would both take the same queued requests: a run due while one
        # is still busy is cancelled, and the one after reads the queue again.
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
        tags=["pantau"],
        description="Masked research exports for the queued export requests.",
    )
