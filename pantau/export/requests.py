"""Export requests of the web app (store table export_requests, queued by POST
/api/exports): each becomes a masked export in <data_dir>/exports/request-<id>/.

Whatever the requester's role, an export made from a request is masked: only the command
line, authenticated as an analyst or admin, can make an unmasked one."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pantau.config import Settings
from pantau.export.build import ExportResult, export_dataset
from pantau.export.dataset import ExportFilters, ExportOptions
from pantau.store import ArticleStore

log = logging.getLogger(__name__)


class ExportRequestError(ValueError):
    pass


def request_folder(settings: Settings, request_id: int) -> Path:
    return settings.data_dir / "exports" / f"request-{request_id}"


def filters_of(request: dict[str, Any], ids: list[str] | None) -> ExportFilters:
    """The web form's fields (web.app.ExportIn) as export filters."""
    return ExportFilters(
        date_from=request.get("date_from"),
        date_to=request.get("date_to"),
        relevance=request.get("relevance") or [],
        forms=request.get("categories") or [],
        victim_groups=request.get("victim_groups") or [],
        regions=request.get("regions") or [],
        sources=request.get("sources") or [],
        ids=ids,
    )


def formats_of(request: dict[str, Any]) -> list[str]:
    formats = request.get("formats") or [request.get("format") or "csv"]
    # The datasheet and aggregates come with every export; JSONL keeps the labels whole.
    return sorted({*formats, "jsonl"})


def search_ids(settings: Settings, query: str) -> list[str]:
    """The ids of every article the search query finds (the filters apply afterwards)."""
    from index import open_index
    from index.base import SearchRequest

    index = open_index(settings)
    ids: list[str] = []
    try:
        cursor: str | None = None
        while True:
            result = index.search(
                SearchRequest(q=query, size=100, facets=False, sort="date", cursor=cursor)
            )
            ids += [hit.id for hit in result.hits]
            cursor = result.next_cursor
            if not cursor or not result.hits:
                return ids
    finally:
        index.close()


def run_export_request(settings: Settings, request_id: int) -> ExportResult:
    """Make the export a request asks for, masked, and record the outcome on the request
    (status done with its folder, or failed with the reason)."""
    with ArticleStore(settings.store_path) as store:
        request = store.export_request(request_id)
        if request is None:
            raise ExportRequestError(f"no export request {request_id}")
        out = request_folder(settings, request_id)
        try:
            body = request["request"]
            if not isinstance(body, dict):
                raise ExportRequestError("malformed request")
            query = str(body.get("q") or "").strip()
            ids = search_ids(settings, query) if query else None
            result = export_dataset(
                store,
                out,
                formats_of(body),
                filters_of(body, ids),
                ExportOptions(masked=True),
                overwrite=True,
            )
        except Exception as exc:
            store.finish_export_request(request_id, "failed", None, str(exc)[:2000])
            log.exception("export request %s failed", request_id)
            raise
        store.finish_export_request(request_id, "done", str(out))
        log.info(
            "export request %s by %s (%s): %d articles in %s",
            request_id,
            request["username"],
            request.get("role"),
            len(result.records),
            out,
        )
        return result
