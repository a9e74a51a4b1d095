"""Export requests of the web app (store table export_requests, queued by POST
/api/exports): each becomes a masked export in <data_dir>/exports/request-<id>/.

Whatever the requester's role, an export made from a request is masked: only the command
line, authenticated as an analyst or admin, can make an unmasked one."""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
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
        corrected_only=bool(request.get("corrected_only")),
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


def run_export_request(settings: Settings, request_id: int) -> ExportResult | None:
    """Make the export a request asks for, masked, and record the outcome on the request
    (status done with its folder, or failed with the reason). None when another process
    is making it (the web app's background task and the scheduled flow both look for
    queued requests) or it is already finished."""
    with ArticleStore(settings.store_path) as store:
        request = store.export_request(request_id)
        if request is None:
            raise ExportRequestError(f"no export request {request_id}")
        if not store.claim_export_request(request_id):
            log.info("export request %s: taken by another run or finished", request_id)
            return None
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
                # Masked always; the text only when asked for (the default).
                ExportOptions(masked=True, include_text=body.get("include_text") is not False),
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


# -- download (GET /api/exports/{id}/download) -------------------------------------------

ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # fixed: the same export gives the same zip


class DownloadRefused(Exception):
    """Why an export request cannot be downloaded, as an HTTP status and a message."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def is_masked_export(folder: Path) -> bool:
    """True when the export's datasheet says it is masked (an unmasked export, written
    there from the command line, says masked=false and carries a warning)."""
    readme = folder / "README.md"
    if not readme.is_file():
        return False
    text = readme.read_text(encoding="utf-8", errors="replace")
    return "Options: masked=true," in text and "**UNMASKED export**" not in text


def export_for_download(
    store: ArticleStore, settings: Settings, request_id: int, username: str, role: str
) -> Path:
    """The folder of a finished export request that this account may download: an admin
    any, a researcher only their own (another's is answered as unknown) and only a masked
    one. Raises DownloadRefused: 404 unknown, 409 not finished (queued, running or failed), 403 not
    masked for a researcher, 410 its folder is gone."""
    # An id SQLite cannot hold is no request either (not a server error).
    request = store.export_request(request_id) if 0 < request_id < 2**63 else None
    if request is None or (role != "admin" and request["username"] != username):
        raise DownloadRefused(404, f"no export request {request_id}")
    if request["status"] != "done":
        reason = f": {request['error']}" if request.get("error") else ""
        raise DownloadRefused(409, f"export request {request_id} is {request['status']}{reason}")
    folder = request_folder(settings, request_id)
    if not folder.is_dir():
        raise DownloadRefused(410, f"the files of export request {request_id} were removed")
    if role != "admin" and not is_masked_export(folder):
        raise DownloadRefused(403, "researchers may download masked exports only")
    return folder


def zip_export(folder: Path) -> Iterator[bytes]:
    """The folder as a zip (files in path order, fixed timestamps), in chunks; built in a
    temporary file, so a large export does not sit in memory."""
    with tempfile.TemporaryFile() as buffer:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                name = f"{folder.name}/{path.relative_to(folder).as_posix()}"
                info = zipfile.ZipInfo(name, ZIP_TIMESTAMP)
                info.compress_type = zipfile.ZIP_DEFLATED
                with path.open("rb") as source, archive.open(info, "w") as target:
                    shutil.copyfileobj(source, target, 1 << 20)
        buffer.seek(0)
        while chunk := buffer.read(1 << 20):
            yield chunk
