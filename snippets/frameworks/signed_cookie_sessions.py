"""Signed-cookie sessions, the model Starlette and Flask give you by default.

Starlette's ``SessionMiddleware`` and Flask's ``session`` keep the session's data in the
cookie itself, signed with the app's secret (itsdangerous): nothing is stored on the
server. The signature stops tampering, but nothing can stop a copy: "logging out"
only asks this browser to drop its cookie, and a copy taken before keeps working until
its ``max_age`` runs out. This file shows that with both frameworks, then the swap to
the server-side store (snippets/frameworks/guards.py), after which the copy is refused.

Acceptable for data that grants nothing: a theme, a language, a flash message, a cart
before checkout. Not for who the user is, whenever logout, "log out everywhere" or a
password change must end access at once.

Run it with a Redis of your choice and a secret of 32 bytes or more in
``SESSION_SECRET``::

    export REDIS_URL=redis://127.0.0.1:6379/0
    export SESSION_SECRET="$(openssl rand -base64 48)"
    python -m snippets.frameworks.signed_cookie_sessions
"""

from __future__ import annotations

# --8<-- [start:setup]
import os
from typing import Any

import flask
from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

from snippets.frameworks.fastapi_auth import SessionUser, closing, install
from snippets.frameworks.guards import AuthSettings
from snippets.tokens.keys import load_hmac_secret

SESSION_MAX_AGE = 14 * 24 * 3600  # Starlette's default: a copy lives two weeks
# --8<-- [end:setup]


# --8<-- [start:starlette]
def starlette_app(secret: bytes) -> FastAPI:
    """Log in and out with Starlette's signed-cookie sessions."""
    app = FastAPI()
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret.decode(),
        max_age=SESSION_MAX_AGE,
        https_only=True,  # the cookie is Secure
        same_site="lax",
    )

    @app.post("/login")
    def login(request: Request) -> dict[str, str]:
        request.session["user"] = "alice"  # the data travels inside the cookie
        return {"user": "alice"}

    @app.post("/logout")
    def logout(request: Request) -> dict[str, Any]:
        request.session.clear()  # tells THIS browser to drop its cookie; that is all
        return {}

    @app.get("/account")
    def account(request: Request) -> dict[str, Any]:
        return {"user": request.session.get("user")}

    return app


# --8<-- [end:starlette]


# --8<-- [start:flask]
def flask_app(secret: bytes) -> flask.Flask:
    """Log in and out with Flask's default (signed-cookie) session."""
    app = flask.Flask(__name__)
    app.secret_key = secret
    app.config.update(SESSION_COOKIE_SECURE=True, SESSION_COOKIE_SAMESITE="Lax")

    @app.post("/login")
    def login() -> dict[str, str]:
        flask.session["user"] = "alice"
        return {"user": "alice"}

    @app.post("/logout")
    def logout() -> dict[str, Any]:
        flask.session.clear()  # the same: only this browser forgets
        return {}

    @app.get("/account")
    def account() -> dict[str, Any]:
        return {"user": flask.session.get("user")}

    return app


# --8<-- [end:flask]


# --8<-- [start:swap]
def server_side_app(settings: AuthSettings) -> FastAPI:
    """The swap: the cookie holds only a session ID, the session lives in Redis."""
    app = FastAPI(lifespan=closing(settings))
    install(app, settings)  # snippets/frameworks/fastapi_auth.py

    @app.get("/account")
    async def account(session: SessionUser) -> dict[str, str]:
        return {"user": session.user_id}

    return app


# --8<-- [end:swap]


def main() -> None:
    # --8<-- [start:demo]
    from fastapi.testclient import TestClient

    secret = load_hmac_secret("SESSION_SECRET")  # refused if missing or short

    browser = TestClient(starlette_app(secret), base_url="https://testserver")
    browser.post("/login")
    copied = browser.cookies["session"]  # what malware or a shared PC keeps
    browser.post("/logout")
    print(browser.get("/account").json())
    #> {'user': None}
    thief = TestClient(starlette_app(secret), base_url="https://testserver")
    thief.cookies["session"] = copied
    print(thief.get("/account").json())  # the copy outlives the logout
    #> {'user': 'alice'}

    flask_browser = flask_app(secret).test_client()
    flask_browser.post("/login", base_url="https://localhost")
    cookie = flask_browser.get_cookie("session", domain="localhost")
    assert cookie is not None
    flask_browser.post("/logout", base_url="https://localhost")
    flask_thief = flask_app(secret).test_client()
    flask_thief.set_cookie("session", cookie.value, domain="localhost")
    print(flask_thief.get("/account", base_url="https://localhost").json)
    #> {'user': 'alice'}
    # --8<-- [end:demo]
    # --8<-- [start:demo_swap]
    from snippets.sessions.session_cookie import build_session_cookie

    settings = AuthSettings(
        redis_url=os.environ["REDIS_URL"],
        key=secret,  # (HS256 bearer tokens; this demo sends none)
        algorithm="HS256",
        issuer="https://auth.example.com",
        audience="https://api.example.com",
        prefix=os.environ.get("REDIS_KEY_PREFIX", "app:"),
    )
    with TestClient(server_side_app(settings)) as client:
        session_id = settings.sessions.create("alice")
        cookie_header = {"Cookie": build_session_cookie(session_id).split(";")[0]}
        print(client.get("/account", headers=cookie_header).json())
        #> {'user': 'alice'}
        settings.sessions.destroy(session_id)  # logout, on the server
        print(client.get("/account", headers=cookie_header).status_code)
        #> 401
    # --8<-- [end:demo_swap]


if __name__ == "__main__":
    main()
