"""The web app's API and pages through FastAPI's TestClient, over a data directory filled
by `pantau demo`: every route's 401/403, search, article detail, corrections reaching the
index, statistics, exports, masking for researchers, escaping of crawled HTML, the audit
log and `pantau users`."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from index import open_index
from index.base import SearchRequest
from pantau.store import ArticleStore
from tests.web_fixtures import (
    PASSWORDS,
    VICTIM_NAME,
    demo_data_copy,
    login,
    pantau_cli,
    settings_for,
)
from web.accounts import Accounts
from web.app import create_app
from web.masking import MASK, mask_victims

warnings.filterwarnings("ignore", category=DeprecationWarning)

API_ROUTES = [
    ("GET", "/api/openapi.json"),
    ("GET", "/api/me"),
    ("GET", "/api/search"),
    ("GET", "/api/articles/{id}"),
    ("GET", "/api/articles/{id}/corrections"),
    ("POST", "/api/articles/{id}/corrections"),
    ("GET", "/api/stats"),
    ("POST", "/api/exports"),
    ("GET", "/api/exports"),
    ("GET", "/api/exports/{id}/download"),
    ("GET", "/api/admin/users"),
    ("GET", "/api/admin/audit"),
    ("GET", "/api/admin/sources"),
]
PAGES = ["/", "/search", "/articles/{id}", "/admin/users", "/exports"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    data_dir = tmp_path_factory.mktemp("web-api") / "data"
    hostile_id = demo_data_copy(data_dir)
    return data_dir, hostile_id


@pytest.fixture(scope="module")
def app(demo: tuple[Path, str]) -> FastAPI:
    return create_app(settings_for(demo[0]))


def client_for(app: FastAPI, username: str | None = None) -> TestClient:
    client = TestClient(app, base_url="http://127.0.0.1")
    return login(client, username) if username else client


@pytest.fixture
def analyst(app: FastAPI) -> Iterator[TestClient]:
    yield client_for(app, "analis")


@pytest.fixture
def researcher(app: FastAPI) -> Iterator[TestClient]:
    yield client_for(app, "peneliti")


@pytest.fixture
def admin(app: FastAPI) -> Iterator[TestClient]:
    yield client_for(app, "adminku")


def csrf(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.get("/api/me").json()["csrf_token"]}


def an_incident_id(client: TestClient, query: str = "form:tppo") -> str:
    hits = client.get("/api/search", params={"q": query}).json()["hits"]
    assert hits
    return str(hits[0]["id"])


# -- who may see what -------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
def test_every_api_route_answers_401_without_a_session(
    app: FastAPI, demo: tuple[Path, str], method: str, path: str
) -> None:
    client = client_for(app)
    response = client.request(method, path.format(id=demo[1]), json={"relevance": "none"})
    assert response.status_code == 401
    assert response.json() == {"detail": "log in first"}


def test_the_route_lists_above_name_every_route(app: FastAPI) -> None:
    """A new route must join API_ROUTES or PAGES, and so the 401 and login checks."""
    listed = {(method, path) for method, path in API_ROUTES} | {("GET", p) for p in PAGES}
    public = {"/login", "/logout", "/static", "/api/docs", "/api/docs/oauth2-redirect"}
    for route in app.routes:
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None) or {"GET"}
        if path in public or path.startswith("/static"):
            continue
        for method in methods - {"HEAD"}:
            form_post = method == "POST" and not path.startswith("/api")  # CSRF-checked forms
            assert form_post or (method, re.sub(r"\{\w+\}", "{id}", path)) in listed, (
                method,
                path,
            )


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_strangers_to_the_login(
    app: FastAPI, demo: tuple[Path, str], path: str
) -> None:
    response = client_for(app).get(path.format(id=demo[1]), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    # No article data leaks into the redirect body.
    assert "Siti" not in response.text


def test_a_forged_session_cookie_is_refused(app: FastAPI) -> None:
    client = client_for(app)
    client.cookies.set("pantau_session", "not-a-real-token")
    assert client.get("/api/me").status_code == 401


@pytest.mark.parametrize(
    ("username", "method", "path"),
    [
        ("analis", "POST", "/api/exports"),
        ("analis", "GET", "/api/exports"),
        ("analis", "GET", "/api/exports/1/download"),
        ("analis", "GET", "/exports"),
        ("analis", "GET", "/api/admin/users"),
        ("analis", "GET", "/api/admin/audit"),
        ("analis", "GET", "/api/admin/sources"),
        ("analis", "GET", "/admin/users"),
        ("peneliti", "POST", "/api/articles/{id}/corrections"),
        ("peneliti", "POST", "/articles/{id}/corrections"),
        ("peneliti", "GET", "/api/admin/audit"),
    ],
)
def test_roles_are_enforced_with_403(
    app: FastAPI, demo: tuple[Path, str], username: str, method: str, path: str
) -> None:
    client = client_for(app, username)
    kwargs = {"json": {"relevance": "none"}} if path.startswith("/api") else {"data": {}}
    response = client.request(method, path.format(id=demo[1]), headers=csrf(client), **kwargs)
    assert response.status_code == 403


def test_admin_sees_users_audit_and_sources(admin: TestClient) -> None:
    listed = admin.get("/api/admin/users").json()
    users = {u["username"]: u["role"] for u in listed}
    assert {name: role for name, (role, _) in PASSWORDS.items()}.items() <= users.items()
    assert all("password_hash" not in u for u in listed)
    actions = {entry["action"] for entry in admin.get("/api/admin/audit").json()}
    assert {"login", "user_add"} <= actions
    sources = admin.get("/api/admin/sources").json()
    assert {s["name"] for s in sources} == {"jambiekspres", "tribunjambi", "antarajambi"}
    page = admin.get("/admin/users")
    assert page.status_code == 200 and "peneliti" in page.text


# -- login, sessions, CSRF ----------------------------------------------------------------


def test_login_needs_the_form_token(app: FastAPI) -> None:
    client = client_for(app)
    response = client.post(
        "/login",
        data={"username": "analis", "password": PASSWORDS["analis"][1], "csrf_token": "x"},
    )
    assert response.status_code == 403
    assert "pantau_session" not in client.cookies


def test_wrong_passwords_are_rate_limited_and_audited(app: FastAPI, demo: tuple[Path, str]) -> None:
    with Accounts.open(settings_for(demo[0])) as accounts:
        accounts.add_user("korban-tebakan", "kata-sandi-benar-1", "analyst")
    client = client_for(app)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]

    def attempt(password: str) -> int:
        form = {"username": "korban-tebakan", "password": password, "csrf_token": token}
        return client.post("/login", data=form, follow_redirects=False).status_code

    assert [attempt(f"salah-{n}-xxxxxx") for n in range(5)] == [401] * 5
    # The right password no longer helps while the window lasts.
    assert attempt("kata-sandi-benar-1") == 429
    with Accounts.open(settings_for(demo[0])) as accounts:
        failed = accounts.audit_entries(50, "login_failed")
        blocked = accounts.audit_entries(50, "login_blocked")
    assert sum(e["username"] == "korban-tebakan" for e in failed) == 5
    assert any(e["username"] == "korban-tebakan" for e in blocked)


def test_session_cookie_is_httponly_strict_and_secure_when_configured(
    demo: tuple[Path, str],
) -> None:
    secure_app = create_app(settings_for(demo[0], secure=True))
    client = TestClient(secure_app, base_url="https://127.0.0.1")
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login",
        data={"username": "analis", "password": PASSWORDS["analis"][1], "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("pantau_session=")
    )
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "secure" in lowered


def test_logout_needs_csrf_and_ends_the_session(app: FastAPI) -> None:
    client = client_for(app, "analis")
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    token = client.get("/api/me").json()["csrf_token"]
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/api/me").status_code == 401


def test_security_headers(analyst: TestClient) -> None:
    response = analyst.get("/search")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


# -- search -------------------------------------------------------------------------------


def test_api_search_matches_the_index_and_has_facets(
    analyst: TestClient, demo: tuple[Path, str]
) -> None:
    response = analyst.get("/api/search", params={"q": "perdagangan orang", "size": 50})
    assert response.status_code == 200
    body = response.json()
    index = open_index(settings_for(demo[0]))
    try:
        direct = index.search(SearchRequest(q="perdagangan orang", size=50))
    finally:
        index.close()
    assert body["total"] == direct.total > 0
    assert [h["id"] for h in body["hits"]] == [h.id for h in direct.hits]
    assert {"relevance", "category", "victim_group", "region", "source"} <= set(body["facets"])
    assert any("<mark>" in h["snippet_html"] for h in body["hits"])
    # Filters narrow the result to what they name.
    filtered = analyst.get(
        "/api/search",
        params={"q": "perdagangan orang", "category": "tppo", "relevance": "incident"},
    ).json()
    assert 0 < filtered["total"] <= body["total"]
    assert all("tppo" in h["categories"] and h["relevance"] == "incident" for h in filtered["hits"])


def test_api_search_sorts_by_date(analyst: TestClient) -> None:
    hits = analyst.get("/api/search", params={"sort": "date", "size": 50}).json()["hits"]
    # Sources give different offsets (WIB, UTC): order is by the moment, not the text.
    dates = [datetime.fromisoformat(h["published"]) for h in hits if h["published"]]
    assert dates == sorted(dates, reverse=True) and len(dates) > 5


def test_a_query_that_means_nothing_is_a_400_not_a_crash(analyst: TestClient) -> None:
    response = analyst.get("/api/search", params={"q": "-form:tppo"})
    assert response.status_code == 400
    assert "not supported" in response.json()["detail"]
    page = analyst.get("/search", params={"q": "date:2026-13"})
    assert page.status_code == 200 and "date:2026-13" in page.text


def test_search_page_shows_results_facets_and_syntax(analyst: TestClient) -> None:
    page = analyst.get("/search", params={"q": "perdagangan orang", "category": "tppo"})
    assert page.status_code == 200
    assert 'value="tppo" class="facet-box"' in page.text and "checked" in page.text
    assert "<mark>" in page.text
    assert "region:15.71" in page.text  # the syntax help
    assert "berita ditemukan" in page.text


def test_searches_are_audited(analyst: TestClient, demo: tuple[Path, str]) -> None:
    analyst.get("/api/search", params={"q": "jaring-audit"})
    with Accounts.open(settings_for(demo[0])) as accounts:
        searches = accounts.audit_entries(20, "search")
    assert any(
        e["detail"].get("q") == "jaring-audit" and e["username"] == "analis" for e in searches
    )


# -- articles -----------------------------------------------------------------------------


def test_article_detail_has_text_entities_fields_and_story(
    analyst: TestClient, demo: tuple[Path, str]
) -> None:
    with ArticleStore(settings_for(demo[0]).store_path) as store:
        story_ids = sorted(
            a.id
            for a in store.iter_articles()
            if store._db.execute("SELECT story_id FROM articles WHERE id=?", (a.id,)).fetchone()[0]
            == "story-1"
        )
        first = store.get_article(story_ids[0])
    assert first is not None and len(story_ids) == 2
    detail = analyst.get(f"/api/articles/{story_ids[0]}").json()
    assert detail["text"] == first.article.text
    assert detail["tagged"]["entities"]
    assert [s["id"] for s in detail["story"]] == [story_ids[1]]
    page = analyst.get(f"/articles/{story_ids[0]}")
    assert 'class="ent ent-' in page.text and f"/articles/{story_ids[1]}" in page.text
    assert analyst.get("/api/articles/nosuchid").status_code == 404
    assert analyst.get("/articles/nosuchid").status_code == 404


def test_crawled_html_is_escaped_everywhere(analyst: TestClient, demo: tuple[Path, str]) -> None:
    hostile_id = demo[1]
    pages = [
        analyst.get("/search", params={"q": "dicabuli"}).text,
        analyst.get(f"/articles/{hostile_id}").text,
        analyst.get("/").text,
    ]
    for text in pages[:2]:
        assert "&lt;script&gt;alert(" in text
    for text in pages:
        assert "<script>alert" not in text
        assert "<img src=x" not in text
        # Only our own script tag, the vendored one, is on the page.
        assert re.findall(r"<script[^>]*>", text) == ['<script src="/static/pantau.js" defer>']


def test_viewing_an_article_about_children_is_audited(
    analyst: TestClient, demo: tuple[Path, str]
) -> None:
    analyst.get(f"/articles/{demo[1]}")
    with Accounts.open(settings_for(demo[0])) as accounts:
        views = accounts.audit_entries(20, "view_child_article")
    assert any(e["target"] == demo[1] and e["username"] == "analis" for e in views)


def test_researchers_see_victims_names_masked(
    researcher: TestClient, analyst: TestClient, demo: tuple[Path, str]
) -> None:
    hostile_id = demo[1]
    assert VICTIM_NAME in analyst.get(f"/api/articles/{hostile_id}").json()["text"]
    detail = researcher.get(f"/api/articles/{hostile_id}").json()
    assert detail["masked"] is True
    assert VICTIM_NAME not in detail["text"] and MASK in detail["text"]
    assert all(e["label"] != "PERSON" for e in detail["tagged"]["entities"])
    page = researcher.get(f"/articles/{hostile_id}").text
    assert VICTIM_NAME not in page
    # A search for the name itself finds the article but shows no name.
    found = researcher.get("/api/search", params={"q": f'"{VICTIM_NAME}"'}).json()
    assert [h["id"] for h in found["hits"]] == [hostile_id]
    assert VICTIM_NAME not in str(found["hits"])


def test_mask_victims_masks_listed_names_and_children_persons(demo: tuple[Path, str]) -> None:
    with ArticleStore(settings_for(demo[0]).store_path) as store:
        stored, tagged = store.get_article(demo[1]), store.get_tag(demo[1])
    assert stored is not None and tagged is not None
    masked = mask_victims(stored.article.text, tagged)
    assert VICTIM_NAME not in masked and masked.count(MASK) == 2
    # An article that reports no case (aggregate, P(incident) under the threshold): only
    # victims are masked, so a person the tagger gave no victim role keeps the name.
    no_case = tagged.model_copy(
        update={
            "relevance": "aggregate",
            "scores": {**tagged.scores, "incident": 0.01},
            "victim_groups": [],
            "entities": [e.model_copy(update={"role": None}) for e in tagged.entities],
        }
    )
    assert mask_victims(stored.article.text, no_case) == stored.article.text
    assert "DPMPPA" not in mask_victims(stored.article.text, no_case, victim_names=["DPMPPA"])
    # Any incident (by the taxonomy a case of a woman, a child or trafficking), whether or
    # not the tagger found the victim group: a person it left open may be the victim.
    for groups in ([], ["perempuan"]):
        incident = no_case.model_copy(update={"relevance": "incident", "victim_groups": groups})
        assert VICTIM_NAME not in mask_victims(stored.article.text, incident)


# -- corrections --------------------------------------------------------------------------


def test_api_correction_is_stored_with_who_and_when_and_reaches_search(
    analyst: TestClient, demo: tuple[Path, str]
) -> None:
    article_id = an_incident_id(analyst, "form:tppo -batam")
    body = {"primary_location": "15.02", "victims_count": 7, "note": "lokasi di Merangin"}
    assert analyst.post(f"/api/articles/{article_id}/corrections", json=body).status_code == 403
    response = analyst.post(
        f"/api/articles/{article_id}/corrections", json=body, headers=csrf(analyst)
    )
    assert response.status_code == 201, response.text
    saved = response.json()
    assert saved["reindexed"] is True
    assert saved["tagged"]["primary_location"]["name"] == "Kabupaten Merangin"
    assert saved["tagged"]["victims"]["count"] == 7
    history = analyst.get(f"/api/articles/{article_id}/corrections").json()
    assert history[-1]["username"] == "analis" and history[-1]["created_at"]
    assert history[-1]["changes"] == {"primary_location": "15.02", "victims_count": 7}
    in_merangin = analyst.get("/api/search", params={"region": "15.02", "size": 100}).json()
    assert article_id in [h["id"] for h in in_merangin["hits"]]
    page = analyst.get(f"/articles/{article_id}").text
    assert "Kabupaten Merangin" in page and "lokasi di Merangin" in page
    # A later `pantau index` leaves the corrected document alone (same version).
    settings = settings_for(demo[0])
    result = pantau_cli("index", "--no-retag", data_dir=settings.data_dir)
    assert result.returncode == 0, result.stderr
    again = analyst.get("/api/search", params={"region": "15.02", "size": 100}).json()
    assert article_id in [h["id"] for h in again["hits"]]


def test_invalid_corrections_are_422(analyst: TestClient, demo: tuple[Path, str]) -> None:
    headers = csrf(analyst)
    url = f"/api/articles/{demo[1]}/corrections"
    assert analyst.post(url, json={}, headers=headers).status_code == 422
    assert analyst.post(url, json={"primary_location": "99.99"}, headers=headers).status_code == 422
    assert analyst.post(url, json={"relevance": "maybe"}, headers=headers).status_code == 422
    missing = analyst.post(
        "/api/articles/nosuchid/corrections", json={"relevance": "none"}, headers=headers
    )
    assert missing.status_code == 404


def test_correction_form_changes_relevance_and_forms(
    analyst: TestClient, demo: tuple[Path, str]
) -> None:
    article_id = demo[1]
    page = analyst.get(f"/articles/{article_id}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {
        "csrf_token": token,
        "relevance": "incident",
        "categories_present": "1",
        "categories": ["kekerasan_seksual", "kekerasan_fisik"],
        "primary_location": "15.71",
        "victims_count": "1",
    }
    response = analyst.post(
        f"/articles/{article_id}/corrections", data=form, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"].endswith("?saved=1")
    history = analyst.get(f"/api/articles/{article_id}/corrections").json()
    assert history[-1]["changes"]["categories"] == ["kekerasan_seksual", "kekerasan_fisik"]
    found = analyst.get("/api/search", params={"category": "kekerasan_fisik", "size": 100}).json()
    assert article_id in [h["id"] for h in found["hits"]]
    bad = analyst.post(f"/articles/{article_id}/corrections", data={**form, "csrf_token": "x"})
    assert bad.status_code == 403


# -- statistics, dashboard, exports -------------------------------------------------------


def test_stats_count_incidents_per_week_month_and_region(
    analyst: TestClient, demo: tuple[Path, str]
) -> None:
    with ArticleStore(settings_for(demo[0]).store_path) as store:
        incidents_dated = sum(
            1 for s, t in store.iter_tagged() if t.relevance == "incident" and s.article.published
        )
    weekly = analyst.get("/api/stats", params={"period": "week"}).json()
    monthly = analyst.get("/api/stats", params={"period": "month"}).json()
    # Corrections may turn articles into incidents; the totals agree with each other and
    # with the store at least in size.
    assert sum(b["total"] for b in weekly["buckets"]) == sum(b["total"] for b in monthly["buckets"])
    assert sum(b["total"] for b in weekly["buckets"]) >= incidents_dated - 1 > 0
    assert all(re.fullmatch(r"\d{4}-W\d{2}", b["period"]) for b in weekly["buckets"])
    assert all(re.fullmatch(r"\d{4}-\d{2}", b["period"]) for b in monthly["buckets"])
    jambi = analyst.get("/api/stats", params={"region": "15"}).json()
    assert jambi["regions"] and all(r["code"].startswith("15.") for r in jambi["regions"])
    assert analyst.get("/api/stats", params={"period": "year"}).status_code == 422


def test_dashboard_draws_both_charts_and_latest_tppo(analyst: TestClient) -> None:
    page = analyst.get("/").text
    assert '<svg class="chart" id="chart-weekly"' in page
    assert '<svg class="chart" id="chart-regions"' in page
    assert page.count('class="bar"') > 3
    assert 'id="latest"' in page and "/articles/" in page


def test_exports_are_queued_and_audited(researcher: TestClient, demo: tuple[Path, str]) -> None:
    body = {"q": "perdagangan orang", "format": "csv"}
    assert researcher.post("/api/exports", json=body).status_code == 403  # no CSRF header
    response = researcher.post("/api/exports", json=body, headers=csrf(researcher))
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    with Accounts.open(settings_for(demo[0])) as accounts:
        exports = accounts.audit_entries(10, "export_request")
    assert exports[0]["username"] == "peneliti" and exports[0]["detail"]["q"] == body["q"]


def test_language_switch(analyst: TestClient) -> None:
    english = analyst.get("/search", params={"lang": "en"})
    assert "Search news" in english.text and "pantau_lang=en" in english.headers["set-cookie"]
    assert "Dashboard" in analyst.get("/").text  # the cookie keeps English
    assert "Dasbor" in analyst.get("/", params={"lang": "id"}).text


def test_openapi_document_lists_the_api(analyst: TestClient) -> None:
    document = analyst.get("/api/openapi.json").json()
    assert {"/api/search", "/api/articles/{article_id}", "/api/stats", "/api/exports"} <= set(
        document["paths"]
    )
    assert "/login" not in document["paths"]


# -- pantau users -------------------------------------------------------------------------


def test_users_cli_passwd_and_remove_end_sessions(app: FastAPI, demo: tuple[Path, str]) -> None:
    data_dir = demo[0]
    made = pantau_cli(
        "users",
        "add",
        "sementara",
        "--role",
        "researcher",
        "--password-stdin",
        data_dir=data_dir,
        stdin="kata-sandi-lama-1\n",
    )
    assert made.returncode == 0, made.stderr
    short = pantau_cli(
        "users", "add", "pendek", "--password-stdin", data_dir=data_dir, stdin="pendek\n"
    )
    assert short.returncode == 2 and "at least 10" in short.stderr
    client = login(client_for(app), "sementara", "kata-sandi-lama-1")
    assert client.get("/api/me").json()["role"] == "researcher"
    changed = pantau_cli(
        "users",
        "passwd",
        "sementara",
        "--password-stdin",
        data_dir=data_dir,
        stdin="kata-sandi-baru-1\n",
    )
    assert changed.returncode == 0, changed.stderr
    assert client.get("/api/me").status_code == 401
    client = login(client_for(app), "sementara", "kata-sandi-baru-1")
    removed = pantau_cli("users", "remove", "sementara", data_dir=data_dir)
    assert removed.returncode == 0
    assert client.get("/api/me").status_code == 401
    listed = pantau_cli("users", "list", data_dir=data_dir).stdout
    assert "sementara" not in listed and "analis\tanalyst" in listed


# -- export downloads ---------------------------------------------------------------------


def test_a_finished_export_downloads_as_a_masked_zip_for_its_owner(
    app: FastAPI,
    demo: tuple[Path, str],
    researcher: TestClient,
    admin: TestClient,
    analyst: TestClient,
) -> None:
    import io
    import zipfile

    settings = settings_for(demo[0])
    queued = researcher.post("/api/exports", json={"format": "jsonl"}, headers=csrf(researcher))
    request_id = queued.json()["id"]
    url = f"/api/exports/{request_id}/download"
    # The TestClient ran the export (a background task) before it answered.
    listed = {r["id"]: r for r in researcher.get("/api/exports").json()}
    assert listed[request_id]["status"] == "done" and listed[request_id]["download"] == url

    response = researcher.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert f"request-{request_id}/README.md" in names
    assert f"request-{request_id}/jsonl/train.jsonl" in names
    contents = b"".join(archive.read(name) for name in names)
    assert b"[KORBAN-1]" in contents and VICTIM_NAME.encode() not in contents

    assert admin.get(url).status_code == 200
    assert analyst.get(url).status_code == 403  # analysts do not export from the web
    assert client_for(app).get(url).status_code == 401
    with Accounts.open(settings) as accounts:
        waiting = accounts.queue_export("adminku", {"format": "csv"})  # not run yet
        downloads = accounts.audit_entries(10, "export_download")
    assert [(d["username"], d["target"]) for d in downloads[:2]] == [
        ("adminku", str(request_id)),
        ("peneliti", str(request_id)),
    ]
    # Another account's request is unknown to a researcher; an unfinished one is 409.
    assert researcher.get(f"/api/exports/{waiting['id']}/download").status_code == 404
    assert admin.get(f"/api/exports/{waiting['id']}/download").status_code == 409
    assert waiting["id"] not in {r["id"] for r in researcher.get("/api/exports").json()}
    assert researcher.get("/api/exports/999999/download").status_code == 404

    # An unmasked export written into the request's folder is not for researchers.
    readme = settings.data_dir / "exports" / f"request-{request_id}" / "README.md"
    readme.write_text(readme.read_text().replace("masked=true,", "masked=false,"))
    assert researcher.get(url).status_code == 403
    assert admin.get(url).status_code == 200
