"""One rule, for every snippet entry point: input from outside ends in the documented
exception of that snippet, or in a refusal value; never another exception, never accepted.

Each entry point below takes what a request can carry (a cookie, a header, a form field, a
token, a claim set) from one Hypothesis strategy of hostile values: wrong types, non-ASCII
and invalid UTF-8, very long and deeply nested values, JWT-shaped strings whose segments
hold JSON of any shape, and values just off the ones the snippets issue. A real Redis
answers, the IdP's keys come from a real HTTP server on 127.0.0.1. The app's endpoints get
the same treatment in tests/app/test_hostile_requests.py.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from snippets.converting.demo_idp import DemoIdentityProvider
from snippets.converting.dual_accept_migration import CredentialRefused, DualAcceptMigration
from snippets.converting.exchange_session_for_jwt import (
    ExchangeRefused,
    Signer,
    exchange_session_for_jwt,
    session_is_live,
    verify_exchanged_token,
)
from snippets.converting.id_token_to_session import (
    IdTokenVerifier,
    LoginRefused,
    TokenEndpoint,
    _state_key,
    begin_login,
    complete_login,
)
from snippets.converting.phantom_token_gateway import (
    OpaqueTokenRefused,
    PhantomTokenGateway,
    revoke_opaque_token,
)
from snippets.frameworks.fastapi_account import (
    ReauthenticationRequired,
    require_recent_login,
)
from snippets.frameworks.guards import (
    AuthSettings,
    InsufficientScope,
    NotSignedIn,
    current_claims,
    current_session,
)
from snippets.revocation.logout_everywhere import check_access_token
from snippets.revocation.revoke_access_token import (
    TokenRefused,
    ensure_not_revoked,
    revoke_access_token,
)
from snippets.revocation.rotate_refresh_token import revoke_refresh_family, rotate_refresh_token
from snippets.sessions.csrf_check import csrf_token_valid, request_origin_allowed
from snippets.sessions.login_throttle import LoginThrottle, LoginThrottled
from snippets.sessions.session_cookie import read_session_cookie
from snippets.sessions.session_store import RedisSessionStore, Session
from snippets.tokens.call_between_services import authorize_service
from snippets.tokens.jwks_verifier import (
    JWKSVerifier,
    LocalServer,
    serve_jwks_for_demo,
    unverified_kid,
)
from snippets.tokens.keys import build_jwks, generate_private_key
from snippets.tokens.pitfalls_safe import verify_access_token
from snippets.tokens.verify_token import TokenError, parse_strictly, verify_token
from tests.strategies import JSON_VALUES

EXAMPLES = 150  # per entry point
ISS, AUD = "https://auth.example.com", "https://api.example.com"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_json = JSON_VALUES
_claims = st.fixed_dictionaries(
    {},
    optional={
        "iss": st.one_of(st.just(ISS), _json),
        "aud": st.one_of(st.just(AUD), _json),
        "sub": st.one_of(st.just("user-42"), _json),
        "iat": st.one_of(st.integers(0, 2**40), st.floats(allow_nan=True), _json),
        "exp": st.one_of(st.integers(0, 2**40), st.floats(allow_nan=True), _json),
        "jti": st.one_of(st.text(max_size=40), _json),
        "sid": _json,
        "scope": _json,
    },
)
_jwt_shaped = st.builds(
    lambda h, p, sig: f"{_b64(json.dumps(h).encode())}.{_b64(json.dumps(p).encode())}.{sig}",
    st.one_of(
        st.fixed_dictionaries(
            {"alg": st.sampled_from(["EdDSA", "ES256", "none", "HS256", "RS256"])},
            optional={"kid": _json, "typ": _json, "crit": _json, "jku": _json},
        ),
        _json,
    ),
    st.one_of(_claims, _json),
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=90
    ),
)
_deep = st.integers(1, 3000).map(lambda n: "[" * n + "]" * n)
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=40, max_size=50),
    st.binary(max_size=100),
    st.just(b"\xff\xfe\xfd"),
    st.just("\udcff" * 43),
    st.integers(9_000, 200_000).map(lambda n: "A" * n),
    _deep,
    _json,
    _jwt_shaped,
    _jwt_shaped.map(lambda t: "Bearer " + t),
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        min_size=43,
        max_size=43,
    ),
    st.text(max_size=60).map(lambda t: "__Host-session=" + t),
)


@pytest.fixture(scope="module")
def world(redis_url: str) -> Iterator[dict[str, Any]]:
    """Everything the entry points need, built once: keys, a store, an IdP's key set."""
    prefix = f"hostile:{secrets.token_hex(8)}:"
    r = redis.Redis.from_url(redis_url)
    signing = generate_private_key("EdDSA")
    idp_key = generate_private_key("ES256")
    store = RedisSessionStore(r, prefix=prefix)
    answer: dict[str, bytes] = {"body": b""}  # what the hostile token endpoint says

    class HostileTokenEndpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer["body"])))
            self.end_headers()
            self.wfile.write(answer["body"])

        def log_message(self, *args: Any) -> None:
            pass

    with (
        serve_jwks_for_demo(build_jwks([("idp-1", idp_key.public_key())])) as jwks_url,
        DemoIdentityProvider(client_id="demo-app") as idp,
        LocalServer(HostileTokenEndpoint) as hostile_idp,
    ):
        yield {
            "idp": idp,
            "idp_ids": IdTokenVerifier(idp.jwks_url, issuer=idp.issuer, client_id="demo-app"),
            "idp_tokens": TokenEndpoint(
                idp.token_url, client_id="demo-app", client_secret=idp.client_secret
            ),
            "hostile_answer": answer,
            "hostile_tokens": TokenEndpoint(
                hostile_idp.url + "/token", client_id="demo-app", client_secret="s"
            ),
            "r": r,
            "prefix": prefix,
            "signing": signing,
            "public": signing.public_key(),
            "es256": idp_key.public_key(),
            "store": store,
            "session": store.validate(store.create("alice")),
            "signer": Signer(signing, "EdDSA", "k1", ISS),
            "jwks": JWKSVerifier(jwks_url, algorithm="ES256", audience=AUD, issuer=ISS),
            "ids": IdTokenVerifier(jwks_url, issuer=ISS, client_id="demo-app"),
            "auth": AuthSettings(
                redis_url=redis_url,
                key=signing.public_key(),
                algorithm="EdDSA",
                issuer=ISS,
                audience=AUD,
                prefix=prefix,
            ),
        }
    for key in r.scan_iter(match=f"{prefix}*"):
        r.delete(key)
    r.close()


def _as_bytes(value: object) -> bytes:
    """A hostile value as the bytes a server or Redis would send back."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value, default=repr).encode()


def _complete_pending(
    w: dict[str, Any], *, code: object, stored: bytes | None = None, tokens: str = "idp_tokens"
) -> str:
    """complete_login for a login that was begun, with a hostile code, stored request or
    token endpoint."""
    login = begin_login(
        w["r"], redirect_uri="http://127.0.0.1/auth/oidc/callback", prefix=w["prefix"]
    )
    if stored is not None:
        w["r"].set(_state_key(w["prefix"], login.state), stored, ex=60)
    return complete_login(
        w["r"],
        w["store"],
        w["idp_ids"],
        w[tokens],
        state=login.state,
        browser_state=login.state,
        code=code,
        prefix=w["prefix"],
    )


def _answer_from_hostile_idp(w: dict[str, Any], body: bytes) -> str:
    w["hostile_answer"]["body"] = body
    return _complete_pending(w, code="c", tokens="hostile_tokens")


def _refusal_or(value: object, *allowed: object) -> None:
    assert value in allowed or value is None, value


# name -> (call with one hostile value, the exceptions the snippet documents for it)
ENTRY_POINTS: dict[
    str, tuple[Callable[[dict[str, Any], Any], object], tuple[type[BaseException], ...]]
] = {
    "verify_token": (
        lambda w, v: verify_token(v, w["public"], algorithm="EdDSA", audience=AUD, issuer=ISS),
        (TokenError,),
    ),
    "parse_strictly": (lambda w, v: parse_strictly(v), (TokenError,)),
    "unverified_kid": (lambda w, v: unverified_kid(v), (TokenError,)),
    "verify_access_token (pitfalls)": (
        lambda w, v: verify_access_token(v, w["es256"]),
        (TokenError,),
    ),
    "JWKSVerifier.verify": (lambda w, v: w["jwks"].verify(v), (TokenError,)),
    "authorize_service": (
        lambda w, v: authorize_service(v, {"orders": w["public"]}, me=AUD, scope="x"),
        (TokenError,),
    ),
    "verify_exchanged_token": (
        lambda w, v: verify_exchanged_token(
            v, w["public"], algorithm="EdDSA", audience=AUD, issuer=ISS
        ),
        (TokenError,),
    ),
    "IdTokenVerifier.verify": (lambda w, v: w["ids"].verify(v, nonce="n" * 43), (TokenError,)),
    "read_session_cookie": (lambda w, v: read_session_cookie(v), ()),
    "request_origin_allowed": (
        lambda w, v: request_origin_allowed(
            "POST", sec_fetch_site=v, origin=v, own_origin="https://app.example.com"
        ),
        (),
    ),
    "csrf_token_valid": (lambda w, v: csrf_token_valid(w["session"], v), ()),
    "RedisSessionStore.validate": (lambda w, v: w["store"].validate(v), ()),
    "RedisSessionStore.rotate": (lambda w, v: w["store"].rotate(v), ()),
    "RedisSessionStore.destroy": (lambda w, v: w["store"].destroy(v), ()),
    "RedisSessionStore.end_session": (lambda w, v: w["store"].end_session("alice", v), ()),
    "require_recent_login": (
        lambda w, v: require_recent_login(
            Session("alice", {"auth_time": v}, "0" * 64, 0.0, 1e12, 1e12),
            now=1_700_000_000.0,
            within=600,
        ),
        (ReauthenticationRequired,),
    ),
    "session_is_live": (lambda w, v: session_is_live(w["r"], v, prefix=w["prefix"]), ()),
    "exchange_session_for_jwt": (
        lambda w, v: exchange_session_for_jwt(
            w["store"], v, audience=v, allowed_audiences={AUD}, signer=w["signer"]
        ),
        (ExchangeRefused,),
    ),
    "check_access_token": (
        lambda w, v: check_access_token(
            w["r"],
            v if isinstance(v, dict) else {"jti": v, "iss": v, "sub": v, "iat": v},
            prefix=w["prefix"],
        ),
        (TokenRefused,),
    ),
    "ensure_not_revoked": (
        lambda w, v: ensure_not_revoked(
            w["r"], v if isinstance(v, dict) else {"jti": v}, prefix=w["prefix"]
        ),
        (TokenRefused,),
    ),
    "revoke_access_token": (
        lambda w, v: revoke_access_token(
            w["r"], v if isinstance(v, dict) else {"exp": v}, prefix=w["prefix"]
        ),
        (TokenRefused,),
    ),
    "rotate_refresh_token": (
        lambda w, v: rotate_refresh_token(w["r"], v, prefix=w["prefix"]),
        (TokenRefused,),
    ),
    "revoke_refresh_family": (
        lambda w, v: revoke_refresh_family(w["r"], v, prefix=w["prefix"]),
        (TokenRefused,),
    ),
    "complete_login": (
        lambda w, v: complete_login(
            w["r"],
            w["store"],
            w["idp_ids"],
            w["idp_tokens"],
            state=v,
            browser_state=v,
            code=v,
            previous_session=v,
            prefix=w["prefix"],
        ),
        (LoginRefused,),
    ),
    "complete_login (code of a pending login)": (
        lambda w, v: _complete_pending(w, code=v),
        (LoginRefused,),
    ),
    "complete_login (login request read from Redis)": (
        lambda w, v: _complete_pending(w, code="c", stored=_as_bytes(v)),
        (LoginRefused,),
    ),
    "complete_login (token endpoint's answer)": (
        lambda w, v: _answer_from_hostile_idp(w, _as_bytes(v)),
        (LoginRefused,),
    ),
    "PhantomTokenGateway.forward_headers": (
        lambda w, v: PhantomTokenGateway(
            w["r"], signer=w["signer"], audience=AUD, prefix=w["prefix"]
        ).forward_headers(v),
        (OpaqueTokenRefused,),
    ),
    "revoke_opaque_token": (lambda w, v: revoke_opaque_token(w["r"], v, prefix=w["prefix"]), ()),
    "DualAcceptMigration.authenticate": (
        lambda w, v: DualAcceptMigration(
            w["r"],
            name="m",
            accept_new=lambda t: None,
            accept_old=lambda t: None,
            prefix=w["prefix"],
        ).authenticate(new=v, old=v),
        (CredentialRefused,),
    ),
    "guards.current_claims": (
        lambda w, v: current_claims(w["auth"], v, ["orders:read"]),
        (TokenError, TokenRefused, InsufficientScope),
    ),
    "guards.current_session": (lambda w, v: current_session(w["auth"], v), (NotSignedIn,)),
    "LoginThrottle.attempt": (
        lambda w, v: LoginThrottle(
            w["r"], prefix=w["prefix"], account_limit=10**9, address_limit=10**9
        ).attempt(v, v),
        (LoginThrottled,),
    ),
}


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(value=HOSTILE)
def test_hostile_input_ends_in_the_documented_exception(
    world: dict[str, Any], name: str, value: Any
) -> None:
    call, documented = ENTRY_POINTS[name]
    try:
        result = call(world, value)
    except documented:
        return
    # No exception: then the answer is a refusal, never an acceptance of junk.
    if isinstance(result, bool | None):
        if name in {
            "request_origin_allowed",
            "csrf_token_valid",
            "session_is_live",
            "revoke_opaque_token",
            "RedisSessionStore.destroy",
            "RedisSessionStore.end_session",
        }:
            assert result in (False, None) or name == "request_origin_allowed", (name, value)
        return
    if name == "read_session_cookie":
        assert isinstance(result, str) and len(result) == 43, result
        return
    if name == "LoginThrottle.attempt":
        return
    # Parsers that check no signature may return what they parsed, in its documented shape.
    if name == "parse_strictly":
        header, claims, _, _ = result  # type: ignore[misc]
        assert isinstance(header, dict) and isinstance(claims, dict)
        return
    if name == "unverified_kid":
        assert isinstance(result, str) and 0 < len(result) <= 128
        return
    pytest.fail(f"{name} accepted hostile input {value!r:.200}: {result!r:.200}")


def test_every_entry_point_is_exercised() -> None:
    """A new snippet entry point that reads outside input belongs in the table above."""
    assert len(ENTRY_POINTS) >= 33
