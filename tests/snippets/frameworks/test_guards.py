"""The guards, as every framework's app answers them: one test per behaviour, run on
FastAPI (async and sync endpoints), Flask, and Django (sync and async views)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snippets.frameworks.guards import (
    AuthSettings,
    InsufficientScope,
    NotSignedIn,
    answer_for,
    current_claims,
    current_claims_async,
    scope_string,
)
from snippets.revocation.logout_everywhere import logout_everywhere
from snippets.revocation.revoke_access_token import revoke_access_token
from snippets.sessions.session_cookie import COOKIE_NAME
from snippets.tokens.keys import generate_private_key
from snippets.tokens.verify_token import TokenError, verify_token
from tests.async_bridge import run_alone
from tests.helpers import ManualClock
from tests.snippets.frameworks.conftest import (
    AUDIENCE,
    ISSUER,
    STORE_SESSION_SURFACES,
    SURFACES,
    Surface,
)
from tools.redis_server import RedisServer

INVALID = 'Bearer error="invalid_token"'


@pytest.fixture
def auth(make_settings: Callable[[str], AuthSettings], redis_url: str) -> AuthSettings:
    return make_settings(redis_url)


@pytest.fixture(params=SURFACES)
def app(request: pytest.FixtureRequest, auth: AuthSettings, surface_for) -> Surface:  # type: ignore[no-untyped-def]
    return surface_for(request.param, auth)


@pytest.fixture(params=STORE_SESSION_SURFACES)
def session_app(request: pytest.FixtureRequest, auth: AuthSettings, surface_for) -> Surface:  # type: ignore[no-untyped-def]
    return surface_for(request.param, auth)


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _refused(reply: Any) -> None:
    assert reply.status == 401, reply
    assert reply.headers["www-authenticate"] == INVALID
    assert reply.body == {"detail": "invalid or missing bearer token"}  # nothing about why
    assert reply.headers["cache-control"] == "no-store"


# -- bearer tokens ----------------------------------------------------------------------


def test_a_valid_token_is_accepted_and_not_cached(app: Surface, mint) -> None:  # type: ignore[no-untyped-def]
    reply = app("/api/me", **_bearer(mint()))
    assert (reply.status, reply.body) == (200, {"sub": "user-42"})
    assert reply.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a b", "Token abc", "Bearer é"],
    ids=repr,
)
def test_a_missing_or_malformed_header_is_refused(app: Surface, header: str | None) -> None:
    headers = {} if header is None else {"authorization": header}
    _refused(app("/api/me", **headers))


def test_the_scheme_is_case_insensitive(app: Surface, mint) -> None:  # type: ignore[no-untyped-def]
    assert app("/api/me", authorization=f"bearer {mint()}").status == 200  # RFC 9110, 11.1


def test_an_expired_token_is_refused(app: Surface, mint, clock: ManualClock) -> None:  # type: ignore[no-untyped-def]
    token = mint()
    clock.advance(15 * 60 + 11)  # past exp and the verifier's 10 s of leeway
    _refused(app("/api/me", **_bearer(token)))


def test_a_forged_token_is_refused(app: Surface, mint) -> None:  # type: ignore[no-untyped-def]
    _refused(app("/api/me", **_bearer(mint(key=generate_private_key("EdDSA")))))
    header, _, signature = mint().split(".")
    other = mint(subject="admin").split(".")[1]
    _refused(app("/api/me", **_bearer(f"{header}.{other}.{signature}")))
    unsigned = jwt.encode({"sub": "user-42", "iss": ISSUER, "aud": AUDIENCE}, None, "none")
    _refused(app("/api/me", **_bearer(unsigned)))


def test_a_token_for_another_audience_or_issuer_is_refused(app: Surface, mint) -> None:  # type: ignore[no-untyped-def]
    _refused(app("/api/me", **_bearer(mint(audience="https://other.example.com"))))
    _refused(app("/api/me", **_bearer(mint(issuer="https://evil.example.com"))))


def test_a_revoked_token_is_refused(app: Surface, mint, auth: AuthSettings) -> None:  # type: ignore[no-untyped-def]
    token, other = mint(), mint()
    claims = verify_token(
        token, auth.key, algorithm="EdDSA", audience=AUDIENCE, issuer=ISSUER, now=auth.now()
    )
    assert revoke_access_token(auth.client, claims, prefix=auth.prefix, now=auth.now)
    _refused(app("/api/me", **_bearer(token)))
    assert app("/api/me", **_bearer(other)).status == 200  # only that token


def test_log_out_everywhere_refuses_every_older_token(  # type: ignore[no-untyped-def]
    app: Surface, mint, auth: AuthSettings, clock: ManualClock
) -> None:
    before = mint()
    logout_everywhere(auth.client, issuer=ISSUER, subject="user-42", prefix=auth.prefix, now=clock)
    _refused(app("/api/me", **_bearer(before)))
    assert app("/api/me", **_bearer(mint(subject="user-7"))).status == 200  # others stay in
    clock.advance(1)
    assert app("/api/me", **_bearer(mint())).status == 200  # a later login works


def test_scopes_are_required_where_declared(app: Surface, mint) -> None:  # type: ignore[no-untyped-def]
    reader = app("/api/orders", **_bearer(mint(scope="profile orders:read")))
    assert (reader.status, reader.body["orders"]) == (200, [])
    for scope in ("", "orders:write", "xorders:read", "orders:read:all"):
        reply = app("/api/orders", **_bearer(mint(scope=scope)))
        assert reply.status == 403, (scope, reply)
        challenge = 'Bearer error="insufficient_scope", scope="orders:read"'
        assert reply.headers["www-authenticate"] == challenge
        assert reply.body == {"detail": "insufficient scope"}


@pytest.mark.parametrize("name", SURFACES)
def test_redis_down_is_503_never_401_or_500(  # type: ignore[no-untyped-def]
    name: str, private_redis: RedisServer, make_settings, surface_for, mint
) -> None:
    down = surface_for(name, make_settings(private_redis.url))
    token = mint()
    assert down("/api/me", **_bearer(token)).status == 200
    private_redis.stop()
    try:
        reply = down("/api/me", **_bearer(token))
        assert (reply.status, reply.headers["retry-after"]) == (503, "5")
        assert reply.body == {"detail": "service unavailable, try again shortly"}
        _refused(down("/api/me", **_bearer(mint(key=generate_private_key("EdDSA")))))
    finally:
        private_redis.start()
    assert down("/api/me", **_bearer(token)).status == 200  # back by itself


# -- sessions (the snippets' store; Django's own sessions: test_django_auth.py) ----------


def _cookie(session_id: str) -> dict[str, str]:
    return {"cookie": f"{COOKIE_NAME}={session_id}"}


def test_a_live_session_is_accepted(session_app: Surface, auth: AuthSettings) -> None:
    reply = session_app("/account", **_cookie(auth.sessions.create("alice")))
    assert (reply.status, reply.body) == (200, {"user": "alice"})
    assert reply.headers["cache-control"] == "no-store"


def _not_signed_in(reply: Any) -> None:
    assert (reply.status, reply.body) == (401, {"detail": "not signed in"}), reply


def test_no_forged_expired_or_ended_session_gets_in(
    session_app: Surface, auth: AuthSettings, clock: ManualClock
) -> None:
    _not_signed_in(session_app("/account"))
    _not_signed_in(session_app("/account", **_cookie(secrets.token_urlsafe(32))))  # forged
    _not_signed_in(session_app("/account", cookie=f"{COOKIE_NAME}=../../etc"))
    ended = auth.sessions.create("alice")
    auth.sessions.destroy(ended)
    _not_signed_in(session_app("/account", **_cookie(ended)))  # logged out
    idle = auth.sessions.create("alice")
    clock.advance(31 * 60)
    _not_signed_in(session_app("/account", **_cookie(idle)))  # expired


def test_a_cookie_sent_twice_is_refused(session_app: Surface, auth: AuthSettings) -> None:
    """A sibling subdomain can add a second cookie of the same name; neither is trusted."""
    live = auth.sessions.create("alice")
    other = auth.sessions.create("mallory")
    doubled = f"{COOKIE_NAME}={other}; {COOKIE_NAME}={live}"
    _not_signed_in(session_app("/account", cookie=doubled))


@pytest.mark.parametrize("name", STORE_SESSION_SURFACES)
def test_session_store_down_is_503(  # type: ignore[no-untyped-def]
    name: str, private_redis: RedisServer, make_settings, surface_for
) -> None:
    settings_ = make_settings(private_redis.url)
    down = surface_for(name, settings_)
    session_id = settings_.sessions.create("alice")
    assert down("/account", **_cookie(session_id)).status == 200
    private_redis.stop()
    try:
        reply = down("/account", **_cookie(session_id))
        assert (reply.status, reply.headers["retry-after"]) == (503, "5")
    finally:
        private_redis.start()


# -- hostile input ------------------------------------------------------------------------

_HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    authorization=st.one_of(_HEADER_TEXT, _HEADER_TEXT.map(lambda t: "Bearer " + t)),
    cookie=st.one_of(_HEADER_TEXT, _HEADER_TEXT.map(lambda t: f"{COOKIE_NAME}={t}")),
)
def test_hostile_headers_end_in_401_or_403_never_another_answer(
    app: Surface, authorization: str, cookie: str
) -> None:
    for path in ("/api/me", "/api/orders"):
        reply = app(path, authorization=authorization.strip(), cookie=cookie)
        assert reply.status == 401 and reply.headers["www-authenticate"] == INVALID, reply
    if app.name in STORE_SESSION_SURFACES:
        _not_signed_in(app("/account", cookie=cookie))


# -- the guards without a framework --------------------------------------------------------


def test_the_answer_table_covers_every_guard_error() -> None:
    assert answer_for(TokenError("x")).status == 401
    assert answer_for(InsufficientScope("a b")).headers["WWW-Authenticate"].endswith('"a b"')
    assert answer_for(NotSignedIn()).status == 401
    with pytest.raises(TypeError, match="not a guard error"):
        answer_for(ValueError("other"))


@pytest.mark.parametrize("bad", ['a"b', "a\\b", "a b", "", "é"])
def test_a_scope_name_that_would_break_the_header_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="scope"):
        scope_string([bad])


def test_sync_and_async_guards_agree(auth: AuthSettings, mint, loop_thread) -> None:  # type: ignore[no-untyped-def]
    header = f"Bearer {mint(scope='orders:read')}"
    sync = current_claims(auth, header, ["orders:read"])

    async def both() -> dict[str, Any]:
        try:
            return await current_claims_async(auth, header, ["orders:read"])
        finally:
            await auth.aclose()

    assert loop_thread.run(both()) == sync
    with pytest.raises(InsufficientScope):
        run_alone(current_claims_async(auth, header, ["orders:write"]))
