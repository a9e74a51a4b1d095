"""The FastAPI application behind `pantau serve`: server-rendered pages and a JSON API.

Every route but /login and /static checks the session and the role. Sessions are
server-side (`web.accounts`); the cookie holds a random token, is HttpOnly, SameSite=Strict
and Secure unless `web.cookie_secure = false` (http on localhost). Forms that change
anything carry the session's CSRF token; API writes send it as the X-CSRF-Token header.
"""

# No `from __future__ import annotations`: FastAPI must see the dependency objects of
# the closures below, which string annotations would hide.

import hmac
import logging
import secrets
import threading
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlencode

from fastapi import (
    BackgroundTasks,
    Depends,
    FastAPI,
    Form,
    Header,
    HTTPException,
    Query,
    Request,
    Response,
)
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pydantic import BaseModel, Field, ValidationError, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from index import open_index
from index.base import SearchIndex, SearchRequest, SearchResult
from index.query import QueryError
from nlp.gazetteer import Place, load_gazetteer
from pantau import __version__
from pantau.config import Settings
from pantau.models import CATEGORIES, TaggedArticle
from pantau.store import ArticleStore
from web import service
from web.accounts import Accounts, LoginLimiter, Session, secret_key
from web.charts import region_bars_svg, weekly_forms_svg
from web.i18n import DEFAULT_LANGUAGE, LANGUAGES, translator
from web.masking import mask_victims, names_to_mask
from web.stats_cache import StatsCache

log = logging.getLogger("pantau.web")

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "pantau_session"
LOGIN_CSRF_COOKIE = "pantau_login_csrf"
LANG_COOKIE = "pantau_lang"

Permission = Literal["search", "read", "stats", "correct", "export", "admin"]
PERMISSIONS: dict[Permission, frozenset[str]] = {
    "search": frozenset({"analyst", "researcher", "admin"}),
    "read": frozenset({"analyst", "researcher", "admin"}),
    "stats": frozenset({"analyst", "researcher", "admin"}),
    "correct": frozenset({"analyst", "admin"}),
    "export": frozenset({"researcher", "admin"}),
    "admin": frozenset({"admin"}),
}
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class NotLoggedIn(Exception):
    """No valid session: pages redirect to the login page, the API answers 401."""


class Resources:
    """Per-thread connections to the store, the accounts tables and the index.

    sqlite3 connections belong to the thread that opened them, and FastAPI runs sync
    routes and dependencies on a pool of threads; one set per thread reuses connections
    across requests without sharing any between threads."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.key = secret_key(settings)
        self._local = threading.local()
        # Applies pending migrations once, before any request.
        ArticleStore(settings.store_path).close()
        # The dashboard's and /api/stats' labels, shared by the threads of this process.
        self.stats_cache = StatsCache()

    def accounts(self) -> Accounts:
        found: Accounts | None = getattr(self._local, "accounts", None)
        if found is None:
            found = Accounts(self.settings.store_path, self.key)
            self._local.accounts = found
        return found

    def store(self) -> ArticleStore:
        found: ArticleStore | None = getattr(self._local, "store", None)
        if found is None:
            found = ArticleStore(self.settings.store_path)
            self._local.store = found
        return found

    def index(self) -> SearchIndex:
        found: SearchIndex | None = getattr(self._local, "index", None)
        if found is None:
            found = open_index(self.settings)
            self._local.index = found
        return found


# -- API shapes -------------------------------------------------------------------------


class Me(BaseModel):
    username: str
    role: str
    csrf_token: str = Field(description="Send as X-CSRF-Token with every API write.")
    permissions: list[str]


class ArticleDetail(BaseModel):
    id: str
    url: str
    source: str
    title: str
    text: str
    published: str | None
    author: str | None
    masked: bool = Field(description="True when victims' names were masked for this role.")
    tagged: TaggedArticle = Field(description="The tag with analysts' corrections applied.")
    model_tagged: TaggedArticle = Field(description="The tag as the model made it.")
    corrections: list[service.Correction]
    story: list[dict[str, Any]]


class CorrectionResult(BaseModel):
    correction: service.Correction
    tagged: TaggedArticle
    reindexed: bool


# The formats of pantau.export.writers.FORMATS (a test checks they agree).
ExportFormat = Literal["jsonl", "csv", "parquet", "conll", "spacy", "hf"]


class ExportIn(BaseModel):
    q: str = Field(default="", max_length=1000)
    sources: list[str] = Field(default_factory=list, max_length=20)
    relevance: list[str] = Field(default_factory=list, max_length=3)
    categories: list[str] = Field(default_factory=list, max_length=6)
    victim_groups: list[str] = Field(default_factory=list, max_length=2)
    regions: list[str] = Field(default_factory=list, max_length=50)
    date_from: date | None = None
    date_to: date | None = None
    format: Literal["csv", "jsonl"] = "csv"
    formats: list[ExportFormat] = Field(
        default_factory=list,
        max_length=6,
        description="Formats to write (JSONL and the datasheet come with every export); "
        "empty: `format`.",
    )
    corrected_only: bool = Field(
        default=False, description="Only articles a person corrected or annotated."
    )
    include_text: bool = Field(
        default=True,
        description="False drops the article texts: labels and metadata only (conll and "
        "spacy need the text).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "ExportIn":
        # Refused here, not after the export started: the request would only fail later
        # (or hold nothing).
        needing = [name for name in self.formats if name in ("conll", "spacy")]
        if not self.include_text and needing:
            raise ValueError(f"{', '.join(needing)} need the article text: keep the text")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError("date_from is after date_to")
        return self


class ExportQueued(BaseModel):
    id: int
    username: str
    created_at: str
    status: str
    message: str


class ExportRequestOut(BaseModel):
    id: int
    username: str
    created_at: str
    status: str = Field(description="queued, running, done or failed.")
    finished_at: str | None = None
    error: str | None = None
    download: str | None = Field(
        default=None, description="Where a finished export is downloaded as a zip."
    )


class Problem(BaseModel):
    detail: str


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Not logged in"},
    403: {"model": Problem, "description": "Role not allowed, or CSRF token missing"},
}


def create_app(settings: Settings) -> FastAPI:
    resources = Resources(settings)
    limiter = LoginLimiter(
        settings.web.login_attempts, timedelta(minutes=settings.web.login_window_minutes)
    )
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    # Autoescaping is on for .html templates; only `Markup` built in Python (escaped there)
    # and the index's <mark>-only snippets are marked safe.
    app = FastAPI(
        title="Pantau API",
        version=__version__,
        description="Search, read and correct tagged news about trafficking (TPPO) and "
        "violence against women and children. Log in at /login first: every route needs a "
        "session cookie; writes need the X-CSRF-Token header (from GET /api/me).",
        openapi_url=None,  # served below, behind the login
        docs_url=None,
        redoc_url=None,
    )
    app.state.resources = resources
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    # -- helpers ------------------------------------------------------------------------

    def client_ip(request: Request) -> str:
        return request.client.host if request.client else "-"

    def current_session(request: Request) -> Session:
        found = resources.accounts().session(request.cookies.get(SESSION_COOKIE))
        if found is None:
            raise NotLoggedIn()
        return found

    def require(permission: Permission) -> Callable[..., Session]:
        def check(session: Annotated[Session, Depends(current_session)]) -> Session:
            if session.user.role not in PERMISSIONS[permission]:
                raise HTTPException(403, f"the role {session.user.role} may not {permission}")
            return session

        return check

    def check_csrf(session: Session, token: str | None) -> None:
        if not token or not hmac.compare_digest(token, session.csrf_token):
            raise HTTPException(403, "missing or wrong CSRF token")

    def language(request: Request) -> str:
        wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        return wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE

    def render(
        request: Request,
        template: str,
        context: dict[str, Any],
        session: Session | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        lang = language(request)
        other = "en" if lang == "id" else "id"
        query = dict(request.query_params)
        query["lang"] = other
        base = {
            "t": translator(lang),
            "lang": lang,
            "switch_url": f"{request.url.path}?{urlencode(query)}",
            "session": session,
            "can": (lambda p: session is not None and session.user.role in PERMISSIONS[p]),
            "category_labels": category_labels(lang),
        }
        return templates.TemplateResponse(
            request, template, {**base, **context}, status_code=status_code
        )

    def category_labels(lang: str) -> dict[str, str]:
        t = translator(lang)
        return {category: t(f"form.{category}") for category in CATEGORIES}

    def effective(article_id: str) -> tuple[Any, TaggedArticle, TaggedArticle, list[Any]] | None:
        store = resources.store()
        stored = store.get_article(article_id)
        tagged = store.get_tag(article_id)
        if stored is None or tagged is None:
            return None
        corrections = resources.accounts().corrections(article_id)
        return stored, tagged, service.apply_corrections(tagged, corrections), corrections

    def run_search(
        request_model: SearchRequest, session: Session, ip: str, audit: bool = True
    ) -> SearchResult:
        try:
            result = resources.index().search(request_model)
        except (QueryError, ValueError) as exc:  # ValueError: a malformed cursor
            raise HTTPException(400, str(exc)) from exc
        if session.user.role == "researcher":
            service.mask_result(result, request_model, resources.store())
        for hit in result.hits:
            hit.title_html = service.safe_marked(hit.title_html)
            hit.snippet_html = service.safe_marked(hit.snippet_html)
        if not audit:
            return result
        resources.accounts().audit(
            session.user.username,
            "search",
            None,
            request_model.model_dump(mode="json", exclude_defaults=True),
            ip,
        )
        return result

    def article_detail(article_id: str, session: Session, ip: str) -> ArticleDetail:
        found = effective(article_id)
        if found is None:
            raise HTTPException(404, f"no tagged article {article_id}")
        stored, tagged, corrected, corrections = found
        article = stored.article
        if "anak" in corrected.victim_groups:
            resources.accounts().audit(
                session.user.username, "view_child_article", article_id, {}, ip
            )
        masked = session.user.role == "researcher"
        title, text = article.title, article.text
        if masked:
            names = names_to_mask(corrected, (), title, text)
            title = mask_victims(title, corrected, names, field="title")
            text = mask_victims(text, corrected, names, field="text")
            # Entities would point into the unmasked text; researchers get them without
            # PERSON names.
            corrected = corrected.model_copy(
                update={"entities": [e for e in corrected.entities if e.label != "PERSON"]}
            )
            tagged = tagged.model_copy(update={"entities": corrected.entities})
        story = service.story_of(resources.accounts()._db, article_id)
        if masked:
            for item in story:
                other = effective(item["id"])
                if other is not None:
                    item["title"] = mask_victims(item["title"], other[2], field="title")
        return ArticleDetail(
            id=stored.id,
            url=article.canonical_url,
            source=article.source,
            title=title,
            text=text,
            published=article.published.isoformat() if article.published else None,
            author=article.author,
            masked=masked,
            tagged=corrected,
            model_tagged=tagged,
            corrections=[service.Correction.model_validate(c) for c in corrections],
            story=story,
        )

    def save_correction(
        article_id: str, correction: service.CorrectionIn, session: Session, ip: str
    ) -> CorrectionResult:
        store = resources.store()
        if store.get_tag(article_id) is None or store.get_article(article_id) is None:
            raise HTTPException(404, f"no tagged article {article_id}")
        accounts = resources.accounts()
        saved = accounts.add_correction(
            article_id, session.user.username, correction.changes(), correction.note
        )
        accounts.audit(session.user.username, "correction", article_id, saved["changes"], ip)
        corrections = accounts.corrections(article_id)
        reindexed = service.reindex(store, resources.index(), article_id, corrections)
        found = effective(article_id)
        if found is None:  # deleted between the two reads
            raise HTTPException(404, f"no tagged article {article_id}")
        return CorrectionResult(
            correction=service.Correction.model_validate(saved),
            tagged=found[2],
            reindexed=reindexed,
        )

    def queue_export(
        export: ExportIn, session: Session, ip: str, background: BackgroundTasks
    ) -> ExportQueued:
        """An export request from the API or the export page: stored, audited, and made
        (masked, whatever the role) right after the answer is sent."""
        accounts = resources.accounts()
        queued = accounts.queue_export(session.user.username, export.model_dump(mode="json"))
        accounts.audit(
            session.user.username, "export_request", str(queued["id"]), queued["request"], ip
        )
        background.add_task(run_export_in_background, settings, int(queued["id"]))
        return ExportQueued(
            **{k: queued[k] for k in ("id", "username", "created_at", "status")},
            message=f"queued; a masked export follows in exports/request-{queued['id']}/",
        )

    def visible_export_requests(session: Session) -> list[dict[str, Any]]:
        """Export requests, newest first: a researcher's own, every one for an admin."""
        mine = None if session.user.role == "admin" else session.user.username
        return resources.store().export_requests(mine)

    # -- errors and headers -------------------------------------------------------------

    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "log in first"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        t = translator(language(request))
        message = {403: t("error.forbidden"), 404: t("error.not_found")}.get(
            exc.status_code, str(exc.detail)
        )
        if exc.status_code == 403 and "CSRF" in str(exc.detail):
            message = t("error.csrf")
        return render(
            request,
            "error.html",
            {"message": message, "status": exc.status_code},
            status_code=exc.status_code,
        )

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        lang = request.query_params.get("lang")
        if lang in LANGUAGES:
            response.set_cookie(
                LANG_COOKIE,
                lang,
                max_age=365 * 86400,
                httponly=True,
                samesite="strict",
                secure=settings.web.cookie_secure,
            )
        return response

    # -- login ----------------------------------------------------------------------------

    def safe_next(target: str | None) -> str:
        # Only paths of this site: no "//evil.example" or "https://…" open redirects.
        if target and target.startswith("/") and not target.startswith(("//", "/\\")):
            return target
        return "/"

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request, next: str | None = None) -> HTMLResponse:
        token = secrets.token_urlsafe(32)
        response = render(request, "login.html", {"csrf_token": token, "next": safe_next(next)})
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=settings.web.cookie_secure,
            max_age=3600,
        )
        return response

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        username: Annotated[str, Form(max_length=64)],
        password: Annotated[str, Form(max_length=1024)],
        csrf_token: Annotated[str, Form(max_length=200)],
        next: Annotated[str, Form(max_length=2000)] = "/",
    ) -> Response:
        # Double-submit token: there is no session yet to hold one.
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE)
        if not cookie or not hmac.compare_digest(cookie, csrf_token):
            raise HTTPException(403, "missing or wrong CSRF token")
        ip = client_ip(request)
        accounts = resources.accounts()
        t = translator(language(request))
        if limiter.blocked(username, ip):
            accounts.audit(username, "login_blocked", None, {}, ip)
            return render(
                request,
                "login.html",
                {"csrf_token": csrf_token, "next": safe_next(next), "error": t("login.blocked")},
                status_code=429,
            )
        user = accounts.authenticate(username, password)
        if user is None:
            limiter.failed(username, ip)
            accounts.audit(username, "login_failed", None, {}, ip)
            return render(
                request,
                "login.html",
                {"csrf_token": csrf_token, "next": safe_next(next), "error": t("login.failed")},
                status_code=401,
            )
        limiter.succeeded(username, ip)
        token, _ = accounts.create_session(user, settings.web.session_hours)
        accounts.audit(user.username, "login", None, {}, ip)
        response = RedirectResponse(safe_next(next), status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=settings.web.cookie_secure,
            max_age=int(settings.web.session_hours * 3600),
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE)
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(
        request: Request,
        session: Annotated[Session, Depends(current_session)],
        csrf_token: Annotated[str, Form(max_length=200)] = "",
    ) -> Response:
        check_csrf(session, csrf_token)
        accounts = resources.accounts()
        accounts.end_session(request.cookies.get(SESSION_COOKIE, ""))
        accounts.audit(session.user.username, "logout", None, {}, client_ip(request))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    # -- pages ----------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def dashboard(
        request: Request, session: Annotated[Session, Depends(require("stats"))]
    ) -> HTMLResponse:
        # Cases, not articles: one case reported by three outlets is one incident
        # (counting rules in web/service.py).
        db = resources.accounts()._db
        # Read once per change of the labels (web/stats_cache.py), never stale.
        snapshot = resources.stats_cache.snapshot(resources.store(), db)
        weekly = resources.stats_cache.statistics(snapshot, "week")
        jambi = resources.stats_cache.statistics(snapshot, "week", region=service.JAMBI_PROVINCE)
        newest = run_search(
            # Enough articles for 8 cases even when each was reported by several outlets.
            SearchRequest(
                categories=["tppo"], relevance=["incident"], sort="date", size=60, facets=False
            ),
            session,
            client_ip(request),
            audit=False,  # the dashboard's own query, not an analyst's search
        )
        latest = service.latest_cases(db, snapshot.corrections, newest.hits, "tppo", limit=8)
        labels = category_labels(language(request))
        t = translator(language(request))
        weekly_svg = (
            weekly_forms_svg(
                [b.period for b in weekly.buckets],
                [b.cases_by_form for b in weekly.buckets],
                labels,
                t("dashboard.weekly"),
            )
            if weekly.buckets
            else None
        )
        regions_svg = (
            region_bars_svg(
                [(r.name, r.cases) for r in jambi.regions if r.cases], t("dashboard.regions")
            )
            if jambi.cases
            else None
        )
        return render(
            request,
            "dashboard.html",
            {"weekly_svg": weekly_svg, "regions_svg": regions_svg, "latest": latest},
            session,
        )

    @app.get("/search", include_in_schema=False)
    def search_page(
        request: Request,
        session: Annotated[Session, Depends(require("search"))],
        q: Annotated[str, Query(max_length=1000)] = "",
        relevance: Annotated[list[str] | None, Query()] = None,
        category: Annotated[list[str] | None, Query()] = None,
        victim_group: Annotated[list[str] | None, Query()] = None,
        region: Annotated[list[str] | None, Query()] = None,
        source: Annotated[list[str] | None, Query()] = None,
        date_from: Annotated[str, Query(max_length=10)] = "",
        date_to: Annotated[str, Query(max_length=10)] = "",
        sort: Annotated[str, Query(max_length=10)] = "relevance",
        page: Annotated[int, Query(ge=1, le=1000)] = 1,
    ) -> HTMLResponse:
        t = translator(language(request))
        selected = {
            "relevance": relevance or [],
            "category": category or [],
            "victim_group": victim_group or [],
            "region": region or [],
            "source": source or [],
        }
        error = None
        result = None
        try:
            search_request = SearchRequest(
                q=q,
                relevance=selected["relevance"],
                categories=selected["category"],
                victim_groups=selected["victim_group"],
                regions=selected["region"],
                sources=selected["source"],
                date_from=date.fromisoformat(date_from) if date_from else None,
                date_to=date.fromisoformat(date_to) if date_to else None,
                sort="date" if sort == "date" else "relevance",
                page=page,
                size=10,
            )
            result = run_search(search_request, session, client_ip(request))
        except (ValueError, ValidationError) as exc:
            error = t("error.query", message=str(exc).splitlines()[0])
        except HTTPException as exc:
            error = t("error.query", message=str(exc.detail))
        base_query = [(k, v) for k, values in selected.items() for v in values]
        base_query += [("q", q), ("sort", sort), ("date_from", date_from), ("date_to", date_to)]
        return render(
            request,
            "search.html",
            {
                "q": q,
                "selected": selected,
                "date_from": date_from,
                "date_to": date_to,
                "sort": sort,
                "result": result,
                "error": error,
                "page_url": lambda n: "/search?" + urlencode([*base_query, ("page", n)]),
                "marked": lambda html_text: Markup(html_text),  # already safe_marked
            },
            session,
        )

    @app.get("/articles/{article_id}", include_in_schema=False)
    def article_page(
        request: Request,
        article_id: str,
        session: Annotated[Session, Depends(require("read"))],
        saved: int = 0,
    ) -> HTMLResponse:
        detail = article_detail(article_id, session, client_ip(request))
        return render(
            request,
            "article.html",
            {
                "article": detail,
                "body_html": render_text(detail),
                "saved": bool(saved),
                "regions": jambi_regions(),
                "categories": CATEGORIES,
                "csrf_token": session.csrf_token,
                "region_name": service.region_name,
            },
            session,
        )

    @app.post("/articles/{article_id}/corrections", include_in_schema=False)
    def correction_form(
        request: Request,
        article_id: str,
        session: Annotated[Session, Depends(require("correct"))],
        csrf_token: Annotated[str, Form(max_length=200)] = "",
        relevance: Annotated[str, Form(max_length=20)] = "",
        categories: Annotated[list[str] | None, Form()] = None,
        categories_present: Annotated[str, Form(max_length=2)] = "",
        primary_location: Annotated[str, Form(max_length=20)] = "",
        victims_count: Annotated[str, Form(max_length=10)] = "",
        note: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        check_csrf(session, csrf_token)
        found = effective(article_id)
        if found is None:
            raise HTTPException(404, f"no tagged article {article_id}")
        current = found[2]
        # Only what differs from the current labels becomes part of the correction.
        changes: dict[str, Any] = {}
        if relevance and relevance != current.relevance:
            changes["relevance"] = relevance
        if categories_present and sorted(categories or []) != sorted(current.categories):
            changes["categories"] = categories or []
        current_code = current.primary_location.code if current.primary_location else ""
        if primary_location and primary_location != current_code:
            changes["primary_location"] = primary_location
        if victims_count.strip():
            try:
                count = int(victims_count)
            except ValueError as exc:
                raise HTTPException(400, "victims count must be a number") from exc
            if count != current.victims.count:
                changes["victims_count"] = count
        if not changes:
            return RedirectResponse(f"/articles/{article_id}", status_code=303)
        try:
            correction = service.CorrectionIn(**changes, note=note or None)
        except ValidationError as exc:
            raise HTTPException(400, exc.errors()[0]["msg"]) from exc
        save_correction(article_id, correction, session, client_ip(request))
        return RedirectResponse(f"/articles/{article_id}?saved=1", status_code=303)

    @app.get("/admin/users", include_in_schema=False)
    def users_page(
        request: Request, session: Annotated[Session, Depends(require("admin"))]
    ) -> HTMLResponse:
        accounts = resources.accounts()
        return render(
            request,
            "users.html",
            {"users": accounts.list_users(), "audit": accounts.audit_entries(50)},
            session,
        )

    # -- API ------------------------------------------------------------------------------

    @app.get("/api/openapi.json", tags=["meta"], responses=ERRORS)
    def openapi_document(
        session: Annotated[Session, Depends(current_session)],
    ) -> dict[str, Any]:
        """This document (behind the login, like everything else)."""
        return app.openapi()

    @app.get("/api/me", response_model=Me, tags=["meta"], responses=ERRORS)
    def me(session: Annotated[Session, Depends(current_session)]) -> Me:
        """Who is logged in, with what role, and the CSRF token for API writes."""
        return Me(
            username=session.user.username,
            role=session.user.role,
            csrf_token=session.csrf_token,
            permissions=[p for p, roles in PERMISSIONS.items() if session.user.role in roles],
        )

    @app.get(
        "/api/search",
        response_model=SearchResult,
        tags=["search"],
        responses={**ERRORS, 400: {"model": Problem, "description": "Query not understood"}},
    )
    def api_search(
        request: Request,
        session: Annotated[Session, Depends(require("search"))],
        q: Annotated[str, Query(max_length=1000, description="Pantau's query language")] = "",
        source: Annotated[list[str] | None, Query(max_length=20)] = None,
        relevance: Annotated[list[str] | None, Query(max_length=3)] = None,
        category: Annotated[list[str] | None, Query(max_length=6)] = None,
        victim_group: Annotated[list[str] | None, Query(max_length=2)] = None,
        region: Annotated[list[str] | None, Query(max_length=50)] = None,
        date_from: date | None = None,
        date_to: date | None = None,
        sort: Literal["relevance", "date"] = "relevance",
        page: Annotated[int, Query(ge=1, le=1000)] = 1,
        size: Annotated[int, Query(ge=1, le=100)] = 10,
        facets: bool = True,
        cursor: Annotated[
            str | None, Query(max_length=2000, description="next_cursor of a previous page")
        ] = None,
    ) -> SearchResult:
        """Search with the query language (`"perdagangan orang" region:15 date:2026-11`) and
        filters; facets count the values among all matches. Same shape on every backend."""
        search_request = SearchRequest(
            q=q,
            sources=source or [],
            relevance=relevance or [],
            categories=category or [],
            victim_groups=victim_group or [],
            regions=region or [],
            date_from=date_from,
            date_to=date_to,
            sort=sort,
            page=page,
            size=size,
            facets=facets,
            cursor=cursor,
        )
        return run_search(search_request, session, client_ip(request))

    @app.get(
        "/api/articles/{article_id}",
        response_model=ArticleDetail,
        tags=["articles"],
        responses={**ERRORS, 404: {"model": Problem, "description": "No such tagged article"}},
    )
    def api_article(
        request: Request,
        article_id: str,
        session: Annotated[Session, Depends(require("read"))],
    ) -> ArticleDetail:
        """Text, entities, tagged fields (corrected), corrections and the story cluster."""
        return article_detail(article_id, session, client_ip(request))

    @app.get(
        "/api/articles/{article_id}/corrections",
        response_model=list[service.Correction],
        tags=["corrections"],
        responses={**ERRORS, 404: {"model": Problem, "description": "No such article"}},
    )
    def api_corrections(
        article_id: str, session: Annotated[Session, Depends(require("read"))]
    ) -> list[service.Correction]:
        """Every correction of an article, oldest first, with who and when."""
        if resources.store().get_article(article_id) is None:
            raise HTTPException(404, f"no article {article_id}")
        return [
            service.Correction.model_validate(c)
            for c in resources.accounts().corrections(article_id)
        ]

    @app.post(
        "/api/articles/{article_id}/corrections",
        response_model=CorrectionResult,
        status_code=201,
        tags=["corrections"],
        responses={**ERRORS, 404: {"model": Problem, "description": "No such tagged article"}},
    )
    def api_correct(
        request: Request,
        article_id: str,
        correction: service.CorrectionIn,
        session: Annotated[Session, Depends(require("correct"))],
        x_csrf_token: Annotated[str | None, Header(max_length=200)] = None,
    ) -> CorrectionResult:
        """Correct relevance, forms, location or victims count; stored with who and when,
        applied to the index at once."""
        check_csrf(session, x_csrf_token)
        return save_correction(article_id, correction, session, client_ip(request))

    @app.get("/api/stats", response_model=service.Stats, tags=["statistics"], responses=ERRORS)
    def api_stats(
        session: Annotated[Session, Depends(require("stats"))],
        period: Literal["week", "month"] = "week",
        relevance: Literal["incident", "aggregate", "none"] = "incident",
        region: Annotated[str | None, Query(max_length=20, pattern=r"^[0-9.]+$")] = None,
    ) -> service.Stats:
        """Cases (story clusters: one case reported by several outlets counts once) and
        articles per week (ISO, WIB) or month by form and kabupaten/kota (corrected
        labels); `region=15` keeps Jambi province. `cases*` fields count cases, the others
        (`total`, `by_form`, `by_region`, `count`, `forms`) articles."""
        snapshot = resources.stats_cache.snapshot(resources.store(), resources.accounts()._db)
        return resources.stats_cache.statistics(snapshot, period, relevance, region)

    @app.post(
        "/api/exports",
        response_model=ExportQueued,
        status_code=202,
        tags=["exports"],
        responses=ERRORS,
    )
    def api_export(
        request: Request,
        export: ExportIn,
        session: Annotated[Session, Depends(require("export"))],
        background: BackgroundTasks,
        x_csrf_token: Annotated[str | None, Header(max_length=200)] = None,
    ) -> ExportQueued:
        """Queue an export of the matching articles, always masked (victims pseudonymised,
        docs/datasets.md). It is made right after this answer, in
        <data_dir>/exports/request-<id>/; the request's status becomes 'done' or 'failed'
        (the `export` flow also runs requests still queued)."""
        check_csrf(session, x_csrf_token)
        return queue_export(export, session, client_ip(request), background)

    @app.get(
        "/api/exports",
        response_model=list[ExportRequestOut],
        tags=["exports"],
        responses=ERRORS,
    )
    def api_export_requests(
        session: Annotated[Session, Depends(require("export"))],
    ) -> list[ExportRequestOut]:
        """Export requests, newest first: a researcher's own, every one for an admin; a
        finished one has its `download` link."""
        return [
            ExportRequestOut(
                **row,
                download=f"/api/exports/{row['id']}/download" if row["status"] == "done" else None,
            )
            for row in visible_export_requests(session)
        ]

    @app.get(
        "/api/exports/{request_id}/download",
        tags=["exports"],
        response_class=StreamingResponse,
        responses={
            **ERRORS,
            200: {"content": {"application/zip": {}}, "description": "The export as a zip"},
            404: {"model": Problem, "description": "No such request (or another's)"},
            409: {"model": Problem, "description": "Not finished: queued, running or failed"},
            410: {"model": Problem, "description": "Its files were removed"},
        },
    )
    def api_export_download(
        request: Request,
        request_id: int,
        session: Annotated[Session, Depends(require("export"))],
    ) -> StreamingResponse:
        """A finished export request's folder as a zip. A researcher gets their own
        requests only, and masked exports only; an admin any. Every download is audited."""
        from pantau.export.requests import DownloadRefused, export_for_download, zip_export

        user = session.user
        try:
            folder = export_for_download(
                resources.store(), settings, request_id, user.username, user.role
            )
        except DownloadRefused as refused:
            raise HTTPException(refused.status, refused.detail) from refused
        resources.accounts().audit(
            user.username, "export_download", str(request_id), {}, client_ip(request)
        )
        return StreamingResponse(
            zip_export(folder),
            media_type="application/zip",
            headers={
                "Content-Disposition": f'attachment; filename="pantau-export-{request_id}.zip"'
            },
        )

    # The export page: the same requests as POST /api/exports, from a form.

    def exports_page_response(
        request: Request,
        session: Session,
        form: dict[str, Any],
        queued: int | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        return render(
            request,
            "exports.html",
            {
                "form": form,
                "queued": queued,
                "error": error,
                "requests": visible_export_requests(session),
                "formats": get_args(ExportFormat),
                "categories": CATEGORIES,
                "regions": jambi_regions(),
                "region_name": service.region_name,
                "sources": sorted({source.label for source in settings.sources}),
                "csrf_token": session.csrf_token,
            },
            session,
            status_code=status_code,
        )

    @app.get("/exports", include_in_schema=False)
    def exports_page(
        request: Request,
        session: Annotated[Session, Depends(require("export"))],
        queued: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    ) -> HTMLResponse:
        form = ExportIn(formats=["jsonl"]).model_dump(mode="json")
        return exports_page_response(request, session, form, queued=queued)

    @app.post("/exports", include_in_schema=False)
    def export_form(
        request: Request,
        session: Annotated[Session, Depends(require("export"))],
        background: BackgroundTasks,
        csrf_token: Annotated[str, Form(max_length=200)] = "",
        q: Annotated[str, Form(max_length=1000)] = "",
        formats: Annotated[list[str] | None, Form()] = None,
        relevance: Annotated[list[str] | None, Form()] = None,
        categories: Annotated[list[str] | None, Form()] = None,
        victim_groups: Annotated[list[str] | None, Form()] = None,
        regions: Annotated[list[str] | None, Form()] = None,
        sources: Annotated[list[str] | None, Form()] = None,
        date_from: Annotated[str, Form(max_length=10)] = "",
        date_to: Annotated[str, Form(max_length=10)] = "",
        corrected_only: Annotated[str, Form(max_length=2)] = "",
        drop_text: Annotated[str, Form(max_length=2)] = "",
    ) -> Response:
        check_csrf(session, csrf_token)
        form: dict[str, Any] = {
            "q": q.strip(),
            # JSONL comes with every export; with no box ticked it is the only format.
            "formats": formats or ["jsonl"],
            "relevance": relevance or [],
            "categories": categories or [],
            "victim_groups": victim_groups or [],
            "regions": regions or [],
            "sources": sources or [],
            "date_from": date_from or None,
            "date_to": date_to or None,
            "corrected_only": bool(corrected_only),
            "include_text": not drop_text,
        }
        try:
            export = ExportIn.model_validate(form)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            message = f"{where}: {first['msg']}" if where else str(first["msg"])
            t = translator(language(request))
            return exports_page_response(
                request,
                session,
                form,
                error=t("exports.invalid", message=message),
                status_code=400,
            )
        queued = queue_export(export, session, client_ip(request), background)
        return RedirectResponse(f"/exports?queued={queued.id}", status_code=303)

    @app.get("/api/admin/users", tags=["admin"], responses=ERRORS)
    def api_users(
        session: Annotated[Session, Depends(require("admin"))],
    ) -> list[dict[str, str]]:
        """Accounts (change them with `pantau users`)."""
        return resources.accounts().list_users()

    @app.get("/api/admin/audit", tags=["admin"], responses=ERRORS)
    def api_audit(
        session: Annotated[Session, Depends(require("admin"))],
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        action: Annotated[str | None, Query(max_length=40)] = None,
    ) -> list[dict[str, Any]]:
        """The latest audit log entries, newest first."""
        return resources.accounts().audit_entries(limit, action)

    @app.get("/api/admin/sources", tags=["admin"], responses=ERRORS)
    def api_sources(
        session: Annotated[Session, Depends(require("admin"))],
    ) -> list[dict[str, Any]]:
        """The configured news sources (edit them in pantau.toml)."""
        return [source.model_dump() for source in settings.sources]

    return app


def jambi_regions() -> list[Place]:
    """Jambi province and its kabupaten/kota, the province first (the forms' choices)."""
    return sorted(
        (
            place
            for place in load_gazetteer().places.values()
            if place.province_code == "15" and place.level in ("provinsi", "kabupaten_kota")
        ),
        key=lambda place: (place.level != "provinsi", place.name),
    )


def run_export_in_background(settings: Settings, request_id: int) -> None:
    """An export request, run after the answer was sent: a failure is recorded on the
    request (status 'failed', the reason) and logged, never raised into the server."""
    from pantau.export.requests import run_export_request

    try:
        run_export_request(settings, request_id)
    except Exception:  # recorded on the request by run_export_request
        logging.getLogger(__name__).warning("export request %s failed", request_id)


def render_text(detail: ArticleDetail) -> list[Markup]:
    """The article's paragraphs, escaped, with entities wrapped in labelled <span>s."""
    from html import escape

    text = detail.text
    entities = sorted(
        (
            e
            for e in detail.tagged.entities
            if e.field == "text" and text[e.start : e.end] == e.text
        ),
        key=lambda e: (e.start, -e.end),
    )
    pieces: list[str] = []
    position = 0
    for entity in entities:
        if entity.start < position:
            continue  # overlapping: keep the first
        pieces.append(escape(text[position : entity.start]))
        pieces.append(
            f'<span class="ent ent-{entity.label}" title="{entity.label}">'
            f"{escape(text[entity.start : entity.end])}</span>"
        )
        position = entity.end
    pieces.append(escape(text[position:]))
    html_text = "".join(pieces)
    # Paragraphs are separated by blank lines in the store; no tag spans a blank line
    # because entities never contain one.
    return [Markup(paragraph) for paragraph in html_text.split("\n\n") if paragraph.strip()]
