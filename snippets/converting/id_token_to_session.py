"""Backend-for-frontend login: the authorization code flow with PKCE, then a session.

The browser never holds a token. The server starts the login with a one-time ``state``,
``nonce`` and PKCE ``code_verifier`` (RFC 7636), kept in Redis, and sends the browser to
the identity provider (IdP) with the verifier's S256 hash. The IdP sends the browser
back with a one-time ``code``; the server redeems it at the IdP's token endpoint, server
to server, with its client secret and the verifier, and receives an ID token. It
verifies that token against the IdP's published keys (JWKS, fetched by `JWKSVerifier`):
signature, ``iss``, ``aud`` (this application's client ID), ``azp``, ``exp`` and
``nonce``. It then creates a server-side session and answers with the session cookie
only. The ID token is dropped: it proved who the user is, once.

This is the flow the OAuth 2.0 Security BCP (RFC 9700, section 2.1.1) and OAuth 2.0 for
Browser-Based Applications recommend: no token passes through the browser, and a
``code`` stolen on its way back is useless without the verifier that never left the
server.

An access token is not an ID token: one marked ``typ: at+jwt`` is refused here, and the
access-token verifier (`verify_token` with ``typ="at+jwt"``) refuses ID tokens in turn.

Run it against a Redis server of your choice (it starts a stand-in IdP on 127.0.0.1)::

    REDIS_URL=redis://127.0.0.1:6379/0 python -m snippets.converting.id_token_to_session
"""

from __future__ import annotations

# --8<-- [start:setup]
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import jwt
import redis

from snippets.sessions.redis_errors import REDIS_ERRORS
from snippets.sessions.session_store import (
    RedisSessionStore,
    SessionStoreUnavailable,
    connect,
)
from snippets.tokens.jwks_verifier import JWKSVerifier, fetch
from snippets.tokens.verify_token import MAX_TOKEN_BYTES, TokenError

LOGIN_REQUEST_SECONDS = 5 * 60
_STATE = re.compile(r"[A-Za-z0-9_-]{43}")
_CODE = re.compile(r"[\x20-\x7e]{1,2048}")  # RFC 6749 appendix A.11: visible ASCII
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_SUBJECT = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces
# --8<-- [end:setup]


# --8<-- [start:errors]
class LoginRefused(Exception):
    """The login callback is refused: bad or replayed state, a code the IdP will not
    redeem, or an ID token that fails.

    Answer 400 and show "login failed"; the message is safe to log.
    """


class IdentityProviderUnavailable(LoginRefused):
    """The IdP's token endpoint could not be reached, was too slow or answered 5xx.

    A `LoginRefused`, so one ``except`` covers every failed login; catch it first to
    answer 503 with ``Retry-After`` instead of 400.
    """


# --8<-- [end:errors]


# --8<-- [start:begin]
@dataclass(frozen=True)
class LoginRequest:
    """What the server sends along with the browser to the IdP.

    Attributes:
        state: Binds the callback to this browser (also kept in a short-lived cookie).
        nonce: Binds the ID token to this login; the IdP copies it into the token.
        code_challenge: The S256 hash of this login's PKCE verifier. The verifier
            itself stays in Redis and goes only to the token endpoint.
        redirect_uri: This application's callback URL; the token request repeats it.
    """

    state: str
    nonce: str
    code_challenge: str
    redirect_uri: str


def _state_key(prefix: str, state: str) -> str:
    return f"{prefix}oidc:state:{hashlib.sha256(state.encode()).hexdigest()}"


def _s256(code_verifier: str) -> str:
    digest = hashlib.sha256(code_verifier.encode("ascii")).digest()  # RFC 7636 4.2
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def begin_login(
    r: redis.Redis,
    *,
    redirect_uri: str,
    prefix: str = "",
    ttl: int = LOGIN_REQUEST_SECONDS,
) -> LoginRequest:
    """Start a login: a fresh ``state``, ``nonce`` and PKCE verifier, kept in Redis for
    ``ttl`` seconds.

    Kept in Redis, not in process memory, so the callback may land on any process.

    Raises:
        SessionStoreUnavailable: Redis could not answer.
    """
    code_verifier = secrets.token_urlsafe(32)  # 43 characters, 256 bits (RFC 7636 4.1)
    request = LoginRequest(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_challenge=_s256(code_verifier),
        redirect_uri=redirect_uri,
    )
    pending = json.dumps(
        {
            "nonce": request.nonce,
            "code_verifier": code_verifier,
            "redirect_uri": redirect_uri,
        }
    )
    try:
        r.set(_state_key(prefix, request.state), pending, ex=ttl, nx=True)
    except REDIS_ERRORS as exc:
        raise SessionStoreUnavailable(f"session store unavailable: {exc}") from exc
    return request


def authorization_url(
    endpoint: str,
    login: LoginRequest,
    *,
    client_id: str,
    scope: str = "openid",
) -> str:
    """The IdP's authorization endpoint with this login's request (OIDC Core
    3.1.2.1)."""
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": login.redirect_uri,
            "scope": scope,
            "state": login.state,
            "nonce": login.nonce,
            "code_challenge": login.code_challenge,
            "code_challenge_method": "S256",
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


# --8<-- [end:begin]


# --8<-- [start:redeem]
@dataclass(frozen=True)
class TokenEndpoint:
    """The IdP's token endpoint, called server to server (OIDC Core 3.1.3).

    Attributes:
        url: The token endpoint (from the IdP's discovery document), https in
            production.
        client_id: This application's client ID.
        client_secret: Its secret, from the environment or a file, never from source.
        timeout: Seconds for the whole answer.
        max_bytes: The largest answer read.
    """

    url: str
    client_id: str
    client_secret: str = field(repr=False)
    timeout: float = 5.0
    max_bytes: int = 64 * 1024

    def __post_init__(self) -> None:
        if urllib.parse.urlsplit(self.url).scheme not in {"http", "https"}:
            raise ValueError("the token endpoint must be http:// or https://")
        if not self.client_secret:
            raise ValueError("the client secret is empty")

    def redeem(self, code: str, *, code_verifier: str, redirect_uri: str) -> str:
        """Exchange a one-time ``code`` and the PKCE verifier for the ID token.

        ``redirect_uri`` is the one the authorization request sent (RFC 6749 4.1.3).

        Raises:
            LoginRefused: The IdP refused the code, or its answer is not a token
                response with an ID token.
            IdentityProviderUnavailable: Unreachable, too slow, or a 5xx answer.
        """
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        # client_secret_basic: each part form-encoded, then Base64 (RFC 6749 2.3.1).
        pair = ":".join(
            urllib.parse.quote_plus(part)
            for part in (self.client_id, self.client_secret)
        )
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            self.url,
            data=urllib.parse.urlencode(form).encode(),
            method="POST",
            headers={
                "Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            status, body = fetch(
                request, timeout=self.timeout, max_bytes=self.max_bytes
            )
        except OSError as exc:
            raise IdentityProviderUnavailable(f"token endpoint: {exc}") from None
        except ValueError as exc:
            raise LoginRefused(f"token endpoint: {exc}") from None
        if status >= 500:
            raise IdentityProviderUnavailable(f"token endpoint answered {status}")
        try:
            answer = json.loads(body)
        except (ValueError, RecursionError):  # not UTF-8, not JSON, nested too deep
            answer = None
        if not isinstance(answer, dict):
            raise LoginRefused(f"token endpoint answered {status}, not a JSON object")
        if status != 200:  # RFC 6749 5.2: {"error": "invalid_grant"} and the like
            error = answer.get("error")
            error = error if isinstance(error, str) and error.isascii() else "?"
            raise LoginRefused(f"token endpoint refused the code: {error[:64]}")
        token_type = answer.get("token_type")
        if not (isinstance(token_type, str) and token_type.lower() == "bearer"):
            raise LoginRefused("token endpoint: not a Bearer token response")
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise LoginRefused("token endpoint: no ID token in the answer")
        return id_token


# --8<-- [end:redeem]


# --8<-- [start:verify]
class IdTokenVerifier:
    """Verify ID tokens from one IdP against the keys it publishes at ``jwks_url``.

    Builds on `JWKSVerifier` (cached keys, bounded refetch for an unknown ``kid``) and
    adds what makes a token an ID token for this login: its type, ``azp`` and ``nonce``.

    Args:
        jwks_url: The IdP's JWKS address (from its discovery document), https in
            production.
        issuer: The IdP's exact ``iss``.
        client_id: This application's client ID: the ``aud`` an ID token must carry.
        algorithm: The one algorithm the IdP signs ID tokens with.
        timeout: Seconds to wait for the JWKS.
    """

    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        client_id: str,
        algorithm: str = "ES256",
        timeout: float = 2.0,
    ) -> None:
        self._keys = JWKSVerifier(
            jwks_url,
            algorithm=algorithm,
            audience=client_id,
            issuer=issuer,
            typ=None,
            timeout=timeout,
        )
        self._client_id = client_id

    def verify(
        self, id_token: object, *, nonce: str, now: float | None = None
    ) -> dict[str, Any]:
        """Return the claims of a valid ID token issued for this login.

        Args:
            id_token: The token from the callback; hostile.
            nonce: The nonce this login started with.
            now: Current time in seconds since the epoch; ``time.time()`` when omitted.

        Returns:
            The ID token's claims.

        Raises:
            TokenError: The token is refused (the message says why).
        """
        if not isinstance(id_token, str) or len(id_token) > MAX_TOKEN_BYTES:
            raise TokenError("not an ID token")
        if not _COMPACT.fullmatch(id_token):
            raise TokenError("not a compact JWS: three base64url segments, no padding")
        claims = self._keys.verify(id_token, now=now)
        typ = jwt.get_unverified_header(id_token).get("typ", "JWT")
        if not isinstance(typ, str) or typ.lower() != "jwt":
            raise TokenError("wrong token type: not an ID token")
        audiences = (
            claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        )
        # OIDC Core 3.1.3.7: no audience this client does not trust (here: none but
        # itself), and an azp, when present, must name this client.
        if audiences != [self._client_id]:
            raise TokenError("audience: the token names other audiences too")
        if "azp" in claims and claims["azp"] != self._client_id:
            raise TokenError("azp does not name this client")
        subject = claims.get("sub")
        # OIDC Core 2: sub is at most 255 ASCII characters; nothing else is a user.
        if not (isinstance(subject, str) and _SUBJECT.fullmatch(subject)):
            raise TokenError("sub is not an OIDC subject")
        received = claims.get("nonce")
        if not isinstance(received, str) or not hmac.compare_digest(received, nonce):
            raise TokenError("nonce does not match this login")
        return claims


# --8<-- [end:verify]


# --8<-- [start:complete]
def complete_login(
    r: redis.Redis,
    store: RedisSessionStore,
    verifier: IdTokenVerifier,
    token_endpoint: TokenEndpoint,
    *,
    state: object,
    browser_state: object,
    code: object,
    previous_session: object = None,
    prefix: str = "",
    now: float | None = None,
) -> str:
    """Finish a login: check state, redeem the code, verify the ID token, create a
    session, drop the token.

    Args:
        r: The Redis client `begin_login` wrote to.
        store: Where the session is created.
        verifier: The ID-token verifier of this IdP.
        token_endpoint: The IdP's token endpoint.
        state: ``state`` as the IdP sent it back; hostile.
        browser_state: ``state`` from this browser's short-lived login cookie; hostile.
        code: The authorization code from the callback; hostile.
        previous_session: The session ID this browser sent, if any; it is destroyed,
            so that a session from before the login never carries over.
        prefix: The key prefix `begin_login` used.
        now: Current time in seconds since the epoch; ``time.time()`` when omitted.

    Returns:
        The new session ID: the only thing the browser receives (in its cookie).

    Raises:
        LoginRefused: Bad, foreign or replayed state, a refused code or ID token.
        IdentityProviderUnavailable: The token endpoint could not answer.
        SessionStoreUnavailable: Redis could not answer.
    """
    if not (isinstance(state, str) and _STATE.fullmatch(state)):
        raise LoginRefused("malformed state")
    if not (
        isinstance(browser_state, str) and hmac.compare_digest(state, browser_state)
    ):
        raise LoginRefused("state does not belong to this browser")  # login CSRF
    if not (isinstance(code, str) and _CODE.fullmatch(code)):
        raise LoginRefused("malformed or missing code")
    try:
        pending = r.getdel(_state_key(prefix, state))  # one use only
    except REDIS_ERRORS as exc:
        raise SessionStoreUnavailable(f"session store unavailable: {exc}") from exc
    if pending is None:
        raise LoginRefused("unknown, expired or already used state")
    try:
        login = json.loads(pending)
        nonce, code_verifier = login["nonce"], login["code_verifier"]
        redirect_uri = login["redirect_uri"]
    except (ValueError, RecursionError, TypeError, KeyError):  # junk, nested too deep
        login = None
    if login is None or not all(
        isinstance(v, str) for v in (nonce, code_verifier, redirect_uri)
    ):
        raise LoginRefused("unreadable login request in the store")
    # The verifier proves that the one who started this login is the one redeeming the
    # code (RFC 7636): a code stolen from the redirect is useless to anyone else.
    id_token = token_endpoint.redeem(
        code, code_verifier=code_verifier, redirect_uri=redirect_uri
    )
    try:
        claims = verifier.verify(id_token, nonce=nonce, now=now)
    except TokenError as exc:
        raise LoginRefused(f"ID token refused: {exc}") from None
    # One user per (iss, sub) pair, whatever they hold: hashed, never truncated.
    pair = json.dumps([claims["iss"], claims["sub"]]).encode()
    user_id = f"oidc:{hashlib.sha256(pair).hexdigest()}"
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    if previous_session is not None:
        store.destroy(previous_session)  # never carry a pre-login session over
    return store.create(user_id, {"name": name, "login": "oidc"})  # no token kept


# --8<-- [end:complete]


def main() -> None:
    # --8<-- [start:demo]
    from snippets.converting.demo_idp import DemoIdentityProvider  # a stand-in IdP

    r = connect(os.environ["REDIS_URL"])
    prefix = os.environ.get("REDIS_KEY_PREFIX", "app:")
    store = RedisSessionStore(r, prefix=prefix)
    callback = "http://127.0.0.1:8001/auth/oidc/callback"

    with DemoIdentityProvider(client_id="demo-app") as idp:
        verifier = IdTokenVerifier(
            idp.jwks_url, issuer=idp.issuer, client_id="demo-app"
        )
        token_endpoint = TokenEndpoint(
            idp.token_url,
            client_id="demo-app",
            client_secret=idp.client_secret,  # in production: from the environment
        )
        login = begin_login(r, redirect_uri=callback, prefix=prefix)
        to_idp = authorization_url(idp.authorize_url, login, client_id="demo-app")
        # The browser goes to the IdP, the user signs in, and the IdP sends it back:
        back = urllib.parse.parse_qs(urllib.parse.urlsplit(idp.sign_in(to_idp)).query)
        session_id = complete_login(
            r,
            store,
            verifier,
            token_endpoint,
            state=back["state"][0],
            browser_state=login.state,  # from the browser's login cookie
            code=back["code"][0],
            prefix=prefix,
        )
        session = store.validate(session_id)
        print(len(session_id), session and session.data)
        #> 43 {'name': 'Dana (demo IdP user)', 'login': 'oidc'}

        # A code stolen from the redirect, used in the thief's own login, has the wrong
        # verifier: the IdP refuses it (and has used it up).
        victim = begin_login(r, redirect_uri=callback, prefix=prefix)
        to_idp = authorization_url(idp.authorize_url, victim, client_id="demo-app")
        stolen = urllib.parse.parse_qs(urllib.parse.urlsplit(idp.sign_in(to_idp)).query)
        thief = begin_login(r, redirect_uri=callback, prefix=prefix)
        try:
            complete_login(
                r,
                store,
                verifier,
                token_endpoint,
                state=thief.state,
                browser_state=thief.state,
                code=stolen["code"][0],
                prefix=prefix,
            )
        except LoginRefused as exc:
            print(exc)
            #> token endpoint refused the code: invalid_grant
    # --8<-- [end:demo]


if __name__ == "__main__":
    main()
