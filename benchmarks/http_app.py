"""The application the HTTP benchmark serves: one endpoint per mechanism, sync and async.

Every endpoint returns the same small JSON body, so what differs between them is the
authentication alone, done by the guards of ``snippets.frameworks``:

=================  ======================================================================
``/open``           no authentication
``/jwt-<alg>``      a bearer JWT signed with ``<alg>`` (HS256, RS256, ES256, EdDSA),
                    verified (signature, claims, scopes): no Redis
``/jwt-check``      an EdDSA bearer JWT, verified, then the blocklist and cut-off check
                    (one ``MGET``)
``/session``        a session cookie, validated by the session store (one ``GET``)
=================  ======================================================================

Each is served by an ``async def`` endpoint with ``redis.asyncio``, and under ``/sync`` by
a ``def`` endpoint (FastAPI's thread pool) with the blocking client. Every response passes
through a middleware that adds the demo app's security headers, written as pure ASGI (as
``app/middleware.py`` does) or, to measure what that choice is worth, as
``@app.middleware("http")`` (Starlette's ``BaseHTTPMiddleware``). The factory reads its
settings from the environment (``benchmarks.http_overhead`` sets them)::

    uvicorn --factory benchmarks.http_app:app_from_env
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response, Security
from fastapi.security import SecurityScopes

from app.middleware import SECURITY_HEADERS, SecurityHeaders
from snippets.frameworks.fastapi_auth import (
    Claims,
    ClaimsSync,
    SessionUser,
    SessionUserSync,
    closing,
    install,
)
from snippets.frameworks.guards import AuthSettings, verified_claims
from snippets.tokens.keys import ALGORITHMS, load_public_key

ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"
BODY = {"ok": True}
MIDDLEWARES = ("asgi", "base-http")


def _verifier(settings: AuthSettings) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The sync and async dependencies that verify a bearer JWT with ``settings``."""

    def verified(request: Request, scopes: SecurityScopes) -> dict[str, Any]:
        return verified_claims(settings, request.headers.get("authorization"), scopes.scopes)

    async def verified_async(request: Request, scopes: SecurityScopes) -> dict[str, Any]:
        return verified(request, scopes)  # no I/O: the same work on the event loop

    return verified, verified_async


def _base_http_headers(app: FastAPI) -> None:
    """The same headers as `SecurityHeaders`, the way many apps write it."""

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS:
            response.headers[name.decode()] = value.decode()
        return response


def create_app(
    settings: AuthSettings, keys: dict[str, Any], *, middleware: str = "asgi"
) -> FastAPI:
    """The benchmark's app: ``settings`` for sessions and ``/jwt-check``, ``keys`` (one
    verifying key per algorithm) for the ``/jwt-<alg>`` endpoints."""
    if middleware not in MIDDLEWARES:
        raise ValueError(f"middleware must be one of {MIDDLEWARES}")
    app = FastAPI(lifespan=closing(settings), docs_url=None, redoc_url=None, openapi_url=None)
    install(app, settings)
    if middleware == "asgi":
        app.add_middleware(SecurityHeaders)
    else:
        _base_http_headers(app)

    @app.get("/open")
    async def open_async() -> dict[str, bool]:
        return BODY

    @app.get("/sync/open")
    def open_sync() -> dict[str, bool]:
        return BODY

    for algorithm in ALGORITHMS:
        verified, verified_async = _verifier(
            dataclasses.replace(settings, key=keys[algorithm], algorithm=algorithm)
        )

        # Defaults, not Annotated[...]: with postponed annotations, FastAPI resolves an
        # annotation in the module's globals, where these loop-local guards are not.
        async def jwt_async(claims: dict = Security(verified_async)) -> dict:  # noqa: B008
            return BODY

        def jwt_sync(claims: dict = Security(verified)) -> dict:  # noqa: B008
            return BODY

        app.get(f"/jwt-{algorithm}")(jwt_async)
        app.get(f"/sync/jwt-{algorithm}")(jwt_sync)

    @app.get("/jwt-check")
    async def jwt_check_async(claims: Claims) -> dict[str, bool]:
        return BODY

    @app.get("/sync/jwt-check")
    def jwt_check_sync(claims: ClaimsSync) -> dict[str, bool]:
        return BODY

    @app.get("/session")
    async def session_async(session: SessionUser) -> dict[str, bool]:
        return BODY

    @app.get("/sync/session")
    def session_sync(session: SessionUserSync) -> dict[str, bool]:
        return BODY

    return app


def app_from_env() -> FastAPI:
    """``BENCH_REDIS_URL``, ``BENCH_PREFIX``, ``BENCH_KEY_DIR`` (``<alg>.pem`` public keys,
    ``HS256.key`` the shared secret) and ``BENCH_MIDDLEWARE`` (``asgi`` or
    ``base-http``)."""
    folder = Path(os.environ["BENCH_KEY_DIR"])
    keys: dict[str, Any] = {"HS256": (folder / "HS256.key").read_bytes()}
    for algorithm in ALGORITHMS:
        if algorithm != "HS256":
            keys[algorithm] = load_public_key((folder / f"{algorithm}.pem").read_bytes())
    settings = AuthSettings(
        redis_url=os.environ["BENCH_REDIS_URL"],
        key=keys["EdDSA"],
        algorithm="EdDSA",
        issuer=ISSUER,
        audience=AUDIENCE,
        prefix=os.environ["BENCH_PREFIX"],
    )
    return create_app(settings, keys, middleware=os.environ.get("BENCH_MIDDLEWARE", "asgi"))
