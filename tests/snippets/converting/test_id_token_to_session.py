"""BFF login: only a fresh, matching ID token from the IdP becomes a session, once."""

from __future__ import annotations

import time

import pytest
import redis

from app.demo_idp import DemoIdentityProvider
from snippets.converting.id_token_to_session import (
    IdTokenVerifier,
    LoginRefused,
    begin_login,
    complete_login,
    serve_jwks_for_demo,
)
from snippets.sessions.session_store import RedisSessionStore
from snippets.tokens.keys import build_jwks, generate_private_key
from snippets.tokens.verify_token import TokenError, verify_token


@pytest.fixture
def verifier(idp: DemoIdentityProvider) -> IdTokenVerifier:
    return IdTokenVerifier(idp.jwks_url, issuer=idp.issuer, client_id="demo-app")


def login(
    r: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    prefix: str,
    make_token,
    *,
    browser_state: str | None = None,
) -> str:
    request = begin_login(r, prefix=prefix)
    return complete_login(
        r,
        store,
        verifier,
        state=request.state,
        id_token=make_token(request.nonce),
        browser_state=request.state if browser_state is None else browser_state,
        prefix=prefix,
    )


def test_a_valid_id_token_becomes_a_session_holding_no_token(
    redis_client: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    idp: DemoIdentityProvider,
    key_prefix: str,
) -> None:
    tokens = []

    def make(nonce: str) -> str:
        tokens.append(idp.issue_id_token("u-7", nonce=nonce, name="Dana"))
        return tokens[-1]

    session_id = login(redis_client, store, verifier, key_prefix, make)
    session = store.validate(session_id)
    assert session.user_id.startswith("oidc:") and len(session.user_id) == 5 + 64
    assert session.data == {"name": "Dana", "login": "oidc"}
    stored = b"".join(
        v
        for k in redis_client.scan_iter(f"{key_prefix}*")
        if redis_client.type(k) == b"hash"
        for v in redis_client.hvals(k)
    )
    assert tokens[0].encode() not in stored and b"eyJ" not in stored


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("access token", "wrong token type"),
        ("other audience", "audience"),
        ("other issuer", "issuer"),
        ("expired", "expired"),
        ("wrong nonce", "nonce"),
        ("unknown key", "unknown key"),
        ("garbage", "compact"),
        ("extra audience", "other audiences"),
        ("foreign azp", "azp"),
        ("long sub", "sub is not"),
        ("sub with a space", "sub is not"),
        ("number as sub", "subject must be a string"),
    ],
)
def test_tokens_that_are_not_this_logins_id_token_are_refused(
    redis_client: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    idp: DemoIdentityProvider,
    key_prefix: str,
    case: str,
    reason: str,
) -> None:
    stranger = generate_private_key("ES256")

    def make(nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": idp.issuer,
            "sub": "u-7",
            "aud": "demo-app",
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
        }
        if case == "access token":
            return idp.sign(claims, typ="at+jwt")
        if case == "other audience":
            return idp.sign({**claims, "aud": "another-app"})
        if case == "other issuer":
            return idp.sign({**claims, "iss": "https://evil.example"})
        if case == "expired":
            return idp.sign({**claims, "iat": now - 900, "exp": now - 600})
        if case == "wrong nonce":
            return idp.sign({**claims, "nonce": "x" * 43})
        if case == "extra audience":
            return idp.sign({**claims, "aud": ["demo-app", "another-app"], "azp": "demo-app"})
        if case == "foreign azp":
            return idp.sign({**claims, "azp": "another-app"})
        if case == "long sub":
            return idp.sign({**claims, "sub": "u" * 256})
        if case == "sub with a space":
            return idp.sign({**claims, "sub": "u 7"})
        if case == "number as sub":
            return idp.sign({**claims, "sub": 7})
        if case == "unknown key":
            import jwt

            return jwt.encode(claims, stranger, algorithm="ES256", headers={"kid": "other"})
        return "not.a=token"

    with pytest.raises(LoginRefused, match=reason):
        login(redis_client, store, verifier, key_prefix, make)


def test_state_is_single_use_and_bound_to_the_browser(
    redis_client: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    idp: DemoIdentityProvider,
    key_prefix: str,
) -> None:
    request = begin_login(redis_client, prefix=key_prefix)
    token = idp.issue_id_token(nonce=request.nonce)
    with pytest.raises(LoginRefused, match="browser"):  # login CSRF: someone else's state
        complete_login(
            redis_client,
            store,
            verifier,
            state=request.state,
            browser_state="B" * 43,
            id_token=token,
            prefix=key_prefix,
        )
    args = {"state": request.state, "browser_state": request.state, "id_token": token}
    assert complete_login(redis_client, store, verifier, prefix=key_prefix, **args)
    with pytest.raises(LoginRefused, match="already used"):
        complete_login(redis_client, store, verifier, prefix=key_prefix, **args)
    with pytest.raises(LoginRefused, match="malformed"):
        complete_login(
            redis_client,
            store,
            verifier,
            state=["x"],
            browser_state=None,
            id_token=token,
            prefix=key_prefix,
        )


def test_an_id_token_is_refused_as_an_access_token(idp: DemoIdentityProvider) -> None:
    token = idp.issue_id_token(nonce="n", audience="https://api.example.com")
    with pytest.raises(TokenError, match="type"):
        verify_token(
            token,
            idp.key.public_key(),
            algorithm="ES256",
            typ="at+jwt",
            audience="https://api.example.com",
            issuer=idp.issuer,
        )


def test_jwks_server_for_the_demo_serves_the_keys_and_stops() -> None:
    import httpx

    key = generate_private_key("ES256")
    with serve_jwks_for_demo(build_jwks([("k1", key.public_key())])) as url:
        assert url.startswith("http://127.0.0.1:")
        with httpx.Client() as client:
            assert client.get(url).json()["keys"][0]["kid"] == "k1"
            assert client.get(url.replace("jwks.json", "other")).status_code == 404
    with httpx.Client() as client, pytest.raises(httpx.ConnectError):
        client.get(url)


def test_subjects_that_share_a_long_prefix_are_different_users(
    redis_client: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    idp: DemoIdentityProvider,
    key_prefix: str,
) -> None:
    """Truncating iss+sub to the store's 256 characters once merged two accounts."""
    users = []
    for last in "AB":
        subject = "x" * 254 + last  # 255 characters: the longest OIDC allows

        def make(nonce: str, subject: str = subject) -> str:
            return idp.issue_id_token(subject, nonce=nonce)

        users.append(store.validate(login(redis_client, store, verifier, key_prefix, make)).user_id)
    assert users[0] != users[1]


def test_the_session_from_before_the_login_is_ended(
    redis_client: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    idp: DemoIdentityProvider,
    key_prefix: str,
) -> None:
    before = store.create("anonymous-visitor", {"cart": 1})
    request = begin_login(redis_client, prefix=key_prefix)
    session_id = complete_login(
        redis_client,
        store,
        verifier,
        state=request.state,
        browser_state=request.state,
        id_token=idp.issue_id_token("u-7", nonce=request.nonce),
        previous_session=before,
        prefix=key_prefix,
    )
    assert store.validate(before) is None
    assert store.validate(session_id) is not None
