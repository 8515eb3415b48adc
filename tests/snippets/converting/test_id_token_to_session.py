"""BFF login: only a code redeemed with this login's PKCE verifier, for a fresh, matching
ID token from the IdP, becomes a session, once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import redis

from snippets.converting.demo_idp import DemoIdentityProvider, s256
from snippets.converting.id_token_to_session import (
    IdentityProviderUnavailable,
    IdTokenVerifier,
    LoginRefused,
    LoginRequest,
    TokenEndpoint,
    authorization_url,
    begin_login,
    complete_login,
)
from snippets.sessions.session_store import RedisSessionStore
from snippets.tokens.jwks_verifier import LocalServer, serve_jwks_for_demo
from snippets.tokens.keys import build_jwks, generate_private_key
from snippets.tokens.verify_token import TokenError, verify_token

CALLBACK = "http://127.0.0.1:8001/auth/oidc/callback"


@pytest.fixture
def verifier(idp: DemoIdentityProvider) -> IdTokenVerifier:
    return IdTokenVerifier(idp.jwks_url, issuer=idp.issuer, client_id="demo-app")


@pytest.fixture
def token_endpoint(idp: DemoIdentityProvider) -> TokenEndpoint:
    return TokenEndpoint(idp.token_url, client_id="demo-app", client_secret=idp.client_secret)


def start(r: redis.Redis, prefix: str) -> LoginRequest:
    return begin_login(r, redirect_uri=CALLBACK, prefix=prefix)


def code_for(idp: DemoIdentityProvider, request: LoginRequest, id_token: str) -> str:
    """The IdP grants a code for this login's challenge that redeems for ``id_token``."""
    return idp.grant(
        id_token, code_challenge=request.code_challenge, redirect_uri=request.redirect_uri
    )


def login(
    r: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    prefix: str,
    make_token: Callable[[str], str],
    *,
    idp: DemoIdentityProvider,
    token_endpoint: TokenEndpoint,
    browser_state: str | None = None,
) -> str:
    request = start(r, prefix)
    return complete_login(
        r,
        store,
        verifier,
        token_endpoint,
        state=request.state,
        code=code_for(idp, request, make_token(request.nonce)),
        browser_state=request.state if browser_state is None else browser_state,
        prefix=prefix,
    )


def test_a_valid_id_token_becomes_a_session_holding_no_token(
    redis_client: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    token_endpoint: TokenEndpoint,
    idp: DemoIdentityProvider,
    key_prefix: str,
) -> None:
    tokens = []

    def make(nonce: str) -> str:
        tokens.append(idp.issue_id_token("u-7", nonce=nonce, name="Dana"))
        return tokens[-1]

    session_id = login(
        redis_client, store, verifier, key_prefix, make, idp=idp, token_endpoint=token_endpoint
    )
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
    token_endpoint: TokenEndpoint,
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
        login(
            redis_client,
            store,
            verifier,
            key_prefix,
            make,
            idp=idp,
            token_endpoint=token_endpoint,
        )


def test_state_is_single_use_and_bound_to_the_browser(
    redis_client: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    token_endpoint: TokenEndpoint,
    idp: DemoIdentityProvider,
    key_prefix: str,
) -> None:
    request = start(redis_client, key_prefix)
    code = code_for(idp, request, idp.issue_id_token(nonce=request.nonce))
    with pytest.raises(LoginRefused, match="browser"):  # login CSRF: someone else's state
        complete_login(
            redis_client,
            store,
            verifier,
            token_endpoint,
            state=request.state,
            browser_state="B" * 43,
            code=code,
            prefix=key_prefix,
        )
    args = {"state": request.state, "browser_state": request.state, "code": code}
    assert complete_login(redis_client, store, verifier, token_endpoint, prefix=key_prefix, **args)
    with pytest.raises(LoginRefused, match="already used"):
        complete_login(redis_client, store, verifier, token_endpoint, prefix=key_prefix, **args)
    for state, code in [(["x"], "c"), (request.state, None), (request.state, "c\n")]:
        with pytest.raises(LoginRefused, match="malformed"):
            complete_login(
                redis_client,
                store,
                verifier,
                token_endpoint,
                state=state,
                browser_state=state,
                code=code,
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
    token_endpoint: TokenEndpoint,
    idp: DemoIdentityProvider,
    key_prefix: str,
) -> None:
    """Truncating iss+sub to the store's 256 characters once merged two accounts."""
    users = []
    for last in "AB":
        subject = "x" * 254 + last  # 255 characters: the longest OIDC allows

        def make(nonce: str, subject: str = subject) -> str:
            return idp.issue_id_token(subject, nonce=nonce)

        session_id = login(
            redis_client,
            store,
            verifier,
            key_prefix,
            make,
            idp=idp,
            token_endpoint=token_endpoint,
        )
        users.append(store.validate(session_id).user_id)
    assert users[0] != users[1]


def test_the_session_from_before_the_login_is_ended(
    redis_client: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    token_endpoint: TokenEndpoint,
    idp: DemoIdentityProvider,
    key_prefix: str,
) -> None:
    before = store.create("anonymous-visitor", {"cart": 1})
    request = start(redis_client, key_prefix)
    session_id = complete_login(
        redis_client,
        store,
        verifier,
        token_endpoint,
        state=request.state,
        browser_state=request.state,
        code=code_for(idp, request, idp.issue_id_token("u-7", nonce=request.nonce)),
        previous_session=before,
        prefix=key_prefix,
    )
    assert store.validate(before) is None
    assert store.validate(session_id) is not None


# --- the authorization code flow with PKCE ---


def test_the_authorization_request_carries_the_challenge_and_never_the_verifier(
    redis_client: redis.Redis, idp: DemoIdentityProvider, key_prefix: str
) -> None:
    request = start(redis_client, key_prefix)
    url = authorization_url(idp.authorize_url + "?tenant=t", request, client_id="demo-app")
    query = parse_qs(urlsplit(url).query)
    assert query["tenant"] == ["t"]  # an endpoint with a query of its own keeps it
    assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [request.code_challenge]
    assert query["redirect_uri"] == [CALLBACK] and query["scope"] == ["openid"]
    (key,) = redis_client.keys(f"{key_prefix}oidc:state:*")
    pending = json.loads(redis_client.get(key))
    verifier = pending["code_verifier"]
    assert 43 <= len(verifier) <= 128 and s256(verifier) == request.code_challenge
    assert verifier not in url and request.state not in key.decode()  # stored hashed
    assert 295 <= redis_client.ttl(key) <= 300


def test_a_stolen_code_is_useless_in_another_login(
    redis_client: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    token_endpoint: TokenEndpoint,
    idp: DemoIdentityProvider,
    key_prefix: str,
) -> None:
    """Code injection (RFC 9700 4.5): the thief's login has its own verifier."""
    victim, thief = start(redis_client, key_prefix), start(redis_client, key_prefix)
    back = parse_qs(
        urlsplit(
            idp.sign_in(authorization_url(idp.authorize_url, victim, client_id="demo-app"))
        ).query
    )
    assert back["iss"] == [idp.issuer] and back["state"] == [victim.state]
    with pytest.raises(LoginRefused, match="invalid_grant"):
        complete_login(
            redis_client,
            store,
            verifier,
            token_endpoint,
            state=thief.state,
            browser_state=thief.state,
            code=back["code"][0],
            prefix=key_prefix,
        )
    # The IdP used the code up on that attempt: the victim's own callback now fails too,
    # and nobody has a session.
    with pytest.raises(LoginRefused, match="invalid_grant"):
        complete_login(
            redis_client,
            store,
            verifier,
            token_endpoint,
            state=victim.state,
            browser_state=victim.state,
            code=back["code"][0],
            prefix=key_prefix,
        )
    assert not list(redis_client.scan_iter(f"{key_prefix}session:*"))


def test_a_code_is_redeemed_once_and_only_by_this_client(
    redis_client: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    token_endpoint: TokenEndpoint,
    idp: DemoIdentityProvider,
    key_prefix: str,
) -> None:
    impostor = TokenEndpoint(idp.token_url, client_id="demo-app", client_secret="x" * 43)
    for endpoint, reason in [(impostor, "invalid_client"), (token_endpoint, "invalid_grant")]:
        request = start(redis_client, key_prefix)
        code = code_for(idp, request, idp.issue_id_token(nonce=request.nonce))
        if reason == "invalid_grant":  # redeemed once already, by the real client
            pending = json.loads(
                redis_client.get(next(redis_client.scan_iter(f"{key_prefix}oidc:state:*")))
            )
            token_endpoint.redeem(
                code, code_verifier=pending["code_verifier"], redirect_uri=CALLBACK
            )
        with pytest.raises(LoginRefused, match=reason):
            complete_login(
                redis_client,
                store,
                verifier,
                endpoint,
                state=request.state,
                browser_state=request.state,
                code=code,
                prefix=key_prefix,
            )


def test_the_token_request_repeats_the_redirect_uri_of_the_authorization_request(
    redis_client: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    token_endpoint: TokenEndpoint,
    idp: DemoIdentityProvider,
    key_prefix: str,
) -> None:
    request = start(redis_client, key_prefix)
    code = idp.grant(
        idp.issue_id_token(nonce=request.nonce),
        code_challenge=request.code_challenge,
        redirect_uri="http://127.0.0.1:9999/auth/oidc/callback",  # another callback
    )
    with pytest.raises(LoginRefused, match="invalid_grant"):
        complete_login(
            redis_client,
            store,
            verifier,
            token_endpoint,
            state=request.state,
            browser_state=request.state,
            code=code,
            prefix=key_prefix,
        )


@pytest.fixture
def token_server() -> Iterator[Callable[[int, bytes, float], str]]:
    """A token endpoint that answers what the test says: status, body, a delay per byte."""
    servers: list[LocalServer] = []

    def serve(status: int, body: bytes, drip: float = 0.0) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(drip)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on a slow answer, as the slow-body test wants

            def log_message(self, *args: Any) -> None:
                pass

        servers.append(LocalServer(Handler))
        return servers[-1].url + "/token"

    yield serve
    for server in servers:
        server.close()


@pytest.mark.parametrize(
    ("status", "body", "error", "reason"),
    [
        (200, b"<html>sign in</html>", LoginRefused, "not a JSON object"),
        (200, b"\xff\xfe", LoginRefused, "not a JSON object"),
        (200, b"[]", LoginRefused, "not a JSON object"),
        (200, b'{"token_type": "Bearer"}', LoginRefused, "no ID token"),
        (200, b'{"token_type": "mac", "id_token": "a.b.c"}', LoginRefused, "Bearer"),
        (200, b'{"token_type": "bearer", "id_token": 7}', LoginRefused, "no ID token"),
        (400, b'{"error": "invalid_grant"}', LoginRefused, "invalid_grant"),
        (400, b'{"error": ["\xc3\xa9"]}', LoginRefused, "refused the code: \\?"),
        (401, b"nope", LoginRefused, "401, not a JSON object"),
        (200, b'{"a": "' + b"x" * 70_000 + b'"}', LoginRefused, "longer than"),
        (500, b"", IdentityProviderUnavailable, "500"),
        (503, b'{"error": "temporarily_unavailable"}', IdentityProviderUnavailable, "503"),
    ],
)
def test_a_token_endpoint_answer_that_is_not_a_token_response_is_refused(
    token_server: Callable[..., str],
    status: int,
    body: bytes,
    error: type[Exception],
    reason: str,
) -> None:
    endpoint = TokenEndpoint(token_server(status, body), client_id="c", client_secret="s")
    with pytest.raises(error, match=reason):
        endpoint.redeem("code", code_verifier="v" * 43, redirect_uri=CALLBACK)


def test_a_slow_or_absent_token_endpoint_is_unavailable_within_the_deadline(
    token_server: Callable[..., str],
) -> None:
    drip = token_server(200, b'{"token_type": "Bearer", "id_token": "a.b.c"}', 0.1)
    slow = TokenEndpoint(drip, client_id="c", client_secret="s", timeout=0.5)
    began = time.monotonic()
    with pytest.raises(IdentityProviderUnavailable, match="longer than"):
        slow.redeem("code", code_verifier="v" * 43, redirect_uri=CALLBACK)
    assert time.monotonic() - began < 4  # the deadline is 0.5 s; the answer needs 4.5 s
    server = LocalServer(BaseHTTPRequestHandler)
    url = server.url + "/token"
    server.close()  # nothing listens there now
    with pytest.raises(IdentityProviderUnavailable):
        TokenEndpoint(url, client_id="c", client_secret="s").redeem(
            "code", code_verifier="v" * 43, redirect_uri=CALLBACK
        )


def test_a_token_endpoint_is_configured_with_a_url_and_a_secret() -> None:
    with pytest.raises(ValueError, match="http"):
        TokenEndpoint("file:///etc/passwd", client_id="c", client_secret="s")
    with pytest.raises(ValueError, match="secret"):
        TokenEndpoint("https://idp.example/token", client_id="c", client_secret="")
    endpoint = TokenEndpoint("https://idp.example/token", client_id="c", client_secret="hush")
    assert "hush" not in repr(endpoint)


def test_concurrent_callbacks_with_one_state_make_one_session(
    redis_client: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    token_endpoint: TokenEndpoint,
    idp: DemoIdentityProvider,
    key_prefix: str,
) -> None:
    request = start(redis_client, key_prefix)
    code = code_for(idp, request, idp.issue_id_token(nonce=request.nonce))
    results: list[object] = []
    barrier = threading.Barrier(8)

    def callback() -> None:
        barrier.wait()
        try:
            results.append(
                complete_login(
                    redis_client,
                    store,
                    verifier,
                    token_endpoint,
                    state=request.state,
                    browser_state=request.state,
                    code=code,
                    prefix=key_prefix,
                )
            )
        except LoginRefused as exc:
            results.append(exc)

    threads = [threading.Thread(target=callback) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(isinstance(r, str) for r in results) == 1
    assert sum(isinstance(r, LoginRefused) for r in results) == 7
