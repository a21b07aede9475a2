"""The web app: server-rendered pages (Jinja2 + HTMX) and a JSON API under /api/v1, over the
same store and the same services the CLI uses."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Receive, Scope, Send

from onemind.config.model import Settings
from onemind.errors import ConfigurationError
from onemind.store.db import transaction
from onemind.web import accounts, api, limits, pages
from onemind.web.access import COOKIE, SignInNeeded, set_session
from onemind.web.limits import BodyLimit
from onemind.web.templating import render

log = logging.getLogger(__name__)


def create_app(
    sessions: sessionmaker[Session],
    settings: Settings,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    evidence: Path | None = None,
) -> FastAPI:
    """The app over a current store; `evidence` is where attestation files are kept (default
    `evidence/` beside the configuration file)."""
    app = FastAPI(
        title="onemind-sync",
        version="1",
        docs_url="/api/v1/docs",
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.sessions = sessions
    app.state.settings = settings
    app.state.now = now
    app.state.evidence = evidence or settings.base_dir / "evidence"
    with transaction(sessions) as session:
        app.state.secret = accounts.secret_key(session)
    static = files("onemind.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for router in pages.ROUTERS:
        app.include_router(router)
    app.include_router(api.router)
    _handlers(app)
    # inside the cookie middleware: its receive runs in a task group, which would wrap the
    # limit's 413 in an exception group that the form parser reports as a bad body
    app.add_middleware(BodyLimit, limit=limits.MAX_BODY, refuse=_too_large)
    app.middleware("http")(_visitor_cookie)
    return app


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer to a body declared larger than the limit, sent without reading it."""
    request = Request(scope, receive)
    await _error(request, 413, limits.TOO_LARGE)(scope, receive, send)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInNeeded)
    async def sign_in(request: Request, _exc: SignInNeeded) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": "Sign in: send 'Authorization: Bearer TOKEN'."},
                401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return RedirectResponse(f"/login?next={request.url.path}", 303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, exc: RequestValidationError) -> Response:
        return _error(request, 400, validation_message(exc))

    @app.exception_handler(ConfigurationError)
    async def refused(request: Request, exc: ConfigurationError) -> Response:
        return _error(request, 400, str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _error(request, 500, "Something went wrong on our side; it has been logged.")


def validation_message(exc: RequestValidationError) -> str:
    """Each bad field named, with what was wrong, in one line."""
    parts = []
    for error in exc.errors():
        where = [str(p) for p in error.get("loc", ()) if p not in ("query", "body", "path")]
        parts.append(f"{'.'.join(where) or 'request'}: {error.get('msg', 'invalid')}")
    return "Bad input: " + "; ".join(parts)


def _error(request: Request, status: int, message: str) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": message}, status)
    return render(request, "error.html", {"status": status, "message": message}, status)


async def _visitor_cookie(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """A visitor without a session gets one holding only a CSRF token, for the sign-in form."""
    response = await call_next(request)
    token = getattr(request.state, "new_csrf", None)
    if token and COOKIE not in response.headers.get("set-cookie", ""):
        set_session(request, response, {"csrf": token})
    return response
