"""The demo application: sessions for the browser, JWTs for APIs, and the conversions between.

Run it with ``make app`` (or ``scripts/run-app``); build one in a test with
``create_app(Settings(...))``. Laid out as FastAPI's "bigger applications" guide suggests:

- app.settings: `Settings`, read from the environment;
- app.state: the parts built once at start-up (`Demo`), which every router uses;
- app.dependencies: the shared checks (origin, session, bearer token, bodies);
- app.routers: one router per pattern:

  - pages: ``/login``, ``/account``, ``/logout``, ``/logout-everywhere``, a session cookie
    (``__Host-session``) over a Redis session store, CSRF-checked by origin;
  - bff: ``/auth/oidc/start`` and ``/auth/oidc/callback``, backend-for-frontend login on the
    authorization code flow with PKCE at an identity provider, and ``/bff/api/me``;
  - tokens: ``/token/exchange`` (a live session buys a JWT, also from a second origin through
    CORS), ``/api/me`` (old HS256 tokens accepted during the migration), ``/api/strict/me``
    (also checks the session behind ``sid``), ``/reports/summary`` (another audience);
  - refresh: ``/token/refresh/login``, ``/token/refresh`` and ``/token/refresh/logout``,
    rotating refresh tokens in an HttpOnly, path-scoped cookie;
  - phantom: ``/token/opaque`` and ``/gateway/api/me``;
  - migration: ``/migration``, ``/migration/retire`` and ``/legacy/token``.

Errors are answered as snippets/frameworks/guards.py says: 401 (with ``WWW-Authenticate``
for bearer tokens), 403 for a cross-site request, 503 with ``Retry-After`` when Redis is down.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from fastapi.responses import JSONResponse

from app.dependencies import MAX_BODY_BYTES, Forbidden
from app.middleware import BodyLimit, SecurityHeaders
from app.routers import bff, migration, pages, phantom, refresh, tokens
from app.settings import Settings
from app.state import build
from snippets.converting.dual_accept_migration import MigrationStateUnavailable
from snippets.converting.phantom_token_gateway import TokenStoreUnavailable
from snippets.frameworks.fastapi_auth import install
from snippets.frameworks.guards import answer_for
from snippets.sessions.login_throttle import LoginThrottled, ThrottleUnavailable
from snippets.sessions.session_store import SessionStoreUnavailable

log = logging.getLogger("app")


async def _forbidden(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "cross-site request refused"}, 403)


async def _throttled(_: Request, exc: Exception) -> JSONResponse:
    seconds = exc.retry_after if isinstance(exc, LoginThrottled) else 60
    body = {"detail": "too many attempts, try again later"}
    return JSONResponse(body, 429, headers={"Retry-After": str(seconds)})


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.error("%s", exc)
    answer = answer_for(SessionStoreUnavailable(str(exc)))  # the one 503 of the guards
    return JSONResponse(answer.body, answer.status, headers=answer.headers)


def create_app(settings: Settings) -> FastAPI:
    """Build the application from ``settings``; every process with the same settings agrees."""
    demo = build(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await demo.aclose()

    app = FastAPI(
        title="JWT vs session tokens: demo",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.demo = demo
    install(app, demo.auth)  # the guards' error answers, Cache-Control: no-store
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(LoginThrottled, _throttled)
    for error in (TokenStoreUnavailable, MigrationStateUnavailable, ThrottleUnavailable):
        app.add_exception_handler(error, _unavailable)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),  # never "*" with credentials
        allow_credentials=True,
        allow_methods=["GET", "POST"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    # The app builds its own origin from Host (the CSRF check compares with it): only
    # the names it is served under, never whatever a request says.
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)  # outermost: before any read
    for module in (pages, bff, tokens, refresh, phantom, migration):
        app.include_router(module.router)
    return app


def app_from_env() -> FastAPI:
    """The factory ``uvicorn --factory app.main:app_from_env`` calls."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return create_app(Settings.from_env())
