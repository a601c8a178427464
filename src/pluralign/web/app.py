"""Build the FastAPI application.

``create_app(db)`` returns an ASGI app serving the participant pages under ``/a/<slug>``, the
organiser pages under ``/admin`` and the static files (htmx, CSS, keyboard shortcuts). The app's
own routers are listed in :data:`ROUTERS`; features (the moral graph, public evaluation, installed
plugins) add theirs through the ``web_routers`` hook of :mod:`pluralign.plugins` (docs/web.md,
docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from pluralign.errors import N_, NotFoundError, PluralignError, require

STATIC = Path(__file__).parent / "static"

# Modules that define ``router`` (a fastapi.APIRouter). Order matters only for equal paths.
ROUTERS = (
    "pluralign.web.routers.participant",
    "pluralign.web.routers.admin",
    "pluralign.web.routers.admin_assembly",
    "pluralign.web.routers.languages",
)

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


@dataclass(frozen=True)
class WebSettings:
    """Settings of one running web app (``pluralign web`` options)."""

    secure_cookies: bool = False
    """Send cookies only over HTTPS (turn on behind a TLS proxy)."""
    rate_per_minute: float = 60.0
    """Votes and statements one participant may send per minute, sustained."""
    burst: int = 20
    """... and at once."""
    constitution_embedder: str = "tfidf"
    """Near-duplicate merging for the constitution export: tfidf (light) or auto/minilm."""
    participant_session_days: int = 90
    admin_session_hours: int = 12
    public_url: str = ""
    """The address participants open, e.g. ``https://assembly.example.org`` (``--public-url``,
    ``$PLURALIGN_WEB_PUBLIC_URL``): the base of invitation and participant links. Never taken
    from a request's ``Host`` header, which a client chooses. Empty: links show as paths."""
    workbench_dir: str = "workbench"
    """Folder of the workbench's job outputs (``--workbench-dir``): practice data, trained
    models, their logs; one subfolder per assembly."""
    workbench_llm: str = ""
    """Provider settings of the workbench's interview and practice (``--workbench-llm``): a
    YAML file as ``--provider-config`` takes (a pipeline.yaml's ``llm:`` works). Empty: the
    embedded SmolLM2-135M-Instruct on this machine."""
    workbench_base_model: str = "smollm2"
    """The model the integration page trains (``--workbench-base-model``): ``smollm2`` or a
    local checkpoint folder."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_url", public_base_url(self.public_url))

    @classmethod
    def from_env(cls) -> WebSettings:
        env = os.environ
        return cls(
            secure_cookies=env.get("PLURALIGN_WEB_SECURE_COOKIES", "0") == "1",
            rate_per_minute=float(env.get("PLURALIGN_WEB_RATE_PER_MINUTE", 60)),
            burst=int(env.get("PLURALIGN_WEB_BURST", 20)),
            constitution_embedder=env.get("PLURALIGN_WEB_CONSTITUTION_EMBEDDER", "tfidf"),
            public_url=env.get("PLURALIGN_WEB_PUBLIC_URL", ""),
            workbench_dir=env.get("PLURALIGN_WEB_WORKBENCH_DIR", "workbench"),
            workbench_llm=env.get("PLURALIGN_WEB_WORKBENCH_LLM", ""),
            workbench_base_model=env.get("PLURALIGN_WEB_WORKBENCH_BASE_MODEL", "smollm2"),
        )


def public_base_url(value: str, where: str = "--public-url") -> str:
    """``value`` as a base URL without a trailing slash (``""`` stays ``""``), or
    :class:`InputError`: it must be ``http(s)://host[:port][/path]``, no query or fragment."""
    from urllib.parse import urlsplit

    from pluralign.errors import InputError

    value = (value or "").strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InputError(
            N_("not a public base URL: %(value)s", value=repr(value)),
            where=where,
            hint=N_("e.g. https://assembly.example.org (scheme and host; no ?query or #fragment)"),
        )
    return value.rstrip("/")


class _SecurityHeaders:
    """Pure ASGI middleware adding CSP and friends to every response (cheap: no body copy)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(db=None, settings: WebSettings | None = None):
    """The web app on the store ``db``: a URL or path, or an opened ``Store``."""
    require("fastapi", "web")
    from fastapi import Depends, FastAPI, HTTPException, Request
    from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
    from fastapi.staticfiles import StaticFiles
    from starlette.middleware.sessions import SessionMiddleware

    from pluralign.store import open_store
    from pluralign.web import deps, i18n
    from pluralign.web.hotpath import FastVote
    from pluralign.web.security import RateLimiter, cookie_secret
    from pluralign.web.votes import VoteWriter

    settings = settings or WebSettings()
    store = db if hasattr(db, "session") else open_store(db)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        app.state.writer.close()  # after the server stopped taking requests

    app = FastAPI(
        title="pluralign",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(deps.csrf_protect)],
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.settings = settings
    app.state.templates = deps.make_templates()
    app.state.limiter = RateLimiter(settings.rate_per_minute, settings.burst)
    app.state.login_limiter = RateLimiter(10, 10)  # sign-in attempts per client address
    app.state.writer = VoteWriter(store)
    # added first, so it runs inside the session and security-header middleware (web/hotpath.py)
    app.add_middleware(FastVote)
    app.add_middleware(
        SessionMiddleware,
        secret_key=cookie_secret(store),
        session_cookie="pluralign",
        max_age=settings.participant_session_days * 86400,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    app.add_middleware(_SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for name in ROUTERS:
        app.include_router(importlib.import_module(name).router)
    from pluralign.plugins import web_routers

    for router in web_routers():  # features: the moral graph, public evaluation, plugins
        app.include_router(router)

    def _wants_html(request: Request) -> bool:
        return "application/json" not in request.headers.get("accept", "")

    @app.exception_handler(deps.Redirect)
    async def _redirect(request: Request, exc: deps.Redirect):
        if request.headers.get("hx-request") == "true":
            return HTMLResponse("", status_code=200, headers={"HX-Redirect": exc.url})
        return RedirectResponse(exc.url, status_code=303)

    def _lang(request: Request) -> str:
        """The request's language for an error page; English if even that fails."""
        try:
            return i18n.request_language(request)
        except Exception:  # noqa: BLE001 - the error page must never fail
            return i18n.DEFAULT

    def _error(request: Request, status: int, message: str, hint: str | None = None):
        if not _wants_html(request):
            from fastapi.responses import JSONResponse

            return JSONResponse({"error": message, "hint": hint}, status_code=status)
        try:
            return deps.render(
                request,
                "error.html",
                {"status": status, "message": message, "hint": hint},
                status=status,
            )
        except Exception:  # noqa: BLE001 - the error page must never fail; fall back to text
            return PlainTextResponse(f"{status}: {message}", status_code=status)

    @app.exception_handler(PluralignError)
    async def _pluralign_error(request: Request, exc: PluralignError):
        status = 404 if isinstance(exc, NotFoundError) else 400
        lang = _lang(request)
        text = i18n.error_text(exc, lang, with_hint=False)
        return _error(request, status, text, i18n.text(exc.hint, lang))

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else N_("request failed")
        return _error(request, exc.status_code, i18n.text(detail, _lang(request)))

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        fields = ", ".join(str(e.get("loc", ["?"])[-1]) for e in exc.errors())
        message = N_("missing or malformed field(s): %(fields)s", fields=fields)
        return _error(request, 422, i18n.text(message, _lang(request)))

    def home(request: Request):
        return deps.render(request, "home.html")

    # Request is imported in this function, so the postponed annotation cannot be resolved from
    # the module: give FastAPI the class itself (else it asks for a query parameter, 422).
    home.__annotations__["request"] = Request
    app.get("/", include_in_schema=False)(home)

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        return PlainTextResponse("ok")

    return app


def app_from_env():
    """Factory for ``uvicorn --factory`` (used by ``pluralign web --workers N``)."""
    return create_app(os.environ.get("PLURALIGN_DATABASE_URL"), WebSettings.from_env())
