"""Django's own sessions on Redis, as configured by snippets/frameworks/django_auth.py.
The bearer guard's behaviour on sync and async views is in test_guards.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client, override_settings

from snippets.frameworks import django_auth
from snippets.frameworks.guards import AuthSettings
from snippets.sessions.session_store import ABSOLUTE_TIMEOUT_SECONDS, IDLE_TIMEOUT_SECONDS
from tools.redis_server import RedisServer

COOKIE = "__Host-sessionid"


@pytest.fixture
def django_for(make_settings) -> Iterator:  # type: ignore[no-untyped-def]
    """``django_for(redis_url)``: Django configured for that Redis, until the test ends."""
    django_auth.configure()
    stack: list = []

    def use(redis_url: str) -> AuthSettings:
        guards = make_settings(redis_url)
        sessions = django_auth.session_settings(redis_url, prefix=guards.prefix)
        overridden = override_settings(**sessions, AUTH_GUARDS=guards)
        overridden.enable()
        stack.append(overridden)
        return guards

    yield use
    for overridden in reversed(stack):
        overridden.disable()


def test_login_sets_a_safe_cookie_on_a_fresh_key(django_for, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    django_for(redis_url)
    browser = Client(secure=True)
    browser.cookies[COOKIE] = "attackerchosenkey0123456789abcdef"  # session fixation try
    response = browser.post("/login")
    morsel = response.cookies[COOKIE]  # what the handler sends as Set-Cookie
    assert morsel.value != "attackerchosenkey0123456789abcdef"  # cycle_key: a new key
    assert morsel["secure"] and morsel["httponly"] and morsel["samesite"] == "Lax"
    assert morsel["path"] == "/" and not morsel["domain"]  # what __Host- requires
    assert int(morsel["max-age"]) == IDLE_TIMEOUT_SECONDS
    assert response["Cache-Control"] == "no-store"
    assert browser.get("/account").json() == {"user": "alice"}


def test_logout_ends_the_session_on_the_server(django_for, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    django_for(redis_url)
    browser = Client(secure=True)
    browser.post("/login")
    copied = browser.cookies[COOKIE].value
    browser.post("/logout")
    thief = Client(secure=True)
    thief.cookies[COOKIE] = copied
    assert thief.get("/account").status_code == 401  # unlike a signed-cookie session


def test_the_absolute_timeout_ends_a_session_in_use(  # type: ignore[no-untyped-def]
    django_for, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    django_for(redis_url)
    browser = Client(secure=True)
    browser.post("/login")
    start = django_auth.time.time()
    monkeypatch.setattr(django_auth.time, "time", lambda: start + ABSOLUTE_TIMEOUT_SECONDS - 1)
    assert browser.get("/account").status_code == 200
    monkeypatch.setattr(django_auth.time, "time", lambda: start + ABSOLUTE_TIMEOUT_SECONDS)
    assert browser.get("/account").status_code == 401
    monkeypatch.undo()
    assert browser.get("/account").status_code == 401  # flushed, not just refused once


def test_every_request_pushes_the_idle_deadline(django_for, redis_url: str, redis_client) -> None:  # type: ignore[no-untyped-def]
    guards = django_for(redis_url)
    browser = Client(secure=True)
    browser.post("/login")
    key = next(
        k for k in redis_client.scan_iter(match=f"{guards.prefix}django*") if b"sessions" in k
    )
    redis_client.expire(key, 60)  # as if the session had been idle for 29 minutes
    assert browser.get("/account").status_code == 200
    assert redis_client.ttl(key) > IDLE_TIMEOUT_SECONDS - 60


def test_redis_down_is_503_and_keeps_the_cookie(  # type: ignore[no-untyped-def]
    django_for, private_redis: RedisServer
) -> None:
    """Django's own cache engine reads an unreachable Redis as no session: a 401, and the
    browser's cookie deleted. This engine answers 503 and leaves the cookie alone."""
    django_for(private_redis.url)
    browser = Client(secure=True)
    browser.post("/login")
    private_redis.stop()
    try:
        response = browser.get("/account")
        assert (response.status_code, response["Retry-After"]) == (503, "5")
        assert COOKIE not in response.cookies  # the session is not thrown away
        login = browser.post("/login")  # a write to a dead Redis: 503, not 500
        assert login.status_code == 503
    finally:
        private_redis.start()
    assert browser.get("/account").json() == {"user": "alice"}  # the session survived
