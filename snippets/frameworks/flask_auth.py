"""Flask: "the current session" and "the current bearer token" as view decorators.

Thin wrappers of snippets/frameworks/guards.py: the same guards, the same answers as
the FastAPI version. Flask views are sync, so these use the blocking Redis client.
(Flask runs an ``async def`` view in a new event loop per request, where a shared
``redis.asyncio`` client cannot live: keep Flask views sync.)

Run it without a server of its own (Flask's test client, a Redis of your choice)::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m snippets.frameworks.flask_auth
"""

from __future__ import annotations

# --8<-- [start:setup]
import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, jsonify, request

from snippets.frameworks.guards import (
    GUARD_ERRORS,
    AuthSettings,
    answer_for,
    current_claims,
    current_session,
)

View = TypeVar("View", bound=Callable[..., Any])
# --8<-- [end:setup]


# --8<-- [start:install]
def _answer(error: Exception) -> tuple[Response, int, dict[str, str]]:
    answer = answer_for(error)
    return jsonify(answer.body), answer.status, answer.headers


def _no_store(response: Response) -> Response:
    # Answers about credentials, and tokens, never sit in a cache (RFC 6749, 5.1).
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_auth(app: Flask, settings: AuthSettings) -> None:
    """Give ``app`` the settings, the error answers and ``Cache-Control: no-store``."""
    app.extensions["auth"] = settings
    for error in GUARD_ERRORS:
        app.register_error_handler(error, _answer)
    app.after_request(_no_store)


def _settings() -> AuthSettings:
    settings: AuthSettings = current_app.extensions["auth"]
    return settings


# --8<-- [end:install]


# --8<-- [start:session]
def session_required(view: View) -> View:
    """Run ``view`` only with a live session, put in ``g.session``; else 401 (or
    503 when Redis is down)."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        g.session = current_session(_settings(), request.headers.get("Cookie"))
        return view(*args, **kwargs)

    return cast(View, guarded)


# --8<-- [end:session]


# --8<-- [start:bearer]
def bearer_required(*scopes: str) -> Callable[[View], View]:
    """Run the view only with a valid, unrevoked bearer token holding ``scopes``; its
    claims go in ``g.claims``. Else 401, 403 for a missing scope, 503 if Redis is
    down."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            authorization = request.headers.get("Authorization")
            g.claims = current_claims(_settings(), authorization, scopes)
            return view(*args, **kwargs)

        return cast(View, guarded)

    return decorate


# --8<-- [end:bearer]


# --8<-- [start:app]
def create_app(settings: AuthSettings) -> Flask:
    """An app with one view per guard."""
    app = Flask(__name__)
    init_auth(app, settings)

    @app.get("/account")
    @session_required
    def account() -> dict[str, str]:
        return {"user": g.session.user_id}

    @app.get("/api/me")
    @bearer_required()
    def me() -> dict[str, str]:
        return {"sub": g.claims["sub"]}

    @app.get("/api/orders")
    @bearer_required("orders:read")
    def orders() -> dict[str, Any]:
        return {"sub": g.claims["sub"], "orders": []}

    return app


# --8<-- [end:app]


def main() -> None:
    # --8<-- [start:demo]
    from snippets.sessions.session_cookie import build_session_cookie
    from snippets.tokens.issue_access_token import issue_access_token
    from snippets.tokens.keys import generate_private_key

    private_key = generate_private_key("EdDSA")
    settings = AuthSettings(
        redis_url=os.environ["REDIS_URL"],
        key=private_key.public_key(),
        algorithm="EdDSA",
        issuer="https://auth.example.com",
        audience="https://api.example.com",
        prefix=os.environ.get("REDIS_KEY_PREFIX", "app:"),
    )
    client = create_app(settings).test_client(use_cookies=False)  # we send the header
    session_id = settings.sessions.create("alice")
    cookie = build_session_cookie(session_id).split(";")[0]
    print(client.get("/account", headers={"Cookie": cookie}).json)
    #> {'user': 'alice'}
    print(client.get("/account").status_code)
    #> 401
    token = issue_access_token(
        "user-42",
        private_key,
        algorithm="EdDSA",
        kid="k1",
        issuer=settings.issuer,
        audience=settings.audience,
        extra_claims={"scope": "profile"},
    )
    bearer = {"Authorization": f"Bearer {token}"}
    print(client.get("/api/me", headers=bearer).json)
    #> {'sub': 'user-42'}
    answer = client.get("/api/orders", headers=bearer)
    print(answer.status_code, answer.headers["WWW-Authenticate"])
    #> 403 Bearer error="insufficient_scope", scope="orders:read"
    settings.sessions.destroy(session_id)
    # --8<-- [end:demo]
    settings.close()


if __name__ == "__main__":
    main()
