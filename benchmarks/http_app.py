"""The application the HTTP benchmark serves: one endpoint per mechanism, sync and async.

Every endpoint returns the same small JSON body, so what differs between them is the
authentication alone, done by the guards of ``snippets.frameworks``:

=============  ==========================================================================
``/open``       no authentication
``/jwt``        a bearer JWT, verified (signature, claims, scopes): no Redis
``/jwt-check``  a bearer JWT, verified, then the blocklist and cut-off check (one ``MGET``)
``/session``    a session cookie, validated by the session store (one ``HMGET``)
=============  ==========================================================================

Each is served by an ``async def`` endpoint with ``redis.asyncio``, and under ``/sync`` by
a ``def`` endpoint (FastAPI's thread pool) with the blocking client. The factory reads its
settings from the environment (``benchmarks.http_overhead`` sets them)::

    uvicorn --factory benchmarks.http_app:app_from_env
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request, Security
from fastapi.security import SecurityScopes

from snippets.frameworks.fastapi_auth import (
    Claims,
    ClaimsSync,
    SessionUser,
    SessionUserSync,
    closing,
    install,
)
from snippets.frameworks.guards import AuthSettings, verified_claims
from snippets.tokens.keys import algorithm_for_key, load_public_key

ISSUER = "https://auth.example.com"
AUDIENCE = "https://api.example.com"
BODY = {"ok": True}


def _verified(request: Request, scopes: SecurityScopes) -> dict[str, Any]:
    settings: AuthSettings = request.app.state.auth
    return verified_claims(settings, request.headers.get("authorization"), scopes.scopes)


async def _verified_async(request: Request, scopes: SecurityScopes) -> dict[str, Any]:
    return _verified(request, scopes)  # no I/O: the same work on the event loop


Verified = Annotated[dict[str, Any], Security(_verified_async)]
VerifiedSync = Annotated[dict[str, Any], Security(_verified)]


def create_app(settings: AuthSettings) -> FastAPI:
    app = FastAPI(lifespan=closing(settings), docs_url=None, redoc_url=None, openapi_url=None)
    install(app, settings)

    @app.get("/open")
    async def open_async() -> dict[str, bool]:
        return BODY

    @app.get("/jwt")
    async def jwt_async(claims: Verified) -> dict[str, bool]:
        return BODY

    @app.get("/jwt-check")
    async def jwt_check_async(claims: Claims) -> dict[str, bool]:
        return BODY

    @app.get("/session")
    async def session_async(session: SessionUser) -> dict[str, bool]:
        return BODY

    @app.get("/sync/open")
    def open_sync() -> dict[str, bool]:
        return BODY

    @app.get("/sync/jwt")
    def jwt_sync(claims: VerifiedSync) -> dict[str, bool]:
        return BODY

    @app.get("/sync/jwt-check")
    def jwt_check_sync(claims: ClaimsSync) -> dict[str, bool]:
        return BODY

    @app.get("/sync/session")
    def session_sync(session: SessionUserSync) -> dict[str, bool]:
        return BODY

    return app


def app_from_env() -> FastAPI:
    """``BENCH_REDIS_URL``, ``BENCH_PREFIX`` and ``BENCH_PUBLIC_KEY_FILE`` (PEM)."""
    public_key = load_public_key(Path(os.environ["BENCH_PUBLIC_KEY_FILE"]).read_bytes())
    settings = AuthSettings(
        redis_url=os.environ["BENCH_REDIS_URL"],
        key=public_key,
        algorithm=algorithm_for_key(public_key),
        issuer=ISSUER,
        audience=AUDIENCE,
        prefix=os.environ["BENCH_PREFIX"],
    )
    return create_app(settings)
