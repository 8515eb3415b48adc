"""A signed-cookie session outlives its logout; the server-side swap does not."""

from __future__ import annotations

from fastapi.testclient import TestClient

from snippets.frameworks.signed_cookie_sessions import flask_app, server_side_app, starlette_app
from snippets.sessions.session_cookie import COOKIE_NAME


def test_a_copied_starlette_cookie_works_after_logout(session_secret: bytes) -> None:
    browser = TestClient(starlette_app(session_secret), base_url="https://testserver")
    browser.post("/login")
    copied = browser.cookies["session"]
    logout = browser.post("/logout")
    assert "session=null" in logout.headers["set-cookie"]  # the browser is told to forget
    assert browser.get("/account").json() == {"user": None}
    thief = TestClient(starlette_app(session_secret), base_url="https://testserver")
    thief.cookies["session"] = copied
    assert thief.get("/account").json() == {"user": "alice"}
    stranger = TestClient(starlette_app(b"x" * 48), base_url="https://testserver")
    stranger.cookies["session"] = copied
    assert stranger.get("/account").json() == {"user": None}  # the signature does hold


def test_a_copied_flask_cookie_works_after_logout(session_secret: bytes) -> None:
    browser = flask_app(session_secret).test_client()
    browser.post("/login", base_url="https://localhost")
    cookie = browser.get_cookie("session", domain="localhost")
    assert cookie is not None and cookie.secure
    browser.post("/logout", base_url="https://localhost")
    assert browser.get("/account", base_url="https://localhost").json == {"user": None}
    thief = flask_app(session_secret).test_client()
    thief.set_cookie("session", cookie.value, domain="localhost")
    assert thief.get("/account", base_url="https://localhost").json == {"user": "alice"}


def test_the_server_side_swap_refuses_the_copy(make_settings, redis_url) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(redis_url)
    with TestClient(server_side_app(settings)) as client:
        session_id = settings.sessions.create("alice")
        copied = {"Cookie": f"{COOKIE_NAME}={session_id}"}
        assert client.get("/account", headers=copied).json() == {"user": "alice"}
        settings.sessions.destroy(session_id)
        assert client.get("/account", headers=copied).status_code == 401
