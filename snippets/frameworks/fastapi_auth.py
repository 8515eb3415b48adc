"""FastAPI: "the current session" and "the current bearer token" as dependencies.

Thin wrappers of snippets/frameworks/guards.py, which holds the guards themselves and
how their errors are answered. Each dependency has a sync version (``def``, which
FastAPI runs in its thread pool, with the blocking Redis client) and an async one
(``async def``, with ``redis.asyncio``). The bearer dependency takes scopes through
``Security``; both declare an OpenAPI security scheme, so that the docs' Authorize
button works. Every response gets ``Cache-Control: no-store`` unless the endpoint set
its own.

Run it without a server of its own (FastAPI's test client, a Redis of your choice)::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m snippets.frameworks.fastapi_auth
"""

from __future__ import annotations

# --8<-- [start:setup]
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyCookie, HTTPBearer, SecurityScopes
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from snippets.frameworks.guards import (
    GUARD_ERRORS,
    AuthSettings,
    answer_for,
    current_claims,
    current_claims_async,
    current_session,
    current_session_async,
)
from snippets.sessions.session_cookie import COOKIE_NAME
from snippets.sessions.session_store import Session

# --8<-- [end:setup]


# --8<-- [start:errors]
async def _answer(_: Request, error: Exception) -> JSONResponse:
    answer = answer_for(error)
    return JSONResponse(answer.body, answer.status, headers=answer.headers)


# --8<-- [end:errors]


# --8<-- [start:no_store]
class NoStore:
    """Pure ASGI middleware: ``Cache-Control: no-store`` on every response that has
    no ``Cache-Control`` of its own. Answers about credentials, and tokens themselves,
    must never sit in a shared cache (RFC 6749, section 5.1). Written as pure ASGI
    rather than ``@app.middleware("http")``, which costs far more per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_no_store)


# --8<-- [end:no_store]


# --8<-- [start:install]
def install(app: FastAPI, settings: AuthSettings) -> None:
    """Give ``app`` the settings, the error answers and the no-store middleware."""
    app.state.auth = settings
    for error in GUARD_ERRORS:
        app.add_exception_handler(error, _answer)
    app.add_middleware(NoStore)


def closing(settings: AuthSettings) -> Callable[[FastAPI], Any]:
    """A lifespan that closes the settings' clients when the app stops: the asyncio
    client belongs to the server's event loop and must be closed in it."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await settings.aclose()

    return lifespan


def _settings(request: Request) -> AuthSettings:
    settings: AuthSettings = request.app.state.auth
    return settings


# --8<-- [end:install]


# --8<-- [start:session]
# Declares the cookie in OpenAPI. The value is read from the raw header by
# read_session_cookie, which refuses a cookie sent twice (Starlette keeps the last).
session_cookie = APIKeyCookie(name=COOKIE_NAME, auto_error=False)
CookieDeclared = Annotated[str | None, Security(session_cookie)]


async def session_user(request: Request, _: CookieDeclared) -> Session:
    """The live session of this request, or 401; 503 if Redis is down."""
    cookie_header = request.headers.get("cookie")
    return await current_session_async(_settings(request), cookie_header)


def session_user_sync(request: Request, _: CookieDeclared) -> Session:
    """`session_user` for ``def`` endpoints, with the blocking client."""
    return current_session(_settings(request), request.headers.get("cookie"))


# --8<-- [end:session]


# --8<-- [start:bearer]
# Declares the scheme in OpenAPI, so that the docs' Authorize button sends the header.
bearer_scheme = HTTPBearer(auto_error=False, bearerFormat="JWT")
BearerDeclared = Annotated[Any, Security(bearer_scheme)]


async def bearer_claims(
    request: Request, scopes: SecurityScopes, _: BearerDeclared
) -> dict[str, Any]:
    """The verified, unrevoked claims of the bearer token, with ``scopes`` held.

    Use ``Security(bearer_claims, scopes=["orders:read"])`` to require scopes.
    """
    authorization = request.headers.get("authorization")
    settings = _settings(request)
    return await current_claims_async(settings, authorization, scopes.scopes)


def bearer_claims_sync(
    request: Request, scopes: SecurityScopes, _: BearerDeclared
) -> dict[str, Any]:
    """`bearer_claims` for ``def`` endpoints, with the blocking client."""
    authorization = request.headers.get("authorization")
    return current_claims(_settings(request), authorization, scopes.scopes)


# What endpoints declare (module level: FastAPI resolves annotations by name).
SessionUser = Annotated[Session, Security(session_user)]
SessionUserSync = Annotated[Session, Security(session_user_sync)]
Claims = Annotated[dict[str, Any], Security(bearer_claims)]
ClaimsSync = Annotated[dict[str, Any], Security(bearer_claims_sync)]
OrdersReader = Annotated[
    dict[str, Any], Security(bearer_claims, scopes=["orders:read"])
]
OrdersReaderSync = Annotated[
    dict[str, Any], Security(bearer_claims_sync, scopes=["orders:read"])
]
# --8<-- [end:bearer]


# --8<-- [start:app]
def create_app(settings: AuthSettings) -> FastAPI:
    """An API with one endpoint per guard, sync and async."""

    app = FastAPI(lifespan=closing(settings))
    install(app, settings)

    @app.get("/account")
    async def account(session: SessionUser) -> dict[str, str]:
        return {"user": session.user_id}

    @app.get("/api/me")
    async def me(claims: Claims) -> dict[str, str]:
        return {"sub": claims["sub"]}

    @app.get("/api/orders")
    async def orders(claims: OrdersReader) -> dict[str, Any]:
        return {"sub": claims["sub"], "orders": []}

    # The same three as def endpoints, with the blocking client.
    @app.get("/sync/account")
    def account_sync(session: SessionUserSync) -> dict[str, str]:
        return {"user": session.user_id}

    @app.get("/sync/api/me")
    def me_sync(claims: ClaimsSync) -> dict[str, str]:
        return {"sub": claims["sub"]}

    @app.get("/sync/api/orders")
    def orders_sync(claims: OrdersReaderSync) -> dict[str, Any]:
        return {"sub": claims["sub"], "orders": []}

    return app


# --8<-- [end:app]


def main() -> None:
    # --8<-- [start:demo]
    from fastapi.testclient import TestClient

    from snippets.revocation.revoke_access_token import revoke_access_token
    from snippets.sessions.session_cookie import build_session_cookie
    from snippets.tokens.issue_access_token import issue_access_token
    from snippets.tokens.keys import generate_private_key
    from snippets.tokens.verify_token import verify_token

    private_key = generate_private_key("EdDSA")
    settings = AuthSettings(
        redis_url=os.environ["REDIS_URL"],
        key=private_key.public_key(),
        algorithm="EdDSA",
        issuer="https://auth.example.com",
        audience="https://api.example.com",
        prefix=os.environ.get("REDIS_KEY_PREFIX", "app:"),
    )

    def token(*scopes: str) -> str:
        return issue_access_token(
            "user-42",
            private_key,
            algorithm="EdDSA",
            kid="k1",
            issuer=settings.issuer,
            audience=settings.audience,
            extra_claims={"scope": " ".join(scopes)},
        )

    with TestClient(create_app(settings)) as client:
        session_id = settings.sessions.create("alice")
        cookie = build_session_cookie(session_id).split(";")[0]
        print(client.get("/account", headers={"Cookie": cookie}).json())
        #> {'user': 'alice'}
        print(client.get("/account").status_code)
        #> 401
        reader = token("orders:read")
        bearer = {"Authorization": f"Bearer {reader}"}
        print(client.get("/api/orders", headers=bearer).json())
        #> {'sub': 'user-42', 'orders': []}
        no_scope = {"Authorization": f"Bearer {token()}"}
        answer = client.get("/api/orders", headers=no_scope)
        print(answer.status_code, answer.headers["www-authenticate"])
        #> 403 Bearer error="insufficient_scope", scope="orders:read"
        claims = client.get("/api/me", headers=bearer).json()
        print(claims, client.get("/api/me", headers=bearer).headers["cache-control"])
        #> {'sub': 'user-42'} no-store
        verified = verify_token(
            reader,
            settings.key,
            algorithm="EdDSA",
            audience=settings.audience,
            issuer=settings.issuer,
        )
        revoke_access_token(settings.client, verified, prefix=settings.prefix)
        answer = client.get("/api/me", headers=bearer)
        print(answer.status_code, answer.headers["www-authenticate"])
        #> 401 Bearer error="invalid_token"
        settings.sessions.destroy(session_id)
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
