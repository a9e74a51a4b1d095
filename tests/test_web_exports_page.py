"""The export page (/exports): researchers and admins request masked exports from a form
(the same service as POST /api/exports), see their requests and download finished ones;
analysts get 403, strangers the login; the form needs its CSRF token; filters are
escaped."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from pathlib import Path
from typing import get_args

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pantau.export.writers import FORMATS
from pantau.store import ArticleStore
from tests.web_fixtures import VICTIM_NAME, demo_data_copy, login, settings_for
from web.app import ExportFormat, create_app

warnings.filterwarnings("ignore", category=DeprecationWarning)

HOSTILE_SOURCE = "<script>alert('sumber')</script>"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("web-exports") / "data"
    demo_data_copy(data_dir)
    return data_dir


@pytest.fixture(scope="module")
def app(demo: Path) -> FastAPI:
    return create_app(settings_for(demo))


def client_for(app: FastAPI, username: str | None = None) -> TestClient:
    client = TestClient(app, base_url="http://127.0.0.1")
    return login(client, username) if username else client


# One login per role for the module: each login hashes a password (Argon2).
@pytest.fixture(scope="module")
def researcher(app: FastAPI) -> TestClient:
    return client_for(app, "peneliti")


@pytest.fixture(scope="module")
def analyst(app: FastAPI) -> TestClient:
    return client_for(app, "analis")


@pytest.fixture(scope="module")
def admin(app: FastAPI) -> TestClient:
    return client_for(app, "adminku")


def form_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def request_count(demo: Path) -> int:
    with ArticleStore(settings_for(demo).store_path) as store:
        return len(store.export_requests())


def test_researcher_sees_the_form_and_the_nav_link(
    researcher: TestClient, analyst: TestClient
) -> None:
    response = researcher.get("/exports")
    assert response.status_code == 200
    page = response.text
    assert 'id="nav-exports"' in page and "Ekspor data" in page
    assert form_token(page) == researcher.get("/api/me").json()["csrf_token"]
    boxes = re.findall(r'<input type="checkbox" name="formats" value="([a-z]+)"', page)
    assert boxes == list(FORMATS) and get_args(ExportFormat) == FORMATS
    for name in ("date_from", "date_to", "relevance", "categories", "regions"):
        assert f'name="{name}"' in page
    assert 'name="corrected_only"' in page and 'name="drop_text"' in page
    assert "[KORBAN-1]" in page  # the form says exports are masked
    # Analysts do not export (web.app.PERMISSIONS): no link for them.
    assert 'id="nav-exports"' not in analyst.get("/").text
    assert "Data exports" in researcher.get("/exports", params={"lang": "en"}).text


def test_analysts_get_403_and_strangers_the_login(
    app: FastAPI, analyst: TestClient, demo: Path
) -> None:
    before = request_count(demo)
    forbidden = analyst.get("/exports")
    assert forbidden.status_code == 403 and 'role="alert"' in forbidden.text
    token = analyst.get("/api/me").json()["csrf_token"]
    posted = analyst.post("/exports", data={"csrf_token": token, "formats": "csv"})
    assert posted.status_code == 403
    stranger = client_for(app).get("/exports", follow_redirects=False)
    assert stranger.status_code == 303
    assert stranger.headers["location"] == "/login?next=%2Fexports"
    assert request_count(demo) == before


def test_the_form_needs_its_csrf_token(researcher: TestClient, demo: Path) -> None:
    before = request_count(demo)
    for token in ("", "forged-token"):
        response = researcher.post("/exports", data={"csrf_token": token, "formats": "csv"})
        assert response.status_code == 403
    assert request_count(demo) == before


def test_a_form_request_is_listed_and_downloads_when_finished(
    researcher: TestClient, admin: TestClient, demo: Path
) -> None:
    token = form_token(researcher.get("/exports").text)
    response = researcher.post(
        "/exports",
        data={
            "csrf_token": token,
            "formats": ["csv", "parquet"],
            "relevance": ["incident", "aggregate"],
            "regions": "15",
            "date_from": "2020-01-01",
            "date_to": "2030-12-31",
            "drop_text": "1",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    request_id = int(location.rsplit("=", 1)[1])
    assert location == f"/exports?queued={request_id}"
    with ArticleStore(settings_for(demo).store_path) as store:
        stored = store.export_request(request_id)
    assert stored is not None and stored["username"] == "peneliti"
    asked = stored["request"]
    assert isinstance(asked, dict)
    assert asked["formats"] == ["csv", "parquet"] and asked["regions"] == ["15"]
    assert asked["include_text"] is False and asked["date_to"] == "2030-12-31"

    # The TestClient runs the export (a background task) before it answers.
    page = researcher.get(f"{location}&lang=id").text
    assert f"#{request_id}" in page and 'id="export-queued"' in page
    row = re.search(rf'<tr id="export-{request_id}" data-status="done">(.*?)</tr>', page, re.S)
    assert row, page
    link = f'href="/api/exports/{request_id}/download"'
    assert link in row.group(1) and "csv, jsonl, parquet" in row.group(1)
    assert "tanpa teks" in row.group(1) and "Kasus, Umum/statistik" in row.group(1)

    archive = zipfile.ZipFile(
        io.BytesIO(researcher.get(f"/api/exports/{request_id}/download").content)
    )
    readme = archive.read(f"request-{request_id}/README.md").decode()
    assert "masked=true, text=false" in readme and '"regions": [\n    "15"\n  ]' in readme
    assert f"request-{request_id}/parquet/train.parquet" in archive.namelist()
    assert VICTIM_NAME.encode() not in b"".join(archive.read(n) for n in archive.namelist())
    # An admin sees every account's requests, with who asked.
    admin_row = re.search(
        rf'<tr id="export-{request_id}".*?</tr>', admin.get("/exports").text, re.S
    )
    assert admin_row and "<td>peneliti</td>" in admin_row.group(0)


def test_bad_requests_are_refused_with_a_message_and_filters_are_escaped(
    researcher: TestClient, demo: Path
) -> None:
    token = form_token(researcher.get("/exports").text)
    before = request_count(demo)
    for data in (
        {"formats": ["conll"], "drop_text": "1"},  # CoNLL needs the text
        {"formats": ["csv"], "date_from": "2026-12-01", "date_to": "2026-11-01"},
        {"formats": ["csv"], "date_from": "kemarin"},
    ):
        refused = researcher.post("/exports", data={"csrf_token": token, **data})
        assert refused.status_code == 400 and 'id="export-error"' in refused.text
    assert request_count(demo) == before

    sources = {"csrf_token": token, "sources": HOSTILE_SOURCE, "corrected_only": "1"}
    researcher.post("/exports", data=sources, follow_redirects=False)
    page = researcher.get("/exports").text
    assert HOSTILE_SOURCE not in page
    assert "&lt;script&gt;alert(&#39;sumber&#39;)&lt;/script&gt;" in page
    assert request_count(demo) == before + 1
